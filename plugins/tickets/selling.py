"""The sale at the counter (T5): seats of a session (a combo is a seat with goods), packages
without a seat, and the tickets' signed codes. A sale is all or nothing, and its key makes a
retry return the first order.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.db.ids import uuid7
from suite.errors import InvalidInput
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text, whole

from plugins.tickets.accounts import yuan
from plugins.tickets.codes import TicketClaims, TicketSigner
from plugins.tickets.core import SaleRefused
from plugins.tickets.models import Hall, Order, Package, ShowSession, Ticket, TicketType
from plugins.tickets.payments import OrderPayments, checked_tenders
from plugins.tickets.quoting import PricedLine
from plugins.wallet.pricing import BP, apply_multiplier


def _serial() -> str:
    return f"{secrets.randbelow(10**12):012d}"


def new_order_number(terminal: str) -> str:
    """A new order's number: the terminal's code and eight random hex digits."""
    return f"{terminal or 'T'}-{secrets.token_hex(4).upper()}"


class Selling(OrderPayments):
    """Selling seats and packages, and signing their tickets."""

    def sell(self, actor: Actor, *, session_code: str, lines: Sequence[Mapping[str, Any]],
             payments: Sequence[Mapping[str, Any]], key: str, hold_token: str = "", channel: str = "counter",
             customer_source: str = "walk_in", phone: str = "") -> dict[str, Any]:
        """Sell the seats of ``lines`` ({seat_id, ticket_type}) paid by ``payments`` ({method:
        cash|wallet|voucher, amount fen, reference: card number or voucher code}) adding up to the
        total. When a card pays, its member tier discount is part of the prices (quote with the
        same ``card_no``). All or nothing; the same ``key`` again returns the first order."""
        self._begin(actor, "tickets.sell")
        key = idempotency_key(key)
        if not lines:
            raise InvalidInput(_("An order needs at least one ticket."))
        tenders = checked_tenders(payments)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            existing = session.scalars(select(Order).where(Order.idempotency_key == key)).one_or_none()
            if existing is not None:
                return self._order_dict(session, existing, replayed=True)
            show = self._session(session, session_code)
            self._sellable(show)
            self._not_taken(session, show, lines, hold_token)  # cheap, before pricing and signing
            card = next((t["reference"] for t in tenders if t["method"] == "wallet"), "")
            priced = self._price_lines(session, show, lines, card)  # the paying card's tier applies
            total = sum(p.price for p in priced)
            if sum(t["amount"] for t in tenders) != total:
                raise InvalidInput(_("The payments add up to {paid}, the order to {total}.").format(
                    paid=yuan(sum(t["amount"] for t in tenders)), total=yuan(total)))
            now = self.now()
            shift_id = self._shift_id(session, actor)
            order = Order(number=new_order_number(self.terminal_code), idempotency_key=key, state="paid",
                          channel=channel, customer_source=text(customer_source, _("The customer source"), 32),
                          customer_phone=text(phone, _("The phone"), 32, required=False), cashier=actor.username,
                          shift_id=shift_id, venue_code=show.venue_code, terminal_code=self.terminal_code,
                          list_total=sum(p.list_price for p in priced), total=total, paid_at=now,
                          venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(order)
            session.flush()
            tickets = self._issue(session, order, show, priced, signer)
            self._claim(session, show, [p.seat for p in priced if p.seat is not None], kind="sold", token=hold_token,
                        expires_at=None, tickets={t.seat_id: t.id for t in tickets if t.seat_id is not None})
            self._pay(session, actor, order, tenders, shift_id, key)
            self._audit(session, actor, "tickets.sell", order.number,
                        {"session": show.code, "total": total, "tickets": [t.serial for t in tickets],
                         "payments": [{k: t[k] for k in ("method", "amount", "reference")} for t in tenders]})
            result = self._order_dict(session, order)  # before the commit: no second transaction
            uow.commit()
            return result

    def sell_packages(self, actor: Actor, *, package: str, payments: Sequence[Mapping[str, Any]], key: str,
                      quantity: int = 1) -> dict[str, Any]:
        """Sell ``quantity`` packages (T3): each is one ticket admitting the package's ``entries``
        to its programmes or venues, valid ``valid_days`` from now, with no seat; its code names
        ``package:<code>`` where a seat ticket names its session. The paying card's tier applies;
        offers do not (the package is the deal)."""
        self._begin(actor, "tickets.sell")
        key = idempotency_key(key)
        quantity = whole(quantity, _("The quantity"), minimum=1, maximum=100)
        tenders = checked_tenders(payments)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            existing = session.scalars(select(Order).where(Order.idempotency_key == key)).one_or_none()
            if existing is not None:
                return self._order_dict(session, existing, replayed=True)
            row = session.scalars(select(Package).where(Package.code == package, Package.active.is_(True))).one_or_none()
            if row is None:
                raise InvalidInput(_("There is no package {code} on sale.").format(code=package))
            holder = session.scalars(select(TicketType).where(TicketType.active.is_(True), TicketType.category == "adult")
                                     .order_by(TicketType.code)).first()
            if holder is None:
                raise SaleRefused(_("A package is sold as an adult ticket: add an adult ticket type first."),
                                  reason="no_type")
            card = next((t["reference"] for t in tenders if t["method"] == "wallet"), "")
            price = apply_multiplier(row.price, BP - self._tier(session, card))
            total = price * quantity
            if sum(t["amount"] for t in tenders) != total:
                raise InvalidInput(_("The payments add up to {paid}, the order to {total}.").format(
                    paid=yuan(sum(t["amount"] for t in tenders)), total=yuan(total)))
            now = self.now()
            shift_id = self._shift_id(session, actor)
            order = Order(number=new_order_number(self.terminal_code), idempotency_key=key, state="paid",
                          cashier=actor.username, shift_id=shift_id, venue_code=self.venue_code,
                          terminal_code=self.terminal_code, list_total=row.price * quantity, total=total, paid_at=now,
                          venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(order)
            session.flush()
            ends = now + dt.timedelta(days=row.valid_days)
            for _n in range(quantity):
                serial = _serial()
                claims = TicketClaims(serial=serial, venue=self.venue_code, session=f"package:{row.code}", hall="",
                                      row="", seat="", ticket_type=holder.code, category=holder.category,
                                      admits=row.entries, starts=int(now.timestamp()), ends=int(ends.timestamp()))
                session.add(Ticket(id=uuid7(), order_id=order.id, serial=serial, kind="package", package_id=row.id,
                                   ticket_type_id=holder.id, admits=row.entries, list_price=row.price, price=price,
                                   discounts=json.dumps([{"kind": "package", "label": row.code,
                                                          "amount": row.price - price}]),
                                   state="valid", code=signer.sign(claims), printed=1, venue_id=actor.venue_id,
                                   terminal_id=actor.terminal_id))
            session.flush()
            self._pay(session, actor, order, tenders, shift_id, key)
            self._audit(session, actor, "tickets.sell", order.number,
                        {"package": row.code, "quantity": quantity, "total": total})
            result = self._order_dict(session, order)
            uow.commit()
            return result

    def _signer(self) -> TicketSigner:
        if self.secrets is None:
            raise InvalidInput(_("Ticket codes cannot be signed: no keyring is configured."))
        return TicketSigner.from_secrets(self.secrets, self.settings.signing_key_secret)

    def public_key(self) -> str:
        """The public key gates verify ticket codes with."""
        return self._signer().public_key

    def _issue(self, session: Session, order: Order, show: ShowSession, priced: list[PricedLine],
               signer: TicketSigner) -> list[Ticket]:
        hall = session.get_one(Hall, show.hall_id)
        tickets: list[Ticket] = []
        for line in priced:
            serial = _serial()
            claims = TicketClaims(serial=serial, venue=show.venue_code, session=show.code, hall=hall.code,
                                  row=line.seat.row_label if line.seat else "", seat=line.seat.seat_label if line.seat
                                  else "", ticket_type=line.ticket_type.code, category=line.ticket_type.category,
                                  admits=line.admits, starts=int(show.starts_at.timestamp()),
                                  ends=int(show.ends_at.timestamp()))
            ticket = Ticket(id=uuid7(), order_id=order.id, serial=serial, kind=line.kind, session_id=show.id,
                            seat_id=line.seat.id if line.seat else None, ticket_type_id=line.ticket_type.id,
                            combo_id=line.product_id if line.kind == "combo" else None,
                            admits=line.admits, list_price=line.list_price, price=line.price,
                            discounts=json.dumps(list(line.discounts), ensure_ascii=False), state="valid",
                            code=signer.sign(claims), printed=1, venue_id=order.venue_id,
                            terminal_id=order.terminal_id)
            session.add(ticket)
            tickets.append(ticket)
        session.flush()
        return tickets


__all__ = ["Selling", "new_order_number"]
