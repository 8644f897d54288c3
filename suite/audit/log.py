"""Writing and reading the audit log.

``record`` appends within the caller's transaction: the event commits or rolls back with the
work it describes. ``record_now`` appends in a transaction of its own, for events that must
stay even when the caller's work fails (a refused login, a denied permission).

Appending locks the chain head row until the transaction ends, so audited transactions on
one database commit one at a time at that point: record late in a unit of work, not first.
On SQLite the whole database has one writer, so ``record_now`` must not be called while the
same thread holds an open write transaction (it would wait for itself).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from suite.audit.chain import canonical_json, event_hash
from suite.audit.models import GENESIS_HASH, HEAD_ID, KINDS, AuditChainHead, AuditEvent
from suite.audit.verify import AuditProblem, AuditVerification, verify
from suite.db.base import utcnow
from suite.db.ids import uuid7
from suite.db.uow import UnitOfWorkFactory

MAX_ACTION = 64
MAX_ACTOR = 128
DEFAULT_LIMIT = 200


def _insert_head_if_missing(session: Session) -> None:
    """Create the head row once; concurrent first writers must not fail on each other."""
    dialect = session.get_bind().dialect.name
    values = {"id": HEAD_ID, "last_seq": 0, "last_hash": GENESIS_HASH}
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(AuditChainHead).values(values).on_conflict_do_nothing(index_elements=["id"]))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(AuditChainHead).values(values).on_conflict_do_nothing(index_elements=["id"]))
    else:  # pragma: no cover - the suite supports SQLite and PostgreSQL only
        from sqlalchemy import insert
        from sqlalchemy.exc import IntegrityError

        try:
            with session.begin_nested():
                session.execute(insert(AuditChainHead).values(values))
        except IntegrityError:
            pass


_HEAD = AuditChainHead.__table__
_EVENTS = AuditEvent.__table__
# built once: appending is on the path of every audited operation
_LOCK_HEAD = select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
_INSERT_EVENT = insert(_EVENTS)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(last_seq=bindparam("seq"), last_hash=bindparam("hash"))
_COLUMNS = ("id", "seq", "at", "kind", "action", "actor", "target", "details", "venue_id", "terminal_id",
            "prev_hash", "hash")


def _lock_head(session: Session) -> tuple[int, str]:
    """(last seq, last hash), with the head row locked until the transaction ends."""
    connection = session.connection()
    head = connection.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        _insert_head_if_missing(session)
        head = connection.execute(_LOCK_HEAD).one()
    return int(head[0]), str(head[1])


def record(session: Session, *, kind: str, action: str, actor: str, target: str = "",
           details: Mapping[str, Any] | None = None, venue_id: uuid.UUID | None = None,
           terminal_id: uuid.UUID | None = None) -> AuditEvent:
    """Append an event within the caller's transaction and return it (written, not attached to
    the session: two statements on the connection after the head is locked)."""
    if kind not in KINDS:
        raise ValueError(f"audit kind must be one of {KINDS}, not {kind!r}")
    if not action or len(action) > MAX_ACTION:
        raise ValueError(f"audit action must have 1-{MAX_ACTION} characters: {action!r}")
    if not actor:
        raise ValueError("audit actor must not be empty")
    last_seq, last_hash = _lock_head(session)
    event = AuditEvent(id=uuid7(), seq=last_seq + 1, at=utcnow(), kind=kind, action=action,
                       actor=actor[:MAX_ACTOR], target=str(target or ""), details=canonical_json(details),
                       venue_id=venue_id, terminal_id=terminal_id, prev_hash=last_hash)
    event.hash = event_hash(event)
    connection = session.connection()
    connection.execute(_INSERT_EVENT, {name: getattr(event, name) for name in _COLUMNS})
    connection.execute(_MOVE_HEAD, {"seq": event.seq, "hash": event.hash})
    return event


def record_now(uow_factory: UnitOfWorkFactory, *, kind: str, action: str, actor: str, target: str = "",
               details: Mapping[str, Any] | None = None, venue_id: uuid.UUID | None = None,
               terminal_id: uuid.UUID | None = None) -> AuditEvent:
    """Append an event in its own transaction and commit it at once."""
    with uow_factory() as uow:
        event = record(uow.session, kind=kind, action=action, actor=actor, target=target, details=details,
                       venue_id=venue_id, terminal_id=terminal_id)
        uow.commit()
    return event


def list_events(session: Session, *, kind: str | None = None, since: dt.datetime | None = None,
                until: dt.datetime | None = None, action: str | None = None, actor: str | None = None,
                target: str | None = None, before_seq: int | None = None,
                limit: int = DEFAULT_LIMIT) -> list[AuditEvent]:
    """Newest first, for a log viewer. ``action`` ending in ``.`` matches a prefix
    (``"login."``); ``before_seq`` pages back from an event already shown."""
    query = select(AuditEvent)
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True) if action.endswith(".")
                            else AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if target:
        query = query.where(AuditEvent.target == target)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    query = query.order_by(AuditEvent.seq.desc()).limit(max(1, min(limit, 10_000)))
    return list(session.scalars(query))


__all__ = ["AuditEvent", "AuditProblem", "AuditVerification", "list_events", "record", "record_now", "verify"]
