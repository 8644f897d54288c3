"""Where the purse lives on a MIFARE Classic 1K and how each block is encoded.

Block map (docs/card-format.md has the byte-level tables):

    sector 1  block 4  identity: magic, layout version, card type, card number, expiry
              block 5  purse value, a MIFARE value block (address byte 5)
              block 6  reserved (zeros)
    sector 2  blocks 8-10   record slot A (48 bytes)
    sector 3  blocks 12-14  record slot B (48 bytes)

A record slot holds the transaction counter, the purse value the record expects, the last
transaction (amount, time, terminal) and an 8-byte AES-CMAC over the card UID, the identity
block and the record. Integers are big-endian, except inside the value block (little-endian,
as the datasheet defines it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.cmac import CMAC

from suite.errors import InvalidInput
from suite.i18n import _

from devices import mifare

BLOCK_SIZE = mifare.BLOCK_SIZE
IDENTITY_BLOCK = 4
VALUE_BLOCK = 5
RESERVED_BLOCK = 6
SLOT_BLOCKS: tuple[tuple[int, ...], ...] = ((8, 9, 10), (12, 13, 14))
SLOT_NAMES = ("A", "B")
PURSE_SECTOR = 1
SLOT_SECTORS = (2, 3)
SECTORS = (PURSE_SECTOR, *SLOT_SECTORS)

MAGIC = 0x56            # "V"
LAYOUT_VERSION = 1
RECORD_VERSION = 1
RECORD_SIZE = 48
MAC_SIZE = 8
TERMINAL_SIZE = 16
MAX_VALUE = 2**31 - 1
MAX_COUNTER = 2**32 - 1
MAX_CARD_NUMBER_DIGITS = 16
MAC_DOMAIN = b"VenueSuite purse record v1"
_RECORD_BODY = struct.Struct(">BIIiI16s7x")  # version, counter, value, amount, time, terminal, 7 zero bytes
EMPTY_RECORD = bytes(RECORD_SIZE)


@dataclass(frozen=True)
class Identity:
    card_number: str
    card_type: int
    expires: dt.date


@dataclass(frozen=True)
class Record:
    counter: int
    value: int
    amount: int
    time: dt.datetime
    terminal: str


def _bcd(digits: str, size: int) -> bytes:
    padded = digits + "F" * (2 * size - len(digits))
    return bytes.fromhex(padded)


def _unbcd(data: bytes) -> str | None:
    text = data.hex().upper().rstrip("F")
    return text if text.isdigit() else None


def encode_identity(identity: Identity) -> bytes:
    number = identity.card_number
    if not (number.isascii() and number.isdigit() and 1 <= len(number) <= MAX_CARD_NUMBER_DIGITS):
        raise InvalidInput(_("A card number is 1 to {max} digits; got {value!r}.").format(
            max=MAX_CARD_NUMBER_DIGITS, value=number))
    if not 0 <= identity.card_type <= 0xFFFF:
        raise InvalidInput(_("A card type code is a number from 0 to 65535; got {value!r}.").format(
            value=identity.card_type))
    expires = identity.expires
    if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
        raise InvalidInput(_("The expiry must be a date."))
    return (bytes((MAGIC, LAYOUT_VERSION)) + struct.pack(">H", identity.card_type) + _bcd(number, 8)
            + _bcd(expires.strftime("%Y%m%d"), 4))


def decode_identity(block: bytes) -> Identity | None:
    """The identity in block 4, or None when the block is not one of ours."""
    if len(block) != BLOCK_SIZE or block[0] != MAGIC or block[1] != LAYOUT_VERSION:
        return None
    number, expiry = _unbcd(block[4:12]), _unbcd(block[12:16])
    if not number or not expiry or len(expiry) != 8:
        return None
    try:
        expires = dt.datetime.strptime(expiry, "%Y%m%d").date()
    except ValueError:
        return None
    return Identity(number, struct.unpack(">H", block[2:4])[0], expires)


def encode_value_block(value: int, address: int) -> bytes:
    """A MIFARE value block: ``V | ~V | V | addr | ~addr | addr | ~addr`` (V little-endian)."""
    if not 0 <= value <= MAX_VALUE:
        raise InvalidInput(_("A purse value is from 0 to {max}; got {value}.").format(max=MAX_VALUE, value=value))
    return mifare.encode_value_block(value, address)


def decode_value_block(block: bytes, address: int) -> int | None:
    """The value, or None when the block is not a well-formed value block for ``address``."""
    try:
        value, stored_address = mifare.decode_value_block(block)
    except mifare.NotAValueBlock:
        return None
    return int(value) if stored_address == address else None


def _epoch(time: dt.datetime) -> int:
    if not isinstance(time, dt.datetime):
        raise InvalidInput(_("The transaction time must be a date and time; got {value!r}.").format(value=time))
    if time.tzinfo is None:
        time = time.replace(tzinfo=dt.timezone.utc)
    seconds = int(time.timestamp())
    if not 0 <= seconds <= MAX_COUNTER:
        raise InvalidInput(_("The transaction time {time} cannot be stored on the card.").format(time=time))
    return seconds


def stored_time(time: dt.datetime) -> dt.datetime:
    """``time`` as the card keeps it: whole seconds, UTC (a naive time is taken as UTC)."""
    return dt.datetime.fromtimestamp(_epoch(time), dt.timezone.utc)


def terminal_bytes(terminal: str) -> bytes:
    raw = terminal.encode("utf-8")
    if len(raw) > TERMINAL_SIZE or b"\0" in raw:
        raise InvalidInput(_("A terminal id on the card is at most {size} bytes; {terminal!r} is too long.").format(
            size=TERMINAL_SIZE, terminal=terminal))
    return raw


def record_body(record: Record) -> bytes:
    if not 0 <= record.counter <= MAX_COUNTER:
        raise InvalidInput(_("The transaction counter {counter} is out of range.").format(counter=record.counter))
    if not 0 <= record.value <= MAX_VALUE:
        raise InvalidInput(_("A purse value is from 0 to {max}; got {value}.").format(
            max=MAX_VALUE, value=record.value))
    if not -2**31 <= record.amount <= MAX_VALUE:
        raise InvalidInput(_("A transaction amount must fit in 32 bits; got {amount}.").format(amount=record.amount))
    return _RECORD_BODY.pack(RECORD_VERSION, record.counter, record.value, record.amount, _epoch(record.time),
                             terminal_bytes(record.terminal))


def mac_input(uid: bytes, identity_block: bytes, slot: int, body: bytes) -> bytes:
    return MAC_DOMAIN + bytes((len(uid),)) + uid + identity_block + bytes((slot,)) + body


def record_mac(mac_key: bytes, uid: bytes, identity_block: bytes, slot: int, body: bytes) -> bytes:
    """AES-CMAC (RFC 4493) truncated to 8 bytes (NIST SP 800-38B allows 64-bit tags when
    forgery attempts are limited: every guess costs a card tap)."""
    mac = CMAC(AES(mac_key))
    mac.update(mac_input(uid, identity_block, slot, body))
    return mac.finalize()[:MAC_SIZE]


def encode_record(record: Record, *, mac_key: bytes, uid: bytes, identity_block: bytes, slot: int) -> bytes:
    body = record_body(record)
    return body + record_mac(mac_key, uid, identity_block, slot, body)


def decode_record(data: bytes, *, mac_key: bytes, uid: bytes, identity_block: bytes, slot: int) -> Record | None:
    """The record in a slot's 48 bytes, or None when its MAC (or its shape) is wrong."""
    if len(data) != RECORD_SIZE:
        return None
    body, tag = data[:-MAC_SIZE], data[-MAC_SIZE:]
    expected = record_mac(mac_key, uid, identity_block, slot, body)
    if not hmac.compare_digest(tag, expected):
        return None
    version, counter, value, amount, seconds, terminal = _RECORD_BODY.unpack(body)
    if version != RECORD_VERSION or body[33:] != bytes(7) or value > MAX_VALUE:
        return None
    name = terminal.rstrip(b"\0")
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return Record(counter, value, amount, dt.datetime.fromtimestamp(seconds, dt.timezone.utc), text)


def fingerprint(uid: bytes, identity_block: bytes, body: bytes) -> str:
    """A stable digest of one card state: the same state always gives the same fingerprint;
    two states with one counter but different fingerprints are a fork (a clone spent twice)."""
    return hashlib.sha256(b"fingerprint" + mac_input(uid, identity_block, 0, body)).hexdigest()[:32]


def split_blocks(data: bytes) -> list[bytes]:
    return [data[i:i + BLOCK_SIZE] for i in range(0, len(data), BLOCK_SIZE)]
