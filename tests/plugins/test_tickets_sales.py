"""Selling at the counter on SQLite and PostgreSQL: holds, the sale with cash, card and voucher
tenders, no seat sold twice, refund, void, exchange, reprint and code verification."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

import plugins.wallet as wallet_plugin
from plugins.tickets.core import SaleRefused, SeatTaken
from plugins.tickets.models import SeatClaim, Ticket
from plugins.tickets.sales import SalesService
from plugins.tickets.setup import SetupService
from plugins.wallet.services import WalletService
from suite.audit.models import AuditEvent
from suite.errors import Conflict, InvalidInput, PermissionDenied
from suite.identity.service import IdentityService
from suite.ledger import check
from tests.plugins.tickets_fixtures import ALL_TICKETS, actor, service, small_cinema, tickets_schema


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def world(engine, secret_store):
    uow = tickets_schema(engine, with_wallet=True)
    setup = service(SetupService, uow)
    small_cinema(setup)
    clock = Clock()
    sales = service(SalesService, uow, secrets=secret_store, clock=clock)
    other = service(SalesService, uow, secrets=secret_store, clock=clock, terminal_code="T02")
    seats = {(s["row_label"], s["seat_label"]): s["id"] for s in setup.seat_map(actor(), hall="H1", name="Standard")["seats"]}
    return {"uow": uow, "setup": setup, "sales": sales, "other": other, "seats": seats, "clock": clock}


def key() -> str:
    return f"sale-{uuid.uuid4()}"


def cash(amount: int) -> list[dict]:
    return [{"method": "cash", "amount": amount}]


def ledger_clean(uow) -> None:
    with uow.read() as unit:
        assert check(unit.session).ok


def test_sell_two_seats_for_cash_with_signed_codes(world) -> None:
    sales, seats = world["sales"], world["seats"]
    a = actor()
    lines = [{"seat_id": seats[("1", "3")], "ticket_type": "ADULT"}, {"seat_id": seats[("1", "4")], "ticket_type": "CHILD"}]
    assert sales.quote(a, session_code="S1", lines=lines)["total"] == 8000
    k = key()
    order = sales.sell(a, session_code="S1", lines=lines, payments=cash(8000), key=k)
    assert order["state"] == "paid" and order["total"] == 8000 and len(order["tickets"]) == 2
    assert {(t["row"], t["seat"], t["price"]) for t in order["tickets"]} == {("1", "3", 5000), ("1", "4", 3000)}
    again = sales.sell(a, session_code="S1", lines=lines, payments=cash(8000), key=k)
    assert again["replayed"] and again["order"] == order["order"]
    for ticket in order["tickets"]:
        verdict = sales.verify(a, ticket["code"])
        assert verdict["ok"] and verdict["seat"] == ticket["seat"] and verdict["session"] == "S1"
    states = sales.seat_states(a, "S1")["states"]
    assert states[seats[("1", "3")]] == "sold" and states[seats[("1", "5")]] == "free"
    vip = sales.quote(a, session_code="S1", lines=[{"seat_id": seats[("5", "1")], "ticket_type": "ADULT"}])
    assert vip["total"] == 8000  # the VIP zone's own price
    ledger_clean(world["uow"])


def test_a_seat_is_never_sold_twice_and_holds_expire(world) -> None:
    sales, other, seats, clock = world["sales"], world["other"], world["seats"], world["clock"]
    a = actor()
    seat = seats[("2", "2")]
    sales.hold(a, session_code="S1", seat_ids=[seat], token="t01")
    assert other.seat_states(a, "S1")["states"][seat] == "held"
    assert sales.seat_states(a, "S1", hold_token="t01")["states"][seat] == "mine"
    with pytest.raises(SeatTaken):
        other.hold(a, session_code="S1", seat_ids=[seat], token="t02")
    with pytest.raises(SeatTaken):
        other.sell(a, session_code="S1", lines=[{"seat_id": seat, "ticket_type": "ADULT"}], payments=cash(5000),
                   key=key())
    clock.now += dt.timedelta(minutes=11)  # the hold ran out
    sold = other.sell(a, session_code="S1", lines=[{"seat_id": seat, "ticket_type": "ADULT"}], payments=cash(5000),
                      key=key())
    assert sold["state"] == "paid"
    with pytest.raises(SeatTaken, match="row 2 seat 2"):
        sales.sell(a, session_code="S1", lines=[{"seat_id": seat, "ticket_type": "ADULT"}], payments=cash(5000),
                   key=key(), hold_token="t01")
    # one failing seat refuses the whole order: the free seat beside it stays free
    with pytest.raises(SeatTaken):
        sales.sell(a, session_code="S1", lines=[{"seat_id": seats[("2", "3")], "ticket_type": "ADULT"},
                                                {"seat_id": seat, "ticket_type": "ADULT"}],
                   payments=cash(10000), key=key())
    assert sales.seat_states(a, "S1")["states"][seats[("2", "3")]] == "free"
    with world["uow"].read() as unit:
        assert unit.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_refusals(world) -> None:
    sales, setup, seats = world["sales"], world["setup"], world["seats"]
    a = actor()
    line = [{"seat_id": seats[("3", "1")], "ticket_type": "ADULT"}]
    with pytest.raises(InvalidInput, match="add up"):
        sales.sell(a, session_code="S1", lines=line, payments=cash(4000), key=key())
    with pytest.raises(InvalidInput):
        sales.sell(a, session_code="S1", lines=line, payments=[{"method": "cheque", "amount": 5000}], key=key())
    setup.edit_seats(a, hall="H1", name="Standard", kind="locked_press", kind_cells=[(3, 0)])
    with pytest.raises(SeatTaken, match="locked"):
        sales.sell(a, session_code="S1", lines=[{"seat_id": seats[("4", "1")], "ticket_type": "ADULT"}],
                   payments=cash(5000), key=key())
    setup.set_session_state(a, "S1", "stopped")
    with pytest.raises(SaleRefused, match="stopped"):
        sales.sell(a, session_code="S1", lines=line, payments=cash(5000), key=key())
    with pytest.raises(PermissionDenied):
        sales.sell(actor("tickets.view"), session_code="S1", lines=line, payments=cash(5000), key=key())


def test_refund_void_exchange_and_reprint(world) -> None:
    sales, seats = world["sales"], world["seats"]
    a = actor()
    order = sales.sell(a, session_code="S1", payments=cash(15000), key=key(), lines=[
        {"seat_id": seats[("1", s)], "ticket_type": "ADULT"} for s in ("1", "2", "3")])
    first, second, third = (t["serial"] for t in order["tickets"])
    code = order["tickets"][0]["code"]
    refunded = sales.refund(a, serials=[first], key=(k := key()), reason="changed plans")
    assert refunded["state"] == "partly_refunded" and refunded["amount"] == 5000
    assert sales.refund(a, serials=[first], key=k)["replayed"]
    assert sales.verify(a, code)["reason"] == "refunded"
    assert sales.seat_states(a, "S1")["states"][seats[("1", "1")]] == "free"
    assert first in sales.revoked(a)
    with pytest.raises(Conflict):
        sales.refund(a, serials=[first], key=key())
    cashier = actor("tickets.view", "tickets.sell", "tickets.reprint")
    with pytest.raises(PermissionDenied):
        sales.refund(cashier, serials=[second], key=key())
    exchanged = sales.exchange(a, serial=second, session_code="S1", seat_id=seats[("5", "4")], key=key())
    assert exchanged["difference"] == 3000 and exchanged["new"]["seat"] == "4"  # VIP costs 30.00 more
    assert sales.verify(a, order["tickets"][1]["code"])["reason"] == "refunded"  # the old code is revoked
    reprinted = sales.reprint(cashier, serials=[third], reason="paper jam")
    assert reprinted[0]["reprint"] and reprinted[0]["printed"] == 2
    voided = sales.void(a, order_number=order["order"], key=key())
    assert voided["state"] == "voided" and set(voided["tickets"]) == {third, exchanged["new"]["serial"]}
    with world["uow"].read() as unit:
        actions = set(unit.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("tickets.%"))))
        assert {"tickets.sell", "tickets.refund", "tickets.exchange", "tickets.reprint", "tickets.void"} <= actions
        assert unit.session.scalar(select(func.count()).select_from(SeatClaim)) == 0
    ledger_clean(world["uow"])


def test_card_and_voucher_tenders_and_refund_to_the_card(world) -> None:
    sales, seats, uow = world["sales"], world["seats"], world["uow"]
    a = actor(*ALL_TICKETS, *(p.id for p in wallet_plugin.PERMISSIONS))
    wallet = WalletService(uow, IdentityService(uow), venue_code="CINEMA-01")
    wallet.create_card_type(a, code="GOLD", name="Gold", discount_bp=1000)
    wallet.issue(a, card_no="C1", type_code="GOLD", key=key())
    wallet.top_up(a, card_no="C1", key=key(), amount=6000)
    voucher = sales.issue_voucher(a, value=2000, key=key())
    order = sales.sell(a, session_code="S1", key=key(), lines=[
        {"seat_id": seats[("2", "5")], "ticket_type": "ADULT"}, {"seat_id": seats[("2", "6")], "ticket_type": "ADULT"}],
        payments=[{"method": "wallet", "amount": 4000, "reference": "C1"},
                  {"method": "voucher", "amount": 2000, "reference": voucher["code"]},
                  {"method": "cash", "amount": 3000}])
    # the paying card's tier (gold, 10% off) is in the prices: 2 x 45.00
    assert order["total"] == 9000 and order["tickets"][0]["price"] == 4500
    assert {p["method"]: p["amount"] for p in order["payments"]} == {"wallet": 4000, "voucher": 2000, "cash": 3000}
    assert wallet.query(a, "C1")["balances"]["main"] == 2000  # net: the card is not discounted twice
    with pytest.raises(SaleRefused, match="Voucher"):
        sales.sell(a, session_code="S1", key=key(), lines=[{"seat_id": seats[("2", "7")], "ticket_type": "CHILD"}],
                   payments=[{"method": "voucher", "amount": 2000, "reference": voucher["code"]},
                             {"method": "cash", "amount": 1000}])
    # the card cannot pay more than it holds: nothing of the order stays
    with pytest.raises(Exception):
        sales.sell(a, session_code="S1", key=key(), lines=[{"seat_id": seats[("2", "8")], "ticket_type": "ADULT"}],
                   payments=[{"method": "wallet", "amount": 4500, "reference": "C1"}])
    assert sales.seat_states(a, "S1")["states"][seats[("2", "8")]] == "free"
    sales.refund(a, serials=[order["tickets"][0]["serial"]], key=key())
    assert wallet.query(a, "C1")["balances"]["main"] == 6000  # the card's 40.00 came back to the card
    ledger_clean(uow)


def test_cli_sells_refunds_and_verifies(site) -> None:
    from tests.plugins.tickets_fixtures import small_cinema as cinema

    def ok(*args: str):
        result = site.run("--json", *args)
        assert result.code == 0, result.err + result.out
        return result.json

    with site.app() as app:
        cinema(SetupService.from_app(app))
    assert ok("ticket", "quote", "S1", "--seat", "1-1", "--seat", "5-2")["total"] == 5000 + 8000
    sold = ok("ticket", "sell", "S1", "--seat", "1-1", "--seat", "1-2", "--type", "ADULT", "--type", "CHILD",
              "--cash", "80", "--key", "cli-sale-1")
    assert sold["total"] == 8000 and [t["ticket_type"] for t in sold["tickets"]] == ["Adult", "Child"]
    assert ok("ticket", "sell", "S1", "--seat", "1-1", "--seat", "1-2", "--type", "ADULT", "--type", "CHILD",
              "--cash", "80", "--key", "cli-sale-1")["replayed"] is True
    taken = site.run("--json", "ticket", "sell", "S1", "--seat", "1-1", "--cash", "50")
    assert taken.code == 1 and taken.json["error"] == "seat_taken"
    code = sold["tickets"][0]["code"]
    assert ok("ticket", "verify", code)["ok"] is True
    ok("ticket", "refund", sold["tickets"][0]["serial"])
    assert ok("ticket", "verify", code)["reason"] == "refunded"
    forged = ok("ticket", "verify", code[:-4] + "AAAA")
    assert forged["reason"] == "forged"
    voucher = ok("voucher", "issue", "--value", "30")
    assert voucher["value"] == 3000
    assert ok("ticket", "sell", "S1", "--seat", "2-1", "--type", "CHILD", "--voucher",
              f"{voucher['code']}=30")["total"] == 3000
    ok("package", "add", "TEN", "Ten entries", "--price", "300", "--entries", "10")
    packs = ok("ticket", "package", "TEN", "--quantity", "2", "--cash", "600")
    assert packs["total"] == 60000 and [t["admits"] for t in packs["tickets"]] == [10, 10]
    bad = site.run("--json", "ticket", "sell", "S1", "--seat", "9-9", "--cash", "50")
    assert bad.code == 1 and "9-9" in bad.json["message"]
    checked = site.run("--json", "ledger", "check")
    assert checked.code == 0, checked.out


def test_combos_and_packages_are_sold(world) -> None:
    from plugins.tickets.offers import OffersService

    sales, seats, uow = world["sales"], world["seats"], world["uow"]
    a = actor()
    offers = service(OffersService, uow)
    offers.add_combo(a, code="POP", name="Ticket + popcorn", ticket_type="ADULT", price=6500, goods="Popcorn M",
                     goods_value=1500)
    offers.add_package(a, code="FIVE", name="Five films", price=20000, entries=5, valid_days=90)
    lines = [{"seat_id": seats[("3", "3")], "combo": "POP"}, {"seat_id": seats[("3", "4")], "ticket_type": "CHILD"}]
    assert sales.quote(a, session_code="S1", lines=lines)["total"] == 6500 + 3000
    order = sales.sell(a, session_code="S1", lines=lines, payments=cash(9500), key=key())
    combo = next(t for t in order["tickets"] if t["price"] == 6500)
    assert combo["notice"] == "Popcorn M" and combo["seat"] == "3"
    with pytest.raises(InvalidInput, match="combo"):
        sales.quote(a, session_code="S1", lines=[{"seat_id": seats[("3", "5")], "combo": "NOPE"}])
    packs = sales.sell_packages(a, package="FIVE", quantity=2, payments=cash(40000), key=(k := key()))
    assert packs["total"] == 40000 and [t["admits"] for t in packs["tickets"]] == [5, 5]
    assert packs["tickets"][0]["seat"] == "" and packs["tickets"][0]["notice"] == "Five films"
    assert sales.sell_packages(a, package="FIVE", quantity=2, payments=cash(40000), key=k)["replayed"]
    verdict = sales.verify(a, packs["tickets"][0]["code"])
    assert verdict["ok"] and verdict["admits"] == 5 and verdict["session"] == "package:FIVE"
    with pytest.raises(InvalidInput, match="add up"):
        sales.sell_packages(a, package="FIVE", payments=cash(100), key=key())
    sales.refund(a, serials=[packs["tickets"][1]["serial"]], key=key())
    assert sales.verify(a, packs["tickets"][1]["code"])["reason"] == "refunded"
    ledger_clean(uow)
