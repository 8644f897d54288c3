"""The card wallet plugin on SQLite and the real PostgreSQL server: migrations, use cases, CLI."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

import plugins.wallet as wallet_plugin
from plugins.wallet.cli import yuan_to_fen
from plugins.wallet.models import WalletBase
from plugins.wallet.services import CardRefused, InsufficientBalance, WalletService
from suite.audit.models import AuditEvent
from suite.db.migrate import current_revisions, head_revisions, pending, upgrade
from suite.errors import Conflict, InvalidInput, PermissionDenied
from suite.identity.actor import Actor
from suite.identity.service import IdentityService
from suite.ledger import check
from suite.ledger.models import Entry
from tests.sites import Site

MIGRATIONS = [wallet_plugin.MIGRATIONS]
MODELS = ("plugins.wallet.models",)
ALL_WALLET = frozenset(p.id for p in wallet_plugin.PERMISSIONS)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def wallet_engine(engine):
    """The host's schema (``engine``) plus the wallet's branch."""
    upgrade(engine, MIGRATIONS, MODELS)
    return engine


@pytest.fixture
def service(wallet_engine):
    from suite.db.uow import UnitOfWorkFactory

    uow = UnitOfWorkFactory(wallet_engine)
    return WalletService(uow, IdentityService(uow), venue_code="HQ")


def actor(*permissions: str, name: str = "cashier") -> Actor:
    return Actor(user_id=uuid.uuid4(), username=name, display_name=name,
                 permissions=frozenset(permissions or ALL_WALLET))


def key() -> str:
    return f"test-{uuid.uuid4()}"


def ledger_ok(service: WalletService) -> None:
    with service._uow.read() as uow:
        result = check(uow.session)
    assert result.ok, result.problems


def entries(service: WalletService) -> int:
    with service._uow.read() as uow:
        return uow.session.scalar(select(func.count()).select_from(Entry))


@pytest.fixture
def gold(service):
    """A gold value card type (10% off, +10% bonus, 20.00 deposit) and card G1 issued."""
    a = actor()
    service.create_card_type(a, code="GOLD", name="Gold", discount_bp=1000, bonus_bp=1000, deposit=2000,
                             points_per_yuan=1)
    service.issue(a, card_no="G1", type_code="GOLD", key=key(), holder_name="Li Lei")
    return a


# ---------------------------------------------------------------- migrations


def test_wallet_branch_matches_models_and_is_idempotent(wallet_engine) -> None:
    with wallet_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, WalletBase.metadata)
    # the host's tables are not in the wallet's metadata: only differences on wallet tables count
    ours = [d for d in diffs if "wallet_" in repr(d)]
    assert ours == []
    # the recorded heads are the script's heads, so a PostgreSQL app does not ask for an upgrade
    assert current_revisions(wallet_engine) == head_revisions(wallet_engine, MIGRATIONS) == [
        "0002_host_gate_emergency", "wallet_0002"]
    assert not pending(wallet_engine, MIGRATIONS)
    assert upgrade(wallet_engine, MIGRATIONS, MODELS) == ["0002_host_gate_emergency", "wallet_0002"]
    assert {"wallet_card_types", "wallet_cards", "wallet_card_events"} <= set(inspect(wallet_engine).get_table_names())


# ---------------------------------------------------------------- use cases


def test_issue_opens_wallets_and_takes_the_deposit(service, gold) -> None:
    card = service.query(gold, "G1")
    assert card["status"] == "active" and card["type"] == "GOLD" and card["holder_name"] == "Li Lei"
    assert card["balances"] == {"main": 0, "gift": 0, "points": 0, "counts": 0, "deposit": 2000}
    assert card["expires_on"] == (dt.date.today() + dt.timedelta(days=365)).isoformat()
    ledger_ok(service)


def test_top_up_with_bonus_consume_replay_and_refusals(service, gold) -> None:
    k = key()
    topped = service.top_up(gold, card_no="G1", key=k, amount=10000)
    assert topped["bonus"] == 1000
    assert topped["balances"]["main"] == 10000 and topped["balances"]["gift"] == 1000
    before = entries(service)
    again = service.top_up(gold, card_no="G1", key=k, amount=10000)
    assert again["replayed"] and again["balances"]["main"] == 10000 and entries(service) == before

    c = key()
    # 30.00 list, 10% off = 27.00: the gift wallet pays first (10.00), main the rest; points on main
    spent = service.consume(gold, card_no="G1", key=c, amount=3000)
    assert (spent["discount"], spent["charged"], spent["paid_gift"], spent["paid_main"]) == (300, 2700, 1000, 1700)
    assert spent["points_earned"] == 17
    assert spent["balances"]["main"] == 8300 and spent["balances"]["gift"] == 0 and spent["balances"]["points"] == 17
    before = entries(service)
    replay = service.consume(gold, card_no="G1", key=c, amount=3000)
    assert replay["replayed"] and replay["charged"] == 2700 and replay["balances"]["main"] == 8300
    assert entries(service) == before

    with pytest.raises(InsufficientBalance):
        service.consume(gold, card_no="G1", key=key(), amount=100000)
    assert service.query(gold, "G1")["balances"]["main"] == 8300 and entries(service) == before
    with pytest.raises(InvalidInput):
        service.consume(gold, card_no="G1", key=key(), amount=12.5)  # type: ignore[arg-type]
    history = service.history(gold, "G1")
    assert [e["action"] for e in history] == ["issue", "topup", "consume"]
    assert history[-1]["amount"] == -2700
    ledger_ok(service)


def test_blocked_expired_and_foreign_venue_cards_are_refused(service, gold) -> None:
    service.top_up(gold, card_no="G1", key=key(), amount=5000)
    service.block(gold, "G1", reason="lost on the bus")
    before = entries(service)
    with pytest.raises(CardRefused, match="blacklisted"):
        service.consume(gold, card_no="G1", key=key(), amount=100)
    with pytest.raises(CardRefused):
        service.top_up(gold, card_no="G1", key=key(), amount=100)
    assert entries(service) == before
    service.unblock(gold, "G1")
    assert service.consume(gold, card_no="G1", key=key(), amount=100)["charged"] == 90

    service.create_card_type(gold, code="PARK", name="Park only", accepted_venues="PARK1,PARK2")
    service.issue(gold, card_no="P1", type_code="PARK", key=key())
    service.top_up(gold, card_no="P1", key=key(), amount=1000)
    with pytest.raises(CardRefused, match="not accepted"):
        service.consume(gold, card_no="P1", key=key(), amount=100)

    later = WalletService(service._uow, service._identity, venue_code="HQ",
                          clock=lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400))
    with pytest.raises(CardRefused, match="expired"):
        later.consume(gold, card_no="G1", key=key(), amount=100)
    assert later.query(gold, "G1")["status"] == "expired"
    renewed = later.renew(gold, "G1")
    assert renewed["status"] == "active"
    assert later.consume(gold, card_no="G1", key=key(), amount=100)["charged"] == 90
    ledger_ok(service)


def test_replace_a_lost_card_moves_every_balance(service, gold) -> None:
    service.top_up(gold, card_no="G1", key=key(), amount=10000)
    service.consume(gold, card_no="G1", key=key(), amount=1000)
    with pytest.raises(CardRefused):
        service.replace(gold, "G1", new_card_no="G2", key=key())  # not reported lost
    service.block(gold, "G1")
    cashier = actor("wallet.issue", "wallet.topup", "wallet.consume", "wallet.view")
    with pytest.raises(PermissionDenied):
        service.replace(cashier, "G1", new_card_no="G2", key=key())
    new = service.replace(gold, "G1", new_card_no="G2", key=key(), new_uid="04AABBCC")
    assert new["status"] == "active" and new["holder_name"] == "Li Lei" and new["uid"] == "04AABBCC"
    assert new["balances"] == {"main": 10000, "gift": 100, "points": 0, "counts": 0, "deposit": 2000}
    old = service.query(gold, "G1")
    assert old["status"] == "lost" and set(old["balances"].values()) == {0}
    assert service.consume(gold, card_no="G2", key=key(), amount=100)["charged"] == 90
    with pytest.raises(CardRefused, match="blacklisted"):
        service.consume(gold, card_no="G1", key=key(), amount=100)
    ledger_ok(service)


def test_count_cards_need_the_minimum_top_up(service) -> None:
    a = actor()
    service.create_card_type(a, code="GROUP", name="Group ticket", kind="count", min_count_topup=10)
    service.issue(a, card_no="T1", type_code="GROUP", key=key())
    with pytest.raises(InvalidInput, match="at least 10"):
        service.top_up(a, card_no="T1", key=key(), counts=9, amount=9000)
    assert service.top_up(a, card_no="T1", key=key(), counts=10, amount=9000)["balances"]["counts"] == 10
    assert service.consume(a, card_no="T1", key=key(), counts=3)["balances"]["counts"] == 7
    with pytest.raises(InsufficientBalance):
        service.consume(a, card_no="T1", key=key(), counts=8)
    with pytest.raises(CardRefused):
        service.consume(a, card_no="T1", key=key(), amount=100)
    ledger_ok(service)


def test_refund_pays_main_and_deposit_and_forfeits_the_gift(service, gold) -> None:
    service.top_up(gold, card_no="G1", key=key(), amount=10000)
    # 20.00 at 10% off = 18.00: gift pays its 10.00, main 8.00 (8 points)
    service.consume(gold, card_no="G1", key=key(), amount=2000)
    service.top_up(gold, card_no="G1", key=key(), amount=1000)  # main 10200, gift 100
    refund = service.refund(actor("wallet.refund", name="manager"), "G1", key=key())
    assert refund == {"card_no": "G1", "refunded": 10200 + 2000, "main": 10200, "deposit": 2000,
                      "gift_forfeited": 100, "points_forfeited": 8, "counts_forfeited": 0, "status": "returned"}
    card = service.query(gold, "G1")
    assert card["status"] == "returned"
    assert card["balances"] == {"main": 0, "gift": 0, "points": 0, "counts": 0, "deposit": 0}
    with pytest.raises(CardRefused):
        service.consume(gold, card_no="G1", key=key(), amount=100)
    with pytest.raises(Conflict):
        service.issue(gold, card_no="G1", type_code="GOLD", key=key())  # returned: recycle first
    assert service.recycle(gold, "G1")["status"] == "recycled"
    reissued = service.issue(gold, card_no="G1", type_code="GOLD", key=key(), holder_name="Wang")
    assert reissued["holder_name"] == "Wang" and reissued["balances"]["deposit"] == 2000
    assert [e["action"] for e in service.history(gold, "G1")] == ["issue"]
    assert [e["action"] for e in service.history(gold, "G1", all_holders=True)][:2] == ["issue", "topup"]
    with service._uow.read() as uow:
        actions = uow.session.scalars(select(AuditEvent.action).where(AuditEvent.target == "G1")).all()
    assert {"wallet.issue", "wallet.topup", "wallet.consume", "wallet.refund"} <= set(actions)
    ledger_ok(service)


def test_refund_needs_its_permission_and_the_denial_is_audited(service, gold) -> None:
    service.top_up(gold, card_no="G1", key=key(), amount=1000)
    cashier = actor("wallet.issue", "wallet.topup", "wallet.consume", "wallet.view")
    with pytest.raises(PermissionDenied):
        service.refund(cashier, "G1", key=key())
    with pytest.raises(PermissionDenied):
        service.block(cashier, "G1")
    assert service.query(gold, "G1")["status"] == "active"
    with service._uow.read() as uow:
        denied = uow.session.scalars(select(AuditEvent.target).where(
            AuditEvent.action == "permission.denied")).all()
    assert "wallet.refund" in denied
    ledger_ok(service)


def test_yuan_parsing_never_uses_floats() -> None:
    assert [yuan_to_fen(v) for v in ("100", "100.5", "100.05", "0.01")] == [10000, 10050, 10005, 1]
    for bad in ("1.234", "-1", "abc", "1e3", ""):
        with pytest.raises(InvalidInput):
            yuan_to_fen(bad)


# ---------------------------------------------------------------- CLI


def test_cli_round_trip_and_refused_refund(site: Site) -> None:
    def ok(*args: str, env: dict[str, str] | None = None):
        result = site.run("--json", *args, env=env)
        assert result.code == 0, result.err
        return result.json

    added = ok("cardtype", "add", "GOLD", "Gold", "--discount-bp", "1000", "--bonus-bp", "1000", "--deposit", "20")
    assert added["deposit"] == 2000
    assert [t["code"] for t in ok("cardtype", "list")] == ["GOLD"]
    assert ok("card", "issue", "0001", "--type", "GOLD", "--holder", "Han Meimei")["balances"]["deposit"] == 2000
    topped = ok("card", "topup", "0001", "--amount", "100.00", "--key", "k-top-1")
    assert (topped["balances"]["main"], topped["balances"]["gift"]) == (10000, 1000)
    assert ok("card", "topup", "0001", "--amount", "100.00", "--key", "k-top-1")["replayed"] is True
    assert ok("card", "consume", "0001", "--amount", "30")["charged"] == 2700
    short = site.run("--json", "card", "consume", "0001", "--amount", "1000")
    assert short.code == 1 and short.json["error"] == "insufficient_balance"
    assert ok("card", "query", "0001")["balances"]["main"] == 8300
    assert [e["action"] for e in ok("card", "history", "0001")] == ["issue", "topup", "consume"]

    password = {"VENUE_SUITE_NEW_PASSWORD": "cashier-pass-1"}
    assert site.run("user", "add", "cashier", "--role", "salesperson", env=password).code == 0
    as_cashier = {"VENUE_SUITE_PASSWORD": "cashier-pass-1"}
    assert ok("--user", "cashier", "card", "consume", "0001", "--amount", "1", env=as_cashier)["charged"] == 90
    denied = site.run("--json", "--user", "cashier", "card", "refund", "0001", env=as_cashier)
    assert denied.code == 1 and denied.json["error"] == "permission_denied"
    assert ok("card", "block", "0001")["status"] == "lost"
    blocked = site.run("--json", "card", "consume", "0001", "--amount", "1")
    assert blocked.code == 1 and blocked.json["error"] == "card_refused"
    assert ok("card", "unblock", "0001")["status"] == "active"
    assert ok("card", "renew", "0001", "--days", "30")["status"] == "active"
    assert ok("card", "block", "0001")["status"] == "lost"
    replaced = ok("card", "replace", "0001", "--new", "0002")
    assert replaced["balances"]["main"] == 8210 and replaced["status"] == "active"
    assert ok("card", "block", "0002")["status"] == "lost"
    refunded = ok("card", "refund", "0002")  # a lost card is returned and refunded
    assert (refunded["main"], refunded["deposit"], refunded["gift_forfeited"]) == (8210, 2000, 0)
    assert ok("card", "recycle", "0002")["status"] == "recycled"
    assert ok("card", "issue", "0002", "--type", "GOLD", "--holder", "Wang")["holder_name"] == "Wang"
    assert [e["action"] for e in ok("card", "history", "0002")] == ["issue"]
    assert [e["action"] for e in ok("card", "history", "0002", "--all")] == [
        "replacement", "block", "refund", "recycle", "issue"]
    checked = site.run("--json", "ledger", "check")
    assert checked.code == 0, checked.out


# ---------------------------------------------------------------- properties

OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("topup"), st.integers(1, 50_000)),
    st.tuples(st.just("consume"), st.integers(1, 30_000)),
    st.tuples(st.just("replay"), st.just(0)),
    st.tuples(st.just("block"), st.just(0)),
    st.tuples(st.just("unblock"), st.just(0)),
), max_size=12)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_random_sequences_keep_the_books(service, gold, operations) -> None:
    """Whatever happens: every entry balances, no wallet below 0, replays change nothing, and
    refund + forfeit + spent = top-ups + bonuses."""
    card_no = f"R{uuid.uuid4().hex[:12]}"
    service.issue(gold, card_no=card_no, type_code="GOLD", key=key())
    topped = bonuses = spent = 0
    last: tuple[str, str, int] | None = None
    for name, amount in operations:
        try:
            if name == "topup":
                k = key()
                result = service.top_up(gold, card_no=card_no, key=k, amount=amount)
                topped, bonuses, last = topped + amount, bonuses + result["bonus"], ("topup", k, amount)
            elif name == "consume":
                k = key()
                spent += service.consume(gold, card_no=card_no, key=k, amount=amount)["charged"]
                last = ("consume", k, amount)
            elif name == "replay" and last is not None:
                before = service.query(gold, card_no)["balances"]
                method = service.top_up if last[0] == "topup" else service.consume
                assert method(gold, card_no=card_no, key=last[1], amount=last[2])["replayed"]
                assert service.query(gold, card_no)["balances"] == before
            elif name == "block":
                service.block(gold, card_no)
            elif name == "unblock":
                service.unblock(gold, card_no)
        except (InsufficientBalance, CardRefused):
            pass
        balances = service.query(gold, card_no)["balances"]
        assert min(balances.values()) >= 0
        assert balances["main"] + balances["gift"] == topped + bonuses - spent
    refund = service.refund(gold, card_no, key=key())
    assert refund["main"] + refund["gift_forfeited"] + spent == topped + bonuses
    assert refund["deposit"] == 2000
    ledger_ok(service)


def test_concurrent_consumes_on_one_card_lose_no_update(service, gold) -> None:
    """4 threads debit one card (more than it holds): every success is in the balance, none below 0."""
    from concurrent.futures import ThreadPoolExecutor

    service.top_up(gold, card_no="G1", key=key(), amount=10_000)  # 100.00 main

    def worker(_n: int) -> int:
        charged = 0
        for _ in range(8):
            try:
                charged += service.consume(gold, card_no="G1", key=key(), amount=500)["charged"]
            except InsufficientBalance:
                pass
        return charged

    with ThreadPoolExecutor(4) as pool:
        total = sum(pool.map(worker, range(4)))
    balances = service.query(gold, "G1")["balances"]
    assert total == 11_000 - balances["main"] - balances["gift"]  # main plus the 10% bonus
    assert 0 <= balances["main"] < 450  # 32 tries of 4.50 against 100.00: it ran dry
    ledger_ok(service)
