"""Offline consumption (W6) with real parts: the card lab's pcscd and virtual reader, a real
PostgreSQL server of this test's own that is stopped and started again, SQLite spools.

While the database is down a terminal keeps taking card payments within the card's offline
cap and its own limits; the chip is written first, then the spool; the upload posts each
payment once, reports forks and over-spends, and replays harmlessly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import plugins.wallet as wallet_plugin
from devices.cardformat import CardFormat, CardRemoved
from plugins.wallet.core import CardRefused, InsufficientBalance
from plugins.wallet.models import CardEvent, PurseRecord
from plugins.wallet.offline import SCHEMA_VERSION, CardTerminal, OfflineConsume, OfflineSpool, drain, upload_entry
from plugins.wallet.purse import PurseService
from plugins.wallet.settings import WalletSettings
from suite.db.engine import create_database_engine
from suite.db.migrate import upgrade
from suite.db.schema import create_schema
from suite.db.uow import UnitOfWorkFactory
from suite.identity.actor import Actor
from suite.identity.service import IdentityService
from tests.cardlab import LabHandle
from tests.plugins.conftest import (
    MAC_KEY, MASTER, actor, entries, key, ledger_ok, present, security, take_off,
)

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- the wallet


def make_purse(url: str, *, terminal: str = "T01", **settings: Any) -> PurseService:
    engine = create_database_engine(url)
    create_schema(engine)
    upgrade(engine, [wallet_plugin.MIGRATIONS], ("plugins.wallet.models",))
    uow = UnitOfWorkFactory(engine)
    return PurseService(uow, IdentityService(uow), card_format=CardFormat(MASTER, MAC_KEY), venue_code="HQ",
                        terminal_code=terminal, settings=WalletSettings(**settings))


@pytest.fixture
def sqlite_purse(tmp_path: Path) -> Iterator[PurseService]:
    purse = make_purse(f"sqlite:///{tmp_path / 'suite.db'}")
    yield purse
    purse._uow.engine.dispose()


def gold_card(purse: PurseService, a: Actor, lab: LabHandle, reader: Any, card_no: str, *, top_up: int = 10000,
              create_type: bool = True) -> Any:
    """A gold card (10 % off, 50.00 offline cap) personalised, issued and topped up on the reader."""
    if create_type:
        purse.create_card_type(a, code="GOLD", name="Gold", discount_bp=1000, offline_cap=5000)
    card = present(lab, reader)
    purse.init_card(a, card, card_no=card_no, type_code="GOLD", holder_name="Li Lei")
    purse.top_up_on_reader(a, card, key=key(), amount=top_up)
    return card


def total(purse: PurseService, card_no: str) -> int:
    balances = purse.query(actor(), card_no)["balances"]
    return int(balances["main"] + balances["gift"])


# ---------------------------------------------------------------- the spool file


def test_spool_schema_is_versioned_and_durable(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "wallet-offline.db"
    with OfflineSpool(path) as spool:
        assert spool.status()["entries"] == 0
    import sqlite3

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(Exception, match="newer version"):
        OfflineSpool(path)
    settings = WalletSettings(offline_spool="{data_dir}/queue.db")
    with OfflineSpool.for_settings(settings, tmp_path / "data") as spool:
        assert spool.path == tmp_path / "data" / "queue.db"


# ---------------------------------------------------------------- the database goes away


def test_offline_on_postgresql_caps_limits_drain_and_replay(lab, reader, own_pg, tmp_path) -> None:
    purse = make_purse(own_pg.create_database("offline"), offline_terminal_limit=8000, offline_max_entries=3)
    spool = OfflineSpool(tmp_path / "spool.db")
    terminal = CardTerminal(purse, spool)
    a = actor()
    card_a = gold_card(purse, a, lab, reader, "8800000201")                        # 100.00 each
    uid_a = card_a.uid_hex
    card_b = gold_card(purse, a, lab, reader, "8800000202", create_type=False)
    uid_b = card_b.uid_hex
    assert terminal.refresh()["cards"] == 2
    online = entries(purse)

    own_pg.pause()
    card_a = present(lab, reader, uid_a)
    first = terminal.consume(a, card_a, key="off-1", amount=3000)                # 10 % off: 27.00
    assert first["offline"] and first["charged"] == 2700 and first["purse"]["value"] == 7300
    assert terminal.consume(a, card_a, key="off-1", amount=3000)["replayed"]    # the same key: nothing new
    with pytest.raises(CardRefused) as capped:                                  # 27 + 27 > the 50.00 cap
        terminal.consume(a, card_a, key=key(), amount=3000)
    assert capped.value.details["reason"] == "offline_cap"
    assert capped.value.message == ("Card 8800000201 may spend 50.00 offline; 23.00 is left until the terminal "
                                    "is back online.")
    second = terminal.consume(a, card_a, key="off-2", amount=2000)              # 18.00: 45.00 in all
    assert second["purse"]["value"] == 5500
    card_b = present(lab, reader, uid_b)
    with pytest.raises(CardRefused) as limited:                                 # 45 + 36 > the terminal's 80.00
        terminal.consume(a, card_b, key=key(), amount=4000)
    assert limited.value.details["reason"] == "offline_limit"
    terminal.consume(a, card_b, key="off-3", amount=3000)                       # 72.00, 3 payments
    with pytest.raises(CardRefused) as full:                                    # a 4th payment: too many
        terminal.consume(a, card_b, key=key(), amount=100)
    assert full.value.details["reason"] == "offline_limit"
    assert terminal.status()["entries"] == 3 and terminal.status()["total"] == 7200

    own_pg.resume()
    # a crash between the post and the dequeue: the entry is posted, still queued
    upload_entry(purse, a, spool.entries()[0])
    report = terminal.drain(a)
    assert (report["posted"], report["replayed"], report["left"]) == (2, 1, 0)
    assert report["conflicts"] == [] and report["shortfalls"] == [] and report["held"] == []
    assert entries(purse) == online + 3
    assert total(purse, "8800000201") == 10000 - 4500 and total(purse, "8800000202") == 10000 - 2700
    ledger_ok(purse)
    with purse._uow.read() as uow:
        offline_events = uow.session.scalars(select(CardEvent).where(CardEvent.offline.is_(True))).all()
        assert sorted(-e.amount for e in offline_events) == [1800, 2700, 2700]
        sources = uow.session.scalars(select(PurseRecord.source).where(PurseRecord.source == "offline")).all()
        assert len(sources) == 3
    again = terminal.drain(a)                                                   # nothing left: nothing changes
    assert (again["posted"], again["replayed"], again["left"]) == (0, 0, 0) and entries(purse) == online + 3
    tapped = terminal.sync_on_tap(a, card_b)                                    # chip and server agree
    assert tapped["purse"]["in_step"] and not tapped["purse"]["written"] and tapped["purse"]["value"] == 7300
    spool.close()
    purse._uow.engine.dispose()


def test_card_pulled_during_an_offline_write_is_settled_by_the_retry(lab, reader, sqlite_purse, tmp_path) -> None:
    a = actor()
    card = gold_card(sqlite_purse, a, lab, reader, "8800000301")
    uid = card.uid_hex
    spool = OfflineSpool(tmp_path / "spool.db")
    with sqlite_purse._uow.read() as uow:
        spool.refresh(uow.session)
    stall = OfflineConsume(spool, sqlite_purse.card_format, venue_code="HQ", terminal_code="S01")
    lab.tear(after=4, apply=True)          # the value landed, its answer did not
    with pytest.raises(CardRemoved):
        stall.consume(a, card, key="torn", amount=1000)
    assert spool.status()["entries"] == 0
    card = present(lab, reader, uid)
    settled = stall.consume(a, card, key="torn", amount=1000)                   # the same key: no second debit
    assert settled["purse"]["value"] == 10000 - 900 and spool.status()["entries"] == 1
    assert CardFormat(MASTER, MAC_KEY).read(card).value == 9100
    report = drain(sqlite_purse, spool, a)
    assert report["posted"] == 1 and total(sqlite_purse, "8800000301") == 9100
    spool.close()


def test_terminal_tap_inspect_allowance_and_an_offline_retry(lab, reader, sqlite_purse, tmp_path) -> None:
    """What the cashier panel uses: the tap notes the card (and its type) in a fresh cache; the
    offline check of a card writes nothing and says what it may still pay offline; a retry of a
    payment taken offline stays offline once the database is back, and is posted once."""
    a = actor()
    card = gold_card(sqlite_purse, a, lab, reader, "8800000701")               # 100.00, cap 50.00
    spool = OfflineSpool(tmp_path / "counter.db")
    terminal = CardTerminal(sqlite_purse, spool)
    tapped = terminal.tap(a, card)
    assert tapped["offline"] is False and tapped["purse"]["in_step"] and not tapped["purse"]["written"]
    assert spool.card("8800000701") is not None and spool.card_type("GOLD") is not None
    seen = terminal.offline.inspect(a, card)
    assert seen["offline"] and seen["card_no"] == "8800000701" and seen["status"] == "active"
    assert seen["balances"] == {} and seen["purse"]["value"] == 10000 and seen["purse"]["counter"] == 1
    assert seen["allowance"] == {"kind": "value", "cap": 5000, "spent": 0, "left": 5000, "value": 10000}
    assert CardFormat(MASTER, MAC_KEY).read(card).counter == 1                  # nothing written

    paid = terminal.offline.consume(a, card, key="counter-1", amount=3000)     # taken while the database was away
    assert paid["offline"] and terminal.allowance("8800000701", paid["purse"]["value"])["left"] == 2300
    before = entries(sqlite_purse)
    again = terminal.consume(a, card, key="counter-1", amount=3000)            # the retry, the database back
    assert again["offline"] and again["replayed"] and entries(sqlite_purse) == before
    assert CardFormat(MASTER, MAC_KEY).read(card).value == 7300
    assert terminal.drain(a)["posted"] == 1 and total(sqlite_purse, "8800000701") == 7300
    assert terminal.tap(a, card)["purse"]["in_step"]
    ledger_ok(sqlite_purse)
    spool.close()


# ---------------------------------------------------------------- conflicts at upload


def test_two_terminals_admitting_the_same_counter_is_a_fork(lab, reader, sqlite_purse, tmp_path) -> None:
    """The card pays offline at stall 1; a magic copy of it, made before, pays at stall 2: both
    chips show the same next counter. The second upload reports the fork."""
    a = actor()
    card = gold_card(sqlite_purse, a, lab, reader, "8800000401")
    uid = card.uid_hex
    stalls = []
    for number in (1, 2):
        spool = OfflineSpool(tmp_path / f"stall{number}.db")
        with sqlite_purse._uow.read() as uow:
            spool.refresh(uow.session)
        stalls.append((spool, OfflineConsume(spool, sqlite_purse.card_format, venue_code="HQ",
                                             terminal_code=f"S{number}")))
    take_off(lab, reader)
    lab.clone(uid, magic=True)
    card = present(lab, reader, uid)
    one = stalls[0][1].consume(a, card, key="stall-1", amount=2000)
    clone = present(lab, reader, uid, name=uid + ".magic")
    two = stalls[1][1].consume(a, clone, key="stall-2", amount=3000)
    assert one["purse"]["counter"] == two["purse"]["counter"] == 2
    assert one["purse"]["fingerprint"] != two["purse"]["fingerprint"]

    first = drain(sqlite_purse, stalls[0][0], a)
    assert first["posted"] == 1 and first["conflicts"] == []
    second = drain(sqlite_purse, stalls[1][0], a)
    assert second["posted"] == 1 and second["left"] == 0
    (conflict,) = second["conflicts"]
    assert (conflict["card_no"], conflict["reason"], conflict["counter"]) == ("8800000401", "fork", 2)
    assert sqlite_purse.query(a, "8800000401")["status"] == "lost"
    assert "wallet.clone_detected" in [e["action"] for e in security(sqlite_purse, "8800000401")]
    # both payments were handed out against the card: both are posted, the floor holds
    assert total(sqlite_purse, "8800000401") == 10000 - 1800 - 2700
    ledger_ok(sqlite_purse)
    for spool, _stall in stalls:
        spool.close()


def test_more_offline_spend_than_the_balance_posts_to_the_floor(lab, reader, sqlite_purse, tmp_path) -> None:
    a = actor()
    card = gold_card(sqlite_purse, a, lab, reader, "8800000501")
    spool = OfflineSpool(tmp_path / "stall.db")
    with sqlite_purse._uow.read() as uow:
        spool.refresh(uow.session)
    stall = OfflineConsume(spool, sqlite_purse.card_format, venue_code="HQ", terminal_code="S01")
    stall.consume(a, card, key="stall-1", amount=5000)                          # 45.00 off the chip
    sqlite_purse.consume(a, card_no="8800000501", key=key(), amount=10000)      # 90.00 at a desk, by number
    report = drain(sqlite_purse, spool, a)
    (short,) = report["shortfalls"]
    assert (short["charged"], short["covered"], short["uncovered"]) == (4500, 1000, 3500)
    assert total(sqlite_purse, "8800000501") == 0
    assert sqlite_purse.query(a, "8800000501")["status"] == "lost"
    found = security(sqlite_purse, "8800000501")
    assert [e["action"] for e in found] == ["wallet.offline_shortfall"] and found[0]["uncovered"] == 3500
    ledger_ok(sqlite_purse)
    spool.close()


def test_offline_refusals_rollback_and_blacklist(lab, reader, sqlite_purse, tmp_path) -> None:
    a = actor()
    card = gold_card(sqlite_purse, a, lab, reader, "8800000601")
    uid = card.uid_hex
    old = lab.dump()
    spool = OfflineSpool(tmp_path / "stall.db")
    stall = OfflineConsume(spool, sqlite_purse.card_format, venue_code="HQ", terminal_code="S01")
    with pytest.raises(CardRefused) as unknown:                                 # nothing cached yet
        stall.consume(a, card, key=key(), amount=100)
    assert unknown.value.details["reason"] == "unknown_offline"
    with sqlite_purse._uow.read() as uow:
        spool.refresh(uow.session)
    stall.consume(a, card, key=key(), amount=1000)
    lab.restore(uid, old)                                     # rolled back to counter 1
    take_off(lab, reader)
    card = present(lab, reader, uid)
    with pytest.raises(CardRefused) as rolled:
        stall.consume(a, card, key=key(), amount=1000)
    assert rolled.value.details["detected"] == "rollback"
    with pytest.raises(CardRefused) as listed:                                  # blacklisted here at once
        stall.consume(a, card, key=key(), amount=1000)
    assert listed.value.details["reason"] == "blacklisted"
    report = drain(sqlite_purse, spool, a)                                      # and reported at the upload
    assert report["posted"] == 1 and report["alerts"] == [{"card_no": "8800000601", "reason": "rollback"}]
    assert sqlite_purse.query(a, "8800000601")["status"] == "lost"
    assert spool.status()["alerts"] == 0 and spool.blacklisted("8800000601", uid) == "lost"
    poor = gold_card(sqlite_purse, a, lab, reader, "8800000602", top_up=1000, create_type=False)  # 10.00
    with sqlite_purse._uow.read() as uow:
        spool.refresh(uow.session)
    with pytest.raises(InsufficientBalance):                                    # 18.00 after the discount
        stall.consume(a, poor, key=key(), amount=2000)
    assert CardFormat(MASTER, MAC_KEY).read(poor).value == 1000 and spool.status()["entries"] == 0
    spool.close()


# ---------------------------------------------------------------- translations
