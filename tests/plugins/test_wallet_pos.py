"""The wallet at the POS, on SQLite and PostgreSQL: acceptance (venue, merchant, terminal group,
the POS's card types), card categories, the discount engine with rules from the database, the
paying order, points redemption, quotes, card type editing and settlement prices, and the
upgrade of a wallet_0001 database."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, text

import plugins.wallet as wallet_plugin
from plugins.wallet.services import CardRefused, InsufficientBalance, WalletService
from plugins.wallet.settings import WalletSettings, parse_settings
from suite.audit.models import AuditEvent
from suite.db.migrate import upgrade
from suite.db.uow import UnitOfWorkFactory
from suite.errors import ConfigError, InvalidInput
from suite.identity.actor import Actor
from suite.identity.service import IdentityService
from suite.ledger import check
from tests.sites import Site

MIGRATIONS = [wallet_plugin.MIGRATIONS]
MODELS = ("plugins.wallet.models",)
ALL = frozenset(p.id for p in wallet_plugin.PERMISSIONS)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def actor() -> Actor:
    return Actor(user_id=uuid.uuid4(), username="cashier", display_name="cashier", permissions=ALL)


def key() -> str:
    return f"pos-{uuid.uuid4()}"


def local(hour: int, minute: int = 0, day: int = 20) -> dt.datetime:
    """A clock showing that wall-clock time in Shanghai (Friday 20 November 2026 by default)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.timezone.utc)


@pytest.fixture
def uow(engine) -> UnitOfWorkFactory:
    upgrade(engine, MIGRATIONS, MODELS)
    return UnitOfWorkFactory(engine)


def pos(uow: UnitOfWorkFactory, *, at: dt.datetime | None = None, venue: str = "HQ", **settings: object) -> WalletService:
    clock = (lambda: at) if at is not None else (lambda: dt.datetime.now(dt.timezone.utc))
    return WalletService(uow, IdentityService(uow), venue_code=venue, terminal_code="T01",
                         settings=WalletSettings(**settings), clock=clock)  # type: ignore[arg-type]


@pytest.fixture
def admin(uow) -> WalletService:
    service = pos(uow)
    a = actor()
    service.create_card_type(a, code="GOLD", name="Gold", discount_bp=1000, bonus_bp=1000, points_per_yuan=1,
                             redeem_points_per_unit=100, redeem_fen_per_unit=100, redeem_cap_bp=5000)
    service.issue(a, card_no="G1", type_code="GOLD", key=key(), uid="04a1b2c3")
    service.top_up(a, card_no="G1", key=key(), amount=10000)  # main 100.00, gift 10.00
    return service


def ledger_clean(uow: UnitOfWorkFactory) -> None:
    with uow.read() as unit:
        assert check(unit.session).ok


def test_the_pos_must_match_the_cards_acceptance(uow, admin) -> None:
    a = actor()
    admin.edit_card_type(a, "GOLD", accepted_merchants="FOOD1,FOOD2", accepted_terminal_groups="food")
    with pytest.raises(CardRefused, match="not accepted"):
        pos(uow, merchant="RIDES", terminal_group="food").consume(a, card_no="G1", key=key(), amount=100)
    with pytest.raises(CardRefused, match="not accepted"):
        pos(uow, merchant="FOOD1", terminal_group="rides").consume(a, card_no="G1", key=key(), amount=100)
    # the POS may also take only some card types
    with pytest.raises(CardRefused, match="not accepted"):
        pos(uow, merchant="FOOD1", terminal_group="food", accepted_types=("SILVER",)).consume(
            a, card_no="G1", key=key(), amount=100)
    paid = pos(uow, merchant="FOOD1", terminal_group="food").consume(a, card_no="G1", key=key(), amount=100)
    assert paid["charged"] == 90
    # top-ups are taken anywhere in the chain
    assert pos(uow, merchant="RIDES").top_up(a, card_no="G1", key=key(), amount=100)["amount"] == 100
    history = admin.history(a, "G1")
    assert history[-2]["action"] == "consume"
    ledger_clean(uow)


def test_staff_and_free_cards(uow, admin) -> None:
    a = actor()
    admin.create_card_type(a, code="STAFF", name="Operator", category="operator")
    admin.issue(a, card_no="S1", type_code="STAFF", key=key())
    with pytest.raises(CardRefused, match="staff card"):
        admin.top_up(a, card_no="S1", key=key(), amount=100)
    admin.create_card_type(a, code="VIP", name="Free pass", category="free")
    admin.issue(a, card_no="F1", type_code="VIP", key=key())
    free = admin.consume(a, card_no="F1", key=key(), amount=5000)
    assert (free["charged"], free["list_price"], free["entry_id"]) == (0, 5000, None)
    assert admin.history(a, "F1")[-1]["details"]["free"] is True


def test_time_slot_and_film_grade_rules_from_the_database(uow, admin) -> None:
    a = actor()
    admin.add_rule(a, rule_id="EVENING", kind="time_slot", multiplier_bp=8000, start="18:00", end="22:00")
    admin.add_rule(a, rule_id="GRADE-B", kind="film_grade", multiplier_bp=7000, film_grades="B")
    with pytest.raises(InvalidInput):
        admin.add_rule(a, rule_id="TOO-MUCH", kind="time_slot", multiplier_bp=4000, start="10:00", end="11:00")
    with pytest.raises(InvalidInput):
        admin.add_rule(a, rule_id="NO-TIMES", kind="time_slot", multiplier_bp=8000)
    evening = pos(uow, at=local(19, 30))
    # 50.00 at 19:30 local: the evening slot keeps 80% (40.00), gold 10% off: 36.00
    assert evening.quote(a, card_no="G1", amount=5000)["charged"] == 3600
    assert pos(uow, at=local(17, 59)).quote(a, card_no="G1", amount=5000)["charged"] == 4500
    # a grade-B film in the evening: the better single rule (70%) wins, then gold: 31.50
    line = {"sku": "film", "category": "ticket", "unit_price": 5000, "film_grade": "B"}
    assert evening.quote(a, card_no="G1", items=[line])["charged"] == 3150
    admin.set_rule_active(a, "GRADE-B", False)
    assert evening.quote(a, card_no="G1", items=[line])["charged"] == 3600
    assert [r["rule_id"] for r in admin.list_rules(a)] == ["EVENING", "GRADE-B"]
    paid = evening.consume(a, card_no="G1", key=key(), items=[line, {**line, "sku": "popcorn", "category": "food",
                                                                      "unit_price": 1000, "film_grade": None}])
    assert paid["list_price"] == 6000 and paid["charged"] == 3600 + 720
    assert [d["label"] for d in paid["lines"][0]["discounts"]] == ["EVENING", "tier"]
    ledger_clean(uow)


def test_gift_scope_paying_order_and_points_redemption(uow, admin) -> None:
    a = actor()
    admin.edit_card_type(a, "GOLD", gift_categories="food")
    ticket = {"sku": "t", "category": "ticket", "unit_price": 2000}
    snack = {"sku": "s", "category": "food", "unit_price": 1000}
    paid = admin.consume(a, card_no="G1", key=key(), items=[ticket, snack])  # 18.00 + 9.00
    assert (paid["paid_gift"], paid["paid_main"]) == (900, 1800)  # the gift pays only the snack
    assert paid["points_earned"] == 18
    admin.edit_card_type(a, "GOLD", pay_gift_first=False)
    paid = admin.consume(a, card_no="G1", key=key(), items=[snack])
    assert (paid["paid_gift"], paid["paid_main"]) == (0, 900)
    # redeem 100 points = 1.00 (whole units, at most the points held and half of the sale)
    redeemed = admin.consume(a, card_no="G1", key=key(), amount=1000, redeem_points=250)
    assert (redeemed["points_redeemed"], redeemed["paid_points"]) == (0, 0)  # 27 points: not one unit
    admin.top_up(a, card_no="G1", key=key(), amount=20000)
    admin.consume(a, card_no="G1", key=key(), amount=20000)  # earns 180 points
    points = admin.query(a, "G1")["balances"]["points"]
    redeemed = admin.consume(a, card_no="G1", key=key(), amount=1000, redeem_points=250)
    assert (redeemed["points_redeemed"], redeemed["paid_points"]) == (200, 200)
    assert redeemed["paid_main"] + redeemed["paid_gift"] == 900 - 200
    after = admin.query(a, "G1")["balances"]
    assert after["points"] == points - 200 + redeemed["points_earned"]
    ledger_clean(uow)


def test_insufficient_balance_quotes_the_shortfall(uow, admin) -> None:
    a = actor()
    quote = admin.quote(a, card_no="G1", amount=20000)  # 180.00 due, 110.00 held
    assert not quote["ok"] and quote["shortfall"] == 7000
    with pytest.raises(InsufficientBalance, match="70.00"):
        admin.consume(a, card_no="G1", key=key(), amount=20000)


def test_card_type_edit_is_audited_and_checked(uow, admin) -> None:
    a = actor()
    edited = admin.edit_card_type(a, "GOLD", discount_bp=1500, accepted_venues="PARK, HQ", offline_cap=5000)
    assert (edited["discount_bp"], edited["accepted_venues"], edited["offline_cap"]) == (1500, "HQ,PARK", 5000)
    with pytest.raises(InvalidInput):
        admin.edit_card_type(a, "GOLD", kind="count")
    with pytest.raises(InvalidInput):
        admin.edit_card_type(a, "GOLD", discount_bp=20000)
    with pytest.raises(InvalidInput):
        admin.edit_card_type(a, "GOLD", colour="red")
    with uow.read() as unit:
        details = unit.session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "wallet.cardtype.edit")).one()
    assert "\"before\"" in details and "1000" in details
    price = admin.set_settlement_price(a, "GOLD", "PARK", rate_bp=9000)
    assert price == {"type": "GOLD", "venue": "PARK", "unit_price": 0, "rate_bp": 9000}
    admin.set_settlement_price(a, "GOLD", "PARK", rate_bp=8500)
    listed = {t["code"]: t for t in admin.list_card_types(a)}
    assert listed["GOLD"]["settlement"] == {"PARK": {"unit_price": 0, "rate_bp": 8500}}


def test_find_card_by_chip_uid(uow, admin) -> None:
    a = actor()
    assert admin.find_card(a, uid="04A1B2C3")["card_no"] == "G1"
    assert admin.find_card(a, uid="04a1b2c3")["balances"]["gift"] == 1000


def test_expiry_uses_the_venues_local_date(uow, admin) -> None:
    a = actor()
    expires = dt.date.fromisoformat(admin.query(a, "G1")["expires_on"])
    last_day_evening = pos(uow, at=dt.datetime.combine(expires, dt.time(23, 30), SHANGHAI).astimezone(dt.timezone.utc))
    assert last_day_evening.consume(a, card_no="G1", key=key(), amount=100)["charged"] == 90
    next_morning = pos(uow, at=dt.datetime.combine(expires + dt.timedelta(days=1), dt.time(0, 30),
                                                   SHANGHAI).astimezone(dt.timezone.utc))
    with pytest.raises(CardRefused, match="expired"):
        next_morning.consume(a, card_no="G1", key=key(), amount=100)


def test_settings_are_checked() -> None:
    assert parse_settings({"merchant": "FOOD1", "accepted_types": ["GOLD"]}).takes("GOLD")
    for bad in ({"timezone": "Mars/Olympus"}, {"offline_terminal_limit": -1}, {"colour": "red"},
                {"accepted_types": "GOLD"}):
        with pytest.raises(ConfigError, match=r"\[plugins.wallet\]"):
            parse_settings(bad)


def test_a_wallet_0001_database_upgrades_with_its_cards(engine) -> None:
    upgrade(engine, MIGRATIONS, MODELS, target="wallet_0001")
    now = "2026-11-01 00:00:00"
    with engine.begin() as conn:
        type_id, card_id = uuid.uuid4(), uuid.uuid4()
        ids = {"t": type_id.hex if engine.dialect.name == "sqlite" else str(type_id),
               "c": card_id.hex if engine.dialect.name == "sqlite" else str(card_id)}
        conn.execute(text(
            "INSERT INTO wallet_card_types (id, code, name, kind, category, discount_bp, bonus_bp, validity_days, "
            "deposit, points_per_yuan, min_count_topup, accepted_venues, active, created_at, updated_at) VALUES "
            f"(:t, 'OLD', 'Old', 'value', 'stored_value', 0, 0, 365, 0, 0, 1, '', true, '{now}', '{now}')"), ids)
        conn.execute(text(
            "INSERT INTO wallet_cards (id, card_no, type_id, status, holder_name, holder_phone, counter, "
            f"created_at, updated_at) VALUES (:c, 'OLD1', :t, 'blank', '', '', 0, '{now}', '{now}')"), ids)
    upgrade(engine, MIGRATIONS, MODELS)
    uow = UnitOfWorkFactory(engine)
    service = pos(uow)
    a = actor()
    listed = {t["code"]: t for t in service.list_card_types(a)}
    assert listed["OLD"]["offline_cap"] == 10000 and listed["OLD"]["pay_gift_first"] is True
    service.issue(a, card_no="OLD1", type_code="OLD", key=key())
    service.top_up(a, card_no="OLD1", key=key(), amount=500)
    assert service.consume(a, card_no="OLD1", key=key(), amount=200)["charged"] == 200


def test_cli_card_types_rules_and_sale_lines(site: Site) -> None:
    def ok(*args: str):
        result = site.run("--json", *args)
        assert result.code == 0, result.err
        return result.json

    ok("cardtype", "add", "GOLD", "Gold", "--discount-bp", "1000", "--gift-categories", "food")
    edited = ok("cardtype", "edit", "GOLD", "--pay-main-first", "--offline-cap", "5000", "--name", "Gold tier")
    assert (edited["pay_gift_first"], edited["offline_cap"], edited["name"]) == (False, 5000, "Gold tier")
    assert ok("cardtype", "settle-price", "GOLD", "PARK", "--rate-bp", "9000")["rate_bp"] == 9000
    assert ok("cardtype", "rule", "add", "GB", "--kind", "film_grade", "--keep-bp", "7000",
              "--grades", "B")["film_grades"] == "B"
    bad = site.run("--json", "cardtype", "rule", "add", "X", "--kind", "film_grade", "--keep-bp", "3000",
                   "--grades", "B")
    assert bad.code == 1 and "50%" in bad.json["message"]
    assert [r["rule_id"] for r in ok("cardtype", "rule", "list")] == ["GB"]
    ok("card", "issue", "C1", "--type", "GOLD")
    ok("card", "topup", "C1", "--amount", "100")
    quoted = ok("card", "quote", "C1", "--item", "film:ticket:50:2:B", "--item", "cola:food:8")
    assert quoted["list_price"] == 10800 and quoted["charged"] == 6300 + 720
    paid = ok("card", "consume", "C1", "--item", "film:ticket:50:2:B", "--key", "sale-1")
    assert paid["charged"] == 6300 and paid["replayed"] is False
    assert ok("card", "consume", "C1", "--item", "film:ticket:50:2:B", "--key", "sale-1")["replayed"] is True
    with pytest.raises(SystemExit) as usage:  # argparse: a usage error exits 2 with the message
        site.run("--json", "card", "consume", "C1", "--item", "film:ticket")
    assert usage.value.code == 2
    disabled = ok("cardtype", "edit", "GOLD", "--disable")
    assert disabled["active"] is False
    refused = site.run("--json", "card", "issue", "C2", "--type", "GOLD")
    assert refused.code == 1
