"""The box office's reports (P1); docs/tickets-reports.md.

* ``SALES_DETAIL``: every ticket sold: when (the venue's local day and time), order, ticket,
  session, programme, hall, row and seat, ticket type, list price, price, state, what it
  brought in (gross, refunds, net), cashier, channel, customer source, distributor;
* ``SALES_SUMMARY``: tickets sold and refunded, gross, refunds and net, grouped by one
  dimension chosen by the ``by`` parameter (ticket type, payment method, day, cashier,
  customer source, distributor, session, channel);
* ``SESSION_OCCUPANCY``: per session: capacity (its map's seats that are not locked), seats
  sold, held and free, occupancy and revenue.

Sales are counted on the **sale's** basis: an order belongs to the local day of its payment
(``paid_at``), and whatever happened to its tickets later (a refund, a void, an exchange) counts
with it. So every dimension adds up to the same totals, and the payment methods (the order's
``Payment`` rows, refunds negative) add up to the same money as the tickets.

Each spec gives ``rows``: the rows are read in SQL (filtered by UTC bounds computed from the
venue's local days, streamed) and the local days are cut in Python in the venue's time zone
(``[plugins.tickets] timezone``), so SQLite and PostgreSQL give the same figures. Money is
integer fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, or_, select, true

from suite.db.base import utcnow
from suite.db.core_models import Venue
from suite.i18n import N_, _
from suite.reporting.common import venue_scope
from suite.reporting.filters import LOCAL, day_bounds, plugin_table
from suite.reporting.spec import ChartSpec, Column, ColumnKind, Param, ParamKind, ReportContext, ReportSpec

from plugins.tickets.models import (
    LOCKED_KINDS, Distributor, Hall, Order, Payment, Programme, Revocation, Seat, SeatClaim, ShowSession, Ticket,
    TicketType,
)
from plugins.tickets.settings import parse_settings

MONEY, COUNT, DATE, TEXT = ColumnKind.MONEY, ColumnKind.COUNT, ColumnKind.DATE, ColumnKind.TEXT
UTC = dt.timezone.utc
BATCH = 2000

#: ticket states that gave the money back (the ticket counts as refunded)
RETURNED = ("refunded", "voided")
#: replaced by another ticket of the same order: neither sold nor refunded (the new one is)
EXCHANGED = "exchanged"

STATE_LABELS = {"valid": N_("valid"), "refunded": N_("refunded"), "voided": N_("voided"),
                "exchanged": N_("exchanged")}
CHANNEL_LABELS = {"counter": N_("Counter"), "distributor": N_("Distributor"), "kiosk": N_("Kiosk"),
                  "redemption": N_("Redemption"), "online": N_("Online")}
METHOD_LABELS = {"cash": N_("Cash"), "wallet": N_("Card wallet"), "voucher": N_("Voucher"),
                 "distributor": N_("Distributor account"), "redemption": N_("Redemption code")}
NO_DISTRIBUTOR = N_("No distributor")

DIMENSIONS = (
    ("ticket_type", N_("Ticket type")),
    ("payment_method", N_("Payment method")),
    ("day", N_("Day")),
    ("cashier", N_("Cashier")),
    ("customer_source", N_("Customer source")),
    ("distributor", N_("Distributor")),
    ("session", N_("Session")),
    ("channel", N_("Channel")),
)

# ---------------------------------------------------------------- the venue's days


def report_zone(ctx: Any) -> ZoneInfo:
    """The venue's zone: the site's ``[plugins.tickets] timezone`` from the report's context, or
    the box office's default (Asia/Shanghai) when the report runs without a site."""
    return parse_settings(plugin_table(ctx, "tickets")).zone






def _local(value: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


def _day(value: dt.datetime | None, zone: dt.tzinfo) -> dt.date | None:
    local = _local(value, zone)
    return local.date() if local else None


def _clock(value: dt.datetime | None, zone: dt.tzinfo, fmt: str = "%H:%M") -> str:
    local = _local(value, zone)
    return local.strftime(fmt) if local else ""


def _label(labels: Mapping[str, str], code: str | None) -> str:
    if not code:
        return ""
    label = labels.get(code)
    return _(label) if label else code


# ---------------------------------------------------------------- parameters


def _venue() -> Param:
    return Param("venue", N_("Venue"), ParamKind.TEXT, help=N_("venue code; empty: every venue"))


def _session() -> Param:
    return Param("session", N_("Session"), ParamKind.TEXT, help=N_("session code; empty: every session"))


def _cashier() -> Param:
    return Param("cashier", N_("Cashier"), ParamKind.USER, help=N_("user name of the cashier who sold; empty: "
                                                                    "every cashier"))


def _ticket_type() -> Param:
    return Param("ticket_type", N_("Ticket type"), ParamKind.TEXT,
                 help=N_("ticket type code; empty: every ticket type"))


def _sales_period() -> Param:
    return Param("period", N_("Period"), ParamKind.DATE_RANGE,
                 help=N_("the venue's local days of the sales (when the orders were paid): FIRST..LAST, one day, "
                         "a month (2026-11), today or yesterday; empty: every day"))


def _by() -> Param:
    return Param("by", N_("Grouped by"), ParamKind.CHOICE, required=True, default="ticket_type",
                 choices=DIMENSIONS,
                 help=N_("one row per ticket type, payment method, local day, cashier, customer source, "
                         "distributor, session or channel"))


# ---------------------------------------------------------------- filters


def _scope(ctx: ReportContext, scope: str | None, code_column: Any, id_column: Any) -> ColumnElement[bool]:
    """``chain``: every row; ``local``: the rows of this terminal's venue (by its code); a
    terminal with no venue configured sees the rows stamped with no venue (head office)."""
    if scope != LOCAL:
        return true()
    if ctx.venue_id is None:
        return id_column.is_(None)
    venue = Venue.__table__.c
    return code_column == select(venue.code).where(venue.id == ctx.venue_id).scalar_subquery()


def _order_filters(ctx: ReportContext, params: Mapping[str, Any], zone: dt.tzinfo) -> list[ColumnElement[bool]]:
    """The orders the parameters select: paid in the period's local days, at the venue, by the
    cashier, in scope (orders never paid are no sale)."""
    o = Order.__table__.c
    where: list[ColumnElement[bool]] = [o.paid_at.is_not(None),
                                        _scope(ctx, params.get("scope"), o.venue_code, o.venue_id)]
    if params.get("period"):
        start, end = day_bounds(params["period"], zone)
        where += [o.paid_at >= start, o.paid_at < end]
    if params.get("venue"):
        where.append(o.venue_code == params["venue"])
    if params.get("cashier"):
        where.append(o.cashier == params["cashier"])
    return where


def _stream(ctx: ReportContext, query: Select[Any]) -> Iterator[Any]:
    """``query``'s rows, streamed (a server-side cursor on PostgreSQL), closed when left."""
    result = ctx.session.execute(query.execution_options(yield_per=BATCH, stream_results=True))
    try:
        yield from result
    finally:
        result.close()


# ---------------------------------------------------------------- tickets


@dataclass(frozen=True)
class TicketRow:
    paid_at: dt.datetime
    order: str
    serial: str
    session: str
    starts_at: dt.datetime | None
    programme: str
    hall: str
    row: str
    seat: str
    type_code: str
    type_name: str
    list_price: int
    price: int
    state: str
    returned_at: dt.datetime | None
    cashier: str
    channel: str
    customer_source: str
    distributor_code: str
    distributor_name: str

    @property
    def gross(self) -> int:
        """What the ticket was sold for: its price, unless it was exchanged for another (the
        new ticket, at its own price, stands for the sale)."""
        return 0 if self.state == EXCHANGED else self.price

    @property
    def refunded(self) -> int:
        return self.price if self.state in RETURNED else 0

    @property
    def net(self) -> int:
        return self.gross - self.refunded


def _tickets(ctx: ReportContext, params: Mapping[str, Any], zone: dt.tzinfo) -> Iterator[TicketRow]:
    """Every ticket of the orders the parameters select, oldest sale first."""
    t, o, s, p = Ticket.__table__.c, Order.__table__.c, ShowSession.__table__.c, Programme.__table__.c
    h, st, tt, d = Hall.__table__.c, Seat.__table__.c, TicketType.__table__.c, Distributor.__table__.c
    r = Revocation.__table__.c
    tickets, orders, sessions = Ticket.__table__, Order.__table__, ShowSession.__table__
    query = (select(o.paid_at, o.number, t.serial, s.code, s.starts_at, p.title, h.name, st.row_label,
                    st.seat_label, tt.code, tt.name, t.list_price, t.price, t.state, r.revoked_at, o.cashier,
                    o.channel, o.customer_source, d.code, d.name)
             .select_from(tickets.join(orders, o.id == t.order_id)
                          .outerjoin(sessions, s.id == t.session_id)
                          .outerjoin(Programme.__table__, p.id == s.programme_id)
                          .outerjoin(Hall.__table__, h.id == s.hall_id)
                          .outerjoin(Seat.__table__, st.id == t.seat_id)
                          .join(TicketType.__table__, tt.id == t.ticket_type_id)
                          .outerjoin(Distributor.__table__, d.id == o.distributor_id)
                          .outerjoin(Revocation.__table__, r.serial == t.serial))
             .where(*_order_filters(ctx, params, zone))
             .order_by(o.paid_at, o.id, t.id))
    if params.get("session"):
        query = query.where(s.code == params["session"])
    if params.get("ticket_type"):
        query = query.where(tt.code == params["ticket_type"])
    for row in _stream(ctx, query):
        (paid_at, number, serial, session, starts_at, programme, hall, row_label, seat_label, type_code, type_name,
         list_price, price, state, revoked_at, cashier, channel, source, distributor_code, distributor_name) = row
        yield TicketRow(paid_at, number, serial, session or "", starts_at, programme or "", hall or "",
                        row_label or "", seat_label or "", type_code, type_name, int(list_price), int(price), state,
                        revoked_at, cashier or "", channel or "", source or "", distributor_code or "",
                        distributor_name or "")


def _sales_detail(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    zone = report_zone(ctx)
    for x in _tickets(ctx, params, zone):
        yield (_day(x.paid_at, zone), _clock(x.paid_at, zone), x.order, x.serial, x.session,
               _clock(x.starts_at, zone, "%Y-%m-%d %H:%M"), x.programme, x.hall, x.row, x.seat, x.type_name,
               x.list_price, x.price, _label(STATE_LABELS, x.state), _day(x.returned_at, zone), x.gross, x.refunded,
               x.net, x.cashier, _label(CHANNEL_LABELS, x.channel), x.customer_source, x.distributor_name)


SALES_DETAIL = ReportSpec(
    id="tickets.sales_detail",
    title=N_("Ticket sales detail"),
    description=N_("Every ticket sold, on the venue's local day and time of its sale, with its session, seat, "
                   "type and prices, what it brought in (gross, refunds, net), the cashier, the channel, the "
                   "customer source and the distributor."),
    columns=(
        Column("day", N_("Day"), DATE, width=11),
        Column("time", N_("Time"), width=6),
        Column("order", N_("Order"), width=14),
        Column("ticket", N_("Ticket"), width=13),
        Column("session", N_("Session"), width=10),
        Column("starts", N_("Starts"), width=16),
        Column("programme", N_("Programme"), width=20),
        Column("hall", N_("Hall"), width=10),
        Column("row", N_("Row"), width=5),
        Column("seat", N_("Seat"), width=5),
        Column("ticket_type", N_("Ticket type"), width=12),
        Column("list_price", N_("List price"), MONEY),
        Column("price", N_("Price"), MONEY),
        Column("state", N_("State"), width=10),
        Column("returned_on", N_("Returned on"), DATE, width=11),
        Column("gross", N_("Gross"), MONEY, total=True),
        Column("refunds", N_("Refunds"), MONEY, total=True),
        Column("net", N_("Net amount"), MONEY, total=True),
        Column("cashier", N_("Cashier"), width=12),
        Column("channel", N_("Channel"), width=10),
        Column("customer_source", N_("Customer source"), width=12),
        Column("distributor", N_("Distributor"), width=16),
    ),
    params=(_sales_period(), _venue(), _session(), _cashier(), _ticket_type(), venue_scope()),
    rows=_sales_detail,
    chart=ChartSpec(day="day", value="net", title=N_("Net ticket sales per day")),
)

# ---------------------------------------------------------------- summary


@dataclass
class Figures:
    sold: int = 0
    refunded: int = 0
    gross: int = 0
    refunds: int = 0

    def add(self, ticket: TicketRow) -> None:
        self.sold += 1
        self.gross += ticket.price
        if ticket.state in RETURNED:
            self.refunded += 1
            self.refunds += ticket.price


# a dimension of the tickets: the group's key (also its sort order) and its label
_KEYS: dict[str, Callable[[TicketRow, dt.tzinfo], tuple[Any, str]]] = {
    "ticket_type": lambda x, z: ((x.type_name.casefold(), x.type_code), x.type_name),
    "day": lambda x, z: (_day(x.paid_at, z), ""),
    "cashier": lambda x, z: (x.cashier, x.cashier),
    "customer_source": lambda x, z: (x.customer_source, x.customer_source),
    "distributor": lambda x, z: ((x.distributor_name.casefold(), x.distributor_code),
                                 x.distributor_name if x.distributor_code else _(NO_DISTRIBUTOR)),
    "session": lambda x, z: ((x.starts_at or dt.datetime.min.replace(tzinfo=UTC), x.session),
                             " ".join(v for v in (x.session, x.programme, _clock(x.starts_at, z, "%Y-%m-%d %H:%M"))
                                      if v)),
    "channel": lambda x, z: (x.channel, _label(CHANNEL_LABELS, x.channel)),
}


def _by_tickets(ctx: ReportContext, params: Mapping[str, Any], by: str) -> Iterator[tuple[Any, ...]]:
    zone = report_zone(ctx)
    key_of = _KEYS[by]
    groups: dict[Any, tuple[str, Figures]] = {}
    for ticket in _tickets(ctx, params, zone):
        if ticket.state == EXCHANGED:
            continue  # its replacement stands for the sale
        key, label = key_of(ticket, zone)
        groups.setdefault(key, (label, Figures()))[1].add(ticket)
    for key, (label, f) in sorted(groups.items(), key=lambda item: item[0]):
        yield (key if by == "day" else None, label, f.sold, f.refunded, f.sold - f.refunded, f.gross, f.refunds,
               f.gross - f.refunds)


def _by_payments(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The orders' ``Payment`` rows per method: money taken (positive rows) and paid back
    (negative rows, shown as a positive refund); the zero rows marking a refund are left out."""
    zone = report_zone(ctx)
    pay, o, t, s = Payment.__table__.c, Order.__table__.c, Ticket.__table__.c, ShowSession.__table__.c
    query = (select(pay.method,
                    func.coalesce(func.sum(case((pay.amount > 0, pay.amount), else_=0)), 0),
                    func.coalesce(func.sum(case((pay.amount < 0, -pay.amount), else_=0)), 0))
             .select_from(Payment.__table__.join(Order.__table__, o.id == pay.order_id))
             .where(pay.amount != 0, *_order_filters(ctx, params, zone))
             .group_by(pay.method))
    if params.get("session"):
        query = query.where(o.id.in_(select(t.order_id).select_from(
            Ticket.__table__.join(ShowSession.__table__, s.id == t.session_id)).where(s.code == params["session"])))
    figures = {method: (int(taken), int(back)) for method, taken, back in ctx.session.execute(query)}
    order = {method: index for index, method in enumerate(METHOD_LABELS)}
    for method in sorted(figures, key=lambda m: (order.get(m, len(order)), m)):
        taken, back = figures[method]
        yield (None, _label(METHOD_LABELS, method), None, None, None, taken, back, taken - back)


def _sales_summary(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    by = params.get("by") or "ticket_type"
    if by == "payment_method":
        return _by_payments(ctx, params)
    return _by_tickets(ctx, params, by)


SALES_SUMMARY = ReportSpec(
    id="tickets.sales_summary",
    title=N_("Ticket sales summary"),
    description=N_("Tickets sold and refunded, gross, refunds and net amount of the orders paid in the period, "
                   "grouped by ticket type, payment method, day, cashier, customer source, distributor, session "
                   "or channel. Refunds, voids and exchanges count with their order's sale."),
    columns=(
        Column("day", N_("Day"), DATE, width=11),
        Column("group", N_("Group"), width=24),
        Column("sold", N_("Tickets sold"), COUNT, total=True, width=9),
        Column("refunded", N_("Tickets refunded"), COUNT, total=True, width=9),
        Column("net_tickets", N_("Net tickets"), COUNT, total=True, width=9),
        Column("gross", N_("Gross"), MONEY, total=True),
        Column("refunds", N_("Refunds"), MONEY, total=True),
        Column("net", N_("Net amount"), MONEY, total=True),
    ),
    params=(_sales_period(), _by(), _venue(), _session(), _cashier(), venue_scope()),
    rows=_sales_summary,
    chart=ChartSpec(day="day", value="net", title=N_("Net ticket sales per day")),
)

# ---------------------------------------------------------------- occupancy


def _session_occupancy(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    zone = report_zone(ctx)
    s, p, h, st = ShowSession.__table__.c, Programme.__table__.c, Hall.__table__.c, Seat.__table__.c
    c, t = SeatClaim.__table__.c, Ticket.__table__.c
    where: list[ColumnElement[bool]] = [_scope(ctx, params.get("scope"), s.venue_code, s.venue_id)]
    if params.get("period"):
        start, end = day_bounds(params["period"], zone)
        where += [s.starts_at >= start, s.starts_at < end]
    if params.get("venue"):
        where.append(s.venue_code == params["venue"])
    if params.get("session"):
        where.append(s.code == params["session"])
    session = ctx.session
    capacity = {map_id: int(n) for map_id, n in session.execute(
        select(st.seat_map_id, func.count()).where(st.kind.not_in(LOCKED_KINDS)).group_by(st.seat_map_id))}
    # sold seats, and holds not yet expired, per session, on seats locked or not
    now = utcnow()
    claims: dict[Any, dict[str, int]] = {}
    for session_id, kind, seat_kind, n in session.execute(
            select(c.session_id, c.kind, st.kind, func.count())
            .select_from(SeatClaim.__table__.join(ShowSession.__table__, s.id == c.session_id)
                         .join(Seat.__table__, st.id == c.seat_id))
            .where(*where, or_(c.kind == "sold", c.expires_at > now))
            .group_by(c.session_id, c.kind, st.kind)):
        counts = claims.setdefault(session_id, {"sold": 0, "hold": 0, "taken": 0})
        counts[kind] += int(n)
        if seat_kind not in LOCKED_KINDS:
            counts["taken"] += int(n)
    revenue = {session_id: int(total) for session_id, total in session.execute(
        select(t.session_id, func.coalesce(func.sum(t.price), 0))
        .select_from(Ticket.__table__.join(ShowSession.__table__, s.id == t.session_id))
        .where(*where, t.state == "valid")
        .group_by(t.session_id))}
    query = (select(s.id, s.code, s.starts_at, s.seat_map_id, p.title, h.name)
             .select_from(ShowSession.__table__.join(Programme.__table__, p.id == s.programme_id)
                          .join(Hall.__table__, h.id == s.hall_id))
             .where(*where)
             .order_by(s.starts_at, s.code))
    for session_id, code, starts_at, map_id, title, hall in _stream(ctx, query):
        seats = capacity.get(map_id, 0)
        counts = claims.get(session_id, {"sold": 0, "hold": 0, "taken": 0})
        sold = counts["sold"]
        occupancy = (200 * sold + seats) // (2 * seats) if seats else None  # per cent, rounded half up
        yield (_day(starts_at, zone), _clock(starts_at, zone), code, title, hall, seats, sold, counts["hold"],
               max(seats - counts["taken"], 0), occupancy, revenue.get(session_id, 0))


SESSION_OCCUPANCY = ReportSpec(
    id="tickets.session_occupancy",
    title=N_("Session occupancy"),
    description=N_("Per session, on the venue's local day and time it starts: its seats that are not locked, "
                   "seats sold, held (holds not yet expired) and free, the occupancy (seats sold of the capacity, "
                   "per cent) and the revenue of its valid tickets."),
    columns=(
        Column("day", N_("Day"), DATE, width=11),
        Column("time", N_("Time"), width=6),
        Column("session", N_("Session"), width=10),
        Column("programme", N_("Programme"), width=20),
        Column("hall", N_("Hall"), width=10),
        Column("capacity", N_("Capacity"), COUNT, total=True, width=9),
        Column("sold", N_("Seats sold"), COUNT, total=True, width=9),
        Column("held", N_("Seats held"), COUNT, total=True, width=9),
        Column("free", N_("Seats free"), COUNT, total=True, width=9),
        Column("occupancy", N_("Occupancy %"), ColumnKind.INT, width=10),
        Column("revenue", N_("Revenue"), MONEY, total=True),
    ),
    params=(Param("period", N_("Period"), ParamKind.DATE_RANGE,
                  help=N_("the venue's local days the sessions start on: FIRST..LAST, one day, a month (2026-11), "
                          "today or yesterday; empty: every session")),
            _venue(), _session(), venue_scope()),
    rows=_session_occupancy,
    chart=ChartSpec(day="day", value="sold", title=N_("Seats sold per session day")),
)

REPORTS = (SALES_DETAIL, SALES_SUMMARY, SESSION_OCCUPANCY)

__all__ = ["REPORTS", "SALES_DETAIL", "SALES_SUMMARY", "SESSION_OCCUPANCY", "day_bounds",
           "report_zone"]
