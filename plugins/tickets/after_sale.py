"""After the sale at the counter (T5): refund, void, exchange and reprint. A refund or a void
revokes the tickets' codes, frees their seats and pays the money back the way it came
(``OrderPayments._pay_back``); an exchange revokes the old code and issues a new one. All are
audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text

from plugins.tickets.core import SaleRefused
from plugins.tickets.models import Order, Payment, Revocation, SeatClaim, Ticket, TicketType
from plugins.tickets.selling import Selling


class AfterSale(Selling):
    """Refunds, voids, exchanges and reprints of tickets sold."""

    def refund(self, actor: Actor, *, serials: Sequence[str], key: str, reason: str = "") -> dict[str, Any]:
        """Refund tickets of one order: their seats are free again, their codes revoked, the money
        goes back the way it came (cash from the drawer, card tenders onto the card, vouchers as
        cash). Permission ``tickets.refund``; audited."""
        return self._undo(actor, serials=serials, key=key, reason=reason, permission="tickets.refund",
                          state="refunded")

    def void(self, actor: Actor, *, order_number: str, key: str, reason: str = "") -> dict[str, Any]:
        """Void a whole order (a mistake at the counter), the same way as a refund of every
        ticket. Permission ``tickets.void``; audited."""
        self._begin(actor, "tickets.void")
        with self._uow.read() as uow:
            order = self._by_number(uow.session, order_number)
            serials = list(uow.session.scalars(select(Ticket.serial).where(Ticket.order_id == order.id,
                                                                          Ticket.state == "valid")))
        if not serials:
            raise Conflict(_("Order {order} has no valid tickets left.").format(order=order_number))
        return self._undo(actor, serials=serials, key=key, reason=reason, permission="tickets.void", state="voided")

    def _undo(self, actor: Actor, *, serials: Sequence[str], key: str, reason: str, permission: str,
              state: str) -> dict[str, Any]:
        self._begin(actor, permission)
        key = idempotency_key(key)
        reason = text(reason, _("The reason"), 500, required=False)
        with self._uow() as uow:
            session = uow.session
            tickets = session.scalars(select(Ticket).where(Ticket.serial.in_(list(serials))).with_for_update()).all()
            if len(tickets) != len(set(serials)):
                raise NotFound(_("Some of these tickets do not exist: {serials}.").format(serials=", ".join(serials)))
            orders = {t.order_id for t in tickets}
            if len(orders) != 1:
                raise InvalidInput(_("Refund the tickets of one order at a time."))
            order = session.get_one(Order, orders.pop())
            if session.scalar(select(Payment.id).where(Payment.order_id == order.id,
                                                       Payment.reference == f"undo:{key}")) is not None:
                return {"order": order.number, "replayed": True, "state": order.state}
            not_valid = [t.serial for t in tickets if t.state != "valid"]
            if not_valid:
                raise Conflict(_("Ticket {serial} is not valid any more.").format(serial=not_valid[0]))
            amount = sum(t.price for t in tickets)
            now = self.now()
            for ticket in tickets:
                ticket.state = state
                session.add(Revocation(serial=ticket.serial, reason=state, revoked_at=now,
                                       venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            session.execute(delete(SeatClaim).where(SeatClaim.ticket_id.in_([t.id for t in tickets])))
            self._pay_back(session, actor, order, amount, key)
            left = session.scalar(select(Ticket.id).where(Ticket.order_id == order.id, Ticket.state == "valid"))
            order.state = ("partly_refunded" if left is not None else ("voided" if state == "voided" else "refunded"))
            self._audit(session, actor, f"tickets.{'void' if state == 'voided' else 'refund'}", order.number,
                        {"tickets": [t.serial for t in tickets], "amount": amount, "reason": reason})
            uow.commit()
            return {"order": order.number, "replayed": False, "state": order.state, "amount": amount,
                    "tickets": [t.serial for t in tickets]}

    def exchange(self, actor: Actor, *, serial: str, session_code: str, seat_id: str, key: str,
                 ticket_type: str | None = None) -> dict[str, Any]:
        """Exchange a ticket for a seat of the same or another session at the same price or
        dearer (the difference paid in cash); the old code is revoked. Permission
        ``tickets.exchange``; audited."""
        self._begin(actor, "tickets.exchange")
        key = idempotency_key(key)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            old = session.scalars(select(Ticket).where(Ticket.serial == serial).with_for_update()).one_or_none()
            if old is None:
                raise NotFound(_("There is no ticket {serial}.").format(serial=serial))
            if old.state != "valid":
                raise Conflict(_("Ticket {serial} is not valid any more.").format(serial=serial))
            order = session.get_one(Order, old.order_id)
            show = self._session(session, session_code, lock=True)
            self._sellable(show)
            type_code = ticket_type or session.get_one(TicketType, old.ticket_type_id).code
            line = self._price_lines(session, show, [{"seat_id": seat_id, "ticket_type": type_code}])[0]
            difference = line.price - old.price
            if difference < 0:
                raise SaleRefused(_("An exchange cannot be for a cheaper ticket: refund it instead."),
                                  reason="cheaper")
            new = self._issue(session, order, show, [line], signer)[0]
            old.state, old.replaced_by = "exchanged", new.id
            session.add(Revocation(serial=old.serial, reason="exchanged", revoked_at=self.now(),
                                   venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            session.execute(delete(SeatClaim).where(SeatClaim.ticket_id == old.id))
            self._claim(session, show, [line.seat] if line.seat else [], kind="sold", token="", expires_at=None,
                        tickets={line.seat.id: new.id} if line.seat else None)
            if difference:
                self._pay(session, actor, order, [{"method": "cash", "amount": difference, "reference": ""}],
                          self._shift_id(session, actor), key)
            order.total += difference
            self._audit(session, actor, "tickets.exchange", order.number,
                        {"old": old.serial, "new": new.serial, "session": show.code, "difference": difference})
            uow.commit()
            return {"order": order.number, "old": old.serial, "new": self._ticket_dict(session, new),
                    "difference": difference}

    def reprint(self, actor: Actor, *, serials: Sequence[str], reason: str = "") -> list[dict[str, Any]]:
        """The tickets' print data again (marked as a reprint); permission ``tickets.reprint``; audited."""
        self._begin(actor, "tickets.reprint")
        with self._uow() as uow:
            session = uow.session
            tickets = session.scalars(select(Ticket).where(Ticket.serial.in_(list(serials)))).all()
            if len(tickets) != len(set(serials)):
                raise NotFound(_("Some of these tickets do not exist: {serials}.").format(serials=", ".join(serials)))
            for ticket in tickets:
                if ticket.state != "valid":
                    raise Conflict(_("Ticket {serial} is not valid any more.").format(serial=ticket.serial))
                ticket.printed += 1
            self._audit(session, actor, "tickets.reprint", ",".join(sorted(serials)),
                        {"reason": text(reason, _("The reason"), 500, required=False)})
            uow.commit()
            return [{**self._ticket_dict(session, t), "reprint": True} for t in tickets]


__all__ = ["AfterSale"]
