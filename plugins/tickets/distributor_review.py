"""The review queue of distributors' bookings (T7, docs/tickets-partners.md). Approval in
``rebate`` mode pays the contract's discount back to the prepaid account
(``tickets.distributor.rebate``) and the tickets' prices become the discounted ones; a
rejection gives the whole charge back (the booking's entry reversed), revokes the tickets and
frees their seats. A booking is reviewed whole, never once some of its tickets were refunded or
exchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import text
from suite.ledger import LineSpec, balance, post, reverse

from plugins.tickets.accounts import KIND_REBATE
from plugins.tickets.distributor_bookings import STATE_TITLES, DistributorBookings
from plugins.tickets.distributor_contracts import ANY_CATEGORY, discount_of
from plugins.tickets.models import Booking, Distributor, Order, Payment, Ticket, TicketType


def proportional(weights: Sequence[int], total: int) -> list[int]:
    """``total`` fen shared out in proportion to ``weights``, whole fen, adding up exactly (the
    largest remainders get the odd fen)."""
    whole_sum = sum(weights)
    if not weights:
        return []
    if whole_sum <= 0:
        return [total] + [0] * (len(weights) - 1)
    shares = [total * w // whole_sum for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole_sum), i))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares


class DistributorReview(DistributorBookings):
    """The review queue: approving and rejecting distributors' bookings."""

    # ------------------------------------------------------------ review

    def queue(self, actor: Actor, *, distributor: str | None = None, state: str = "pending") -> list[dict[str, Any]]:
        """Bookings waiting for review (``state``: pending, approved, rejected or ``all``), oldest
        first. Permission ``tickets.review``."""
        self._begin(actor, "tickets.review")
        with self._uow.read() as uow:
            session = uow.session
            query = select(Booking).order_by(Booking.created_at, Booking.id)
            if state != "all":
                if state not in STATE_TITLES:
                    raise InvalidInput(_("The state is one of: {choices}.").format(
                        choices=", ".join((*STATE_TITLES, "all"))))
                query = query.where(Booking.state == state)
            if distributor:
                query = query.where(Booking.distributor_id == self._distributor(session, distributor).id)
            return [self._booking_dict(session, b) for b in session.scalars(query)]

    def _booking_of(self, session: Session, order_number: str) -> tuple[Booking, Order, Distributor]:
        order = self._by_number(session, order_number)
        booking = session.scalars(select(Booking).where(Booking.order_id == order.id).with_for_update()).one_or_none()
        if booking is None:
            raise NotFound(_("Order {order} is not a distributor booking.").format(order=order_number))
        return booking, order, session.get_one(Distributor, booking.distributor_id)

    def approve(self, actor: Actor, order_number: str, *, note: str = "") -> dict[str, Any]:
        """Approve a pending booking. In ``rebate`` mode the discount goes back to the prepaid
        account and the tickets' prices become the contract's. Approving an approved booking
        again changes nothing. Permission ``tickets.review``; audited."""
        self._begin(actor, "tickets.review")
        note = text(note, _("The note"), 500, required=False)
        with self._uow() as uow:
            session = uow.session
            booking, order, dist = self._booking_of(session, order_number)
            if booking.state == "approved":
                return {**self._booking_dict(session, booking), "replayed": True}
            if booking.state != "pending":
                raise Conflict(_("Booking {order} was {state} already.").format(
                    order=order_number, state=_(STATE_TITLES[booking.state])))
            self._untouched(session, order)
            prepaid = self._prepaid(session, dist)
            if booking.mode == "rebate" and booking.rebate:
                revenue = self._account(session, "venue", order.venue_code, "tickets.revenue")
                result = post(session, idempotency_key=f"booking:{booking.id}:rebate", kind=KIND_REBATE,
                              memo=order.number, lines=[LineSpec(revenue, -booking.rebate),
                                                        LineSpec(prepaid, booking.rebate)],
                              actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                self._reprice(session, order, dist, booking.rebate)
                order.total -= booking.rebate
                session.add(Payment(order_id=order.id, method="distributor", amount=-booking.rebate,
                                    reference=dist.code, entry_id=result.entry_id,
                                    shift_id=self._shift_id(session, actor),
                                    venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            booking.state, booking.reviewed_by, booking.reviewed_at = "approved", actor.username, self.now()
            if note:
                booking.note = f"{booking.note}\n{note}".strip()
            session.flush()
            self._audit(session, actor, "tickets.distributor.approve", order.number,
                        {"distributor": dist.code, "rebate": booking.rebate if booking.mode == "rebate" else 0,
                         "note": note})
            uow.commit()
            current = balance(session, prepaid)
            return {**self._booking_dict(session, booking), "replayed": False, "balance": current,
                    **self._warning(dist, current)}

    @staticmethod
    def _untouched(session: Session, order: Order) -> None:
        """A booking is reviewed whole: not once some of its tickets were refunded or exchanged."""
        changed = session.scalar(select(Ticket.serial).where(Ticket.order_id == order.id, Ticket.state != "valid"))
        if changed is not None:
            raise Conflict(_("Ticket {serial} of booking {order} was refunded or exchanged: the booking can no "
                             "longer be reviewed.").format(serial=changed, order=order.number))

    def _reprice(self, session: Session, order: Order, dist: Distributor, rebate: int) -> None:
        """The tickets of an approved ``rebate`` booking at the contract's prices: ``rebate`` (the
        booking's, at the terms it was made on) taken off them, per ticket as the contract gives
        it, or, had the contract changed since, shared out in proportion to their prices."""
        rates = self._discounts(session, dist)
        tickets = session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.created_at,
                                                                                            Ticket.id)).all()
        rates_of = [rates.get(session.get_one(TicketType, t.ticket_type_id).category, rates.get(ANY_CATEGORY, 0))
                    for t in tickets]
        offs = [discount_of(t.price, bp) for t, bp in zip(tickets, rates_of)]
        if sum(offs) != rebate:
            offs = proportional([t.price for t in tickets], rebate)
        for ticket, bp, off in zip(tickets, rates_of, offs):
            if not off:
                continue
            ticket.price -= off
            given = [*json.loads(ticket.discounts or "[]"),
                     {"kind": "distributor", "distributor": dist.code, "discount_bp": bp, "amount": off}]
            ticket.discounts = json.dumps(given, ensure_ascii=False)

    def reject(self, actor: Actor, order_number: str, *, note: str = "") -> dict[str, Any]:
        """Reject a pending booking: the charge goes back to the prepaid account (the booking's
        entry reversed), the tickets are revoked and their seats are free again. Rejecting a
        rejected booking again changes nothing. Permission ``tickets.review``; audited."""
        self._begin(actor, "tickets.review")
        note = text(note, _("The note"), 500, required=False)
        with self._uow() as uow:
            session = uow.session
            booking, order, dist = self._booking_of(session, order_number)
            if booking.state == "rejected":
                return {**self._booking_dict(session, booking), "replayed": True}
            if booking.state != "pending":
                raise Conflict(_("Booking {order} was {state} already.").format(
                    order=order_number, state=_(STATE_TITLES[booking.state])))
            self._untouched(session, order)
            prepaid = self._prepaid(session, dist)
            charge = session.scalars(select(Payment).where(Payment.order_id == order.id,
                                                           Payment.method == "distributor",
                                                           Payment.amount > 0)).first()
            shift_id = self._shift_id(session, actor)
            if charge is not None and charge.entry_id is not None:
                back = reverse(session, entry_id=charge.entry_id, idempotency_key=f"booking:{booking.id}:reject",
                               memo=order.number, actor=actor.username, venue_id=actor.venue_id,
                               terminal_id=actor.terminal_id)
                session.add(Payment(order_id=order.id, method="distributor", amount=-charge.amount,
                                    reference=dist.code, entry_id=back.entry_id, shift_id=shift_id,
                                    venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            tickets = session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.state == "valid")
                                      .with_for_update()).all()
            self._revoke(session, actor, tickets, "voided")
            order.state = "voided"
            booking.state, booking.reviewed_by, booking.reviewed_at = "rejected", actor.username, self.now()
            if note:
                booking.note = f"{booking.note}\n{note}".strip()
            session.flush()
            self._audit(session, actor, "tickets.distributor.reject", order.number,
                        {"distributor": dist.code, "returned": booking.charged,
                         "tickets": [t.serial for t in tickets], "note": note})
            uow.commit()
            current = balance(session, prepaid)
            return {**self._booking_dict(session, booking), "replayed": False, "balance": current,
                    **self._warning(dist, current)}


__all__ = ["DistributorReview", "proportional"]
