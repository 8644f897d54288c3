"""The virtual card lab: card emulators (pure, no I/O) and the ``venue-suite lab`` verbs through a real
pcscd and pyscard."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

import suite.cli
from devices import mifare
from devices.apdu import card_kind_from_atr, command, contactless_atr, parse_command, split_response
from devices.lab.acr122u import FIRMWARE, MIFARE_1K_ATR, Acr122uFrontEnd, Tear
from devices.lab.cpu_card import CARD_INFO_FILE, DEFAULT_AID, CpuCard
from devices.lab.mifare_card import CardRefused, MifareClassic1K, manufacturer_block
from devices.lab.store import BINARY_SIZE, DumpError, card_from_dict, card_to_dict, read_dump
from devices.reader import AuthenticationFailed
from suite.events import CardPresented, CardRemoved

UID = bytes.fromhex("04A1B2C3")
KEY_A, KEY_B = bytes.fromhex("A0A1A2A3A4A5"), bytes.fromhex("B0B1B2B3B4B5")
FF = mifare.TRANSPORT_KEY


# ---- MIFARE rules --------------------------------------------------------------------------------

def test_access_bits_round_trip_and_transport_value() -> None:
    assert mifare.encode_access_bits(mifare.TRANSPORT_ACCESS) == bytes.fromhex("FF0780")
    for condition in range(8):
        for trailer in range(8):
            conditions = (condition, 7 - condition, condition ^ 0b101, trailer)
            assert mifare.decode_access_bits(mifare.encode_access_bits(conditions)) == conditions
    with pytest.raises(mifare.InvalidAccessBits):
        mifare.decode_access_bits(bytes.fromhex("FF0781"))


def test_value_block_format_is_validated() -> None:
    block = mifare.encode_value_block(-1234, 9)
    assert mifare.decode_value_block(block) == (-1234, 9)
    tampered = bytearray(block)
    tampered[0] ^= 1
    with pytest.raises(mifare.NotAValueBlock):
        mifare.decode_value_block(bytes(tampered))


def test_atr_tells_the_card_kind() -> None:
    assert card_kind_from_atr(MIFARE_1K_ATR) == "mifare_classic"
    assert card_kind_from_atr(contactless_atr(b"VSCPU01")) == "cpu"
    assert card_kind_from_atr(bytes.fromhex("3B0200")) == ""


# ---- MIFARE Classic 1K emulator ------------------------------------------------------------------

def purse_card() -> MifareClassic1K:
    card = MifareClassic1K.blank(UID)
    card.authenticate(7, "A", FF)
    card.write(4, mifare.encode_value_block(500, 4))
    card.write(7, mifare.build_trailer(KEY_A, (mifare.DATA_PURSE, mifare.DATA_DEBIT_ONLY, mifare.DATA_READ_ONLY,
                                               mifare.TRAILER_KEY_B), KEY_B))
    card.power_off()
    return card


def test_authentication_per_sector_and_lost_on_power_off() -> None:
    card = MifareClassic1K.blank(UID)
    with pytest.raises(CardRefused, match="not authenticated"):
        card.read(4)
    card.authenticate(4, "A", FF)
    assert card.read(5) == bytes(16)
    with pytest.raises(CardRefused, match="sector 2 not authenticated"):
        card.read(8)
    with pytest.raises(CardRefused, match="wrong key"):
        card.authenticate(4, "A", KEY_A)
    with pytest.raises(CardRefused):
        card.read(4)                               # a failed authentication closes the sector
    card.authenticate(4, "A", FF)
    card.power_off()
    with pytest.raises(CardRefused):
        card.read(4)


def test_keys_read_back_as_zeros_and_readable_key_b_is_refused() -> None:
    card = MifareClassic1K.blank(UID)
    card.authenticate(7, "A", FF)
    trailer = card.read(7)
    assert trailer[:6] == bytes(6) and trailer[6:10] == bytes.fromhex("FF078069") and trailer[10:] == FF
    card.authenticate(4, "B", FF)                  # transport trailer: key B is readable data
    with pytest.raises(CardRefused, match="key B is readable"):
        card.read(4)


def test_purse_access_conditions_are_enforced() -> None:
    card = purse_card()
    card.authenticate(4, "A", KEY_A)
    assert mifare.decode_value_block(card.read(4))[0] == 500
    with pytest.raises(CardRefused, match="write block 4"):
        card.write(4, bytes(16))
    with pytest.raises(CardRefused, match="increment block 4"):
        card.increment(4, 10)
    card.decrement(4, 100)
    card.transfer(4)
    assert card.read_value(4) == 400
    card.restore(4)
    with pytest.raises(CardRefused, match="denies key A"):
        card.transfer(6)                           # block 6 is read-only
    card.authenticate(4, "B", KEY_B)
    card.increment(4, 50)
    card.transfer(4)
    assert card.read_value(4) == 450
    card.restore(4)
    card.transfer(5)                               # 001: decrement/transfer/restore allowed
    assert card.read_value(5) == 450
    with pytest.raises(CardRefused, match="write trailer"):
        card.authenticate(7, "A", KEY_A)
        card.write(7, mifare.build_trailer(FF, mifare.TRANSPORT_ACCESS, FF))


def test_value_operations_need_a_value_block() -> None:
    card = MifareClassic1K.blank(UID)
    card.authenticate(4, "A", FF)
    with pytest.raises(CardRefused, match="not a value block"):
        card.decrement(5, 1)
    with pytest.raises(CardRefused, match="no increment"):
        card.transfer(5)


def test_block_0_read_only_unless_magic() -> None:
    genuine = MifareClassic1K.blank(UID)
    genuine.authenticate(0, "A", FF)
    with pytest.raises(CardRefused, match="read-only on a genuine card"):
        genuine.write(0, manufacturer_block(bytes.fromhex("01020304")))
    magic = MifareClassic1K.blank(UID, magic=True)
    magic.authenticate(0, "A", FF)
    magic.write(0, manufacturer_block(bytes.fromhex("01020304")))
    assert magic.uid == bytes.fromhex("01020304")
    bad_bcc = bytearray(manufacturer_block(UID))
    bad_bcc[4] ^= 0xFF
    with pytest.raises(CardRefused, match="BCC"):
        magic.write(0, bytes(bad_bcc))


def test_inconsistent_access_bits_block_the_sector_for_good() -> None:
    card = MifareClassic1K.blank(UID)
    card.authenticate(11, "A", FF)
    card.write(11, FF + bytes.fromhex("FF078169") + FF)
    assert 2 in card.bricked
    with pytest.raises(CardRefused, match="blocked"):
        card.authenticate(8, "A", FF)
    assert any("blocked for good" in reason for reason in card.refusals)


# ---- CPU card and ACR122U front end --------------------------------------------------------------

def test_cpu_card_status_words() -> None:
    card = CpuCard(bytes.fromhex("08A1B2C3"))

    def sw(apdu: bytes) -> int:
        return split_response(card.process(apdu))[1]

    assert sw(command(0x00, 0xB0, 0x00, 0x00, le=0)) == 0x6986               # nothing selected
    assert sw(command(0x00, 0xA4, 0x04, 0x00, b"\xA0\x00\x00\x00\x01")) == 0x6A82
    assert sw(command(0x00, 0xA4, 0x04, 0x0C, DEFAULT_AID)) == 0x9000
    assert sw(command(0x00, 0xA4, 0x02, 0x0C, b"\x00\x09")) == 0x6A82
    assert sw(command(0x00, 0xB0, 0x80 | CARD_INFO_FILE, 0x00, le=0)) == 0x9000
    assert sw(command(0x00, 0xB0, 0x01, 0x00, le=0)) == 0x6B00
    assert sw(command(0x00, 0xB0, 0x00, 0x10, le=0xF0)) == 0x6282
    assert sw(command(0x00, 0xCA, 0x00, 0x5A, le=0)) == 0x9000
    assert sw(command(0x00, 0xCA, 0x01, 0x00, le=0)) == 0x6A88
    assert sw(command(0x00, 0x84, 0x00, 0x00, le=5)) == 0x6700
    assert sw(command(0x00, 0x20, 0x00, 0x00)) == 0x6D00
    assert sw(command(0x80, 0xA4, 0x04, 0x00, DEFAULT_AID)) == 0x6E00
    assert sw(b"\x00\xA4") == 0x6700


def test_front_end_pseudo_apdus_and_feedback() -> None:
    front = Acr122uFrontEnd(purse_card(), clock=lambda: 42.0)
    assert front.transmit(mifare.apdu_get_uid()) == UID + b"\x90\x00"
    assert front.transmit(mifare.apdu_firmware()) == FIRMWARE
    assert front.transmit(mifare.apdu_authenticate(4, "A")) == b"\x63\x00"          # no key loaded
    assert front.transmit(mifare.apdu_load_key(KEY_A)) == b"\x90\x00"
    assert front.transmit(mifare.apdu_authenticate(4, "A")) == b"\x90\x00"
    assert front.transmit(mifare.apdu_read_value(4)) == struct.pack(">i", 500) + b"\x90\x00"
    assert front.transmit(mifare.apdu_value(4, mifare.VALUE_DECREMENT, 20)) == b"\x90\x00"
    assert front.transmit(mifare.apdu_value(4, mifare.VALUE_INCREMENT, 20)) == b"\x63\x00"
    assert front.transmit(mifare.apdu_copy_value(4, 5)) == b"\x90\x00"
    assert front.transmit(mifare.apdu_read_value(5)) == struct.pack(">i", 480) + b"\x90\x00"
    assert front.transmit(command(0x00, 0xA4, 0x04, 0x00, DEFAULT_AID)) == b"\x6A\x81"
    assert front.transmit(mifare.GOOD_TAP)[:1] == b"\x90"
    front.transmit(mifare.BAD_TAP)
    assert [f.colour for f in front.feedback] == ["green", "red"] and front.feedback[0].at == 42.0


def test_front_end_tear_applies_or_not() -> None:
    front = Acr122uFrontEnd(MifareClassic1K.blank(UID))
    front.transmit(mifare.apdu_load_key(FF))
    front.transmit(mifare.apdu_authenticate(4, "A"))
    front.tear = Tear(after=1)
    assert front.transmit(mifare.apdu_read_block(4)) is not None                    # reads do not count
    assert front.transmit(mifare.apdu_write_block(4, b"A" * 16)) is None
    assert front.card.block(4) == bytes(16)
    front.transmit(mifare.apdu_authenticate(4, "A"))
    front.tear = Tear(after=1, apply=True)
    assert front.transmit(mifare.apdu_write_block(4, b"B" * 16)) is None
    assert front.card.block(4) == b"B" * 16


def test_dump_formats_round_trip_and_bad_dumps_are_refused() -> None:
    card = purse_card()
    again = card_from_dict(json.loads(json.dumps(card_to_dict(card))))
    assert isinstance(again, MifareClassic1K) and again.memory == card.memory
    cpu = card_from_dict(card_to_dict(CpuCard(bytes.fromhex("08010203"))))
    assert isinstance(cpu, CpuCard) and cpu.applications[DEFAULT_AID][CARD_INFO_FILE].endswith(b"08010203")
    assert read_dump(bytes(card.memory)) == bytes(card.memory)
    with pytest.raises(DumpError, match="1024-byte"):
        read_dump(b"\x00" * 1000)
    with pytest.raises(DumpError, match="not a lab card dump"):
        read_dump(b'{"format": "other"}')
    assert parse_command(command(0xFF, 0xB0, 0x00, 4, le=16)).expected_length == 16


# ---- the lab CLI through pcscd --------------------------------------------------------------------

@pytest.fixture
def cli(lab, monkeypatch, capsys):
    monkeypatch.setitem(suite.cli.HOST_VERBS, "lab", ("lab", "the virtual card lab"))

    def run(*args: str, expect: int = 0) -> dict:
        capsys.readouterr()
        code = suite.cli.main(["--json", *lab.cli(*args)])
        out, err = capsys.readouterr()
        assert code == expect, err
        return json.loads(out) if out.strip() else {"stderr": err}

    return run


def read_sector_1(reader, key: bytes = FF) -> list[bytes]:
    card = reader.card()
    card.authenticate(4, "A", key)
    return [card.read_block(block) for block in (4, 5, 6)]


def test_cli_insert_dump_and_status(cli, lab, events, reader, tmp_path: Path) -> None:
    uid = lab.new_uid()
    inserted = cli("card", "insert", "--uid", uid)
    assert (inserted["uid"], inserted["kind"], inserted["state"]) == (uid, "mifare_classic", "on reader")
    assert events.wait_for(CardPresented).uid == uid
    reader.card().authenticate(4, "A", FF)
    reader.card().write_block(4, b"venue-suite-lab!")
    status = cli("status")
    assert status["daemon"]["readers"][0]["card"] == uid and status["daemon"]["readers"][0]["apdus"] >= 3
    cli("card", "dump", "--out", str(tmp_path / "card.bin"))
    cli("card", "dump", "--out", str(tmp_path / "card.json"))
    image = (tmp_path / "card.bin").read_bytes()
    assert len(image) == BINARY_SIZE and image[64:80] == b"venue-suite-lab!" and image[:4].hex().upper() == uid
    assert json.loads((tmp_path / "card.json").read_text())["blocks"][4] == b"venue-suite-lab!".hex().upper()
    cli("card", "remove")
    assert events.wait_for(CardRemoved).uid == uid
    cli("card", "insert", "--uid", uid)                     # a removed card keeps its data
    events.wait_for(CardPresented)
    assert read_sector_1(reader)[0] == b"venue-suite-lab!"


def test_cli_clone_onto_another_uid_keeps_data_but_not_block_0(cli, lab, events, reader) -> None:
    uid, other = lab.new_uid(), lab.new_uid()
    cli("card", "insert", "--uid", uid)
    events.wait_for(CardPresented)
    reader.card().authenticate(4, "A", FF)
    reader.card().write_block(5, b"purse-and-stuff!")
    cloned = cli("card", "clone", "--to-uid", other, "--insert", "1")
    assert (cloned["clone"], cloned["uid"], cloned["on_reader"]) == (other, other, 1)
    dump = lab.dump(name=other)
    assert dump["blocks"][0][:8] == other and dump["blocks"][5] == b"purse-and-stuff!".hex().upper()
    assert not dump["magic"]


def test_cli_magic_clone_copies_block_0_and_the_uid(cli, lab, events, reader) -> None:
    uid = lab.new_uid()
    cli("card", "insert", "--uid", uid)
    events.wait_for(CardPresented)
    reader.card().authenticate(4, "A", FF)
    reader.card().write_block(6, b"magic-clone-data")
    cloned = cli("card", "clone", "--magic")
    assert cloned == {"source": uid, "clone": f"{uid}.magic", "uid": uid, "magic": True}
    cli("card", "remove")
    events.wait_for(CardRemoved)
    cli("card", "insert", "--name", f"{uid}.magic")
    assert events.wait_for(CardPresented).uid == uid            # the reader cannot tell them apart
    assert read_sector_1(reader)[2] == b"magic-clone-data"
    assert lab.dump(name=f"{uid}.magic")["blocks"] == lab.dump(name=uid)["blocks"]


def test_cli_restore_rolls_a_card_back(cli, lab, events, reader, tmp_path: Path) -> None:
    uid = lab.new_uid()
    cli("card", "insert", "--uid", uid)
    events.wait_for(CardPresented)
    card = reader.card()
    card.authenticate(4, "A", FF)
    card.store_value(4, 1000)
    cli("card", "dump", "--out", str(tmp_path / "rich.json"))
    card.decrement(4, 900)
    assert card.read_value(4) == 100
    restored = cli("card", "restore", str(tmp_path / "rich.json"))
    assert restored["restored"] == uid and restored["block0_written"] is False
    events.wait_for(CardRemoved)                                  # taken off and put back
    events.wait_for(CardPresented)
    card = reader.card()
    card.authenticate(4, "A", FF)
    assert card.read_value(4) == 1000


def test_cli_refuses_bad_input_clearly(cli, lab, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a dump")
    assert "neither a 1024-byte" in cli("card", "restore", str(garbage), expect=1)["message"]
    assert "No virtual reader 7" in cli("card", "insert", "--uid", lab.new_uid(), "--reader", "7", expect=1)["message"]
    assert "4 or 7 bytes" in cli("card", "insert", "--uid", "0102", expect=1)["message"]
    assert "no card on virtual reader 1" in cli("card", "dump", "--reader", "1", expect=1)["message"]
    assert "No stored card named nothing-here" in cli("card", "clone", "--name", "nothing-here", "--magic",
                                                      expect=1)["message"]


def test_cli_when_the_lab_is_not_running(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setitem(suite.cli.HOST_VERBS, "lab", ("lab", "the virtual card lab"))
    assert suite.cli.main(["lab", "--dir", str(tmp_path), "card", "remove"]) == 1
    assert "The card lab is not running" in capsys.readouterr().err


def test_wrong_key_on_a_personalised_card_through_the_reader(lab, events, reader) -> None:
    uid = lab.new_uid()
    lab.insert(uid)
    events.wait_for(CardPresented)
    card = reader.card()
    card.authenticate(7, "A", FF)
    card.write_block(7, mifare.build_trailer(KEY_A, mifare.TRANSPORT_ACCESS, KEY_B))
    with pytest.raises(AuthenticationFailed):
        card.authenticate(4, "A", FF)
    card.authenticate(4, "A", KEY_A)
    assert lab.dump(name=uid)["blocks"][7][:12] == KEY_A.hex().upper()   # a dump shows the real keys


def test_cli_start_status_stop_an_isolated_lab(monkeypatch, capsys, tmp_path: Path, vpcd_port: int) -> None:
    monkeypatch.setitem(suite.cli.HOST_VERBS, "lab", ("lab", "the virtual card lab"))
    folder = str(tmp_path / "lab")

    def run(*args: str) -> dict:
        assert suite.cli.main(["--json", "lab", "--dir", folder, *args]) == 0
        return json.loads(capsys.readouterr().out)

    started = run("start", "--isolated", "--port", str(vpcd_port))
    try:
        assert "isolated" in started["pcscd"] and started["vpcd_ports"] == [vpcd_port, vpcd_port + 1]
        assert started["export"] == f"PCSCLITE_CSOCK_NAME={folder}/pcscd.comm"
        status = run("status")
        assert "started by this lab" in status["pcscd"] and all(status["vpcd_ports"].values())
        assert run("card", "insert", "--uid", "08112233", "--kind", "cpu", "--reader", "1")["kind"] == "cpu"
    finally:
        stopped = run("stop")
    assert stopped == {"daemon": True, "pcscd": True}
    status = run("status")
    assert not status["pcscd"].startswith("running (started by this lab") and "not running" in status["daemon"]
    assert not any(status["vpcd_ports"].values())
