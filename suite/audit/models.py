"""The audit tables: one hash-chained log of operation and security events, and its head.

``audit_events`` is append-only: each row's ``hash`` covers its own fields and the previous
row's hash, so editing, deleting or reordering rows breaks the chain where it happened.
``audit_chain_head`` holds the newest ``seq`` and ``hash``; writers lock it (``SELECT ... FOR
UPDATE``) so concurrent appends queue up and the chain never forks, and it lets ``verify``
notice rows deleted from the end.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suite.db.base import Base, utcnow
from suite.db.ids import uuid7

KINDS = ("operation", "security")
GENESIS_HASH = "0" * 64
HEAD_ID = 1


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("kind IN ('operation', 'security')", name="kind"),
        Index("ix_audit_events_kind_seq", "kind", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(Text, default="")
    # canonical JSON text (sorted keys, compact separators): exactly what the hash covers
    details: Mapped[str] = mapped_column(Text, default="{}")
    venue_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    terminal_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # unique: every row has exactly one successor, so a forked chain cannot even be stored
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def details_dict(self) -> dict[str, Any]:
        value = json.loads(self.details or "{}")
        return value if isinstance(value, dict) else {"value": value}

    def __repr__(self) -> str:
        return f"<AuditEvent #{self.seq} {self.kind} {self.action} by {self.actor} on {self.target!r}>"


class AuditChainHead(Base):
    """A single row (id 1): the newest event's ``seq`` and ``hash``."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint(f"id = {HEAD_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
