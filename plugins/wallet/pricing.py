"""Card wallet pricing: discounts, the wallet split and points, as pure functions.

Nothing here touches a database, a device or the clock: the caller passes the sale, the
card's terms and balances, the moment and place of the sale, and the discount rules in force,
and gets back a :class:`Quote` it can show, print and post as one journal entry.

Money is integer fen, points are integer points, percentages are integer basis points
(1 bp = 0.01 %). No float is used anywhere. The order of application and the rounding rule
are stated in ``docs/wallet-pricing.md``; in short, per line:

1. the per-item discount (``SaleItem.item_discount_bp``, the share taken off),
2. the time-slot / film-grade rules (``DiscountRule.multiplier_bp``, the share kept,
   5000-9000): the best single applicable rule, or all applicable combinable rules stacked
   multiplicatively, whichever gives the lower price,
3. the member tier discount (``CardTerms.tier_discount_bp``, the share taken off),

each step rounded half up to the fen on the line amount; the sale total is the sum of the
line totals. Then the total is split across tenders: points redemption if asked for (capped),
then the gift wallet (only on eligible lines) and the main wallet, gift first or main first as
the card type says. Points are earned on the part paid from the main wallet. When the balances cannot cover the total the quote carries a
refusal and pays nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Literal

BP = 10_000  # basis points in 100 %
RULE_MIN_BP = 5_000  # rules keep between 50 % ...
RULE_MAX_BP = 9_000  # ... and 90 % of the price ("5 to 9 zhe")

RuleKind = Literal["time_slot", "film_grade"]
RULE_KINDS: tuple[str, ...] = ("time_slot", "film_grade")  # also the stacking order

REFUSED_INSUFFICIENT = "insufficient_balance"


# --------------------------------------------------------------------------- helpers


def _check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")


def apply_multiplier(amount: int, multiplier_bp: int) -> int:
    """``amount * multiplier_bp / 10000`` rounded half up to the fen (integers only).

    For ``0 <= multiplier_bp <= 10000`` the result is between 0 and ``amount``: a discount
    never increases a price and never takes it below zero.
    """
    _check_int("amount", amount, 0)
    _check_int("multiplier_bp", multiplier_bp, 0, BP)
    return (amount * multiplier_bp + BP // 2) // BP


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SaleItem:
    """One line of a sale. ``unit_price`` in fen; ``item_discount_bp`` is the share taken
    off this item (0 = none, 1000 = 10 % off, i.e. "9 zhe")."""

    sku: str
    category: str
    unit_price: int
    quantity: int = 1
    film_grade: str | None = None
    merchant: str | None = None  # None: the sale's merchant (SaleContext.merchant)
    item_discount_bp: int = 0

    def __post_init__(self) -> None:
        _check_int("unit_price", self.unit_price, 0)
        _check_int("quantity", self.quantity, 1)
        _check_int("item_discount_bp", self.item_discount_bp, 0, BP)


@dataclass(frozen=True)
class CardTerms:
    """What the card's type and tier allow, and the card's balances at the time of sale.

    ``tier_discount_bp`` is the share taken off (gold 10 % = 1000). ``points_rate`` is points
    earned per whole yuan (100 fen) paid from the main wallet. Points redemption converts
    ``redeem_points_per_unit`` points into ``redeem_fen_per_unit`` fen, in whole units only,
    for at most ``redeem_cap_bp`` of the sale total; 0 points per unit disables redemption.
    """

    tier_discount_bp: int = 0
    gift_allowed_categories: frozenset[str] = frozenset()
    gift_allowed_merchants: frozenset[str] = frozenset()
    points_rate: int = 0
    main_balance: int = 0
    gift_balance: int = 0
    points_balance: int = 0
    pay_gift_first: bool = True
    redeem_points_per_unit: int = 0
    redeem_fen_per_unit: int = 0
    redeem_cap_bp: int = BP

    def __post_init__(self) -> None:
        _check_int("tier_discount_bp", self.tier_discount_bp, 0, BP)
        _check_int("points_rate", self.points_rate, 0)
        _check_int("main_balance", self.main_balance, 0)
        _check_int("gift_balance", self.gift_balance, 0)
        _check_int("points_balance", self.points_balance, 0)
        _check_int("redeem_points_per_unit", self.redeem_points_per_unit, 0)
        _check_int("redeem_fen_per_unit", self.redeem_fen_per_unit, 0)
        _check_int("redeem_cap_bp", self.redeem_cap_bp, 0, BP)
        if not isinstance(self.pay_gift_first, bool):
            raise TypeError("pay_gift_first must be a bool")
        object.__setattr__(self, "gift_allowed_categories", frozenset(self.gift_allowed_categories))
        object.__setattr__(self, "gift_allowed_merchants", frozenset(self.gift_allowed_merchants))


@dataclass(frozen=True)
class SaleContext:
    """When and where the sale happens. ``at`` is the venue's local wall-clock time."""

    at: datetime
    venue: str
    merchant: str | None = None


@dataclass(frozen=True)
class DiscountRule:
    """A time-slot or film-grade discount.

    ``multiplier_bp`` is the share of the price KEPT, 5000-9000 (50 %-90 %, "5 to 9 zhe").
    Applies when every condition holds:

    * ``valid_from <= at < valid_until`` (either bound may be None: open);
    * ``venues`` empty or the sale's venue in it; ``categories`` empty or the item's in it;
    * ``time_slot``: ``start <= at.time() < end``; a slot with ``end <= start`` runs over
      midnight (22:00-02:00); ``weekdays`` (0 = Monday) empty or the sale's weekday in it;
    * ``film_grade``: the item has a film grade and it is in ``film_grades``.

    ``combinable`` rules stack multiplicatively with the other applicable combinable rules.
    """

    rule_id: str
    kind: RuleKind
    multiplier_bp: int
    combinable: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    venues: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    start: time | None = None
    end: time | None = None
    weekdays: frozenset[int] = frozenset()
    film_grades: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ValueError(f"unknown rule kind {self.kind!r}; expected one of {RULE_KINDS}")
        _check_int("multiplier_bp", self.multiplier_bp, RULE_MIN_BP, RULE_MAX_BP)
        for name in ("venues", "categories", "weekdays", "film_grades"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        if self.kind == "time_slot":
            if self.start is None or self.end is None:
                raise ValueError(f"time_slot rule {self.rule_id!r} needs start and end")
            if self.start == self.end:
                raise ValueError(f"time_slot rule {self.rule_id!r} has an empty slot")
            if any(not isinstance(d, int) or not 0 <= d <= 6 for d in self.weekdays):
                raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        elif not self.film_grades:
            raise ValueError(f"film_grade rule {self.rule_id!r} needs film_grades")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise ValueError(f"rule {self.rule_id!r}: valid_until must be after valid_from")

    def applies(self, item: SaleItem, context: SaleContext) -> bool:
        at = context.at
        if self.valid_from is not None and at < self.valid_from:
            return False
        if self.valid_until is not None and at >= self.valid_until:
            return False
        if self.venues and context.venue not in self.venues:
            return False
        if self.categories and item.category not in self.categories:
            return False
        if self.kind == "film_grade":
            return item.film_grade is not None and item.film_grade in self.film_grades
        assert self.start is not None and self.end is not None
        now = at.time()
        if self.start < self.end:
            in_slot = self.start <= now < self.end
            weekday = at.weekday()
        else:  # over midnight: the part after midnight belongs to the previous day's slot
            in_slot = now >= self.start or now < self.end
            weekday = at.weekday() if now >= self.start else (at.weekday() - 1) % 7
        if not in_slot:
            return False
        return not self.weekdays or weekday in self.weekdays


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class AppliedDiscount:
    """One step of a line's price: ``amount`` fen taken off, ``multiplier_bp`` kept."""

    step: Literal["item", "rule", "tier"]
    label: str  # "item", the rule id, or "tier"
    multiplier_bp: int
    amount: int


@dataclass(frozen=True)
class QuoteLine:
    sku: str
    category: str
    quantity: int
    unit_price: int
    list_price: int  # unit_price * quantity
    discounts: tuple[AppliedDiscount, ...]
    total: int  # list_price - sum of the discounts
    gift_eligible: bool
    paid_gift: int = 0
    paid_points: int = 0  # fen covered by redeemed points
    paid_main: int = 0

    @property
    def discount_total(self) -> int:
        return self.list_price - self.total


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    list_total: int
    total: int  # == sum(line.total for line in lines)
    paid_gift: int
    paid_points: int  # fen covered by redeemed points
    paid_main: int
    points_redeemed: int
    points_earned: int
    refusal: str | None = None  # REFUSED_INSUFFICIENT or None
    refusal_detail: str | None = None
    gift_eligible_total: int = 0
    shortfall: int = 0  # fen missing when refused

    @property
    def ok(self) -> bool:
        return self.refusal is None

    @property
    def discount_total(self) -> int:
        return self.list_total - self.total


# --------------------------------------------------------------------------- pricing


def gift_may_pay(item: SaleItem, card: CardTerms, context: SaleContext) -> bool:
    """The gift wallet pays only for designated categories or merchants."""
    merchant = item.merchant if item.merchant is not None else context.merchant
    return item.category in card.gift_allowed_categories or (
        merchant is not None and merchant in card.gift_allowed_merchants
    )


def _rule_sort_key(rule: DiscountRule) -> tuple[int, str]:
    return (RULE_KINDS.index(rule.kind), rule.rule_id)


def _apply_rules(amount: int, rules: Sequence[DiscountRule]) -> tuple[int, list[AppliedDiscount]]:
    steps: list[AppliedDiscount] = []
    for rule in rules:
        after = apply_multiplier(amount, rule.multiplier_bp)
        steps.append(AppliedDiscount("rule", rule.rule_id, rule.multiplier_bp, amount - after))
        amount = after
    return amount, steps


def best_rules(
    amount: int, item: SaleItem, context: SaleContext, rules: Sequence[DiscountRule]
) -> tuple[DiscountRule, ...]:
    """The rules step 2 applies to ``amount`` for ``item``, in application order.

    Candidates: every applicable rule alone, and the stack of every applicable combinable
    rule (ordered time_slot before film_grade, then by rule id). The lowest resulting price
    wins; ties go to fewer rules, then to the lower (kind, rule id) sequence.
    """
    applicable = sorted((r for r in rules if r.applies(item, context)), key=_rule_sort_key)
    if not applicable:
        return ()
    candidates: list[tuple[DiscountRule, ...]] = [(r,) for r in applicable]
    stack = tuple(r for r in applicable if r.combinable)
    if len(stack) > 1:
        candidates.append(stack)

    def key(c: tuple[DiscountRule, ...]) -> tuple[int, int, list[tuple[int, str]]]:
        return (_apply_rules(amount, c)[0], len(c), [_rule_sort_key(r) for r in c])

    return min(candidates, key=key)


def price_line(
    item: SaleItem, card: CardTerms, context: SaleContext, rules: Sequence[DiscountRule]
) -> QuoteLine:
    """One line through the three steps (see the module docstring)."""
    list_price = item.unit_price * item.quantity
    amount = list_price
    steps: list[AppliedDiscount] = []
    if item.item_discount_bp:
        after = apply_multiplier(amount, BP - item.item_discount_bp)
        steps.append(AppliedDiscount("item", "item", BP - item.item_discount_bp, amount - after))
        amount = after
    amount, rule_steps = _apply_rules(amount, best_rules(amount, item, context, rules))
    steps.extend(rule_steps)
    if card.tier_discount_bp:
        after = apply_multiplier(amount, BP - card.tier_discount_bp)
        steps.append(AppliedDiscount("tier", "tier", BP - card.tier_discount_bp, amount - after))
        amount = after
    return QuoteLine(
        sku=item.sku,
        category=item.category,
        quantity=item.quantity,
        unit_price=item.unit_price,
        list_price=list_price,
        discounts=tuple(steps),
        total=amount,
        gift_eligible=gift_may_pay(item, card, context),
    )


def redeemable_points(card: CardTerms, total: int, requested: int) -> tuple[int, int]:
    """(points, fen) the customer may redeem on a sale of ``total`` fen: whole units only,
    at most the request, the points balance and ``redeem_cap_bp`` of the total (rounded
    down, so the cap is never exceeded)."""
    _check_int("redeem_points", requested, 0)
    if requested == 0 or card.redeem_points_per_unit == 0 or card.redeem_fen_per_unit == 0:
        return 0, 0
    cap_fen = total * card.redeem_cap_bp // BP
    units = min(
        requested // card.redeem_points_per_unit,
        card.points_balance // card.redeem_points_per_unit,
        cap_fen // card.redeem_fen_per_unit,
    )
    return units * card.redeem_points_per_unit, units * card.redeem_fen_per_unit


def points_for(main_paid: int, points_rate: int) -> int:
    """Points earned: ``points_rate`` per whole yuan paid from main (rounded down)."""
    return main_paid // 100 * points_rate


def _allocate(budget: int, room: list[int], order: Sequence[int]) -> list[int]:
    """Spread ``budget`` over lines in ``order``, each up to its ``room``."""
    taken = [0] * len(room)
    for i in order:
        if budget == 0:
            break
        take = min(budget, room[i])
        taken[i] = take
        room[i] -= take
        budget -= take
    return taken


def price_sale(
    items: Sequence[SaleItem],
    card: CardTerms,
    context: SaleContext,
    rules: Sequence[DiscountRule] = (),
    *,
    redeem_points: int = 0,
) -> Quote:
    """Price a sale and split it across the card's tenders.

    Tender order: points redemption (if requested) on the lines the gift wallet may not pay
    first; then, with ``pay_gift_first``, the gift wallet on eligible lines followed by the
    main wallet; otherwise the main wallet followed by the gift wallet on eligible lines.
    If the balances cannot cover the total, the quote is refused and nothing is paid.
    """
    ids = [rule.rule_id for rule in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"rule ids must be unique in a rule set: {duplicates}")
    _check_int("redeem_points", redeem_points, 0)
    lines = [price_line(item, card, context, rules) for item in items]
    total = sum(line.total for line in lines)
    list_total = sum(line.list_price for line in lines)
    eligible_total = sum(line.total for line in lines if line.gift_eligible)

    points_used, points_fen = redeemable_points(card, total, redeem_points)
    remaining = total - points_fen
    # Points cover ineligible lines first, so they leave the gift wallet all the room it can use.
    gift_cap = min(card.gift_balance, eligible_total, remaining)
    shortfall = max(0, remaining - card.main_balance - gift_cap)
    if shortfall:
        return Quote(
            lines=tuple(lines),
            list_total=list_total,
            total=total,
            paid_gift=0,
            paid_points=0,
            paid_main=0,
            points_redeemed=0,
            points_earned=0,
            refusal=REFUSED_INSUFFICIENT,
            refusal_detail=(
                f"total {total} fen: points may cover {points_fen}, the gift wallet may pay "
                f"{gift_cap} (eligible {min(eligible_total, remaining)}, balance "
                f"{card.gift_balance}), the main wallet has {card.main_balance}; "
                f"{shortfall} fen short"
            ),
            gift_eligible_total=eligible_total,
            shortfall=shortfall,
        )
    if card.pay_gift_first:
        gift = gift_cap
        main = remaining - gift
    else:
        main = min(card.main_balance, remaining)
        gift = remaining - main

    n = len(lines)
    room = [line.total for line in lines]
    ineligible_first = [i for i in range(n) if not lines[i].gift_eligible] + [
        i for i in range(n) if lines[i].gift_eligible
    ]
    by_points = _allocate(points_fen, room, ineligible_first)
    eligible = [i for i in range(n) if lines[i].gift_eligible]
    if card.pay_gift_first:
        by_gift = _allocate(gift, room, eligible)
        by_main = _allocate(main, room, ineligible_first)
    else:
        # main first: main takes ineligible lines first so gift still finds eligible room
        by_main = _allocate(main, room, ineligible_first)
        by_gift = _allocate(gift, room, eligible)
    paid_lines = tuple(
        replace(line, paid_gift=by_gift[i], paid_points=by_points[i], paid_main=by_main[i])
        for i, line in enumerate(lines)
    )
    return Quote(
        lines=paid_lines,
        list_total=list_total,
        total=total,
        paid_gift=gift,
        paid_points=points_fen,
        paid_main=main,
        points_redeemed=points_used,
        points_earned=points_for(main, card.points_rate),
        gift_eligible_total=eligible_total,
    )


__all__ = [
    "BP",
    "RULE_MAX_BP",
    "RULE_MIN_BP",
    "REFUSED_INSUFFICIENT",
    "AppliedDiscount",
    "CardTerms",
    "DiscountRule",
    "Quote",
    "QuoteLine",
    "SaleContext",
    "SaleItem",
    "apply_multiplier",
    "best_rules",
    "gift_may_pay",
    "points_for",
    "price_line",
    "price_sale",
    "redeemable_points",
]
