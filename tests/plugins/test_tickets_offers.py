"""Box-office offers, packages, combos and quotes on SQLite and PostgreSQL: the service's checks
and audit records, quotes against a small cinema (VIP zone prices, offers at the session's local
time in Asia/Shanghai, disabled and expired offers ignored, group minimums, combos), pricing in
an open session, and the catalogue verbs end to end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

import plugins.tickets as tickets_plugin
from plugins.tickets.offers import OffersService, price_order
from plugins.tickets.pricing import REFUSED_GROUP_MINIMUM, REFUSED_NO_PRICE, REFUSED_NOT_SOLD
from plugins.tickets.setup import SetupService
from suite.audit.models import AuditEvent
from suite.declarations import CliCommand
from suite.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from suite.hookspecs import hookimpl
from suite.i18n import N_
from tests.plugins.tickets_fixtures import SHANGHAI, actor, service, small_cinema, tickets_schema
from tests.sites import Site

UTC = dt.timezone.utc
# 2026-11-20 is a Friday; 05:00 UTC is 13:00 in Shanghai, 11:30 UTC is 19:30
MATINEE_START = dt.datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
EVENING_START = dt.datetime(2026, 11, 20, 11, 30, tzinfo=UTC)


@pytest.fixture
def uow(engine):
    return tickets_schema(engine)


@pytest.fixture
def setup(uow) -> SetupService:
    return service(SetupService, uow)


@pytest.fixture
def offers(uow) -> OffersService:
    return service(OffersService, uow)


@pytest.fixture
def cinema(setup: SetupService) -> dict[str, Any]:
    """The small cinema (adult 50.00, child 30.00, VIP adult 80.00; film grade B) with a matinee
    session S1 at 13:00 and an evening session S2 at 19:30, Shanghai time."""
    small_cinema(setup, starts_at=MATINEE_START)
    a = actor()
    setup.add_session(a, code="S2", programme="FILM1", hall="H1", seat_map="Standard", plan="STD",
                      starts_at=EVENING_START, state="on_sale")
    setup.add_ticket_type(a, code="GROUP", name="Group", category="group", min_quantity=10)
    setup.set_price(a, plan="STD", ticket_type="GROUP", price=3500)
    setup.add_ticket_type(a, code="SENIOR", name="Senior", category="senior")  # no price in plan STD
    seats = setup.seat_map(a, hall="H1", name="Standard")["seats"]
    return {zone.lower(): [s["id"] for s in seats if s["zone"] == zone] for zone in ("VIP", "STD")}


def audit_actions(uow, target: str) -> list[str]:
    with uow.read() as unit:
        return list(unit.session.scalars(select(AuditEvent.action).where(AuditEvent.target == target)
                                         .order_by(AuditEvent.seq)))


def totals(quote: dict[str, Any]) -> list[int]:
    return [line["total"] for line in quote["lines"]]


# ---------------------------------------------------------------- the service's checks


@pytest.mark.parametrize("fields", [
    {"kind": "happy_hour"},
    {"kind": "time_slot", "multiplier_bp": 8000},  # no slot
    {"kind": "time_slot", "multiplier_bp": 8000, "start": "10:00", "end": "10:00"},
    {"kind": "time_slot", "multiplier_bp": 8000, "start": "25:00", "end": "26:00"},
    {"kind": "time_slot", "multiplier_bp": 8000, "start": "9:00", "end": "12:00"},
    {"kind": "time_slot", "multiplier_bp": 4999, "start": "10:00", "end": "12:00"},
    {"kind": "time_slot", "multiplier_bp": 9001, "start": "10:00", "end": "12:00"},
    {"kind": "time_slot", "multiplier_bp": True, "start": "10:00", "end": "12:00"},
    {"kind": "time_slot", "multiplier_bp": 8000, "start": "10:00", "end": "12:00", "weekdays": "1,7"},
    {"kind": "time_slot", "multiplier_bp": 8000, "start": "10:00", "end": "12:00", "grades": "B"},
    {"kind": "film_grade", "multiplier_bp": 7000},  # no grade
    {"kind": "film_grade", "multiplier_bp": 7000, "grades": "B", "start": "10:00"},
    {"kind": "film_grade", "multiplier_bp": 10000, "grades": "B"},
    {"kind": "film_grade", "multiplier_bp": 7000, "grades": "B", "buy_n": 2},
    {"kind": "buy_n_get_m", "buy_n": 0, "get_m": 1},
    {"kind": "buy_n_get_m", "buy_n": 2, "get_m": 0},
    {"kind": "buy_n_get_m", "buy_n": 2, "get_m": 1, "valid_from": "2026-12-07", "valid_until": "2026-12-01"},
    {"kind": "buy_n_get_m", "buy_n": 2, "get_m": 1, "valid_from": "someday"},
])
def test_offers_are_checked(offers: OffersService, fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        offers.add_offer(actor(), code="BAD", **fields)


def test_offers_packages_and_combos_are_added_listed_switched_and_audited(offers: OffersService, setup, uow,
                                                                         cinema) -> None:
    a = actor()
    added = offers.add_offer(a, code="MATINEE", kind="time_slot", multiplier_bp=8000, start="10:00", end="17:00",
                             weekdays="4, 0", ticket_types="CHILD,ADULT")
    assert (added["weekdays"], added["ticket_types"], added["active"], added["valid_from"]) == (
        "0,4", "ADULT,CHILD", True, None)
    with pytest.raises(Conflict):
        offers.add_offer(a, code="MATINEE", kind="buy_n_get_m", buy_n=2, get_m=1)
    with pytest.raises(NotFound):
        offers.add_offer(a, code="NOPE", kind="buy_n_get_m", buy_n=2, get_m=1, ticket_types="UNKNOWN")
    b2g1 = offers.add_offer(a, code="B2G1", kind="buy_n_get_m", buy_n=2, get_m=1, valid_from="2026-11-01",
                            valid_until=dt.date(2026, 11, 30))
    assert (b2g1["multiplier_bp"], b2g1["valid_until"]) == (10000, "2026-11-30")
    assert offers.disable_offer(a, "MATINEE")["active"] is False
    assert offers.enable_offer(a, "MATINEE")["active"] is True
    with pytest.raises(NotFound):
        offers.disable_offer(a, "GONE")
    assert audit_actions(uow, "MATINEE") == ["tickets.offer.create", "tickets.offer.active", "tickets.offer.active"]

    package = offers.add_package(a, code="TEN", name="Ten films", price=40000, entries=10, programmes="FILM1")
    assert (package["entries"], package["valid_days"]) == (10, 365)
    with pytest.raises(NotFound):
        offers.add_package(a, code="BAD", name="Bad", price=100, entries=2, programmes="NOFILM")
    with pytest.raises(InvalidInput):
        offers.add_package(a, code="BAD", name="Bad", price=100, entries=0)
    combo = offers.add_combo(a, code="POPCORN", name="Film and popcorn", ticket_type="ADULT", price=6500,
                             goods="popcorn, cola", goods_value=1500)
    assert (combo["ticket_type"], combo["goods_value"]) == ("ADULT", 1500)
    with pytest.raises(InvalidInput):
        offers.add_combo(a, code="BAD", name="Bad", ticket_type="ADULT", price=1000, goods_value=1001)
    with pytest.raises(Conflict):
        offers.add_combo(a, code="POPCORN", name="again", ticket_type="ADULT", price=1000)
    assert audit_actions(uow, "TEN") == ["tickets.package.create"]
    assert audit_actions(uow, "POPCORN") == ["tickets.combo.create"]

    cashier = actor("tickets.view", "tickets.sell")
    assert [o["code"] for o in offers.list_offers(cashier)] == ["B2G1", "MATINEE"]
    assert [p["code"] for p in offers.list_packages(cashier)] == ["TEN"]
    assert [c["code"] for c in offers.list_combos(cashier)] == ["POPCORN"]
    for change in (lambda: offers.add_offer(cashier, code="X", kind="buy_n_get_m", buy_n=1, get_m=1),
                   lambda: offers.disable_offer(cashier, "MATINEE"),
                   lambda: offers.add_package(cashier, code="X", name="X", price=1, entries=1),
                   lambda: offers.add_combo(cashier, code="X", name="X", ticket_type="ADULT", price=1)):
        with pytest.raises(PermissionDenied):
            change()
    with pytest.raises(PermissionDenied):
        offers.quote(actor("tickets.sell"), "S1", [{"ticket_type": "ADULT"}])


# ---------------------------------------------------------------- quotes


def test_quote_with_zone_prices_and_offers_at_the_sessions_local_time(offers: OffersService, cinema) -> None:
    a = actor()
    offers.add_offer(a, code="MATINEE", kind="time_slot", multiplier_bp=8000, start="10:00", end="17:00")
    lines = [{"ticket_type": "ADULT", "seat": cinema["vip"][0]}, {"ticket_type": "ADULT", "seat": cinema["std"][0]},
             {"ticket_type": "CHILD", "zone": "STD", "quantity": 2}]
    matinee = offers.quote(a, "S1", lines)
    assert (matinee["starts_at_local"], matinee["grade"], matinee["venue"]) == ("2026-11-20T13:00", "B", "CINEMA-01")
    assert [(line["zone"], line["list_price"]) for line in matinee["lines"]] == [("VIP", 8000), ("STD", 5000),
                                                                                   ("STD", 6000)]
    assert totals(matinee) == [6400, 4000, 4800] and matinee["total"] == 15200 and matinee["ok"]
    assert matinee["lines"][0]["ref"] == cinema["vip"][0] and matinee["lines"][2]["ref"] == "L3"
    assert matinee["lines"][0]["steps"] == [
        {"kind": "offer", "label": "MATINEE", "amount": 1600, "multiplier_bp": 8000, "free": 0}]
    # 11:30 UTC is 19:30 in Shanghai: no matinee; the gold tier still applies
    evening = offers.quote(a, "S2", lines, tier_discount_bp=1000)
    assert totals(evening) == [7200, 4500, 5400] and evening["total"] == 17100

    offers.disable_offer(a, "MATINEE")
    assert offers.quote(a, "S1", lines)["total"] == 19000  # a disabled offer is ignored
    offers.enable_offer(a, "MATINEE")
    assert offers.quote(a, "S1", lines)["total"] == 15200


def test_the_offers_time_zone_is_the_venues(uow, setup: SetupService, cinema) -> None:
    """The same session seen from a venue in UTC starts at 05:00: outside the matinee slot."""
    from plugins.tickets.settings import TicketSettings

    utc_offers = service(OffersService, uow, settings=TicketSettings(timezone="UTC"))
    utc_offers.add_offer(actor(), code="MATINEE", kind="time_slot", multiplier_bp=8000, start="10:00", end="17:00")
    quote = utc_offers.quote(actor(), "S1", [{"ticket_type": "ADULT"}])
    assert (quote["starts_at_local"], quote["total"]) == ("2026-11-20T05:00", 5000)


def test_offers_apply_on_their_session_days_only(offers: OffersService, cinema) -> None:
    a = actor()
    offers.add_offer(a, code="GRADE-B", kind="film_grade", multiplier_bp=7000, grades="B",
                     valid_from="2026-11-21", valid_until="2026-11-30")
    offers.add_offer(a, code="LAST-WEEK", kind="film_grade", multiplier_bp=9000, grades="B,C",
                     valid_until="2026-11-19")
    assert offers.quote(a, "S1", [{"ticket_type": "ADULT"}])["total"] == 5000  # S1 is on the 20th
    offers.add_offer(a, code="FRIDAY", kind="film_grade", multiplier_bp=8500, grades="B",
                     valid_from="2026-11-20", valid_until="2026-11-20")
    assert offers.quote(a, "S1", [{"ticket_type": "ADULT"}])["total"] == 4250


def test_buy_two_get_one_group_minimum_and_missing_prices(offers: OffersService, cinema) -> None:
    a = actor()
    offers.add_offer(a, code="B2G1", kind="buy_n_get_m", buy_n=2, get_m=1, ticket_types="ADULT,CHILD")
    quote = offers.quote(a, "S2", [{"ticket_type": "ADULT", "seat": cinema["vip"][0]},
                                   {"ticket_type": "ADULT", "seat": cinema["vip"][1]},
                                   {"ticket_type": "ADULT", "zone": "STD", "quantity": 3},
                                   {"ticket_type": "CHILD"}])
    # 80, 80, 50 | 50, 50, 30: one adult of the standing line and the child are free
    assert totals(quote) == [8000, 8000, 10000, 0] and quote["total"] == 26000
    assert quote["lines"][2]["steps"] == [{"kind": "buy_n_get_m", "label": "B2G1", "amount": 5000,
                                           "multiplier_bp": None, "free": 1}]

    short = offers.quote(a, "S2", [{"ticket_type": "GROUP", "quantity": 8}, {"ticket_type": "SENIOR", "ref": "gran"}])
    assert not short["ok"] and short["total"] == 28000
    assert [(r["code"], r["line"]) for r in short["refusals"]] == [("no_price", "gran"), ("group_minimum", None)]
    assert short["refusals"][0]["code"] == REFUSED_NO_PRICE and short["refusals"][1]["details"]["minimum"] == 10
    assert "SENIOR" in short["refusals"][0]["message"]
    assert [line["ticket_type"] for line in short["lines"]] == ["GROUP"]  # the line without a price is left out
    assert offers.quote(a, "S2", [{"ticket_type": "GROUP", "quantity": 10}])["ok"]
    assert short["refusals"][1]["code"] == REFUSED_GROUP_MINIMUM


def test_combos_in_a_quote(offers: OffersService, setup, uow, cinema) -> None:
    a = actor()
    offers.add_offer(a, code="MATINEE", kind="time_slot", multiplier_bp=8000, start="10:00", end="17:00")
    offers.add_combo(a, code="POPCORN", name="Film and popcorn", ticket_type="ADULT", price=6500,
                     goods="popcorn, cola", goods_value=1500)
    quote = offers.quote(a, "S1", [{"combo": "POPCORN", "seat": cinema["std"][3]}, {"ticket_type": "ADULT"}],
                         tier_discount_bp=1000)
    assert [(line["kind"], line["total"]) for line in quote["lines"]] == [
        ("ticket", 3600), ("combo_ticket", 4500), ("combo_goods", 1350)]
    assert quote["total"] == 9450 and quote["lines"][1]["zone"] == "STD"
    with uow() as unit:  # a combo switched off is refused
        from plugins.tickets.models import Combo

        unit.session.scalars(select(Combo)).one().active = False
        unit.commit()
    refused = offers.quote(a, "S1", [{"combo": "POPCORN"}])
    assert [r["code"] for r in refused["refusals"]] == [REFUSED_NOT_SOLD] and refused["lines"] == []


@pytest.mark.parametrize("lines", [
    [],
    [{"ticket_type": "ADULT", "combo": "POPCORN"}],
    [{"zone": "VIP"}],
    [{"ticket_type": "ADULT", "quantity": 0}],
    [{"ticket_type": "ADULT", "price": 1}],
    [{"ticket_type": "ADULT", "seat": "not-a-uuid"}],
    [{"ticket_type": "ADULT", "ref": "x"}, {"ticket_type": "CHILD", "ref": "x"}],
    "ADULT",
])
def test_bad_lines_are_refused(offers: OffersService, cinema, lines) -> None:
    with pytest.raises(InvalidInput):
        offers.quote(actor(), "S1", lines)


def test_unknown_things_are_not_found(offers: OffersService, cinema) -> None:
    a = actor()
    for session_code, lines in (("NOPE", [{"ticket_type": "ADULT"}]), ("S1", [{"ticket_type": "NOPE"}]),
                                ("S1", [{"combo": "NOPE"}]),
                                ("S1", [{"ticket_type": "ADULT", "seat": "00000000-0000-0000-0000-000000000000"}])):
        with pytest.raises(NotFound):
            offers.quote(a, session_code, lines)
    with pytest.raises(InvalidInput):  # the seat's zone is VIP
        offers.quote(a, "S1", [{"ticket_type": "ADULT", "seat": cinema["vip"][0], "zone": "STD"}])
    with pytest.raises(InvalidInput):
        offers.quote(a, "S1", [{"ticket_type": "ADULT"}], tier_discount_bp=10001)


def test_price_order_inside_an_open_session(offers: OffersService, uow, cinema) -> None:
    offers.add_offer(actor(), code="MATINEE", kind="time_slot", multiplier_bp=8000, start="10:00", end="17:00")
    with uow() as unit:
        priced = price_order(unit.session, "S1", [{"ticket_type": "ADULT", "seat": cinema["vip"][0]}],
                             zone=SHANGHAI, tier_discount_bp=1000)
        assert (priced.total, priced.lines[0].zone, priced.lines[0].seat) == (5760, "VIP", cinema["vip"][0])
        assert [s.label for s in priced.lines[0].steps] == ["MATINEE", "tier"]
        assert dataclasses.is_dataclass(priced) and priced.ok


def test_the_sale_applies_the_offers(engine, secret_store) -> None:
    """The sale service prices its seats through ``apply_offers``: what is quoted is what is sold."""
    from plugins.tickets.sales import SalesService

    uow = tickets_schema(engine, with_wallet=True)
    setup = service(SetupService, uow)
    tomorrow = dt.datetime.now(UTC) + dt.timedelta(days=1)
    small_cinema(setup, starts_at=tomorrow.replace(hour=5, minute=0, second=0, microsecond=0))  # 13:00 local
    offers = service(OffersService, uow)
    offers.add_offer(actor(), code="MATINEE", kind="time_slot", multiplier_bp=8000, start="10:00", end="17:00")
    offers.add_offer(actor(), code="B2G1", kind="buy_n_get_m", buy_n=2, get_m=1, combinable=True)
    sales = service(SalesService, uow, secrets=secret_store)
    seats = {(s["row_label"], s["seat_label"]): s["id"]
             for s in setup.seat_map(actor(), hall="H1", name="Standard")["seats"]}
    lines = [{"seat_id": seats[("5", "1")], "ticket_type": "ADULT"},
             {"seat_id": seats[("1", "1")], "ticket_type": "ADULT"},
             {"seat_id": seats[("1", "2")], "ticket_type": "CHILD"}]
    quote = sales.quote(actor(), session_code="S1", lines=lines)
    # 80.00 VIP, 50.00 and 30.00 at 8 zhe: 64.00, 40.00, 24.00; the child (the cheapest of three) free
    assert [line["price"] for line in quote["lines"]] == [6400, 4000, 0] and quote["total"] == 10400
    assert [d["label"] for d in quote["lines"][2]["discounts"]] == ["MATINEE", "B2G1"]
    order = sales.sell(actor(), session_code="S1", lines=lines, payments=[{"method": "cash", "amount": 10400}],
                       key="offers-sale-1")
    assert order["total"] == 10400
    assert sorted(t["price"] for t in order["tickets"]) == [0, 4000, 6400]


# ---------------------------------------------------------------- the catalogue verbs

_CLI = "plugins.tickets.cli_catalogue:"
CATALOGUE_VERBS: tuple[CliCommand, ...] = tuple(
    CliCommand(name, N_(help_text), configure=f"{_CLI}configure_{name}", run=f"{_CLI}run", permission="tickets.view")
    for name, help_text in (
        ("hall", "halls and their first seat map: add, list"),
        ("show", "programmes (films, plays, concerts): add, list"),
        ("session", "sessions: add, list, sales state, quote"),
        ("tickettype", "ticket types: add, list"),
        ("price", "price plans and prices per zone: plan, set, list"),
        ("offer", "offers (time slot, film grade, buy N get M): add, list, enable, disable"),
        ("package", "packages granting several entries: add, list"),
        ("combo", "combos of a ticket and goods: add, list"),
    ))


@pytest.fixture
def tickets_site(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    """The plugin tests' site (the box office built in, licensed for ``wallet`` and ``tickets``)
    with the catalogue verbs, whether or not the plugin's manifest declares them yet."""
    manifest = tickets_plugin.venue_suite_manifest
    declared = {c.name for c in manifest().cli_commands}
    if not {c.name for c in CATALOGUE_VERBS} <= declared:
        @hookimpl
        def venue_suite_manifest():  # the same manifest with the catalogue verbs
            m = manifest()
            return dataclasses.replace(m, cli_commands=(*m.cli_commands,
                                                        *(c for c in CATALOGUE_VERBS if c.name not in declared)))

        monkeypatch.setattr(tickets_plugin, "venue_suite_manifest", venue_suite_manifest)
    return site


def test_cli_round_trip(tickets_site: Site) -> None:
    site = tickets_site

    def ok(*args: str, env: dict[str, str] | None = None) -> Any:
        result = site.run("--json", *args, env=env)
        assert result.code == 0, result.err + result.out
        return result.json

    hall = ok("hall", "add", "H1", "Hall 1", "--rows", "4", "--columns", "6")
    assert hall["seat_map"] == {"name": "Standard", "rows": 4, "columns": 6, "seats": 24}
    assert [h["code"] for h in ok("hall", "list")] == ["H1"]
    assert ok("show", "add", "FILM1", "The River", "--grade", "B", "--minutes", "110")["grade"] == "B"
    assert [p["code"] for p in ok("show", "list")] == ["FILM1"]
    ok("tickettype", "add", "ADULT", "Adult")
    ok("tickettype", "add", "GROUP", "Group", "--category", "group", "--min-quantity", "10")
    assert [t["min_quantity"] for t in ok("tickettype", "list")] == [1, 10]
    ok("price", "plan", "STD", "Standard prices")
    assert ok("price", "set", "STD", "ADULT", "50")["price"] == 5000
    assert ok("price", "set", "STD", "ADULT", "80.00", "--zone", "VIP")["price"] == 8000
    ok("price", "set", "STD", "GROUP", "35.5")
    assert {(p["zone"], p["ticket_type"], p["price"]) for p in ok("price", "list", "STD")} == {
        ("*", "ADULT", 5000), ("VIP", "ADULT", 8000), ("*", "GROUP", 3550)}
    session = ok("session", "add", "S1", "--show", "FILM1", "--hall", "H1", "--plan", "STD",
                 "--starts", "2026-11-20 13:00", "--state", "on_sale")
    assert session["starts_at"].startswith("2026-11-20T05:00")  # 13:00 in Shanghai, kept in UTC
    assert ok("session", "state", "S1", "stopped")["state"] == "stopped"
    assert [s["code"] for s in ok("session", "list", "--day", "2026-11-20")] == ["S1"]

    offer = ok("offer", "add", "MATINEE", "--kind", "time_slot", "--keep-bp", "8000", "--start", "10:00",
               "--end", "17:00", "--weekdays", "4,5,6")
    assert (offer["multiplier_bp"], offer["weekdays"]) == (8000, "4,5,6")
    ok("offer", "add", "B2G1", "--kind", "buy_n_get_m", "--buy", "2", "--get", "1", "--types", "ADULT",
       "--combinable", "--from", "2026-11-01", "--until", "2026-11-30")
    bad = site.run("--json", "offer", "add", "HALF", "--kind", "time_slot", "--keep-bp", "4000", "--start", "10:00",
                   "--end", "12:00")
    assert bad.code == 1 and bad.json["error"] == "invalid_input"
    assert [(o["code"], o["active"]) for o in ok("offer", "list")] == [("B2G1", True), ("MATINEE", True)]
    assert ok("package", "add", "TEN", "Ten films", "--price", "400", "--entries", "10", "--shows", "FILM1")[
        "price"] == 40000
    assert [p["code"] for p in ok("package", "list")] == ["TEN"]
    combo = ok("combo", "add", "POPCORN", "Film and popcorn", "--type", "ADULT", "--price", "65",
               "--goods", "popcorn, cola", "--goods-value", "15.00")
    assert (combo["price"], combo["goods_value"]) == (6500, 1500)
    assert [c["code"] for c in ok("combo", "list")] == ["POPCORN"]

    quote = ok("session", "quote", "S1", "--line", "ADULT:VIP", "--line", "ADULT::2", "--combo", "POPCORN",
               "--tier-bp", "1000")
    # matinee 8 zhe on the three adults, then buy 2 get 1 (combinable) frees one 40.00 adult, then gold
    assert [(line["kind"], line["total"]) for line in quote["lines"]] == [
        ("ticket", 5760), ("ticket", 3600), ("combo_ticket", 4500), ("combo_goods", 1350)]
    assert quote["total"] == 15210 and quote["ok"] is True
    assert ok("offer", "disable", "MATINEE")["active"] is False
    assert ok("session", "quote", "S1", "--line", "ADULT")["total"] == 5000
    assert ok("offer", "enable", "MATINEE")["active"] is True
    group = ok("session", "quote", "S1", "--line", "GROUP::8")
    assert group["ok"] is False and group["refusals"][0]["code"] == "group_minimum"

    password = {"VENUE_SUITE_NEW_PASSWORD": "cashier-pass-1"}
    assert site.run("user", "add", "cashier", "--role", "salesperson", env=password).code == 0
    as_cashier = {"VENUE_SUITE_PASSWORD": "cashier-pass-1"}
    assert ok("--user", "cashier", "session", "quote", "S1", "--line", "ADULT", env=as_cashier)["total"] == 4000
    denied = site.run("--json", "--user", "cashier", "offer", "disable", "MATINEE", env=as_cashier)
    assert denied.code == 1 and denied.json["error"] == "permission_denied"
    text = site.run("offer", "list")
    assert text.code == 0 and "MATINEE" in text.out
    audit = site.run("--json", "audit", "verify")
    assert audit.code == 0, audit.out
    assert json.loads(site.run("--json", "offer", "list").out)[1]["active"] is True
