"""Redemption codes on SQLite and PostgreSQL: issue, redeem on chosen or best seats, pickup by code
and by phone, void, the CSV import of third-party orders (good, wrong rows, the same file again),
the partner's money in the ledger, and the ``redeem`` verb."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from plugins.tickets.core import SaleRefused
from plugins.tickets.models import Order, RedemptionCode, SeatClaim, Ticket
from plugins.tickets.redemption import (RedemptionService, face_data, normalise_code, normalise_phone, redemption_key,
                                        shares)
from plugins.tickets.sales import SalesService
from tests.plugins.test_tickets_distributors import CounterWithPartnerRefunds
from plugins.tickets.setup import SetupService
from suite.audit.models import AuditEvent
from suite.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from suite.ledger import check
from suite.ledger.models import Account
from tests.plugins.test_tickets_distributors import partners_site  # noqa: F401 - the CLI site fixture
from tests.plugins.tickets_fixtures import actor, service, small_cinema, tickets_schema
from tests.sites import Site

CSV = """order,code,session,ticket_type,quantity,phone,paid
MT-1001,AB-12-34-56,S1,ADULT,2,138 0000 1234,90.00
MT-1002,,S1,CHILD,3,+86 139 1111 2222,100
MT-1002,CD789012,S1,ADULT,1,139 1111 2222,45.5
"""


@pytest.fixture
def world(engine, secret_store) -> dict[str, Any]:
    uow = tickets_schema(engine)
    setup = service(SetupService, uow)
    first = small_cinema(setup)
    setup.add_session(actor(), code="S0", programme="FILM1", hall="H1", seat_map="Standard", plan="STD",
                      starts_at=dt.datetime.fromisoformat(first["starts_at"]) + dt.timedelta(hours=3),
                      state="on_sale")  # a later session of the same film
    codes = service(RedemptionService, uow, secrets=secret_store)
    sales = service(SalesService, uow, secrets=secret_store)
    seats = {(s["row_label"], s["seat_label"]): s["id"]
             for s in setup.seat_map(actor(), hall="H1", name="Standard")["seats"]}
    return {"uow": uow, "setup": setup, "codes": codes, "sales": sales, "seats": seats}


def count(uow: Any, model: Any) -> int:
    with uow.read() as unit:
        return int(unit.session.scalar(select(func.count()).select_from(model)))


def ledger_clean(uow: Any) -> None:
    with uow.read() as unit:
        result = check(unit.session)
    assert result.ok, result.problems


def balance_of(uow: Any, owner_type: str, owner_id: str, kind: str) -> int:
    with uow.read() as unit:
        return int(unit.session.scalar(select(Account.balance).where(
            Account.owner_type == owner_type, Account.owner_id == owner_id, Account.kind == kind)) or 0)


def test_helpers() -> None:
    assert normalise_code(" ab-12 34 ") == "AB1234"
    assert normalise_phone("+86 138-0000-1234") == normalise_phone("138 0000 1234") == "13800001234"
    assert shares(10000, 3) == [3334, 3333, 3333] and shares(0, 2) == [0, 0]
    assert redemption_key("ab-1234") == "redeem:AB1234"


def test_issue_pickup_by_phone_and_redeem_on_the_best_seats(world) -> None:
    codes, sales, uow = world["codes"], world["sales"], world["uow"]
    a = actor()
    issued = codes.issue(a, session_code="S1", ticket_type="ADULT", quantity=2, phone="138 0000 1234")
    assert issued == {**issued, "source": "issued", "state": "open", "quantity": 2, "paid": 0, "session": "S1",
                      "phone": "13800001234", "programme": "The River", "order": None}
    assert len(issued["code"]) == 12 and issued["code"].isdigit()
    other = codes.issue(a, ticket_type="CHILD", phone="13800001234", code="gift-0001")
    assert other["code"] == "GIFT0001" and other["session"] == ""
    with pytest.raises(Conflict):
        codes.issue(a, ticket_type="CHILD", code="GIFT-0001")
    with pytest.raises(InvalidInput, match="partner"):
        codes.issue(a, ticket_type="ADULT", paid=5000)

    found = codes.pickup(a, phone="+86 138 0000 1234")
    assert found["by"] == "phone" and [c["code"] for c in found["codes"]] == [issued["code"], "GIFT0001"]
    assert codes.find(a, issued["code"])["by"] == "code"
    assert codes.find(a, "138-0000-1234")["by"] == "phone"
    with pytest.raises(NotFound):
        codes.find(a, "139 9999 9999")
    with pytest.raises(NotFound):
        codes.pickup(a, phone="139 9999 9999")

    k = redemption_key(issued["code"])
    order = codes.redeem(a, code=issued["code"], key=k)
    assert order["channel"] == "redemption" and order["total"] == 0 and order["list_total"] == 10000
    assert order["payments"] == []  # nothing collected: a zero payment is not listed
    places = sorted((t["row"], int(t["seat"])) for t in order["tickets"])
    assert {row for row, _ in places} == {"3"} and places[1][1] == places[0][1] + 1
    assert order["redemption"] == {**order["redemption"], "state": "redeemed", "order": order["order"]}
    assert codes.redeem(a, code=issued["code"], key=k)["replayed"]
    with pytest.raises(Conflict, match="used already"):
        codes.redeem(a, code=issued["code"], key=f"another-{uuid.uuid4()}")
    with pytest.raises(Conflict, match="used already"):
        codes.pickup(a, code=issued["code"])
    assert [c["code"] for c in codes.pickup(a, phone="13800001234")["codes"]] == ["GIFT0001"]
    for ticket in order["tickets"]:
        assert sales.verify(a, ticket["code"])["ok"]
    with uow.read() as unit:
        payment = unit.session.execute(select(Order.customer_phone, Order.channel).where(
            Order.number == order["order"])).one()
    assert tuple(payment) == ("13800001234", "redemption")

    # a code good for any session: the session is chosen when it is redeemed
    with pytest.raises(InvalidInput, match="any session"):
        codes.redeem(a, code="GIFT0001", key=f"k-{uuid.uuid4()}")
    child = codes.redeem(a, code="GIFT0001", key=f"k-{uuid.uuid4()}", session_code="S0")
    assert child["tickets"][0]["session"] == "S0" and child["redemption"]["session"] == "S0"
    with uow.read() as unit:
        actions = list(unit.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("tickets.redeem%")).order_by(AuditEvent.seq)))
    assert actions == ["tickets.redeem.issue", "tickets.redeem.issue", "tickets.redeem", "tickets.redeem"]
    ledger_clean(uow)


def test_a_familys_codes_sit_together(world) -> None:
    codes = world["codes"]
    a = actor()
    adults = codes.issue(a, session_code="S1", ticket_type="ADULT", quantity=2, phone="13800001234")["code"]
    child = codes.issue(a, session_code="S1", ticket_type="CHILD", phone="13800001234")["code"]
    gone = codes.issue(a, session_code="S1", ticket_type="ADULT")["code"]
    codes.void_code(a, gone)
    taken = codes.redeem_together(a, codes=[adults, child, gone])
    assert [(t["row"], int(t["seat"])) for o in taken["orders"] for t in o["tickets"]] == [
        ("3", 3), ("3", 4), ("3", 5)]
    assert taken["refused"] == [{"code": gone, "message": f"Code {gone} is void."}]
    again = codes.redeem_together(a, codes=[adults, child])
    assert [o["replayed"] for o in again["orders"]] == [True, True] and again["refused"] == []


def test_redeem_on_chosen_seats_books_what_the_partner_collected(world) -> None:
    codes, sales, seats, uow = world["codes"], world["sales"], world["seats"], world["uow"]
    a = actor()
    issued = codes.issue(a, session_code="S1", ticket_type="ADULT", quantity=3, paid=10000, partner="Meituan",
                         phone="13912345678")
    with pytest.raises(InvalidInput, match="3 seats"):
        codes.redeem(a, code=issued["code"], key="r-1", seat_ids=[seats[("1", "1")]])
    with pytest.raises(InvalidInput, match="session S1"):
        codes.redeem(a, code=issued["code"], key="r-1", session_code="S0")
    sales.sell(a, session_code="S1", lines=[{"seat_id": seats[("1", "3")], "ticket_type": "ADULT"}],
               payments=[{"method": "cash", "amount": 5000}], key="cash-1")
    with pytest.raises(SaleRefused):  # one of the seats is sold: nothing of the redemption stays
        codes.redeem(a, code=issued["code"], key="r-1",
                     seat_ids=[seats[("1", "1")], seats[("1", "2")], seats[("1", "3")]])
    assert codes.code(a, issued["code"])["state"] == "open" and count(uow, Ticket) == 1
    cashier = actor("tickets.view", "tickets.sell")
    with pytest.raises(PermissionDenied):
        codes.redeem(cashier, code=issued["code"], key="r-1")
    order = codes.redeem(a, code=issued["code"], key="r-1",
                         seat_ids=[seats[("2", "1")], seats[("2", "2")], seats[("2", "3")]])
    assert sorted(t["price"] for t in order["tickets"]) == [3333, 3333, 3334]
    assert order["total"] == 10000 and order["list_total"] == 15000
    assert order["payments"] == [{"method": "redemption", "amount": 10000, "reference": issued["code"]}]
    assert balance_of(uow, "partner", "Meituan", "redemption") == -10000   # the partner owes the venue
    assert balance_of(uow, "venue", "CINEMA-01", "tickets.revenue") == 15000  # 50.00 in cash + 100.00
    assert face_data(order["tickets"][0], notice="Picked up")["notice"] == "Picked up"
    printed = face_data(order["tickets"][0])
    assert printed["hall"] == "Hall 1" and printed["order_number"] == order["order"] and printed["code"]
    ledger_clean(uow)


def test_a_refund_at_the_counter_goes_back_to_the_partner(world, secret_store) -> None:
    codes, uow = world["codes"], world["uow"]
    counter = service(CounterWithPartnerRefunds, uow, secrets=secret_store)
    a = actor()
    issued = codes.issue(a, session_code="S1", ticket_type="ADULT", quantity=2, paid=9000, partner="Meituan")
    order = codes.redeem(a, code=issued["code"], key=redemption_key(issued["code"]))
    assert balance_of(uow, "partner", "Meituan", "redemption") == -9000
    counter.void(a, order_number=order["order"], key="void-1", reason="the partner refunded the customer")
    assert balance_of(uow, "partner", "Meituan", "redemption") == 0
    assert balance_of(uow, "venue", "CINEMA-01", "cash") == 0 and \
        balance_of(uow, "venue", "CINEMA-01", "tickets.revenue") == 0
    assert sorted(p["amount"] for p in counter.order(a, order["order"])["payments"]) == [-9000, 9000]
    ledger_clean(uow)


def test_void(world) -> None:
    codes, uow = world["codes"], world["uow"]
    a = actor()
    first = codes.issue(a, session_code="S1", ticket_type="ADULT")
    second = codes.issue(a, session_code="S1", ticket_type="ADULT")
    with pytest.raises(PermissionDenied):
        codes.void_code(actor("tickets.view", "tickets.sell", "tickets.redeem"), first["code"])
    voided = codes.void_code(a, first["code"], reason="customer cancelled")
    assert voided["state"] == "void" and not voided["replayed"]
    assert codes.void_code(a, first["code"])["replayed"]
    with pytest.raises(Conflict, match="void"):
        codes.redeem(a, code=first["code"], key="v-1")
    with pytest.raises(Conflict, match="void"):
        codes.find(a, first["code"])
    codes.redeem(a, code=second["code"], key="v-2")
    with pytest.raises(Conflict, match="used already"):
        codes.void_code(a, second["code"])
    with pytest.raises(NotFound):
        codes.void_code(a, "NOPE1234")
    assert [c["code"] for c in codes.codes(a, state="void")] == [first["code"]]
    with uow.read() as unit:
        assert unit.session.scalar(select(AuditEvent.action).where(AuditEvent.target == first["code"],
                                                                   AuditEvent.action == "tickets.redeem.void"))


# ---------------------------------------------------------------- the CSV import


def test_import_good_file_then_again(world) -> None:
    codes, uow = world["codes"], world["uow"]
    a = actor()
    done = codes.import_csv(a, CSV.encode("utf-8-sig"), partner="Meituan")
    assert (done["rows"], done["imported"], done["orders"], done["skipped_orders"]) == (3, 3, 2, [])
    made = {(c["external_order"], c["ticket_type"]): c for c in done["codes"]}
    assert made[("MT-1001", "ADULT")] == {**made[("MT-1001", "ADULT")], "code": "AB123456", "quantity": 2,
                                          "paid": 9000, "phone": "13800001234", "source": "imported",
                                          "partner": "Meituan", "session": "S1"}
    assert made[("MT-1002", "CHILD")]["paid"] == 10000 and made[("MT-1002", "CHILD")]["phone"] == "13911112222"
    assert made[("MT-1002", "ADULT")]["paid"] == 4550
    assert count(uow, RedemptionCode) == 3

    again = codes.import_csv(a, CSV, partner="Meituan")
    assert (again["imported"], sorted(again["skipped_orders"])) == (0, ["MT-1001", "MT-1002"])
    assert count(uow, RedemptionCode) == 3
    # the same order numbers from another partner are other orders; their codes may not repeat
    with pytest.raises(InvalidInput) as wrong:
        codes.import_csv(a, CSV, partner="Ctrip")
    assert [e["line"] for e in wrong.value.details["errors"]] == [2, 4]
    # an order changed since it was imported is refused, the rest of the file with it
    changed = CSV.replace("MT-1002,CD789012,S1,ADULT,1", "MT-1002,CD789012,S1,ADULT,2") + \
        "MT-1003,,S1,ADULT,1,13700000000,50\n"
    with pytest.raises(InvalidInput, match="imported before") as refused:
        codes.import_csv(a, changed, partner="Meituan")
    assert [e["line"] for e in refused.value.details["errors"]] == [3, 4]
    assert count(uow, RedemptionCode) == 3

    by_phone = codes.pickup(a, phone="139 1111 2222")
    assert sorted(c["ticket_type"] for c in by_phone["codes"]) == ["ADULT", "CHILD"]
    child = codes.redeem(a, code=made[("MT-1002", "CHILD")]["code"], key="imp-1")
    assert sorted(t["price"] for t in child["tickets"]) == [3333, 3333, 3334]
    assert balance_of(uow, "partner", "Meituan", "redemption") == -10000
    with uow.read() as unit:
        imported = unit.session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "tickets.redeem.import").order_by(AuditEvent.seq)).all()
    assert [json.loads(details)["codes"] for details in imported] == [3, 0]
    ledger_clean(uow)


def test_import_reports_every_wrong_line_and_imports_nothing(world) -> None:
    codes, setup, uow = world["codes"], world["setup"], world["uow"]
    a = actor()
    setup.add_ticket_type(a, code="GROUP", name="Group", category="group", min_quantity=10)
    bad = "\n".join([
        "订单号,兑换码,场次,票种,数量,手机,金额,notes",
        "A-1,GOOD0001,S1,ADULT,1,13800000001,50,fine",
        "A-2,GOOD0002,S9,ADULT,1,13800000002,50,no such session",
        "A-3,GOOD0003,S1,BALCONY,1,13800000003,50,no such type",
        "A-4,GOOD0004,S1,ADULT,0,13800000004,50,no quantity",
        "",
        "A-5,GOOD0005,S1,ADULT,1,13800000005,12.345,three decimals",
        "A-6,,S1,ADULT,1,,50,nothing to pick up with",
        "A-7,GOOD0001,S1,ADULT,1,,50,the code of line 2",
        "A-8,GOOD0008,S1,GROUP,2,,50,a group below its minimum",
        ",GOOD0009,S1,ADULT,1,,50,no order",
    ]) + "\n"
    with pytest.raises(InvalidInput) as refused:
        codes.import_csv(a, bad.encode("gb18030"), partner="Ctrip")
    errors = refused.value.details["errors"]
    assert [e["line"] for e in errors] == [3, 4, 5, 7, 8, 9, 10, 11]
    assert "S9" in errors[0]["message"] and "BALCONY" in errors[1]["message"] and "12.345" in errors[3]["message"]
    assert "line 2" in errors[5]["message"]
    assert "8 rows of the file are wrong" in refused.value.message and "line 3:" in refused.value.message
    assert count(uow, RedemptionCode) == 0
    with pytest.raises(InvalidInput, match="ticket_type"):
        codes.import_csv(a, "order,code\nA-1,X1234\n", partner="Ctrip")
    with pytest.raises(InvalidInput, match="partner"):
        codes.import_csv(a, "order,ticket_type,code\nA-1,ADULT,X1234\n")
    with pytest.raises(InvalidInput, match="no orders"):
        codes.import_csv(a, "order,ticket_type\n\n", partner="Ctrip")
    with pytest.raises(PermissionDenied):
        codes.import_csv(actor("tickets.view", "tickets.redeem"), CSV, partner="Ctrip")
    assert count(uow, RedemptionCode) == 0 and count(uow, Order) == 0 and count(uow, SeatClaim) == 0


# ---------------------------------------------------------------- the command line


def ok(result: Any) -> Any:
    assert result.code == 0, result.err
    return result.json


def test_the_redeem_verb(partners_site: Site, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    run = partners_site.run
    issued = ok(run("--json", "redeem", "issue", "--type", "ADULT", "--session", "S1", "--quantity", "2",
                    "--phone", "138 0000 1234", "--paid", "88.80", "--partner", "Meituan"))
    assert issued["paid"] == 8880 and issued["quantity"] == 2
    orders = tmp_path / "orders.csv"
    orders.write_text(CSV, encoding="utf-8")
    imported = ok(run("--json", "redeem", "import", str(orders), "--partner", "Meituan"))
    assert imported["imported"] == 3
    assert ok(run("--json", "redeem", "import", str(orders), "--partner", "Meituan"))["imported"] == 0
    listed = ok(run("--json", "redeem", "list", "--phone", "13800001234"))
    assert sorted(c["code"] for c in listed) == sorted([issued["code"], "AB123456"])
    found = ok(run("--json", "redeem", "pickup", "--phone", "138 0000 1234"))
    assert len(found["codes"]) == 2
    picked = ok(run("--json", "redeem", "pickup", issued["code"], "--seat", "4-1", "--seat", "4-2"))
    assert [(t["row"], t["seat"], t["price"]) for t in picked["tickets"]] == [("4", "1", 4440), ("4", "2", 4440)]
    again = ok(run("--json", "redeem", "pickup", issued["code"]))
    assert again["replayed"] and again["order"] == picked["order"]
    both = ok(run("--json", "redeem", "pickup", "--phone", "13800001234", "--all"))
    assert [o["redemption"]["code"] for o in both["orders"]] == ["AB123456"] and both["skipped"] == []
    assert ok(run("--json", "redeem", "void", "CD789012", "--reason", "refunded by the partner"))["state"] == "void"
    refused = run("--json", "redeem", "pickup", "CD789012")
    assert refused.code == 1 and refused.json["error"] == "conflict" and "void" in refused.err
    assert [c["code"] for c in ok(run("--json", "redeem", "list", "--state", "void"))] == ["CD789012"]
    broken = tmp_path / "broken.csv"
    broken.write_text("order,ticket_type,quantity\nX-1,ADULT,two\n", encoding="utf-8")
    failed = run("--json", "redeem", "import", str(broken), "--partner", "Meituan")
    assert failed.code == 1 and failed.json["errors"] == [{"line": 2, "message": failed.json["errors"][0]["message"]}]
    app = partners_site.app()
    try:
        with app.uow.read() as unit:
            assert check(unit.session).ok
    finally:
        app.close()
