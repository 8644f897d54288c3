"""The card wallet under concurrent terminals: four OS processes consume from the same cards.

Each process is started with the "spawn" method and builds its own engine, units of work and
``WalletService`` from the database URL, as a separate till would; only plain data crosses
process boundaries. On SQLite (a file) and on the real PostgreSQL server, the balances must
account for every successful charge (no lost update), a card never goes below zero, the ledger
check is clean and there is exactly one journal entry per successful consume.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.wallet as wallet_plugin
from plugins.wallet.models import Card, CardEvent
from plugins.wallet.services import InsufficientBalance, WalletService
from suite.audit.models import AuditEvent
from suite.audit.verify import verify
from suite.db.migrate import upgrade
from suite.db.uow import UnitOfWorkFactory
from suite.identity.actor import Actor
from suite.identity.service import IdentityService
from suite.ledger import check
from suite.ledger.models import Account, Entry
from tests.terminals import run_together, terminal_main

MIGRATIONS = [wallet_plugin.MIGRATIONS]
MODELS = ("plugins.wallet.models",)
ALL_WALLET = frozenset(p.id for p in wallet_plugin.PERMISSIONS)
PROCESSES = 4
DISCOUNT_BP = 1000  # 10% off: the charge is not the list price, so the service's own figure counts


def _actor(name: str) -> Actor:
    return Actor(user_id=uuid.uuid4(), username=name, display_name=name, permissions=ALL_WALLET)


def _key(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


# ---------------------------------------------------------------- the processes


def _consume(service: WalletService, actor: Actor, card_no: str, key: str, amount: int,
             out: dict[str, list[Any]]) -> bool:
    """One consume; the outcome goes into ``out`` as plain data. True when it was charged."""
    try:
        result = service.consume(actor, card_no=card_no, key=key, amount=amount)
    except InsufficientBalance:
        out["refused"].append((card_no, key, amount))
        return False
    except Exception as exc:  # noqa: BLE001 - every other failure is reported to the test
        out["errors"].append(f"{card_no} {key}: {type(exc).__name__}: {exc}")
        return False
    out["ok"].append((card_no, key, amount, int(result["charged"]), bool(result["replayed"]),
                      int(result["balances"]["main"])))
    return True


def _drain(service: WalletService, actor: Actor, worker: int, plan: dict[str, Any],
           out: dict[str, list[Any]]) -> None:
    """Consume random small amounts from one card until even the smallest is refused.

    Like a till, a process pauses briefly between charges (up to ``pause`` seconds): a process
    that never lets go of the database can starve the others under SQLite's busy wait, which is
    not a fair queue, and the test would then not see the consumes interleave.
    """
    rng = random.Random(plan["seed"] * 100 + worker)
    low, high = plan["amounts"]
    for i in range(plan["limit"]):
        amount = rng.randint(low, high)
        if _consume(service, actor, plan["card"], f"drain-{worker}-{i}", amount, out):
            time.sleep(rng.uniform(0, plan["pause"]))
            continue
        if out["errors"]:
            return
        if amount == low or not _consume(service, actor, plan["card"], f"drain-{worker}-{i}-low", low, out):
            return


def _random(service: WalletService, actor: Actor, worker: int, plan: dict[str, Any],
            out: dict[str, list[Any]]) -> None:
    """Consume from random cards, with amounts that often exceed what is left on them."""
    rng = random.Random(plan["seed"] * 100 + worker)
    low, high = plan["amounts"]
    for i in range(plan["count"]):
        _consume(service, actor, rng.choice(plan["cards"]), f"rand-{worker}-{i}", rng.randint(low, high), out)


def _script(service: WalletService, actor: Actor, worker: int, plan: dict[str, Any],
            out: dict[str, list[Any]]) -> None:
    """Run the same operations (card, key, amount) as every other process, in its own order."""
    operations = list(plan["operations"])
    random.Random(plan["seed"] * 100 + worker).shuffle(operations)
    for card_no, key, amount in operations:
        _consume(service, actor, card_no, key, amount, out)


PLANS = {"drain": _drain, "random": _random, "script": _script}


def _terminal(url: str, plan: dict[str, Any], worker: int, ready: Any, go: Any, results: Any) -> None:
    """One till: its own units of work and ``WalletService``, then the plan."""
    out: dict[str, list[Any]] = {"ok": [], "refused": [], "errors": []}

    def prepare(engine: Any) -> Any:
        uow = UnitOfWorkFactory(engine)
        service = WalletService(uow, IdentityService(uow), venue_code="HQ")
        actor = _actor(f"till{worker}")
        return lambda: PLANS[plan["kind"]](service, actor, worker, plan, out)

    terminal_main(url, worker, ready, go, results, out, prepare)


def run_terminals(url: str, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """PROCESSES tills on ``plan``, released together; their results by worker."""
    return run_together(_terminal, (url, plan), PROCESSES, "a consuming process")


# ---------------------------------------------------------------- set-up and reading back


@pytest.fixture
def wallet_url(db_url: str, engine) -> str:
    """The host's schema plus the wallet's branch, on a database the processes reach by URL."""
    upgrade(engine, MIGRATIONS, MODELS)
    return db_url


@pytest.fixture
def service(wallet_url: str, engine) -> WalletService:
    uow = UnitOfWorkFactory(engine)
    return WalletService(uow, IdentityService(uow), venue_code="HQ")


@pytest.fixture
def admin() -> Actor:
    return _actor("manager")


def _cards(service: WalletService, admin: Actor, count: int, top_up: int) -> list[str]:
    """A value card type with a tier discount and points, and ``count`` cards topped up."""
    service.create_card_type(admin, code="TILL", name="Till test", discount_bp=DISCOUNT_BP, points_per_yuan=1)
    numbers = [f"C{n:04d}" for n in range(count)]
    for card_no in numbers:
        service.issue(admin, card_no=card_no, type_code="TILL", key=_key("issue"))
        assert service.top_up(admin, card_no=card_no, key=_key("topup"), amount=top_up)["balances"]["main"] == top_up
    return numbers


def _main_balances(service: WalletService) -> dict[str, int]:
    with service._uow.read() as uow:
        rows = uow.session.execute(select(Account.owner_id, Account.balance).where(
            Account.owner_type == "card", Account.kind == "wallet.main")).all()
    return {owner: int(value) for owner, value in rows}


def _consume_entries(service: WalletService) -> Counter[str]:
    """Journal entries of kind wallet.consume per card (the entry's memo is the card number)."""
    with service._uow.read() as uow:
        rows = uow.session.execute(select(Entry.memo, func.count()).where(Entry.kind == "wallet.consume")
                                   .group_by(Entry.memo)).all()
    return Counter({memo: int(n) for memo, n in rows})


def _consume_events(service: WalletService) -> Counter[str]:
    with service._uow.read() as uow:
        rows = uow.session.execute(select(Card.card_no, func.count()).join(CardEvent, CardEvent.card_id == Card.id)
                                   .where(CardEvent.action == "consume").group_by(Card.card_no)).all()
        audited = uow.session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "wallet.consume"))
    events = Counter({card_no: int(n) for card_no, n in rows})
    assert audited == sum(events.values())
    return events


def _revenue(service: WalletService) -> int:
    with service._uow.read() as uow:
        return int(uow.session.scalar(select(Account.balance).where(
            Account.owner_type == "venue", Account.owner_id == "HQ", Account.kind == "revenue")) or 0)


def _books_clean(service: WalletService) -> None:
    with service._uow.read() as uow:
        ledger = check(uow.session)
        audit = verify(uow.session)
    assert ledger.ok, ledger.problems
    assert audit.ok, audit.problems


def _keys_with_entries(service: WalletService, keys: list[str]) -> set[str]:
    with service._uow.read() as uow:
        return set(uow.session.scalars(select(Entry.idempotency_key).where(Entry.idempotency_key.in_(keys))))


# ---------------------------------------------------------------- the tests


def test_four_processes_drain_one_card_without_a_lost_update(wallet_url, service, admin) -> None:
    top_up, low, high = 60_000, 100, 500  # list prices 1.00-5.00: about 220 consumes to drain
    (card,) = _cards(service, admin, 1, top_up)
    results = run_terminals(wallet_url, {"kind": "drain", "seed": 1, "card": card, "amounts": (low, high),
                                         "limit": 1000, "pause": 0.010})

    ok = [o for r in results for o in r["ok"]]
    # several processes were charged, so their consumes really interleaved
    assert sum(1 for r in results if r["ok"]) >= 2
    assert all(r["refused"] and r["refused"][-1][2] == low for r in results)  # each stopped on the smallest
    assert not any(replayed for *_rest, replayed, _main in ok)
    charged = sum(c for _card, _key, _amount, c, _replayed, _main in ok)
    final = _main_balances(service)[card]
    assert charged == top_up - final  # no lost update: every charge is in the balance, once
    smallest = min(c for _card, _key, _amount, c, _replayed, _main in ok)
    assert 0 <= final < smallest  # drained: even the smallest charge no longer fits
    with pytest.raises(InsufficientBalance):
        service.consume(admin, card_no=card, key=_key("after"), amount=low)
    # each process saw the balance go down with every charge it made
    for r in results:
        seen = [main for *_rest, main in r["ok"]]
        assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
    assert _consume_entries(service) == Counter({card: len(ok)})
    assert _consume_events(service) == Counter({card: len(ok)})
    assert _revenue(service) == charged
    refused_keys = [k for r in results for _card, k, _amount in r["refused"]]
    assert _keys_with_entries(service, refused_keys) == set()
    _books_clean(service)


def test_four_processes_on_a_hundred_cards_account_for_every_charge(wallet_url, service, admin) -> None:
    top_up, per_process = 2_500, 75
    cards = _cards(service, admin, 100, top_up)
    results = run_terminals(wallet_url, {"kind": "random", "seed": 2, "cards": cards, "amounts": (100, 2_500),
                                         "count": per_process})

    ok = [o for r in results for o in r["ok"]]
    refused = [f for r in results for f in r["refused"]]
    assert len(ok) + len(refused) == PROCESSES * per_process
    assert ok and refused  # both outcomes happened: cards ran short under concurrent spending
    assert not any(replayed for *_rest, replayed, _main in ok)
    charged_per_card: dict[str, int] = defaultdict(int)
    for card_no, _key, _amount, charged, _replayed, _main in ok:
        charged_per_card[card_no] += charged
    finals = _main_balances(service)
    assert set(finals) == set(cards)
    for card_no in cards:
        assert finals[card_no] >= 0, card_no
        assert charged_per_card[card_no] == top_up - finals[card_no], card_no  # no lost update on any card
    for card_no, _key, amount in refused:
        # balances only go down, so a refused price is also more than what is left now
        assert amount > finals[card_no], (card_no, amount)
    charged_total = sum(charged_per_card.values())
    assert charged_total == top_up * len(cards) - sum(finals.values())
    per_card = Counter(card_no for card_no, *_rest in ok)
    assert _consume_entries(service) == per_card
    assert _consume_events(service) == per_card
    assert _revenue(service) == charged_total
    assert _keys_with_entries(service, [k for _card, k, _amount in refused]) == set()
    _books_clean(service)


def test_the_same_keys_from_four_processes_charge_once(wallet_url, service, admin) -> None:
    top_up = 10_000
    cards = _cards(service, admin, 10, top_up)
    rng = random.Random(3)
    operations = [(rng.choice(cards), f"retry-{i}", rng.randint(100, 400)) for i in range(40)]
    results = run_terminals(wallet_url, {"kind": "script", "seed": 3, "operations": operations})

    assert [r["refused"] for r in results] == [[]] * PROCESSES  # every card holds enough for all of them
    ok = [o for r in results for o in r["ok"]]
    assert len(ok) == PROCESSES * len(operations)
    first = [o for o in ok if not o[4]]
    # each key charged exactly once, by whichever process came first; the other three replayed
    assert sorted(key for _card, key, *_rest in first) == sorted(key for _card, key, _amount in operations)
    charged_by_key = {key: charged for _card, key, _amount, charged, _replayed, _main in first}
    for _card, key, _amount, charged, replayed, _main in ok:
        assert charged == charged_by_key[key]  # a replay returns the first result
    replays_from_another_process = {
        key for r in results for _card, key, _amount, _charged, replayed, _main in r["ok"] if replayed}
    assert replays_from_another_process == set(charged_by_key)
    finals = _main_balances(service)
    for card_no in cards:
        spent = sum(charged_by_key[key] for c, key, _amount in operations if c == card_no)
        assert finals[card_no] == top_up - spent, card_no
    per_card = Counter(card_no for card_no, _key, _amount in operations)
    assert _consume_entries(service) == per_card
    assert _consume_events(service) == per_card
    assert _revenue(service) == sum(charged_by_key.values())
    _books_clean(service)
