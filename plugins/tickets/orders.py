"""Reading orders at the counter (T5): an order by its number, and what an order and each of
its tickets show (docs/tickets-faces.md lists a ticket's keys).

The first layer of ``SalesService`` (``plugins.tickets.sales``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import NotFound
from suite.i18n import _
from suite.identity.actor import Actor

from plugins.tickets.core import TicketsCore
from plugins.tickets.models import (
    Combo, Hall, Order, Package, Payment, Programme, Seat, ShowSession, Ticket, TicketType, Zone,
)


class OrderViews(TicketsCore):
    """An order by its number, and the dicts an order and its tickets show."""

    def order(self, actor: Actor, number: str) -> dict[str, Any]:
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            return self._order_dict(uow.session, self._by_number(uow.session, number))

    @staticmethod
    def _by_number(session: Session, number: str) -> Order:
        order = session.scalars(select(Order).where(Order.number == number)).one_or_none()
        if order is None:
            raise NotFound(_("There is no order {order}.").format(order=number))
        return order

    def _order_dict(self, session: Session, order: Order, *, replayed: bool = False) -> dict[str, Any]:
        memo: dict[tuple[type, Any], Any] = {(Order, order.id): order}
        tickets = session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.created_at)).all()
        payments = session.scalars(select(Payment).where(Payment.order_id == order.id, Payment.amount != 0)).all()
        return {"order": order.number, "state": order.state, "replayed": replayed, "total": order.total,
                "list_total": order.list_total, "cashier": order.cashier, "channel": order.channel,
                "paid_at": order.paid_at.isoformat() if order.paid_at else None,
                "tickets": [self._ticket_dict(session, t, memo) for t in tickets],
                "payments": [{"method": p.method, "amount": p.amount, "reference": p.reference} for p in payments]}

    def _ticket_dict(self, session: Session, ticket: Ticket,
                     memo: dict[tuple[type, Any], Any] | None = None) -> dict[str, Any]:
        """What a ticket face prints (docs/tickets-faces.md lists the keys). ``memo`` keeps the
        rows tickets of one order share (session, programme, hall, type...)."""
        memo = {} if memo is None else memo

        def get(model: type, key: Any) -> Any:
            if key is None:
                return None
            if (model, key) not in memo:
                memo[(model, key)] = session.get(model, key)
            return memo[(model, key)]

        show = get(ShowSession, ticket.session_id)
        programme = get(Programme, show.programme_id) if show else None
        hall = get(Hall, show.hall_id) if show else None
        seat = session.get(Seat, ticket.seat_id) if ticket.seat_id else None
        zone = get(Zone, seat.zone_id) if seat else None
        ticket_type = get(TicketType, ticket.ticket_type_id)
        order = get(Order, ticket.order_id)
        combo = get(Combo, ticket.combo_id)
        package = get(Package, ticket.package_id)
        local = show.starts_at.astimezone(self.settings.zone) if show else None
        return {"serial": ticket.serial, "state": ticket.state, "code": ticket.code, "order": order.number,
                "venue": show.venue_code if show else order.venue_code, "hall": hall.code if hall else "",
                "hall_name": hall.name if hall else "", "session": show.code if show else "",
                "programme": programme.title if programme else "", "grade": programme.grade if programme else "",
                "starts_at": show.starts_at.isoformat() if show else None,
                "date": local.strftime("%Y-%m-%d") if local else "", "time": local.strftime("%H:%M") if local else "",
                "row": seat.row_label if seat else "", "seat": seat.seat_label if seat else "",
                "zone": zone.name if zone else "", "ticket_type": ticket_type.name,
                "category": ticket_type.category, "admits": ticket.admits, "list_price": ticket.list_price,
                "price": ticket.price, "cashier": order.cashier, "printed": ticket.printed,
                "notice": combo.goods if combo else (package.name if package else "")}


__all__ = ["OrderViews"]
