"""Walking the audit chain: which row was edited, deleted or moved.

Rows are read in ``seq`` order, a page at a time. A row whose hash does not match its
contents was either edited or moved: it was moved (``reordered``) when it is intact at the
position its chain links give it (the row its ``prev_hash`` names, or the row naming its
hash, tells where it was written). A jump in ``seq`` is a deletion; rows missing at the end
are found through the chain head, which every writer updates in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any
from dataclasses import dataclass, field

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from suite.audit.chain import event_hash
from suite.audit.models import GENESIS_HASH, HEAD_ID, AuditChainHead, AuditEvent
from suite.i18n import _

PAGE = 1000
# how far verify follows chain links to place a moved row (a swap needs 1-2)
MAX_LINK_DEPTH = 16

_events = AuditEvent.__table__
_head = AuditChainHead.__table__


@dataclass(frozen=True)
class AuditProblem:
    """``problem`` is ``edited``, ``deleted``, ``reordered`` or ``head_mismatch``."""

    seq: int
    problem: str
    message: str


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    checked: int
    problems: list[AuditProblem] = field(default_factory=list)
    # the newest verified link: write it down elsewhere to anchor the chain
    last_seq: int = 0
    last_hash: str = GENESIS_HASH


@dataclass(frozen=True, slots=True)
class _Row:
    seq: int
    id: uuid.UUID
    at: dt.datetime
    kind: str
    action: str
    actor: str
    target: str
    details: str
    venue_id: uuid.UUID | None
    terminal_id: uuid.UUID | None
    prev_hash: str
    hash: str

    @property
    def intact(self) -> bool:
        return event_hash(self) == self.hash


def _row(found: Row[Any]) -> _Row:
    values = found._mapping
    return _Row(**{name: values[name] for name in _Row.__slots__})


def _rows_up_to(session: Session, last_seq: int) -> Iterator[_Row]:
    after = 0
    while True:
        query = (select(_events).where(_events.c.seq > after, _events.c.seq <= last_seq)
                 .order_by(_events.c.seq).limit(PAGE))
        page = session.execute(query).all()
        if not page:
            return
        for item in page:
            yield _row(item)
        after = page[-1].seq


class _Placer:
    """Finds the position a row was written at, following its links to intact neighbours."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._memo: dict[uuid.UUID, int | None] = {}

    def _one(self, column: str, value: str) -> _Row | None:
        found = self._session.execute(select(_events).where(_events.c[column] == value)).first()
        return _row(found) if found is not None else None

    def written_at(self, row: _Row, depth: int = 0) -> int | None:
        if row.id in self._memo:
            return self._memo[row.id]
        self._memo[row.id] = None  # guards against following a loop of links
        result = row.seq if row.intact else self._search(row, depth)
        self._memo[row.id] = result
        return result

    def _search(self, row: _Row, depth: int) -> int | None:
        for candidate in self._candidates(row, depth):
            if candidate >= 1 and event_hash(row, seq=candidate) == row.hash:
                return candidate
        return None

    def _candidates(self, row: _Row, depth: int) -> Iterator[int]:
        if row.prev_hash == GENESIS_HASH:
            yield 1
        if depth >= MAX_LINK_DEPTH:
            return
        before = self._one("hash", row.prev_hash)
        if before is not None and (seq := self.written_at(before, depth + 1)) is not None:
            yield seq + 1
        after = self._one("prev_hash", row.hash)
        if after is not None and (seq := self.written_at(after, depth + 1)) is not None:
            yield seq - 1


def _missing(first: int, last: int) -> AuditProblem:
    if first == last:
        message = _("Row {seq} is missing: it was deleted.").format(seq=first)
    else:
        message = _("Rows {first} to {last} are missing: they were deleted.").format(first=first, last=last)
    return AuditProblem(first, "deleted", message)


def verify(session: Session) -> AuditVerification:
    """Walk the whole chain in ``seq`` order and report every problem found."""
    head = session.execute(select(_head).where(_head.c.id == HEAD_ID)).first()
    head_seq = head.last_seq if head is not None else None
    bound = head_seq if head_seq is not None else session.scalar(select(func.max(_events.c.seq))) or 0
    problems: list[AuditProblem] = []
    placer = _Placer(session)
    checked = 0
    prev: _Row | None = None
    prev_intact = True
    for row in _rows_up_to(session, bound):
        checked += 1
        intact = row.intact
        if not intact:
            written = placer.written_at(row)
            if written is not None and written != row.seq:
                problems.append(AuditProblem(row.seq, "reordered", _(
                    "Row {seq} holds the event written as row {original}: rows were reordered.").format(
                    seq=row.seq, original=written)))
            else:
                problems.append(AuditProblem(row.seq, "edited", _(
                    "Row {seq} was changed after it was written: its hash does not match its contents.").format(
                    seq=row.seq)))
        expected = 1 if prev is None else prev.seq + 1
        if row.seq > expected:
            problems.append(_missing(expected, row.seq - 1))
        elif intact and prev_intact:
            expected_link = GENESIS_HASH if prev is None else prev.hash
            if row.prev_hash != expected_link:
                # the earlier row was rewritten with a fresh hash; the later one still names the old
                culprit = prev.seq if prev is not None else row.seq
                problems.append(AuditProblem(culprit, "edited", _(
                    "Row {seq} was rewritten: row {next} does not link to it.").format(seq=culprit, next=row.seq)))
        prev, prev_intact = row, intact

    last_seq = prev.seq if prev is not None else 0
    last_hash = prev.hash if prev is not None else GENESIS_HASH
    problems.extend(_head_problems(session, head, last_seq, last_hash))
    return AuditVerification(ok=not problems, checked=checked, problems=problems,
                             last_seq=last_seq, last_hash=last_hash)


def _head_problems(session: Session, head: object | None, last_seq: int, last_hash: str) -> list[AuditProblem]:
    if head is None:
        if last_seq:
            return [AuditProblem(last_seq, "head_mismatch", _(
                "The chain head is missing although the log has {n} rows.").format(n=last_seq))]
        return []
    head_seq, head_hash = head.last_seq, head.last_hash  # type: ignore[attr-defined]
    if last_seq < head_seq:
        first = last_seq + 1
        message = _("Rows {first} to {last} are missing: the chain head records {last} rows but the log "
                    "ends at row {end}.").format(first=first, last=head_seq, end=last_seq)
        return [AuditProblem(first, "deleted", message)]
    if head_seq and head_hash != last_hash:
        return [AuditProblem(head_seq, "head_mismatch", _(
            "Row {seq} does not match the chain head: the row or the head was rewritten.").format(seq=head_seq))]
    # rows past the head were not appended through it; read the newest seq before the head
    # again, so an append committing meanwhile cannot look like one
    newest = session.scalar(select(func.max(_events.c.seq))) or 0
    current = session.execute(select(_head.c.last_seq).where(_head.c.id == HEAD_ID)).scalar() or 0
    if newest > current:
        return [AuditProblem(current + 1, "head_mismatch", _(
            "Rows {first} to {last} were added without going through the chain head.").format(
            first=current + 1, last=newest))]
    return []
