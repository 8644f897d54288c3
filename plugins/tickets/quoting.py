"""Pricing an order at the counter (T5, docs/tickets-pricing.md): each line's list price from
the session's price plan (the zone's price, else the plan's ``*`` price) or its combo, the
ticket types' group minimums, then the box office's offers and the paying card's member tier.
``quote`` shows the prices without selling; the sale prices its lines the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import InvalidInput
from suite.i18n import _
from suite.identity.actor import Actor

from plugins.tickets.core import SaleRefused
from plugins.tickets.holds import SeatHolds
from plugins.tickets.models import ANY_ZONE, Combo, Price, Seat, ShowSession, TicketType, Zone
from plugins.tickets.offers import apply_offers
from plugins.wallet.pricing import BP, apply_multiplier


@dataclass(frozen=True)
class PricedLine:
    """One ticket of an order, priced."""

    seat: Seat | None
    zone: str
    ticket_type: TicketType
    list_price: int
    price: int
    discounts: tuple[dict[str, Any], ...] = ()
    admits: int = 1
    kind: str = "seat"  # seat | combo (a seat with goods) | package (entries, no seat)
    product_id: uuid.UUID | None = None  # the combo or package


class SalePricing(SeatHolds):
    """The prices of an order's lines: plan, combos, group minimums, offers, member tier."""

    def _price_lines(self, session: Session, show: ShowSession, lines: Sequence[Mapping[str, Any]],
                     card_no: str = "") -> list[PricedLine]:
        """List prices from the session's plan (the zone's price, else the plan's ``*`` price),
        then the box office's offers (``plugins.tickets.pricing`` when present)."""
        types = {t.code: t for t in session.scalars(select(TicketType))}
        prices = {(p.zone_code, p.ticket_type_id): p.price
                  for p in session.scalars(select(Price).where(Price.plan_id == show.plan_id))}
        zones = {z.id: z.code for z in session.scalars(select(Zone).where(Zone.seat_map_id == show.seat_map_id))}
        seats = {s.id: s for s in self._seats(session, show, [line["seat_id"] for line in lines])}
        tier = self._tier(session, card_no)
        combos = {c.code: c for c in session.scalars(select(Combo).where(Combo.active.is_(True)))}
        priced: list[PricedLine] = []
        for line in lines:
            seat = seats[uuid.UUID(str(line["seat_id"]))]
            zone = zones.get(seat.zone_id, ANY_ZONE) if seat.zone_id else ANY_ZONE
            if line.get("combo"):  # the combo is the deal: no offers, the member tier applies
                combo = combos.get(str(line["combo"]))
                if combo is None:
                    raise InvalidInput(_("There is no combo {code} on sale.").format(code=line["combo"]))
                kept = apply_multiplier(combo.price, BP - tier)
                priced.append(PricedLine(seat, zone, session.get_one(TicketType, combo.ticket_type_id), combo.price,
                                         kept, ({"kind": "combo", "label": combo.code, "goods": combo.goods,
                                                 "amount": combo.price - kept},), kind="combo",
                                         product_id=combo.id))
                continue
            code = str(line.get("ticket_type") or "")
            ticket_type = types.get(code)
            if ticket_type is None or not ticket_type.active:
                raise InvalidInput(_("There is no ticket type {code} on sale.").format(code=code))
            price = prices.get((zone, ticket_type.id), prices.get((ANY_ZONE, ticket_type.id)))
            if price is None:
                raise SaleRefused(_("No price for {type} in zone {zone}.").format(type=ticket_type.name, zone=zone),
                                  reason="no_price")
            priced.append(PricedLine(seat, zone, ticket_type, price, price))
        plain = [p for p in priced if p.kind == "seat"]
        for ticket_type in {p.ticket_type.code: p.ticket_type for p in plain}.values():
            count = sum(1 for p in plain if p.ticket_type.code == ticket_type.code)
            if count < ticket_type.min_quantity:
                raise SaleRefused(_("{type} tickets are sold {n} or more at a time.").format(
                    type=ticket_type.name, n=ticket_type.min_quantity), reason="group_minimum")
        offered = iter(self._offers(session, show, plain, tier))
        return [next(offered) if p.kind == "seat" else p for p in priced]

    @staticmethod
    def _tier(session: Session, card_no: str) -> int:
        """The member tier discount (bp off) of the card that pays, 0 without one (T4)."""
        if not card_no:
            return 0
        from plugins.wallet.models import Card, CardType

        found = session.execute(select(CardType.discount_bp).join(Card, Card.type_id == CardType.id)
                                .where(Card.card_no == card_no)).scalar()
        return int(found or 0)

    def _offers(self, session: Session, show: ShowSession, priced: list[PricedLine],
                tier_discount_bp: int = 0) -> list[PricedLine]:
        """The box office's offers and the paying card's member tier (docs/tickets-pricing.md)."""
        return apply_offers(session, show, priced, zone=self.settings.zone, tier_discount_bp=tier_discount_bp)

    def quote(self, actor: Actor, *, session_code: str, lines: Sequence[Mapping[str, Any]],
              card_no: str = "") -> dict[str, Any]:
        """What the order would cost, line by line, without selling (``card_no``: the member
        card that will pay, for its tier discount)."""
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            show = self._session(uow.session, session_code)
            priced = self._price_lines(uow.session, show, lines, card_no)
            return {"session": session_code, "total": sum(p.price for p in priced),
                    "list_total": sum(p.list_price for p in priced), "lines": [_line_dict(p) for p in priced]}


def _line_dict(line: PricedLine) -> dict[str, Any]:
    return {"seat_id": str(line.seat.id) if line.seat else None,
            "row": line.seat.row_label if line.seat else "", "seat": line.seat.seat_label if line.seat else "",
            "zone": line.zone, "ticket_type": line.ticket_type.code, "list_price": line.list_price,
            "price": line.price, "discounts": list(line.discounts)}


__all__ = ["PricedLine", "SalePricing"]
