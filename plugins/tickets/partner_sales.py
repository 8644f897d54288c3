"""Orders placed for a partner (docs/tickets-partners.md): what distributors and redemption
codes share. An order placed on the sales service's own steps (seats claimed, tickets signed)
without a counter tender, the best available seats of a session, and revoking tickets.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from suite.errors import InvalidInput
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import whole

from plugins.tickets.codes import TicketSigner
from plugins.tickets.core import SaleRefused
from plugins.tickets.models import LOCKED_KINDS, Order, Revocation, Seat, SeatClaim, ShowSession, Ticket, Zone
from plugins.tickets.quoting import PricedLine
from plugins.tickets.sales import SalesService
from plugins.tickets.selling import new_order_number

MAX_TICKETS = 500  # one booking or one code at most


class PartnerSales(SalesService):
    """Orders placed for a partner: the sales service's seat claims, pricing and signed tickets,
    with the payment recorded by the subclass (a distributor's account, a redemption code)."""

    def _best_seats(self, session: Session, show: ShowSession, count: int, *, zone: str | None = None) -> list[Seat]:
        """``count`` free seats of the session, side by side in one row when possible, as near the
        middle of the hall as possible; wheelchair places only when nothing else is left.
        ``zone``: only seats of that zone (code). ``SaleRefused`` when too few are free."""
        count = whole(count, _("The number of tickets"), minimum=1, maximum=MAX_TICKETS)
        seats = session.scalars(select(Seat).where(Seat.seat_map_id == show.seat_map_id)).all()
        if not seats:
            raise SaleRefused(_("Session {session} has no seats.").format(session=show.code), reason="sold_out")
        now = self.now()
        taken = set(session.scalars(select(SeatClaim.seat_id).where(
            SeatClaim.session_id == show.id,
            (SeatClaim.kind == "sold") | (SeatClaim.expires_at > now))))
        zone_id = None
        if zone:
            zone_id = session.scalar(select(Zone.id).where(Zone.seat_map_id == show.seat_map_id, Zone.code == zone))
            if zone_id is None:
                raise InvalidInput(_("Session {session}'s hall has no zone {zone}.").format(session=show.code,
                                                                                           zone=zone))
        # the middle of the hall, doubled so it stays a whole number
        mid_row = min(s.grid_row for s in seats) + max(s.grid_row for s in seats)
        mid_col = min(s.grid_col for s in seats) + max(s.grid_col for s in seats)
        free = [s for s in seats if s.kind not in LOCKED_KINDS and s.id not in taken
                and (zone_id is None or s.zone_id == zone_id)]
        if len(free) < count:
            raise SaleRefused(_("Only {n} seats are free in session {session}.").format(n=len(free), session=show.code),
                              reason="sold_out", free=len(free))

        def distance(row: int, doubled_col: int) -> int:
            return (2 * row - mid_row) ** 2 + (doubled_col - mid_col) ** 2

        for pool in ([s for s in free if s.kind != "wheelchair"], free):
            best: tuple[int, list[Seat]] | None = None
            by_row: dict[int, list[Seat]] = {}
            for seat in sorted(pool, key=lambda s: (s.grid_row, s.grid_col)):
                by_row.setdefault(seat.grid_row, []).append(seat)
            for row, row_seats in by_row.items():
                run: list[Seat] = []
                for seat in row_seats + [None]:  # type: ignore[list-item]
                    if seat is not None and run and seat.grid_col == run[-1].grid_col + 1:
                        run.append(seat)
                        continue
                    for start in range(0, len(run) - count + 1):
                        block = run[start:start + count]
                        score = distance(row, block[0].grid_col + block[-1].grid_col)
                        if best is None or score < best[0]:
                            best = (score, block)
                    run = [seat] if seat is not None else []
            if best is not None:
                return best[1]
        # no block side by side anywhere: the free seats nearest the middle
        return sorted(free, key=lambda s: (s.kind == "wheelchair", distance(s.grid_row, 2 * s.grid_col),
                                           s.grid_row, s.grid_col))[:count]

    def _place_order(self, session: Session, actor: Actor, *, show: ShowSession, priced: list[PricedLine], key: str,
                     channel: str, signer: TicketSigner, customer_source: str, phone: str = "",
                     distributor_id: uuid.UUID | None = None) -> tuple[Order, list[Ticket], uuid.UUID | None]:
        """The order, its signed tickets and their sold seat claims (no payment yet)."""
        shift_id = self._shift_id(session, actor)
        order = Order(number=new_order_number(self.terminal_code), idempotency_key=key, state="paid", channel=channel,
                      customer_source=customer_source[:32], customer_phone=phone[:32], distributor_id=distributor_id,
                      cashier=actor.username, shift_id=shift_id, venue_code=show.venue_code,
                      terminal_code=self.terminal_code, list_total=sum(p.list_price for p in priced),
                      total=sum(p.price for p in priced), paid_at=self.now(), venue_id=actor.venue_id,
                      terminal_id=actor.terminal_id)
        session.add(order)
        session.flush()
        tickets = self._issue(session, order, show, priced, signer)
        self._claim(session, show, [p.seat for p in priced if p.seat is not None], kind="sold", token="",
                    expires_at=None, tickets={t.seat_id: t.id for t in tickets if t.seat_id is not None})
        return order, tickets, shift_id

    def _revoke(self, session: Session, actor: Actor, tickets: Sequence[Ticket], state: str) -> None:
        """Tickets no longer admit: their state, the revocation list, their seats free again."""
        now = self.now()
        for ticket in tickets:
            ticket.state = state
            session.add(Revocation(serial=ticket.serial, reason=state, revoked_at=now, venue_id=actor.venue_id,
                                   terminal_id=actor.terminal_id))
        session.execute(delete(SeatClaim).where(SeatClaim.ticket_id.in_([t.id for t in tickets])))

    def _lines_for(self, session: Session, show: ShowSession, *, lines: Sequence[Mapping[str, Any]] | None,
                   ticket_type: str | None, quantity: int | None, zone: str | None) -> list[dict[str, Any]]:
        """Order lines: the seats chosen (``lines`` of {seat_id, ticket_type}), or ``quantity``
        best available seats of ``ticket_type``."""
        if lines:
            if len(lines) > MAX_TICKETS:
                raise InvalidInput(_("One order holds at most {n} tickets.").format(n=MAX_TICKETS))
            return [{"seat_id": line.get("seat_id"), "ticket_type": line.get("ticket_type") or ticket_type}
                    for line in lines]
        if not ticket_type or quantity is None:
            raise InvalidInput(_("Choose the seats, or give the ticket type and the number of tickets."))
        seats = self._best_seats(session, show, quantity, zone=zone)
        return [{"seat_id": str(seat.id), "ticket_type": ticket_type} for seat in seats]


__all__ = ["MAX_TICKETS", "PartnerSales"]
