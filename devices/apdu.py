"""ISO 7816-4 APDUs: building and parsing short commands, status words, card kind from the ATR.

Shared by the PC/SC driver (``devices.pcsc``) and the card emulators of the virtual lab
(``devices.lab``), so both ends of the wire agree on one definition.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite.i18n import N_, _

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282          # fewer bytes than Le before the end of the file
SW_FAILED = 0x6300               # ACR122U: the operation failed (auth, access conditions, ...)
SW_WRONG_LENGTH = 0x6700
SW_NO_CURRENT_EF = 0x6986        # command not allowed: no current elementary file
SW_WRONG_DATA = 0x6A80
SW_FUNCTION_NOT_SUPPORTED = 0x6A81
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_DATA_NOT_FOUND = 0x6A88
SW_OFFSET_OUTSIDE = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00

_SW_MEANINGS = {
    SW_OK: N_("success"),
    SW_END_OF_FILE: N_("end of file reached before reading the expected length"),
    SW_FAILED: N_("operation failed (authentication or access conditions)"),
    SW_WRONG_LENGTH: N_("wrong length"),
    SW_NO_CURRENT_EF: N_("command not allowed: no file selected"),
    SW_WRONG_DATA: N_("incorrect data"),
    SW_FUNCTION_NOT_SUPPORTED: N_("function not supported"),
    SW_FILE_NOT_FOUND: N_("file or application not found"),
    SW_WRONG_P1P2: N_("incorrect parameters P1-P2"),
    SW_DATA_NOT_FOUND: N_("referenced data not found"),
    SW_OFFSET_OUTSIDE: N_("offset outside the file"),
    SW_INS_NOT_SUPPORTED: N_("instruction not supported"),
    SW_CLA_NOT_SUPPORTED: N_("class not supported"),
}

# PC/SC part 3 storage-card ATR: 3B 8F 80 01 80 4F 0C <RID A0 00 00 03 06> <standard> <name 2> 00 00 00 00 <TCK>
_PCSC_STORAGE_PREFIX = bytes.fromhex("804F0CA000000306")
_STORAGE_CARD_NAMES = {0x0001: "mifare_classic", 0x0002: "mifare_classic", 0x0026: "mifare_classic",
                       0x0003: "mifare_ultralight"}


class MalformedApdu(ValueError):
    """A command APDU that does not parse as a short ISO 7816-4 command."""


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le field; 0 in the field means 256

    @property
    def expected_length(self) -> int:
        if self.le is None:
            return 0
        return 256 if self.le == 0 else self.le


def command(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    """A short command APDU (cases 1-4); ``le=0`` asks for up to 256 bytes."""
    if len(data) > 255:
        raise ValueError(f"command data too long for a short APDU: {len(data)} bytes")
    apdu = bytes([cla & 0xFF, ins & 0xFF, p1 & 0xFF, p2 & 0xFF])
    if data:
        apdu += bytes([len(data)]) + bytes(data)
    if le is not None:
        apdu += bytes([le & 0xFF])
    return apdu


def parse_command(apdu: bytes) -> Command:
    """Split a short command APDU into its fields (cases 1-4); extended length is refused."""
    if len(apdu) < 4:
        raise MalformedApdu(f"APDU shorter than a header: {apdu.hex()}")
    cla, ins, p1, p2 = apdu[:4]
    body = apdu[4:]
    if not body:
        return Command(cla, ins, p1, p2)
    if len(body) == 1:
        return Command(cla, ins, p1, p2, le=body[0])
    lc = body[0]
    if lc == 0:
        raise MalformedApdu(f"extended-length APDU not supported: {apdu.hex()}")
    if len(body) == 1 + lc:
        return Command(cla, ins, p1, p2, data=bytes(body[1:]))
    if len(body) == 2 + lc:
        return Command(cla, ins, p1, p2, data=bytes(body[1:-1]), le=body[-1])
    raise MalformedApdu(f"Lc={lc} does not match the APDU length: {apdu.hex()}")


def split_response(response: bytes) -> tuple[bytes, int]:
    """``(data, sw)`` of a response APDU; a response shorter than a status word is malformed."""
    if len(response) < 2:
        raise MalformedApdu(f"response shorter than a status word: {response.hex()}")
    return bytes(response[:-2]), (response[-2] << 8) | response[-1]


def response(data: bytes = b"", sw: int = SW_OK) -> bytes:
    return bytes(data) + bytes([(sw >> 8) & 0xFF, sw & 0xFF])


def sw_text(sw: int) -> str:
    """``"6A82 (file or application not found)"`` in the current language."""
    meaning = _SW_MEANINGS.get(sw)
    if meaning is None and (sw & 0xFF00) == 0x6100:
        meaning = N_("more data available")
    if meaning is None and (sw & 0xFF00) == 0x6C00:
        meaning = N_("wrong Le")
    return f"{sw:04X} ({_(meaning)})" if meaning else f"{sw:04X}"


def hexstr(data: bytes) -> str:
    """Upper-case hex without separators, the form UIDs and ATRs take in events."""
    return bytes(data).hex().upper()


def parse_hex(text: str) -> bytes:
    """Hex with optional spaces or colons; ``ValueError`` with a clear message otherwise."""
    cleaned = text.replace(" ", "").replace(":", "").replace("-", "")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise ValueError(_("{text!r} is not hexadecimal").format(text=text)) from None


def atr_tck(body: bytes) -> int:
    """The check byte TCK: XOR of every ATR byte after TS."""
    check = 0
    for byte in body[1:]:
        check ^= byte
    return check


def contactless_atr(historical: bytes) -> bytes:
    """PC/SC ATR of a contactless card: ``3B 8n 80 01 <historical bytes> <TCK>``."""
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes")
    body = bytes([0x3B, 0x80 | len(historical), 0x80, 0x01]) + bytes(historical)
    return body + bytes([atr_tck(body)])


def card_kind_from_atr(atr: bytes) -> str:
    """``"mifare_classic"``, ``"mifare_ultralight"``, ``"storage"``, ``"cpu"`` or ``""``.

    A PC/SC reader builds the ATR of a contactless card (PC/SC part 3): storage cards carry the
    PC/SC RID and a card name; ISO 14443-4 cards carry the historical bytes of their ATS."""
    atr = bytes(atr)
    if len(atr) < 4 or atr[0] != 0x3B or atr[2:4] != b"\x80\x01" or (atr[1] & 0xF0) != 0x80:
        return ""
    historical = atr[4:4 + (atr[1] & 0x0F)]
    if historical.startswith(_PCSC_STORAGE_PREFIX) and len(historical) >= 11:
        name = (historical[9] << 8) | historical[10]
        return _STORAGE_CARD_NAMES.get(name, "storage")
    return "cpu"


__all__ = ["Command", "MalformedApdu", "SW_OK", "atr_tck", "card_kind_from_atr", "command", "contactless_atr",
           "hexstr", "parse_command", "parse_hex", "response", "split_response", "sw_text"]
