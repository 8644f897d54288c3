"""Offers, packages and combos (T3, T4), and the price of an order for a session.

``OffersService`` keeps the offers (time slot, film grade, buy N get M), the packages and the
combos (permission ``tickets.setup``; reading needs ``tickets.view``) and quotes an order.
``price_order`` prices an order inside an open SQLAlchemy session: the sale service calls it
in the transaction that sells the seats, so the price charged is the price computed there.
The rules themselves are in ``plugins.tickets.pricing`` (docs/tickets-pricing.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import local_date, text, whole

from plugins.tickets.core import TicketsCore
from plugins.tickets.models import (
    Combo, OfferRule, Package, Price, Programme, Seat, SeatMap, ShowSession, TicketType, Zone,
)
from plugins.tickets.models.catalogue import OFFER_KINDS
from plugins.tickets.pricing import (
    ANY_ZONE, MAX_GROUP, REFUSED_NOT_SOLD, ComboSale, ComboTerms, Offer, PricedOrder, Refusal, SessionContext,
    TicketLine, as_dict, list_price, price_tickets, refusal,
)
from plugins.wallet.pricing import BP, RULE_MAX_BP, RULE_MIN_BP

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_LINES = 500  # lines in one quote


# --------------------------------------------------------------------------- rows <-> engine


def codes(value: str) -> frozenset[str]:
    """A comma-separated list as a set (blanks dropped)."""
    return frozenset(c.strip() for c in value.split(",") if c.strip())


def offer_from_row(row: OfferRule) -> Offer:
    def clock(value: str) -> dt.time | None:
        return dt.time.fromisoformat(value) if value else None

    return Offer(code=row.code, kind=row.kind, multiplier_bp=row.multiplier_bp, combinable=bool(row.combinable),
                 start=clock(row.start), end=clock(row.end), weekdays=frozenset(int(d) for d in codes(row.weekdays)),
                 grades=codes(row.grades), ticket_types=codes(row.ticket_types), buy_n=row.buy_n, get_m=row.get_m,
                 valid_from=row.valid_from, valid_until=row.valid_until)


def offer_dict(row: OfferRule) -> dict[str, Any]:
    return {"code": row.code, "kind": row.kind, "multiplier_bp": row.multiplier_bp, "combinable": row.combinable,
            "start": row.start, "end": row.end, "weekdays": row.weekdays, "grades": row.grades,
            "ticket_types": row.ticket_types, "buy_n": row.buy_n, "get_m": row.get_m,
            "valid_from": row.valid_from.isoformat() if row.valid_from else None,
            "valid_until": row.valid_until.isoformat() if row.valid_until else None, "active": row.active}


def package_dict(row: Package) -> dict[str, Any]:
    return {"code": row.code, "name": row.name, "price": row.price, "entries": row.entries,
            "programmes": row.programmes, "venues": row.venues, "valid_days": row.valid_days, "active": row.active}


def combo_dict(row: Combo, ticket_type: str) -> dict[str, Any]:
    return {"code": row.code, "name": row.name, "ticket_type": ticket_type, "goods": row.goods, "price": row.price,
            "goods_value": row.goods_value, "active": row.active}


def active_offers(session: Session, day: dt.date | None = None) -> list[Offer]:
    """The switched-on offers (valid on ``day`` when given), in code order."""
    query = select(OfferRule).where(OfferRule.active.is_(True)).order_by(OfferRule.code)
    if day is not None:
        query = query.where((OfferRule.valid_from.is_(None)) | (OfferRule.valid_from <= day),
                            (OfferRule.valid_until.is_(None)) | (OfferRule.valid_until >= day))
    return [offer_from_row(row) for row in session.scalars(query)]


# --------------------------------------------------------------------------- pricing an order


def _line_fields(line: object, index: int) -> tuple[str, int, str | None, str | None]:
    """(ref, quantity, zone, seat id) of one requested line."""
    if not isinstance(line, Mapping):
        raise InvalidInput(_("Each line is a mapping with a ticket type or a combo."))
    unknown = set(line) - {"ref", "ticket_type", "combo", "quantity", "zone", "seat"}
    if unknown:
        raise InvalidInput(_("Unknown line fields: {fields}.").format(fields=", ".join(sorted(map(str, unknown)))))
    if bool(line.get("ticket_type")) == bool(line.get("combo")):
        raise InvalidInput(_("Each line is a mapping with a ticket type or a combo."))
    seat = line.get("seat")
    quantity = whole(line.get("quantity", 1), _("The quantity"), minimum=1, maximum=10000)
    if seat is not None and quantity != 1:
        raise InvalidInput(_("A line with a seat is one ticket."))
    zone = line.get("zone")
    if zone is not None:
        zone = text(zone, _("The zone code"), 32)
    ref = line.get("ref") or (str(seat) if seat is not None else f"L{index + 1}")
    return text(ref, _("The line reference"), 100), quantity, zone, None if seat is None else str(seat)


def _seat_zone(session: Session, show: ShowSession, seat_id: str) -> str:
    try:
        key = uuid.UUID(seat_id)
    except ValueError:
        raise InvalidInput(_("{value!r} is not a seat id.").format(value=seat_id)) from None
    seat = session.get(Seat, key)
    if seat is None or seat.seat_map_id != show.seat_map_id:
        raise NotFound(_("Session {session} has no seat {seat}.").format(session=show.code, seat=seat_id))
    if seat.zone_id is None:
        return ANY_ZONE
    return session.get_one(Zone, seat.zone_id).code


def session_context(session: Session, show: ShowSession, zone: dt.tzinfo) -> SessionContext:
    """The engine's view of ``show``: its start in the venue's local time, grade and venue."""
    programme = session.get_one(Programme, show.programme_id)
    return SessionContext(starts_at=show.starts_at.astimezone(zone).replace(tzinfo=None), grade=programme.grade,
                          venue=show.venue_code)


def price_order(session: Session, show: ShowSession | str, lines: Sequence[Mapping[str, Any]], *,
                zone: dt.tzinfo, tier_discount_bp: int = 0) -> PricedOrder:
    """Price ``lines`` for ``show`` (a session row or its code) inside ``session``.

    Each line is a mapping with ``ticket_type`` (a code) or ``combo`` (a combo's code), and
    optionally ``quantity`` (default 1), ``seat`` (a seat id of the session's seat map: one
    ticket, priced in the seat's zone), ``zone`` (without a seat; default ``*``) and ``ref``
    (default the seat id, else ``L1``, ``L2``...). ``zone`` is the venue's time zone (the
    settings' ``zone``): offers look at the session's local start. Prices come from the
    session's plan; the active offers valid on the session's local date apply; a line without
    a price or of a type no longer sold is left out with a refusal on the result.
    """
    tier_discount_bp = whole(tier_discount_bp, _("The member discount"), maximum=BP)
    if not isinstance(lines, Sequence) or isinstance(lines, (str, bytes)) or not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(_("An order has 1 to {n} lines.").format(n=MAX_LINES))
    if isinstance(show, str):
        show = TicketsCore._by_code(session, ShowSession, show, _("session"))
    context = session_context(session, show, zone)
    prices = {(zone_code, type_code): price for zone_code, type_code, price in session.execute(
        select(Price.zone_code, TicketType.code, Price.price).join(TicketType, TicketType.id == Price.ticket_type_id)
        .where(Price.plan_id == show.plan_id))}
    types: dict[str, TicketType] = {}
    combos: dict[str, Combo] = {}
    refusals: list[Refusal] = []
    tickets: list[TicketLine] = []
    combo_sales: list[ComboSale] = []
    for index, raw in enumerate(lines):
        ref, quantity, line_zone, seat = _line_fields(raw, index)
        if seat is not None:
            seat_zone = _seat_zone(session, show, seat)
            if line_zone is not None and line_zone != seat_zone:
                raise InvalidInput(_("Seat {seat} is in zone {zone}, not {other}.").format(
                    seat=seat, zone=seat_zone, other=line_zone))
            line_zone = seat_zone
        line_zone = line_zone or ANY_ZONE
        if raw.get("combo"):
            code = str(raw["combo"])
            if code not in combos:
                combos[code] = TicketsCore._by_code(session, Combo, code, _("combo"))
            combo = combos[code]
            combo_type = session.get_one(TicketType, combo.ticket_type_id)
            if not combo.active or not combo_type.active:
                refusals.append(refusal(REFUSED_NOT_SOLD, ref, item=code))
                continue
            terms = ComboTerms(code=combo.code, ticket_type=combo_type.code, price=combo.price,
                               goods_value=combo.goods_value, goods=combo.goods, category=combo_type.category)
            combo_sales.append(ComboSale(ref=ref, combo=terms, quantity=quantity, zone=line_zone, seat=seat))
            continue
        code = str(raw["ticket_type"])
        if code not in types:
            types[code] = TicketsCore._by_code(session, TicketType, code, _("ticket type"))
        ticket_type = types[code]
        if not ticket_type.active:
            refusals.append(refusal(REFUSED_NOT_SOLD, ref, item=code))
            continue
        found = list_price(prices, code, line_zone, ref=ref)
        if isinstance(found, Refusal):
            refusals.append(found)
            continue
        tickets.append(TicketLine(ref=ref, ticket_type=code, unit_price=found, quantity=quantity,
                                  category=ticket_type.category, zone=line_zone, seat=seat,
                                  min_quantity=ticket_type.min_quantity))
    try:
        priced = price_tickets(context, tickets, active_offers(session, context.starts_at.date()),
                               tier_discount_bp=tier_discount_bp, combos=combo_sales)
    except ValueError as exc:  # two lines with the same ref
        raise InvalidInput(_("The order is not valid: {detail}").format(detail=str(exc))) from exc
    return priced.with_refusals(refusals)


def apply_offers(session: Session, show: ShowSession, priced: Sequence[Any], *, zone: dt.tzinfo,
                 tier_discount_bp: int = 0) -> list[Any]:
    """The sale service's hook: its seat lines (frozen dataclasses with ``zone``,
    ``ticket_type`` (a ``TicketType`` row), ``price`` and ``discounts``), each one ticket
    already at its plan price, come back with the active offers of the session applied
    (``price`` lowered, one ``discounts`` entry per step: kind, label, amount, multiplier_bp,
    free). Group minimums and missing prices are the caller's checks."""
    if not priced:
        return []
    tickets = [TicketLine(ref=f"L{i + 1}", ticket_type=line.ticket_type.code, unit_price=line.price,
                          category=line.ticket_type.category, zone=line.zone) for i, line in enumerate(priced)]
    context = session_context(session, show, zone)
    order = price_tickets(context, tickets, active_offers(session, context.starts_at.date()),
                          tier_discount_bp=tier_discount_bp)
    return [dataclasses.replace(line, price=result.total, discounts=(*line.discounts, *(
                {"kind": s.kind, "label": s.label, "amount": s.amount, "multiplier_bp": s.multiplier_bp,
                 "free": s.free} for s in result.steps)))
            for line, result in zip(priced, order.lines)]


# --------------------------------------------------------------------------- the service


def _hhmm(value: object, what: str) -> str:
    if not isinstance(value, str) or not _HHMM.match(value.strip()):
        raise InvalidInput(_("{what} must be a time written HH:MM (00:00 to 23:59).").format(what=what))
    return value.strip()


def _code_list(value: object, what: str) -> str:
    listed = codes(text(value, what, 2000, required=False))
    if any(len(c) > 32 for c in listed):
        raise InvalidInput(_("{what} is required, as text of at most {n} characters.").format(what=what, n=32))
    return ",".join(sorted(listed))


def _optional_date(value: object, what: str) -> dt.date | None:
    return None if value in (None, "") else local_date(value, what)


class OffersService(TicketsCore):
    """Offers (T4), packages and combos (T3), and quotes."""

    # ------------------------------------------------------------ offers

    def add_offer(self, actor: Actor, *, code: str, kind: str, multiplier_bp: int = BP, combinable: bool = False,
                  start: str = "", end: str = "", weekdays: str = "", grades: str = "", ticket_types: str = "",
                  buy_n: int = 0, get_m: int = 0, valid_from: dt.date | str | None = None,
                  valid_until: dt.date | str | None = None) -> dict[str, Any]:
        """A new offer, switched on. ``time_slot``/``film_grade`` keep ``multiplier_bp`` (5000 to
        9000) of the price; ``time_slot`` needs ``start`` and ``end`` (HH:MM), ``film_grade`` needs
        ``grades``; ``buy_n_get_m`` needs ``buy_n`` and ``get_m`` (at least 1 each)."""
        self._begin(actor, "tickets.setup", admin=True)
        code = text(code, _("The offer code"), 32)
        if kind not in OFFER_KINDS:
            raise InvalidInput(_("{what} must be one of: {choices}.").format(
                what=_("The kind"), choices=", ".join(OFFER_KINDS)))
        values: dict[str, Any] = {"code": code, "kind": kind, "combinable": bool(combinable), "start": "", "end": "",
                                  "weekdays": "", "grades": "", "buy_n": 0, "get_m": 0, "multiplier_bp": BP,
                                  "ticket_types": _code_list(ticket_types, _("The ticket types")),
                                  "valid_from": _optional_date(valid_from, _("The first day")),
                                  "valid_until": _optional_date(valid_until, _("The last day"))}
        if values["valid_from"] and values["valid_until"] and values["valid_until"] < values["valid_from"]:
            raise InvalidInput(_("The last day cannot be before the first day."))
        if kind != "time_slot" and (start or end or weekdays):
            raise InvalidInput(_("Only a time-slot offer has a start, an end and weekdays."))
        if kind != "film_grade" and grades:
            raise InvalidInput(_("Only a film-grade offer has grades."))
        if kind == "buy_n_get_m":
            values["buy_n"] = whole(buy_n, _("Buy N"), minimum=1, maximum=MAX_GROUP)
            values["get_m"] = whole(get_m, _("Get M"), minimum=1, maximum=MAX_GROUP)
        else:
            if buy_n or get_m:
                raise InvalidInput(_("Only a buy-N-get-M offer has N and M."))
            if isinstance(multiplier_bp, bool) or not isinstance(multiplier_bp, int) \
                    or not RULE_MIN_BP <= multiplier_bp <= RULE_MAX_BP:
                raise InvalidInput(_("An offer keeps 50% to 90% of the price (5000 to 9000 basis points)."))
            values["multiplier_bp"] = multiplier_bp
        if kind == "time_slot":
            values["start"], values["end"] = _hhmm(start, _("The start")), _hhmm(end, _("The end"))
            if values["start"] == values["end"]:
                raise InvalidInput(_("A time slot must not start and end at the same time."))
            days = codes(text(weekdays, _("The weekdays"), 20, required=False))
            if any(d not in "0123456" or len(d) != 1 for d in days):
                raise InvalidInput(_("Weekdays are 0 (Monday) to 6 (Sunday), comma-separated."))
            values["weekdays"] = ",".join(sorted(days))
        if kind == "film_grade":
            values["grades"] = _code_list(grades, _("The grades"))
            if not values["grades"]:
                raise InvalidInput(_("A film-grade offer needs at least one grade."))
        row = OfferRule(**values, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
        try:
            offer_from_row(row)
        except (TypeError, ValueError) as exc:  # pragma: no cover - the checks above come first
            raise InvalidInput(_("The offer is not valid: {detail}").format(detail=str(exc))) from exc
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(OfferRule.id).where(OfferRule.code == code)) is not None:
                raise Conflict(_("The offer {code} exists already.").format(code=code), code=code)
            self._known_types(session, codes(values["ticket_types"]))
            session.add(row)
            session.flush()
            self._audit(session, actor, "tickets.offer.create", code, offer_dict(row))
            uow.commit()
            return offer_dict(row)

    @staticmethod
    def _known_types(session: Session, wanted: frozenset[str]) -> None:
        if not wanted:
            return
        known = set(session.scalars(select(TicketType.code).where(TicketType.code.in_(sorted(wanted)))))
        for code in sorted(wanted - known):
            raise NotFound(_("There is no {what} {code}.").format(what=_("ticket type"), code=code), code=code)

    def set_offer_active(self, actor: Actor, code: str, active: bool) -> dict[str, Any]:
        """Switch an offer on or off (it stays, for the orders that used it)."""
        self._begin(actor, "tickets.setup", admin=True)
        with self._uow() as uow:
            row = self._by_code(uow.session, OfferRule, code, _("offer"), lock=True)
            before, row.active = row.active, bool(active)
            self._audit(uow.session, actor, "tickets.offer.active", code, {"from": before, "to": row.active})
            uow.commit()
            return offer_dict(row)

    def enable_offer(self, actor: Actor, code: str) -> dict[str, Any]:
        return self.set_offer_active(actor, code, True)

    def disable_offer(self, actor: Actor, code: str) -> dict[str, Any]:
        return self.set_offer_active(actor, code, False)

    def list_offers(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            return [offer_dict(r) for r in uow.session.scalars(select(OfferRule).order_by(OfferRule.code))]

    # ------------------------------------------------------------ packages and combos

    def add_package(self, actor: Actor, *, code: str, name: str, price: int, entries: int, programmes: str = "",
                    venues: str = "", valid_days: int = 365) -> dict[str, Any]:
        """A package of ``entries`` admissions to ``programmes`` at ``venues`` (codes; empty:
        any), valid ``valid_days`` from its sale."""
        self._begin(actor, "tickets.setup", admin=True)
        values = {"code": text(code, _("The package code"), 32), "name": text(name, _("The name"), 100),
                  "price": whole(price, _("The price")),
                  "entries": whole(entries, _("The number of entries"), minimum=1, maximum=10000),
                  "programmes": _code_list(programmes, _("The programmes")),
                  "venues": _code_list(venues, _("The venues")),
                  "valid_days": whole(valid_days, _("The validity"), minimum=1, maximum=36500)}
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(Package.id).where(Package.code == values["code"])) is not None:
                raise Conflict(_("The package {code} exists already.").format(code=values["code"]), code=values["code"])
            for programme in sorted(codes(values["programmes"])):
                self._by_code(session, Programme, programme, _("programme"))
            row = Package(**values, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(row)
            session.flush()
            self._audit(session, actor, "tickets.package.create", row.code, package_dict(row))
            uow.commit()
            return package_dict(row)

    def list_packages(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            return [package_dict(r) for r in uow.session.scalars(select(Package).order_by(Package.code))]

    def add_combo(self, actor: Actor, *, code: str, name: str, ticket_type: str, price: int, goods: str = "",
                  goods_value: int = 0) -> dict[str, Any]:
        """A ticket of ``ticket_type`` plus ``goods`` for ``price``; ``goods_value`` (at most the
        price) is the goods' share, the ticket is the rest."""
        self._begin(actor, "tickets.setup", admin=True)
        values = {"code": text(code, _("The combo code"), 32), "name": text(name, _("The name"), 100),
                  "goods": text(goods, _("The goods"), 2000, required=False), "price": whole(price, _("The price")),
                  "goods_value": whole(goods_value, _("The goods' value"))}
        if values["goods_value"] > values["price"]:
            raise InvalidInput(_("The goods' value cannot be more than the combo's price."))
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(Combo.id).where(Combo.code == values["code"])) is not None:
                raise Conflict(_("The combo {code} exists already.").format(code=values["code"]), code=values["code"])
            type_row = self._by_code(session, TicketType, ticket_type, _("ticket type"))
            row = Combo(**values, ticket_type_id=type_row.id, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(row)
            session.flush()
            self._audit(session, actor, "tickets.combo.create", row.code, combo_dict(row, type_row.code))
            uow.commit()
            return combo_dict(row, type_row.code)

    def list_combos(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            rows = uow.session.execute(select(Combo, TicketType.code).join(
                TicketType, TicketType.id == Combo.ticket_type_id).order_by(Combo.code))
            return [combo_dict(row, type_code) for row, type_code in rows]

    # ------------------------------------------------------------ quotes

    def quote(self, actor: Actor, session_code: str, lines: Sequence[Mapping[str, Any]],
              tier_discount_bp: int = 0) -> dict[str, Any]:
        """What ``lines`` (see :func:`price_order`) cost for session ``session_code``, as plain
        data: each line with its list price, discount steps and total; the order's totals; and
        the refusals (a group below its minimum, a missing price) with their messages."""
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            session = uow.session
            show = self._by_code(session, ShowSession, session_code, _("session"))
            priced = price_order(session, show, lines, zone=self.settings.zone, tier_discount_bp=tier_discount_bp)
            context = session_context(session, show, self.settings.zone)
            seat_map = session.get_one(SeatMap, show.seat_map_id)
            return {"session": show.code, "starts_at_local": context.starts_at.isoformat(timespec="minutes"),
                    "grade": context.grade, "venue": context.venue, "seat_map": seat_map.name,
                    "tier_discount_bp": tier_discount_bp, **as_dict(priced)}


__all__ = ["OffersService", "active_offers", "apply_offers", "combo_dict", "offer_dict", "offer_from_row",
           "package_dict", "price_order", "session_context"]
