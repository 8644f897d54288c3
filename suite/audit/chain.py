"""The canonical form of an audit event and its hash: the one definition writers and
``verify`` share, so the two can never disagree about what a row's hash covers."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any, Protocol


class ChainedFields(Protocol):
    """What the hash covers: every column but ``hash`` itself (``prev_hash`` is the prefix)."""

    @property
    def seq(self) -> int: ...
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def details(self) -> str: ...
    @property
    def venue_id(self) -> uuid.UUID | None: ...
    @property
    def terminal_id(self) -> uuid.UUID | None: ...
    @property
    def prev_hash(self) -> str: ...


def _json_default(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"audit details: {type(value).__name__} is not JSON serialisable")


def canonical_json(value: Mapping[str, Any] | None) -> str:
    """Sorted keys, compact separators, UTF-8 text: one spelling per value."""
    return json.dumps(dict(value or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default, allow_nan=False)


def canonical_time(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _uuid_text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def event_hash(row: ChainedFields, *, seq: int | None = None) -> str:
    """sha256(prev_hash + canonical JSON of the other fields); ``seq`` overrides the row's own
    (``verify`` asks "would this row be intact at another position?")."""
    payload = {
        "seq": row.seq if seq is None else seq,
        "id": str(row.id),
        "at": canonical_time(row.at),
        "kind": row.kind,
        "action": row.action,
        "actor": row.actor,
        "target": row.target,
        "details": row.details,
        "venue_id": _uuid_text(row.venue_id),
        "terminal_id": _uuid_text(row.terminal_id),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((row.prev_hash + text).encode("utf-8")).hexdigest()
