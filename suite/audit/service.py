"""The audit log for the screens and the CLI: reading and verifying, permissions checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from suite.audit.log import list_events
from suite.audit.verify import AuditVerification, verify


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: dt.datetime
    kind: str
    action: str
    actor: str
    target: str


class AuditService:
    def __init__(self, uow_factory: Any, identity: Any) -> None:
        self._uow = uow_factory
        self._identity = identity

    def events(self, actor: Any, *, kind: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """The newest events first (``kind``: operation, security or None for both)."""
        self._identity.require(actor, "audit.view")
        with self._uow.read() as uow:
            return [AuditEntry(e.seq, e.at, e.kind, e.action, e.actor, e.target)
                    for e in list_events(uow.session, kind=kind or None, limit=limit)]

    def verify(self, actor: Any) -> AuditVerification:
        """Walk the whole chain: ``ok``, rows checked, and each problem by its seq."""
        self._identity.require(actor, "audit.verify")
        with self._uow.read() as uow:
            return verify(uow.session)
