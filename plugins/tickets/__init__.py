"""The box office plugin (features T1-T9 and P1 of the mission; issue 6): hook implementations
only. Tables in ``plugins.tickets.models`` (Alembic branch ``tickets`` in ``migrations/``);
see docs/tickets.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.declarations import CliCommand, Permission, PluginManifest, ReportDecl, TabSpec
from suite.hookspecs import hookimpl
from suite.i18n import N_

PLUGIN_ID = "tickets"
FEATURE = "tickets"
VERSION = "0.1.0"
MIGRATIONS = str(Path(__file__).parent / "migrations")

_SALES = ("salesperson", "manager")
PERMISSIONS: tuple[Permission, ...] = (
    Permission("tickets.view", N_("View sessions, seat maps, orders and tickets"),
               (*_SALES, "finance", "statistician", "local_statistician", "gate_attendant")),
    Permission("tickets.sell", N_("Sell tickets"), _SALES),
    Permission("tickets.reprint", N_("Reprint tickets"), _SALES),
    Permission("tickets.refund", N_("Refund tickets"), ("manager",)),
    Permission("tickets.void", N_("Void tickets"), ("manager",)),
    Permission("tickets.exchange", N_("Exchange tickets for another session or seat"), ("manager",)),
    Permission("tickets.redeem", N_("Redeem codes and hand over tickets picked up"), _SALES),
    Permission("tickets.shift", N_("Open and close a cashier's shift"), _SALES),
    Permission("tickets.setup", N_("Set up halls, seat maps, programmes, sessions, prices and faces"), ("manager",)),
    Permission("tickets.distributors", N_("Manage distributors, contracts and top-ups"), ("manager", "finance")),
    Permission("tickets.review", N_("Approve or reject distributor bookings"), ("manager", "finance")),
    Permission("tickets.verify", N_("Verify ticket codes"), (*_SALES, "gate_attendant")),
)

_CATALOGUE = "plugins.tickets.cli_catalogue:"
_PARTNERS = "plugins.tickets.cli_partners:"
_DISTRIBUTOR_HELP = N_("distributors: add, edit, list, show, discount, topup, book, queue, approve, reject, reconcile")
CLI_COMMANDS: tuple[CliCommand, ...] = (
    CliCommand("hall", N_("halls and their first seat map: add, list"), configure=_CATALOGUE + "configure_hall", run=_CATALOGUE + "run",
               permission="tickets.view"),
    CliCommand("show", N_("programmes (films, plays, concerts): add, list"), configure=_CATALOGUE + "configure_show", run=_CATALOGUE + "run",
               permission="tickets.view"),
    CliCommand("session", N_("sessions: add, list, sales state, quote"), configure=_CATALOGUE + "configure_session", run=_CATALOGUE + "run",
               permission="tickets.view"),
    CliCommand("tickettype", N_("ticket types: add, list"), configure=_CATALOGUE + "configure_tickettype", run=_CATALOGUE + "run",
               permission="tickets.view"),
    CliCommand("price", N_("price plans and prices per zone: plan, set, list"), configure=_CATALOGUE + "configure_price", run=_CATALOGUE + "run",
               permission="tickets.view"),
    CliCommand("offer", N_("offers (time slot, film grade, buy N get M): add, list, enable, disable"), configure=_CATALOGUE + "configure_offer", run=_CATALOGUE + "run",
               permission="tickets.view"),
    CliCommand("package", N_("packages granting several entries: add, list"), configure=_CATALOGUE + "configure_package", run=_CATALOGUE + "run",
               permission="tickets.view"),
    CliCommand("combo", N_("combos of a ticket and goods: add, list"), configure=_CATALOGUE + "configure_combo", run=_CATALOGUE + "run",
               permission="tickets.view"),
    CliCommand("ticket", N_("tickets: sell, quote, refund, void, exchange, reprint, verify"),
               configure="plugins.tickets.cli_sales:configure_ticket", run="plugins.tickets.cli_sales:run",
               permission="tickets.view"),
    CliCommand("shift", N_("cashier's shifts: open with a float, close with the count, current, report"),
               configure="plugins.tickets.cli_counter:configure_shift", run="plugins.tickets.cli_counter:run",
               permission="tickets.shift"),
    CliCommand("face", N_("ticket face templates: add, edit, list, show, preview"),
               configure="plugins.tickets.cli_counter:configure_face", run="plugins.tickets.cli_counter:run",
               permission="tickets.view"),
    CliCommand("distributor", _DISTRIBUTOR_HELP, configure=_PARTNERS + "configure_distributor", run=_PARTNERS + "run",
               permission="tickets.view"),
    CliCommand("redeem", N_("redemption codes: issue, import, list, pickup, void"),
               configure=_PARTNERS + "configure_redeem", run=_PARTNERS + "run", permission="tickets.redeem"),
    CliCommand("voucher", N_("cash vouchers for the box office"),
               configure="plugins.tickets.cli_sales:configure_voucher", run="plugins.tickets.cli_sales:run",
               permission="tickets.sell"),
)

TABS: tuple[TabSpec, ...] = (
    TabSpec("tickets.boxoffice", N_("Box office"), factory="plugins.tickets.ui.boxoffice:build_tab",
            permission="tickets.sell", order=90),
    TabSpec("tickets.seatmaps", N_("Seat maps"), factory="plugins.tickets.ui.editor:build_tab",
            permission="tickets.setup", order=130),
    TabSpec("tickets.kiosk", N_("Ticket pickup"), factory="plugins.tickets.ui.kiosk:build_tab",
            permission="tickets.redeem", order=160),
)

REPORTS: tuple[ReportDecl, ...] = (
    ReportDecl("tickets.sales_detail", N_("Ticket sales detail"), spec="plugins.tickets.reports:SALES_DETAIL",
               permission="tickets.view"),
    ReportDecl("tickets.sales_summary", N_("Ticket sales summary"), spec="plugins.tickets.reports:SALES_SUMMARY",
               permission="tickets.view"),
    ReportDecl("tickets.session_occupancy", N_("Session occupancy"),
               spec="plugins.tickets.reports:SESSION_OCCUPANCY", permission="tickets.view"),
    ReportDecl("tickets.distributor_reconciliation", N_("Distributor reconciliation"),
               spec="plugins.tickets.distributors:RECONCILIATION", permission="tickets.distributors"),
)


@hookimpl
def venue_suite_validate_settings(settings: dict[str, Any]) -> None:
    from plugins.tickets.settings import parse_settings

    parse_settings(settings)


@hookimpl
def venue_suite_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        name="Box office",
        version=VERSION,
        feature=FEATURE,
        description=N_("Shows, seat maps, ticket sales, distributors, redemption and shifts."),
        permissions=PERMISSIONS,
        cli_commands=CLI_COMMANDS,
        reports=REPORTS,
        tabs=TABS,
        model_modules=("plugins.tickets.models",),
        migrations=MIGRATIONS,
    )
