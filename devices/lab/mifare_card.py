"""A MIFARE Classic 1K in memory, behaving like the chip (NXP MF1S50 §8.6-8.7). Pure: no I/O.

Enforced: authentication per sector with key A or B (state lost on power off); access conditions
for read, write, increment, decrement, restore and transfer; key A never readable, key B
readable only where the trailer allows it (and then useless for authentication); value blocks in
the redundant format; block 0 read-only unless the card is "magic" (a Chinese CUID card);
inconsistent access bits block the sector for good, as on a real card. Every refusal is
recorded in ``refusals`` with the reason, so a lab user sees why the reader answered 63 00.
"""

from __future__ import annotations

from collections import deque
from typing import NoReturn

from devices.mifare import (BLOCK_COUNT, BLOCK_SIZE, DECREMENT, INCREMENT, KEY_A, KEY_B, READ, TRANSPORT_ACCESS,
                            TRANSPORT_KEY, TRAILER_PERMISSIONS, WRITE, InvalidAccessBits, NotAValueBlock,
                            build_trailer, data_block_allows, decode_access_bits, decode_value_block,
                            encode_value_block, is_trailer, key_b_readable, sector_of, trailer_of)

MANUFACTURER_DATA = bytes.fromhex("6263646566676869")
SAK_1K = 0x08
ATQA_1K_4BYTE = b"\x04\x00"
ATQA_1K_7BYTE = b"\x44\x00"


class CardRefused(Exception):
    """The chip answered NAK; ``str()`` says why (for the lab log, never sent on the wire)."""


def manufacturer_block(uid: bytes) -> bytes:
    """Block 0 for a 4-byte (NUID) or 7-byte UID."""
    if len(uid) == 4:
        bcc = uid[0] ^ uid[1] ^ uid[2] ^ uid[3]
        return bytes(uid) + bytes([bcc, SAK_1K]) + ATQA_1K_4BYTE + MANUFACTURER_DATA
    if len(uid) == 7:
        return bytes(uid) + bytes([SAK_1K]) + ATQA_1K_7BYTE + MANUFACTURER_DATA[:6]
    raise ValueError(f"a MIFARE Classic UID has 4 or 7 bytes, not {len(uid)}")


class MifareClassic1K:
    kind = "mifare_classic"

    def __init__(self, memory: bytes, *, uid_length: int = 4, magic: bool = False,
                 bricked: set[int] | None = None) -> None:
        if len(memory) != BLOCK_COUNT * BLOCK_SIZE:
            raise ValueError(f"a MIFARE Classic 1K image is {BLOCK_COUNT * BLOCK_SIZE} bytes, not {len(memory)}")
        if uid_length not in (4, 7):
            raise ValueError("UID length is 4 or 7")
        self.memory = bytearray(memory)
        self.uid_length = uid_length
        self.magic = magic
        self.bricked: set[int] = set(bricked or ())
        self.refusals: deque[str] = deque(maxlen=50)
        self._auth: tuple[int, str] | None = None
        self._buffer: bytes | None = None

    @classmethod
    def blank(cls, uid: bytes, *, magic: bool = False) -> "MifareClassic1K":
        """A card as it leaves the factory: transport keys FF..FF, transport access bits."""
        memory = bytearray(BLOCK_COUNT * BLOCK_SIZE)
        memory[0:BLOCK_SIZE] = manufacturer_block(uid)
        for sector in range(16):
            block = trailer_of(sector)
            memory[block * BLOCK_SIZE:(block + 1) * BLOCK_SIZE] = build_trailer(TRANSPORT_KEY, TRANSPORT_ACCESS,
                                                                                 TRANSPORT_KEY)
        return cls(bytes(memory), uid_length=len(uid), magic=magic)

    @property
    def uid(self) -> bytes:
        return bytes(self.memory[:self.uid_length])

    def block(self, number: int) -> bytes:
        """Raw memory, keys included (the lab's view, not the reader's)."""
        return bytes(self.memory[number * BLOCK_SIZE:(number + 1) * BLOCK_SIZE])

    def _set_block(self, number: int, data: bytes) -> None:
        self.memory[number * BLOCK_SIZE:(number + 1) * BLOCK_SIZE] = data

    def power_off(self) -> None:
        """Field lost: authentication and the transfer buffer are gone."""
        self._auth = None
        self._buffer = None

    # ---- authentication ----------------------------------------------------------------------

    def _conditions(self, sector: int) -> tuple[int, int, int, int]:
        if sector in self.bricked:
            raise CardRefused(f"sector {sector} is blocked (inconsistent access bits were written)")
        trailer = self.block(trailer_of(sector))
        try:
            return decode_access_bits(trailer[6:9])
        except InvalidAccessBits:
            self.bricked.add(sector)
            raise CardRefused(f"sector {sector} blocked for good: inconsistent access bits "
                              f"{trailer[6:9].hex().upper()}") from None

    def authenticate(self, block: int, key_type: str, key: bytes) -> None:
        sector = sector_of(block)
        self._auth = None
        self._buffer = None
        try:
            self._conditions(sector)
        except CardRefused as exc:
            self._refuse(f"authentication: {exc}")
        trailer = self.block(trailer_of(sector))
        stored = trailer[0:6] if key_type == KEY_A else trailer[10:16]
        if key_type not in (KEY_A, KEY_B) or bytes(key) != stored:
            self._refuse(f"authentication of sector {sector} with key {key_type}: wrong key")
        self._auth = (sector, key_type)

    def _check(self, block: int, operation: str) -> tuple[str, tuple[int, int, int, int]]:
        sector = sector_of(block)
        if self._auth is None or self._auth[0] != sector:
            self._refuse(f"{operation} block {block}: sector {sector} not authenticated")
        key_type = self._auth[1]
        try:
            conditions = self._conditions(sector)
        except CardRefused as exc:
            self._refuse(f"{operation} block {block}: {exc}")
        if key_type == KEY_B and key_b_readable(conditions[3]):
            self._refuse(f"{operation} block {block}: key B is readable in sector {sector}, so the card refuses it")
        return key_type, conditions

    def _refuse(self, reason: str) -> NoReturn:
        self.refusals.append(reason)
        raise CardRefused(reason)

    # ---- memory operations -------------------------------------------------------------------

    def read(self, block: int) -> bytes:
        key_type, conditions = self._check(block, READ)
        data = self.block(block)
        if is_trailer(block):
            permissions = TRAILER_PERMISSIONS[conditions[3]]
            access = data[6:10] if key_type in permissions[1] else bytes(4)
            key_b = data[10:16] if key_type in permissions[3] else bytes(6)
            return bytes(6) + access + key_b
        if not data_block_allows(conditions[block % 4], READ, key_type):
            self._refuse(f"read block {block}: access condition {conditions[block % 4]:03b} denies key {key_type}")
        return data

    def write(self, block: int, data: bytes) -> None:
        if len(data) != BLOCK_SIZE:
            self._refuse(f"write block {block}: {len(data)} bytes instead of 16")
        key_type, conditions = self._check(block, WRITE)
        if is_trailer(block):
            self._write_trailer(block, bytes(data), key_type, conditions[3])
            return
        if not data_block_allows(conditions[block % 4], WRITE, key_type):
            self._refuse(f"write block {block}: access condition {conditions[block % 4]:03b} denies key {key_type}")
        if block == 0:
            self._write_manufacturer_block(bytes(data))
            return
        self._set_block(block, bytes(data))

    def _write_manufacturer_block(self, data: bytes) -> None:
        if not self.magic:
            self._refuse("write block 0: manufacturer block is read-only on a genuine card")
        if self.uid_length == 4 and data[0] ^ data[1] ^ data[2] ^ data[3] != data[4]:
            self._refuse("write block 0: BCC does not match the UID (it would brick a real magic card)")
        self._set_block(0, data)

    def _write_trailer(self, block: int, data: bytes, key_type: str, condition: int) -> None:
        write_key_a, _read_bits, write_bits, _read_key_b, write_key_b = TRAILER_PERMISSIONS[condition]
        current = bytearray(self.block(block))
        if not (key_type in write_key_a or key_type in write_bits or key_type in write_key_b):
            self._refuse(f"write trailer {block}: access condition {condition:03b} lets key {key_type} change nothing")
        if key_type in write_key_a:
            current[0:6] = data[0:6]
        if key_type in write_bits:
            current[6:10] = data[6:10]
        if key_type in write_key_b:
            current[10:16] = data[10:16]
        self._set_block(block, bytes(current))
        try:
            decode_access_bits(current[6:9])
        except InvalidAccessBits:
            sector = sector_of(block)
            self.bricked.add(sector)
            self.refusals.append(f"sector {sector} blocked for good: inconsistent access bits "
                                 f"{bytes(current[6:9]).hex().upper()} written")
            self._auth = None

    def _value(self, block: int, operation: str) -> tuple[int, int]:
        key_type, conditions = self._check(block, operation)
        if is_trailer(block) or block == 0:
            self._refuse(f"{operation} block {block}: not a data block")
        if not data_block_allows(conditions[block % 4], operation, key_type):
            self._refuse(f"{operation} block {block}: access condition {conditions[block % 4]:03b} "
                         f"denies key {key_type}")
        try:
            return decode_value_block(self.block(block))
        except NotAValueBlock:
            self._refuse(f"{operation} block {block}: not a value block")

    def increment(self, block: int, amount: int) -> None:
        value, address = self._value(block, INCREMENT)
        self._load_buffer(value + amount, address, block, "increment")

    def decrement(self, block: int, amount: int) -> None:
        value, address = self._value(block, DECREMENT)
        self._load_buffer(value - amount, address, block, "decrement")

    def restore(self, block: int) -> None:
        value, address = self._value(block, DECREMENT)
        self._load_buffer(value, address, block, "restore")

    def _load_buffer(self, value: int, address: int, block: int, operation: str) -> None:
        if not -(2 ** 31) <= value < 2 ** 31:
            self._refuse(f"{operation} block {block}: value overflow")
        self._buffer = encode_value_block(value, address)

    def transfer(self, block: int) -> None:
        if self._buffer is None:
            self._refuse(f"transfer to block {block}: no increment, decrement or restore before it")
        key_type, conditions = self._check(block, DECREMENT)
        if is_trailer(block) or block == 0:
            self._refuse(f"transfer to block {block}: not a data block")
        if not data_block_allows(conditions[block % 4], DECREMENT, key_type):
            self._refuse(f"transfer to block {block}: access condition {conditions[block % 4]:03b} "
                         f"denies key {key_type}")
        self._set_block(block, self._buffer)
        self._buffer = None

    def read_value(self, block: int) -> int:
        data = self.read(block)
        try:
            return decode_value_block(data)[0]
        except NotAValueBlock:
            self._refuse(f"read value block {block}: not a value block")


__all__ = ["CardRefused", "MifareClassic1K", "manufacturer_block"]
