"""What a plugin declares about itself: frozen value objects the host validates at start.

A plugin returns one ``PluginManifest`` from its ``venue_suite_manifest`` hook. Callables are
given as ``"module:attribute"`` references so declaring a tab or a report imports nothing
heavy (Tk, openpyxl) until it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Permission:
    """A permission services check, e.g. ``wallet.topup``. ``default_roles`` get it at init."""

    id: str
    title: str
    default_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class TabSpec:
    """A tab of the main window; ``factory`` builds its ttk frame: ``factory(parent, context)``."""

    id: str
    title: str
    factory: str
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class ReportDecl:
    """A report; ``spec`` points at a ``ReportSpec`` (suite.reporting)."""

    id: str
    title: str
    spec: str
    permission: str | None = None


@dataclass(frozen=True)
class CliCommand:
    """A ``venue-suite NAME`` subcommand.

    ``configure`` is called with the argparse sub-parser to add arguments; ``run`` with
    ``(app, args)`` and returns data printed as JSON with ``--json`` (or as text otherwise).
    """

    name: str
    help: str
    configure: str
    run: str
    permission: str | None = None


@dataclass(frozen=True)
class DeviceKind:
    """A kind of device a site can configure (``[devices.<id>] kind = "..."``)."""

    id: str
    title: str
    driver: str


@dataclass(frozen=True)
class PrintTemplate:
    """A print layout (receipt, ticket, slip) the printer module can render."""

    id: str
    title: str
    layout: str


@dataclass(frozen=True)
class PluginManifest:
    id: str
    name: str
    version: str
    # licence feature needed to use it; None = always available (the host's own parts)
    feature: str | None = None
    description: str = ""
    permissions: tuple[Permission, ...] = ()
    tabs: tuple[TabSpec, ...] = ()
    reports: tuple[ReportDecl, ...] = ()
    cli_commands: tuple[CliCommand, ...] = ()
    device_kinds: tuple[DeviceKind, ...] = ()
    print_templates: tuple[PrintTemplate, ...] = ()
    # modules whose tables belong to this plugin, imported before migrations run
    model_modules: tuple[str, ...] = ()
    # folder with this plugin's Alembic revisions (its own branch, label = plugin id)
    migrations: str | None = None
    depends_on: tuple[str, ...] = field(default=())
    # "module:attr" of ``run(app, channels, emit, stop)``: the gate loop ``venue-suite gate run``
    # runs (the check-in plugin's); the host owns the verb, so its safety part needs no licence
    gate_runner: str | None = None
