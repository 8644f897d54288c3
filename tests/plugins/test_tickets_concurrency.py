"""The box office under concurrent terminals: four OS processes sell the seats of one session.

Each process is started with the "spawn" method and builds its own engine, units of work and
``SalesService`` from the database URL and the keyring's file, as a separate counter would;
only plain data crosses process boundaries. Every process tries random pairs and triples of
the same 10 x 10 hall, in its own random order, paid in cash and 5-30 ms apart (``PAUSE``),
until its view of the map has no free seat left: a refusal (``SeatTaken``) takes the seats it
names out of its view (or, when it names them all, the process reads the map again).

On SQLite (a file) and on the real PostgreSQL server: every seat is sold exactly once (one
ticket and one sold claim per seat, the claim pointing at that ticket), each successful order
has all its tickets, payment, ledger entry and audit record and a refused attempt none of them,
the ledger check and the audit chain are clean, the revenue account holds the sum of the order
totals, and every code verifies with the chain's public key.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from plugins.tickets.codes import TicketVerifier
from plugins.tickets.core import SeatTaken
from plugins.tickets.models import Order, Payment, SeatClaim, ShowSession, Ticket
from plugins.tickets.sales import SalesService
from plugins.tickets.setup import SetupService
from suite.audit.models import AuditEvent
from suite.audit.verify import verify
from suite.db.uow import UnitOfWorkFactory
from suite.ledger import check
from suite.ledger.models import Account, Entry
from suite.secrets import SecretStore
from tests.plugins.tickets_fixtures import actor, service, small_cinema, tickets_schema
from tests.terminals import run_together, terminal_main

PROCESSES = 4
ROWS, COLUMNS = 10, 10
SESSION = "S1"
VENUE = "CINEMA-01"
KEYRING_BACKEND = "keyrings.alt.file.PlaintextKeyring"
# seconds between two attempts at one counter. Without a pause the SQLite runs are not a race:
# SQLite's busy handler sleeps and retries with no queue, so the counter that commits first
# begins its next sale before the sleeping ones wake, and in a trial it sold all 100 seats
# (39 orders in 0.8 s) while the other three waited 1.0-1.7 s for their first turn.
PAUSE = (0.005, 0.03)
# the prices small_cinema sets: adult 50.00, child 30.00, adult 80.00 in the VIP (back) row
PRICES = {("VIP", "ADULT"): 8000, ("*", "ADULT"): 5000, ("*", "CHILD"): 3000}


def price(zone: str, ticket_type: str) -> int:
    return PRICES.get((zone, ticket_type), PRICES[("*", ticket_type)])


# ---------------------------------------------------------------- the processes


def _sell_out(sales: SalesService, cashier: Any, worker: int, plan: dict[str, Any],
              out: dict[str, list[Any]]) -> None:
    """Sell random pairs and triples of the seats this counter believes free until none is left."""
    rng = random.Random(plan["seed"] * 100 + worker)
    zones: dict[str, str] = dict(plan["seats"])
    free = list(zones)
    rng.shuffle(free)
    for attempt in range(plan["limit"]):
        if not free:
            return
        time.sleep(rng.uniform(*plan["pause"]))  # the next customer steps up to the counter
        picked = rng.sample(free, min(len(free), rng.choice((2, 3))))
        lines = [{"seat_id": seat, "ticket_type": rng.choice(("ADULT", "CHILD"))} for seat in picked]
        total = sum(price(zones[line["seat_id"]], line["ticket_type"]) for line in lines)
        key = f"sale-{worker}-{attempt}-{uuid.uuid4().hex[:8]}"
        try:
            order = sales.sell(cashier, session_code=SESSION, lines=lines, key=key,
                               payments=[{"method": "cash", "amount": total}])
        except SeatTaken as exc:
            taken = {str(s) for s in exc.details.get("seats") or []}
            out["refused"].append({"key": key, "seats": picked, "taken": sorted(taken)})
            if taken >= set(picked):  # all named (or the race at the INSERT): read the map again
                states = sales.seat_states(cashier, SESSION)["states"]
                free = [s for s in free if states.get(s) == "free"]
            else:
                free = [s for s in free if s not in taken]
            continue
        except Exception as exc:  # noqa: BLE001 - every other failure is reported to the test
            out["errors"].append(f"{key}: {type(exc).__name__}: {exc}")
            return
        out["sold"].append({"key": key, "order": order["order"], "state": order["state"], "total": order["total"],
                            "expected": total, "replayed": order["replayed"], "seats": picked,
                            "tickets": [{"serial": t["serial"], "row": t["row"], "seat": t["seat"],
                                         "price": t["price"], "code": t["code"]} for t in order["tickets"]],
                            "payments": order["payments"]})
        free = [s for s in free if s not in picked]
    out["errors"].append(f"process {worker}: still {len(free)} seats to try after {plan['limit']} attempts")


def _terminal(url: str, keyring: dict[str, str], plan: dict[str, Any], worker: int, ready: Any, go: Any,
              results: Any) -> None:
    """One counter: its own units of work, keyring and ``SalesService``, then the plan."""
    out: dict[str, list[Any]] = {"sold": [], "refused": [], "errors": []}

    def prepare(engine: Any) -> Any:
        uow = UnitOfWorkFactory(engine)
        store = SecretStore.from_settings(keyring["service"], KEYRING_BACKEND, keyring["file"])
        sales = service(SalesService, uow, secrets=store, terminal_code=f"T{worker + 1:02d}")
        cashier = actor(name=f"cashier{worker}")
        return lambda: _sell_out(sales, cashier, worker, plan, out)

    terminal_main(url, worker, ready, go, results, out, prepare)


def run_counters(url: str, keyring: dict[str, str], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """PROCESSES counters on ``plan``, released together; their results by worker."""
    return run_together(_terminal, (url, keyring, plan), PROCESSES, "a selling process")


# ---------------------------------------------------------------- set-up


@pytest.fixture
def keyring(tmp_path: Path) -> dict[str, str]:
    """A file keyring every process opens by its path (the parent's XDG folder is not theirs to guess)."""
    return {"service": f"venue-suite-test-{uuid.uuid4().hex[:8]}", "file": str(tmp_path / "keyring.cfg")}


@pytest.fixture
def hall(db_url: str, engine, keyring: dict[str, str]) -> dict[str, Any]:
    """A 10 x 10 hall (VIP back row) with one session on sale, and the signing key made once,
    here: four processes creating it on first use would each sign with a key of their own."""
    uow = tickets_schema(engine)
    setup = service(SetupService, uow)
    small_cinema(setup, rows=ROWS, columns=COLUMNS, code=SESSION)
    seats = setup.seat_map(actor(), hall="H1", name="Standard")["seats"]
    store = SecretStore.from_settings(keyring["service"], KEYRING_BACKEND, keyring["file"])
    sales = service(SalesService, uow, secrets=store)
    public_key = sales.public_key()
    assert Path(keyring["file"]).is_file()  # the processes will find the key there
    return {"url": db_url, "uow": uow, "sales": sales, "public_key": public_key,
            "seats": {s["id"]: s for s in seats}}


# ---------------------------------------------------------------- the test


def test_four_processes_sell_out_a_session_each_seat_once(hall: dict[str, Any], keyring: dict[str, str]) -> None:
    seats: dict[str, dict[str, Any]] = hall["seats"]
    capacity = ROWS * COLUMNS
    assert len(seats) == capacity
    plan = {"seed": 6, "seats": [(seat_id, s["zone"]) for seat_id, s in seats.items()], "limit": 10 * capacity,
            "pause": PAUSE}
    results = run_counters(hall["url"], keyring, plan)
    sold = [o for r in results for o in r["sold"]]
    refused = [f for r in results for f in r["refused"]]

    # the processes really raced: several sold, and some tried seats another had just sold
    assert sum(1 for r in results if r["sold"]) >= 2
    assert refused
    assert not any(o["replayed"] for o in sold)
    assert all(o["state"] == "paid" and o["total"] == o["expected"] for o in sold)  # the counter's own price
    assert all(o["payments"] == [{"method": "cash", "amount": o["total"], "reference": ""}] for o in sold)

    # as the processes saw it: each seat in exactly one successful order, and every seat sold
    per_seat = Counter(seat for o in sold for seat in o["seats"])
    assert set(per_seat) == set(seats)
    assert [seat for seat, n in per_seat.items() if n != 1] == []
    # each order's tickets are its seats, at the price of the seat's zone and ticket type
    for o in sold:
        ticket_seats = sorted((t["row"], t["seat"]) for t in o["tickets"])
        assert ticket_seats == sorted((seats[s]["row_label"], seats[s]["seat_label"]) for s in o["seats"]), o["order"]
        assert sum(t["price"] for t in o["tickets"]) == o["total"]

    sold_keys = {o["key"]: o for o in sold}
    refused_keys = [f["key"] for f in refused]
    assert not set(refused_keys) & set(sold_keys)
    with hall["uow"].read() as uow:
        s = uow.session
        show_id = s.scalar(select(ShowSession.id).where(ShowSession.code == SESSION))
        tickets = s.execute(select(Ticket.id, Ticket.seat_id, Ticket.serial, Ticket.price, Ticket.state, Order.number)
                            .join(Order, Order.id == Ticket.order_id).where(Ticket.session_id == show_id)).all()
        claims = s.execute(select(SeatClaim.seat_id, SeatClaim.kind, SeatClaim.ticket_id)
                           .where(SeatClaim.session_id == show_id)).all()
        orders = s.execute(select(Order.idempotency_key, Order.number, Order.total, Order.state)).all()
        payments = s.execute(select(Order.number, Payment.method, Payment.amount)
                             .join(Order, Order.id == Payment.order_id)).all()
        entry_keys = set(s.scalars(select(Entry.idempotency_key).where(Entry.kind == "tickets.sale")))
        leftover_entries = s.scalar(select(func.count()).select_from(Entry).where(Entry.kind != "tickets.sale"))
        audited = Counter(s.scalars(select(AuditEvent.target).where(AuditEvent.action == "tickets.sell")))
        balances = dict(s.execute(select(Account.kind, Account.balance).where(
            Account.owner_type == "venue", Account.owner_id == VENUE)).all())
        ledger = check(s)
        audit = verify(s)

    # in the database: one ticket per seat, every seat ticketed, all valid
    assert Counter(str(seat_id) for _id, seat_id, *_rest in tickets) == Counter({seat: 1 for seat in seats})
    assert {state for *_rest, state, _number in tickets} == {"valid"}
    ticket_of_seat = {str(seat_id): ticket_id for ticket_id, seat_id, *_rest in tickets}
    # one sold claim per seat, pointing at that seat's ticket
    assert len(claims) == capacity
    assert {kind for _seat, kind, _ticket in claims} == {"sold"}
    assert {str(seat_id): ticket_id for seat_id, _kind, ticket_id in claims} == ticket_of_seat
    # the successful orders and nothing else: no refused attempt left an order behind
    assert {key: (number, int(total), state) for key, number, total, state in orders} == {
        o["key"]: (o["order"], o["total"], "paid") for o in sold}
    # each order has all its tickets (serials, seats, prices), one cash payment and one entry
    in_db: dict[str, set[tuple[str, str, int]]] = {}
    for _id, seat_id, serial, ticket_price, _state, number in tickets:
        in_db.setdefault(number, set()).add((serial, str(seat_id), int(ticket_price)))
    by_labels = {(s["row_label"], s["seat_label"]): seat_id for seat_id, s in seats.items()}
    assert in_db == {o["order"]: {(t["serial"], by_labels[(t["row"], t["seat"])], t["price"]) for t in o["tickets"]}
                     for o in sold}
    assert Counter((number, method, int(amount)) for number, method, amount in payments) == Counter(
        (o["order"], "cash", o["total"]) for o in sold)
    assert entry_keys == {f"{k}:cash:0" for k in sold_keys}
    assert leftover_entries == 0
    assert audited == Counter(o["order"] for o in sold)

    # the books: clean, and the revenue is the sum of the order totals (the drawer holds it)
    assert ledger.ok, ledger.problems
    assert audit.ok, audit.problems
    revenue = sum(o["total"] for o in sold)
    assert revenue == sum(int(p) for *_head, p, _state, _number in tickets)
    assert int(balances["tickets.revenue"]) == revenue
    assert int(balances["cash"]) == -revenue

    # every code a process signed verifies with the chain's one public key
    verifier = TicketVerifier([hall["public_key"]])
    for o in sold:
        for t in o["tickets"]:
            verdict = verifier.verify(t["code"])
            assert verdict.ok, (t["serial"], verdict.reason)
            assert verdict.claims is not None
            assert (verdict.claims.serial, verdict.claims.session, verdict.claims.row, verdict.claims.seat) == (
                t["serial"], SESSION, t["row"], t["seat"])
    # and the map agrees: nothing left to sell
    states = hall["sales"].seat_states(actor(), SESSION)["states"]
    assert set(states.values()) == {"sold"} and len(states) == capacity
