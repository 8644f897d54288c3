"""The box-office pricing engine: the worked examples of docs/tickets-pricing.md, every step and
its order, rounding, buy N get M with mixed prices, group minimums, combos, packages, list
prices, and properties.

Seeds: 001 (discounts by film grade and time slot, 5 to 9 zhe), 002 (ticket types and prices per
zone, packages, combos, buy N get M)."""

from __future__ import annotations

import ast
import inspect
from datetime import date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.tickets import pricing
from plugins.tickets.pricing import (
    ANY_ZONE,
    REFUSED_GROUP_MINIMUM,
    REFUSED_NO_PRICE,
    ComboSale,
    ComboTerms,
    Offer,
    PackageTerms,
    Refusal,
    SessionContext,
    TicketLine,
    as_dict,
    list_price,
    price_combo,
    price_package,
    price_tickets,
    share,
)
from suite import i18n

MATINEE = Offer("MATINEE", "time_slot", 8000, start=time(10), end=time(17))
GRADE_B = Offer("GRADE-B", "film_grade", 7000, grades=frozenset({"B"}))
B2G1 = Offer("B2G1", "buy_n_get_m", buy_n=2, get_m=1)
GOLD = 1000


def at(hour: int, minute: int = 0, *, day: int = 20, grade: str = "A") -> SessionContext:
    """A session starting 2026-11-``day`` (the 20th is a Friday) at ``hour``:``minute``."""
    return SessionContext(starts_at=datetime(2026, 11, day, hour, minute), grade=grade, venue="CINEMA-01")


def adult(ref: str = "A1", price: int = 5000, qty: int = 1, **kw: object) -> TicketLine:
    return TicketLine(ref, "ADULT", price, qty, **kw)  # type: ignore[arg-type]


def vip(ref: str) -> TicketLine:
    return TicketLine(ref, "ADULT", 8000, zone="VIP", seat=ref)


def child(ref: str = "C1", price: int = 3000) -> TicketLine:
    return TicketLine(ref, "CHILD", price, category="child")


def steps(line: pricing.PricedLine) -> list[tuple[str, str, int]]:
    return [(s.kind, s.label, s.amount) for s in line.steps]


# ---------------------------------------------------------------- worked examples (docs)


def test_matinee_at_the_session_time_seed_001() -> None:
    order = price_tickets(at(13), [adult()], [MATINEE])
    (line,) = order.lines
    assert steps(line) == [("offer", "MATINEE", 1000)] and line.steps[0].multiplier_bp == 8000
    assert (line.list_price, line.total, order.total, order.discount_total) == (5000, 4000, 4000, 1000)
    assert order.ok


@pytest.mark.parametrize(("hour", "minute", "due"), [(9, 59, 5000), (10, 0, 4000), (16, 59, 4000), (17, 0, 5000)])
def test_the_slot_is_start_inclusive_end_exclusive(hour: int, minute: int, due: int) -> None:
    assert price_tickets(at(hour, minute), [adult()], [MATINEE]).total == due


def test_best_single_offer_when_not_combinable() -> None:
    order = price_tickets(at(13, grade="B"), [adult()], [MATINEE, GRADE_B])
    assert steps(order.lines[0]) == [("offer", "GRADE-B", 1500)] and order.total == 3500


def test_combinable_offers_stack_slot_then_grade_then_tier() -> None:
    matinee = Offer("MATINEE", "time_slot", 8000, True, start=time(10), end=time(17))
    grade_b = Offer("GRADE-B", "film_grade", 7000, True, grades=frozenset({"B"}))
    order = price_tickets(at(13, grade="B"), [adult()], [grade_b, matinee], tier_discount_bp=GOLD)
    assert steps(order.lines[0]) == [("offer", "MATINEE", 1000), ("offer", "GRADE-B", 1200), ("tier", "tier", 280)]
    assert order.total == 2520


def test_buy_two_get_one_frees_the_cheapest_seed_002() -> None:
    order = price_tickets(at(19, 30), [vip("V1"), adult(), child()], [MATINEE, B2G1])
    assert [line.total for line in order.lines] == [8000, 5000, 0]
    assert steps(order.lines[2]) == [("buy_n_get_m", "B2G1", 3000)] and order.lines[2].steps[0].free == 1
    assert order.total == 13000


def test_buy_two_get_one_with_mixed_prices_in_groups_from_the_dearest() -> None:
    """80, 80, 50 | 50, 50, 30: the cheapest of each full group (one adult and the child) free."""
    lines = [adult("A1", seat="A1"), vip("V1"), child("C1"), adult("A2", seat="A2"), vip("V2"),
             adult("A3", seat="A3")]
    order = price_tickets(at(19, 30), lines, [B2G1], tier_discount_bp=GOLD)
    totals = {line.ref: line.total for line in order.lines}
    assert totals == {"V1": 7200, "V2": 7200, "A1": 0, "A2": 4500, "A3": 4500, "C1": 0}
    assert steps(order.lines[0]) == [("buy_n_get_m", "B2G1", 5000)]  # ties: the earlier line is freed
    assert order.total == 23400 and order.list_total == 34000


def test_an_incomplete_group_pays_in_full() -> None:
    order = price_tickets(at(19, 30), [adult("A1"), adult("A2"), adult("A3", qty=2)], [B2G1])
    assert order.total == 15000  # 4 tickets: one full group (one free), one left over


def test_a_non_combinable_buy_n_get_m_replaces_the_matinee_when_cheaper() -> None:
    """3 adults at 13:00: matinee 3 x 40.00 = 120.00, buy 2 get 1 at list prices 100.00."""
    order = price_tickets(at(13), [adult("A1"), adult("A2"), adult("A3")], [MATINEE, B2G1])
    assert order.total == 10000
    assert [steps(line) for line in order.lines] == [[], [], [("buy_n_get_m", "B2G1", 5000)]]


def test_a_non_combinable_buy_n_get_m_loses_to_the_matinee_when_dearer() -> None:
    """2 VIP adults and a child at 13:00: matinee 152.00, buy 2 get 1 at list prices 160.00."""
    order = price_tickets(at(13), [vip("V1"), vip("V2"), child()], [MATINEE, B2G1])
    assert order.total == 15200 and all(s.kind == "offer" for line in order.lines for s in line.steps)


def test_lines_in_no_full_group_keep_their_matinee() -> None:
    """Buy 2 get 1 on adults only wins; the child, in no group, keeps the matinee price."""
    adults_b2g1 = Offer("B2G1", "buy_n_get_m", buy_n=2, get_m=1, ticket_types=frozenset({"ADULT"}))
    order = price_tickets(at(13), [adult("A1"), adult("A2"), adult("A3"), adult("A4"), child()], [MATINEE, adults_b2g1])
    # A1-A3 form the group at list prices (A3 free); A4 is left over and keeps 40.00, as does the child (24.00)
    assert [line.total for line in order.lines] == [5000, 5000, 0, 4000, 2400]


def test_a_combinable_buy_n_get_m_adds_to_the_matinee() -> None:
    b2g1 = Offer("B2G1", "buy_n_get_m", combinable=True, buy_n=2, get_m=1)
    order = price_tickets(at(13), [adult("A1"), adult("A2"), adult("A3")], [MATINEE, b2g1])
    assert [line.total for line in order.lines] == [4000, 4000, 0]


def test_rounding_half_up_at_each_step_on_the_line_amount() -> None:
    b2g1 = Offer("B2G1", "buy_n_get_m", combinable=True, buy_n=2, get_m=1)
    order = price_tickets(at(13), [TicketLine("GA", "STANDING", 3333, 3)], [MATINEE, b2g1], tier_discount_bp=GOLD)
    (line,) = order.lines
    # 9999 -> 7999 (7999.2) -> 5333 (2/3 of 7999 = 5332.67) -> 4800 (4799.7)
    assert steps(line) == [("offer", "MATINEE", 2000), ("buy_n_get_m", "B2G1", 2666), ("tier", "tier", 533)]
    assert line.total == 4800 and line.steps[1].free == 1


def test_tier_rounds_half_up() -> None:
    assert price_tickets(at(19), [child(price=3005)], tier_discount_bp=GOLD).total == 2705  # 2704.5


def test_group_minimum_is_a_refusal_not_an_exception() -> None:
    group = [TicketLine("G1", "GROUP", 3500, 5, category="group", min_quantity=10),
             TicketLine("G2", "GROUP", 3500, 3, category="group", min_quantity=10)]
    order = price_tickets(at(19), group)
    assert not order.ok and order.total == 28000
    (refused,) = order.refusals
    assert (refused.code, refused.details) == (REFUSED_GROUP_MINIMUM, {"ticket_type": "GROUP", "minimum": 10,
                                                                       "count": 8})
    assert "at least 10" in refused.message()
    ten = [TicketLine("G1", "GROUP", 3500, 10, category="group", min_quantity=10)]
    assert price_tickets(at(19), ten).ok


def test_a_combo_is_a_ticket_and_goods_with_the_tier_on_both() -> None:
    popcorn = ComboTerms("POPCORN", "ADULT", 6500, goods_value=1500, goods="popcorn, cola")
    ticket, goods = price_combo(ComboSale("S1", popcorn), tier_discount_bp=GOLD)
    assert (ticket.kind, ticket.ticket_type, ticket.list_price, ticket.total, ticket.entries) == (
        "combo_ticket", "ADULT", 5000, 4500, 1)
    assert (goods.kind, goods.ref, goods.list_price, goods.total, goods.entries) == (
        "combo_goods", "S1/goods", 1500, 1350, 0)
    order = price_tickets(at(13), [adult()], [MATINEE], tier_discount_bp=GOLD, combos=[ComboSale("S1", popcorn)])
    assert [line.kind for line in order.lines] == ["ticket", "combo_ticket", "combo_goods"]
    assert order.total == 3600 + 4500 + 1350  # no matinee on the combo


def test_combos_do_not_count_for_offers_or_groups() -> None:
    popcorn = ComboTerms("POPCORN", "ADULT", 6500, goods_value=1500)
    order = price_tickets(at(19), [adult("A1"), adult("A2")], [B2G1], combos=[ComboSale("S1", popcorn)])
    assert order.total == 10000 + 6500


def test_a_package_grants_entries() -> None:
    line = price_package(PackageTerms("TEN", 40000, 10), tier_discount_bp=GOLD)
    assert (line.kind, line.list_price, line.total, line.entries) == ("package", 40000, 36000, 10)
    assert price_package(PackageTerms("TEN", 40000, 10), 2).entries == 20


def test_a_slot_over_midnight_belongs_to_the_day_it_began() -> None:
    friday_late = Offer("LATE", "time_slot", 6000, start=time(22), end=time(2), weekdays=frozenset({4}))
    assert price_tickets(at(0, 30, day=21), [adult()], [friday_late]).total == 3000  # Saturday 00:30
    assert price_tickets(at(0, 30, day=22), [adult()], [friday_late]).total == 5000  # Sunday 00:30
    assert price_tickets(at(23, day=20), [adult()], [friday_late]).total == 3000


# ---------------------------------------------------------------- rules of application


def test_validity_days_are_the_sessions_inclusive() -> None:
    december = Offer("DEC", "time_slot", 8000, start=time(0), end=time(23, 59), valid_from=date(2026, 12, 1),
                     valid_until=date(2026, 12, 7))
    assert [price_tickets(at(13, day=d), [adult()], [december]).total for d in (30,)] == [5000]
    december_first = SessionContext(datetime(2026, 12, 1, 13), "A")
    december_seventh = SessionContext(datetime(2026, 12, 7, 23, 58), "A")
    december_eighth = SessionContext(datetime(2026, 12, 8, 0, 1), "A")
    assert [price_tickets(c, [adult()], [december]).total
            for c in (december_first, december_seventh, december_eighth)] == [4000, 4000, 5000]


def test_ticket_types_limit_every_kind() -> None:
    adults_only = Offer("ADULTS", "time_slot", 8000, start=time(10), end=time(17), ticket_types=frozenset({"ADULT"}))
    order = price_tickets(at(13), [adult(), child()], [adults_only])
    assert [line.total for line in order.lines] == [4000, 3000]
    children_b2g1 = Offer("KIDS", "buy_n_get_m", buy_n=1, get_m=1, ticket_types=frozenset({"CHILD"}))
    order = price_tickets(at(19), [adult("A1"), adult("A2"), child("C1"), child("C2")], [children_b2g1])
    assert [line.total for line in order.lines] == [5000, 5000, 3000, 0]


def test_several_buy_n_get_m_offers_use_each_ticket_once_in_code_order() -> None:
    first = Offer("A-B1G1", "buy_n_get_m", buy_n=1, get_m=1)
    second = Offer("B-B2G1", "buy_n_get_m", buy_n=2, get_m=1)
    lines = [adult("A1"), adult("A2"), adult("A3"), adult("A4"), adult("A5")]
    order = price_tickets(at(19), lines, [second, first])
    # A-B1G1 first: (A1, A2) (A3, A4) frees A2 and A4; A5 is left alone for B-B2G1 and pays
    assert [line.total for line in order.lines] == [5000, 0, 5000, 0, 5000]
    assert [s.label for line in order.lines for s in line.steps] == ["A-B1G1", "A-B1G1"]


def test_free_tickets_do_not_count_for_buy_n_get_m() -> None:
    comp = TicketLine("Z1", "COMP", 0, category="complimentary")
    order = price_tickets(at(19), [adult("A1"), adult("A2"), comp], [B2G1])
    assert order.total == 10000 and not any(line.steps for line in order.lines)


def test_the_tier_applies_last_and_skips_free_lines() -> None:
    order = price_tickets(at(19), [vip("V1"), adult(), child()], [B2G1], tier_discount_bp=GOLD)
    assert [[s.kind for s in line.steps] for line in order.lines] == [["tier"], ["tier"], ["buy_n_get_m"]]


def test_offers_not_listed_do_nothing_and_a_line_without_offers_is_its_list_price() -> None:
    order = price_tickets(at(19), [adult(qty=3)])
    assert (order.lines[0].list_price, order.lines[0].total, order.lines[0].steps) == (15000, 15000, ())


# ---------------------------------------------------------------- list prices


def test_list_price_zone_then_any_then_refusal() -> None:
    prices = {(ANY_ZONE, "ADULT"): 5000, ("VIP", "ADULT"): 8000, (ANY_ZONE, "CHILD"): 3000}
    assert list_price(prices, "ADULT", "VIP") == 8000
    assert list_price(prices, "ADULT", "STD") == 5000
    assert list_price(prices, "CHILD") == 3000
    missing = list_price(prices, "SENIOR", "VIP", ref="L3")
    assert isinstance(missing, Refusal) and (missing.code, missing.line) == (REFUSED_NO_PRICE, "L3")
    assert missing.details == {"ticket_type": "SENIOR", "zone": "VIP"}
    assert ANY_ZONE == __import__("plugins.tickets.models", fromlist=["ANY_ZONE"]).ANY_ZONE


def test_refusal_messages_are_translated() -> None:
    previous = i18n.current_language()
    try:
        i18n.set_language("en")
        message = list_price({}, "SENIOR", "VIP").message()  # type: ignore[union-attr]
        assert message == "There is no price for SENIOR in zone VIP."
    finally:
        i18n.set_language(previous)


def test_as_dict_is_plain_data() -> None:
    order = price_tickets(at(13), [adult()], [MATINEE], tier_discount_bp=GOLD)
    data = as_dict(order)
    assert data["total"] == 3600 and data["discount_total"] == 1400 and data["ok"] is True
    assert data["lines"][0]["steps"] == [
        {"kind": "offer", "label": "MATINEE", "amount": 1000, "multiplier_bp": 8000, "free": 0},
        {"kind": "tier", "label": "tier", "amount": 400, "multiplier_bp": 9000, "free": 0}]


# ---------------------------------------------------------------- invalid input


@pytest.mark.parametrize("make", [
    lambda: Offer("X", "time_slot", 4999, start=time(10), end=time(12)),
    lambda: Offer("X", "time_slot", 9001, start=time(10), end=time(12)),
    lambda: Offer("X", "time_slot", 8000),
    lambda: Offer("X", "time_slot", 8000, start=time(10), end=time(10)),
    lambda: Offer("X", "time_slot", 8000, start=time(10), end=time(12), weekdays=frozenset({7})),
    lambda: Offer("X", "film_grade", 8000),
    lambda: Offer("X", "buy_n_get_m", buy_n=0, get_m=1),
    lambda: Offer("X", "buy_n_get_m", buy_n=2, get_m=0),
    lambda: Offer("X", "happy_hour", 8000),
    lambda: Offer("X", "film_grade", 8000, grades=frozenset({"B"}), valid_from=date(2026, 2, 1),
                  valid_until=date(2026, 1, 1)),
    lambda: TicketLine("L", "ADULT", -1),
    lambda: TicketLine("L", "ADULT", 5000, 2, seat="A1"),
    lambda: TicketLine("L", "ADULT", 5000, 0),
    lambda: ComboTerms("C", "ADULT", 1000, goods_value=1001),
    lambda: PackageTerms("P", 1000, 0),
    lambda: SessionContext(datetime(2026, 11, 20, 13).astimezone()),
    lambda: price_tickets(at(13), [adult("A"), adult("A")]),
    lambda: price_tickets(at(13), [adult()], [MATINEE, MATINEE]),
    lambda: price_tickets(at(13), [adult()], tier_discount_bp=10001),
])
def test_invalid_input_raises(make) -> None:
    with pytest.raises((ValueError, TypeError)):
        make()


def test_floats_and_bools_are_refused() -> None:
    with pytest.raises(TypeError):
        TicketLine("L", "ADULT", 50.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        price_tickets(at(13), [adult()], tier_discount_bp=True)
    with pytest.raises(TypeError):
        Offer("X", "time_slot", 8000.0, start=time(10), end=time(12))  # type: ignore[arg-type]


def test_no_float_anywhere_in_the_module() -> None:
    tree = ast.parse(inspect.getsource(pricing))
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), node.lineno
        assert not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Div), node.lineno
        assert not (isinstance(node, ast.Name) and node.id in {"float", "round", "Decimal"}), node.lineno


def test_share_rounds_half_up() -> None:
    assert [share(7999, 2, 3), share(5, 1, 2), share(3, 1, 2), share(100, 0, 3), share(100, 3, 3)] == [
        5333, 3, 2, 0, 100]


# ---------------------------------------------------------------- properties

OFFERS = [MATINEE, GRADE_B, B2G1,
          Offer("EVENING", "time_slot", 9000, True, start=time(18), end=time(23)),
          Offer("GRADE-A", "film_grade", 8500, True, grades=frozenset({"A"})),
          Offer("KIDS-B1G1", "buy_n_get_m", True, buy_n=1, get_m=1, ticket_types=frozenset({"CHILD"}))]

line_st = st.builds(
    lambda n, ticket_type, price, qty: TicketLine(f"L{n}", ticket_type, price, qty),
    st.integers(), st.sampled_from(["ADULT", "CHILD", "VIP"]), st.integers(0, 20_000), st.integers(1, 6))
lines_st = st.lists(line_st, min_size=1, max_size=8).map(
    lambda ls: [TicketLine(f"L{i}", x.ticket_type, x.unit_price, x.quantity) for i, x in enumerate(ls)])
context_st = st.builds(lambda h, m, g: SessionContext(datetime(2026, 11, 20, h, m), g),
                       st.integers(0, 23), st.integers(0, 59), st.sampled_from(["A", "B", ""]))


@settings(max_examples=300, deadline=None)
@given(context_st, lines_st, st.sets(st.integers(0, len(OFFERS) - 1)), st.integers(0, 10_000))
def test_properties(context: SessionContext, lines: list[TicketLine], chosen: set[int], tier: int) -> None:
    offers = [OFFERS[i] for i in sorted(chosen)]
    order = price_tickets(context, lines, offers, tier_discount_bp=tier)
    assert order.total == sum(line.total for line in order.lines)
    assert order.list_total == sum(line.unit_price * line.quantity for line in lines)
    kinds = ("offer", "buy_n_get_m", "tier")
    for line in order.lines:
        assert 0 <= line.total <= line.list_price
        assert line.list_price - sum(s.amount for s in line.steps) == line.total
        assert all(s.amount >= 0 for s in line.steps)
        order_of_kinds = [kinds.index(s.kind) for s in line.steps]
        assert order_of_kinds == sorted(order_of_kinds)
        assert sum(s.free for s in line.steps) <= line.quantity
    # deterministic and independent of the order the offers come in
    assert price_tickets(context, lines, list(reversed(offers)), tier_discount_bp=tier) == order
    # an offer or a tier never raises a total
    assert order.total <= price_tickets(context, lines, offers[:-1] if offers else [], tier_discount_bp=tier).total
    assert order.total <= price_tickets(context, lines, offers).total


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 20_000), min_size=0, max_size=12), st.integers(1, 3), st.integers(1, 3))
def test_buy_n_get_m_frees_m_of_each_full_group(prices: list[int], n: int, m: int) -> None:
    offer = Offer("BNGM", "buy_n_get_m", buy_n=n, get_m=m)
    lines = [TicketLine(f"L{i}", "ADULT", p) for i, p in enumerate(prices)]
    order = price_tickets(at(19), lines, [offer])
    paying = sorted((p for p in prices if p > 0), reverse=True)
    free = sum(s.free for line in order.lines for s in line.steps)
    assert free == len(paying) // (n + m) * m
    expected = sum(p for i, p in enumerate(paying) if i >= len(paying) // (n + m) * (n + m) or i % (n + m) < n)
    assert order.total == expected
