"""Issuing and importing redemption codes (T6, docs/tickets-partners.md): a code issued at the
box office (given away, or sold by a partner), and the codes of a partner's orders imported from
a CSV file (``plugins.tickets.redemption_csv``), all or nothing. Every new code is ``open``.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import text, whole

from plugins.tickets.models import RedemptionCode, ShowSession, TicketType
from plugins.tickets.partner_sales import MAX_TICKETS
from plugins.tickets.redemption_codes import check_code, check_phone
from plugins.tickets.redemption_csv import read_csv
from plugins.tickets.redemption_lookup import RedemptionLookup

ISSUED_DIGITS = 12


@dataclasses.dataclass
class _Row:
    """One checked row of an imported file."""

    line: int
    partner: str
    order: str
    code: str
    session_id: Any
    ticket_type_id: Any
    quantity: int
    phone: str
    paid: int

    def lines_key(self) -> tuple[Any, ...]:
        return (str(self.session_id or ""), str(self.ticket_type_id), self.quantity, self.phone, self.paid)


class RedemptionIssuing(RedemptionLookup):
    """Issue codes and import a partner's orders as codes."""

    # ------------------------------------------------------------ issuing

    def issue(self, actor: Actor, *, ticket_type: str, quantity: int = 1, session_code: str | None = None,
              phone: str = "", paid: int = 0, partner: str = "", code: str | None = None) -> dict[str, Any]:
        """A code for ``quantity`` tickets of ``ticket_type`` (for ``session_code``, or any
        session), picked up with the code or ``phone``. ``paid``: what ``partner`` collected
        (0: given away). ``code``: the code to use (default: 12 new digits). Permission
        ``tickets.sell``; audited."""
        self._begin(actor, "tickets.sell")
        quantity = whole(quantity, _("The number of tickets"), minimum=1, maximum=MAX_TICKETS)
        paid = whole(paid, _("The amount paid"))
        partner = text(partner, _("The partner"), 64, required=False)
        phone = check_phone(text(phone, _("The phone"), 32, required=False))
        if paid and not partner:
            raise InvalidInput(_("Say which partner collected the money for the code."))
        with self._uow() as uow:
            session = uow.session
            kind = self._ticket_type(session, ticket_type)
            if quantity < kind.min_quantity:
                raise InvalidInput(_("{type} tickets are sold {n} or more at a time.").format(
                    type=kind.name, n=kind.min_quantity))
            show = None
            if session_code:
                show = self._session(session, session_code)
                self._sellable(show)
            if code:
                code = check_code(code)
                if session.scalar(select(RedemptionCode.id).where(RedemptionCode.code == code)) is not None:
                    raise Conflict(_("Redemption code {code} exists already.").format(code=code))
            else:
                code = self._new_code(session)
            row = RedemptionCode(code=code, source="issued", partner=partner, phone=phone,
                                 session_id=show.id if show else None, ticket_type_id=kind.id, quantity=quantity,
                                 paid=paid, state="open", venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(row)
            session.flush()
            self._audit(session, actor, "tickets.redeem.issue", code,
                        {"session": show.code if show else "", "ticket_type": kind.code, "quantity": quantity,
                         "phone": phone, "paid": paid, "partner": partner})
            uow.commit()
            return self._code_dict(session, row)

    @staticmethod
    def _new_code(session: Session) -> str:
        while True:
            code = f"{secrets.randbelow(9 * 10 ** (ISSUED_DIGITS - 1)) + 10 ** (ISSUED_DIGITS - 1)}"
            if session.scalar(select(RedemptionCode.id).where(RedemptionCode.code == code)) is None:
                return code

    @staticmethod
    def _ticket_type(session: Session, code: str) -> TicketType:
        found = session.scalars(select(TicketType).where(TicketType.code == code)).one_or_none()
        if found is None or not found.active:
            raise InvalidInput(_("There is no ticket type {code} on sale.").format(code=code))
        return found

    # ------------------------------------------------------------ importing

    def import_csv(self, actor: Actor, data: str | bytes, *, partner: str = "") -> dict[str, Any]:
        """Import a CSV of third-party orders (its columns: ``plugins.tickets.redemption_csv``) as
        open codes of ``partner`` (or of each row's ``partner`` column). All or nothing: any wrong
        row raises ``InvalidInput`` listing the lines (``details["errors"]``: [{line, message}]).
        Orders imported before with the same lines are skipped. Permission ``tickets.sell``;
        audited."""
        self._begin(actor, "tickets.sell")
        partner = text(partner, _("The partner"), 64, required=False)
        raw_rows = read_csv(data)
        errors: list[dict[str, Any]] = []
        with self._uow() as uow:
            session = uow.session
            types = {t.code: t for t in session.scalars(select(TicketType))}
            shows: dict[str, ShowSession | None] = {}
            rows: list[_Row] = []
            for line, fields in raw_rows:
                try:
                    rows.append(self._row(session, line, fields, partner, types, shows))
                except InvalidInput as exc:
                    errors.append({"line": line, "message": exc.message})
            self._check_codes(session, rows, errors)
            new, skipped = self._new_orders(session, rows, errors)
            if errors:
                errors.sort(key=lambda e: e["line"])
                shown = "; ".join(_("line {line}: {message}").format(**e) for e in errors[:20])
                more = len(errors) - 20
                raise InvalidInput(_("{n} rows of the file are wrong, so nothing was imported: {errors}").format(
                    n=len({e["line"] for e in errors}), errors=shown) + (f" (+{more})" if more > 0 else ""),
                    errors=errors)
            made = []
            for row in new:
                code = row.code or self._new_code(session)
                made.append(RedemptionCode(code=code, source="imported", external_order=row.order, partner=row.partner,
                                           phone=row.phone, session_id=row.session_id,
                                           ticket_type_id=row.ticket_type_id, quantity=row.quantity, paid=row.paid,
                                           state="open", venue_id=actor.venue_id, terminal_id=actor.terminal_id))
                session.add(made[-1])
                session.flush()
            orders = sorted({(r.partner, r.order) for r in new})
            self._audit(session, actor, "tickets.redeem.import", partner or "*",
                        {"codes": len(made), "orders": len(orders), "skipped": [f"{p}:{o}" for p, o in skipped],
                         "paid": sum(r.paid for r in new)})
            uow.commit()
            return {"partner": partner, "rows": len(rows), "imported": len(made), "orders": len(orders),
                    "skipped_orders": [o for _p, o in skipped],
                    "codes": [self._code_dict(session, c) for c in made]}

    def _row(self, session: Session, line: int, fields: Mapping[str, str], partner: str,
             types: Mapping[str, TicketType], shows: dict[str, ShowSession | None]) -> _Row:
        from plugins.wallet.cli import yuan_to_fen

        order = fields.get("order", "").strip()
        if not order or len(order) > 64:
            raise InvalidInput(_("the order number is required (at most 64 characters)."))
        who = fields.get("partner", "").strip() or partner
        if not who or len(who) > 64:
            raise InvalidInput(_("the partner is missing: give it for the file or in a partner column."))
        type_code = fields.get("ticket_type", "").strip()
        kind = types.get(type_code)
        if kind is None or not kind.active:
            raise InvalidInput(_("there is no ticket type {code} on sale.").format(code=type_code))
        session_code = fields.get("session", "").strip()
        show = None
        if session_code:
            if session_code not in shows:
                shows[session_code] = session.scalars(select(ShowSession).where(
                    ShowSession.code == session_code)).one_or_none()
            show = shows[session_code]
            if show is None:
                raise InvalidInput(_("there is no session {code}.").format(code=session_code))
            if show.ends_at <= self.now():
                raise InvalidInput(_("session {code} is over.").format(code=session_code))
        quantity_text = fields.get("quantity", "").strip() or "1"
        if not quantity_text.isdigit() or not 1 <= int(quantity_text) <= MAX_TICKETS:
            raise InvalidInput(_("the quantity {value!r} is not a whole number from 1 to {n}.").format(
                value=quantity_text, n=MAX_TICKETS))
        quantity = int(quantity_text)
        if quantity < kind.min_quantity:
            raise InvalidInput(_("{type} tickets are sold {n} or more at a time.").format(
                type=kind.name, n=kind.min_quantity))
        paid_text = fields.get("paid", "").strip()
        try:
            paid = yuan_to_fen(paid_text) if paid_text else 0
        except InvalidInput:
            raise InvalidInput(_("the amount paid {value!r} is not yuan (like 45 or 45.50).").format(
                value=paid_text)) from None
        raw_code, raw_phone = fields.get("code", "").strip(), fields.get("phone", "").strip()
        code = check_code(raw_code) if raw_code else ""
        phone = check_phone(raw_phone) if raw_phone else ""
        if not code and not phone:
            raise InvalidInput(_("a row needs a code or a phone to pick the tickets up with."))
        return _Row(line, who, order, code, show.id if show else None, kind.id, quantity, phone, paid)

    @staticmethod
    def _check_codes(session: Session, rows: list[_Row], errors: list[dict[str, Any]]) -> None:
        """A code appears once in the file and is not another order's code."""
        seen: dict[str, int] = {}
        for row in rows:
            if not row.code:
                continue
            if row.code in seen:
                errors.append({"line": row.line, "message": _("code {code} is on line {first} too.").format(
                    code=row.code, first=seen[row.code])})
            else:
                seen[row.code] = row.line
        if not seen:
            return
        taken = {}
        codes = list(seen)
        for start in range(0, len(codes), 500):
            chunk = codes[start:start + 500]
            for found in session.scalars(select(RedemptionCode).where(RedemptionCode.code.in_(chunk))):
                taken[found.code] = found
        for row in rows:
            other = taken.get(row.code) if row.code else None
            if other is not None and (other.partner, other.external_order) != (row.partner, row.order):
                errors.append({"line": row.line, "message": _("code {code} belongs to another order already.").format(
                    code=row.code)})

    @staticmethod
    def _new_orders(session: Session, rows: list[_Row], errors: list[dict[str, Any]]
                    ) -> tuple[list[_Row], list[tuple[str, str]]]:
        """The rows of orders not imported before; orders imported before with the same lines
        are skipped; with other lines they are errors."""
        by_order: dict[tuple[str, str], list[_Row]] = {}
        for row in rows:
            by_order.setdefault((row.partner, row.order), []).append(row)
        new: list[_Row] = []
        skipped: list[tuple[str, str]] = []
        for (partner, order), lines in by_order.items():
            before = session.scalars(select(RedemptionCode).where(RedemptionCode.partner == partner,
                                                                  RedemptionCode.external_order == order)).all()
            if not before:
                new.extend(lines)
                continue
            same = sorted(r.lines_key() for r in lines) == sorted(
                (str(c.session_id or ""), str(c.ticket_type_id), c.quantity, c.phone, c.paid) for c in before)
            codes = {c.code for c in before}
            if same and all(not r.code or r.code in codes for r in lines):
                skipped.append((partner, order))
                continue
            for row in lines:
                errors.append({"line": row.line, "message": _(
                    "order {order} of {partner} was imported before with other lines; void its codes first to "
                    "import it again.").format(order=order, partner=partner)})
        return new, skipped


__all__ = ["ISSUED_DIGITS", "RedemptionIssuing"]
