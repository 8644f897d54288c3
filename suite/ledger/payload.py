"""What a movement is, independent of storage: its lines, its result, and its fingerprint."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One leg of a movement: ``amount`` (minor units, points or counts) added to the account.
    ``unit``, when given, is checked against the account's unit."""

    account_id: uuid.UUID
    amount: int
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class PostResult:
    """The entry, whether this call was a replay of an earlier identical post, and the balance of
    every account touched right after the entry applied (the same on a replay)."""

    entry_id: uuid.UUID
    replayed: bool
    balances: dict[uuid.UUID, int]


def payload_digest(kind: str, lines: Sequence[LineSpec], reverses_id: uuid.UUID | None = None) -> str:
    """SHA-256 of the canonical JSON of what a movement does: kind and sorted (account, amount)."""
    payload: dict[str, Any] = {"kind": kind,
                               "lines": sorted([str(line.account_id), line.amount] for line in lines)}
    if reverses_id is not None:
        payload["reverses"] = str(reverses_id)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


__all__ = ["LineSpec", "PostResult", "payload_digest"]
