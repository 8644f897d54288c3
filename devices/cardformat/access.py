"""Access conditions of the purse sectors, and trailers that are checked before they are written.

The bit layout itself (NXP MF1S50 §8.7: byte 6 = ``~C2 << 4 | ~C1``, byte 7 = ``C1 << 4 | ~C3``,
byte 8 = ``C3 << 4 | C2``, bit i = block i) is ``devices.mifare.encode_access_bits``, shared
with the reader and the lab's emulator. Conditions are 3-bit numbers ``C1C2C3`` per block,
the trailer last. Inconsistent access bits brick a sector on a real card, so ``purse_trailer``
decodes what it built and refuses anything that does not say exactly what was asked, or that
would leave no key able to rewrite the trailer.
"""

from __future__ import annotations

from suite.i18n import _

from devices.cardformat.errors import CardFormatError
from devices.mifare import (
    DATA_PURSE, DATA_TRANSPORT, DATA_WRITE_B, TRAILER_KEY_B, TRAILER_PERMISSIONS, TRANSPORT_ACCESS, TRANSPORT_KEY,
    InvalidAccessBits, build_trailer, decode_access_bits, encode_access_bits,
)

Conditions = tuple[int, int, int, int]

# identity and reserved blocks: read A|B, write B (issuing, renewal); the purse value block:
# read A|B, write B, increment B, decrement/transfer/restore A|B; trailer: key B changes it.
PURSE_SECTOR_ACCESS: Conditions = (DATA_WRITE_B, DATA_PURSE, DATA_WRITE_B, TRAILER_KEY_B)
# record slots are written on every debit, so key A (the debit key) may write them; what they
# say is protected by their MAC, not by the access bits.
SLOT_SECTOR_ACCESS: Conditions = (DATA_TRANSPORT, DATA_TRANSPORT, DATA_TRANSPORT, TRAILER_KEY_B)
TRANSPORT_TRAILER = build_trailer(TRANSPORT_KEY, TRANSPORT_ACCESS, TRANSPORT_KEY)


class InconsistentAccessBits(CardFormatError):
    code = "card_access_bits"


def access_bytes(conditions: Conditions) -> bytes:
    """Bytes 6-8 of a trailer, verified by decoding them again."""
    try:
        encoded = encode_access_bits(conditions)
        decoded = decode_access_bits(encoded)
    except (ValueError, InvalidAccessBits) as exc:
        raise InconsistentAccessBits(_("The access conditions {conditions} cannot be encoded ({reason}).").format(
            conditions=conditions, reason=exc)) from exc
    if decoded != tuple(conditions):
        raise InconsistentAccessBits(_("The access bits do not encode the conditions asked for."))
    return encoded


def purse_trailer(key_a: bytes, conditions: Conditions, key_b: bytes) -> bytes:
    """A sector trailer ``key A | access bits | GPB | key B`` safe to write."""
    write_key_a, _read_bits, write_bits, _read_key_b, write_key_b = TRAILER_PERMISSIONS[conditions[3]]
    if not (write_key_a and write_bits and write_key_b):
        raise InconsistentAccessBits(_("These access conditions would lock the sector's keys for good."))
    bits = access_bytes(conditions)
    trailer = build_trailer(key_a, conditions, key_b)
    if trailer[6:9] != bits:
        raise InconsistentAccessBits(_("The access bits do not encode the conditions asked for."))
    return trailer


__all__ = ["PURSE_SECTOR_ACCESS", "SLOT_SECTOR_ACCESS", "TRANSPORT_KEY", "TRANSPORT_TRAILER", "Conditions",
           "InconsistentAccessBits", "access_bytes", "decode_access_bits", "purse_trailer"]
