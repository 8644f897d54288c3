"""The card wallet's reports (W8 settlement, P2 card reports); docs/wallet-settlement.md.

* ``RECHARGE_DETAIL``: every top-up (time, venue, terminal, operator, card, paid, bonus, counts);
* ``RECHARGE_BY_OPERATOR``: top-ups per local day, venue and operator;
* ``CONSUMPTION``: consumption per venue, merchant, terminal and device (per day or for the
  whole period), settled, unsettled or both;
* ``SETTLEMENT_STATUS``: per venue, events, recharge and consumption settled and unsettled;
* ``BRANCH_NET``: per venue, what it took for the chain against what the chain owes it;
* ``DAILY_CLOSE``: one local day per venue and terminal: top-ups, consumption, refunds,
  deposits and the cash the drawer should hold more.

Each spec gives ``rows``: the card events are read in SQL (filtered by UTC bounds computed from
the venue's local days, streamed) and summed in Python, where each event's local day comes
from the venue's time zone; SQLite and PostgreSQL give the same figures. Money is integer fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import func, select

from suite.i18n import N_
from suite.reporting.common import period, venue_scope
from suite.reporting.filters import venue_clause
from suite.reporting.spec import (ChartSpec, Column, ColumnKind, Param, ParamKind, ReportContext, ReportSpec)

from plugins.wallet.models import CardEvent, Settlement
from plugins.wallet.settlement import EventRow, Figures, load_events, report_zone, settlement_due

MONEY, COUNT = ColumnKind.MONEY, ColumnKind.COUNT

# ---------------------------------------------------------------- parameters


def _venue() -> Param:
    return Param("venue", N_("Venue"), ParamKind.TEXT, help=N_("venue code; empty: every venue"))


def _terminal() -> Param:
    return Param("terminal", N_("Terminal"), ParamKind.TEXT, help=N_("terminal (POS) code; empty: every terminal"))


def _operator() -> Param:
    return Param("operator", N_("Operator"), ParamKind.USER, help=N_("user name; empty: every operator"))


def _merchant() -> Param:
    return Param("merchant", N_("Merchant"), ParamKind.TEXT, help=N_("merchant code; empty: every merchant"))


def _settled() -> Param:
    return Param("settled", N_("Settlement"), ParamKind.CHOICE, default="all",
                 choices=(("all", N_("Settled and unsettled")), ("settled", N_("Settled")),
                          ("unsettled", N_("Unsettled"))),
                 help=N_("settled: events of a period marked settled; unsettled: the others"))


def _events(ctx: ReportContext, params: Mapping[str, Any], *, actions: tuple[str, ...] | None = None,
            days: tuple[dt.date, dt.date] | None = None) -> Iterator[EventRow]:
    """The card events the parameters select (those not declared by a spec count as not given)."""
    zone = report_zone(ctx)
    where = [venue_clause(ctx, params.get("scope"), CardEvent.__table__.c.venue_id)]
    return load_events(ctx.session, zone, days=days or params.get("period"), venue=params.get("venue") or None,
                       terminal=params.get("terminal") or None, operator=params.get("operator") or None,
                       merchant=params.get("merchant") or None, actions=actions,
                       settled=params.get("settled") or None, where=where)


# ---------------------------------------------------------------- top-ups


def _recharge_detail(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    for e in _events(ctx, params, actions=("topup",)):
        counts = e.detail("counts", e.amount if e.unit == "count" else 0)
        yield (e.at, e.day, e.venue, e.terminal, e.actor, e.card_no, e.paid, e.detail("bonus"), counts,
               e.settled)


RECHARGE_DETAIL = ReportSpec(
    id="wallet.recharge_detail",
    title=N_("Card top-ups"),
    description=N_("Every top-up: when, where, by whom, on which card, money paid, bonus granted and counts sold."),
    columns=(
        Column("time", N_("Time"), ColumnKind.DATETIME, width=17),
        Column("day", N_("Day"), ColumnKind.DATE, width=11),
        Column("venue", N_("Venue"), width=10),
        Column("terminal", N_("Terminal"), width=10),
        Column("operator", N_("Operator"), width=12),
        Column("card_no", N_("Card"), width=14),
        Column("paid", N_("Paid"), MONEY, total=True),
        Column("bonus", N_("Bonus"), MONEY, total=True),
        Column("counts", N_("Counts"), COUNT, total=True, width=9),
        Column("settled", N_("Settled"), ColumnKind.BOOL, width=8),
    ),
    params=(period(), _venue(), _terminal(), _operator(), _settled(), venue_scope()),
    rows=_recharge_detail,
    chart=ChartSpec(day="day", value="paid", title=N_("Top-ups paid per day")),
)


def _recharge_by_operator(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    groups: dict[tuple[dt.date, str, str], Figures] = {}
    for e in _events(ctx, params, actions=("topup",)):
        groups.setdefault((e.day, e.venue, e.actor), Figures()).add(e)
    for (day, venue, operator), f in sorted(groups.items()):
        yield (day, venue, operator, f.topups, f.recharge, f.bonus, f.topup_counts)


RECHARGE_BY_OPERATOR = ReportSpec(
    id="wallet.recharge_by_operator",
    title=N_("Top-ups by operator"),
    description=N_("Top-ups per local day, venue and operator: how many, money paid, bonus granted, counts sold."),
    columns=(
        Column("day", N_("Day"), ColumnKind.DATE, width=11),
        Column("venue", N_("Venue"), width=10),
        Column("operator", N_("Operator"), width=12),
        Column("topups", N_("Top-ups"), COUNT, total=True, width=9),
        Column("paid", N_("Paid"), MONEY, total=True),
        Column("bonus", N_("Bonus"), MONEY, total=True),
        Column("counts", N_("Counts"), COUNT, total=True, width=9),
    ),
    params=(period(), _venue(), _operator(), _settled(), venue_scope()),
    rows=_recharge_by_operator,
    chart=ChartSpec(day="day", value="paid", title=N_("Top-ups paid per day")),
)

# ---------------------------------------------------------------- consumption


def _consumption(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    per_day = params.get("by") != "period"
    groups: dict[tuple[Any, ...], Figures] = {}
    for e in _events(ctx, params, actions=("consume",)):
        groups.setdefault((e.day if per_day else None, e.venue, e.merchant, e.terminal, e.device), Figures()).add(e)
    for key, f in sorted(groups.items(), key=lambda item: (item[0][0] or dt.date.min, *item[0][1:])):
        yield (*key, f.consumes, f.charged, f.paid_main, f.paid_gift, f.paid_points, f.counts_used)


CONSUMPTION = ReportSpec(
    id="wallet.consumption",
    title=N_("Card consumption by venue, merchant and device"),
    description=N_("Card payments per venue, merchant, terminal and reader: what was charged after discounts and "
                   "how it was paid (main wallet, gift wallet, points), and the counts used on count cards."),
    columns=(
        Column("day", N_("Day"), ColumnKind.DATE, width=11),
        Column("venue", N_("Venue"), width=10),
        Column("merchant", N_("Merchant"), width=10),
        Column("terminal", N_("Terminal"), width=10),
        Column("device", N_("Device"), width=12),
        Column("consumes", N_("Payments"), COUNT, total=True, width=9),
        Column("charged", N_("Charged"), MONEY, total=True),
        Column("paid_main", N_("Main wallet"), MONEY, total=True),
        Column("paid_gift", N_("Gift wallet"), MONEY, total=True),
        Column("paid_points", N_("Points"), MONEY, total=True),
        Column("counts", N_("Counts used"), COUNT, total=True, width=9),
    ),
    params=(period(), _venue(), _merchant(), _terminal(), _settled(),
            Param("by", N_("One row per"), ParamKind.CHOICE, default="day",
                  choices=(("day", N_("Day")), ("period", N_("Whole period"))),
                  help=N_("day: a row per local day; period: one row per place for the whole period")),
            venue_scope()),
    rows=_consumption,
    chart=ChartSpec(day="day", value="charged", title=N_("Card consumption per day")),
)

# ---------------------------------------------------------------- settlement


def _latest_settled(ctx: ReportContext) -> dict[str, dt.date]:
    t = Settlement.__table__.c
    return {venue: last for venue, last in ctx.session.execute(
        select(t.venue_code, func.max(t.date_to)).group_by(t.venue_code))}


def _settlement_status(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    groups: dict[str, tuple[Figures, Figures]] = {}
    for e in _events(ctx, params):
        settled, unsettled = groups.setdefault(e.venue, (Figures(), Figures()))
        (settled if e.settled else unsettled).add(e)
    latest = _latest_settled(ctx)
    for venue, (s, u) in sorted(groups.items()):
        yield (venue, s.events, s.recharge, s.charged, u.events, u.recharge, u.charged, latest.get(venue))


SETTLEMENT_STATUS = ReportSpec(
    id="wallet.settlement_status",
    title=N_("Card settlement status"),
    description=N_("Per venue: card events, top-ups paid and consumption, in periods marked settled and not yet; "
                   "the last day settled."),
    columns=(
        Column("venue", N_("Venue"), width=10),
        Column("settled_events", N_("Settled events"), COUNT, total=True, width=10),
        Column("settled_recharge", N_("Settled top-ups"), MONEY, total=True),
        Column("settled_consumption", N_("Settled consumption"), MONEY, total=True),
        Column("unsettled_events", N_("Unsettled events"), COUNT, total=True, width=10),
        Column("unsettled_recharge", N_("Unsettled top-ups"), MONEY, total=True),
        Column("unsettled_consumption", N_("Unsettled consumption"), MONEY, total=True),
        Column("settled_to", N_("Settled up to"), ColumnKind.DATE, width=11),
    ),
    params=(period(), _venue(), venue_scope()),
    rows=_settlement_status,
)


def _branch_net(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    groups: dict[str, Figures] = {}
    spent: list[EventRow] = []
    for e in _events(ctx, params, actions=("topup", "consume", "refund", "issue")):
        groups.setdefault(e.venue, Figures()).add(e)
        if e.charged or e.counts_used:
            spent.append(e)
    due = settlement_due(ctx.session, spent)
    for venue, f in sorted(groups.items()):
        owed = due.get(venue, 0)
        yield (venue, f.recharge, f.charged, f.recharge - f.charged, f.counts_used, owed, f.deposits, f.refunded,
               f.net_cash - owed)


BRANCH_NET = ReportSpec(
    id="wallet.branch_net",
    title=N_("Head office and branch net"),
    description=N_("Per venue: top-ups it took for the chain, card consumption it served, what the chain owes it "
                   "for that consumption at the settlement prices, and the net. Positive: the venue owes head "
                   "office; negative: head office owes the venue."),
    columns=(
        Column("venue", N_("Venue"), width=10),
        Column("recharge", N_("Top-ups taken"), MONEY, total=True),
        Column("consumption", N_("Consumption served"), MONEY, total=True),
        Column("gross", N_("Top-ups less consumption"), MONEY, total=True),
        Column("counts", N_("Counts used"), COUNT, total=True, width=9),
        Column("settlement", N_("Settlement due to venue"), MONEY, total=True),
        Column("deposits", N_("Deposits taken"), MONEY, total=True),
        Column("refunds", N_("Refunds paid"), MONEY, total=True),
        Column("net", N_("Net owed to head office"), MONEY, total=True),
    ),
    params=(period(), _venue(), _settled(), venue_scope()),
    rows=_branch_net,
)

# ---------------------------------------------------------------- daily close


def _daily_close(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    day = params.get("day") or ctx.today
    groups: dict[tuple[str, str], Figures] = {}
    for e in _events(ctx, params, actions=("topup", "consume", "refund", "issue"), days=(day, day)):
        groups.setdefault((e.venue, e.terminal), Figures()).add(e)
    for (venue, terminal), f in sorted(groups.items()):
        yield (venue, terminal, f.topups, f.recharge, f.consumes, f.charged, f.counts_used, f.refunds, f.refunded,
               f.deposits, f.net_cash)


DAILY_CLOSE = ReportSpec(
    id="wallet.daily_close",
    title=N_("Card daily close"),
    description=N_("One local day per venue and terminal: top-ups, card payments, refunds and deposits, and the "
                   "cash the drawer should hold more (top-ups and deposits in, refunds out)."),
    columns=(
        Column("venue", N_("Venue"), width=10),
        Column("terminal", N_("Terminal"), width=10),
        Column("topups", N_("Top-ups"), COUNT, total=True, width=9),
        Column("paid", N_("Top-ups paid"), MONEY, total=True),
        Column("consumes", N_("Payments"), COUNT, total=True, width=9),
        Column("charged", N_("Charged"), MONEY, total=True),
        Column("counts", N_("Counts used"), COUNT, total=True, width=9),
        Column("refunds", N_("Refunds"), COUNT, total=True, width=9),
        Column("refunded", N_("Refunds paid"), MONEY, total=True),
        Column("deposits", N_("Deposits taken"), MONEY, total=True),
        Column("net_cash", N_("Net cash"), MONEY, total=True),
    ),
    params=(Param("day", N_("Day"), ParamKind.DATE, required=True, default="today",
                  help=N_("the venue's local day: YYYY-MM-DD, today or yesterday")),
            _venue(), _terminal(), venue_scope()),
    rows=_daily_close,
)

REPORTS = (RECHARGE_DETAIL, RECHARGE_BY_OPERATOR, CONSUMPTION, SETTLEMENT_STATUS, BRANCH_NET, DAILY_CLOSE)

__all__ = ["BRANCH_NET", "CONSUMPTION", "DAILY_CLOSE", "RECHARGE_BY_OPERATOR", "RECHARGE_DETAIL", "REPORTS",
           "SETTLEMENT_STATUS"]
