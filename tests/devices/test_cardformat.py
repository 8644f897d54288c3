"""The purse card format through the whole stack: pyscard -> pcscd -> vpcd -> the lab's
virtual ACR122U -> an emulated MIFARE Classic 1K (keys and access bits enforced).

Cards are pulled, dumped, edited, cloned and restored with the lab's own operations, as an
attacker with cracked Crypto1 keys would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from devices.cardformat import BlankCard, CardFormat, CardRemoved, ForeignCard, PurseState, TamperedCard
from devices.cardformat.access import TRANSPORT_TRAILER
from devices.cardformat.keys import sector_keys
from devices.reader import Card
from suite.events import CardPresented, CardRemoved as CardRemovedEvent

MASTER = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
MAC_KEY = bytes.fromhex("F0E1D2C3B4A5968778695A4B3C2D1E0F")
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.timezone.utc)
EXPIRES = dt.date(2027, 12, 31)


@pytest.fixture
def fmt() -> CardFormat:
    return CardFormat(MASTER, MAC_KEY)


def present(lab: Any, events: Any, reader: Any, uid: str | None = None, **insert: Any) -> Card:
    """Put a card on virtual reader 0 and wait until the driver has it."""
    uid = uid or lab.new_uid()
    lab.insert(uid, **insert)
    events.wait_for(CardPresented, lambda e: e.uid == uid)
    return reader.card()


def wait_again(events: Any, reader: Any, uid: str) -> Card:
    """After the lab took a card off and put it back (restore, clone --insert)."""
    events.wait_for(CardRemovedEvent)
    events.wait_for(CardPresented, lambda e: e.uid == uid)
    return reader.card()


def issue(fmt: CardFormat, card: Card, value: int = 10000) -> PurseState:
    return fmt.personalise(card, card_number="8800000042", card_type=3, expires=EXPIRES, initial_value=value,
                           terminal="HQ/T01", time=NOW)


def test_blank_card_is_issued_then_read(lab, events, reader, fmt) -> None:
    card = present(lab, events, reader)
    with pytest.raises(BlankCard, match="blank"):
        fmt.read(card)
    issued = issue(fmt, card)
    assert (issued.card_number, issued.card_type, issued.expires, issued.value, issued.counter) == (
        "8800000042", 3, EXPIRES, 10000, 0)
    assert fmt.read(card) == issued

    blocks = lab.dump()["blocks"]
    keys = sector_keys(MASTER, card.uid, 1)
    assert blocks[7] == (keys.key_a + bytes.fromhex("58778A69") + keys.key_b).hex().upper()
    assert blocks[11][12:20] == blocks[15][12:20] == "7F078869"
    assert blocks[5] == "10270000EFD8FFFF1027000005FA05FA"     # 10000 in a value block, address 5
    assert blocks[3] == blocks[19] == TRANSPORT_TRAILER.hex().upper()  # sectors 0 and 4 untouched


def test_write_then_read_survives_a_new_tap(lab, events, reader, fmt) -> None:
    card = present(lab, events, reader)
    issue(fmt, card)
    debit = fmt.write(card, new_value=8500, amount=-1500, terminal="PARK/S12", time=NOW)
    credit = fmt.write(card, new_value=18500, amount=10000, terminal="HQ/T01", time=NOW)
    assert (credit.value, credit.counter, credit.slot, debit.slot) == (18500, 2, "A", "B")
    uid = card.uid_hex
    lab.remove()
    events.wait_for(CardRemovedEvent)
    card = present(lab, events, reader, uid)
    assert fmt.read(card) == credit
    assert credit.last.terminal == "HQ/T01" and credit.last.amount == 10000 and credit.last.time == NOW


@pytest.mark.parametrize("tear_after", [2, 4], ids=["inside-the-record", "before-the-value"])
def test_card_pulled_mid_write_keeps_the_previous_state(lab, events, reader, fmt, tear_after: int) -> None:
    """The write sends 3 record blocks then the value decrement; the lab pulls the card at the
    ``tear_after``-th of them (that command never reaches the card). The unit tests cover the
    other points on the emulator."""
    card = present(lab, events, reader)
    issue(fmt, card)
    before = fmt.write(card, new_value=9000, amount=-1000, terminal="T1", time=NOW)
    lab.tear(after=tear_after)
    with pytest.raises(CardRemoved):
        fmt.write(card, new_value=8000, amount=-1000, terminal="T2", time=NOW)
    events.wait_for(CardRemovedEvent)
    card = present(lab, events, reader, card.uid_hex)
    state = fmt.read(card)
    assert (state.value, state.counter, state.fingerprint) == (before.value, before.counter, before.fingerprint)
    assert state.recovered and "previous state" in state.notice()
    after = fmt.write(card, new_value=8000, amount=-1000, terminal="T2", time=NOW)
    assert fmt.read(card) == after and after.counter == before.counter + 1


def test_card_pulled_after_the_value_landed_shows_the_new_state(lab, events, reader, fmt) -> None:
    """The decrement reached the card but its answer did not: the outcome is known at the next tap."""
    card = present(lab, events, reader)
    before = issue(fmt, card)
    lab.tear(after=4, apply=True)
    with pytest.raises(CardRemoved):
        fmt.write(card, new_value=9000, amount=-1000, terminal="T2", time=NOW)
    events.wait_for(CardRemovedEvent)
    state = fmt.read(present(lab, events, reader, card.uid_hex))
    assert (state.value, state.counter, state.recovered) == (9000, before.counter + 1, False)


def test_card_removed_between_record_and_value_through_the_step_hook(lab, events, reader, fmt) -> None:
    card = present(lab, events, reader)
    before = issue(fmt, card)

    def pull(step: str) -> None:
        if step == "record":
            lab.remove()
            events.wait_for(CardRemovedEvent)

    with pytest.raises(CardRemoved):
        fmt.write(card, new_value=500, amount=-9500, terminal="T2", time=NOW, on_step=pull)
    state = fmt.read(present(lab, events, reader, card.uid_hex))
    assert state.recovered and state.value == before.value and state.counter == before.counter


def test_foreign_card(lab, events, reader, fmt) -> None:
    card = present(lab, events, reader)
    issue(CardFormat(bytes(16), bytes(range(1, 17))), card)
    with pytest.raises(ForeignCard, match="does not belong to this system"):
        fmt.read(card)


def test_tampered_dump_restored_is_refused(lab, events, reader, fmt) -> None:
    card = present(lab, events, reader)
    issue(fmt, card)
    dump = lab.dump()
    record = bytearray.fromhex(dump["blocks"][8])
    record[5:9] = (99999).to_bytes(4, "big")           # the record's value ...
    dump["blocks"][8] = record.hex().upper()
    dump["blocks"][5] = "9F860100607EFEFF9F86010005FA05FA"  # ... and the value block agree: 99999
    lab.client.call("restore", name=card.uid_hex, card=dump)
    card = wait_again(events, reader, card.uid_hex)
    with pytest.raises(TamperedCard, match="altered"):
        fmt.read(card)


def test_clone_onto_another_uid_is_refused(lab, events, reader, fmt) -> None:
    card = present(lab, events, reader)
    issue(fmt, card)
    other = lab.new_uid()
    lab.remove()
    events.wait_for(CardRemovedEvent)
    lab.client.call("clone", name=card.uid_hex, to_uid=other, insert=0)
    events.wait_for(CardPresented, lambda e: e.uid == other)
    with pytest.raises(ForeignCard):     # sector keys are diversified by UID
        fmt.read(reader.card())


def test_magic_clone_and_restored_dump_read_ok_at_card_level(lab, events, reader, fmt) -> None:
    """Neither can be told apart on the card: the wallet's server-side counter check catches
    them (a counter that forks with another fingerprint, or goes back)."""
    card = present(lab, events, reader)
    uid = card.uid_hex
    issue(fmt, card)
    old = fmt.write(card, new_value=9000, amount=-1000, terminal="T1", time=NOW)
    old_dump = lab.dump()
    lab.remove()
    events.wait_for(CardRemovedEvent)
    clone = lab.client.call("clone", name=uid, magic=True, insert=0)["clone"]
    events.wait_for(CardPresented, lambda e: e.uid == uid)
    copy_state = fmt.read(reader.card())
    assert copy_state == old
    spent_on_clone = fmt.write(reader.card(), new_value=1000, amount=-8000, terminal="T9", time=NOW)
    lab.remove()
    events.wait_for(CardRemovedEvent)

    card = present(lab, events, reader, uid)
    spent_on_card = fmt.write(card, new_value=8000, amount=-1000, terminal="T1", time=NOW)
    assert spent_on_card.counter == spent_on_clone.counter            # a fork the server sees ...
    assert spent_on_card.fingerprint != spent_on_clone.fingerprint    # ... by the fingerprints
    newer = fmt.write(card, new_value=7000, amount=-1000, terminal="T1", time=NOW)

    lab.client.call("restore", name=uid, card=old_dump)               # the attacker rolls back
    rolled_back = fmt.read(wait_again(events, reader, uid))
    assert rolled_back == old and rolled_back.counter < newer.counter
    assert clone.endswith(".magic")
