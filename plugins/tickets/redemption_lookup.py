"""Finding redemption codes (T6, docs/tickets-partners.md): codes by phone, partner, external
order or state, one code, and what a customer can pick up at the counter or the kiosk (by the
code, its QR code or the phone number). The base of ``RedemptionService``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import whole

from plugins.tickets.models import Order, Programme, RedemptionCode, ShowSession, TicketType
from plugins.tickets.partner_sales import PartnerSales
from plugins.tickets.redemption_codes import CODE_PATTERN, normalise_code, normalise_phone


class RedemptionLookup(PartnerSales):
    """Redemption codes as they are shown, found and picked up."""

    # ------------------------------------------------------------ finding

    def codes(self, actor: Actor, *, phone: str | None = None, state: str | None = "open", partner: str | None = None,
              external_order: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Codes, newest first: of a phone, a partner, an external order, in a state (``None``:
        any). Permission ``tickets.redeem``."""
        self._begin(actor, "tickets.redeem")
        limit = whole(limit, _("The limit"), minimum=1, maximum=5000)
        with self._uow.read() as uow:
            query = select(RedemptionCode).order_by(RedemptionCode.created_at.desc(), RedemptionCode.id.desc())
            if phone:
                query = query.where(RedemptionCode.phone == normalise_phone(phone))
            if state:
                query = query.where(RedemptionCode.state == state)
            if partner:
                query = query.where(RedemptionCode.partner == partner)
            if external_order:
                query = query.where(RedemptionCode.external_order == external_order)
            return [self._code_dict(uow.session, c) for c in uow.session.scalars(query.limit(limit))]

    def code(self, actor: Actor, code: str) -> dict[str, Any]:
        self._begin(actor, "tickets.redeem")
        with self._uow.read() as uow:
            return self._code_dict(uow.session, self._code(uow.session, code))

    @staticmethod
    def _code(session: Session, code: str, *, lock: bool = False) -> RedemptionCode:
        query = select(RedemptionCode).where(RedemptionCode.code == normalise_code(code))
        if lock:
            query = query.with_for_update()
        found = session.scalars(query).one_or_none()
        if found is None:
            raise NotFound(_("There is no redemption code {code}.").format(code=code), code=code)
        return found

    def pickup(self, actor: Actor, *, code: str | None = None, phone: str | None = None) -> dict[str, Any]:
        """What a customer can pick up: the code (refused when it was used or voided), or every
        open code of the phone whose session is not over. ``NotFound`` when there is nothing.
        Permission ``tickets.redeem``."""
        self._begin(actor, "tickets.redeem")
        if bool(code) == bool(phone):
            raise InvalidInput(_("Give a code or a phone number."))
        with self._uow.read() as uow:
            session = uow.session
            if code:
                row = self._code(session, code)
                self._open(session, row)
                if row.session_id is not None:
                    self._sellable(session.get_one(ShowSession, row.session_id))
                return {"by": "code", "query": row.code, "codes": [self._code_dict(session, row)]}
            number = normalise_phone(phone or "")
            rows = session.scalars(select(RedemptionCode).where(
                RedemptionCode.phone == number, RedemptionCode.state == "open").order_by(
                RedemptionCode.created_at, RedemptionCode.id)).all() if number else []
            now = self.now()
            found = [self._code_dict(session, r) for r in rows
                     if r.session_id is None or session.get_one(ShowSession, r.session_id).ends_at > now]
            if not found:
                raise NotFound(_("There are no tickets to pick up for the phone {phone}.").format(phone=phone))
            return {"by": "phone", "query": number, "codes": found}

    def find(self, actor: Actor, query: str) -> dict[str, Any]:
        """What the kiosk looks up: ``query`` as a code first, else as a phone number."""
        self._begin(actor, "tickets.redeem")
        query = (query or "").strip()
        if not query:
            raise InvalidInput(_("Type your pickup code or phone number."))
        normal = normalise_code(query)
        with self._uow.read() as uow:
            exists = bool(CODE_PATTERN.match(normal)) and uow.session.scalar(
                select(RedemptionCode.id).where(RedemptionCode.code == normal)) is not None
        if exists:
            return self.pickup(actor, code=normal)
        if len(normalise_phone(query)) >= 5:
            try:
                return self.pickup(actor, phone=query)
            except NotFound:
                pass
        raise NotFound(_("Nothing to pick up for {query}: check the code or the phone number.").format(query=query))

    def _open(self, session: Session, row: RedemptionCode) -> None:
        """Refuse a code that was used or voided (``Conflict``, ``reason`` redeemed or void)."""
        if row.state == "redeemed":
            order = session.get(Order, row.order_id) if row.order_id else None
            when = order.paid_at.astimezone(self.settings.zone).strftime("%Y-%m-%d %H:%M") if order and \
                order.paid_at else ""
            raise Conflict(_("Code {code} was used already: its tickets were picked up on {when}.").format(
                code=row.code, when=when), reason="redeemed")
        if row.state == "void":
            raise Conflict(_("Code {code} is void.").format(code=row.code), reason="void")

    # ------------------------------------------------------------ views

    def _code_dict(self, session: Session, row: RedemptionCode) -> dict[str, Any]:
        show = session.get(ShowSession, row.session_id) if row.session_id else None
        programme = session.get(Programme, show.programme_id) if show else None
        kind = session.get_one(TicketType, row.ticket_type_id)
        order = session.get(Order, row.order_id) if row.order_id else None
        local = show.starts_at.astimezone(self.settings.zone) if show else None
        return {"code": row.code, "source": row.source, "partner": row.partner, "external_order": row.external_order,
                "phone": row.phone, "session": show.code if show else "",
                "programme": programme.title if programme else "",
                "starts_at": show.starts_at.isoformat() if show else None,
                "date": local.strftime("%Y-%m-%d") if local else "", "time": local.strftime("%H:%M") if local else "",
                "ticket_type": kind.code, "ticket_type_name": kind.name, "quantity": row.quantity, "paid": row.paid,
                "state": row.state, "order": order.number if order else None}


__all__ = ["RedemptionLookup"]
