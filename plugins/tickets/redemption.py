"""Redemption codes and pickup (T6): codes issued here or imported from a third party's orders,
exchanged for tickets at the counter or at a kiosk (docs/tickets-partners.md).

A code stands for ``quantity`` tickets of one ticket type, for one session (or for any session,
chosen when it is redeemed). It is ``open`` until it is redeemed (an order of channel
``redemption`` with its tickets, paid by the payment method ``redemption`` for what the partner
collected) or voided. Customers pick up by the code (typed, or its QR code scanned) or by their
phone number, which lists every open code of that phone.

Money: a code carries what the partner collected (``paid``, fen; 0 for a code given away).
When it is redeemed that amount becomes the venue's ticket revenue against the partner's
account (``partner``, NAME, ``redemption``, no floor): what the partner owes the venue, settled
outside the box office. Each ticket's price is its share of ``paid``.

Codes are also imported from a partner's CSV file of orders (its columns:
``plugins.tickets.redemption_csv``). A file with any wrong row imports nothing, and says which
lines are wrong. An order imported before with the same lines is skipped, so importing the same
file again changes nothing.

``RedemptionService`` is built in layers, each on the one before it:

======================================  =========================================================
``plugins.tickets.partner_sales``       ``PartnerSales`` (a ``SalesService``): an order without a
                                        counter tender, the best available seats of a session
``plugins.tickets.redemption_lookup``   ``RedemptionLookup``: codes as they are shown, finding
                                        codes, what a customer can pick up
``plugins.tickets.redemption_issuing``  ``RedemptionIssuing``: issuing a code, importing a CSV
                                        file of a partner's orders
this module                             ``RedemptionService``: redeeming and voiding codes
======================================  =========================================================

A code and a phone as stored (``normalise_code``, ``normalise_phone``), ``redemption_key``,
``shares`` and ``face_data`` are in ``plugins.tickets.redemption_codes``; reading the CSV file
in ``plugins.tickets.redemption_csv``. This module re-exports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, SuiteError
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text
from suite.ledger import LineSpec, post

from plugins.tickets.accounts import partner_account
from plugins.tickets.core import SeatTaken
from plugins.tickets.models import Order, Payment, RedemptionCode, ShowSession, TicketType
from plugins.tickets.redemption_codes import face_data, normalise_code, normalise_phone, redemption_key, shares
from plugins.tickets.redemption_csv import CSV_COLUMNS, MAX_ROWS, REQUIRED_COLUMNS
from plugins.tickets.redemption_issuing import ISSUED_DIGITS, RedemptionIssuing

KIND_REDEEM = "tickets.redemption"


class RedemptionService(RedemptionIssuing):
    """Issue, import, find, redeem and void redemption codes."""

    def _offers(self, session: Session, show: ShowSession, priced: list[Any], *args: Any,
                **kwargs: Any) -> list[Any]:
        """A redeemed ticket's price is its share of what the partner collected: no offers."""
        return priced

    # ------------------------------------------------------------ redeeming

    def redeem(self, actor: Actor, *, code: str, key: str, seat_ids: Sequence[str] | None = None,
               session_code: str | None = None, zone: str | None = None) -> dict[str, Any]:
        """Exchange an open code for its tickets: on the seats chosen (``seat_ids``, as many as
        the code's tickets) or the best available ones (in ``zone``); ``session_code`` for a code
        valid for any session. An order of channel ``redemption`` paid by the method
        ``redemption`` (what the partner collected). All or nothing; the same ``key`` again
        returns the first order. Permission ``tickets.redeem``; audited."""
        self._begin(actor, "tickets.redeem")
        key = idempotency_key(key)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            existing = session.scalars(select(Order).where(Order.idempotency_key == key)).one_or_none()
            if existing is not None:
                row = session.scalars(select(RedemptionCode).where(RedemptionCode.order_id == existing.id)).first()
                return {**self._order_dict(session, existing, replayed=True),
                        "redemption": self._code_dict(session, row) if row else None}
            row = self._code(session, code, lock=True)
            self._open(session, row)
            if row.session_id is not None:
                show = session.get_one(ShowSession, row.session_id)
                if session_code and session_code != show.code:
                    raise InvalidInput(_("Code {code} is for session {session}.").format(code=row.code,
                                                                                        session=show.code))
            elif session_code:
                show = self._session(session, session_code)
            else:
                raise InvalidInput(_("Code {code} is good for any session: choose one.").format(code=row.code))
            self._sellable(show)
            kind = session.get_one(TicketType, row.ticket_type_id)
            if seat_ids:
                if len(seat_ids) != row.quantity:
                    raise InvalidInput(_("Code {code} is for {n} tickets: choose {n} seats.").format(
                        code=row.code, n=row.quantity))
                wanted = [{"seat_id": seat, "ticket_type": kind.code} for seat in seat_ids]
            else:
                wanted = [{"seat_id": str(s.id), "ticket_type": kind.code}
                          for s in self._best_seats(session, show, row.quantity, zone=zone)]
            priced = self._price_lines(session, show, wanted)
            note = {"kind": "redemption", "code": row.code, "partner": row.partner}
            priced = [dataclasses.replace(p, price=share, discounts=(note,))
                      for p, share in zip(priced, shares(row.paid, len(priced)))]
            order, tickets, shift_id = self._place_order(
                session, actor, show=show, priced=priced, key=key, channel="redemption", signer=signer,
                customer_source=(row.partner or "redemption"), phone=row.phone)
            entry_id = None
            if row.paid:
                receivable = partner_account(session, row.partner or "venue")
                revenue = self._account(session, "venue", order.venue_code, "tickets.revenue")
                entry_id = post(session, idempotency_key=f"{key}:redemption", kind=KIND_REDEEM, memo=order.number,
                                lines=[LineSpec(receivable, -row.paid), LineSpec(revenue, row.paid)],
                                actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id).entry_id
            session.add(Payment(order_id=order.id, method="redemption", amount=row.paid, reference=row.code,
                                entry_id=entry_id, shift_id=shift_id, venue_id=actor.venue_id,
                                terminal_id=actor.terminal_id))
            row.state, row.order_id = "redeemed", order.id
            if row.session_id is None:
                row.session_id = show.id
            session.flush()
            self._audit(session, actor, "tickets.redeem", row.code,
                        {"order": order.number, "session": show.code, "tickets": [t.serial for t in tickets],
                         "paid": row.paid, "partner": row.partner, "external_order": row.external_order})
            uow.commit()
            return {**self._order_dict(session, order), "redemption": self._code_dict(session, row)}

    def redeem_together(self, actor: Actor, *, codes: Sequence[str], zone: str | None = None) -> dict[str, Any]:
        """Redeem a customer's codes at once (a family's codes found by their phone): the
        tickets of codes for the same session on best available seats side by side, each code
        its own order under its own key (``redemption_key``). A code that cannot be redeemed is
        listed in ``refused`` ({code, message}) and the others go ahead. Permission
        ``tickets.redeem``."""
        self._begin(actor, "tickets.redeem")
        seats_for: dict[str, list[str]] = {}
        with self._uow.read() as uow:
            session = uow.session
            groups: dict[Any, list[RedemptionCode]] = {}
            for code in codes:
                row = session.scalars(select(RedemptionCode).where(
                    RedemptionCode.code == normalise_code(code))).one_or_none()
                if row is not None and row.state == "open" and row.session_id is not None:
                    groups.setdefault(row.session_id, []).append(row)
            for session_id, group in groups.items():
                if len(group) < 2:
                    continue
                try:
                    block = self._best_seats(session, session.get_one(ShowSession, session_id),
                                             sum(r.quantity for r in group), zone=zone)
                except SuiteError:
                    continue  # each code on its own, below
                start = 0
                for row in group:
                    seats_for[row.code] = [str(seat.id) for seat in block[start:start + row.quantity]]
                    start += row.quantity
        orders: list[dict[str, Any]] = []
        refused: list[dict[str, str]] = []
        for code in codes:
            key = redemption_key(code)
            try:
                try:
                    orders.append(self.redeem(actor, code=code, key=key, seat_ids=seats_for.get(normalise_code(code)),
                                              zone=zone))
                except SeatTaken:  # taken a moment ago by another counter: the best seats left
                    orders.append(self.redeem(actor, code=code, key=key, zone=zone))
            except SuiteError as exc:
                refused.append({"code": normalise_code(code), "message": exc.message})
        return {"orders": orders, "refused": refused}

    # ------------------------------------------------------------ voiding

    def void_code(self, actor: Actor, code: str, *, reason: str = "") -> dict[str, Any]:
        """Void an open code: it can no longer be redeemed. Permission ``tickets.void``; audited."""
        self._begin(actor, "tickets.void")
        reason = text(reason, _("The reason"), 500, required=False)
        with self._uow() as uow:
            session = uow.session
            row = self._code(session, code, lock=True)
            if row.state == "void":
                return {**self._code_dict(session, row), "replayed": True}
            if row.state != "open":
                raise Conflict(_("Code {code} was used already and cannot be voided: refund its tickets "
                                 "instead.").format(code=row.code))
            row.state = "void"
            session.flush()
            self._audit(session, actor, "tickets.redeem.void", row.code,
                        {"reason": reason, "partner": row.partner, "external_order": row.external_order})
            uow.commit()
            return {**self._code_dict(session, row), "replayed": False}


__all__ = ["CSV_COLUMNS", "ISSUED_DIGITS", "KIND_REDEEM", "MAX_ROWS", "REQUIRED_COLUMNS", "RedemptionService",
           "face_data", "normalise_code", "normalise_phone", "redemption_key", "shares"]
