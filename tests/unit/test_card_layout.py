"""The purse card format without a reader: access bits, key diversification, block encodings,
the MAC, and the read/write/recovery logic against the lab's MIFARE Classic emulator (which
enforces keys and access bits like the chip)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.cardformat import (
    AlreadyIssued, BlankCard, CardFormat, ForeignCard, StaleCardState, TamperedCard,
    TornWriteRecovered,
)
from devices.cardformat.access import (
    PURSE_SECTOR_ACCESS, SLOT_SECTOR_ACCESS, TRANSPORT_TRAILER, InconsistentAccessBits, access_bytes,
    decode_access_bits, purse_trailer,
)
from devices.cardformat.keys import an10922_aes128, diversified_key, sector_keys
from devices.cardformat.layout import (
    IDENTITY_BLOCK, SLOT_BLOCKS, VALUE_BLOCK, Identity, Record, decode_identity, decode_record, decode_value_block,
    encode_identity, encode_record, encode_value_block,
)
from devices.cardformat.emulated import EmulatedCard as BaseEmulatedCard
from devices.lab.mifare_card import CardRefused, MifareClassic1K
from suite.errors import InvalidInput

MASTER = bytes(range(16))
MAC_KEY = bytes(range(16, 32))
UID = bytes.fromhex("A1B2C3D4")
NOW = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone.utc)


class EmulatedCard(BaseEmulatedCard):
    """The emulator-backed card, plus memory writes behind the chip's back."""

    def poke(self, block: int, data: bytes) -> None:
        """Change memory behind the chip's back, as an attacker with a cracked key could."""
        self.chip.memory[block * 16:(block + 1) * 16] = data


@pytest.fixture
def fmt() -> CardFormat:
    return CardFormat(MASTER, MAC_KEY)


@pytest.fixture
def card() -> EmulatedCard:
    return EmulatedCard(MifareClassic1K.blank(UID))


def issue(fmt: CardFormat, card: EmulatedCard, value: int = 1000):  # type: ignore[no-untyped-def]
    return fmt.personalise(card, card_number="8800000001", card_type=2, expires=dt.date(2027, 12, 31),
                           initial_value=value, terminal="HQ/T01", time=NOW)


class Pulled(Exception):
    pass


def pull_after(step_name: str):  # type: ignore[no-untyped-def]
    def on_step(step: str) -> None:
        if step == step_name:
            raise Pulled(step)
    return on_step


# ---- access bits ------------------------------------------------------------------------------

@pytest.mark.parametrize("conditions, expected", [
    ((0b000, 0b000, 0b000, 0b001), "FF0780"),   # transport
    ((0b000, 0b000, 0b000, 0b011), "7F0788"),   # datasheet: keys changed with key B
    ((0b100, 0b100, 0b100, 0b011), "787788"),   # read A|B, write B
    ((0b110, 0b110, 0b110, 0b011), "08778F"),   # value blocks, rechargeable
])
def test_access_bytes_match_the_datasheet(conditions: tuple[int, int, int, int], expected: str) -> None:
    assert access_bytes(conditions).hex().upper() == expected
    assert decode_access_bits(bytes.fromhex(expected)) == conditions


def test_transport_trailer_is_the_factory_one() -> None:
    assert TRANSPORT_TRAILER.hex().upper() == "FFFFFFFFFFFF" + "FF078069" + "FFFFFFFFFFFF"


def test_purse_sectors_access_bits() -> None:
    assert access_bytes(PURSE_SECTOR_ACCESS).hex().upper() == "58778A"
    assert access_bytes(SLOT_SECTOR_ACCESS).hex().upper() == "7F0788"


def test_every_condition_set_round_trips() -> None:
    for conditions in itertools.product(range(8), repeat=4):
        assert decode_access_bits(access_bytes(conditions)) == conditions  # type: ignore[arg-type]


def test_inconsistent_access_bits_are_refused() -> None:
    with pytest.raises(Exception):
        decode_access_bits(bytes.fromhex("FF0781"))
    with pytest.raises(InconsistentAccessBits):
        access_bytes((0b000, 0b000, 0b000, 0b1000))  # type: ignore[arg-type]
    with pytest.raises(InconsistentAccessBits):       # nobody could ever change the keys again
        purse_trailer(bytes(6), (0b000, 0b000, 0b000, 0b111), bytes(6))


# ---- key diversification ----------------------------------------------------------------------

def test_an10922_example_vector() -> None:
    """NXP AN10922 §2.2.1: AES-128, UID 04782E21801D80, AID 3042F5, system id "NXP Abu"."""
    key = an10922_aes128(bytes.fromhex("00112233445566778899AABBCCDDEEFF"),
                         bytes.fromhex("04782E21801D80" "3042F5") + b"NXP Abu")
    assert key.hex().upper() == "A8DD63A3B89D54B37CA802473FDA9175"


def test_diversified_keys_are_deterministic_and_distinct() -> None:
    assert diversified_key(MASTER, UID, 1, "A") == diversified_key(MASTER, UID, 1, "A")
    keys = {diversified_key(MASTER, uid, sector, key_type)
            for uid in (UID, bytes.fromhex("A1B2C3D5"), bytes.fromhex("04112233445566"))
            for sector in (1, 2, 3) for key_type in "AB"}
    assert len(keys) == 18 and all(len(k) == 6 for k in keys)
    assert diversified_key(bytes(16), UID, 1, "A") != diversified_key(MASTER, UID, 1, "A")
    assert sector_keys(MASTER, UID, 2).key_a != sector_keys(MASTER, UID, 2).key_b


# ---- block encodings --------------------------------------------------------------------------

def test_identity_round_trip_and_bcd() -> None:
    identity = Identity("0012345678", 7, dt.date(2030, 2, 28))
    block = encode_identity(identity)
    assert block.hex().upper() == "5601" "0007" "0012345678FFFFFF" "20300228"
    assert decode_identity(block) == identity
    assert decode_identity(bytes(16)) is None


@pytest.mark.parametrize("number", ["", "12345678901234567", "12a4", "１２３"])
def test_bad_card_numbers_are_refused(number: str) -> None:
    with pytest.raises(InvalidInput):
        encode_identity(Identity(number, 1, dt.date(2030, 1, 1)))


def test_value_block_layout() -> None:
    block = encode_value_block(1000, VALUE_BLOCK)
    assert block.hex().upper() == "E8030000" "17FCFFFF" "E8030000" "05FA05FA"
    assert decode_value_block(block, VALUE_BLOCK) == 1000
    assert decode_value_block(block, 6) is None
    assert decode_value_block(block[:4] + b"\0" * 4 + block[8:], VALUE_BLOCK) is None


def record_bytes(record: Record, *, uid: bytes = UID, slot: int = 0) -> tuple[bytes, bytes]:
    identity_block = encode_identity(Identity("8800000001", 2, dt.date(2027, 12, 31)))
    return identity_block, encode_record(record, mac_key=MAC_KEY, uid=uid, identity_block=identity_block, slot=slot)


def test_mac_fails_on_any_flipped_bit() -> None:
    record = Record(41, 12345, -500, NOW, "HQ/T01")
    identity_block, data = record_bytes(record)
    assert decode_record(data, mac_key=MAC_KEY, uid=UID, identity_block=identity_block, slot=0) == record
    for bit in range(len(data) * 8):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert decode_record(bytes(flipped), mac_key=MAC_KEY, uid=UID, identity_block=identity_block, slot=0) is None
    for bit in range(len(identity_block) * 8):
        other = bytearray(identity_block)
        other[bit // 8] ^= 1 << (bit % 8)
        assert decode_record(data, mac_key=MAC_KEY, uid=UID, identity_block=bytes(other), slot=0) is None
    for bit in range(len(UID) * 8):
        uid = bytearray(UID)
        uid[bit // 8] ^= 1 << (bit % 8)
        assert decode_record(data, mac_key=MAC_KEY, uid=bytes(uid), identity_block=identity_block, slot=0) is None
    assert decode_record(data, mac_key=MAC_KEY, uid=UID, identity_block=identity_block, slot=1) is None
    assert decode_record(data, mac_key=bytes(16), uid=UID, identity_block=identity_block, slot=0) is None


def test_terminal_too_long_is_refused() -> None:
    with pytest.raises(InvalidInput):
        record_bytes(Record(1, 1, 1, NOW, "a terminal name far too long"))


records = st.builds(
    Record,
    counter=st.integers(0, 2**32 - 1),
    value=st.integers(0, 2**31 - 1),
    amount=st.integers(-2**31, 2**31 - 1),
    time=st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1),
                      timezones=st.just(dt.timezone.utc)).map(lambda t: t.replace(microsecond=0)),
    terminal=st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=16)
    .filter(lambda t: len(t.encode()) <= 16),
)


@given(records, st.sampled_from([0, 1]))
def test_record_round_trip(record: Record, slot: int) -> None:
    identity_block, data = record_bytes(record, slot=slot)
    assert decode_record(data, mac_key=MAC_KEY, uid=UID, identity_block=identity_block, slot=slot) == record


@settings(max_examples=40, deadline=None)
@given(number=st.text("0123456789", min_size=1, max_size=16), card_type=st.integers(0, 0xFFFF),
       expires=st.dates(dt.date(2000, 1, 1), dt.date(9999, 12, 31)), start=st.integers(0, 10**6),
       amounts=st.lists(st.integers(-10**6, 10**6), max_size=6))
def test_purse_state_round_trips_through_the_card(number: str, card_type: int, expires: dt.date, start: int,
                                                  amounts: list[int]) -> None:
    fmt, card = CardFormat(MASTER, MAC_KEY), EmulatedCard(MifareClassic1K.blank(UID))
    state = fmt.personalise(card, card_number=number, card_type=card_type, expires=expires, initial_value=start,
                            time=NOW)
    assert fmt.read(card) == state
    assert (state.card_number, state.card_type, state.expires, state.value, state.counter) == (
        number, card_type, expires, start, 0)
    for index, amount in enumerate(amounts):
        if state.value + amount < 0:
            continue
        written = fmt.write(card, new_value=state.value + amount, amount=amount, terminal=f"T{index}",
                            time=NOW + dt.timedelta(minutes=index))
        assert written.counter == state.counter + 1 and written.slot != state.slot
        state = fmt.read(card)
        assert state == written


# ---- issuing, reading, writing on the emulator ------------------------------------------------

def test_blank_then_issued_then_erased(fmt: CardFormat, card: EmulatedCard) -> None:
    with pytest.raises(BlankCard, match="blank"):
        fmt.read(card)
    state = issue(fmt, card)
    assert (state.value, state.counter, state.slot, state.last.terminal, state.last.time) == (1000, 0, "A",
                                                                                             "HQ/T01", NOW)
    with pytest.raises(AlreadyIssued):
        issue(fmt, card)
    for sector in (1, 2, 3):  # transport keys are gone, and key A cannot read key B
        assert not card.authenticate(sector * 4, "A", b"\xff" * 6)
    fmt.erase(card)
    with pytest.raises(BlankCard):
        fmt.read(card)
    assert issue(fmt, card, value=5).value == 5


def test_personalisation_pulled_half_way_can_be_redone(fmt: CardFormat, card: EmulatedCard) -> None:
    with pytest.raises(Pulled):
        fmt.personalise(card, card_number="1", card_type=1, expires=dt.date(2030, 1, 1),
                        on_step=pull_after("sector 3"))
    with pytest.raises(BlankCard):
        fmt.read(card)
    assert issue(fmt, card).value == 1000


def test_debit_needs_key_a_only_and_credit_key_b(fmt: CardFormat, card: EmulatedCard) -> None:
    issue(fmt, card)
    keys = sector_keys(MASTER, UID, 1)
    card.chip.authenticate(VALUE_BLOCK, "A", keys.key_a)
    with pytest.raises(CardRefused):
        card.chip.increment(VALUE_BLOCK, 1)
    with pytest.raises(CardRefused):
        card.chip.write(IDENTITY_BLOCK, bytes(16))
    card.chip.decrement(VALUE_BLOCK, 1)  # allowed with key A (the debit key)


def test_write_then_read(fmt: CardFormat, card: EmulatedCard) -> None:
    issue(fmt, card)
    debit = fmt.write(card, new_value=700, amount=-300, terminal="PARK/S12", time=NOW)
    assert fmt.read(card) == debit
    assert (debit.value, debit.counter, debit.slot, debit.last.amount) == (700, 1, "B", -300)
    credit = fmt.write(card, new_value=1700, amount=1000, terminal="HQ/T01", time=NOW)
    assert fmt.read(card) == credit and credit.slot == "A" and credit.counter == 2
    assert len({debit.fingerprint, credit.fingerprint}) == 2


def test_stale_amount_and_overdraft_are_refused(fmt: CardFormat, card: EmulatedCard) -> None:
    issue(fmt, card)
    with pytest.raises(StaleCardState):
        fmt.write(card, new_value=800, amount=-100, terminal="T", time=NOW)
    with pytest.raises(InvalidInput):
        fmt.write(card, new_value=-1, amount=-1001, terminal="T", time=NOW)
    assert fmt.read(card).counter == 0


def test_card_pulled_after_the_record_keeps_the_previous_state(fmt: CardFormat, card: EmulatedCard) -> None:
    issue(fmt, card)
    before = fmt.write(card, new_value=900, amount=-100, terminal="T1", time=NOW)
    with pytest.raises(Pulled):
        fmt.write(card, new_value=850, amount=-50, terminal="T2", time=NOW, on_step=pull_after("record"))
    card.chip.power_off()
    state = fmt.read(card)
    assert state.recovered and "previous state" in state.notice()
    assert (state.value, state.counter, state.fingerprint) == (before.value, before.counter, before.fingerprint)
    with pytest.raises(TornWriteRecovered) as raised:
        fmt.read(card, strict=True)
    assert raised.value.state == state
    after = fmt.write(card, new_value=850, amount=-50, terminal="T2", time=NOW)
    assert after.counter == before.counter + 1 and fmt.read(card) == after and not after.recovered


def test_card_pulled_inside_the_record_keeps_the_previous_state(fmt: CardFormat, card: EmulatedCard) -> None:
    before = issue(fmt, card)
    target = SLOT_BLOCKS[1]
    half = fmt.write(card, new_value=900, amount=-100, terminal="T1", time=NOW)  # into slot B
    card.poke(target[2], bytes(16))   # as if the last block of the record never arrived ...
    card.poke(VALUE_BLOCK, encode_value_block(before.value, VALUE_BLOCK))  # ... nor the value change
    state = fmt.read(card)
    assert state.recovered and state.counter == 0 and state.value == 1000 and half.counter == 1
    assert fmt.write(card, new_value=1500, amount=500, terminal="T", time=NOW).counter == 1


def test_torn_value_block_is_restored_on_the_next_write(fmt: CardFormat, card: EmulatedCard) -> None:
    issue(fmt, card)
    fmt.write(card, new_value=900, amount=-100, terminal="T1", time=NOW)
    card.poke(VALUE_BLOCK, bytes.fromhex("84030000" "7BFCFFFF" "00000000" "05FA05FA"))  # half-written
    state = fmt.read(card)
    assert state.recovered and state.value == 1000 and state.counter == 0
    after = fmt.write(card, new_value=990, amount=-10, terminal="T2", time=NOW)
    assert fmt.read(card) == after and after.counter == 1


def test_foreign_card(card: EmulatedCard) -> None:
    issue(CardFormat(bytes(16), bytes(range(1, 17))), card)
    with pytest.raises(ForeignCard, match="does not belong"):
        CardFormat(MASTER, MAC_KEY).read(card)


def test_other_mac_key_is_tampered(card: EmulatedCard) -> None:
    issue(CardFormat(MASTER, bytes(16)), card)
    with pytest.raises(TamperedCard):
        CardFormat(MASTER, MAC_KEY).read(card)


@pytest.mark.parametrize("block, offset", [(IDENTITY_BLOCK, 11), (IDENTITY_BLOCK, 15), (8, 7), (9, 0), (10, 15)])
def test_tampered_data(fmt: CardFormat, card: EmulatedCard, block: int, offset: int) -> None:
    issue(fmt, card)
    data = bytearray(card.chip.block(block))
    data[offset] ^= 0x01
    card.poke(block, bytes(data))
    with pytest.raises(TamperedCard, match="altered"):
        fmt.read(card)


def test_changed_access_bits_are_tampered(fmt: CardFormat, card: EmulatedCard) -> None:
    """Someone with key B made the record sector readable with key B only."""
    issue(fmt, card)
    keys = sector_keys(MASTER, UID, 2)
    card.poke(11, purse_trailer(keys.key_a, (0b011, 0b011, 0b011, 0b011), keys.key_b))
    with pytest.raises(TamperedCard):
        fmt.read(card)


def test_raised_value_block_is_tampered(fmt: CardFormat, card: EmulatedCard) -> None:
    issue(fmt, card)
    fmt.write(card, new_value=900, amount=-100, terminal="T1", time=NOW)
    card.poke(VALUE_BLOCK, encode_value_block(90000, VALUE_BLOCK))
    with pytest.raises(TamperedCard):
        fmt.read(card)


def test_counter_gap_between_slots_is_tampered(fmt: CardFormat, card: EmulatedCard) -> None:
    issue(fmt, card)
    for n in range(3):
        fmt.write(card, new_value=1000 - n - 1, amount=-1, terminal="T", time=NOW)
    old_slot_b = b"".join(card.chip.block(b) for b in SLOT_BLOCKS[1])   # counter 3
    fmt.write(card, new_value=996, amount=-1, terminal="T", time=NOW)   # A: 4
    fmt.write(card, new_value=995, amount=-1, terminal="T", time=NOW)   # B: 5
    fmt.write(card, new_value=994, amount=-1, terminal="T", time=NOW)   # A: 6
    for index, block in enumerate(SLOT_BLOCKS[1]):
        card.poke(block, old_slot_b[index * 16:(index + 1) * 16])       # B back to 3: gap 6 vs 3
    with pytest.raises(TamperedCard):
        fmt.read(card)


def test_clone_onto_another_uid_fails_even_with_the_right_keys(fmt: CardFormat, card: EmulatedCard) -> None:
    """Copy every data block to a card with another UID, even re-keyed with that UID's keys (which
    needs the master key): the MACs are bound to the UID."""
    issue(fmt, card)
    other = EmulatedCard(MifareClassic1K.blank(bytes.fromhex("0BADF00D")))
    fmt.personalise(other, card_number="9", card_type=1, expires=dt.date(2030, 1, 1))
    for block in (4, 5, 6, 8, 9, 10, 12, 13, 14):
        data = card.chip.block(block)
        other.poke(block, data if block != VALUE_BLOCK else encode_value_block(
            decode_value_block(data, VALUE_BLOCK) or 0, VALUE_BLOCK))
    with pytest.raises(TamperedCard):
        fmt.read(other)


def test_restored_dump_reads_ok_at_card_level(fmt: CardFormat, card: EmulatedCard) -> None:
    """Rollback: the card alone cannot tell; the counter going back is what the server sees."""
    issue(fmt, card)
    old = fmt.write(card, new_value=900, amount=-100, terminal="T1", time=NOW)
    dump = bytes(card.chip.memory)
    newer = fmt.write(card, new_value=100, amount=-800, terminal="T1", time=NOW)
    card.chip.memory[:] = dump
    restored = fmt.read(card)
    assert restored == old and restored.counter < newer.counter


def test_keys_are_validated() -> None:
    with pytest.raises(Exception, match="16-byte"):
        CardFormat(b"short", MAC_KEY)
    with pytest.raises(InvalidInput):
        CardFormat(MASTER, MASTER)


def test_from_secrets_creates_and_reuses_keys(secret_store) -> None:  # type: ignore[no-untyped-def]
    first = CardFormat.from_secrets(secret_store)
    card = EmulatedCard(MifareClassic1K.blank(UID))
    issue(first, card)
    assert CardFormat.from_secrets(secret_store).read(card).value == 1000
    assert len(secret_store.get_or_create_key("card-master-key", 16)) == 16
