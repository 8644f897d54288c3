"""The venue's gate emergency (G5): every gate free, validation suspended, until an
administrator resets it.

The fire-alarm input of a gate or an operator's button starts it; gate PCs poll ``state()``
(about once a second) and release or reset their gates accordingly; the attendant screen shows
it. It lives in the host, not in a plugin, because safety is never licence-gated: an expired or
missing licence changes nothing here.

One ``gate_emergencies`` row per venue, updated in place; the history is in the audit log
(security events ``gates.emergency.on`` and ``gates.emergency.off``, written in the same
transaction as the change). Permissions: ``gates.emergency`` to start it (gate attendants,
managers; system actors such as a gate's fire alarm always pass), ``gates.emergency_reset`` to
end it (no default role: the system administrator only). A denied permission is written to the
security log by ``IdentityService.require``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.db.base import utcnow
from suite.db.core_models import GateEmergency, Venue
from suite.errors import ConfigError, Conflict, InvalidInput
from suite.i18n import _
from suite.identity.actor import Actor

EMERGENCY = "gates.emergency"
EMERGENCY_RESET = "gates.emergency_reset"

OPERATOR = "operator"
FIRE_ALARM = "fire_alarm"
CLI = "cli"
SOURCES = (OPERATOR, FIRE_ALARM, CLI)

ACTION_ON = "gates.emergency.on"
ACTION_OFF = "gates.emergency.off"

MAX_GATE = 64
MAX_ACTOR = 128
MAX_REASON = 2000

_ROWS = GateEmergency.__table__
# built once: gate PCs read the state about once a second
_READ_STATE = select(_ROWS.c.active, _ROWS.c.since, _ROWS.c.source, _ROWS.c.gate, _ROWS.c.reason,
                     _ROWS.c.actor).where(_ROWS.c.venue_code == bindparam("venue_code"))


@dataclass(frozen=True)
class EmergencyState:
    """Where a venue's gates stand. ``since``, ``source``, ``gate``, ``reason`` and ``actor``
    describe the emergency in force; they are empty when ``active`` is false."""

    venue_code: str
    active: bool
    since: dt.datetime | None = None
    source: str = ""
    gate: str = ""
    reason: str = ""
    actor: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"venue_code": self.venue_code, "active": self.active,
                "since": self.since.isoformat() if self.since else None, "source": self.source,
                "gate": self.gate, "reason": self.reason, "actor": self.actor}


def actor_label(actor: Actor) -> str:
    """Who acted, as stored and audited: the username, or ``system:<part>`` for the suite itself
    (``system:gate-3`` for a gate's fire alarm, ``system:console:root`` for the console)."""
    label = f"{actor.username}:{actor.display_name}" if actor.is_system and actor.display_name else actor.username
    return label[:MAX_ACTOR]


def _state_of(venue_code: str, row: Any) -> EmergencyState:
    if row is None or not row.active:
        return EmergencyState(venue_code, False)
    return EmergencyState(venue_code, True, since=row.since, source=row.source, gate=row.gate,
                          reason=row.reason, actor=row.actor)


class EmergencyService:
    def __init__(self, uow_factory: Any, identity: Any, *, venue_code: str,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        code = (venue_code or "").strip().upper()
        if not code:
            raise ConfigError(_("[terminal] venue_code is empty: the gate emergency belongs to a venue."))
        self._uow = uow_factory
        self._identity = identity
        self._clock = clock
        self.venue_code = code

    @classmethod
    def from_app(cls, app: Any) -> "EmergencyService":
        return cls(app.uow, app.identity, venue_code=app.settings.terminal.venue_code)

    # -- reading -----------------------------------------------------------------------

    def state(self) -> EmergencyState:
        """The venue's state; no permission needed (gate PCs and the attendant screen poll it).
        One SELECT in a read-only unit of work."""
        with self._uow.read() as uow:
            row = uow.session.connection().execute(_READ_STATE, {"venue_code": self.venue_code}).one_or_none()
        return _state_of(self.venue_code, row)

    # -- changing ----------------------------------------------------------------------

    def activate(self, actor: Actor, *, reason: str, source: str = OPERATOR, gate: str = "") -> EmergencyState:
        """Release every gate of the venue: the state becomes active (``since`` stays when it
        already was) and a ``gates.emergency.on`` security event is written with it.

        Needs ``gates.emergency``. A reason is required, except from a fire alarm (which gets
        a default one)."""
        self._identity.require(actor, EMERGENCY)  # before the write transaction (it may audit a refusal)
        if source not in SOURCES:
            raise InvalidInput(_("Unknown emergency source {source!r}: use {sources}.").format(
                source=source, sources=", ".join(SOURCES)))
        gate = (gate or "").strip()
        if len(gate) > MAX_GATE:
            raise InvalidInput(_("A gate id has at most {n} characters.").format(n=MAX_GATE))
        reason = (reason or "").strip()
        if not reason:
            if source != FIRE_ALARM:
                raise InvalidInput(_("Say why the gates are released: a reason is required."))
            reason = _("Fire alarm at gate {gate}.").format(gate=gate) if gate else _("Fire alarm.")
        if len(reason) > MAX_REASON:
            raise InvalidInput(_("The reason has at most {n} characters.").format(n=MAX_REASON))
        who = actor_label(actor)
        now = self._clock()
        with self._uow() as uow:
            session = uow.session
            venue_id = self._venue_id(session, actor)
            row = self._locked_row(session, venue_id, actor)
            already = row.active
            since = row.since if already and row.since is not None else now
            row.active, row.since, row.source, row.gate, row.reason, row.actor = True, since, source, gate, reason, who
            row.updated_at = now
            session.flush()
            record(session, kind="security", action=ACTION_ON, actor=who, target=self.venue_code,
                   details={"source": source, "gate": gate, "reason": reason, "since": since.isoformat(),
                            "already_active": already},
                   venue_id=venue_id, terminal_id=actor.terminal_id)
            uow.commit()
        return EmergencyState(self.venue_code, True, since=since, source=source, gate=gate, reason=reason, actor=who)

    def reset(self, actor: Actor, *, reason: str = "") -> EmergencyState:
        """End the emergency: gates go back to normal and validation resumes. Needs
        ``gates.emergency_reset`` (the system administrator); refused when not active."""
        self._identity.require(actor, EMERGENCY_RESET)
        reason = (reason or "").strip()
        if len(reason) > MAX_REASON:
            raise InvalidInput(_("The reason has at most {n} characters.").format(n=MAX_REASON))
        who = actor_label(actor)
        now = self._clock()
        with self._uow() as uow:
            session = uow.session
            row = session.scalar(select(GateEmergency).where(GateEmergency.venue_code == self.venue_code)
                                 .with_for_update())
            if row is None or not row.active:
                raise Conflict(_("The gates of venue {venue} are not in an emergency: there is nothing to "
                                 "reset.").format(venue=self.venue_code), venue_code=self.venue_code)
            details = {"reason": reason, "since": row.since.isoformat() if row.since else None,
                       "source": row.source, "gate": row.gate, "started_by": row.actor}
            row.active, row.reset_at, row.reset_by, row.updated_at = False, now, who, now
            session.flush()
            record(session, kind="security", action=ACTION_OFF, actor=who, target=self.venue_code,
                   details=details, venue_id=row.venue_id, terminal_id=actor.terminal_id)
            uow.commit()
        return EmergencyState(self.venue_code, False)

    # -- helpers -----------------------------------------------------------------------

    def _venue_id(self, session: Session, actor: Actor) -> Any:
        venue_id = session.scalar(select(Venue.id).where(Venue.code == self.venue_code))
        return venue_id if venue_id is not None else actor.venue_id

    def _locked_row(self, session: Session, venue_id: Any, actor: Actor) -> GateEmergency:
        """The venue's row, made if missing, locked until the transaction ends (two gates
        reporting a fire alarm at once must not both insert it)."""
        values = {"venue_code": self.venue_code, "active": False, "venue_id": venue_id,
                  "terminal_id": actor.terminal_id}
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(pg_insert(GateEmergency).values(values).on_conflict_do_nothing(
                index_elements=["venue_code"]))
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            session.execute(sqlite_insert(GateEmergency).values(values).on_conflict_do_nothing(
                index_elements=["venue_code"]))
        row = session.scalar(select(GateEmergency).where(GateEmergency.venue_code == self.venue_code)
                             .with_for_update().execution_options(populate_existing=True))
        assert row is not None  # made just above or by a concurrent transaction
        return row


__all__ = ["EMERGENCY", "EMERGENCY_RESET", "EmergencyService", "EmergencyState", "SOURCES", "actor_label"]
