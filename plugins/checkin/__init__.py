"""The gate control plugin (features G1-G6 of the mission; issue 7): hook implementations only.

Tables in ``plugins.checkin.models`` (Alembic branch ``checkin`` in ``migrations/``), the rules
in ``plugins.checkin.rules`` (the same online and offline), use cases in
``plugins.checkin.service``, the gate loop in ``plugins.checkin.runner``. See docs/checkin.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.declarations import CliCommand, Permission, PluginManifest, ReportDecl, TabSpec
from suite.hookspecs import hookimpl
from suite.i18n import N_

PLUGIN_ID = "checkin"
FEATURE = "checkin"
VERSION = "0.1.0"
MIGRATIONS = str(Path(__file__).parent / "migrations")

_GATE = ("gate_attendant", "manager")
PERMISSIONS: tuple[Permission, ...] = (
    Permission("checkin.view", N_("View check-in lists, channels, scans and counts"),
               (*_GATE, "statistician", "local_statistician")),
    Permission("checkin.scan", N_("Validate tickets and cards at a gate"), _GATE),
    Permission("checkin.open", N_("Open a gate once by hand, with a reason"), _GATE),
    Permission("checkin.setup", N_("Set up check-in lists, channels and plain codes"), ("manager",)),
    Permission("checkin.conflicts", N_("Review check-in conflicts from offline gates"), ("manager",)),
)

CLI_COMMANDS: tuple[CliCommand, ...] = (
    CliCommand("checkin", N_("check-in: list, channel, code, scan, pass, close, open, counts, recent, conflicts"),
               configure="plugins.checkin.cli:configure", run="plugins.checkin.cli:run",
               permission="checkin.view"),
)

TABS: tuple[TabSpec, ...] = (
    TabSpec("checkin.attendant", N_("Gates"), factory="plugins.checkin.ui.attendant:build_tab",
            permission="checkin.scan", order=170),
)

REPORTS: tuple[ReportDecl, ...] = (
    ReportDecl("checkin.summary", N_("Check-ins summary"), spec="plugins.checkin.reports:SUMMARY",
               permission="checkin.view"),
    ReportDecl("checkin.detail", N_("Check-ins detail"), spec="plugins.checkin.reports:DETAIL",
               permission="checkin.view"),
    ReportDecl("checkin.occupancy", N_("Occupancy over the day"), spec="plugins.checkin.reports:OCCUPANCY",
               permission="checkin.view"),
)


@hookimpl
def venue_suite_validate_settings(settings: dict[str, Any]) -> None:
    from plugins.checkin.settings import parse_settings

    parse_settings(settings)


@hookimpl
def venue_suite_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        name="Gate control",
        version=VERSION,
        feature=FEATURE,
        description=N_("Check-in lists and channels, ticket and card validation at turnstiles, offline gates."),
        permissions=PERMISSIONS,
        cli_commands=CLI_COMMANDS,
        reports=REPORTS,
        tabs=TABS,
        model_modules=("plugins.checkin.models",),
        migrations=MIGRATIONS,
        gate_runner="plugins.checkin.headless:run",
    )


@hookimpl
def venue_suite_event(app: Any, event: object) -> None:
    """Scans, gate events and device health go to the gate attendant's screen while it is open:
    its runner drives this terminal's gates (also behind the lock screen)."""
    from suite.events import DeviceHealth, GateEvent, ScanEvent

    if isinstance(event, (ScanEvent, GateEvent, DeviceHealth)):
        from plugins.checkin.ui import EVENTS_KEY

        handler = app.extras.get(EVENTS_KEY)
        if handler is not None:
            handler(event)
