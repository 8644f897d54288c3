"""Distributors' bookings (T7, docs/tickets-partners.md): seats of a session paid from the
distributor's prepaid account. The counter's price for the session comes first, then the
contract's discount: ``net`` mode charges the discounted price and the booking is approved at
once; ``rebate`` mode charges the counter's price and the booking waits for review
(``plugins.tickets.distributor_review``). A booking the account cannot pay is refused whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suite.errors import Conflict
from suite.i18n import N_, _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text
from suite.ledger import FloorBreached, LineSpec, balance, post

from plugins.tickets.accounts import KIND_SALE, yuan
from plugins.tickets.core import SaleRefused
from plugins.tickets.distributor_contracts import ANY_CATEGORY, DistributorContracts, discount_of
from plugins.tickets.models import Booking, Distributor, Order, Payment, ShowSession, Ticket
from plugins.tickets.quoting import PricedLine

STATE_TITLES = {"pending": N_("pending"), "approved": N_("approved"), "rejected": N_("rejected")}


def _net(booking: Booking) -> int:
    """What the distributor pays for the booking in the end."""
    if booking.state == "rejected":
        return 0
    if booking.state == "approved" and booking.mode == "rebate":
        return booking.charged - booking.rebate
    return booking.charged


class DistributorBookings(DistributorContracts):
    """Bookings paid from a distributor's prepaid account, and what a booking shows."""

    # ------------------------------------------------------------ bookings

    def book(self, actor: Actor, *, distributor: str, session_code: str, key: str,
             lines: Sequence[Mapping[str, Any]] | None = None, ticket_type: str | None = None,
             quantity: int | None = None, zone: str | None = None, note: str = "") -> dict[str, Any]:
        """A distributor orders seats of a session, paid from its prepaid account: the seats of
        ``lines`` ({seat_id, ticket_type}), or ``quantity`` best available seats of
        ``ticket_type`` (in ``zone``). ``net`` mode takes the discounted price and the booking
        is approved at once; ``rebate`` mode takes the list price and the booking waits for
        review. Refused whole (``SaleRefused``, reason ``distributor_balance``) when the account
        cannot pay. The result has ``warning`` when the balance falls below the warning level.
        Permission ``tickets.sell``; audited; the same ``key`` again returns the first booking."""
        self._begin(actor, "tickets.sell")
        key = idempotency_key(key)
        note = text(note, _("The note"), 500, required=False)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            existing = session.scalars(select(Order).where(Order.idempotency_key == key)).one_or_none()
            if existing is not None:
                return self._booking_result(session, existing, replayed=True)
            dist = self._distributor(session, distributor)
            if not dist.active:
                raise SaleRefused(_("Distributor {name} is not active.").format(name=dist.name), reason="inactive")
            show = self._session(session, session_code)
            self._sellable(show)
            wanted = self._lines_for(session, show, lines=lines, ticket_type=ticket_type, quantity=quantity,
                                     zone=zone)
            priced = self._price_lines(session, show, wanted)
            rates = self._discounts(session, dist)
            contract: list[PricedLine] = []
            rebate = 0
            for line in priced:  # the counter's price for the session (its offers), then the contract
                bp = rates.get(line.ticket_type.category, rates.get(ANY_CATEGORY, 0))
                off = discount_of(line.price, bp)
                given = {"kind": "distributor", "distributor": dist.code, "discount_bp": bp, "amount": off}
                if dist.mode == "net":
                    contract.append(dataclasses.replace(line, price=line.price - off,
                                                        discounts=(*line.discounts, given) if off else line.discounts))
                else:
                    contract.append(line)
                    rebate += off
            gross = sum(p.list_price for p in contract)
            charged = sum(p.price for p in contract)
            order, tickets, shift_id = self._place_order(
                session, actor, show=show, priced=contract, key=key, channel="distributor", signer=signer,
                customer_source="distributor", distributor_id=dist.id)
            prepaid = self._prepaid(session, dist)
            entry_id = None
            current = balance(session, prepaid)
            if charged:
                revenue = self._account(session, "venue", order.venue_code, "tickets.revenue")
                try:
                    result = post(session, idempotency_key=f"{key}:distributor", kind=KIND_SALE, memo=order.number,
                                  lines=[LineSpec(prepaid, -charged), LineSpec(revenue, charged)],
                                  actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                except FloorBreached as exc:
                    raise SaleRefused(_(
                        "Distributor {name}'s prepaid account holds {balance}, not enough for this booking of "
                        "{amount}: nothing was booked. Top the account up first.").format(
                        name=dist.name, balance=yuan(exc.details.get("balance", current)), amount=yuan(charged)),
                        reason="distributor_balance", balance=exc.details.get("balance", current),
                        needed=charged) from None
                entry_id, current = result.entry_id, result.balances[prepaid]
            session.add(Payment(order_id=order.id, method="distributor", amount=charged, reference=dist.code,
                                entry_id=entry_id, shift_id=shift_id, venue_id=actor.venue_id,
                                terminal_id=actor.terminal_id))
            approved = dist.mode == "net"
            booking = Booking(distributor_id=dist.id, order_id=order.id, mode=dist.mode,
                              state="approved" if approved else "pending", gross=gross, charged=charged,
                              rebate=rebate, reviewed_by="" if not approved else actor.username,
                              reviewed_at=self.now() if approved else None, note=note, venue_id=actor.venue_id,
                              terminal_id=actor.terminal_id)
            session.add(booking)
            session.flush()
            self._audit(session, actor, "tickets.distributor.book", order.number,
                        {"distributor": dist.code, "session": show.code, "mode": dist.mode, "gross": gross,
                         "charged": charged, "rebate": rebate, "tickets": [t.serial for t in tickets],
                         "balance": current})
            uow.commit()
            return {**self._booking_result(session, order), **self._warning(dist, current), "balance": current}

    def _booking_result(self, session: Session, order: Order, *, replayed: bool = False) -> dict[str, Any]:
        booking = session.scalars(select(Booking).where(Booking.order_id == order.id)).one_or_none()
        if booking is None:
            raise Conflict(_("Order {order} is not a distributor booking.").format(order=order.number))
        dist = session.get_one(Distributor, booking.distributor_id)
        result = {**self._order_dict(session, order, replayed=replayed),
                  "booking": self._booking_dict(session, booking)}
        if replayed:
            current = self._balance_of(session, dist)
            result.update(balance=current, **self._warning(dist, current))
        return result

    def _booking_dict(self, session: Session, booking: Booking) -> dict[str, Any]:
        order = session.get_one(Order, booking.order_id)
        dist = session.get_one(Distributor, booking.distributor_id)
        first = session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.created_at)
                                .limit(1)).first()
        show = session.get(ShowSession, first.session_id) if first is not None and first.session_id else None
        count = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.order_id == order.id))
        return {"order": order.number, "distributor": dist.code, "distributor_name": dist.name, "mode": booking.mode,
                "state": booking.state, "state_title": _(STATE_TITLES[booking.state]),
                "session": show.code if show else "", "tickets": int(count or 0),
                "gross": booking.gross, "charged": booking.charged, "rebate": booking.rebate,
                "net": _net(booking),
                "booked_at": booking.created_at.isoformat() if booking.created_at else None,
                "booked_by": order.cashier, "reviewed_by": booking.reviewed_by,
                "reviewed_at": booking.reviewed_at.isoformat() if booking.reviewed_at else None, "note": booking.note}


__all__ = ["DistributorBookings", "STATE_TITLES"]
