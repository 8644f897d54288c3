"""The PC/SC reader driver against a real pcscd with virtual ACR122U readers and emulated cards."""

from __future__ import annotations

import time

import pytest

from devices import mifare
from devices.apdu import command
from devices.lab.cpu_card import CARD_INFO_FILE, DEFAULT_AID
from devices.pcsc import PcscReader, open_reader
from devices.reader import AccessDenied, AuthenticationFailed, CardRemovedError, CardStatusError, NoCard
from suite.device_host import DeviceConfig, DeviceHost
from suite.errors import ConfigError
from suite.events import CardPresented, CardRemoved, DeviceHealth, ReaderAdded, ReaderRemoved

KEY_A = bytes.fromhex("A0A1A2A3A4A5")
KEY_B = bytes.fromhex("B0B1B2B3B4B5")
PURSE = (mifare.DATA_PURSE, mifare.DATA_WRITE_B, mifare.DATA_READ_ONLY, mifare.TRAILER_KEY_B)


def present(lab, events, uid=None, **kwargs) -> CardPresented:
    uid = uid or lab.new_uid()
    lab.insert(uid, **kwargs)
    return events.wait_for(CardPresented, lambda e: e.uid == uid)


def personalise_sector(card, sector: int) -> None:
    """Transport keys -> KEY_A/KEY_B with purse access bits (block 0 purse, 1 write-B, 2 read-only)."""
    trailer = mifare.trailer_of(sector)
    card.authenticate(trailer, "A", mifare.TRANSPORT_KEY)
    card.store_value(mifare.first_block(sector), 1000)
    card.write_block(trailer, mifare.build_trailer(KEY_A, PURSE, KEY_B))


def test_reader_appears_with_its_pcsc_name(lab, events, reader) -> None:
    assert reader.health() == (True, lab.reader_names[0])
    assert reader.reader_name == lab.reader_names[0]
    with pytest.raises(NoCard, match="no card on reader reader-1"):
        reader.card()


def test_insert_and_remove_post_uid_atr_and_kind(lab, events, reader) -> None:
    uid = lab.new_uid()
    lab.insert(uid)
    presented = events.wait_for(CardPresented)
    assert presented == CardPresented("reader-1", uid, "3B8F8001804F0CA000000306030001000000006A", "mifare_classic")
    assert reader.card().uid_hex == uid
    lab.remove()
    assert events.wait_for(CardRemoved) == CardRemoved("reader-1", uid)
    assert reader.current_card() is None


def test_cpu_card_select_read_binary_and_status_words(lab, events, reader) -> None:
    uid = "08" + lab.new_uid()[2:]
    presented = present(lab, events, uid, kind="cpu")
    assert presented.card_kind == "cpu" and presented.atr.startswith("3B8780")
    card = reader.card()
    fci = card.send(command(0x00, 0xA4, 0x04, 0x00, DEFAULT_AID, le=0))
    assert DEFAULT_AID in fci
    card.send(command(0x00, 0xA4, 0x02, 0x0C, CARD_INFO_FILE.to_bytes(2, "big")))
    assert card.send(command(0x00, 0xB0, 0x00, 0x00, le=0)).endswith(uid.encode())
    assert card.transmit(command(0x00, 0x77, 0x00, 0x00))[1] == 0x6D00
    assert card.transmit(command(0x00, 0xA4, 0x04, 0x00, b"\xA0\x00\x00\x09\x99"))[1] == 0x6A82
    with pytest.raises(CardStatusError, match="6D00") as failure:
        card.send(command(0x00, 0x77, 0x00, 0x00))
    assert failure.value.sw == 0x6D00
    assert len(card.send(command(0x00, 0x84, 0x00, 0x00, le=8))) == 8


def test_authenticate_with_right_and_wrong_key(lab, events, reader) -> None:
    present(lab, events)
    card = reader.card()
    card.authenticate(4, "A", mifare.TRANSPORT_KEY)
    assert card.read_block(4) == bytes(16)
    with pytest.raises(AuthenticationFailed, match="sector 2") as failure:
        card.authenticate(8, "A", KEY_A)
    assert (failure.value.sector, failure.value.key_type) == (2, "A")
    with pytest.raises(AccessDenied):          # a failed authentication leaves nothing open
        card.read_block(8)


def test_access_bits_are_enforced(lab, events, reader) -> None:
    present(lab, events)
    card = reader.card()
    personalise_sector(card, 3)
    card.authenticate(13, "A", KEY_A)
    assert card.read_block(13) == bytes(16)
    with pytest.raises(AccessDenied, match="refused to write block 13") as failure:
        card.write_block(13, b"A" * 16)
    assert failure.value.operation == "write"
    trailer = card.read_block(15)
    assert trailer[:6] == bytes(6) and trailer[10:] == bytes(6)      # keys read back as zeros
    assert mifare.decode_access_bits(trailer[6:9]) == PURSE
    card.authenticate(13, "B", KEY_B)
    card.write_block(13, b"B" * 16)
    assert card.read_block(13) == b"B" * 16
    with pytest.raises(AccessDenied):
        card.write_block(14, b"C" * 16)                                 # block 14: read-only for both keys
    with pytest.raises(AuthenticationFailed):
        card.authenticate(13, "A", mifare.TRANSPORT_KEY)


def test_value_block_increment_decrement_and_read(lab, events, reader) -> None:
    present(lab, events)
    card = reader.card()
    personalise_sector(card, 5)
    block = mifare.first_block(5)
    card.authenticate(block, "A", KEY_A)
    assert card.read_value(block) == 1000
    card.decrement(block, 250)
    assert card.read_value(block) == 750
    with pytest.raises(AccessDenied):
        card.increment(block, 1)                                        # increment needs key B
    card.authenticate(block, "B", KEY_B)
    card.increment(block, 100)
    assert card.read_value(block) == 850
    assert mifare.decode_value_block(card.read_block(block)) == (850, block)
    with pytest.raises(AccessDenied):
        card.read_value(block + 1)                                      # not a value block


def test_block_0_read_only_on_a_genuine_card_writable_on_a_magic_one(lab, events, reader) -> None:
    genuine = present(lab, events)
    card = reader.card()
    card.authenticate(0, "A", mifare.TRANSPORT_KEY)
    block0 = card.read_block(0)
    assert block0[:4].hex().upper() == genuine.uid
    forged_uid = bytes.fromhex("04DEAD01")
    from devices.lab.mifare_card import manufacturer_block

    with pytest.raises(AccessDenied, match="block 0"):
        card.write_block(0, manufacturer_block(forged_uid))
    lab.remove()
    events.wait_for(CardRemoved)
    present(lab, events, lab.new_uid(), magic=True)
    magic = reader.card()
    magic.authenticate(0, "A", mifare.TRANSPORT_KEY)
    magic.write_block(0, manufacturer_block(forged_uid))
    assert magic.uid_from_reader() == forged_uid


def test_feedback_reaches_the_reader_leds_and_buzzer(lab, events, reader) -> None:
    present(lab, events)
    reader.card().feedback(True)
    assert reader.feedback(False) is True
    shown = lab.feedback()
    assert [(f["colour"], f["buzzer"] > 0) for f in shown] == [("green", True), ("red", True)]
    lab.remove()
    events.wait_for(CardRemoved)
    assert reader.feedback(True) is False                               # no card: vpcd cannot carry it


def test_card_pulled_mid_write_gives_a_clear_error(lab, events, reader) -> None:
    uid = present(lab, events).uid
    card = reader.card()
    card.authenticate(4, "A", mifare.TRANSPORT_KEY)
    lab.tear(after=1)
    with pytest.raises(CardRemovedError, match=f"card {uid} was removed"):
        card.write_block(4, b"X" * 16)
    with pytest.raises(CardRemovedError):                               # and every later call
        card.read_block(4)
    assert events.wait_for(CardRemoved).uid == uid
    assert lab.dump(name=uid)["blocks"][4] == "00" * 16                 # the torn write never landed


def test_torn_write_that_reached_the_card(lab, events, reader) -> None:
    uid = present(lab, events).uid
    card = reader.card()
    card.authenticate(4, "A", mifare.TRANSPORT_KEY)
    lab.tear(after=2, apply=True)
    card.write_block(4, b"1" * 16)
    with pytest.raises(CardRemovedError):
        card.write_block(5, b"2" * 16)
    events.wait_for(CardRemoved)
    present(lab, events, name=uid, uid=uid)
    card = reader.card()
    card.authenticate(4, "A", mifare.TRANSPORT_KEY)
    assert (card.read_block(4), card.read_block(5)) == (b"1" * 16, b"2" * 16)


def test_reader_that_does_not_exist_reports_unhealthy(lab, events) -> None:
    device = open_reader(DeviceConfig("missing", "pcsc-reader", {"reader": "Omnikey"}), events)
    device.start()
    try:
        ok, message = device.health()
        assert not ok and "'Omnikey'" in message and lab.reader_names[0] in message
        assert device.alive()
    finally:
        device.stop()


@pytest.mark.parametrize("options", [{"reader": 5}, {"index": -1}, {"index": "one"}])
def test_bad_options_are_configuration_errors(options) -> None:
    with pytest.raises(ConfigError, match=r"\[devices.r\]"):
        PcscReader(DeviceConfig("r", "pcsc-reader", options), print)


def test_pcscd_restart_unhealthy_then_back(lab, events) -> None:
    uid = lab.new_uid()
    lab.insert(uid, reader=1)
    host = DeviceHost([lab.reader_config(1, "desk")], {"pcsc-reader": open_reader}, events, poll_interval=0.1).start()
    try:
        events.wait_for(CardPresented, lambda e: e.uid == uid)
        lab.stop_pcscd()
        events.wait_for(CardRemoved, lambda e: e.uid == uid)
        events.wait_for(ReaderRemoved)
        down = events.wait_for(DeviceHealth, lambda e: not e.ok)
        assert "pcscd" in down.message
        started = time.monotonic()
        lab.start_pcscd()
        assert events.wait_for(CardPresented, timeout=10).uid == uid      # the card stayed on the reader
        assert time.monotonic() - started < 8
        after = events.seen[events.seen.index(down):]
        assert ReaderAdded("desk") in after
        assert DeviceHealth("desk", True, lab.reader_names[1]) in after
        assert host.health()["desk"] == (True, lab.reader_names[1])
        host.device("desk").card().authenticate(4, "A", mifare.TRANSPORT_KEY)
    finally:
        host.stop()
