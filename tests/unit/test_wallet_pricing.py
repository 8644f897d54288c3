"""The card wallet's pricing engine: worked examples from the seeds and properties.

Seeds: 001 (cinema network, discounts by film grade and time slot, 5 to 9 zhe), 003 (KTV: main
wallet vs gift wallet only for the room fee; points plus discount plus stored value), 004
(amusement park: gold 9 zhe per visit, gold 9 zhe on a single item and again on the total).
"""

from __future__ import annotations

import ast
import inspect
from datetime import datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.wallet import pricing
from plugins.wallet.pricing import (
    REFUSED_INSUFFICIENT,
    CardTerms,
    DiscountRule,
    SaleContext,
    SaleItem,
    apply_multiplier,
    price_sale,
)

EVENING = DiscountRule("evening", "time_slot", 8000, start=time(18), end=time(22))
GRADE_B = DiscountRule("grade-b", "film_grade", 7000, film_grades=frozenset({"B"}))
GOLD = CardTerms(tier_discount_bp=1000, main_balance=1_000_000)


def at(hour: int, minute: int = 0, day: int = 20) -> SaleContext:
    # 2026-11-20 is a Friday
    return SaleContext(at=datetime(2026, 11, day, hour, minute), venue="xdongan", merchant="box")


def ticket(price: int = 5000, grade: str | None = "A", qty: int = 1) -> SaleItem:
    return SaleItem("T1", "ticket", price, qty, film_grade=grade)


# ---------------------------------------------------------------- worked examples: discounts


def test_gold_card_in_the_evening_slot_seed_001() -> None:
    """A 50.00 ticket at 19:30: evening slot keeps 80 % (40.00), then gold takes 10 % off."""
    q = price_sale([ticket()], GOLD, at(19, 30), [EVENING])
    (line,) = q.lines
    assert [(d.step, d.label, d.multiplier_bp, d.amount) for d in line.discounts] == [
        ("rule", "evening", 8000, 1000),
        ("tier", "tier", 9000, 400),
    ]
    assert line.list_price == 5000 and line.total == 3600
    assert q.total == 3600 and q.paid_main == 3600 and q.ok


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [(17, 59, 4500), (18, 0, 3600), (21, 59, 3600), (22, 0, 4500)],
)
def test_time_slot_start_inclusive_end_exclusive(hour: int, minute: int, expected: int) -> None:
    assert price_sale([ticket()], GOLD, at(hour, minute), [EVENING]).total == expected


def test_best_single_rule_when_not_combinable() -> None:
    """Evening 80 % and grade B 70 % both apply: the better one (70 %) alone."""
    q = price_sale([ticket(grade="B")], CardTerms(main_balance=10_000), at(19), [EVENING, GRADE_B])
    assert [d.label for d in q.lines[0].discounts] == ["grade-b"]
    assert q.total == 3500


def test_combinable_rules_stack_multiplicatively_slot_then_grade() -> None:
    evening = DiscountRule("evening", "time_slot", 8000, True, start=time(18), end=time(22))
    grade_b = DiscountRule("grade-b", "film_grade", 7000, True, film_grades=frozenset({"B"}))
    q = price_sale([ticket(grade="B")], GOLD, at(19), [grade_b, evening])
    steps = [(d.label, d.amount) for d in q.lines[0].discounts]
    # 5000 -> 4000 (slot) -> 2800 (grade) -> 2520 (gold)
    assert steps == [("evening", 1000), ("grade-b", 1200), ("tier", 280)]
    assert q.total == 2520


def test_a_non_combinable_rule_beats_a_weaker_stack() -> None:
    evening = DiscountRule("evening", "time_slot", 9000, True, start=time(18), end=time(22))
    grade_b = DiscountRule("grade-b", "film_grade", 9000, True, film_grades=frozenset({"B"}))
    half = DiscountRule("tuesday", "time_slot", 5000, start=time(0), end=time(23, 59))
    q = price_sale([ticket(grade="B")], CardTerms(), at(19), [evening, grade_b, half])
    assert [d.label for d in q.lines[0].discounts] == ["tuesday"]
    assert q.total == 2500


def test_per_item_then_tier_seed_004() -> None:
    """Gold: 9 zhe on a single item, and the gold 9 zhe again on top: 20.00 -> 18.00 -> 16.20."""
    item = SaleItem("ride", "ride", 2000, item_discount_bp=1000)
    q = price_sale([item], GOLD, at(12), [EVENING])
    assert [(d.step, d.amount) for d in q.lines[0].discounts] == [("item", 200), ("tier", 180)]
    assert q.total == 1620


def test_full_order_item_rule_tier() -> None:
    item = SaleItem("T1", "ticket", 6000, 2, film_grade="B", item_discount_bp=500)
    q = price_sale([item], GOLD, at(20), [EVENING, GRADE_B])
    # 12000 -> 11400 (item 5 %) -> 7980 (grade B 70 %) -> 7182 (gold 10 %)
    assert [(d.step, d.amount) for d in q.lines[0].discounts] == [
        ("item", 600),
        ("rule", 3420),
        ("tier", 798),
    ]
    assert q.lines[0].total == 7182 == q.total


def test_rounding_half_up_per_line_and_total_is_sum_of_lines() -> None:
    assert apply_multiplier(333, 9000) == 300  # 299.7
    assert apply_multiplier(5, 9000) == 5  # 4.5 -> 5
    assert apply_multiplier(15, 5000) == 8  # 7.5 -> 8
    assert apply_multiplier(14, 5000) == 7
    items = [SaleItem(f"s{i}", "snack", 5) for i in range(3)]
    q = price_sale(items, CardTerms(tier_discount_bp=1000, main_balance=100), at(10), [])
    assert [line.total for line in q.lines] == [5, 5, 5]
    assert q.total == 15  # not round(13.5): receipts add up line by line


def test_rule_scope_validity_venue_category_weekday() -> None:
    rule = DiscountRule(
        "fri-night",
        "time_slot",
        5000,
        start=time(22),
        end=time(2),
        weekdays=frozenset({4}),  # Friday
        venues=frozenset({"xdongan"}),
        categories=frozenset({"ticket"}),
        valid_from=datetime(2026, 11, 1),
        valid_until=datetime(2026, 12, 1),
    )
    card = CardTerms(main_balance=100_000)
    assert price_sale([ticket()], card, at(23), [rule]).total == 2500  # Friday 23:00
    assert price_sale([ticket()], card, at(1, day=21), [rule]).total == 2500  # Friday's night
    assert price_sale([ticket()], card, at(23, day=21), [rule]).total == 5000  # Saturday
    assert price_sale([ticket()], card, at(3, day=21), [rule]).total == 5000  # after the slot
    popcorn = SaleItem("P", "snack", 5000)
    assert price_sale([popcorn], card, at(23), [rule]).total == 5000
    elsewhere = SaleContext(datetime(2026, 11, 20, 23), venue="wudaokou")
    assert price_sale([ticket()], card, elsewhere, [rule]).total == 5000
    december = SaleContext(datetime(2026, 12, 4, 23), venue="xdongan")
    assert price_sale([ticket()], card, december, [rule]).total == 5000


def test_film_grade_rule_needs_a_graded_item() -> None:
    card = CardTerms(main_balance=100_000)
    assert price_sale([ticket(grade=None)], card, at(10), [GRADE_B]).total == 5000
    assert price_sale([ticket(grade="A")], card, at(10), [GRADE_B]).total == 5000
    assert price_sale([ticket(grade="B")], card, at(10), [GRADE_B]).total == 3500


# ---------------------------------------------------------------- worked examples: tenders


KTV = CardTerms(
    gift_allowed_categories=frozenset({"room"}),
    points_rate=1,
    main_balance=30_000,
    gift_balance=8_000,
    points_balance=5_000,
    redeem_points_per_unit=100,
    redeem_fen_per_unit=100,
    redeem_cap_bp=5000,
)
ROOM = SaleItem("room-3h", "room", 20_000)
BEER = SaleItem("beer", "drinks", 5_000)


def test_gift_pays_the_room_fee_first_seed_003() -> None:
    q = price_sale([ROOM, BEER], KTV, at(20), [])
    assert (q.paid_gift, q.paid_points, q.paid_main) == (8_000, 0, 17_000)
    assert [(ln.paid_gift, ln.paid_main) for ln in q.lines] == [(8_000, 12_000), (0, 5_000)]
    assert q.points_earned == 170  # 1 point per yuan paid from main


def test_main_first_leaves_the_gift_wallet_alone_when_main_suffices() -> None:
    card = CardTerms(**{**KTV.__dict__, "pay_gift_first": False})
    q = price_sale([ROOM, BEER], card, at(20), [])
    assert (q.paid_gift, q.paid_main, q.points_earned) == (0, 25_000, 250)


def test_main_first_then_gift_on_eligible_lines() -> None:
    card = CardTerms(**{**KTV.__dict__, "pay_gift_first": False, "main_balance": 20_000})
    q = price_sale([ROOM, BEER], card, at(20), [])
    assert (q.paid_main, q.paid_gift) == (20_000, 5_000)
    assert [(ln.paid_gift, ln.paid_main) for ln in q.lines] == [(5_000, 15_000), (0, 5_000)]


def test_gift_by_merchant() -> None:
    card = CardTerms(gift_allowed_merchants=frozenset({"stall-7"}), gift_balance=1000)
    ok = price_sale([SaleItem("ice", "food", 800, merchant="stall-7")], card, at(12), [])
    assert ok.ok and ok.paid_gift == 800
    ctx = SaleContext(datetime(2026, 11, 20, 12), venue="park", merchant="stall-7")
    assert price_sale([SaleItem("ice", "food", 800)], card, ctx, []).paid_gift == 800
    refused = price_sale([SaleItem("ice", "food", 800, merchant="stall-8")], card, at(12), [])
    assert refused.refusal == REFUSED_INSUFFICIENT and refused.shortfall == 800


def test_refusal_pays_nothing_and_says_why() -> None:
    card = CardTerms(
        gift_allowed_categories=frozenset({"room"}), main_balance=1_000, gift_balance=10_000
    )
    q = price_sale([BEER], card, at(20), [])
    assert not q.ok and q.refusal == REFUSED_INSUFFICIENT
    assert (q.paid_main, q.paid_gift, q.paid_points, q.points_earned) == (0, 0, 0, 0)
    assert q.shortfall == 4_000 and "4000 fen short" in (q.refusal_detail or "")
    assert q.total == 5_000  # the price is still shown


def test_points_plus_discount_plus_stored_value_seed_003() -> None:
    """Gold 10 % off, 30.00 of points (3000 points), the rest from gift (room) then main."""
    card = CardTerms(**{**KTV.__dict__, "tier_discount_bp": 1000})
    q = price_sale([ROOM, BEER], card, at(20), [], redeem_points=3_000)
    assert q.total == 22_500  # 18000 + 4500
    assert (q.points_redeemed, q.paid_points) == (3_000, 3_000)
    # points take the drinks first (the gift wallet may not pay them)
    assert [(ln.paid_points, ln.paid_gift, ln.paid_main) for ln in q.lines] == [
        (0, 8_000, 10_000),
        (3_000, 0, 1_500),
    ]
    assert q.paid_main == 11_500 and q.points_earned == 115


def test_points_redemption_is_capped_and_in_whole_units() -> None:
    # cap 50 % of 25000 = 12500 fen -> 125 units; balance 5000 points -> 50 units
    q = price_sale([ROOM, BEER], KTV, at(20), [], redeem_points=999_999)
    assert (q.points_redeemed, q.paid_points) == (5_000, 5_000)
    small = price_sale([SaleItem("tea", "drinks", 301)], KTV, at(20), [], redeem_points=5_000)
    assert (small.points_redeemed, small.paid_points) == (100, 100)  # cap 150 fen -> 1 unit
    assert price_sale([BEER], KTV, at(20), [], redeem_points=150).points_redeemed == 100
    disabled = CardTerms(points_balance=10_000, main_balance=10_000)
    assert price_sale([BEER], disabled, at(20), [], redeem_points=1_000).points_redeemed == 0


def test_empty_sale_is_free_and_ok() -> None:
    q = price_sale([], CardTerms(), at(12), [EVENING])
    assert q.ok and q.total == 0 and q.lines == ()


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("bp", [4999, 9001, 10000, 0])
def test_rule_multiplier_must_be_50_to_90_percent(bp: int) -> None:
    with pytest.raises(ValueError):
        DiscountRule("x", "time_slot", bp, start=time(1), end=time(2))


def test_bad_inputs_are_refused_loudly() -> None:
    with pytest.raises(TypeError):
        SaleItem("x", "c", 9.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SaleItem("x", "c", -1)
    with pytest.raises(ValueError):
        SaleItem("x", "c", 100, 0)
    with pytest.raises(ValueError):
        SaleItem("x", "c", 100, item_discount_bp=10_001)
    with pytest.raises(ValueError):
        CardTerms(main_balance=-1)
    with pytest.raises(TypeError):
        CardTerms(tier_discount_bp=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DiscountRule("x", "weekday", 8000)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DiscountRule("x", "film_grade", 8000)
    with pytest.raises(ValueError):
        DiscountRule("x", "time_slot", 8000, start=time(3))
    with pytest.raises(ValueError):
        price_sale([BEER], KTV, at(20), [], redeem_points=-1)
    with pytest.raises(ValueError):
        price_sale([BEER], KTV, at(20), [EVENING, EVENING])


def test_no_float_anywhere_in_the_module() -> None:
    tree = ast.parse(inspect.getsource(pricing))
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), node.lineno
        assert not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Div), node.lineno
        assert not (isinstance(node, ast.Name) and node.id in {"float", "round", "Decimal"})


# ---------------------------------------------------------------- properties

CATEGORIES = ["ticket", "room", "drinks", "ride"]
MERCHANTS = [None, "stall-1", "stall-2"]

items_st = st.lists(
    st.builds(
        SaleItem,
        sku=st.sampled_from(["a", "b", "c"]),
        category=st.sampled_from(CATEGORIES),
        unit_price=st.integers(0, 100_000),
        quantity=st.integers(1, 20),
        film_grade=st.sampled_from([None, "A", "B", "C"]),
        merchant=st.sampled_from(MERCHANTS),
        item_discount_bp=st.integers(0, 10_000),
    ),
    max_size=6,
)

cards_st = st.builds(
    CardTerms,
    tier_discount_bp=st.integers(0, 10_000),
    gift_allowed_categories=st.frozensets(st.sampled_from(CATEGORIES)),
    gift_allowed_merchants=st.frozensets(st.sampled_from(["stall-1", "stall-2"])),
    points_rate=st.integers(0, 10),
    main_balance=st.integers(0, 2_000_000),
    gift_balance=st.integers(0, 500_000),
    points_balance=st.integers(0, 1_000_000),
    pay_gift_first=st.booleans(),
    redeem_points_per_unit=st.integers(0, 200),
    redeem_fen_per_unit=st.integers(0, 200),
    redeem_cap_bp=st.integers(0, 10_000),
)

times_st = st.times().map(lambda t: t.replace(microsecond=0))
grade_rules_st = st.builds(
    DiscountRule,
    rule_id=st.sampled_from(["g1", "g2"]),
    kind=st.just("film_grade"),
    multiplier_bp=st.integers(5000, 9000),
    combinable=st.booleans(),
    film_grades=st.frozensets(st.sampled_from(["A", "B", "C"]), min_size=1),
)


@st.composite
def rules_st(draw: st.DrawFn) -> list[DiscountRule]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            start, end = draw(times_st), draw(times_st)
            if start == end:
                continue
            out.append(
                DiscountRule(
                    draw(st.sampled_from(["s1", "s2", "s3"])),
                    "time_slot",
                    draw(st.integers(5000, 9000)),
                    draw(st.booleans()),
                    start=start,
                    end=end,
                    weekdays=draw(st.frozensets(st.integers(0, 6))),
                    categories=draw(st.frozensets(st.sampled_from(CATEGORIES), max_size=2)),
                )
            )
        else:
            out.append(draw(grade_rules_st))
    unique = {rule.rule_id: rule for rule in out}  # rule ids are unique in a rule set
    return list(unique.values())


contexts_st = st.builds(
    SaleContext,
    at=st.datetimes(datetime(2025, 1, 1), datetime(2028, 1, 1)),
    venue=st.sampled_from(["v1", "v2"]),
    merchant=st.sampled_from(MERCHANTS),
)


@settings(max_examples=300, deadline=None)
@given(items_st, cards_st, contexts_st, rules_st(), st.integers(0, 2_000_000))
def test_properties(items, card, context, rules, redeem) -> None:  # type: ignore[no-untyped-def]
    q = price_sale(items, card, context, rules, redeem_points=redeem)

    # total is the sum of the lines; each line between 0 and its list price
    assert q.total == sum(line.total for line in q.lines)
    assert q.list_total == sum(line.list_price for line in q.lines)
    for item, line in zip(items, q.lines, strict=True):
        assert line.list_price == item.unit_price * item.quantity
        assert 0 <= line.total <= line.list_price
        amount = line.list_price
        for step in line.discounts:  # every step only ever lowers the price
            assert 0 <= step.amount <= amount
            amount -= step.amount
        assert amount == line.total
        assert [s.step for s in line.discounts] == sorted(
            (s.step for s in line.discounts), key=["item", "rule", "tier"].index
        )
        assert all(5000 <= s.multiplier_bp <= 9000 for s in line.discounts if s.step == "rule")

    # points never negative; earned only on main
    assert q.points_earned >= 0 and 0 <= q.points_redeemed <= card.points_balance
    assert q.points_earned == q.paid_main // 100 * card.points_rate
    if q.points_redeemed:  # whole units only, at the configured rate
        units, left = divmod(q.points_redeemed, card.redeem_points_per_unit)
        assert left == 0 and q.paid_points == units * card.redeem_fen_per_unit
        assert q.points_redeemed <= redeem

    # refused exactly when points, the gift wallet (on eligible lines) and main cannot cover it
    _, points_fen = pricing.redeemable_points(card, q.total, redeem)
    rest = q.total - points_fen
    assert q.ok == (card.main_balance + min(card.gift_balance, q.gift_eligible_total, rest) >= rest)

    if q.ok:
        # the split covers exactly the total, within each balance
        assert q.paid_gift + q.paid_points + q.paid_main == q.total
        assert 0 <= q.paid_main <= card.main_balance
        assert 0 <= q.paid_gift <= card.gift_balance
        assert q.paid_points * 10_000 <= q.total * card.redeem_cap_bp
        for line in q.lines:
            assert line.paid_gift + line.paid_points + line.paid_main == line.total
            assert min(line.paid_gift, line.paid_points, line.paid_main) >= 0
            if not line.gift_eligible:  # gift only pays eligible lines
                assert line.paid_gift == 0
        assert sum(ln.paid_gift for ln in q.lines) == q.paid_gift
        assert sum(ln.paid_main for ln in q.lines) == q.paid_main
        assert sum(ln.paid_points for ln in q.lines) == q.paid_points
        if card.pay_gift_first:  # gift takes all it may before main pays anything
            assert q.paid_main == 0 or q.paid_gift == min(
                card.gift_balance, q.gift_eligible_total, q.total - q.paid_points
            )
        elif q.paid_gift:
            assert q.paid_main == card.main_balance
    else:
        # refusal: nothing paid, and the balances really could not cover it
        assert (q.paid_gift, q.paid_points, q.paid_main, q.points_earned) == (0, 0, 0, 0)
        assert q.shortfall > 0 and q.refusal_detail

    # deterministic, and the rule order given does not matter
    assert price_sale(items, card, context, rules, redeem_points=redeem) == q
    assert price_sale(items, card, context, list(reversed(rules)), redeem_points=redeem) == q


@settings(max_examples=200, deadline=None)
@given(items_st, cards_st, contexts_st, rules_st())
def test_richer_balances_never_refuse_what_poorer_ones_accept(  # type: ignore[no-untyped-def]
    items, card, context, rules
) -> None:
    q = price_sale(items, card, context, rules)
    richer = CardTerms(**{**card.__dict__, "main_balance": card.main_balance + 1})
    if q.ok:
        assert price_sale(items, richer, context, rules).ok
    enough = CardTerms(**{**card.__dict__, "main_balance": q.total})
    assert price_sale(items, enough, context, rules).ok


@settings(max_examples=200, deadline=None)
@given(items_st, cards_st, contexts_st, rules_st())
def test_a_discount_never_raises_the_price(  # type: ignore[no-untyped-def]
    items, card, context, rules
) -> None:
    with_rules = price_sale(items, card, context, rules)
    without = price_sale(items, card, context, [])
    untiered = CardTerms(**{**card.__dict__, "tier_discount_bp": 0})
    no_tier = price_sale(items, untiered, context, rules)
    assert with_rules.total <= without.total
    assert with_rules.total <= no_tier.total
