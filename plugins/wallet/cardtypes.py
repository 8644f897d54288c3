"""Card types and tiers (W1, W2), their settlement prices per venue, and the time-slot and
film-grade discount rules: the administrator's side of the wallet (permission
``wallet.cardtypes``; reading needs ``wallet.view``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor

from plugins.wallet.core import WalletCore, _text, _whole
from plugins.wallet.models import CATEGORIES, KINDS, CardType, DiscountRuleRow, SettlementPrice, codes
from plugins.wallet.pricing import RULE_MAX_BP, RULE_MIN_BP, DiscountRule

# the settable fields of a card type and how each is checked
_LISTS = ("accepted_venues", "accepted_merchants", "accepted_terminal_groups", "gift_categories", "gift_merchants")
_FLAGS = ("pay_gift_first", "active")


def code_list(value: object) -> str:
    """A comma-separated list of codes, checked and normalised (sorted, no blanks)."""
    return ",".join(sorted(codes(_text(value, _("The list of codes"), 2000, required=False))))


def _check_type_field(name: str, value: Any) -> Any:
    if name == "name":
        return _text(value, _("The card type name"), 100)
    if name == "kind":
        if value not in KINDS:
            raise InvalidInput(_("The kind must be one of: {choices}.").format(choices=", ".join(KINDS)))
        return value
    if name == "category":
        if value not in CATEGORIES:
            raise InvalidInput(_("The category must be one of: {choices}.").format(choices=", ".join(CATEGORIES)))
        return value
    if name in _LISTS:
        return code_list(value)
    if name in _FLAGS:
        if not isinstance(value, bool):
            raise InvalidInput(_("{what} must be yes or no.").format(what=name))
        return value
    limits: dict[str, tuple[str, int, int]] = {
        "discount_bp": (_("The discount"), 0, 10000),
        "bonus_bp": (_("The top-up bonus"), 0, 100000),
        "validity_days": (_("The validity"), 1, 36500),
        "deposit": (_("The deposit"), 0, 10**12),
        "points_per_yuan": (_("The points rate"), 0, 10000),
        "min_count_topup": (_("The minimum count top-up"), 1, 100000),
        "redeem_points_per_unit": (_("The points per redemption unit"), 0, 10**9),
        "redeem_fen_per_unit": (_("The value of a redemption unit"), 0, 10**9),
        "redeem_cap_bp": (_("The redemption cap"), 0, 10000),
        "offline_cap": (_("The offline cap"), 0, 10**9),
    }
    if name not in limits:
        raise InvalidInput(_("{field} is not a field of a card type.").format(field=name))
    what, low, high = limits[name]
    return _whole(value, what, minimum=low, maximum=high)


def type_dict(t: CardType) -> dict[str, Any]:
    return {"code": t.code, "name": t.name, "kind": t.kind, "category": t.category, "discount_bp": t.discount_bp,
            "bonus_bp": t.bonus_bp, "validity_days": t.validity_days, "deposit": t.deposit,
            "points_per_yuan": t.points_per_yuan, "min_count_topup": t.min_count_topup,
            "accepted_venues": t.accepted_venues, "accepted_merchants": t.accepted_merchants,
            "accepted_terminal_groups": t.accepted_terminal_groups, "gift_categories": t.gift_categories,
            "gift_merchants": t.gift_merchants, "pay_gift_first": t.pay_gift_first,
            "redeem_points_per_unit": t.redeem_points_per_unit, "redeem_fen_per_unit": t.redeem_fen_per_unit,
            "redeem_cap_bp": t.redeem_cap_bp, "offline_cap": t.offline_cap, "active": t.active}


def rule_from_row(row: DiscountRuleRow) -> DiscountRule:
    """The pricing engine's rule; validity days become local midnights (``valid_until`` is the
    last day, so the rule ends at the next midnight)."""
    def times(text: str) -> dt.time | None:
        return dt.time.fromisoformat(text) if text else None

    return DiscountRule(
        rule_id=row.rule_id, kind=row.kind, multiplier_bp=row.multiplier_bp,  # type: ignore[arg-type]
        combinable=row.combinable,
        valid_from=dt.datetime.combine(row.valid_from, dt.time()) if row.valid_from else None,
        valid_until=dt.datetime.combine(row.valid_until + dt.timedelta(days=1), dt.time()) if row.valid_until else None,
        venues=codes(row.venues), categories=codes(row.categories), start=times(row.start), end=times(row.end),
        weekdays=frozenset(int(d) for d in codes(row.weekdays)), film_grades=codes(row.film_grades))


def rule_dict(row: DiscountRuleRow) -> dict[str, Any]:
    return {"rule_id": row.rule_id, "kind": row.kind, "multiplier_bp": row.multiplier_bp,
            "combinable": row.combinable, "valid_from": row.valid_from.isoformat() if row.valid_from else None,
            "valid_until": row.valid_until.isoformat() if row.valid_until else None, "venues": row.venues,
            "categories": row.categories, "start": row.start, "end": row.end, "weekdays": row.weekdays,
            "film_grades": row.film_grades, "active": row.active}


def active_rules(session: Session) -> list[DiscountRule]:
    rows = session.scalars(select(DiscountRuleRow).where(DiscountRuleRow.active.is_(True))
                           .order_by(DiscountRuleRow.rule_id))
    return [rule_from_row(row) for row in rows]


class CardTypeAdmin(WalletCore):
    """Card types, settlement prices and discount rules."""

    def _audit(self, session: Session, actor: Actor, action: str, target: str, details: dict[str, Any]) -> None:
        record(session, kind="operation", action=action, actor=actor.username, target=target, details=details,
               venue_id=actor.venue_id, terminal_id=actor.terminal_id)

    def create_card_type(self, actor: Actor, *, code: str, name: str, **fields: Any) -> dict[str, Any]:
        """A new card type; ``fields`` are any of the card type's settable fields (docs/wallet.md)."""
        self._begin(actor, "wallet.cardtypes", admin=True)
        code = _text(code, _("The card type code"), 32)
        values = {"name": _check_type_field("name", name)}
        values.update({field: _check_type_field(field, value) for field, value in fields.items()})
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(CardType.id).where(CardType.code == code)) is not None:
                raise Conflict(_("The card type {code} exists already.").format(code=code), code=code)
            card_type = CardType(code=code, **values, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(card_type)
            session.flush()
            self._audit(session, actor, "wallet.cardtype.create", code, type_dict(card_type))
            uow.commit()
            return type_dict(card_type)

    def edit_card_type(self, actor: Actor, code: str, **changes: Any) -> dict[str, Any]:
        """Change a card type's fields (its code and kind stay: cards hold its accounts).
        The audit record keeps the values before and after."""
        self._begin(actor, "wallet.cardtypes", admin=True)
        if "kind" in changes or "code" in changes:
            raise InvalidInput(_("The code and the kind of a card type cannot change; add a new type instead."))
        checked = {field: _check_type_field(field, value) for field, value in changes.items()}
        if not checked:
            raise InvalidInput(_("Nothing to change."))
        with self._uow() as uow:
            session = uow.session
            card_type = self._type(session, code)
            before = {field: getattr(card_type, field) for field in checked}
            for field, value in checked.items():
                setattr(card_type, field, value)
            session.flush()
            self._audit(session, actor, "wallet.cardtype.edit", code, {"before": before, "after": checked})
            uow.commit()
            return type_dict(card_type)

    def list_card_types(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "wallet.view", admin=True)
        with self._uow.read() as uow:
            session = uow.session
            prices: dict[Any, dict[str, Any]] = {}
            for price in session.scalars(select(SettlementPrice).order_by(SettlementPrice.venue_code)):
                prices.setdefault(price.type_id, {})[price.venue_code] = {"unit_price": price.unit_price,
                                                                          "rate_bp": price.rate_bp}
            return [{**type_dict(t), "settlement": prices.get(t.id, {})}
                    for t in session.scalars(select(CardType).order_by(CardType.code))]

    def set_settlement_price(self, actor: Actor, type_code: str, venue_code: str, *, unit_price: int = 0,
                             rate_bp: int = 10000) -> dict[str, Any]:
        """What the chain settles with ``venue_code`` for this card type (W1): ``unit_price`` fen per
        count used (count cards), ``rate_bp`` of the money consumed (value cards)."""
        self._begin(actor, "wallet.cardtypes", admin=True)
        venue_code = _text(venue_code, _("The venue code"), 32)
        unit_price = _whole(unit_price, _("The settlement unit price"))
        rate_bp = _whole(rate_bp, _("The settlement rate"), maximum=10000)
        with self._uow() as uow:
            session = uow.session
            card_type = self._type(session, type_code)
            price = session.scalars(select(SettlementPrice).where(
                SettlementPrice.type_id == card_type.id, SettlementPrice.venue_code == venue_code)).one_or_none()
            if price is None:
                price = SettlementPrice(type_id=card_type.id, venue_code=venue_code, venue_id=actor.venue_id,
                                        terminal_id=actor.terminal_id)
                session.add(price)
            price.unit_price, price.rate_bp = unit_price, rate_bp
            result = {"type": type_code, "venue": venue_code, "unit_price": unit_price, "rate_bp": rate_bp}
            self._audit(session, actor, "wallet.cardtype.settlement", type_code, result)
            uow.commit()
        return result

    # ------------------------------------------------------------ discount rules (W5)

    def add_rule(self, actor: Actor, *, rule_id: str, kind: str, multiplier_bp: int, combinable: bool = False,
                 valid_from: dt.date | None = None, valid_until: dt.date | None = None, venues: str = "",
                 categories: str = "", start: str = "", end: str = "", weekdays: str = "",
                 film_grades: str = "") -> dict[str, Any]:
        """A time-slot or film-grade rule keeping ``multiplier_bp`` (5000-9000) of the price."""
        self._begin(actor, "wallet.cardtypes", admin=True)
        rule_id = _text(rule_id, _("The rule id"), 32)
        if not isinstance(multiplier_bp, int) or not RULE_MIN_BP <= multiplier_bp <= RULE_MAX_BP:
            raise InvalidInput(_("A discount rule keeps 50% to 90% of the price (5000 to 9000 basis points)."))
        row = DiscountRuleRow(rule_id=rule_id, kind=kind, multiplier_bp=multiplier_bp, combinable=bool(combinable),
                              valid_from=valid_from, valid_until=valid_until,
                              venues=code_list(venues), categories=code_list(categories),
                              start=start, end=end, weekdays=code_list(weekdays),
                              film_grades=code_list(film_grades),
                              venue_id=actor.venue_id, terminal_id=actor.terminal_id)
        try:
            rule_from_row(row)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(_("The discount rule is not valid: {detail}").format(detail=str(exc))) from exc
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(DiscountRuleRow.id).where(DiscountRuleRow.rule_id == rule_id)) is not None:
                raise Conflict(_("The discount rule {rule} exists already.").format(rule=rule_id), rule=rule_id)
            session.add(row)
            session.flush()
            self._audit(session, actor, "wallet.rule.create", rule_id, rule_dict(row))
            uow.commit()
            return rule_dict(row)

    def set_rule_active(self, actor: Actor, rule_id: str, active: bool) -> dict[str, Any]:
        self._begin(actor, "wallet.cardtypes", admin=True)
        with self._uow() as uow:
            session = uow.session
            row = session.scalars(select(DiscountRuleRow).where(DiscountRuleRow.rule_id == rule_id)).one_or_none()
            if row is None:
                raise NotFound(_("There is no discount rule {rule}.").format(rule=rule_id), rule=rule_id)
            row.active = bool(active)
            self._audit(session, actor, "wallet.rule.active", rule_id, {"active": row.active})
            uow.commit()
            return rule_dict(row)

    def list_rules(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "wallet.view", admin=True)
        with self._uow.read() as uow:
            return [rule_dict(r) for r in uow.session.scalars(select(DiscountRuleRow).order_by(DiscountRuleRow.rule_id))]


__all__ = ["CardTypeAdmin", "active_rules", "rule_from_row", "type_dict"]
