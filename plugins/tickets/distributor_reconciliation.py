"""Distributor reconciliation (T7, docs/tickets-partners.md): one distributor's figures over a
period (its bookings, the money through its prepaid account, the balance at the start and the
end) and the report ``tickets.distributor_reconciliation`` (``RECONCILIATION``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suite.i18n import N_
from suite.ledger import REVERSAL_KIND
from suite.ledger.models import Entry, Line
from suite.reporting.common import period
from suite.reporting.filters import local_midnight
from suite.reporting.spec import Column, ColumnKind, Param, ParamKind, ReportContext, ReportSpec

from plugins.tickets.accounts import CNY, KIND_REBATE, KIND_REFUND, KIND_SALE, KIND_TOPUP, OWNER_TYPE, PREPAID
from plugins.tickets.models import Booking, Distributor, Ticket
from plugins.tickets.reports import report_zone


def reconciliation(session: Session, dist: Distributor, first: dt.date | None, last: dt.date | None,
                   zone: dt.tzinfo) -> dict[str, int]:
    """The figures of one distributor over local days ``first`` .. ``last`` (``None``: from the
    beginning / up to now): bookings made (count, by state, tickets, gross), money from the
    prepaid account's journal lines, and the balance at the start and the end."""
    start = local_midnight(first, zone) if first else None
    end = local_midnight(last + dt.timedelta(days=1), zone) if last else None
    from suite.ledger.models import Account

    account_id = session.scalar(select(Account.id).where(Account.owner_type == OWNER_TYPE,
                                                         Account.owner_id == dist.code, Account.kind == PREPAID,
                                                         Account.unit == CNY))
    money = {"topups": 0, "charged": 0, "rebates": 0, "returned": 0, "other": 0}
    opening = 0
    if account_id is not None:
        query = (select(Entry.kind, Entry.created_at, Line.amount).join(Entry, Line.entry_id == Entry.id)
                 .where(Line.account_id == account_id))
        if end is not None:
            query = query.where(Entry.created_at < end)
        for kind, at, amount in session.execute(query):
            if start is not None and at < start:
                opening += amount
            elif kind == KIND_TOPUP:
                money["topups"] += amount
            elif kind == KIND_SALE:
                money["charged"] -= amount
            elif kind == KIND_REBATE:
                money["rebates"] += amount
            elif kind in (REVERSAL_KIND, KIND_REFUND):
                money["returned"] += amount
            else:
                money["other"] += amount
    closing = opening + money["topups"] - money["charged"] + money["rebates"] + money["returned"] + money["other"]
    query = select(Booking.state, func.count(), func.coalesce(func.sum(Booking.gross), 0)).where(
        Booking.distributor_id == dist.id)
    if start is not None:
        query = query.where(Booking.created_at >= start)
    if end is not None:
        query = query.where(Booking.created_at < end)
    states = {state: (int(n), int(gross)) for state, n, gross in session.execute(query.group_by(Booking.state))}
    ticket_query = select(func.count()).select_from(Ticket).join(Booking, Booking.order_id == Ticket.order_id).where(
        Booking.distributor_id == dist.id)
    if start is not None:
        ticket_query = ticket_query.where(Booking.created_at >= start)
    if end is not None:
        ticket_query = ticket_query.where(Booking.created_at < end)
    return {"bookings": sum(n for n, _g in states.values()),
            "pending": states.get("pending", (0, 0))[0], "approved": states.get("approved", (0, 0))[0],
            "rejected": states.get("rejected", (0, 0))[0], "tickets": int(session.scalar(ticket_query) or 0),
            "gross": sum(g for _n, g in states.values()), **money, "balance_start": opening, "balance_end": closing}


# ---------------------------------------------------------------- the report


def _reconciliation_rows(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    first, last = params.get("period") or (None, None)
    query = select(Distributor).order_by(Distributor.code)
    if params.get("distributor"):
        query = query.where(Distributor.code == params["distributor"])
    zone = report_zone(ctx)
    for dist in ctx.session.scalars(query).all():
        f = reconciliation(ctx.session, dist, first, last, zone)
        yield (dist.code, dist.name, dist.mode, f["bookings"], f["pending"], f["tickets"], f["gross"], f["charged"],
               f["rebates"], f["returned"], f["topups"], f["balance_start"], f["balance_end"])


MONEY, COUNT = ColumnKind.MONEY, ColumnKind.COUNT

RECONCILIATION = ReportSpec(
    id="tickets.distributor_reconciliation",
    title=N_("Distributor reconciliation"),
    description=N_("Per distributor and period: bookings, tickets, list price, charged to the prepaid account, "
                   "rebates paid back, charges returned on rejection, top-ups, and the balance at the start and "
                   "the end."),
    columns=(
        Column("code", N_("Distributor"), width=10),
        Column("name", N_("Name"), width=18),
        Column("mode", N_("Mode"), width=8),
        Column("bookings", N_("Bookings"), COUNT, total=True, width=9),
        Column("pending", N_("Pending"), COUNT, total=True, width=8),
        Column("tickets", N_("Tickets"), COUNT, total=True, width=8),
        Column("gross", N_("List price"), MONEY, total=True),
        Column("charged", N_("Charged"), MONEY, total=True),
        Column("rebates", N_("Rebates"), MONEY, total=True),
        Column("returned", N_("Charges returned"), MONEY, total=True),
        Column("topups", N_("Topped up"), MONEY, total=True),
        Column("balance_start", N_("Balance at start"), MONEY, total=True),
        Column("balance_end", N_("Balance at end"), MONEY, total=True),
    ),
    params=(period(default="today"),
            Param("distributor", N_("Distributor"), ParamKind.TEXT, help=N_("distributor code; empty: every one"))),
    rows=_reconciliation_rows,
)


__all__ = ["RECONCILIATION", "reconciliation"]
