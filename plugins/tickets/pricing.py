"""Box-office pricing (T3, T4): what an order of tickets, combos and packages costs, as pure
functions.

Nothing here touches a database, a device or the clock: the caller passes the session's
context (its local start time, the programme's grade, the venue), the lines with their list
prices from the price plan, the offers in force and the member tier, and gets back a frozen
:class:`PricedOrder` it can show, print and save. ``plugins.tickets.offers.price_order`` does
the loading from the database; ``docs/tickets-pricing.md`` states the rules.

Money is integer fen, percentages integer basis points (1 bp = 0.01 %); no float is used. The
time-slot and film-grade offers are the card wallet's discount rules
(``plugins.wallet.pricing.DiscountRule``) matched against the session, and the choice among
them is the wallet's ``best_rules``. Per line, in this order:

1. time-slot / film-grade offers: the best single one, or the stack of every combinable one,
   whichever gives the lower price;
2. buy N get M across the order: the eligible tickets sorted from the dearest, cut into groups
   of N + M, the M cheapest of each full group free (a non-combinable offer instead of step 1
   on its tickets, when that makes the order cheaper);
3. the member tier discount (``tier_discount_bp`` off, from the paying card's type),

each step rounded half up to the fen on the line amount; the order total is the sum of the
line totals. A group ticket type sold below its minimum quantity is a refusal on the result,
not an exception; invalid input (a negative price, an offer outside 50 %-90 %) raises
``ValueError`` or ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import cmp_to_key
from typing import Any, Literal

from suite.i18n import N_, _

from plugins.wallet.pricing import BP, DiscountRule, SaleContext, SaleItem, apply_multiplier, best_rules

ANY_ZONE = "*"  # a price for every zone without its own (plugins.tickets.models.ANY_ZONE)
OFFER_KINDS: tuple[str, ...] = ("time_slot", "film_grade", "buy_n_get_m")
LINE_OFFER_KINDS: tuple[str, ...] = ("time_slot", "film_grade")
MAX_GROUP = 1000  # largest buy_n or get_m

REFUSED_GROUP_MINIMUM = "group_minimum"
REFUSED_NO_PRICE = "no_price"
REFUSED_NOT_SOLD = "not_sold"

REFUSAL_MESSAGES: dict[str, str] = {
    REFUSED_GROUP_MINIMUM: N_("{ticket_type} tickets are sold to groups of at least {minimum}; "
                              "this order has {count}."),
    REFUSED_NO_PRICE: N_("There is no price for {ticket_type} in zone {zone}."),
    REFUSED_NOT_SOLD: N_("{item} is not sold any more."),
}

StepKind = Literal["offer", "buy_n_get_m", "tier"]
LineKind = Literal["ticket", "combo_ticket", "combo_goods", "package"]


# --------------------------------------------------------------------------- helpers


def _check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")


def share(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole`` rounded half up to the fen (integers only, ``whole >= 1``)."""
    _check_int("amount", amount, 0)
    _check_int("whole", whole, 1)
    _check_int("part", part, 0, whole)
    return (2 * amount * part + whole) // (2 * whole)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SessionContext:
    """The session the tickets are for. ``starts_at`` is the session's start in the venue's
    local wall-clock time (naive): time-slot offers and offers' validity days look at it, not
    at the moment of the sale. ``grade`` is the programme's grade ("" for none)."""

    starts_at: datetime
    grade: str = ""
    venue: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.starts_at, datetime):
            raise TypeError("starts_at must be a datetime")
        if self.starts_at.tzinfo is not None:
            raise ValueError("starts_at is the venue's local wall-clock time, without a time zone")


@dataclass(frozen=True)
class TicketLine:
    """One line of tickets. ``unit_price`` is the list price of one ticket from the price plan
    (see :func:`list_price`); a line with a ``seat`` is one ticket, a line without (standing,
    general admission, a group) may hold several. ``min_quantity`` is the ticket type's
    (a group type: 10)."""

    ref: str
    ticket_type: str
    unit_price: int
    quantity: int = 1
    category: str = "adult"
    zone: str = ANY_ZONE
    seat: str | None = None
    min_quantity: int = 1

    def __post_init__(self) -> None:
        _check_int("unit_price", self.unit_price, 0)
        _check_int("quantity", self.quantity, 1)
        _check_int("min_quantity", self.min_quantity, 1)
        if self.seat is not None and self.quantity != 1:
            raise ValueError(f"line {self.ref!r}: a seat is one ticket, not {self.quantity}")


@dataclass(frozen=True)
class Offer:
    """A box-office offer (the ``tickets_offers`` row as the engine sees it).

    * ``time_slot``: keeps ``multiplier_bp`` (5000-9000) of the price of sessions starting
      ``start <= t < end`` (``end <= start``: over midnight) on ``weekdays`` (0 = Monday;
      empty: every day);
    * ``film_grade``: keeps ``multiplier_bp`` of the price of sessions whose programme's grade
      is in ``grades``;
    * ``buy_n_get_m``: of every ``buy_n + get_m`` eligible tickets of the order, the ``get_m``
      cheapest are free; ``combinable``: on top of the time-slot and film-grade discounts;
      not: instead of them on its tickets, when that makes the order cheaper.

    ``ticket_types`` (codes) limits every kind (empty: all types). The offer is valid on
    session days ``valid_from`` to ``valid_until`` inclusive (None: open)."""

    code: str
    kind: str
    multiplier_bp: int = BP
    combinable: bool = False
    start: time | None = None
    end: time | None = None
    weekdays: frozenset[int] = frozenset()
    grades: frozenset[str] = frozenset()
    ticket_types: frozenset[str] = frozenset()
    buy_n: int = 0
    get_m: int = 0
    valid_from: date | None = None
    valid_until: date | None = None
    rule: DiscountRule | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in OFFER_KINDS:
            raise ValueError(f"unknown offer kind {self.kind!r}; expected one of {OFFER_KINDS}")
        if not isinstance(self.combinable, bool):
            raise TypeError("combinable must be a bool")
        for name in ("weekdays", "grades", "ticket_types"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        if self.valid_from is not None and self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError(f"offer {self.code!r}: valid_until is before valid_from")
        if self.kind == "buy_n_get_m":
            _check_int("buy_n", self.buy_n, 1, MAX_GROUP)
            _check_int("get_m", self.get_m, 1, MAX_GROUP)
            return
        # the wallet's rule checks the multiplier (5000-9000), the slot, the weekdays, the grades
        rule = DiscountRule(rule_id=self.code, kind=self.kind,  # type: ignore[arg-type]
                            multiplier_bp=self.multiplier_bp, combinable=self.combinable,
                            categories=self.ticket_types, start=self.start, end=self.end, weekdays=self.weekdays,
                            film_grades=self.grades)
        object.__setattr__(self, "rule", rule)

    def valid_on(self, day: date) -> bool:
        return ((self.valid_from is None or self.valid_from <= day)
                and (self.valid_until is None or day <= self.valid_until))

    def admits(self, ticket_type: str) -> bool:
        return not self.ticket_types or ticket_type in self.ticket_types


@dataclass(frozen=True)
class ComboTerms:
    """A combo (a ticket of ``ticket_type`` plus goods) at ``price``; ``goods_value`` is the
    goods' share of it."""

    code: str
    ticket_type: str
    price: int
    goods_value: int = 0
    goods: str = ""
    category: str = "adult"

    def __post_init__(self) -> None:
        _check_int("price", self.price, 0)
        _check_int("goods_value", self.goods_value, 0, self.price)


@dataclass(frozen=True)
class ComboSale:
    """``quantity`` of a combo in an order (a seat: one)."""

    ref: str
    combo: ComboTerms
    quantity: int = 1
    zone: str = ANY_ZONE
    seat: str | None = None

    def __post_init__(self) -> None:
        _check_int("quantity", self.quantity, 1)
        if self.seat is not None and self.quantity != 1:
            raise ValueError(f"line {self.ref!r}: a seat is one combo, not {self.quantity}")


@dataclass(frozen=True)
class PackageTerms:
    """A package granting ``entries`` admissions for ``price``."""

    code: str
    price: int
    entries: int

    def __post_init__(self) -> None:
        _check_int("price", self.price, 0)
        _check_int("entries", self.entries, 1)


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Step:
    """One step of a line's price: ``amount`` fen taken off. ``multiplier_bp`` is the share
    kept (offers and tier); ``free`` the tickets made free (buy N get M)."""

    kind: StepKind
    label: str  # the offer's code, or "tier"
    amount: int
    multiplier_bp: int | None = None
    free: int = 0


@dataclass(frozen=True)
class PricedLine:
    ref: str
    kind: LineKind
    ticket_type: str  # "" for goods and packages
    product: str  # the combo's or package's code, "" for plain tickets
    category: str
    zone: str
    seat: str | None
    quantity: int
    unit_price: int
    list_price: int  # unit_price * quantity
    steps: tuple[Step, ...]
    total: int  # list_price - the steps' amounts
    entries: int  # admissions granted: tickets, or a package's entries times its quantity

    @property
    def discount_total(self) -> int:
        return self.list_price - self.total


@dataclass(frozen=True)
class Refusal:
    """Why the order cannot be sold as it is; ``message()`` says it in the current language."""

    code: str
    line: str | None = None
    params: tuple[tuple[str, str | int], ...] = ()

    @property
    def details(self) -> dict[str, str | int]:
        return dict(self.params)

    def message(self) -> str:
        return _(REFUSAL_MESSAGES[self.code]).format(**self.details)


def refusal(reason: str, line: str | None = None, /, **params: str | int) -> Refusal:
    """A :class:`Refusal` ``reason`` (one of ``REFUSAL_MESSAGES``) about ``line`` with the
    message's ``params``."""
    if reason not in REFUSAL_MESSAGES:
        raise ValueError(f"unknown refusal {reason!r}")
    return Refusal(reason, line, tuple(sorted(params.items())))


@dataclass(frozen=True)
class PricedOrder:
    lines: tuple[PricedLine, ...]
    list_total: int
    total: int  # == sum(line.total for line in lines)
    refusals: tuple[Refusal, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.refusals

    @property
    def discount_total(self) -> int:
        return self.list_total - self.total

    def with_refusals(self, refusals: Sequence[Refusal]) -> PricedOrder:
        """The same prices with ``refusals`` first (the caller's, like a missing price)."""
        return replace(self, refusals=(*refusals, *self.refusals))


# --------------------------------------------------------------------------- list prices


def list_price(prices: Mapping[tuple[str, str], int], ticket_type: str, zone: str = ANY_ZONE,
               *, ref: str | None = None) -> int | Refusal:
    """The plan's price of ``ticket_type`` in ``zone``: the zone's own price, else the ``*``
    price, else a ``no_price`` refusal. ``prices`` maps ``(zone, ticket type)`` to fen."""
    for key in ((zone, ticket_type), (ANY_ZONE, ticket_type)):
        if key in prices:
            price = prices[key]
            _check_int("price", price, 0)
            return price
    return refusal(REFUSED_NO_PRICE, ref, ticket_type=ticket_type, zone=zone)


# --------------------------------------------------------------------------- pricing


def _tier_step(amount: int, tier_discount_bp: int) -> Step | None:
    if not tier_discount_bp or not amount:
        return None
    kept = BP - tier_discount_bp
    return Step("tier", "tier", amount - apply_multiplier(amount, kept), kept)


def _with_tier(line: PricedLine, tier_discount_bp: int) -> PricedLine:
    step = _tier_step(line.total, tier_discount_bp)
    if step is None:
        return line
    return replace(line, steps=(*line.steps, step), total=line.total - step.amount)


def price_package(package: PackageTerms, quantity: int = 1, *, tier_discount_bp: int = 0,
                  ref: str | None = None) -> PricedLine:
    """``quantity`` packages at the package's price; offers do not apply, the tier does."""
    _check_int("quantity", quantity, 1)
    _check_int("tier_discount_bp", tier_discount_bp, 0, BP)
    amount = package.price * quantity
    line = PricedLine(ref=ref or package.code, kind="package", ticket_type="", product=package.code, category="",
                      zone="", seat=None, quantity=quantity, unit_price=package.price, list_price=amount, steps=(),
                      total=amount, entries=package.entries * quantity)
    return _with_tier(line, tier_discount_bp)


def price_combo(sale: ComboSale, *, tier_discount_bp: int = 0) -> tuple[PricedLine, PricedLine]:
    """A combo as two lines: the ticket at the combo's price minus ``goods_value``, the goods
    at ``goods_value``. Offers do not apply (the combo is the deal); the tier does, per line."""
    _check_int("tier_discount_bp", tier_discount_bp, 0, BP)
    combo = sale.combo
    ticket_unit = combo.price - combo.goods_value
    common = {"product": combo.code, "zone": sale.zone, "seat": sale.seat, "quantity": sale.quantity, "steps": ()}
    ticket = PricedLine(ref=sale.ref, kind="combo_ticket", ticket_type=combo.ticket_type, category=combo.category,
                        unit_price=ticket_unit, list_price=ticket_unit * sale.quantity,
                        total=ticket_unit * sale.quantity, entries=sale.quantity, **common)
    goods = PricedLine(ref=f"{sale.ref}/goods", kind="combo_goods", ticket_type="", category="goods",
                       unit_price=combo.goods_value, list_price=combo.goods_value * sale.quantity,
                       total=combo.goods_value * sale.quantity, entries=0, **common)
    return _with_tier(ticket, tier_discount_bp), _with_tier(goods, tier_discount_bp)


def _line_offers(line: TicketLine, context: SessionContext, rules: Sequence[DiscountRule]) -> tuple[int, list[Step]]:
    """Step 1: the wallet's choice among the time-slot and film-grade rules that apply."""
    amount = line.unit_price * line.quantity
    item = SaleItem(sku=line.ref, category=line.ticket_type, unit_price=line.unit_price, quantity=line.quantity,
                    film_grade=context.grade or None)
    steps = []
    for rule in best_rules(amount, item, SaleContext(at=context.starts_at, venue=context.venue), rules):
        after = apply_multiplier(amount, rule.multiplier_bp)
        steps.append(Step("offer", rule.rule_id, amount - after, rule.multiplier_bp))
        amount = after
    return amount, steps


def _free_units(offer: Offer, amounts: Sequence[int], quantities: Sequence[int],
                eligible: Sequence[bool], taken: list[int]) -> list[int]:
    """Step 2 for one offer: how many tickets of each line it makes free. Each eligible ticket
    not already in a group of an earlier offer is worth its line's amount / quantity; sorted
    from the dearest (ties: earlier line first) and cut into groups of N + M, the last M of each
    full group are free and every ticket of a full group is used up."""
    units = [i for i, ok in enumerate(eligible) if ok for _n in range(quantities[i] - taken[i])]

    def dearest_first(a: int, b: int) -> int:
        left, right = amounts[a] * quantities[b], amounts[b] * quantities[a]
        if left != right:
            return -1 if left > right else 1
        return (a > b) - (a < b)

    units.sort(key=cmp_to_key(dearest_first))
    size = offer.buy_n + offer.get_m
    free = [0] * len(amounts)
    for start in range(0, len(units) - size + 1, size):
        group = units[start:start + size]
        for i in group:
            taken[i] += 1
        for i in group[offer.buy_n:]:
            free[i] += 1
    return free


@dataclass
class _Working:
    """The lines of an order between step 1 and the tier (mutable, private): ``base`` is what
    buy N get M works on, ``amount`` what is left after its free tickets."""

    base: list[int]
    amount: list[int]
    offer_steps: list[tuple[Step, ...]]
    group_steps: list[list[Step]]
    taken: list[int]
    freed: list[int]

    def copy(self) -> _Working:
        return _Working(list(self.base), list(self.amount), list(self.offer_steps),
                        [list(s) for s in self.group_steps], list(self.taken), list(self.freed))


def _apply_group_offer(offer: Offer, work: _Working, quantities: Sequence[int], eligible: Sequence[bool]) -> None:
    free = _free_units(offer, work.base, quantities, eligible, work.taken)
    for i, count in enumerate(free):
        if count:
            work.freed[i] += count
            after = share(work.base[i], quantities[i] - work.freed[i], quantities[i])
            work.group_steps[i].append(Step("buy_n_get_m", offer.code, work.amount[i] - after, free=count))
            work.amount[i] = after


def _group_offers(groups: Sequence[Offer], lines: Sequence[TicketLine], work: _Working) -> _Working:
    """Step 2. A combinable offer applies on top of step 1. A non-combinable one is an
    alternative to step 1 on its tickets: it is tried with its tickets at their list price
    (lines that end up in none of its full groups keep their step-1 discount) and kept only
    when the order comes out cheaper than without it."""
    quantities = [line.quantity for line in lines]
    for offer in groups:
        admitted = [offer.admits(line.ticket_type) for line in lines]
        if offer.combinable:
            _apply_group_offer(offer, work, quantities, [a and b > 0 for a, b in zip(admitted, work.base)])
            continue
        trial = work.copy()
        dropped = [admitted[i] and not work.taken[i] and bool(work.offer_steps[i]) for i in range(len(lines))]
        for i, line in enumerate(lines):
            if dropped[i]:
                trial.base[i] = trial.amount[i] = line.unit_price * line.quantity
                trial.offer_steps[i] = ()
        eligible = [admitted[i] and trial.base[i] > 0 and (dropped[i] or not work.offer_steps[i])
                    for i in range(len(lines))]
        _apply_group_offer(offer, trial, quantities, eligible)
        for i in range(len(lines)):
            if dropped[i] and not trial.taken[i]:  # in no full group: its step-1 discount stays
                trial.base[i], trial.amount[i], trial.offer_steps[i] = work.base[i], work.amount[i], work.offer_steps[i]
        if sum(trial.amount) < sum(work.amount):
            work = trial
    return work


def price_tickets(context: SessionContext, lines: Sequence[TicketLine], offers: Sequence[Offer] = (), *,
                  tier_discount_bp: int = 0, combos: Sequence[ComboSale] = ()) -> PricedOrder:
    """Price an order for one session (see the module docstring for the steps).

    Offers not valid on the session's local date are ignored. Buy-N-get-M offers are applied
    one after the other in code order; a ticket takes part in the groups of one of them at
    most. Combos are priced by :func:`price_combo` and follow the ticket lines."""
    _check_int("tier_discount_bp", tier_discount_bp, 0, BP)
    codes = [offer.code for offer in offers]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"offer codes must be unique: {duplicates}")
    refs = [line.ref for line in lines] + [sale.ref for sale in combos]
    duplicates = sorted({r for r in refs if refs.count(r) > 1})
    if duplicates:
        raise ValueError(f"line refs must be unique: {duplicates}")
    day = context.starts_at.date()
    valid = [offer for offer in offers if offer.valid_on(day)]
    rules = [offer.rule for offer in valid if offer.rule is not None]
    groups = sorted((offer for offer in valid if offer.kind == "buy_n_get_m"), key=lambda o: o.code)

    first = [_line_offers(line, context, rules) for line in lines]
    work = _Working(base=[amount for amount, _steps in first], amount=[amount for amount, _steps in first],
                    offer_steps=[tuple(line_steps) for _amount, line_steps in first],
                    group_steps=[[] for _line in lines], taken=[0] * len(lines), freed=[0] * len(lines))
    work = _group_offers(groups, lines, work)

    priced: list[PricedLine] = []
    for i, line in enumerate(lines):
        amount = work.amount[i]
        line_steps = [*work.offer_steps[i], *work.group_steps[i]]
        tier = _tier_step(amount, tier_discount_bp)
        if tier is not None:
            line_steps.append(tier)
            amount -= tier.amount
        priced.append(PricedLine(ref=line.ref, kind="ticket", ticket_type=line.ticket_type, product="",
                                 category=line.category, zone=line.zone, seat=line.seat, quantity=line.quantity,
                                 unit_price=line.unit_price, list_price=line.unit_price * line.quantity,
                                 steps=tuple(line_steps), total=amount, entries=line.quantity))
    for sale in combos:
        priced.extend(price_combo(sale, tier_discount_bp=tier_discount_bp))
    return PricedOrder(lines=tuple(priced), list_total=sum(p.list_price for p in priced),
                       total=sum(p.total for p in priced), refusals=group_refusals(lines))


def group_refusals(lines: Sequence[TicketLine]) -> tuple[Refusal, ...]:
    """A ticket type with a minimum quantity (group tickets) needs at least that many tickets of
    the type in the order; one refusal per type short of it, in the order of first appearance."""
    counts: dict[str, int] = {}
    minimum: dict[str, int] = {}
    for line in lines:
        counts[line.ticket_type] = counts.get(line.ticket_type, 0) + line.quantity
        minimum[line.ticket_type] = max(minimum.get(line.ticket_type, 1), line.min_quantity)
    return tuple(refusal(REFUSED_GROUP_MINIMUM, None, ticket_type=code, minimum=minimum[code], count=count)
                 for code, count in counts.items() if count < minimum[code])


def as_dict(order: PricedOrder) -> dict[str, Any]:
    """The result as plain data (JSON, the sale screen): amounts in fen, refusals with their
    message in the current language."""
    return {
        "lines": [{"ref": line.ref, "kind": line.kind, "ticket_type": line.ticket_type, "product": line.product,
                   "category": line.category, "zone": line.zone, "seat": line.seat, "quantity": line.quantity,
                   "unit_price": line.unit_price, "list_price": line.list_price,
                   "steps": [{"kind": s.kind, "label": s.label, "amount": s.amount, "multiplier_bp": s.multiplier_bp,
                              "free": s.free} for s in line.steps],
                   "discount": line.discount_total, "total": line.total, "entries": line.entries}
                  for line in order.lines],
        "list_total": order.list_total,
        "discount_total": order.discount_total,
        "total": order.total,
        "ok": order.ok,
        "refusals": [{"code": r.code, "line": r.line, "message": r.message(), "details": r.details}
                     for r in order.refusals],
    }


__all__ = [
    "ANY_ZONE", "LINE_OFFER_KINDS", "OFFER_KINDS", "REFUSAL_MESSAGES", "REFUSED_GROUP_MINIMUM", "REFUSED_NOT_SOLD",
    "REFUSED_NO_PRICE", "ComboSale", "ComboTerms", "Offer", "PackageTerms", "PricedLine", "PricedOrder", "Refusal",
    "SessionContext", "Step", "TicketLine", "as_dict", "group_refusals", "list_price", "price_combo", "price_package",
    "price_tickets", "refusal", "share",
]
