"""The few read/write calls of the admin screens that no service offers yet.

Venues, terminals and the audit log are reached through plain functions taking a session
(``suite.places``, ``suite.audit.log``); the CLI opens the unit of work around them itself.
The shell does the same here, in this one module and nowhere else in ``suite.ui``, with the
same permission checks as the CLI verbs (``admin.settings``, ``audit.view``,
``audit.verify``). No widget code: every function is callable from any thread. When
``suite.places`` and ``suite.audit`` grow service objects, these become one-line calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from suite.db.engine import check_connection

ADMIN_SETTINGS = "admin.settings"
AUDIT_VIEW = "audit.view"
AUDIT_VERIFY = "audit.verify"


@dataclass(frozen=True)
class VenueRow:
    code: str
    name: str
    kind: str
    active: bool
    id: Any


@dataclass(frozen=True)
class TerminalRow:
    venue_code: str
    code: str
    name: str
    active: bool


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: dt.datetime
    kind: str
    action: str
    actor: str
    target: str


def list_venues(app: Any) -> list[VenueRow]:
    from suite import places

    with app.uow.read() as uow:
        return [VenueRow(v.code, v.name, v.kind, v.active, v.id) for v in places.list_venues(uow.session)]


def list_terminals(app: Any) -> list[TerminalRow]:
    from suite import places

    with app.uow.read() as uow:
        return [TerminalRow(v.code, t.code, t.name, t.active) for v, t in places.list_terminals(uow.session)]


def add_venue(app: Any, actor: Any, *, code: str, name: str, kind: str) -> VenueRow:
    from suite import places

    app.identity.require(actor, ADMIN_SETTINGS)
    with app.uow() as uow:
        venue = places.add_venue(uow.session, code=code, name=name, kind=kind, actor=actor.username)
        uow.commit()
        return VenueRow(venue.code, venue.name, venue.kind, venue.active, venue.id)


def add_terminal(app: Any, actor: Any, *, venue_code: str, code: str, name: str) -> TerminalRow:
    from suite import places

    app.identity.require(actor, ADMIN_SETTINGS)
    licence = app.licences.current()
    limit = licence.max_terminals if licence is not None else 1
    with app.uow() as uow:
        terminal = places.add_terminal(uow.session, venue_code=venue_code, code=code, name=name,
                                       actor=actor.username, max_terminals=limit)
        uow.commit()
        return TerminalRow(venue_code.strip().upper(), terminal.code, terminal.name, terminal.active)


def audit_events(app: Any, actor: Any, *, kind: str | None = None, limit: int = 200) -> list[AuditRow]:
    from suite.audit.log import list_events

    app.identity.require(actor, AUDIT_VIEW)
    with app.uow.read() as uow:
        return [AuditRow(e.seq, e.at, e.kind, e.action, e.actor, e.target)
                for e in list_events(uow.session, kind=kind or None, limit=limit)]


def verify_audit(app: Any, actor: Any) -> Any:
    """The ``AuditVerification`` of the whole chain (ok, checked, problems by seq)."""
    from suite.audit.log import verify

    app.identity.require(actor, AUDIT_VERIFY)
    with app.uow.read() as uow:
        return verify(uow.session)


def ping(app: Any) -> bool:
    """True when the database answers (run it off the Tk thread: it may wait for a timeout)."""
    try:
        check_connection(app.engine)
    except Exception:  # noqa: BLE001 - any failure means offline
        return False
    return True
