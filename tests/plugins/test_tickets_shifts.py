"""Cashiers' shifts (T9) on SQLite and PostgreSQL: one open shift per cashier and terminal,
the close reconciled per payment method from the shift's Payment rows (over positive, short
negative), the cashier's report, its print on the virtual printer, permissions and the CLI."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from plugins.tickets.models import Order, Payment, Shift, Ticket, TicketType
from plugins.tickets.setup import SetupService
from plugins.tickets.shifts import (
    NoOpenShift, ShiftService, open_shift_id, print_shift_report, report_print_data, require_open_shift_id,
    signed_money,
)
from printers.device import PaperOut
from printers.virtual import VirtualPrinter
from suite.audit.models import AuditEvent
from suite.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from suite.identity.service import IdentityService
from tests.plugins.tickets_fixtures import actor, service, small_cinema, tickets_schema

OPENED = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.timezone.utc)     # 09:00 in Shanghai


class Clock:
    def __init__(self) -> None:
        self.now = OPENED

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def uow(engine) -> Any:
    uow = tickets_schema(engine)
    small_cinema(service(SetupService, uow))
    return uow


@pytest.fixture
def shifts(uow, clock: Clock) -> ShiftService:
    return service(ShiftService, uow, clock=clock)


def sell(uow: Any, shift_id: uuid.UUID | None, tickets: list[tuple[str, int]], payments: list[tuple[str, int]], *,
         paid: bool = True, cashier: str = "cashier") -> uuid.UUID:
    """An order of ``tickets`` (type code, price) paid with ``payments`` (method, fen), stamped with the shift."""
    with uow() as work:
        session = work.session
        types = {t.code: t.id for t in session.scalars(select(TicketType))}
        number = uuid.uuid4().hex[:12]
        order = Order(number=number, idempotency_key=number, state="paid" if paid else "open", cashier=cashier,
                      shift_id=shift_id, venue_code="CINEMA-01", terminal_code="T01",
                      total=sum(p for _t, p in tickets), paid_at=OPENED if paid else None)
        session.add(order)
        session.flush()
        for code, price in tickets:
            session.add(Ticket(order_id=order.id, serial=uuid.uuid4().hex[:12], ticket_type_id=types[code],
                               list_price=price, price=price, admits=4 if code == "GROUP" else 1))
        for method, amount in payments:
            session.add(Payment(order_id=order.id, method=method, amount=amount, shift_id=shift_id))
        work.commit()
        return order.id


def pay_back(uow: Any, order_id: uuid.UUID, shift_id: uuid.UUID | None, method: str, amount: int) -> None:
    with uow() as work:
        work.session.add(Payment(order_id=order_id, method=method, amount=-amount, shift_id=shift_id))
        work.commit()


def the_day(uow: Any, shift_id: uuid.UUID, other_shift: uuid.UUID | None = None) -> None:
    """Sales and a refund in the shift (and noise outside it):

    cash 50.00 + 2 x 30.00 = 110.00, wallet 80.00, voucher 50.00 + cash 30.00; a cash refund of 30.00."""
    sell(uow, shift_id, [("ADULT", 5000)], [("cash", 5000)])
    sell(uow, shift_id, [("CHILD", 3000), ("CHILD", 3000)], [("cash", 6000)])
    sell(uow, shift_id, [("ADULT", 8000)], [("wallet", 8000)])
    mixed = sell(uow, shift_id, [("ADULT", 5000), ("CHILD", 3000)], [("voucher", 5000), ("cash", 3000)])
    pay_back(uow, mixed, shift_id, "cash", 3000)                       # the child ticket refunded in cash
    sell(uow, shift_id, [("ADULT", 5000)], [], paid=False)            # an order never paid
    sell(uow, other_shift, [("ADULT", 9900)], [("cash", 9900)])        # another shift, or none


# ---------------------------------------------------------------- open


def test_one_open_shift_per_cashier_and_terminal(uow: Any, shifts: ShiftService, clock: Clock) -> None:
    a = actor()
    opened = shifts.open(a, 50000)
    assert (opened["state"], opened["float"], opened["cashier"], opened["terminal"]) == ("open", 50000, "cashier",
                                                                                        "T01")
    assert opened["opened"] == "2026-11-22 09:00"                       # venue time
    with pytest.raises(Conflict, match="cashier already has a shift open at terminal T01 since 2026-11-22 09:00"):
        shifts.open(a, 0)
    assert service(ShiftService, uow, terminal_code="T02").open(a, 0)["terminal"] == "T02"
    assert shifts.open(actor(name="bob"), 0)["cashier"] == "bob"
    assert shifts.current(a)["id"] == opened["id"]
    assert shifts.current(actor(name="carol")) is None
    for bad in (-1, 10.5, "100", True):
        with pytest.raises(InvalidInput, match="opening float"):
            shifts.open(actor(name="dave"), bad)
    with uow.read() as work:
        assert open_shift_id(work.session, "cashier", "T01") == uuid.UUID(opened["id"])
        assert open_shift_id(work.session, "cashier", "T03") is None
        with pytest.raises(NoOpenShift, match="dave has no open shift at terminal T01: open a shift"):
            require_open_shift_id(work.session, "dave", "T01")
        events = work.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "tickets.shift.open")
                                      .order_by(AuditEvent.seq)).all()
    assert len(events) == 3 and json.loads(events[0]) == {"terminal": "T01", "float": 50000}


def test_two_opens_at_once_make_one_shift(uow: Any, clock: Clock) -> None:
    services = [service(ShiftService, uow, clock=clock) for _ in range(4)]
    start = threading.Barrier(len(services))
    outcomes: list[str] = []

    def open_one(shift_service: ShiftService) -> None:
        start.wait()
        try:
            shift_service.open(actor(), 100)
            outcomes.append("opened")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=open_one, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["opened", "refused", "refused", "refused"]
    with uow.read() as work:
        assert len(work.session.scalars(select(Shift).where(Shift.state == "open")).all()) == 1


# ---------------------------------------------------------------- close


def test_close_reconciles_each_method_from_the_payments(uow: Any, shifts: ShiftService, clock: Clock) -> None:
    a = actor()
    other = shifts.open(actor(name="bob"), 0)
    shift = shifts.open(a, 50000)
    shift_id = uuid.UUID(shift["id"])
    the_day(uow, shift_id, uuid.UUID(other["id"]))
    sell(uow, None, [("ADULT", 5000)], [("cash", 5000)])              # no shift at all
    # cash: 500.00 float + 50.00 + 60.00 + 30.00 - 30.00 refund = 610.00
    expected = {"cash": 61000, "wallet": 8000, "voucher": 5000}
    assert shifts.expected(a, shift_id) == expected
    assert shifts.current(a)["expected"] == expected

    with pytest.raises(InvalidInput, match="Count the cash in the drawer"):
        shifts.close(a, {"voucher": 5000})
    with pytest.raises(InvalidInput, match="'cheque' is not a payment method"):
        shifts.close(a, {"cash": 61000, "cheque": 100})
    with pytest.raises(InvalidInput, match="amount counted for Voucher must be a whole number"):
        shifts.close(a, {"cash": 61000, "voucher": 49.5})

    clock.now = OPENED + dt.timedelta(hours=8)
    closed = shifts.close(a, {"cash": 61250, "voucher": 4500}, note="a 5.00 voucher lost; 2.50 over in coins")
    assert closed["state"] == "closed" and closed["closed"] == "2026-11-22 17:00"
    assert closed["expected"] == expected
    assert closed["counted"] == {"cash": 61250, "voucher": 4500}               # wallet: nothing to count
    assert closed["difference"] == {"cash": 250, "voucher": -500}             # over +2.50, short -5.00
    assert closed["over_short"] == -250
    with uow.read() as work:
        row = work.session.get_one(Shift, shift_id)
        assert (row.state, row.over_short, json.loads(row.expected), json.loads(row.counted)) == (
            "closed", -250, expected, {"cash": 61250, "voucher": 4500})
        target, details = work.session.execute(select(AuditEvent.target, AuditEvent.details)
                                               .where(AuditEvent.action == "tickets.shift.close")).one()
    details = json.loads(details)
    assert (target, details["over_short"], details["difference"]) == (shift["id"], -250,
                                                                             {"cash": 250, "voucher": -500})
    with pytest.raises(NoOpenShift, match="no open shift at terminal T01 to close"):
        shifts.close(a, {"cash": 0})
    assert shifts.current(a) is None
    with uow.read() as work:
        assert open_shift_id(work.session, "cashier", "T01") is None        # later sales are not stamped with it
    assert shifts.open(a, 20000)["float"] == 20000                            # the next shift
    assert signed_money(250) == "+2.50" and signed_money(-500) == "-5.00" and signed_money(0) == "0.00"


def test_an_even_close_with_no_sales(shifts: ShiftService) -> None:
    a = actor()
    shifts.open(a, 30000)
    closed = shifts.close(a, {"cash": 30000})
    assert (closed["expected"], closed["difference"], closed["over_short"]) == ({"cash": 30000}, {"cash": 0}, 0)


# ---------------------------------------------------------------- the report


def test_the_cashiers_report(uow: Any, shifts: ShiftService, clock: Clock) -> None:
    a = actor()
    shift = shifts.open(a, 50000)
    the_day(uow, uuid.UUID(shift["id"]))
    with uow() as work:
        work.session.add(TicketType(code="GROUP", name="Group of 4", category="group"))
        work.commit()
    sell(uow, uuid.UUID(shift["id"]), [("GROUP", 12000)], [("distributor", 12000)])

    running = shifts.report(a)                                       # the open shift, so far
    assert running["state"] == "open" and running["counted"] == {} and running["over_short"] == 0
    assert running["expected"]["cash"] == 61000

    clock.now = OPENED + dt.timedelta(hours=8)
    shifts.close(a, {"cash": 60900}, note="short 1.00")
    report = shifts.report(a, shift["id"])
    assert report == shifts.report(a)                                # the last one closed here
    assert (report["orders"], report["tickets"], report["admits"], report["sales"]) == (5, 7, 10, 39000)
    assert report["by_ticket_type"] == [
        {"code": "ADULT", "name": "Adult", "tickets": 3, "admits": 3, "amount": 18000},
        {"code": "CHILD", "name": "Child", "tickets": 3, "admits": 3, "amount": 9000},
        {"code": "GROUP", "name": "Group of 4", "tickets": 1, "admits": 4, "amount": 12000}]
    assert report["by_method"] == [
        {"method": "cash", "label": "Cash", "taken": 14000, "refunded": 3000, "net": 11000, "expected": 61000,
         "counted": 60900, "difference": -100},
        {"method": "wallet", "label": "Card wallet", "taken": 8000, "refunded": 0, "net": 8000, "expected": 8000,
         "counted": None, "difference": None},
        {"method": "voucher", "label": "Voucher", "taken": 5000, "refunded": 0, "net": 5000, "expected": 5000,
         "counted": None, "difference": None},
        {"method": "distributor", "label": "Distributor account", "taken": 12000, "refunded": 0, "net": 12000,
         "expected": 12000, "counted": None, "difference": None}]
    assert report["refunds"] == {"count": 1, "amount": 3000}
    assert (report["taken"], report["net"], report["over_short"], report["note"]) == (39000, 36000, -100,
                                                                                     "short 1.00")
    printed = report_print_data(report)
    assert printed["reconciliation"][:3] == [{"left": "Cash expected", "right": "610.00"},
                                             {"left": "Cash counted", "right": "609.00"},
                                             {"left": "Cash over/short", "right": "-1.00"}]
    assert printed["over_short_text"] == "-1.00" and printed["count"] == 1

    with pytest.raises(NotFound, match="no shift"):
        shifts.report(a, "not-an-id")
    with pytest.raises(NotFound, match="carol has no shift at terminal T01"):
        shifts.report(actor(name="carol"))


def test_permissions(uow: Any, shifts: ShiftService) -> None:
    a = actor()
    shift = shifts.open(a, 0)
    gate = actor("tickets.view", "tickets.verify", name="gate")
    with pytest.raises(PermissionDenied):
        shifts.open(gate, 0)
    with pytest.raises(PermissionDenied):
        shifts.close(gate, {"cash": 0})
    with pytest.raises(PermissionDenied):
        shifts.current(gate)
    finance = actor("tickets.view", name="finance")
    assert shifts.report(finance, shift["id"])["cashier"] == "cashier"   # another's report: tickets.view
    assert shifts.expected(finance, shift["id"]) == {"cash": 0}
    colleague = actor("tickets.shift", "tickets.sell", name="colleague")
    with pytest.raises(PermissionDenied):
        shifts.report(colleague, shift["id"])
    nobody = actor("tickets.sell", name="nobody")
    with pytest.raises(PermissionDenied):
        shifts.report(nobody, shift["id"])
    with uow.read() as work:
        denied = work.session.scalars(select(AuditEvent).where(AuditEvent.action == "permission.denied")).all()
    assert len(denied) == 5


# ---------------------------------------------------------------- printing and the CLI


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualPrinter]:
    printer = VirtualPrinter(tmp_path / "jobs", paper_mm=80, port=0).start()
    yield printer
    printer.stop()


def counter_app(uow: Any, tmp_path: Path, virtual: VirtualPrinter) -> SimpleNamespace:
    """The application as the CLI has it: no device host, so printers open for the job."""
    printer = {"kind": "escpos-printer", "host": "127.0.0.1", "port": virtual.port, "timeout": 0.5,
               "poll_seconds": 0, "queue_dir": str(tmp_path / "queue")}
    settings = SimpleNamespace(devices={"tickets": dict(printer), "receipts": dict(printer)}, data_dir=tmp_path,
                               plugins={"tickets": {"receipt_printer": "receipts"}},
                               terminal=SimpleNamespace(venue_code="CINEMA-01", terminal_code="T01"))
    return SimpleNamespace(settings=settings, extras={}, uow=uow, identity=IdentityService(uow), plugins=None,
                           secrets=None, venue_id=None, terminal_id=None)


def test_the_report_prints_on_the_receipt_printer(uow: Any, shifts: ShiftService, tmp_path: Path,
                                                  virtual: VirtualPrinter) -> None:
    a = actor()
    shift = shifts.open(a, 50000)
    the_day(uow, uuid.UUID(shift["id"]))
    shifts.close(a, {"cash": 61250, "voucher": 4500})
    app = counter_app(uow, tmp_path, virtual)
    assert print_shift_report(app, shifts.report(a)) == {"printer": "receipts", "shift": shift["id"]}
    [job] = virtual.wait_for_jobs(1)
    text = [line for line in job.transcript.splitlines() if not line.startswith("[")]
    assert job.errors == () and "Cashier's shift report" in text
    assert any(line.startswith("Adult x3") and line.endswith("180.00") for line in text)
    assert any(line.startswith("Refunds (1)") and line.endswith("-30.00") for line in text)
    assert any(line.startswith("Cash over/short") and line.endswith("+2.50") for line in text)
    assert any(line.startswith("Voucher over/short") and line.endswith("-5.00") for line in text)
    assert any(line.startswith("Over (+) / short (-)") and line.endswith("-2.50") for line in text)
    virtual.state.paper = "out"
    with pytest.raises(PaperOut, match="out of paper.*reprint queue as number 1"):
        print_shift_report(app, shifts.report(a))


def test_the_cli(uow: Any, tmp_path: Path, virtual: VirtualPrinter, clock: Clock) -> None:
    from plugins.tickets.cli_counter import configure_shift, run, yuan_to_fen

    app = counter_app(uow, tmp_path, virtual)
    parser = argparse.ArgumentParser()
    parser.add_argument("--user")
    sub = parser.add_subparsers(dest="verb")
    configure_shift(sub.add_parser("shift"))

    def cli(*words: str) -> Any:
        return run(app, parser.parse_args(["shift", *words]))

    assert yuan_to_fen("500") == 50000 and yuan_to_fen("0.5") == 50 and yuan_to_fen("12.05") == 1205
    with pytest.raises(SystemExit):
        parser.parse_args(["shift", "open", "--float", "12.345"])
    assert cli("current")["shift"] is None
    opened = cli("open", "--float", "500.00")
    assert (opened["float"], opened["cashier"]) == (50000, "system")          # the console's operator
    the_day(uow, uuid.UUID(opened["id"]))
    with pytest.raises(InvalidInput, match="cash is counted twice"):
        cli("close", "--cash", "612.50", "--count", "cash=1")
    with pytest.raises(SystemExit):
        parser.parse_args(["shift", "close", "--cash", "612.50", "--count", "voucher"])
    assert cli("current")["expected"] == {"cash": 61000, "wallet": 8000, "voucher": 5000}
    closed = cli("close", "--cash", "612.50", "--count", "voucher=45", "--note", "see report", "--print")
    assert (closed["over_short"], closed["difference"]) == (-250, {"cash": 250, "voucher": -500})
    assert closed["printed"] == {"printer": "receipts", "shift": opened["id"]}
    report = cli("report", opened["id"])
    assert (report["sales"], report["note"]) == (27000, "see report")
    assert "printed" in cli("report", "--print")
    assert len(virtual.wait_for_jobs(2)) == 2
