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

The CSV of third-party orders (UTF-8, with or without a byte-order mark, or GB 18030) has a
header row naming its columns (English or Chinese names, any order, other columns ignored):

=============  ==================  ========  ==================================================
column         also                required  what
=============  ==================  ========  ==================================================
order          订单号              yes       the partner's order number
ticket_type    type, 票种          yes       a ticket type code of the box office
code           兑换码, 取票码      \\-        the code the customer was given (empty: one is made)
session        场次                \\-        a session code (empty: any session)
quantity       qty, 数量           \\-        tickets for the code (default 1)
phone          mobile, 手机        \\-        the customer's phone (a row needs a code or a phone)
paid           amount, 金额        \\-        what the partner collected, yuan (default 0)
partner        渠道                \\-        the partner (default: the one the import is for)
=============  ==================  ========  ==================================================

A file with any wrong row imports nothing, and says which lines are wrong. An order imported
before with the same lines is skipped, so importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound, SuiteError
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text, whole
from suite.ledger import LineSpec, post

from plugins.tickets.accounts import partner_account
from plugins.tickets.core import SeatTaken
from plugins.tickets.models import Order, Payment, Programme, RedemptionCode, ShowSession, TicketType
from plugins.tickets.partner_sales import MAX_TICKETS, PartnerSales

KIND_REDEEM = "tickets.redemption"
MAX_ROWS = 20_000
ISSUED_DIGITS = 12

# canonical column -> the names a header may give it (compared in lower case)
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "order": ("order", "external_order", "order_no", "订单号"),
    "ticket_type": ("ticket_type", "type", "票种"),
    "code": ("code", "兑换码", "取票码"),
    "session": ("session", "场次"),
    "quantity": ("quantity", "qty", "数量"),
    "phone": ("phone", "mobile", "手机", "手机号"),
    "paid": ("paid", "amount", "金额"),
    "partner": ("partner", "渠道"),
}
REQUIRED_COLUMNS = ("order", "ticket_type")

_CODE = re.compile(r"^[A-Z0-9]{4,64}$")


def normalise_code(value: str) -> str:
    """A code as stored: spaces and dashes dropped, letters in capitals (``ab-12 34`` -> ``AB1234``)."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def normalise_phone(value: str) -> str:
    """A phone as stored and searched: digits only, a leading 86 (China) dropped from 13 digits."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def _check_code(value: str) -> str:
    code = normalise_code(value)
    if not _CODE.match(code):
        raise InvalidInput(_("A redemption code is 4 to 64 letters and digits, not {value!r}.").format(value=value))
    return code


def _check_phone(value: str) -> str:
    phone = normalise_phone(value)
    if value and not 5 <= len(phone) <= 20:
        raise InvalidInput(_("{value!r} is not a phone number.").format(value=value))
    return phone


def redemption_key(code: str) -> str:
    """The idempotency key of redeeming ``code``: one code, one order, whoever retries."""
    return f"redeem:{normalise_code(code)}"


def shares(total: int, parts: int) -> list[int]:
    """``total`` fen in ``parts`` whole shares, the first ones a fen more (``100, 3`` -> 34, 33, 33)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def face_data(ticket: Mapping[str, Any], *, notice: str = "") -> dict[str, Any]:
    """A ticket as the sales service returns it -> the data a ticket face prints
    (``plugins.tickets.faces.TICKET_KEYS``)."""
    return {"serial": ticket["serial"], "code": ticket["code"], "venue": ticket.get("venue", ""),
            "hall": ticket.get("hall_name") or ticket.get("hall", ""), "programme": ticket.get("programme", ""),
            "grade": ticket.get("grade", ""), "starts_at": ticket.get("starts_at"), "row": ticket.get("row", ""),
            "seat": ticket.get("seat", ""), "zone": ticket.get("zone", ""),
            "ticket_type": ticket.get("ticket_type", ""),
            "price": ticket.get("price"), "admits": ticket.get("admits", 1), "order_number": ticket.get("order", ""),
            "cashier": ticket.get("cashier", ""), "notice": notice}


@dataclasses.dataclass
class _Row:
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


class RedemptionService(PartnerSales):
    """Issue, import, find, redeem and void redemption codes."""

    def _offers(self, session: Session, show: ShowSession, priced: list[Any], *args: Any,
                **kwargs: Any) -> list[Any]:
        """A redeemed ticket's price is its share of what the partner collected: no offers."""
        return priced

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
        phone = _check_phone(text(phone, _("The phone"), 32, required=False))
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
                code = _check_code(code)
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
        """Import a CSV of third-party orders (columns in the module's docstring) as open codes
        of ``partner`` (or of each row's ``partner`` column). All or nothing: any wrong row
        raises ``InvalidInput`` listing the lines (``details["errors"]``: [{line, message}]).
        Orders imported before with the same lines are skipped. Permission ``tickets.sell``;
        audited."""
        self._begin(actor, "tickets.sell")
        partner = text(partner, _("The partner"), 64, required=False)
        raw_rows = _read_csv(data)
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
        code = _check_code(raw_code) if raw_code else ""
        phone = _check_phone(raw_phone) if raw_phone else ""
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
            exists = bool(_CODE.match(normal)) and uow.session.scalar(
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
        if row.state == "redeemed":
            order = session.get(Order, row.order_id) if row.order_id else None
            when = order.paid_at.astimezone(self.settings.zone).strftime("%Y-%m-%d %H:%M") if order and \
                order.paid_at else ""
            raise Conflict(_("Code {code} was used already: its tickets were picked up on {when}.").format(
                code=row.code, when=when), reason="redeemed")
        if row.state == "void":
            raise Conflict(_("Code {code} is void.").format(code=row.code), reason="void")

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


def _read_csv(data: str | bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (line number, {canonical column: text}); header problems raise."""
    if isinstance(data, bytes):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                data = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise InvalidInput(_("The file is neither UTF-8 nor GB 18030 text."))
    if not isinstance(data, str):
        raise InvalidInput(_("The import needs the CSV file's text."))
    reader = csv.reader(io.StringIO(data.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(_("The file is empty.")) from None
    except csv.Error as exc:
        raise InvalidInput(_("line {line}: {message}").format(line=1, message=str(exc))) from None
    names = {alias.lower(): canonical for canonical, aliases in CSV_COLUMNS.items() for alias in aliases}
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        canonical = names.get(title.strip().lower())
        if canonical is not None:
            if canonical in columns.values():
                raise InvalidInput(_("line 1: the column {name} is there twice.").format(name=canonical))
            columns[index] = canonical
    missing = [c for c in REQUIRED_COLUMNS if c not in columns.values()]
    if missing:
        raise InvalidInput(_("line 1: the header lacks the columns {names} (it has: {found}).").format(
            names=", ".join(missing), found=", ".join(h.strip() for h in header)))
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise InvalidInput(_("The file has more than {n} rows: split it.").format(n=MAX_ROWS))
            rows.append((line, {name: (record[i] if i < len(record) else "") for i, name in columns.items()}))
    except csv.Error as exc:
        raise InvalidInput(_("line {line}: {message}").format(line=line + 1, message=str(exc))) from None
    if not rows:
        raise InvalidInput(_("The file has a header but no orders."))
    return rows


__all__ = ["CSV_COLUMNS", "RedemptionService", "face_data", "normalise_code", "normalise_phone", "redemption_key",
           "shares"]
