"""The audit log on SQLite and PostgreSQL: appends chain, and verify names the row that was
edited, deleted or moved."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from sqlalchemy import select, text

from suite.audit import AuditEvent, list_events, record, record_now, verify
from suite.audit.chain import event_hash
from suite.audit.models import GENESIS_HASH, AuditChainHead
from suite.db.core_models import Venue


def _seed(uow_factory, count: int = 5) -> None:
    venue = uuid.uuid4()
    with uow_factory() as uow:
        for n in range(1, count + 1):
            record(uow.session, kind="security" if n % 2 else "operation", action=f"test.step{n}",
                   actor="alice", target=f"thing-{n}", details={"n": n, "名字": "张三", "b": [1, 2]},
                   venue_id=venue)
        uow.commit()


def _problems(uow_factory) -> list[tuple[int, str]]:
    with uow_factory.read() as uow:
        result = verify(uow.session)
    assert result.ok is (not result.problems)
    return [(p.seq, p.problem) for p in result.problems]


def _sql(engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_clean_chain_verifies_and_links(uow_factory) -> None:
    _seed(uow_factory, 5)
    with uow_factory.read() as uow:
        result = verify(uow.session)
        rows = list(uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        head = uow.session.get(AuditChainHead, 1)
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
        assert all(event_hash(r) == r.hash for r in rows)
        assert head is not None and (head.last_seq, head.last_hash) == (5, rows[-1].hash)
        last_hash = head.last_hash
    assert result.ok and result.problems == []
    assert result.checked == 5
    assert (result.last_seq, result.last_hash) == (5, last_hash)


def test_details_are_stored_canonically(uow_factory) -> None:
    when = dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.timezone.utc)
    with uow_factory() as uow:
        event = record(uow.session, kind="operation", action="user.create", actor="admin", target="bob",
                       details={"z": 1, "a": {"y": when, "id": uuid.UUID(int=1)}, "名": "李四"})
        uow.commit()
    assert event.details == ('{"a":{"id":"00000000-0000-0000-0000-000000000001",'
                             '"y":"2024-05-01T08:30:00+00:00"},"z":1,"名":"李四"}')
    assert event.details_dict["z"] == 1


def test_empty_log_verifies(uow_factory) -> None:
    assert _problems(uow_factory) == []


@pytest.mark.parametrize("column,value", [
    ("details", '{"n":3,"amount":999}'),
    ("actor", "mallory"),
    ("target", "someone-else"),
    ("kind", "operation"),
])
def test_edited_row_is_named(uow_factory, engine, column: str, value: str) -> None:
    _seed(uow_factory, 5)
    _sql(engine, f"UPDATE audit_events SET {column} = :v WHERE seq = 3", v=value)
    assert _problems(uow_factory) == [(3, "edited")]


def test_edited_time_is_named(uow_factory, engine) -> None:
    _seed(uow_factory, 5)
    with uow_factory() as uow:
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.seq == 2)).one()
        event.at = event.at - dt.timedelta(hours=1)
        uow.commit()
    assert _problems(uow_factory) == [(2, "edited")]


def test_rewritten_row_with_a_fresh_hash_is_named(uow_factory) -> None:
    """Someone who knows the algorithm edits row 3 and recomputes its hash: row 4 still
    links to the old one."""
    _seed(uow_factory, 5)
    with uow_factory() as uow:
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.seq == 3)).one()
        event.details = '{"n":3,"forged":true}'
        event.hash = event_hash(event)
        uow.commit()
    assert _problems(uow_factory) == [(3, "edited")]


def test_deleted_middle_row_is_named(uow_factory, engine) -> None:
    _seed(uow_factory, 5)
    _sql(engine, "DELETE FROM audit_events WHERE seq = 3")
    with uow_factory.read() as uow:
        result = verify(uow.session)
    assert [(p.seq, p.problem) for p in result.problems] == [(3, "deleted")]
    assert result.checked == 4
    assert "3" in result.problems[0].message


def test_deleted_run_of_rows_is_one_problem(uow_factory, engine) -> None:
    _seed(uow_factory, 6)
    _sql(engine, "DELETE FROM audit_events WHERE seq IN (2, 3, 4)")
    with uow_factory.read() as uow:
        result = verify(uow.session)
    assert [(p.seq, p.problem) for p in result.problems] == [(2, "deleted")]
    assert "2" in result.problems[0].message and "4" in result.problems[0].message


def test_deleted_first_row_is_named(uow_factory, engine) -> None:
    _seed(uow_factory, 3)
    _sql(engine, "DELETE FROM audit_events WHERE seq = 1")
    assert _problems(uow_factory) == [(1, "deleted")]


def test_swapped_rows_are_reported_as_reordered(uow_factory, engine) -> None:
    _seed(uow_factory, 6)
    _sql(engine, "UPDATE audit_events SET seq = -1 WHERE seq = 3")
    _sql(engine, "UPDATE audit_events SET seq = 3 WHERE seq = 4")
    _sql(engine, "UPDATE audit_events SET seq = 4 WHERE seq = -1")
    with uow_factory.read() as uow:
        result = verify(uow.session)
    assert [(p.seq, p.problem) for p in result.problems] == [(3, "reordered"), (4, "reordered")]
    assert "4" in result.problems[0].message  # row 3 holds what was written as row 4


def test_swapped_contents_are_reported_as_reordered(uow_factory, engine) -> None:
    """Swap every field but seq between rows 2 and 5 (not neighbours)."""
    _seed(uow_factory, 6)
    with engine.begin() as conn:
        rows = {r.seq: dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_events WHERE seq IN (2, 5)"))}
        conn.execute(text("UPDATE audit_events SET seq = -2 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 5"))
        conn.execute(text("UPDATE audit_events SET seq = 5 WHERE seq = -2"))
    assert rows[2]["id"] != rows[5]["id"]
    assert _problems(uow_factory) == [(2, "reordered"), (5, "reordered")]


def test_deleted_last_row_is_found_through_the_head(uow_factory, engine) -> None:
    _seed(uow_factory, 5)
    _sql(engine, "DELETE FROM audit_events WHERE seq = 5")
    with uow_factory.read() as uow:
        result = verify(uow.session)
    assert [(p.seq, p.problem) for p in result.problems] == [(5, "deleted")]
    assert "head" in result.problems[0].message


def test_rewritten_last_row_disagrees_with_the_head(uow_factory) -> None:
    _seed(uow_factory, 4)
    with uow_factory() as uow:
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.seq == 4)).one()
        event.actor = "mallory"
        event.hash = event_hash(event)
        uow.commit()
    assert _problems(uow_factory) == [(4, "head_mismatch")]


def test_row_added_behind_the_heads_back_is_found(uow_factory, engine) -> None:
    _seed(uow_factory, 3)
    _sql(engine, "UPDATE audit_chain_head SET last_seq = 2")
    with uow_factory.read() as uow:
        last_hash = uow.session.scalars(select(AuditEvent.hash).where(AuditEvent.seq == 2)).one()
    _sql(engine, "UPDATE audit_chain_head SET last_hash = :h", h=last_hash)
    assert _problems(uow_factory) == [(3, "head_mismatch")]


def test_record_rolls_back_with_the_callers_work(uow_factory) -> None:
    with uow_factory() as uow:
        uow.session.add(Venue(code="X", name="X"))
        record(uow.session, kind="operation", action="venue.add", actor="alice", target="X")
        # no commit: the venue and its audit event go together
    with uow_factory() as uow:
        event = record(uow.session, kind="operation", action="venue.add", actor="alice", target="Y")
        uow.commit()
    assert (event.seq, event.prev_hash) == (1, GENESIS_HASH)
    with uow_factory.read() as uow:
        assert uow.session.scalar(select(Venue).where(Venue.code == "X")) is None
        assert [e.target for e in list_events(uow.session)] == ["Y"]
    assert _problems(uow_factory) == []


def test_record_now_commits_on_its_own(uow_factory) -> None:
    event = record_now(uow_factory, kind="security", action="login.failed", actor="bob", target="bob",
                       details={"reason": "wrong_password"})
    with uow_factory.read() as uow:
        stored = list_events(uow.session, kind="security")
        assert [(e.id, e.action, e.details_dict) for e in stored] == [
            (event.id, "login.failed", {"reason": "wrong_password"})]


def test_list_events_filters_newest_first(uow_factory) -> None:
    _seed(uow_factory, 6)
    with uow_factory.read() as uow:
        session = uow.session
        assert [e.seq for e in list_events(session)] == [6, 5, 4, 3, 2, 1]
        assert [e.seq for e in list_events(session, kind="security")] == [5, 3, 1]
        assert [e.seq for e in list_events(session, limit=2)] == [6, 5]
        assert [e.seq for e in list_events(session, before_seq=3)] == [2, 1]
        assert [e.seq for e in list_events(session, action="test.step4")] == [4]
        assert [e.seq for e in list_events(session, action="test.")] == [6, 5, 4, 3, 2, 1]
        future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
        assert list_events(session, since=future) == []
        assert len(list_events(session, since=future - dt.timedelta(hours=1))) == 6


def test_record_rejects_an_unknown_kind(uow_factory) -> None:
    with uow_factory() as uow:
        with pytest.raises(ValueError):
            record(uow.session, kind="gossip", action="x.y", actor="alice")


def test_concurrent_appends_never_fork_the_chain(uow_factory) -> None:
    """Four writers append at once, starting from an empty log with no head row yet."""
    per_thread, threads = 25, 4
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                record_now(uow_factory, kind="operation", action="test.concurrent", actor=f"writer{n}",
                           target=str(i), details={"writer": n, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    with uow_factory.read() as uow:
        result = verify(uow.session)
        seqs = list(uow.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        details = [json.loads(d) for d in uow.session.scalars(select(AuditEvent.details))]
    assert result.ok, result.problems
    assert result.checked == per_thread * threads
    assert seqs == list(range(1, per_thread * threads + 1))
    assert {(d["writer"], d["i"]) for d in details} == {(n, i) for n in range(threads) for i in range(per_thread)}
