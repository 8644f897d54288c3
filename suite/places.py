"""Venues and terminals: where the chain's operations happen."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.db.core_models import Terminal, Venue
from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _

VENUE_KINDS = ("head_office", "cinema", "theatre", "ktv", "park", "scenic", "venue")


@dataclass(frozen=True)
class Place:
    venue_id: uuid.UUID
    terminal_id: uuid.UUID | None


def _code(value: str, what: str) -> str:
    code = value.strip().upper()
    if not code or len(code) > 32 or not all(ch.isalnum() or ch in "-_" for ch in code):
        raise InvalidInput(_("{what} code {code!r}: use 1-32 letters, digits, '-' or '_'.").format(what=what, code=value))
    return code


def venue_by_code(session: Session, code: str) -> Venue:
    venue = session.scalar(select(Venue).where(Venue.code == code.strip().upper()))
    if venue is None:
        raise NotFound(_("No venue with code {code}.").format(code=code))
    return venue


def add_venue(session: Session, *, code: str, name: str, kind: str = "venue", actor: str) -> Venue:
    code = _code(code, _("Venue"))
    if kind not in VENUE_KINDS:
        raise InvalidInput(_("Venue kind must be one of: {kinds}.").format(kinds=", ".join(VENUE_KINDS)))
    if session.scalar(select(Venue.id).where(Venue.code == code)) is not None:
        raise Conflict(_("A venue with code {code} already exists.").format(code=code))
    venue = Venue(code=code, name=name or code, kind=kind)
    session.add(venue)
    session.flush()
    venue.venue_id = venue.id
    record(session, kind="operation", action="venue.add", actor=actor, target=code,
           details={"name": venue.name, "kind": kind}, venue_id=venue.id)
    return venue


def count_terminals(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Terminal).where(Terminal.active)) or 0)


def add_terminal(session: Session, *, venue_code: str, code: str, name: str = "", actor: str,
                 max_terminals: int | None) -> Terminal:
    """Register a terminal; ``max_terminals`` is the licence's limit (None: no licence limit)."""
    venue = venue_by_code(session, venue_code)
    code = _code(code, _("Terminal"))
    if session.scalar(select(Terminal.id).where(Terminal.venue_ref == venue.id, Terminal.code == code)):
        raise Conflict(_("Terminal {code} already exists at {venue}.").format(code=code, venue=venue.code))
    if max_terminals is not None and count_terminals(session) >= max_terminals:
        raise Conflict(_("The licence allows {n} terminals; all are registered.").format(n=max_terminals))
    terminal = Terminal(venue_ref=venue.id, code=code, name=name or code, venue_id=venue.id)
    session.add(terminal)
    session.flush()
    terminal.terminal_id = terminal.id
    record(session, kind="operation", action="terminal.add", actor=actor, target=f"{venue.code}/{code}",
           venue_id=venue.id, terminal_id=terminal.id)
    return terminal


def list_venues(session: Session) -> list[Venue]:
    return list(session.scalars(select(Venue).order_by(Venue.code)))


def list_terminals(session: Session, venue_code: str | None = None) -> list[tuple[Venue, Terminal]]:
    query = select(Venue, Terminal).join(Terminal, Terminal.venue_ref == Venue.id).order_by(Venue.code, Terminal.code)
    if venue_code:
        query = query.where(Venue.code == venue_code.strip().upper())
    return [(v, t) for v, t in session.execute(query)]


@dataclass(frozen=True)
class VenueInfo:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    active: bool


@dataclass(frozen=True)
class TerminalInfo:
    id: uuid.UUID
    venue_code: str
    code: str
    name: str
    active: bool


class PlacesService:
    """Venues and terminals for the screens and the CLI: permissions checked, audited."""

    def __init__(self, uow_factory: Any, identity: Any, licences: Any) -> None:
        self._uow = uow_factory
        self._identity = identity
        self._licences = licences

    def venues(self) -> list[VenueInfo]:
        with self._uow.read() as uow:
            return [VenueInfo(v.id, v.code, v.name, v.kind, v.active) for v in list_venues(uow.session)]

    def terminals(self, venue_code: str | None = None) -> list[TerminalInfo]:
        with self._uow.read() as uow:
            return [TerminalInfo(t.id, v.code, t.code, t.name, t.active)
                    for v, t in list_terminals(uow.session, venue_code)]

    def terminal_limit(self) -> int:
        """The licence's terminal count; with no licence installed a chain may run one terminal."""
        licence = self._licences.current()
        return licence.max_terminals if licence is not None else 1

    def add_venue(self, actor: Any, *, code: str, name: str, kind: str = "venue") -> VenueInfo:
        self._identity.require(actor, "admin.settings")
        with self._uow() as uow:
            venue = add_venue(uow.session, code=code, name=name, kind=kind, actor=actor.username)
            uow.commit()
            return VenueInfo(venue.id, venue.code, venue.name, venue.kind, venue.active)

    def add_terminal(self, actor: Any, *, venue_code: str, code: str, name: str = "") -> TerminalInfo:
        self._identity.require(actor, "admin.settings")
        limit = self.terminal_limit()
        with self._uow() as uow:
            terminal = add_terminal(uow.session, venue_code=venue_code, code=code, name=name,
                                    actor=actor.username, max_terminals=limit)
            uow.commit()
            return TerminalInfo(terminal.id, venue_code.strip().upper(), terminal.code, terminal.name, terminal.active)
