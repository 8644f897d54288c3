"""The card wallet plugin (features W1-W8 of the mission; issue 5): hook implementations only.

Tables in ``plugins.wallet.models`` (own Alembic branch ``wallet`` in ``migrations/``), use
cases in ``plugins.wallet.services``, the ``card`` and ``cardtype`` verbs in
``plugins.wallet.cli``. See docs/wallet.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.declarations import CliCommand, Permission, PluginManifest, ReportDecl, TabSpec
from suite.hookspecs import hookimpl
from suite.i18n import N_

PLUGIN_ID = "wallet"
FEATURE = "wallet"
VERSION = "0.1.0"
MIGRATIONS = str(Path(__file__).parent / "migrations")

_SALES = ("salesperson", "manager")
PERMISSIONS: tuple[Permission, ...] = (
    Permission("wallet.issue", N_("Issue, sell and renew cards"), _SALES),
    Permission("wallet.topup", N_("Top up cards"), _SALES),
    Permission("wallet.consume", N_("Debit cards (consume)"), _SALES),
    Permission("wallet.loss", N_("Report a card lost and unblock it"), ("manager",)),
    Permission("wallet.refund", N_("Return a card and refund it"), ("manager",)),
    Permission("wallet.cardtypes", N_("Manage card types and tiers")),
    Permission("wallet.view", N_("View cards, balances and history"), (*_SALES, "finance")),
    Permission("wallet.settle", N_("Mark card settlement periods settled"), ("finance", "manager")),
    Permission("wallet.recover", N_("Rebuild a card's account from the card"), ("manager",)),
)

CLI_COMMANDS: tuple[CliCommand, ...] = (
    CliCommand("card", N_("stored-value cards: issue, top up, consume, query, history, block, refund"),
               configure="plugins.wallet.cli:configure_card", run="plugins.wallet.cli:run",
               permission="wallet.view"),
    CliCommand("cardtype", N_("card types, tiers, settlement prices and discount rules"),
               configure="plugins.wallet.cli:configure_cardtype", run="plugins.wallet.cli:run",
               permission="wallet.view"),
    CliCommand("settlement", N_("card settlement: mark a venue's period settled, summary, list"),
               configure="plugins.wallet.settlement:configure_settle", run="plugins.wallet.settlement:run_settle",
               permission="wallet.view"),
)

TABS: tuple[TabSpec, ...] = (
    TabSpec("wallet.cashier", N_("Cards"), factory="plugins.wallet.ui.cashier:build_tab", permission="wallet.view",
            order=100),
    TabSpec("wallet.selfquery", N_("Card enquiry"), factory="plugins.wallet.ui.selfquery:build_tab",
            permission="wallet.view", order=110),
    TabSpec("wallet.settlement", N_("Card settlement"), factory="plugins.wallet.ui.settlement:build_tab",
            permission="wallet.settle", order=130),
)

_REPORT = "plugins.wallet.reports:"
REPORTS: tuple[ReportDecl, ...] = (
    ReportDecl("wallet.recharge_detail", N_("Card top-ups"), spec=_REPORT + "RECHARGE_DETAIL",
               permission="wallet.view"),
    ReportDecl("wallet.recharge_by_operator", N_("Top-ups by operator"), spec=_REPORT + "RECHARGE_BY_OPERATOR",
               permission="wallet.view"),
    ReportDecl("wallet.consumption", N_("Card consumption by venue, merchant and device"),
               spec=_REPORT + "CONSUMPTION", permission="wallet.view"),
    ReportDecl("wallet.settlement_status", N_("Card settlement status"), spec=_REPORT + "SETTLEMENT_STATUS",
               permission="wallet.view"),
    ReportDecl("wallet.branch_net", N_("Head office and branch net"), spec=_REPORT + "BRANCH_NET",
               permission="wallet.view"),
    ReportDecl("wallet.daily_close", N_("Card daily close"), spec=_REPORT + "DAILY_CLOSE", permission="wallet.view"),
)


@hookimpl
def venue_suite_validate_settings(settings: dict[str, Any]) -> None:
    from plugins.wallet.settings import parse_settings

    parse_settings(settings)


@hookimpl
def venue_suite_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        name="Card wallet",
        version=VERSION,
        feature=FEATURE,
        description=N_("One card pays everywhere: card types, issue, top-up, consume, loss and refund."),
        permissions=PERMISSIONS,
        cli_commands=CLI_COMMANDS,
        tabs=TABS,
        reports=REPORTS,
        model_modules=("plugins.wallet.models",),
        migrations=MIGRATIONS,
    )
