"""The ledger on real databases: SQLite files and a real PostgreSQL server (``uow_factory``)."""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from suite.errors import InvalidInput
from suite.ledger import (AccountNotFound, AlreadyReversed, FloorBreached, IdempotencyConflict, LineSpec,
                          UnbalancedEntry,
                          UnitMismatch, balance, check, open_account, post, reverse)
from suite.ledger.models import Account, Entry, Line


def _key() -> str:
    return f"test-{uuid.uuid4()}"


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _setup(uow_factory, *, funded: int = 0, floor: int | None = 0) -> tuple[uuid.UUID, uuid.UUID]:
    """A venue cash account (no floor) and a card wallet, the wallet topped up by ``funded``."""
    with uow_factory() as uow:
        s = uow.session
        cash = open_account(s, owner_type="venue", owner_id="V1", kind="cash", unit="CNY", name="Venue V1 cash",
                            floor=None)
        wallet = open_account(s, owner_type="card", owner_id="C1", kind="wallet.main", unit="CNY",
                              name="Card C1 main wallet", floor=floor)
        if funded:
            post(s, idempotency_key=_key(), kind="wallet.topup",
                 lines=[LineSpec(cash.id, -funded), LineSpec(wallet.id, funded)])
        uow.commit()
        return cash.id, wallet.id


def _balances(uow_factory, *ids: uuid.UUID) -> list[int]:
    with uow_factory.read() as uow:
        return [balance(uow.session, i) for i in ids]


def _raw(uow_factory, sql: str, **params: object) -> None:
    with uow_factory() as uow:
        statement = text(sql).bindparams(*(bindparam(k, type_=Uuid()) for k, v in params.items()
                                           if isinstance(v, uuid.UUID)))
        uow.session.execute(statement, params)
        uow.commit()


def test_open_account_is_get_or_create(uow_factory) -> None:
    with uow_factory() as uow:
        s = uow.session
        first = open_account(s, owner_type="card", owner_id="C9", kind="points", unit="points", name="Card C9 points")
        again = open_account(s, owner_type="card", owner_id="C9", kind="points", unit="points", name="other")
        other = open_account(s, owner_type="card", owner_id="C9", kind="wallet.main", unit="CNY")
        uow.commit()
    assert first.id == again.id and again.name == "Card C9 points"
    assert other.id != first.id and other.floor == 0 and other.balance == 0


def test_balanced_post_updates_balances(uow_factory) -> None:
    cash, wallet = _setup(uow_factory)
    with uow_factory() as uow:
        result = post(uow.session, idempotency_key="k-1", kind="wallet.topup", memo="top-up", actor="op1",
                      lines=[LineSpec(cash, -10000), LineSpec(wallet, 10000, "CNY")])
        uow.commit()
    assert result.replayed is False
    assert result.balances == {cash: -10000, wallet: 10000}
    assert _balances(uow_factory, cash, wallet) == [-10000, 10000]
    with uow_factory.read() as uow:
        entry = uow.session.get(Entry, result.entry_id)
        assert entry is not None and entry.kind == "wallet.topup" and entry.actor == "op1"
        assert [(line.account_id, line.amount, line.unit, line.balance_after) for line in entry.lines] == [
            (cash, -10000, "CNY", -10000), (wallet, 10000, "CNY", 10000)]
        assert len(entry.payload_hash) == 64


def test_unbalanced_entry_refused(uow_factory) -> None:
    cash, wallet = _setup(uow_factory)
    with uow_factory() as uow:
        s = uow.session
        points = open_account(s, owner_type="card", owner_id="C1", kind="points", unit="points", floor=None).id
        with pytest.raises(UnbalancedEntry, match="do not balance|does not balance"):
            post(s, idempotency_key=_key(), kind="x", lines=[LineSpec(cash, -100), LineSpec(wallet, 99)])
        # zero in total, but not per unit: 1.00 CNY is not 100 points
        with pytest.raises(UnbalancedEntry):
            post(s, idempotency_key=_key(), kind="x", lines=[LineSpec(cash, -100), LineSpec(points, 100)])
        uow.commit()
    with uow_factory.read() as uow:
        assert _count(uow.session, Entry) == 0 and _count(uow.session, Line) == 0


@pytest.mark.parametrize("lines, error", [
    (lambda c, w: [LineSpec(w, 100)], InvalidInput),
    (lambda c, w: [LineSpec(c, -1.5), LineSpec(w, 1.5)], InvalidInput),
    (lambda c, w: [LineSpec(c, True), LineSpec(w, -1)], InvalidInput),
    (lambda c, w: [LineSpec(c, 0), LineSpec(w, 0)], InvalidInput),
    (lambda c, w: [LineSpec(c, -5), LineSpec(w, 5, "points")], UnitMismatch),
    (lambda c, w: [LineSpec(c, -5), LineSpec(uuid.uuid4(), 5)], AccountNotFound),
], ids=["one-line", "float", "bool", "zero", "unit-mismatch", "unknown-account"])
def test_bad_lines_refused(uow_factory, lines: Callable, error: type[Exception]) -> None:
    cash, wallet = _setup(uow_factory, funded=500)
    with uow_factory() as uow:
        with pytest.raises(error):
            post(uow.session, idempotency_key=_key(), kind="x", lines=lines(cash, wallet))
    assert _balances(uow_factory, cash, wallet) == [-500, 500]


def test_replay_returns_first_result_and_changes_nothing(uow_factory) -> None:
    cash, wallet = _setup(uow_factory)
    lines = [LineSpec(cash, -2500), LineSpec(wallet, 2500)]
    with uow_factory() as uow:
        first = post(uow.session, idempotency_key="pay-7", kind="wallet.topup", lines=lines)
        uow.commit()
    with uow_factory() as uow:  # something else moves the balances meanwhile
        post(uow.session, idempotency_key=_key(), kind="wallet.topup", lines=[LineSpec(cash, -1), LineSpec(wallet, 1)])
        uow.commit()
    with uow_factory() as uow:  # same lines in another order: the same movement
        again = post(uow.session, idempotency_key="pay-7", kind="wallet.topup", lines=list(reversed(lines)))
        uow.commit()
    assert again.replayed is True and first.replayed is False
    assert again.entry_id == first.entry_id and again.balances == first.balances == {cash: -2500, wallet: 2500}
    assert _balances(uow_factory, cash, wallet) == [-2501, 2501]
    with uow_factory.read() as uow:
        assert _count(uow.session, Entry) == 2


def test_same_key_different_payload_refused(uow_factory) -> None:
    cash, wallet = _setup(uow_factory)
    with uow_factory() as uow:
        post(uow.session, idempotency_key="pay-8", kind="wallet.topup",
             lines=[LineSpec(cash, -100), LineSpec(wallet, 100)])
        uow.commit()
    with uow_factory() as uow:
        with pytest.raises(IdempotencyConflict, match="pay-8") as info:
            post(uow.session, idempotency_key="pay-8", kind="wallet.topup",
                 lines=[LineSpec(cash, -200), LineSpec(wallet, 200)])
        assert info.value.code == "idempotency_conflict"
        with pytest.raises(IdempotencyConflict):
            post(uow.session, idempotency_key="pay-8", kind="wallet.refund",
                 lines=[LineSpec(cash, -100), LineSpec(wallet, 100)])
    assert _balances(uow_factory, cash, wallet) == [-100, 100]


def test_floor_breach_refused_and_session_stays_usable(uow_factory) -> None:
    cash, wallet = _setup(uow_factory, funded=1200)
    with uow_factory() as uow:
        s = uow.session
        loaded = s.get(Account, wallet)
        with pytest.raises(FloorBreached) as info:
            post(s, idempotency_key="spend-1", kind="wallet.consume",
                 lines=[LineSpec(wallet, -1500), LineSpec(cash, 1500)])
        assert info.value.code == "floor_breached" and info.value.details["account_id"] == wallet
        assert str(info.value) == "Insufficient balance in Card C1 main wallet: balance 12.00 CNY, needed 15.00 CNY."
        assert balance(s, wallet) == 1200 and balance(s, cash) == -1200
        # the same session carries on, and the refused key was not consumed
        ok = post(s, idempotency_key="spend-1", kind="wallet.consume",
                  lines=[LineSpec(wallet, -1200), LineSpec(cash, 1200)])
        assert ok.replayed is False and ok.balances[wallet] == 0 and loaded.balance == 0
        uow.commit()
    assert _balances(uow_factory, cash, wallet) == [0, 0]
    with uow_factory.read() as uow:
        assert _count(uow.session, Entry) == 2 and check(uow.session).ok


def test_floor_below_zero_is_a_credit_limit(uow_factory) -> None:
    cash, wallet = _setup(uow_factory, floor=-5000)
    with uow_factory() as uow:
        post(uow.session, idempotency_key=_key(), kind="x", lines=[LineSpec(wallet, -5000), LineSpec(cash, 5000)])
        with pytest.raises(FloorBreached, match="may not go below -50.00 CNY"):
            post(uow.session, idempotency_key=_key(), kind="x", lines=[LineSpec(wallet, -1), LineSpec(cash, 1)])
        uow.commit()
    assert _balances(uow_factory, wallet) == [-5000]


def test_database_itself_rejects_a_balance_below_floor(uow_factory) -> None:
    _cash, wallet = _setup(uow_factory, funded=3000)
    with pytest.raises(IntegrityError, match="balance_floor|check"):
        _raw(uow_factory, "UPDATE ledger_accounts SET balance = balance - 3001 WHERE id = :id", id=wallet)
    assert _balances(uow_factory, wallet) == [3000]


def test_reversal_restores_and_happens_once(uow_factory) -> None:
    cash, wallet = _setup(uow_factory, funded=5000)
    with uow_factory() as uow:
        s = uow.session
        spend = post(s, idempotency_key="sale-1", kind="wallet.consume",
                     lines=[LineSpec(wallet, -1800), LineSpec(cash, 1800)])
        undo = reverse(s, entry_id=spend.entry_id, idempotency_key="undo-1", memo="customer changed mind", actor="op1")
        uow.commit()
    assert undo.replayed is False and undo.balances == {wallet: 5000, cash: -5000}
    assert _balances(uow_factory, cash, wallet) == [-5000, 5000]
    with uow_factory() as uow:
        s = uow.session
        entry = s.get(Entry, undo.entry_id)
        assert entry.reverses_id == spend.entry_id and entry.kind == "reversal"
        assert [(line.account_id, line.amount) for line in entry.lines] == [(wallet, 1800), (cash, -1800)]
        assert reverse(s, entry_id=spend.entry_id, idempotency_key="undo-1").replayed is True
        with pytest.raises(AlreadyReversed):
            reverse(s, entry_id=spend.entry_id, idempotency_key="undo-2")
        with pytest.raises(InvalidInput, match="itself a reversal"):
            reverse(s, entry_id=undo.entry_id, idempotency_key="undo-3")
        uow.commit()
    with uow_factory.read() as uow:
        assert _count(uow.session, Entry) == 3 and check(uow.session).ok
    assert _balances(uow_factory, cash, wallet) == [-5000, 5000]


def test_reversal_refused_when_the_money_is_spent(uow_factory) -> None:
    cash, wallet = _setup(uow_factory)
    with uow_factory() as uow:
        s = uow.session
        topup = post(s, idempotency_key=_key(), kind="wallet.topup",
                     lines=[LineSpec(cash, -1000), LineSpec(wallet, 1000)])
        post(s, idempotency_key=_key(), kind="wallet.consume", lines=[LineSpec(wallet, -600), LineSpec(cash, 600)])
        with pytest.raises(FloorBreached, match="balance 4.00 CNY, needed 10.00 CNY"):
            reverse(s, entry_id=topup.entry_id, idempotency_key=_key())
        uow.commit()
    assert _balances(uow_factory, cash, wallet) == [-400, 400]


def test_check_finds_a_tampered_balance(uow_factory) -> None:
    cash, wallet = _setup(uow_factory, funded=700)
    with uow_factory.read() as uow:
        clean = check(uow.session)
    assert clean.ok and clean.entries_checked == 1 and clean.accounts_checked == 2 and clean.problems == []
    _raw(uow_factory, "UPDATE ledger_accounts SET balance = balance + 100 WHERE id = :id", id=wallet)
    with uow_factory.read() as uow:
        result = check(uow.session)
    assert not result.ok
    assert [(p.code, p.account_id) for p in result.problems] == [("wrong_balance", wallet)]
    assert "balance 8.00 CNY but its lines add up to 7.00 CNY" in str(result.problems[0])


def test_check_finds_a_tampered_line(uow_factory) -> None:
    cash, wallet = _setup(uow_factory, funded=700)
    with uow_factory.read() as uow:
        entry_id, position = uow.session.execute(
            select(Line.entry_id, Line.position).where(Line.account_id == wallet)).one()
    _raw(uow_factory, "UPDATE ledger_lines SET amount = 900 WHERE entry_id = :entry AND position = :position",
         entry=entry_id, position=position)
    with uow_factory.read() as uow:
        result = check(uow.session)
    assert not result.ok
    found = {(p.code, p.entry_id, p.account_id) for p in result.problems}
    assert found == {("unbalanced_entry", entry_id, None), ("wrong_balance", None, wallet),
                     ("payload_changed", entry_id, None)}
    assert any(str(entry_id) in str(p) and "2.00 CNY instead of zero" in str(p) for p in result.problems)


def _run_threads(n: int, work: Callable[[int], object]) -> list[object]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(work, range(n)))


def test_concurrent_spends_on_one_hot_account_lose_nothing(uow_factory) -> None:
    threads, per_thread, initial = 8, 50, 500
    cash, hot = _setup(uow_factory, funded=initial)
    with uow_factory() as uow:
        sinks = [open_account(uow.session, owner_type="merchant", owner_id=f"M{i}", kind="revenue", unit="CNY").id
                 for i in range(threads)]
        uow.commit()

    def worker(t: int) -> tuple[int, int, list[Exception]]:
        done = refused = 0
        unexpected: list[Exception] = []
        amount = t % 3 + 1
        for _i in range(per_thread):
            try:
                with uow_factory() as uow:
                    post(uow.session, idempotency_key=_key(), kind="wallet.consume",
                         lines=[LineSpec(hot, -amount), LineSpec(sinks[t], amount)])
                    uow.commit()
                done += amount
            except FloorBreached:
                refused += 1
            except Exception as exc:  # noqa: BLE001 - reported below
                unexpected.append(exc)
        return done, refused, unexpected

    results = _run_threads(threads, worker)
    assert [e for _d, _r, errs in results for e in errs] == []
    spent = sum(d for d, _r, _e in results)
    final, *sink_balances = _balances(uow_factory, hot, *sinks)
    assert sum(r for _d, r, _e in results) > 0  # the floor was really reached
    assert final == initial - spent and 0 <= final < 3
    assert sum(sink_balances) == spent
    with uow_factory.read() as uow:
        assert check(uow.session).ok


def test_same_key_from_two_threads_posts_once(uow_factory) -> None:
    cash, wallet = _setup(uow_factory)
    rounds = 6
    for r in range(rounds):
        barrier = threading.Barrier(2)
        key = f"race-{r}"

        def worker(_t: int) -> tuple[uuid.UUID, bool]:
            with uow_factory() as uow:
                barrier.wait()
                result = post(uow.session, idempotency_key=key, kind="wallet.topup",
                              lines=[LineSpec(cash, -100), LineSpec(wallet, 100)])
                uow.commit()
                return result.entry_id, result.replayed

        (id_a, replay_a), (id_b, replay_b) = _run_threads(2, worker)
        assert id_a == id_b and sorted([replay_a, replay_b]) == [False, True]
    with uow_factory.read() as uow:
        assert _count(uow.session, Entry) == rounds
    assert _balances(uow_factory, cash, wallet) == [-100 * rounds, 100 * rounds]


def test_concurrent_open_account_makes_one_account(uow_factory) -> None:
    barrier = threading.Barrier(4)

    def worker(_t: int) -> uuid.UUID:
        with uow_factory() as uow:
            barrier.wait()
            account = open_account(uow.session, owner_type="card", owner_id="NEW", kind="wallet.main", unit="CNY")
            uow.commit()
            return account.id

    ids = _run_threads(4, worker)
    assert len(set(ids)) == 1
    with uow_factory.read() as uow:
        assert _count(uow.session, Account) == 1


# ------------------------------------------------------------ property test (SQLite)

FLOORS = (None, 0, 0, -300)  # account 0 is the unlimited source

_operation = st.one_of(
    st.tuples(st.just("post"), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(1, 900)),
    st.tuples(st.just("replay"), st.integers(0, 10_000)),
    st.tuples(st.just("reverse"), st.integers(0, 10_000)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_operation, min_size=1, max_size=25))
def test_random_movements_keep_the_invariants(operations: list[tuple]) -> None:
    from suite.db.engine import create_database_engine
    from suite.db.schema import create_schema
    from suite.db.uow import UnitOfWorkFactory

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_database_engine(f"sqlite:///{Path(tmp) / 'p.db'}")
        try:
            create_schema(engine)
            uows = UnitOfWorkFactory(engine)
            with uows() as uow:
                ids = [open_account(uow.session, owner_type="card", owner_id=f"P{i}", kind="wallet", unit="CNY",
                                    floor=floor).id for i, floor in enumerate(FLOORS)]
                uow.commit()
            model = [0] * len(ids)
            posted: list[tuple[str, list[LineSpec], dict[uuid.UUID, int], uuid.UUID]] = []
            reversed_ids: set[uuid.UUID] = set()

            def allowed(deltas: dict[int, int]) -> bool:
                return all(FLOORS[i] is None or model[i] + d >= FLOORS[i] for i, d in deltas.items())

            for op in operations:
                with uows() as uow:
                    s = uow.session
                    if op[0] == "post":
                        _n, src, dst1, dst2, amount = op
                        half = amount // 2
                        raw = [(src, -amount), (dst1, amount - half)] + ([(dst2, half)] if half else [])
                        lines = [LineSpec(ids[i], a) for i, a in raw]
                        deltas: dict[int, int] = {}
                        for i, a in raw:
                            deltas[i] = deltas.get(i, 0) + a
                        key = _key()
                        if allowed(deltas):
                            result = post(s, idempotency_key=key, kind="move", lines=lines)
                            assert not result.replayed
                            for i, d in deltas.items():
                                model[i] += d
                            posted.append((key, lines, result.balances, result.entry_id))
                        else:
                            with pytest.raises(FloorBreached):
                                post(s, idempotency_key=key, kind="move", lines=lines)
                    elif op[0] == "replay" and posted:
                        key, lines, first_balances, entry_id = posted[op[1] % len(posted)]
                        before = [balance(s, i) for i in ids]
                        again = post(s, idempotency_key=key, kind="move", lines=lines)
                        assert again.replayed and again.entry_id == entry_id and again.balances == first_balances
                        assert [balance(s, i) for i in ids] == before
                    elif op[0] == "reverse" and posted:
                        _key0, lines, _b, entry_id = posted[op[1] % len(posted)]
                        deltas = {}
                        for line in lines:
                            i = ids.index(line.account_id)
                            deltas[i] = deltas.get(i, 0) - line.amount
                        if entry_id in reversed_ids:
                            with pytest.raises(AlreadyReversed):
                                reverse(s, entry_id=entry_id, idempotency_key=_key())
                        elif allowed(deltas):
                            reverse(s, entry_id=entry_id, idempotency_key=_key())
                            reversed_ids.add(entry_id)
                            for i, d in deltas.items():
                                model[i] += d
                        else:
                            with pytest.raises(FloorBreached):
                                reverse(s, entry_id=entry_id, idempotency_key=_key())
                    uow.commit()
            with uows.read() as uow:
                s = uow.session
                actual = [balance(s, i) for i in ids]
                result = check(s)
                sums = s.execute(select(Line.entry_id, Line.unit, func.sum(Line.amount))
                                 .group_by(Line.entry_id, Line.unit)).all()
            assert actual == model
            assert all(f is None or b >= f for b, f in zip(actual, FLOORS))
            assert all(total == 0 for _e, _u, total in sums)
            assert result.ok, result.problems
        finally:
            engine.dispose()
