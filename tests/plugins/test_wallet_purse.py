"""The purse on the chip with the server (W6, H7), through the whole stack: pyscard -> a real
pcscd -> vpcd -> the lab's virtual ACR122U -> an emulated MIFARE Classic 1K, on SQLite and the
real PostgreSQL server. Clones, restored dumps and tampered dumps are made with the lab's own
operations, as an attacker with cracked Crypto1 keys would."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from devices.cardformat import CardFormat, ForeignCard, TamperedCard
from plugins.wallet.core import CardRefused, InsufficientBalance
from plugins.wallet.models import Card, CardEvent, PurseRecord
from plugins.wallet.offline import OfflineConsume, OfflineSpool
from plugins.wallet.purse import PurseService, terminal_label
from suite.db.migrate import upgrade
from suite.errors import PermissionDenied
from suite.identity.actor import Actor
from suite.identity.service import IdentityService
from suite.ledger.models import Entry
from tests.plugins.conftest import (
    MAC_KEY, MASTER, actor, entries, key, ledger_ok, present, security, take_off, wait_card,
)

import plugins.wallet as wallet_plugin


# ---------------------------------------------------------------- the wallet


@pytest.fixture
def fmt() -> CardFormat:
    return CardFormat(MASTER, MAC_KEY)


@pytest.fixture
def wallet_engine(engine):
    upgrade(engine, [wallet_plugin.MIGRATIONS], ("plugins.wallet.models",))
    return engine


@pytest.fixture
def purse(wallet_engine, fmt) -> PurseService:
    from suite.db.uow import UnitOfWorkFactory

    uow = UnitOfWorkFactory(wallet_engine)
    return PurseService(uow, IdentityService(uow), card_format=fmt, venue_code="HQ", terminal_code="T01")


@pytest.fixture
def gold(purse) -> Actor:
    """A gold value type: 10 % off, +10 % top-up bonus, 50.00 offline cap."""
    a = actor()
    purse.create_card_type(a, code="GOLD", name="Gold", discount_bp=1000, bonus_bp=1000, offline_cap=5000)
    return a


def issued(purse: PurseService, a: Actor, card: Any, card_no: str, *, top_up: int = 10000) -> dict[str, Any]:
    """``card init`` then ``card issue`` (as the desk does), then a top-up with the card on the reader."""
    blank = purse.init_card(a, card, card_no=card_no, type_code="GOLD")
    assert blank["status"] == "blank" and blank["uid"] == card.uid_hex and blank["purse"]["counter"] == 0
    purse.issue(a, card_no=card_no, type_code="GOLD", key=key(), uid=card.uid_hex, holder_name="Li Lei")
    return purse.top_up_on_reader(a, card, key=key(), amount=top_up)


def records(purse: PurseService, card_no: str) -> list[tuple[int, str, int]]:
    with purse._uow.read() as uow:
        card_id = uow.session.scalar(select(Card.id).where(Card.card_no == card_no))
        rows = uow.session.scalars(select(PurseRecord).where(PurseRecord.card_id == card_id)
                                   .order_by(PurseRecord.counter)).all()
        return [(r.counter, r.source, r.value_after) for r in rows]


def blocked_with(purse: PurseService, card_no: str) -> str:
    """The reason of the card's last ``block`` event ('' when it is not blacklisted)."""
    with purse._uow.read() as uow:
        card = uow.session.scalars(select(Card).where(Card.card_no == card_no)).one()
        if card.status != "lost":
            return ""
        event = uow.session.scalars(select(CardEvent).where(CardEvent.card_id == card.id, CardEvent.action == "block")
                                    .order_by(CardEvent.at.desc())).first()
        return json.loads(event.details)["reason"] if event else ""


# ---------------------------------------------------------------- online


def test_online_consume_commits_then_writes_the_purse(lab, reader, purse, gold, fmt) -> None:
    card = present(lab, reader)
    topped = issued(purse, gold, card, "8800000001")
    # 100.00 + 10 % bonus: the chip holds main + gift
    assert topped["purse"]["written"] and topped["purse"]["value"] == 11000 and topped["purse"]["counter"] == 1
    spent = purse.consume_on_reader(gold, card, key=key(), amount=3000, device="reader-1")
    assert spent["charged"] == 2700 and not spent["replayed"]
    balances = spent["balances"]
    assert spent["purse"]["value"] == balances["main"] + balances["gift"] == 8300
    assert spent["purse"]["counter"] == 2 and spent["purse"]["in_step"]
    state = fmt.read(card)
    assert (state.value, state.counter, state.last.terminal) == (8300, 2, terminal_label("HQ", "T01"))
    assert records(purse, "8800000001") == [(0, "issue", 0), (1, "online", 11000), (2, "online", 8300)]
    with purse._uow.read() as uow:
        row = uow.session.scalars(select(Card).where(Card.card_no == "8800000001")).one()
        assert (row.counter, row.purse_fingerprint) == (2, state.fingerprint)
        last = uow.session.scalars(select(PurseRecord).where(PurseRecord.counter == 2,
                                                             PurseRecord.card_id == row.id)).one()
        assert str(last.entry_id) == spent["entry_id"]
    ledger_ok(purse)


def test_tap_syncs_after_a_consume_by_number_and_after_a_pulled_card(lab, reader, purse, gold, fmt) -> None:
    card = present(lab, reader)
    issued(purse, gold, card, "8800000002")
    # at the desk without a reader: only the server changes
    by_number = purse.consume(gold, card_no="8800000002", key=key(), amount=1000)
    assert by_number["balances"]["main"] + by_number["balances"]["gift"] == 10100
    assert fmt.read(card).value == 11000
    tapped = purse.sync_on_tap(gold, card)
    assert tapped["purse"]["written"] and tapped["purse"]["value"] == 10100 and tapped["purse"]["change"] == -900
    assert records(purse, "8800000002")[-1] == (2, "sync", 10100)
    assert not purse.sync_on_tap(gold, card)["purse"]["written"]  # in step: nothing to write

    # the card leaves the reader during the purse write: the payment stands, the next tap syncs
    lab.tear(after=1)
    before = entries(purse)
    paid = purse.consume_on_reader(gold, card, key=key(), amount=2000)
    assert entries(purse) == before + 1 and paid["charged"] == 1800
    assert not paid["purse"]["written"] and "tap the card again" in paid["purse"]["notice"]
    uid = card.uid_hex
    card = present(lab, reader, uid)
    tapped = purse.sync_on_tap(gold, card)
    assert tapped["purse"]["written"] and tapped["purse"]["value"] == 8300 == (
        tapped["balances"]["main"] + tapped["balances"]["gift"])

    # this time the value landed but its answer did not: the chip is one write ahead of the
    # records; the write was online (its entry came first), so the next tap accounts for it
    lab.tear(after=4, apply=True)
    paid = purse.consume_on_reader(gold, card, key=key(), amount=1000)
    assert not paid["purse"]["written"]
    card = present(lab, reader, uid)
    assert fmt.read(card).value == 7400 and fmt.read(card).counter == 4
    purse.top_up(gold, card_no="8800000002", key=key(), amount=1000)           # +10.00 +1.00 by number
    tapped = purse.sync_on_tap(gold, card)
    assert tapped["purse"]["in_step"] and tapped["purse"]["written"] and tapped["purse"]["value"] == 8500
    assert [r[1] for r in records(purse, "8800000002")[-2:]] == ["sync", "sync"]
    ledger_ok(purse)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_count_card_purse_holds_the_counts(lab, reader, purse, tmp_path) -> None:
    from plugins.wallet.offline import drain

    a = actor()
    purse.create_card_type(a, code="GROUP", name="Group", kind="count", min_count_topup=10, offline_cap=2)
    card = present(lab, reader)
    purse.init_card(a, card, card_no="8800000009", type_code="GROUP", holder_name="Tour 7")
    assert purse.top_up_on_reader(a, card, key=key(), counts=10, amount=9000)["purse"]["value"] == 10
    assert purse.consume_on_reader(a, card, key=key(), counts=1)["purse"]["value"] == 9
    spool = OfflineSpool(tmp_path / "gate.db")
    with purse._uow.read() as uow:
        spool.refresh(uow.session)
    gate = OfflineConsume(spool, purse.card_format, venue_code="HQ", terminal_code="G1")
    assert gate.consume(a, card, key=key(), counts=2)["purse"]["value"] == 7
    with pytest.raises(CardRefused) as capped:
        gate.consume(a, card, key=key(), counts=1)
    assert capped.value.details["reason"] == "offline_cap" and "may spend 2 offline; 0 is left" in capped.value.message
    tapped = purse.sync_on_tap(a, card)                # the server has not seen the gate's payment yet
    assert not tapped["purse"]["in_step"] and not tapped["purse"]["written"] and tapped["balances"]["counts"] == 9
    # online meanwhile: the chip moves by this payment alone, and must cover it
    paid = purse.consume_on_reader(a, card, key=key(), counts=1)
    assert (paid["purse"]["value"], paid["purse"]["in_step"], paid["balances"]["counts"]) == (6, False, 8)
    with pytest.raises(InsufficientBalance, match="on its chip"):
        purse.consume_on_reader(a, card, key=key(), counts=7)
    assert drain(purse, spool, a)["posted"] == 1
    tapped = purse.sync_on_tap(a, card)
    assert tapped["purse"]["in_step"] and not tapped["purse"]["written"]
    assert tapped["balances"]["counts"] == 6 == tapped["purse"]["value"]
    ledger_ok(purse)
    spool.close()


# ---------------------------------------------------------------- clones


def test_clone_onto_another_uid_is_refused_and_recorded(lab, reader, purse, gold) -> None:
    """Its sector keys are the original UID's: it opens with none of ours. It names no card, so
    nothing can be blacklisted; the refusal is a security record with the chip's UID."""
    card = present(lab, reader)
    issued(purse, gold, card, "8800000003")
    original = card.uid_hex
    take_off(lab, reader)
    other = lab.new_uid()
    lab.clone(original, to_uid=other, insert=0)
    clone = wait_card(reader, other)
    before = entries(purse)
    with pytest.raises(ForeignCard):
        purse.consume_on_reader(gold, clone, key=key(), amount=1000)
    assert entries(purse) == before
    assert [e["action"] for e in security(purse, other)] == ["wallet.foreign_chip"]
    assert blocked_with(purse, "8800000003") == ""


def test_same_number_on_another_chip_is_a_clone(lab, reader, purse, gold, fmt) -> None:
    """A chip that reads as one of our cards but carries another UID than the registered one."""
    card = present(lab, reader)
    issued(purse, gold, card, "8800000004")
    copy = present(lab, reader)
    fmt.personalise(copy, card_number="8800000004", card_type=1, expires=dt.date(2030, 1, 1), initial_value=50000)
    before = entries(purse)
    with pytest.raises(CardRefused) as refused:
        purse.consume_on_reader(gold, copy, key=key(), amount=1000)
    assert refused.value.details["reason"] == "clone" and refused.value.details["detected"] == "clone"
    assert "copy" in refused.value.message and "blacklisted" in refused.value.message
    assert entries(purse) == before and blocked_with(purse, "8800000004") == "clone"
    assert [e["action"] for e in security(purse, "8800000004")] == ["wallet.clone_detected"]


def test_magic_clone_spent_after_the_original_moved_on_is_a_fork(lab, reader, purse, gold, tmp_path) -> None:
    """The clone (same UID, full copy) is spent at a terminal that cannot reach the database
    while the original pays online: both carry the next counter with different fingerprints."""
    card = present(lab, reader)
    issued(purse, gold, card, "8800000005")
    uid = card.uid_hex
    spool = OfflineSpool(tmp_path / "stall.db")
    with purse._uow.read() as uow:
        spool.refresh(uow.session)
    take_off(lab, reader)
    lab.clone(uid, magic=True)
    card = present(lab, reader, uid)
    purse.consume_on_reader(gold, card, key=key(), amount=1000)     # the original moves on: counter 2
    clone = present(lab, reader, uid, name=uid + ".magic")
    stall = OfflineConsume(spool, purse.card_format, venue_code="HQ", terminal_code="S09")
    stall.consume(gold, clone, key=key(), amount=2000)               # the clone: counter 2 too, offline
    before = entries(purse)
    with pytest.raises(CardRefused) as refused:
        purse.consume_on_reader(gold, clone, key=key(), amount=500)  # the clone comes online
    assert refused.value.details["detected"] == "fork"
    assert entries(purse) == before and blocked_with(purse, "8800000005") == "fork"
    found = security(purse, "8800000005")
    assert [e["action"] for e in found] == ["wallet.clone_detected"] and found[0]["counter"] == 2
    spool.close()


def test_restored_dump_is_a_rollback(lab, reader, purse, gold, fmt) -> None:
    card = present(lab, reader)
    issued(purse, gold, card, "8800000006")
    uid = card.uid_hex
    old = lab.dump()                                                 # 110.00 on the chip, counter 1
    purse.consume_on_reader(gold, card, key=key(), amount=5000)
    purse.consume_on_reader(gold, card, key=key(), amount=5000)
    lab.restore(uid, old)                                            # the attacker writes the old dump back
    card = wait_card(reader, uid, not_this=card)
    assert fmt.read(card).value == 11000                             # reads fine on the card alone
    before = entries(purse)
    with pytest.raises(CardRefused) as refused:
        purse.sync_on_tap(gold, card)
    assert refused.value.details["detected"] == "rollback"
    assert blocked_with(purse, "8800000006") == "rollback" and entries(purse) == before
    assert [e["action"] for e in security(purse, "8800000006")] == ["wallet.clone_detected"]
    with pytest.raises(CardRefused) as again:
        purse.consume_on_reader(gold, card, key=key(), amount=100)
    assert again.value.details["reason"] == "blacklisted" and entries(purse) == before


def test_tampered_dump_is_refused_and_the_card_blacklisted(lab, reader, purse, gold) -> None:
    card = present(lab, reader)
    issued(purse, gold, card, "8800000007")
    uid = card.uid_hex
    dump = lab.dump()
    slot = bytearray.fromhex(dump["blocks"][12])                     # slot B holds the newest record
    slot[5:9] = (99999).to_bytes(4, "big")
    dump["blocks"][12] = slot.hex().upper()
    dump["blocks"][5] = "9F860100607EFEFF9F86010005FA05FA"          # and the value block says 99999
    lab.restore(uid, dump)
    card = wait_card(reader, uid, not_this=card)
    before = entries(purse)
    with pytest.raises(TamperedCard):
        purse.consume_on_reader(gold, card, key=key(), amount=1000)
    assert entries(purse) == before and blocked_with(purse, "8800000007") == "tampered"
    assert [e["action"] for e in security(purse, "8800000007")] == ["wallet.clone_detected"]


# ---------------------------------------------------------------- rebuild from the card (H7)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rebuild_from_the_card_after_a_restore(lab, reader, purse, gold, fmt, wallet_engine, tmp_path) -> None:
    from suite.backup import backup, restore

    card = present(lab, reader)
    issued(purse, gold, card, "8800000008")                          # 110.00 on chip and server
    copy = backup(wallet_engine, tmp_path / "backups").path
    purse.top_up_on_reader(gold, card, key=key(), amount=5000)       # +55.00
    purse.consume_on_reader(gold, card, key=key(), amount=2000)      # -18.00
    assert fmt.read(card).value == 14700
    restore(wallet_engine, copy, tmp_path / "backups")               # the server forgets both
    assert purse.query(gold, "8800000008")["counter"] == 1

    state = fmt.read(card)
    with pytest.raises(PermissionDenied):
        purse.rebuild_from_card(actor("wallet.view", "wallet.consume"), "8800000008", state)
    manager = actor("wallet.recover", "wallet.view")
    rebuilt = purse.rebuild_from_card(manager, "8800000008", state)
    balances = rebuilt["balances"]
    assert (balances["main"] + balances["gift"], balances["gift"]) == (14700, 1000)
    assert rebuilt["counter"] == state.counter == 3 and records(purse, "8800000008")[-1] == (3, "sync", 14700)
    with purse._uow.read() as uow:
        kinds = uow.session.scalars(select(Entry.kind).order_by(Entry.created_at)).all()
    assert kinds[-1] == "wallet.rebuild"
    assert not purse.sync_on_tap(gold, card)["purse"]["written"]   # in step again
    ledger_ok(purse)


# ---------------------------------------------------------------- CLI


def test_cli_init_sync_offline_and_rebuild(lab, tmp_path, capsys, monkeypatch) -> None:
    from tests.sites import Site, write_site

    site = Site(write_site(tmp_path, f"sqlite:///{tmp_path / 'suite.db'}",
                           **{"devices.desk-reader": f'kind = "pcsc-reader"\nreader = "{lab.reader_names[0]}"',
                              "terminal": 'venue_code = "HQ"\nterminal_code = "T01"'}), "", capsys, monkeypatch)
    assert site.run("--json", "init", stdin="correct-horse-42\n").code == 0
    public = site.run("--json", "license", "keygen").json["public_key"]
    site.path.write_text(site.path.read_text() + f'\n[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "chain.lic"
    assert site.run("license", "issue", "--chain", "C1", "--licensee", "River", "--features", "wallet",
                    "--max-terminals", "3", "--max-cards", "50", "--expires", "2099-12-31",
                    "--out", str(licence)).code == 0
    assert site.run("license", "install", str(licence)).code == 0

    def ok(*args: str) -> Any:
        result = site.run("--json", *args)
        assert result.code == 0, result.err + result.out
        return result.json

    ok("cardtype", "add", "GOLD", "Gold", "--discount-bp", "1000")
    uid = lab.new_uid()
    lab.insert(uid)
    made = ok("card", "init", "8800000101", "--type", "GOLD", "--holder", "Han Meimei")
    assert made["status"] == "active" and made["uid"] == uid and made["purse"]["counter"] == 0
    again = site.run("--json", "card", "init", "8800000102", "--type", "GOLD")
    assert again.code == 1 and again.json["error"] == "conflict"          # the chip is 8800000101's
    ok("card", "topup", "8800000101", "--amount", "50")                    # by number: the server only
    synced = ok("card", "sync", "--reader", "desk-reader")
    assert synced["purse"]["value"] == 5000 and synced["purse"]["written"]
    status = ok("card", "offline", "status")
    assert status["entries"] == 0 and status["cards_cached"] == 1
    drained = ok("card", "offline", "drain")
    assert drained["posted"] == 0 and drained["left"] == 0
    nothing = site.run("--json", "card", "rebuild", "8800000101")
    assert nothing.code == 1 and nothing.json["error"] == "conflict"      # the server is not behind
    lab.remove()
    missing = site.run("--json", "card", "sync", "--wait", "0.2")
    assert missing.code == 1 and missing.json["error"] == "no_card"
    checked = site.run("--json", "ledger", "check")
    assert checked.code == 0, checked.out
