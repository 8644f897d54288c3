"""Distributors on SQLite and PostgreSQL: contracts, the prepaid account (top-ups, the floor that
refuses a booking whole), bookings in net and rebate mode, the review queue (approve, reject),
best available seats, reconciliation (service and report), and the ``distributor`` verb."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from plugins.tickets.core import SaleRefused
from plugins.tickets.distributors import RECONCILIATION, DistributorService, pay_back_partner
from plugins.tickets.models import Booking, Order, Payment, SeatClaim, Ticket
from plugins.tickets.sales import SalesService
from plugins.tickets.setup import SetupService
from suite.audit.models import AuditEvent
from suite.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from suite.ledger import check
from suite.ledger.models import Account, Entry
from suite.reporting.spec import ReportContext
from tests.plugins.tickets_fixtures import SHANGHAI, actor, service, small_cinema, tickets_schema
from tests.sites import Site, write_site

ADMIN_PASSWORD = "correct-horse-42"


@pytest.fixture
def world(engine, secret_store) -> dict[str, Any]:
    uow = tickets_schema(engine)
    setup = service(SetupService, uow)
    small_cinema(setup)
    partners = service(DistributorService, uow, secrets=secret_store)
    sales = service(SalesService, uow, secrets=secret_store)
    seats = {(s["row_label"], s["seat_label"]): s["id"]
             for s in setup.seat_map(actor(), hall="H1", name="Standard")["seats"]}
    return {"uow": uow, "setup": setup, "partners": partners, "sales": sales, "seats": seats}


def key() -> str:
    return f"test-{uuid.uuid4()}"


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


def lines(seats: dict, *picks: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"seat_id": seats[(row, seat)], "ticket_type": kind} for row, seat, kind in picks]


def travel(partners: DistributorService, **kw: Any) -> dict[str, Any]:
    """Distributor TRAVEL: net mode, children 20 % off, every other category 10 % off, warn below 200.00."""
    values = {"code": "TRAVEL", "name": "Sunny Travel", "mode": "net", "warn_below": 20000,
              "discounts": {"child": 2000, "*": 1000}, **kw}
    return partners.add_distributor(actor(), **values)


# ---------------------------------------------------------------- contracts and top-ups


def test_contracts_and_top_ups(world) -> None:
    partners, uow = world["partners"], world["uow"]
    a = actor()
    made = travel(partners)
    assert made == {**made, "code": "TRAVEL", "mode": "net", "balance": 0, "low": True,
                    "discounts": {"*": 1000, "child": 2000}}
    with pytest.raises(Conflict):
        travel(partners)
    with pytest.raises(InvalidInput):
        partners.add_distributor(a, code="BAD", name="Bad", mode="cheap")
    with pytest.raises(InvalidInput):
        partners.set_discount(a, "TRAVEL", category="pensioner", discount_bp=500)
    with pytest.raises(InvalidInput):
        partners.set_discount(a, "TRAVEL", category="adult", discount_bp=10001)
    cashier = actor("tickets.view", "tickets.sell")
    with pytest.raises(PermissionDenied):
        partners.top_up(cashier, "TRAVEL", amount=10000, key=key())
    with pytest.raises(PermissionDenied):
        partners.add_distributor(cashier, code="X", name="X")

    k = key()
    topped = partners.top_up(a, "TRAVEL", amount=30000, key=k, memo="bank transfer 0042")
    assert topped == {**topped, "balance": 30000, "amount": 30000, "replayed": False, "low": False, "warning": ""}
    again = partners.top_up(a, "TRAVEL", amount=30000, key=k)
    assert again["replayed"] and again["balance"] == 30000
    assert balance_of(uow, "venue", "CINEMA-01", "cash") == -30000
    with uow.read() as unit:
        account = unit.session.scalars(select(Account).where(Account.owner_type == "distributor")).one()
        assert (account.owner_id, account.kind, account.floor, account.balance) == ("TRAVEL", "prepaid", 0, 30000)

    edited = partners.edit_distributor(a, "TRAVEL", warn_below=50000, contact="Ms Li 139 0000 0000")
    assert edited["low"] and edited["warn_below"] == 50000 and edited["contact"].startswith("Ms Li")
    assert partners.set_discount(a, "TRAVEL", category="senior", discount_bp=2500)["discounts"] == {
        "*": 1000, "child": 2000, "senior": 2500}
    assert partners.set_discount(a, "TRAVEL", category="senior", discount_bp=None)["discounts"] == {
        "*": 1000, "child": 2000}
    with pytest.raises(NotFound):
        partners.set_discount(a, "TRAVEL", category="senior", discount_bp=None)
    partners.edit_distributor(a, "TRAVEL", active=False)
    assert partners.list_distributors(a) == []
    assert [d["code"] for d in partners.list_distributors(a, include_inactive=True)] == ["TRAVEL"]
    with pytest.raises(SaleRefused, match="not active"):
        partners.book(a, distributor="TRAVEL", session_code="S1", key=key(), ticket_type="ADULT", quantity=1)
    with uow.read() as unit:
        actions = list(unit.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("tickets.distributor.%")).order_by(AuditEvent.seq)))
    assert actions == ["tickets.distributor.add", "tickets.distributor.topup", "tickets.distributor.edit",
                       "tickets.distributor.discount", "tickets.distributor.discount", "tickets.distributor.edit"]
    ledger_clean(uow)


# ---------------------------------------------------------------- net mode and the floor


def test_net_booking_charges_the_contract_price_and_warns_when_low(world) -> None:
    partners, sales, seats, uow = world["partners"], world["sales"], world["seats"], world["uow"]
    a = actor()
    travel(partners)
    partners.top_up(a, "TRAVEL", amount=30000, key=key())
    booked = partners.book(a, distributor="TRAVEL", session_code="S1", key=(k := key()), note="group from Hangzhou",
                           lines=lines(seats, ("2", "1", "ADULT"), ("2", "2", "ADULT"), ("2", "3", "CHILD")))
    # adults 50.00 - 10 % = 45.00, the child 30.00 - 20 % = 24.00
    assert booked["channel"] == "distributor" and booked["state"] == "paid"
    assert sorted(t["price"] for t in booked["tickets"]) == [2400, 4500, 4500]
    assert booked["list_total"] == 13000 and booked["total"] == 11400
    assert booked["payments"] == [{"method": "distributor", "amount": 11400, "reference": "TRAVEL"}]
    assert booked["booking"] == {**booked["booking"], "state": "approved", "mode": "net", "gross": 13000,
                                 "charged": 11400, "rebate": 0, "net": 11400, "tickets": 3, "session": "S1"}
    assert booked["balance"] == 18600 and booked["low"]
    assert "186.00" in booked["warning"] and "200.00" in booked["warning"]
    assert partners.queue(a) == []  # net bookings never wait
    replay = partners.book(a, distributor="TRAVEL", session_code="S1", key=k,
                           lines=lines(seats, ("2", "1", "ADULT")))
    assert replay["replayed"] and replay["order"] == booked["order"] and replay["balance"] == 18600
    assert balance_of(uow, "venue", "CINEMA-01", "tickets.revenue") == 11400
    assert sales.seat_states(a, "S1")["states"][seats[("2", "3")]] == "sold"
    for ticket in booked["tickets"]:
        assert sales.verify(a, ticket["code"])["ok"]
    with pytest.raises(Conflict, match="approved"):
        partners.reject(a, booked["order"])
    ledger_clean(uow)


def test_a_booking_the_account_cannot_pay_leaves_nothing(world) -> None:
    partners, sales, seats, uow = world["partners"], world["sales"], world["seats"], world["uow"]
    a = actor()
    travel(partners)
    partners.top_up(a, "TRAVEL", amount=8999, key=key())
    before = {model: count(uow, model) for model in (Order, Ticket, SeatClaim, Payment, Booking, Entry, AuditEvent)}
    with pytest.raises(SaleRefused) as refused:
        partners.book(a, distributor="TRAVEL", session_code="S1", key=key(),
                      lines=lines(seats, ("3", "4", "ADULT"), ("3", "5", "ADULT")))  # 2 x 45.00 = 90.00
    assert refused.value.details["reason"] == "distributor_balance"
    assert refused.value.details["balance"] == 8999 and refused.value.details["needed"] == 9000
    assert "89.99" in refused.value.message and "90.00" in refused.value.message
    assert {model: count(uow, model) for model in before} == before
    assert balance_of(uow, "distributor", "TRAVEL", "prepaid") == 8999
    states = sales.seat_states(a, "S1")["states"]
    assert states[seats[("3", "4")]] == states[seats[("3", "5")]] == "free"
    # one fen more and the same booking goes through, leaving exactly 0
    partners.top_up(a, "TRAVEL", amount=1, key=key())
    done = partners.book(a, distributor="TRAVEL", session_code="S1", key=key(),
                         lines=lines(seats, ("3", "4", "ADULT"), ("3", "5", "ADULT")))
    assert done["balance"] == 0 and done["low"]
    with pytest.raises(SaleRefused, match="0.00"):
        partners.book(a, distributor="TRAVEL", session_code="S1", key=key(), ticket_type="CHILD", quantity=1)
    ledger_clean(uow)


def test_two_counters_booking_at_once_cannot_overdraw_the_account(world) -> None:
    import threading

    partners, seats, uow = world["partners"], world["seats"], world["uow"]
    a = actor()
    travel(partners, warn_below=0)
    partners.top_up(a, "TRAVEL", amount=9000, key=key())   # enough for one of the two bookings
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def book(row: str) -> None:
        start.wait()
        try:
            outcomes.append(partners.book(a, distributor="TRAVEL", session_code="S1", key=key(),
                                          lines=lines(seats, (row, "1", "ADULT"), (row, "2", "ADULT"))))
        except Exception as exc:  # noqa: BLE001 - the refusal is the outcome looked for
            outcomes.append(exc)

    threads = [threading.Thread(target=book, args=(row,)) for row in ("1", "2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    booked = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if not isinstance(o, dict)]
    assert len(booked) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], SaleRefused) and refused[0].details["reason"] == "distributor_balance"
    assert balance_of(uow, "distributor", "TRAVEL", "prepaid") == 0
    assert count(uow, Ticket) == 2 and count(uow, Booking) == 1 and count(uow, SeatClaim) == 2
    ledger_clean(uow)


# ---------------------------------------------------------------- rebate mode and the review queue


def test_rebate_mode_approve_and_reject(world) -> None:
    partners, sales, seats, uow = world["partners"], world["sales"], world["seats"], world["uow"]
    a = actor()
    partners.add_distributor(a, code="AGENCY", name="Blue Sky Agency", mode="rebate", warn_below=5000,
                             discounts={"*": 1500})
    partners.top_up(a, "AGENCY", amount=20000, key=key())
    first = partners.book(a, distributor="AGENCY", session_code="S1", key=key(),
                          lines=lines(seats, ("1", "1", "ADULT"), ("1", "2", "ADULT")))
    assert first["total"] == 10000 and [t["price"] for t in first["tickets"]] == [5000, 5000]
    assert first["booking"] == {**first["booking"], "state": "pending", "gross": 10000, "charged": 10000,
                                "rebate": 1500, "net": 10000}
    assert first["balance"] == 10000 and not first["low"]
    second = partners.book(a, distributor="AGENCY", session_code="S1", key=key(), ticket_type="CHILD", quantity=2)
    assert second["booking"] == {**second["booking"], "gross": 6000, "charged": 6000, "rebate": 900}
    assert second["balance"] == 4000 and second["low"]
    assert [b["order"] for b in partners.queue(a)] == [first["order"], second["order"]]
    reviewer = actor("tickets.view", "tickets.review", name="finance")
    with pytest.raises(PermissionDenied):
        partners.approve(actor("tickets.view", "tickets.sell"), first["order"])

    approved = partners.approve(reviewer, first["order"], note="contract 2026-07")
    assert approved == {**approved, "state": "approved", "reviewed_by": "finance", "net": 8500, "balance": 5500,
                        "low": False, "replayed": False}
    order = sales.order(a, first["order"])
    assert order["total"] == 8500 and [t["price"] for t in order["tickets"]] == [4250, 4250]
    assert sorted(p["amount"] for p in order["payments"]) == [-1500, 10000]
    assert partners.approve(reviewer, first["order"])["replayed"]  # no second rebate
    assert balance_of(uow, "distributor", "AGENCY", "prepaid") == 5500
    with pytest.raises(Conflict, match="approved"):
        partners.reject(reviewer, first["order"])

    rejected = partners.reject(reviewer, second["order"], note="no such group")
    assert rejected == {**rejected, "state": "rejected", "net": 0, "balance": 11500, "replayed": False}
    assert partners.reject(reviewer, second["order"])["replayed"]
    assert balance_of(uow, "distributor", "AGENCY", "prepaid") == 11500
    assert balance_of(uow, "venue", "CINEMA-01", "tickets.revenue") == 8500
    voided = sales.order(a, second["order"])
    assert voided["state"] == "voided" and {t["state"] for t in voided["tickets"]} == {"voided"}
    for ticket in voided["tickets"]:
        assert sales.verify(a, ticket["code"])["reason"] == "refunded"
        assert ticket["serial"] in sales.revoked(a)
    states = sales.seat_states(a, "S1")["states"]
    assert all(states[seats[(t["row"], t["seat"])]] == "free" for t in voided["tickets"])
    with pytest.raises(Conflict, match="rejected"):
        partners.approve(reviewer, second["order"])
    assert partners.queue(reviewer) == []
    assert [b["state"] for b in partners.queue(reviewer, state="all")] == ["approved", "rejected"]
    with pytest.raises(NotFound):
        partners.approve(reviewer, "T01-NOPE")
    with uow.read() as unit:
        actions = set(unit.session.scalars(select(AuditEvent.action)))
    assert {"tickets.distributor.book", "tickets.distributor.approve", "tickets.distributor.reject"} <= actions
    ledger_clean(uow)


def test_the_counters_offers_come_first_and_approval_keeps_the_booking_terms(world) -> None:
    from plugins.tickets.offers import OffersService

    partners, sales, seats, uow = world["partners"], world["sales"], world["seats"], world["uow"]
    a = actor()
    OffersService(uow, partners._identity, venue_code="CINEMA-01").add_offer(
        a, code="GRADE-B", kind="film_grade", multiplier_bp=8000, grades="B")   # grade B films: 20 % off
    partners.add_distributor(a, code="AGENCY", name="Blue Sky Agency", mode="rebate", discounts={"*": 1500})
    travel(partners, warn_below=0)
    partners.top_up(a, "AGENCY", amount=20000, key=key())
    partners.top_up(a, "TRAVEL", amount=20000, key=key())
    net = partners.book(a, distributor="TRAVEL", session_code="S1", key=key(),
                        lines=lines(seats, ("1", "1", "ADULT"), ("1", "2", "CHILD")))
    # adult 50.00 -> 40.00 (grade B) -> 36.00 (10 %); child 30.00 -> 24.00 -> 19.20 (20 %)
    assert [t["price"] for t in net["tickets"]] == [3600, 1920]
    assert net["booking"] == {**net["booking"], "gross": 8000, "charged": 5520}
    booked = partners.book(a, distributor="AGENCY", session_code="S1", key=key(),
                           lines=lines(seats, ("2", "1", "ADULT"), ("2", "2", "ADULT"), ("2", "3", "CHILD")))
    assert [t["price"] for t in booked["tickets"]] == [4000, 4000, 2400]
    assert booked["booking"] == {**booked["booking"], "gross": 13000, "charged": 10400, "rebate": 1560}
    # the contract changes before the review: the booking keeps its terms, shared over its tickets
    partners.set_discount(a, "AGENCY", category="*", discount_bp=5000)
    approved = partners.approve(a, booked["order"])
    assert approved["balance"] == 20000 - 10400 + 1560
    prices = [t["price"] for t in sales.order(a, booked["order"])["tickets"]]
    assert prices == [3400, 3400, 2040] and sum(prices) == 10400 - 1560
    ledger_clean(uow)


def test_best_available_seats_sit_together_near_the_middle(world) -> None:
    partners, uow = world["partners"], world["uow"]
    a = actor()
    travel(partners, warn_below=0)
    partners.top_up(a, "TRAVEL", amount=100000, key=key())
    booked = partners.book(a, distributor="TRAVEL", session_code="S1", key=key(), ticket_type="ADULT", quantity=3)
    places = [(t["row"], int(t["seat"])) for t in booked["tickets"]]
    assert {row for row, _ in places} == {"3"}  # the middle row of five
    numbers = sorted(n for _, n in places)
    assert numbers == list(range(numbers[0], numbers[0] + 3)) and numbers[0] in (3, 4)
    # the VIP zone only: its own price (80.00 - 10 %)
    vip = partners.book(a, distributor="TRAVEL", session_code="S1", key=key(), ticket_type="ADULT", quantity=2,
                        zone="VIP")
    assert {t["row"] for t in vip["tickets"]} == {"5"} and [t["price"] for t in vip["tickets"]] == [7200, 7200]
    with pytest.raises(SaleRefused, match="Only 35 seats"):
        partners.book(a, distributor="TRAVEL", session_code="S1", key=key(), ticket_type="ADULT", quantity=36)
    with pytest.raises(InvalidInput):
        partners.book(a, distributor="TRAVEL", session_code="S1", key=key(), ticket_type="ADULT")
    assert count(uow, Ticket) == 5


# ---------------------------------------------------------------- refunds at the counter


class CounterWithPartnerRefunds(SalesService):
    """The counter's refund with the partner's share going back to its account first: the
    change to ``SalesService._pay_back`` that docs/tickets-partners.md describes."""

    def _pay_back(self, session: Any, actor: Any, order: Any, amount: int, key: str) -> None:
        taken = pay_back_partner(session, actor, order, amount, key, self._shift_id(session, actor))
        super()._pay_back(session, actor, order, amount - taken, key)


def test_a_refund_at_the_counter_goes_back_to_the_prepaid_account(world, secret_store) -> None:
    partners, seats, uow = world["partners"], world["seats"], world["uow"]
    counter = service(CounterWithPartnerRefunds, uow, secrets=secret_store)
    a = actor()
    travel(partners, warn_below=0)
    partners.top_up(a, "TRAVEL", amount=20000, key=key())
    booked = partners.book(a, distributor="TRAVEL", session_code="S1", key=key(),
                           lines=lines(seats, ("4", "1", "ADULT"), ("4", "2", "ADULT")))
    assert booked["balance"] == 11000
    refunded = counter.refund(a, serials=[booked["tickets"][0]["serial"]], key=(k := key()))
    assert refunded["amount"] == 4500 and counter.refund(a, serials=[booked["tickets"][0]["serial"]], key=k)[
        "replayed"]
    assert balance_of(uow, "distributor", "TRAVEL", "prepaid") == 15500
    assert balance_of(uow, "venue", "CINEMA-01", "cash") == -20000      # the top-up only: no cash paid out
    assert balance_of(uow, "venue", "CINEMA-01", "tickets.revenue") == 4500
    order = counter.order(a, booked["order"])
    assert sorted(p["amount"] for p in order["payments"]) == [-4500, 9000]
    today = partners.local_now().date()
    assert partners.reconcile(a, distributor="TRAVEL", first=today, last=today)["returned"] == 4500

    # a pending rebate booking with a refunded ticket can no longer be reviewed
    partners.add_distributor(a, code="AGENCY", name="Blue Sky Agency", mode="rebate", discounts={"*": 1000})
    partners.top_up(a, "AGENCY", amount=20000, key=key())
    pending = partners.book(a, distributor="AGENCY", session_code="S1", key=key(), ticket_type="ADULT", quantity=2)
    counter.refund(a, serials=[pending["tickets"][0]["serial"]], key=key())
    assert balance_of(uow, "distributor", "AGENCY", "prepaid") == 15000
    with pytest.raises(Conflict, match="can no longer be reviewed"):
        partners.approve(a, pending["order"])
    with pytest.raises(Conflict, match="can no longer be reviewed"):
        partners.reject(a, pending["order"])
    ledger_clean(uow)


# ---------------------------------------------------------------- reconciliation


def test_reconciliation_adds_up(world) -> None:
    partners, seats, uow = world["partners"], world["seats"], world["uow"]
    a = actor()
    partners.add_distributor(a, code="AGENCY", name="Blue Sky Agency", mode="rebate", discounts={"*": 1500})
    travel(partners)
    partners.top_up(a, "AGENCY", amount=50000, key=key())
    partners.top_up(a, "TRAVEL", amount=20000, key=key())
    one = partners.book(a, distributor="AGENCY", session_code="S1", key=key(),
                        lines=lines(seats, ("1", "1", "ADULT"), ("1", "2", "CHILD")))       # 80.00, rebate 12.00
    two = partners.book(a, distributor="AGENCY", session_code="S1", key=key(), ticket_type="ADULT", quantity=1)
    partners.book(a, distributor="AGENCY", session_code="S1", key=key(), ticket_type="ADULT", quantity=2)  # pending
    partners.approve(a, one["order"])
    partners.reject(a, two["order"])
    partners.book(a, distributor="TRAVEL", session_code="S1", key=key(), ticket_type="CHILD", quantity=1)  # 24.00
    today = partners.local_now().date()
    agency = partners.reconcile(a, distributor="AGENCY", first=today, last=today)
    assert {k: agency[k] for k in ("bookings", "pending", "approved", "rejected", "tickets", "gross", "charged",
                                   "rebates", "returned", "topups", "balance_start", "balance_end")} == {
        "bookings": 3, "pending": 1, "approved": 1, "rejected": 1, "tickets": 5, "gross": 23000, "charged": 23000,
        "rebates": 1200, "returned": 5000, "topups": 50000, "balance_start": 0, "balance_end": 33200}
    assert agency["balance_end"] == balance_of(uow, "distributor", "AGENCY", "prepaid")
    assert [b["state"] for b in agency["bookings_detail"]] == ["approved", "rejected", "pending"]
    # a later period starts from the balance the earlier one ended with
    tomorrow = today + dt.timedelta(days=1)
    later = partners.reconcile(a, distributor="AGENCY", first=tomorrow, last=tomorrow)
    assert (later["balance_start"], later["balance_end"], later["bookings"], later["charged"]) == (33200, 33200, 0, 0)
    with pytest.raises(InvalidInput):
        partners.reconcile(a, distributor="AGENCY", first=tomorrow, last=today)
    with pytest.raises(PermissionDenied):
        partners.reconcile(actor("tickets.view", "tickets.sell"), distributor="AGENCY", first=today, last=today)

    with uow.read() as unit:
        ctx = ReportContext(session=unit.session, actor=a, venue_id=None, today=today)
        rows = list(RECONCILIATION.rows(ctx, {"period": (today, today), "distributor": None}))
    assert rows == [("AGENCY", "Blue Sky Agency", "rebate", 3, 1, 5, 23000, 23000, 1200, 5000, 50000, 0, 33200),
                    ("TRAVEL", "Sunny Travel", "net", 1, 0, 1, 3000, 2400, 0, 0, 20000, 0, 17600)]
    ledger_clean(uow)


# ---------------------------------------------------------------- the command line


@pytest.fixture
def partners_site(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str],
                  monkeypatch: pytest.MonkeyPatch) -> Site:
    """A site whose host loads the box office (licensed ``wallet`` and ``tickets``), with the
    ``distributor`` and ``redeem`` verbs and the reconciliation report declared here as well while
    the manifest lacks them, and Hall 1 with session S1 set up."""
    import plugins.tickets as tickets
    import suite.plugins as host
    from suite.declarations import CliCommand, ReportDecl
    from suite.hookspecs import hookimpl

    class TicketsHost(host.PluginHost):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            builtins = tuple(kwargs.pop("builtin_modules", host.BUILTIN_PLUGINS))
            for module in ("plugins.wallet", "plugins.tickets"):
                if module not in builtins:
                    builtins += (module,)
            super().__init__(*args, builtin_modules=builtins, **kwargs)

    monkeypatch.setattr(host, "PluginHost", TicketsHost)
    manifest = tickets.venue_suite_manifest()
    verbs = (CliCommand("distributor", "distributors", configure="plugins.tickets.cli_partners:configure_distributor",
                        run="plugins.tickets.cli_partners:run", permission="tickets.view"),
             CliCommand("redeem", "redemption codes", configure="plugins.tickets.cli_partners:configure_redeem",
                        run="plugins.tickets.cli_partners:run", permission="tickets.redeem"))
    report = ReportDecl("tickets.distributor_reconciliation", "Distributor reconciliation",
                        spec="plugins.tickets.distributors:RECONCILIATION", permission="tickets.distributors")
    missing = tuple(v for v in verbs if v.name not in {c.name for c in manifest.cli_commands})
    reports = () if report.id in {r.id for r in manifest.reports} else (report,)
    if missing or reports:
        @hookimpl
        def venue_suite_manifest() -> Any:
            return dataclasses.replace(manifest, cli_commands=tuple(manifest.cli_commands) + missing,
                                       reports=tuple(manifest.reports) + reports)

        monkeypatch.setattr(tickets, "venue_suite_manifest", venue_suite_manifest)
    site = Site(write_site(tmp_path, db_url, terminal='venue_code = "CINEMA-01"\nterminal_code = "T01"'), db_url,
                capsys, monkeypatch)
    assert site.run("--json", "init", stdin=ADMIN_PASSWORD + "\n").code == 0
    public = site.run("--json", "license", "keygen").json["public_key"]
    site.path.write_text(site.path.read_text() + f'\n[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "chain.lic"
    issued = site.run("license", "issue", "--chain", "CHAIN-1", "--licensee", "River Cinemas", "--features",
                      "wallet,tickets", "--max-terminals", "3", "--max-cards", "500", "--expires", "2099-12-31",
                      "--out", str(licence))
    assert issued.code == 0, issued.err
    assert site.run("license", "install", str(licence)).code == 0
    app = site.app()
    try:
        small_cinema(SetupService.from_app(app), starts_at=dt.datetime.now(SHANGHAI) + dt.timedelta(days=1))
    finally:
        app.close()
    return site


def ok(result: Any) -> Any:
    assert result.code == 0, result.err
    return result.json


def test_the_distributor_verb(partners_site: Site) -> None:
    run = partners_site.run
    made = ok(run("--json", "distributor", "add", "AGENCY", "Blue Sky Agency", "--mode", "rebate",
                  "--warn-below", "100", "--discount", "*=1500", "--discount", "child=2000"))
    assert made["discounts"] == {"*": 1500, "child": 2000} and made["warn_below"] == 10000
    assert ok(run("--json", "distributor", "discount", "AGENCY", "senior", "2500"))["discounts"]["senior"] == 2500
    assert "senior" not in ok(run("--json", "distributor", "discount", "AGENCY", "senior", "--remove"))["discounts"]
    assert ok(run("--json", "distributor", "topup", "AGENCY", "300.50", "--key", "t-1"))["balance"] == 30050
    assert ok(run("--json", "distributor", "topup", "AGENCY", "300.50", "--key", "t-1"))["replayed"]
    booked = ok(run("--json", "distributor", "book", "AGENCY", "S1", "--seat", "1-1", "--seat", "1-2",
                    "--type", "ADULT", "--type", "CHILD"))
    assert booked["booking"]["charged"] == 8000 and booked["booking"]["rebate"] == 1350  # 7.50 + 6.00
    assert booked["balance"] == 22050
    best = ok(run("--json", "distributor", "book", "AGENCY", "S1", "--quantity", "2", "--type", "ADULT"))
    assert best["booking"]["tickets"] == 2 and best["balance"] == 12050
    queue = ok(run("--json", "distributor", "queue"))
    assert [b["order"] for b in queue] == [booked["order"], best["order"]]
    assert ok(run("--json", "distributor", "approve", booked["order"]))["balance"] == 13400
    assert ok(run("--json", "distributor", "reject", best["order"], "--note", "cancelled"))["balance"] == 23400
    refused = run("--json", "distributor", "book", "AGENCY", "S1", "--quantity", "5", "--type", "ADULT")
    assert refused.code == 1 and refused.json["error"] == "sale_refused"
    assert refused.json["reason"] == "distributor_balance" and "234.00" in refused.err
    listed = ok(run("--json", "distributor", "list"))
    assert [(d["code"], d["balance"]) for d in listed] == [("AGENCY", 23400)]
    rec = ok(run("--json", "distributor", "reconcile", "AGENCY"))
    assert {k: rec[k] for k in ("bookings", "charged", "rebates", "returned", "topups", "balance_end")} == {
        "bookings": 2, "charged": 18000, "rebates": 1350, "returned": 10000, "topups": 30050, "balance_end": 23400}
    report = ok(run("--json", "report", "run", "tickets.distributor_reconciliation", "--param", "period=today"))
    assert report["count"] == 1 and report["rows"][0] == {**report["rows"][0], "code": "AGENCY", "bookings": 2,
                                                          "topups": 30050, "balance_end": 23400}
    text = run("distributor", "show", "AGENCY")
    assert text.code == 0 and "Blue Sky Agency" in text.out
    with pytest.raises(SystemExit):  # argparse refuses a third decimal
        run("distributor", "topup", "AGENCY", "12.345")
    assert "12.345" in partners_site.capsys.readouterr().err
    app = partners_site.app()
    try:
        with app.uow.read() as unit:
            assert check(unit.session).ok
    finally:
        app.close()
