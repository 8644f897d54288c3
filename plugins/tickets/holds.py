"""A session's seats at the counter (T5): their states on the map, their printed labels, holds
for a terminal, and claiming seats for a sale.

No seat is ever sold twice: ``tickets_seat_claims`` has one row per (session, seat) and the
sale INSERTs its claims, so of two terminals racing for a seat the database lets exactly one
commit (the other gets ``SeatTaken`` and its whole order rolls back). A hold is the same row
with an expiry; expired holds are swept by whoever claims the seat next.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suite.errors import InvalidInput
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import text

from plugins.tickets.core import SaleRefused, SeatTaken
from plugins.tickets.models import LOCKED_KINDS, Seat, SeatClaim, ShowSession
from plugins.tickets.orders import OrderViews


class SeatHolds(OrderViews):
    """The seats of a session: states, labels, holds, the checks before a sale and the claim."""

    # ------------------------------------------------------------ reading

    def _session(self, session: Session, code: str, *, lock: bool = False) -> ShowSession:
        return self._by_code(session, ShowSession, code, _("session"), lock=lock)

    def seat_states(self, actor: Actor, session_code: str, *, hold_token: str = "") -> dict[str, Any]:
        """Every seat of the session's map: ``free``, ``held``, ``mine`` (held with ``hold_token``),
        ``sold`` or ``locked``."""
        self._begin(actor, "tickets.view")
        now = self.now()
        with self._uow.read() as uow:
            session = uow.session
            show = self._session(session, session_code)
            seats = session.execute(select(Seat.id, Seat.kind).where(Seat.seat_map_id == show.seat_map_id)).all()
            states = {str(seat_id): ("locked" if kind in LOCKED_KINDS else "free") for seat_id, kind in seats}
            for claim in session.scalars(select(SeatClaim).where(SeatClaim.session_id == show.id)):
                if claim.kind == "sold":
                    states[str(claim.seat_id)] = "sold"
                elif claim.expires_at is not None and claim.expires_at > now:
                    states[str(claim.seat_id)] = "mine" if hold_token and claim.hold_token == hold_token else "held"
            return {"session": show.code, "states": states}

    def seat_ids(self, actor: Actor, session_code: str, labels: Sequence[str]) -> list[str]:
        """Seat ids from printed labels ``ROW-SEAT`` (``5-12``) of the session's map."""
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            show = self._session(uow.session, session_code)
            found = {(r, n): str(i) for i, r, n in uow.session.execute(
                select(Seat.id, Seat.row_label, Seat.seat_label).where(Seat.seat_map_id == show.seat_map_id))}
        ids = []
        for label in labels:
            row, _dash, seat = label.strip().rpartition("-")
            if (row, seat) not in found:
                raise InvalidInput(_("Session {session} has no seat {label} (write ROW-SEAT, like 5-12).").format(
                    session=session_code, label=label))
            ids.append(found[(row, seat)])
        return ids

    # ------------------------------------------------------------ holds

    def hold(self, actor: Actor, *, session_code: str, seat_ids: Sequence[str], token: str) -> dict[str, Any]:
        """Hold seats for ``hold_minutes`` for this terminal (``token``): a hold by someone else,
        a sold seat or a locked seat is refused (``SeatTaken``), all or nothing."""
        self._begin(actor, "tickets.sell")
        token = text(token, _("The hold token"), 64)
        expires = self.now() + dt.timedelta(minutes=self.settings.hold_minutes or 10)
        with self._uow() as uow:
            session = uow.session
            show = self._session(session, session_code)
            self._sellable(show)
            seats = self._seats(session, show, seat_ids)
            self._claim(session, show, seats, kind="hold", token=token, expires_at=expires)
            uow.commit()
        return {"session": session_code, "held": [str(s.id) for s in seats], "expires_at": expires.isoformat()}

    def release(self, actor: Actor, *, session_code: str, token: str, seat_ids: Sequence[str] | None = None) -> int:
        """Let go of this terminal's holds (all, or the given seats)."""
        self._begin(actor, "tickets.sell")
        with self._uow() as uow:
            show = self._session(uow.session, session_code)
            query = delete(SeatClaim).where(SeatClaim.session_id == show.id, SeatClaim.kind == "hold",
                                            SeatClaim.hold_token == token)
            if seat_ids is not None:
                query = query.where(SeatClaim.seat_id.in_([uuid.UUID(str(s)) for s in seat_ids]))
            released = uow.session.execute(query).rowcount or 0  # type: ignore[attr-defined]
            uow.commit()
        return int(released)

    def _sellable(self, show: ShowSession) -> None:
        if show.state == "stopped":
            raise SaleRefused(_("Sales of session {session} are stopped.").format(session=show.code),
                              reason="stopped")
        if show.ends_at <= self.now():
            raise SaleRefused(_("Session {session} is over.").format(session=show.code), reason="over")

    def _seats(self, session: Session, show: ShowSession, seat_ids: Iterable[str]) -> list[Seat]:
        wanted: list[uuid.UUID] = []
        for seat_id in seat_ids:
            try:
                wanted.append(seat_id if isinstance(seat_id, uuid.UUID) else uuid.UUID(str(seat_id)))
            except ValueError as exc:
                raise InvalidInput(_("{value!r} is not a seat.").format(value=seat_id)) from exc
        if not wanted or len(set(wanted)) != len(wanted):
            raise InvalidInput(_("Choose each seat once."))
        seats = session.scalars(select(Seat).where(Seat.id.in_(wanted), Seat.seat_map_id == show.seat_map_id)).all()
        if len(seats) != len(wanted):
            raise InvalidInput(_("A seat chosen is not in session {session}'s hall.").format(session=show.code))
        locked = [s for s in seats if s.kind in LOCKED_KINDS]
        if locked:
            raise SeatTaken(_("Seat {seat} is locked and not for sale.").format(seat=_label(locked[0])),
                            seats=[str(s.id) for s in locked])
        return sorted(seats, key=lambda s: (s.grid_row, s.grid_col))

    def _not_taken(self, session: Session, show: ShowSession, lines: Sequence[Mapping[str, Any]], token: str) -> None:
        """Refuse at once a sale whose seats someone else holds or bought (the claim's INSERT
        stays the real guard: this only spares a doomed order its pricing and signing)."""
        try:
            ids = [uuid.UUID(str(line["seat_id"])) for line in lines]
        except (KeyError, ValueError):
            return  # the full check reports it
        now = self.now()
        claims = session.execute(select(SeatClaim.seat_id, SeatClaim.kind, SeatClaim.hold_token, SeatClaim.expires_at)
                                 .where(SeatClaim.session_id == show.id, SeatClaim.seat_id.in_(ids))).all()
        taken = [seat_id for seat_id, kind, holder, expires in claims
                 if kind == "sold" or (expires is not None and expires > now and not (token and holder == token))]
        if taken:
            seats = session.scalars(select(Seat).where(Seat.id.in_(taken))).all()
            raise SeatTaken(_("Already taken: {seats}.").format(seats=", ".join(_label(s) for s in seats)),
                            seats=[str(i) for i in taken])

    def _claim(self, session: Session, show: ShowSession, seats: list[Seat], *, kind: str, token: str,
               expires_at: dt.datetime | None, tickets: Mapping[uuid.UUID, uuid.UUID] | None = None) -> None:
        """Claim the seats: sweep expired holds and this terminal's own, refuse the rest if any is
        taken, then INSERT; the primary key (session, seat) settles any race."""
        ids = [s.id for s in seats]
        now = self.now()
        session.execute(delete(SeatClaim).where(
            SeatClaim.session_id == show.id, SeatClaim.seat_id.in_(ids), SeatClaim.kind == "hold",
            (SeatClaim.expires_at <= now) | ((SeatClaim.hold_token == token) & (SeatClaim.hold_token != ""))))
        taken = set(session.scalars(select(SeatClaim.seat_id).where(SeatClaim.session_id == show.id,
                                                                    SeatClaim.seat_id.in_(ids))))
        if taken:
            names = ", ".join(_label(s) for s in seats if s.id in taken)
            raise SeatTaken(_("Already taken: {seats}.").format(seats=names), seats=[str(i) for i in taken])
        rows = [{"session_id": show.id, "seat_id": s.id, "kind": kind, "hold_token": token if kind == "hold" else "",
                 "expires_at": expires_at, "ticket_id": (tickets or {}).get(s.id),
                 "terminal_code": self.terminal_code} for s in seats]
        try:
            with session.begin_nested():
                session.execute(insert(SeatClaim), rows)
        except IntegrityError as exc:
            raise SeatTaken(_("A seat was taken by another terminal a moment ago: choose again."),
                            seats=[str(i) for i in ids]) from exc


def _label(seat: Seat) -> str:
    return _("row {row} seat {seat}").format(row=seat.row_label, seat=seat.seat_label)


__all__ = ["SeatHolds"]
