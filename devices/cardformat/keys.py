"""Per-card MIFARE Classic keys, diversified from a master key (NXP AN10922, AES-128).

AN10922 builds ``M = 0x01 | diversification input`` and takes ``AES-CMAC(master, M)``, padding
``M`` to 32 bytes (``80 00 ..``) with CMAC's K2 subkey on the last block. When
``16 < len(M) < 32`` that is exactly what standard CMAC (RFC 4493, ``cryptography``'s ``CMAC``)
does, so inputs are kept in that range; the NXP example vector is in the unit tests.

Our diversification input is ``UID | AID | sector | key type | system identifier`` (20 bytes of
``M`` for a 4-byte UID, 23 for a 7-byte one) and a MIFARE key is the first six bytes of the
result, so key A and key B of a sector differ, and every card and sector has its own keys.

The master key and the MAC key live in the keyring (``SecretStore``), never on a card.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.cmac import CMAC

from suite.i18n import _

from devices.cardformat.errors import CardFormatError

AES128_DIVERSIFICATION_CONSTANT = 0x01
APPLICATION_ID = bytes.fromhex("56C501")     # 3-byte application id of the purse
SYSTEM_IDENTIFIER = b"VenueSuite"
KEY_TYPE_BYTES = {"A": 0x0A, "B": 0x0B}
MASTER_KEY_SECRET = "card-master-key"
MAC_KEY_SECRET = "card-mac-key"
KEY_SIZE = 16
MIFARE_KEY_SIZE = 6


class BadKey(CardFormatError):
    code = "card_key"


def check_key(key: bytes, name: str) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
        raise BadKey(_("The {name} must be a 16-byte AES key.").format(name=name))
    return bytes(key)


def an10922_aes128(master_key: bytes, diversification_input: bytes) -> bytes:
    """The 16-byte AN10922 AES-128 diversified key (inputs of 16 to 30 bytes)."""
    message = bytes((AES128_DIVERSIFICATION_CONSTANT,)) + bytes(diversification_input)
    if not 16 < len(message) < 32:  # AN10922 padding equals CMAC padding only in this range
        raise BadKey(_("The diversification input has the wrong length."))
    if len(master_key) != KEY_SIZE:
        check_key(master_key, _("card master key"))
    mac = CMAC(AES(bytes(master_key)))
    mac.update(message)
    return mac.finalize()


def diversification_input(uid: bytes, sector: int, key_type: str) -> bytes:
    if len(uid) not in (4, 7, 10):
        raise BadKey(_("A card UID is 4, 7 or 10 bytes; got {count}.").format(count=len(uid)))
    if not 0 <= sector < 40:
        raise BadKey(_("Sector {sector} does not exist.").format(sector=sector))
    if key_type not in KEY_TYPE_BYTES:
        raise BadKey(_("Key type must be 'A' or 'B'; got {value!r}.").format(value=key_type))
    return bytes(uid) + APPLICATION_ID + bytes((sector, KEY_TYPE_BYTES[key_type])) + SYSTEM_IDENTIFIER


def diversified_key(master_key: bytes, uid: bytes, sector: int, key_type: str) -> bytes:
    """The 6-byte MIFARE key ``key_type`` of ``sector`` on the card ``uid``."""
    return an10922_aes128(master_key, diversification_input(uid, sector, key_type))[:MIFARE_KEY_SIZE]


@dataclass(frozen=True)
class SectorKeys:
    key_a: bytes
    key_b: bytes

    def key(self, key_type: str) -> bytes:
        return self.key_a if key_type == "A" else self.key_b


def sector_keys(master_key: bytes, uid: bytes, sector: int) -> SectorKeys:
    return SectorKeys(diversified_key(master_key, uid, sector, "A"), diversified_key(master_key, uid, sector, "B"))
