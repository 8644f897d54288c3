"""Cashiers' shifts (T9): open with a float, close with the count, the cashier's report.

A cashier has at most one open shift per terminal. Every payment the counter takes or pays
back while the shift is open carries its id (``Payment.shift_id``, stamped by the sales service
through ``open_shift_id``). At the close the cashier counts what is in the drawer (and any other
method counted by hand); what was expected per payment method is the sum of the shift's
payments (refunds are negative), plus the opening float for cash. The difference, counted minus
expected, is kept per method and in total: positive is **over** (more than expected), negative
is **short**. Methods not counted (card wallet, distributor accounts: nothing in the drawer)
are shown as expected and do not enter the over/short. Permission ``tickets.shift``; another
cashier's report: ``tickets.view``. See docs/tickets-shifts.md.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from printers.elements import Cut, Feed, Layout, Row, Rows, Separator, Text, money
from suite.audit.models import AuditEvent
from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import N_, _
from suite.identity.actor import Actor
from suite.inputs import MAX_AMOUNT, text as clean_text, whole

from plugins.tickets.core import SaleRefused, TicketsCore
from plugins.tickets.models import Order, Payment, Shift, Ticket, TicketType
from plugins.tickets.models.sales import PAYMENT_METHODS

CASH = "cash"
MAX_NOTE = 500

METHOD_LABELS: dict[str, str] = {
    "cash": N_("Cash"),
    "wallet": N_("Card wallet"),
    "voucher": N_("Voucher"),
    "distributor": N_("Distributor account"),
    "redemption": N_("Redemption code"),
}


class NoOpenShift(SaleRefused):
    code = "no_open_shift"


def method_label(method: str) -> str:
    return _(METHOD_LABELS.get(method, method))


def signed_money(fen: int) -> str:
    """Over/short as printed: ``+12.00`` over, ``-3.50`` short, ``0.00`` even."""
    return ("+" if fen > 0 else "") + money(fen)


# ---------------------------------------------------------------- inside a sale's transaction


def open_shift_id(session: Session, cashier: str, terminal_code: str, *, lock: bool = True) -> uuid.UUID | None:
    """The id of ``cashier``'s open shift at ``terminal_code``, or None: the sales service stamps
    it on orders and payments inside its own transaction. With ``lock`` the shift row is held
    (``FOR SHARE`` on PostgreSQL) until that transaction ends, so a close waits for a sale in
    flight and counts its payment; a sale after the close finds no open shift."""
    query = select(Shift.id).where(Shift.cashier == cashier, Shift.terminal_code == terminal_code,
                                   Shift.state == "open").order_by(Shift.opened_at.desc()).limit(1)
    if lock:
        query = query.with_for_update(read=True)
    return session.scalar(query)


def require_open_shift_id(session: Session, cashier: str, terminal_code: str) -> uuid.UUID:
    """``open_shift_id`` or ``NoOpenShift`` (translated): the counter sells only in a shift."""
    found = open_shift_id(session, cashier, terminal_code)
    if found is None:
        raise NoOpenShift(_("{cashier} has no open shift at terminal {terminal}: open a shift with the float "
                            "first.").format(cashier=cashier, terminal=terminal_code or "-"))
    return found


def expected_by_method(session: Session, shift: Shift) -> dict[str, int]:
    """Per payment method the sum of the shift's payments (refunds negative); cash adds the
    float. Cash is always present; other methods when the shift had any payment with them."""
    rows = session.execute(select(Payment.method, func.coalesce(func.sum(Payment.amount), 0))
                           .where(Payment.shift_id == shift.id).group_by(Payment.method)).all()
    expected = {CASH: int(shift.opening_float)}
    for method, total in rows:
        expected[method] = expected.get(method, 0) + int(total)
    return _ordered(expected)


def _ordered(amounts: Mapping[str, int]) -> dict[str, int]:
    known = [m for m in PAYMENT_METHODS if m in amounts]
    return {m: int(amounts[m]) for m in known + sorted(set(amounts) - set(known))}


# ---------------------------------------------------------------- the service


class ShiftService(TicketsCore):
    """Open, current, expected, close and report a cashier's shift at this terminal."""

    def _lock_till(self, session: Session, cashier: str) -> None:
        """Two opens for one cashier and terminal at once must not both pass the check: on
        PostgreSQL a transaction-scoped advisory lock (SQLite's write transaction holds the database)."""
        if session.get_bind().dialect.name == "postgresql":
            key = zlib.crc32(f"tickets.shift:{cashier}:{self.terminal_code}".encode())
            session.execute(select(func.pg_advisory_xact_lock(key)))

    def _open_row(self, session: Session, cashier: str, *, lock: bool = False) -> Shift | None:
        query = select(Shift).where(Shift.cashier == cashier, Shift.terminal_code == self.terminal_code,
                                    Shift.state == "open").order_by(Shift.opened_at.desc()).limit(1)
        if lock:
            query = query.with_for_update()
        return session.scalars(query).first()

    def open(self, actor: Actor, opening_float: int = 0) -> dict[str, Any]:
        """Open a shift for ``actor`` at this terminal with ``opening_float`` fen of change in the drawer."""
        self._begin(actor, "tickets.shift")
        amount = whole(opening_float, _("The opening float"), maximum=MAX_AMOUNT)
        with self._uow() as uow:
            session = uow.session
            self._lock_till(session, actor.username)
            current = self._open_row(session, actor.username)
            if current is not None:
                raise Conflict(_("{cashier} already has a shift open at terminal {terminal} since {since}: close it "
                                 "before opening another.").format(cashier=actor.username,
                                                                   terminal=self.terminal_code or "-",
                                                                   since=self._local_text(current.opened_at)),
                               shift=str(current.id))
            row = Shift(cashier=actor.username, venue_code=self.venue_code, terminal_code=self.terminal_code,
                        state="open", opened_at=self.now(), opening_float=amount, venue_id=actor.venue_id,
                        terminal_id=actor.terminal_id)
            session.add(row)
            session.flush()
            self._audit(session, actor, "tickets.shift.open", str(row.id),
                        {"terminal": self.terminal_code, "float": amount})
            uow.commit()
            return self._shift_dict(row)

    def current(self, actor: Actor) -> dict[str, Any] | None:
        """``actor``'s open shift at this terminal with what is expected so far, or None."""
        self._begin(actor, "tickets.shift")
        with self._uow.read() as uow:
            row = self._open_row(uow.session, actor.username)
            if row is None:
                return None
            return {**self._shift_dict(row), "expected": expected_by_method(uow.session, row)}

    def expected(self, actor: Actor, shift: Any) -> dict[str, int]:
        """Per payment method what the drawer and the other tenders should hold for ``shift``
        (its id, or a dict with ``id``): the sum of its payments, plus the float for cash."""
        ident = self._readable(actor, lambda session: self._shift_row(session, shift))
        with self._uow.read() as uow:
            return expected_by_method(uow.session, uow.session.get_one(Shift, ident))

    def close(self, actor: Actor, counted: Mapping[str, int], note: str = "") -> dict[str, Any]:
        """Close ``actor``'s open shift at this terminal with what was counted per method (fen;
        cash is required). Records expected, counted and the over/short (counted - expected, per
        counted method and in total), and an audit event; returns the shift with those figures."""
        self._begin(actor, "tickets.shift")
        counts = self._counts(counted)
        note = clean_text(note, _("The note"), MAX_NOTE, required=False)
        with self._uow() as uow:
            session = uow.session
            row = self._open_row(session, actor.username, lock=True)
            if row is None:
                raise NoOpenShift(_("{cashier} has no open shift at terminal {terminal} to close.").format(
                    cashier=actor.username, terminal=self.terminal_code or "-"))
            expected = expected_by_method(session, row)
            difference = {m: counts[m] - expected.get(m, 0) for m in counts}
            over_short = sum(difference.values())
            row.state = "closed"
            row.closed_at = self.now()
            row.expected = json.dumps(expected)
            row.counted = json.dumps(counts)
            row.over_short = over_short
            self._audit(session, actor, "tickets.shift.close", str(row.id),
                        {"terminal": self.terminal_code, "float": row.opening_float, "expected": expected,
                         "counted": counts, "difference": difference, "over_short": over_short, "note": note})
            uow.commit()
            return {**self._shift_dict(row), "note": note}

    def report(self, actor: Actor, shift_id: Any = None) -> dict[str, Any]:
        """The cashier's report of ``shift_id`` (default: ``actor``'s open shift here, else the last
        one closed here): sales by ticket type and by payment method, refunds, the reconciliation."""
        ident = self._readable(actor, lambda session: self._shift_row(session, shift_id) if shift_id is not None
                               else self._latest(session, actor))
        with self._uow.read() as uow:
            return self._report(uow.session, uow.session.get_one(Shift, ident))

    # -- inside ----------------------------------------------------------------------------

    def _readable(self, actor: Actor, find: Any) -> uuid.UUID:
        """The id of the shift ``find(session)`` returns, once ``actor`` may read it: their own
        with ``tickets.shift``, another cashier's with ``tickets.view``. (Permissions are checked
        outside the read: a refusal writes the security log in a transaction of its own.)"""
        if not (actor.has("tickets.shift") or actor.has("tickets.view")):
            self._begin(actor, "tickets.shift")
        with self._uow.read() as uow:
            row = find(uow.session)
            ident, owner = row.id, row.cashier
        self._begin(actor, "tickets.shift" if owner == actor.username else "tickets.view")
        return ident

    @staticmethod
    def _counts(counted: Mapping[str, int]) -> dict[str, int]:
        if not isinstance(counted, Mapping):
            raise InvalidInput(_("The count is a mapping of payment method to amount."))
        counts: dict[str, int] = {}
        for method, amount in counted.items():
            if method not in PAYMENT_METHODS:
                raise InvalidInput(_("{method!r} is not a payment method; the methods are: {methods}.").format(
                    method=method, methods=", ".join(PAYMENT_METHODS)))
            counts[method] = whole(amount, _("The amount counted for {method}").format(method=method_label(method)))
        if CASH not in counts:
            raise InvalidInput(_("Count the cash in the drawer: the close needs the cash amount (0 if none)."))
        return _ordered(counts)

    def _latest(self, session: Session, actor: Actor) -> Shift:
        row = self._open_row(session, actor.username)
        if row is None:
            row = session.scalars(select(Shift).where(Shift.cashier == actor.username,
                                                      Shift.terminal_code == self.terminal_code)
                                  .order_by(Shift.opened_at.desc()).limit(1)).first()
        if row is None:
            raise NotFound(_("{cashier} has no shift at terminal {terminal}.").format(
                cashier=actor.username, terminal=self.terminal_code or "-"))
        return row

    @staticmethod
    def _shift_row(session: Session, shift: Any) -> Shift:
        key = shift.get("id") if isinstance(shift, Mapping) else getattr(shift, "id", shift)
        try:
            ident = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        except ValueError:
            ident = None
        row = session.get(Shift, ident) if ident is not None else None
        if row is None:
            raise NotFound(_("There is no shift {id}.").format(id=key), id=str(key))
        return row

    def _local_text(self, when: dt.datetime | None) -> str:
        return when.astimezone(self.settings.zone).strftime("%Y-%m-%d %H:%M") if when else ""

    def _shift_dict(self, row: Shift) -> dict[str, Any]:
        expected = json.loads(row.expected or "{}")
        counted = json.loads(row.counted or "{}")
        return {
            "id": str(row.id), "cashier": row.cashier, "venue": row.venue_code, "terminal": row.terminal_code,
            "state": row.state, "opened_at": row.opened_at.isoformat(), "opened": self._local_text(row.opened_at),
            "float": row.opening_float, "closed_at": row.closed_at.isoformat() if row.closed_at else None,
            "closed": self._local_text(row.closed_at), "expected": expected, "counted": counted,
            "difference": {m: counted[m] - expected.get(m, 0) for m in counted}, "over_short": row.over_short,
        }

    def _report(self, session: Session, row: Shift) -> dict[str, Any]:
        shift = self._shift_dict(row)
        paid = (Order.shift_id == row.id) & Order.paid_at.is_not(None)
        types = session.execute(
            select(TicketType.code, TicketType.name, func.count(Ticket.id), func.coalesce(func.sum(Ticket.admits), 0),
                   func.coalesce(func.sum(Ticket.price), 0))
            .join(Order, Ticket.order_id == Order.id).join(TicketType, Ticket.ticket_type_id == TicketType.id)
            .where(paid).group_by(TicketType.code, TicketType.name).order_by(TicketType.code)).all()
        by_type = [{"code": code, "name": name, "tickets": int(count), "admits": int(admits), "amount": int(amount)}
                   for code, name, count, admits, amount in types]
        orders = int(session.scalar(select(func.count(Order.id)).where(paid)) or 0)
        methods = session.execute(
            select(Payment.method,
                   func.coalesce(func.sum(case((Payment.amount > 0, Payment.amount), else_=0)), 0),
                   func.coalesce(func.sum(case((Payment.amount < 0, -Payment.amount), else_=0)), 0),
                   func.count(case((Payment.amount < 0, Payment.id))))
            .where(Payment.shift_id == row.id).group_by(Payment.method)).all()
        taken = {m: (int(t), int(r), int(n)) for m, t, r, n in methods}
        expected = shift["expected"] if row.state == "closed" else expected_by_method(session, row)
        counted, difference = shift["counted"], shift["difference"]
        by_method = []
        for method in _ordered({**{m: 0 for m in taken}, **expected, **counted}):
            got, back, _count = taken.get(method, (0, 0, 0))
            by_method.append({"method": method, "label": method_label(method), "taken": got, "refunded": back,
                              "net": got - back, "expected": expected.get(method, 0),
                              "counted": counted.get(method), "difference": difference.get(method)})
        refunds = {"count": sum(n for _t, _r, n in taken.values()), "amount": sum(r for _t, r, _n in taken.values())}
        return {
            **shift, "expected": expected,
            "orders": orders, "tickets": sum(t["tickets"] for t in by_type),
            "admits": sum(t["admits"] for t in by_type),
            "sales": sum(t["amount"] for t in by_type), "by_ticket_type": by_type, "by_method": by_method,
            "taken": sum(t for t, _r, _n in taken.values()), "refunds": refunds,
            "net": sum(t - r for t, r, _n in taken.values()), "note": self._close_note(session, row),
        }

    @staticmethod
    def _close_note(session: Session, row: Shift) -> str:
        if row.state != "closed":
            return ""
        details = session.scalar(select(AuditEvent.details).where(AuditEvent.action == "tickets.shift.close",
                                                                  AuditEvent.target == str(row.id))
                                 .order_by(AuditEvent.seq.desc()).limit(1))
        try:
            return str(json.loads(details or "{}").get("note") or "")
        except (ValueError, AttributeError):
            return ""


# ---------------------------------------------------------------- the printed report

# venue, terminal, cashier, opened, closed, float, by_ticket_type [{name, tickets, amount}], orders, tickets,
# sales, by_method [{label, net}], refund_count, refunds, reconciliation [{left, right}], over_short_text;
# optional: note, closed (an open shift prints "-")
SHIFT_REPORT = Layout("tickets_shift_report", (
    Text("{venue}", bold=True, align="center"),
    Text(N_("Cashier's shift report"), bold=True, height=2, align="center"),
    Separator("="),
    Row(N_("Terminal"), "{terminal}"),
    Row(N_("Cashier"), "{cashier}"),
    Row(N_("Opened at"), "{opened}"),
    Row(N_("Closed at"), "{closed}"),
    Separator(),
    Text(N_("Sales by ticket type"), bold=True),
    Rows("by_ticket_type", "{name} x{tickets}", "{amount:money}"),
    Row(N_("Orders"), "{orders}"),
    Row(N_("Tickets sold"), "{tickets}"),
    Row(N_("Sales"), "{sales:money}", bold=True),
    Separator(),
    Text(N_("By payment method (net)"), bold=True),
    Rows("by_method", "{label}", "{net:money}"),
    Row(N_("Refunds ({count})"), "-{refunds:money}"),
    Separator(),
    Text(N_("Reconciliation"), bold=True),
    Row(N_("Opening float"), "{float:money}"),
    Rows("reconciliation", "{left}", "{right}"),
    Row(N_("Over (+) / short (-)"), "{over_short_text}", bold=True, height=2),
    Text("{note}", when="note"),
    Feed(2),
    Text(N_("Signature: ____________")),
    Cut(),
))


def report_print_data(report: Mapping[str, Any], venue: str = "") -> dict[str, Any]:
    """The data ``SHIFT_REPORT`` prints, from ``ShiftService.report``."""
    lines: list[dict[str, str]] = []
    for item in report["by_method"]:
        if item["counted"] is None and not item["expected"]:
            continue
        label = item["label"]
        lines.append({"left": _("{method} expected").format(method=label), "right": money(item["expected"])})
        if item["counted"] is not None:
            lines.append({"left": _("{method} counted").format(method=label), "right": money(item["counted"])})
            lines.append({"left": _("{method} over/short").format(method=label),
                          "right": signed_money(item["difference"])})
    closed = report["state"] == "closed"
    return {
        "venue": venue or report["venue"], "terminal": report["terminal"], "cashier": report["cashier"],
        "opened": report["opened"], "closed": report["closed"] if closed else "-", "float": report["float"],
        "by_ticket_type": [{"name": t["name"], "tickets": t["tickets"], "amount": t["amount"]}
                           for t in report["by_ticket_type"]],
        "orders": report["orders"], "tickets": report["tickets"], "sales": report["sales"],
        "by_method": [{"label": m["label"], "net": m["net"]} for m in report["by_method"]
                      if m["taken"] or m["refunded"]],
        "count": report["refunds"]["count"], "refunds": report["refunds"]["amount"], "reconciliation": lines,
        "over_short_text": signed_money(report["over_short"]) if closed else _("shift still open"),
        "note": report.get("note") or "",
    }


def print_shift_report(app: Any, report: Mapping[str, Any]) -> dict[str, Any]:
    """Print ``report`` on the receipt printer (``[plugins.tickets] receipt_printer``, else the
    ticket printer, else the terminal's first ESC/POS printer). The printer's ``PrinterError``
    (translated; the job then waits in its reprint queue) or ``NoTicketPrinter`` when none."""
    from plugins.tickets.faces import open_device, ticket_printer_id
    from plugins.tickets.settings import settings_of

    settings = settings_of(app)
    device_id = ticket_printer_id(app, (settings.receipt_printer or settings.ticket_printer,))
    with open_device(app, device_id) as printer:
        printer.print_layout(SHIFT_REPORT, report_print_data(report))
    return {"printer": device_id, "shift": report["id"]}


__all__ = ["CASH", "METHOD_LABELS", "NoOpenShift", "SHIFT_REPORT", "ShiftService", "expected_by_method",
           "method_label", "open_shift_id", "print_shift_report", "report_print_data", "require_open_shift_id",
           "signed_money"]
