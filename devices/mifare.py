"""MIFARE Classic 1K memory rules and the ACR122U pseudo-APDUs that reach it.

Memory (NXP MF1S50 §8.6-8.7): 16 sectors x 4 blocks x 16 bytes; the last block of each sector is
its trailer ``KeyA(6) | access bits(3) | GPB(1) | KeyB(6)``. Access conditions are written here
as 3-bit numbers ``C1C2C3`` (``0b110`` is "110", the rechargeable-purse condition), one per block
of the sector (index 3 = the trailer). Value blocks hold a signed 32-bit value in the redundant
format ``V | ~V | V | addr | ~addr | addr | ~addr`` (little-endian on the card; the ACR122U's
``FF D7``/``FF B1`` put it big-endian on the wire).

Pure functions and constants: used by the PC/SC driver, the card format and the lab's emulator.
"""

from __future__ import annotations

import struct

from devices.apdu import command

BLOCK_SIZE = 16
BLOCK_COUNT = 64
SECTOR_COUNT = 16
BLOCKS_PER_SECTOR = 4
KEY_SIZE = 6
KEY_A = "A"
KEY_B = "B"
TRANSPORT_KEY = b"\xff" * KEY_SIZE
DEFAULT_GPB = 0x69

# data-block conditions (C1C2C3)
DATA_TRANSPORT = 0b000        # read/write/increment/decrement with A or B
DATA_READ_ONLY = 0b010        # read A|B, nothing else
DATA_WRITE_B = 0b100          # read A|B, write B
DATA_PURSE = 0b110            # read A|B, write B, increment B, decrement/transfer/restore A|B
DATA_DEBIT_ONLY = 0b001       # read A|B, decrement/transfer/restore A|B
DATA_B_ONLY = 0b011           # read B, write B
DATA_READ_B = 0b101           # read B
DATA_LOCKED = 0b111           # nothing
# trailer conditions (C1C2C3)
TRAILER_TRANSPORT = 0b001     # key A writes everything, key B readable (so unusable for auth)
TRAILER_KEY_B = 0b011         # key B writes keys and access bits; access bits readable with A|B
TRAILER_FROZEN = 0b111        # nothing can ever change
TRANSPORT_ACCESS = (DATA_TRANSPORT, DATA_TRANSPORT, DATA_TRANSPORT, TRAILER_TRANSPORT)

READ, WRITE, INCREMENT, DECREMENT = "read", "write", "increment", "decrement"  # decrement covers transfer/restore
_A, _B, _AB, _NEVER = frozenset("A"), frozenset("B"), frozenset("AB"), frozenset()

# condition -> (read, write, increment, decrement/transfer/restore), MF1S50 table 8
DATA_PERMISSIONS: dict[int, tuple[frozenset[str], ...]] = {
    0b000: (_AB, _AB, _AB, _AB),
    0b010: (_AB, _NEVER, _NEVER, _NEVER),
    0b100: (_AB, _B, _NEVER, _NEVER),
    0b110: (_AB, _B, _B, _AB),
    0b001: (_AB, _NEVER, _NEVER, _AB),
    0b011: (_B, _B, _NEVER, _NEVER),
    0b101: (_B, _NEVER, _NEVER, _NEVER),
    0b111: (_NEVER, _NEVER, _NEVER, _NEVER),
}
# condition -> (write key A, read access bits, write access bits, read key B, write key B), table 7
TRAILER_PERMISSIONS: dict[int, tuple[frozenset[str], ...]] = {
    0b000: (_A, _A, _NEVER, _A, _A),
    0b010: (_NEVER, _A, _NEVER, _A, _NEVER),
    0b100: (_B, _AB, _NEVER, _NEVER, _B),
    0b110: (_NEVER, _AB, _NEVER, _NEVER, _NEVER),
    0b001: (_A, _A, _A, _A, _A),
    0b011: (_B, _AB, _B, _NEVER, _B),
    0b101: (_NEVER, _AB, _B, _NEVER, _NEVER),
    0b111: (_NEVER, _AB, _NEVER, _NEVER, _NEVER),
}
_OPERATION_INDEX = {READ: 0, WRITE: 1, INCREMENT: 2, DECREMENT: 3}


class InvalidAccessBits(ValueError):
    """Access bytes whose inverted copies do not match: a real card blocks the sector for good."""


class NotAValueBlock(ValueError):
    """A block that does not hold the redundant value-block format."""


def sector_of(block: int) -> int:
    check_block(block)
    return block // BLOCKS_PER_SECTOR


def trailer_of(sector: int) -> int:
    return sector * BLOCKS_PER_SECTOR + BLOCKS_PER_SECTOR - 1


def first_block(sector: int) -> int:
    return sector * BLOCKS_PER_SECTOR


def is_trailer(block: int) -> bool:
    return block % BLOCKS_PER_SECTOR == BLOCKS_PER_SECTOR - 1


def check_block(block: int) -> None:
    if not 0 <= block < BLOCK_COUNT:
        raise ValueError(f"block {block} outside 0..{BLOCK_COUNT - 1} of a MIFARE Classic 1K")


def encode_access_bits(conditions: tuple[int, int, int, int]) -> bytes:
    """Bytes 6-8 of a trailer from four ``C1C2C3`` conditions (blocks 0, 1, 2, trailer)."""
    if len(conditions) != 4 or any(not 0 <= c <= 7 for c in conditions):
        raise ValueError("four conditions 0b000..0b111 expected (blocks 0-2 and the trailer)")
    c1 = sum(((c >> 2) & 1) << i for i, c in enumerate(conditions))
    c2 = sum(((c >> 1) & 1) << i for i, c in enumerate(conditions))
    c3 = sum((c & 1) << i for i, c in enumerate(conditions))
    return bytes([((~c2 & 0xF) << 4) | (~c1 & 0xF), (c1 << 4) | (~c3 & 0xF), (c3 << 4) | c2])


def decode_access_bits(access: bytes) -> tuple[int, int, int, int]:
    """Four ``C1C2C3`` conditions from trailer bytes 6-8; ``InvalidAccessBits`` when inconsistent."""
    if len(access) < 3:
        raise InvalidAccessBits("three access bytes expected")
    b6, b7, b8 = access[0], access[1], access[2]
    c1, c2, c3 = b7 >> 4, b8 & 0xF, b8 >> 4
    if (~c1 & 0xF) != (b6 & 0xF) or (~c2 & 0xF) != (b6 >> 4) or (~c3 & 0xF) != (b7 & 0xF):
        raise InvalidAccessBits(f"inconsistent access bits {bytes(access[:3]).hex().upper()}")
    return tuple(((c1 >> i) & 1) << 2 | ((c2 >> i) & 1) << 1 | ((c3 >> i) & 1) for i in range(4))  # type: ignore[return-value]


def data_block_allows(condition: int, operation: str, key_type: str) -> bool:
    """May ``key_type`` ("A"/"B") do ``operation`` on a data block with this condition?"""
    return key_type in DATA_PERMISSIONS[condition][_OPERATION_INDEX[operation]]


def key_b_readable(trailer_condition: int) -> bool:
    """Key B readable means it is plain data: the card refuses it for memory access."""
    return bool(TRAILER_PERMISSIONS[trailer_condition][3])


def build_trailer(key_a: bytes, conditions: tuple[int, int, int, int], key_b: bytes, gpb: int = DEFAULT_GPB) -> bytes:
    if len(key_a) != KEY_SIZE or len(key_b) != KEY_SIZE:
        raise ValueError("MIFARE keys are 6 bytes")
    return bytes(key_a) + encode_access_bits(conditions) + bytes([gpb & 0xFF]) + bytes(key_b)


def encode_value_block(value: int, address: int) -> bytes:
    """The 16-byte value-block format for a signed 32-bit ``value``."""
    if not -(2 ** 31) <= value < 2 ** 31:
        raise ValueError(f"value {value} outside a signed 32-bit integer")
    raw = struct.pack("<i", value)
    inverted = bytes(b ^ 0xFF for b in raw)
    addr = address & 0xFF
    return raw + inverted + raw + bytes([addr, addr ^ 0xFF, addr, addr ^ 0xFF])


def decode_value_block(block: bytes) -> tuple[int, int]:
    """``(value, address)``; ``NotAValueBlock`` when the redundant copies disagree."""
    if len(block) != BLOCK_SIZE:
        raise NotAValueBlock("16 bytes expected")
    raw, inverted, copy = block[0:4], block[4:8], block[8:12]
    addr = block[12:16]
    if raw != copy or bytes(b ^ 0xFF for b in raw) != inverted or addr[0] != addr[2] \
            or addr[1] != addr[3] or addr[0] ^ 0xFF != addr[1]:
        raise NotAValueBlock(f"not a value block: {bytes(block).hex().upper()}")
    return struct.unpack("<i", raw)[0], addr[0]


# ---- ACR122U pseudo-APDUs (API v2.04) ------------------------------------------------------------

VALUE_STORE, VALUE_INCREMENT, VALUE_DECREMENT = 0x00, 0x01, 0x02


def apdu_get_uid() -> bytes:
    return command(0xFF, 0xCA, 0x00, 0x00, le=0)


def apdu_load_key(key: bytes, slot: int = 0) -> bytes:
    if len(key) != KEY_SIZE:
        raise ValueError("MIFARE keys are 6 bytes")
    if slot not in (0, 1):
        raise ValueError("the ACR122U has key slots 0 and 1")
    return command(0xFF, 0x82, 0x00, slot, bytes(key))


def apdu_authenticate(block: int, key_type: str, slot: int = 0) -> bytes:
    check_block(block)
    if key_type not in (KEY_A, KEY_B):
        raise ValueError("key type is 'A' or 'B'")
    return command(0xFF, 0x86, 0x00, 0x00, bytes([0x01, 0x00, block, 0x60 if key_type == KEY_A else 0x61, slot]))


def apdu_read_block(block: int) -> bytes:
    check_block(block)
    return command(0xFF, 0xB0, 0x00, block, le=BLOCK_SIZE)


def apdu_write_block(block: int, data: bytes) -> bytes:
    check_block(block)
    if len(data) != BLOCK_SIZE:
        raise ValueError("a MIFARE block is 16 bytes")
    return command(0xFF, 0xD6, 0x00, block, bytes(data))


def apdu_value(block: int, operation: int, value: int) -> bytes:
    check_block(block)
    return command(0xFF, 0xD7, 0x00, block, bytes([operation]) + struct.pack(">i", value))


def apdu_copy_value(source: int, target: int) -> bytes:
    """Restore ``source`` into the transfer buffer and transfer it to ``target``."""
    check_block(source)
    check_block(target)
    return command(0xFF, 0xD7, 0x00, source, bytes([0x03, target]))


def apdu_read_value(block: int) -> bytes:
    check_block(block)
    return command(0xFF, 0xB1, 0x00, block, le=4)


def apdu_firmware() -> bytes:
    return command(0xFF, 0x00, 0x48, 0x00, le=0)


def apdu_led_buzzer(led_control: int, t1: int, t2: int, repeat: int, buzzer: int) -> bytes:
    """``FF 00 40 <P2> 04 <T1> <T2> <rep> <buzzer>``: T1/T2 in units of 100 ms; buzzer 0 off,
    1 during T1, 2 during T2, 3 both."""
    return command(0xFF, 0x00, 0x40, led_control, bytes([t1, t2, repeat, buzzer]))


# LED control byte: bit0 final red, bit1 final green, bit2 red mask, bit3 green mask,
# bit4 initial red blink state, bit5 initial green blink state, bit6 red blink mask, bit7 green blink mask
GOOD_TAP = apdu_led_buzzer(0xA8, 1, 1, 1, 0x01)   # one green blink, one short beep
BAD_TAP = apdu_led_buzzer(0x54, 2, 2, 3, 0x03)    # three red blinks with beeps


__all__ = ["BAD_TAP", "DATA_PURSE", "GOOD_TAP", "InvalidAccessBits", "KEY_A", "KEY_B", "NotAValueBlock",
           "TRANSPORT_ACCESS", "TRANSPORT_KEY", "build_trailer", "decode_access_bits", "decode_value_block",
           "encode_access_bits", "encode_value_block", "sector_of", "trailer_of"]
