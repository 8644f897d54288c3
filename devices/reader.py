"""The card-reader interface: the ``Card`` handle, the reader protocol and card errors.

A reader driver (``devices.pcsc``) posts ``ReaderAdded``/``ReaderRemoved`` and
``CardPresented``/``CardRemoved`` (``reader`` = the device id of ``[devices.<id>]``) and hands
out the presented card as a ``Card``: ``host.device(event.reader).card()``. Card operations are
blocking (a few ms each): call them from a worker thread, never from Tk.

MIFARE Classic operations use the ACR122U pseudo-APDUs (``devices.mifare``); any reader whose
driver speaks them (most PC/SC contactless readers: ACR122U, ACR1252U, ...) gets them for free
by implementing ``Card._exchange``.
"""

from __future__ import annotations

import struct
import threading
from typing import Protocol

from devices import mifare
from devices.apdu import SW_FAILED, SW_OK, hexstr, split_response, sw_text
from suite.device_host import DeviceError
from suite.i18n import N_, _


class CardError(DeviceError):
    """A card operation failed; the message says what to do."""

    code = "card"


class NoCard(CardError):
    code = "no_card"


class CardRemovedError(CardError):
    """The card left the reader (before or during the operation): nothing after it happened."""

    code = "card_removed"


class AuthenticationFailed(CardError):
    """Wrong key for a MIFARE sector (or the sector is blocked)."""

    code = "card_authentication_failed"

    def __init__(self, message: str, *, sector: int, block: int, key_type: str) -> None:
        super().__init__(message, sector=sector, block=block, key_type=key_type)
        self.sector, self.block, self.key_type = sector, block, key_type


class AccessDenied(CardError):
    """The card refused a read, write or value operation: the access conditions of the block do
    not allow it with the key used, the sector is not authenticated, or the block does not hold a
    value (for value operations)."""

    code = "card_access_denied"

    def __init__(self, message: str, *, operation: str, block: int) -> None:
        super().__init__(message, operation=operation, block=block)
        self.operation, self.block = operation, block


class CardStatusError(CardError):
    """An ISO 7816 command answered with a status word other than 9000."""

    code = "card_status"

    def __init__(self, message: str, *, sw: int) -> None:
        super().__init__(message, sw=f"{sw:04X}")
        self.sw = sw


class CardCommunicationError(CardError):
    """The reader answered something that makes no sense (truncated or garbled)."""

    code = "card_communication"


class Card:
    """The card on a reader. Subclasses implement ``_exchange`` (one APDU out, the raw answer back,
    raising ``CardRemovedError`` when the card is gone)."""

    def __init__(self, reader: str, uid: bytes, atr: bytes, kind: str) -> None:
        self.reader = reader
        self.uid = bytes(uid)
        self.atr = bytes(atr)
        self.kind = kind
        self._lock = threading.RLock()
        self._present = True

    @property
    def uid_hex(self) -> str:
        return hexstr(self.uid)

    @property
    def present(self) -> bool:
        return self._present

    def _exchange(self, apdu: bytes) -> bytes:
        raise NotImplementedError

    def _gone(self) -> CardRemovedError:
        return CardRemovedError(_("The card {uid} was removed from reader {reader}: present it again.").format(
            uid=self.uid_hex, reader=self.reader))

    def mark_removed(self) -> None:
        self._present = False

    # ---- ISO 7816 -------------------------------------------------------------------------------

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send one APDU; ``(data, sw)`` of the answer (``sw`` as an int, 0x9000 for success)."""
        with self._lock:
            if not self._present:
                raise self._gone()
            raw = self._exchange(bytes(apdu))
        try:
            return split_response(raw)
        except ValueError:
            raise CardCommunicationError(_("Reader {reader} gave a truncated answer ({answer}).").format(
                reader=self.reader, answer=hexstr(raw) or "-")) from None

    def send(self, apdu: bytes) -> bytes:
        """Like ``transmit`` but the data only, raising ``CardStatusError`` unless the status is 9000."""
        data, sw = self.transmit(apdu)
        if sw != SW_OK:
            raise CardStatusError(_("The card answered {status} to command {command}.").format(
                status=sw_text(sw), command=hexstr(apdu[:4])), sw=sw)
        return data

    # ---- MIFARE Classic through ACR122U pseudo-APDUs ---------------------------------------------

    def load_key(self, key: bytes, slot: int = 0) -> None:
        """Put a 6-byte key in the reader's volatile key slot 0 or 1."""
        data, sw = self.transmit(mifare.apdu_load_key(key, slot))
        if sw != SW_OK:
            raise CardStatusError(_("Reader {reader} refused to load a key ({status}).").format(
                reader=self.reader, status=sw_text(sw)), sw=sw)

    def authenticate(self, block: int, key_type: str = mifare.KEY_A, key: bytes | None = None, *, slot: int = 0) -> None:
        """Authenticate the sector of ``block`` with key ``"A"`` or ``"B"`` (loading ``key`` first when
        given); ``AuthenticationFailed`` on a wrong key."""
        with self._lock:
            if key is not None:
                self.load_key(key, slot)
            _data, sw = self.transmit(mifare.apdu_authenticate(block, key_type, slot))
        if sw != SW_OK:
            sector = mifare.sector_of(block)
            raise AuthenticationFailed(_("Card {uid}: key {key_type} does not open sector {sector}.").format(
                uid=self.uid_hex, key_type=key_type, sector=sector), sector=sector, block=block, key_type=key_type)

    def _refused(self, sw: int, operation: str, block: int) -> CardError:
        if sw == SW_FAILED:
            return AccessDenied(_("Card {uid} refused to {operation} block {block} (sector {sector}): the access "
                                  "conditions do not allow it with this key, or the sector is not authenticated.").format(
                uid=self.uid_hex, operation=_(operation), block=block, sector=mifare.sector_of(block)),
                operation=operation, block=block)
        return CardStatusError(_("Card {uid}: {operation} block {block} failed with status {status}.").format(
            uid=self.uid_hex, operation=_(operation), block=block, status=sw_text(sw)), sw=sw)

    def read_block(self, block: int) -> bytes:
        data, sw = self.transmit(mifare.apdu_read_block(block))
        if sw != SW_OK:
            raise self._refused(sw, _N_READ, block)
        if len(data) != mifare.BLOCK_SIZE:
            raise CardCommunicationError(_("Card {uid}: block {block} read as {size} bytes instead of 16.").format(
                uid=self.uid_hex, block=block, size=len(data)))
        return data

    def write_block(self, block: int, data: bytes) -> None:
        _data, sw = self.transmit(mifare.apdu_write_block(block, data))
        if sw != SW_OK:
            raise self._refused(sw, _N_WRITE, block)

    def read_value(self, block: int) -> int:
        """The signed 32-bit value of a value block."""
        data, sw = self.transmit(mifare.apdu_read_value(block))
        if sw != SW_OK:
            raise self._refused(sw, _N_READ_VALUE, block)
        if len(data) != 4:
            raise CardCommunicationError(_("Card {uid}: value of block {block} read as {size} bytes.").format(
                uid=self.uid_hex, block=block, size=len(data)))
        return int(struct.unpack(">i", data)[0])

    def store_value(self, block: int, value: int) -> None:
        """Format ``block`` as a value block holding ``value`` (a write: needs write permission)."""
        self._value(block, mifare.VALUE_STORE, value, _N_STORE)

    def increment(self, block: int, amount: int) -> None:
        """Add ``amount`` to a value block (increment + transfer on the card)."""
        self._value(block, mifare.VALUE_INCREMENT, amount, _N_INCREMENT)

    def decrement(self, block: int, amount: int) -> None:
        """Subtract ``amount`` from a value block (decrement + transfer on the card)."""
        self._value(block, mifare.VALUE_DECREMENT, amount, _N_DECREMENT)

    def copy_value(self, source: int, target: int) -> None:
        """Restore the value block ``source`` and transfer it to ``target`` (same sector)."""
        _data, sw = self.transmit(mifare.apdu_copy_value(source, target))
        if sw != SW_OK:
            raise self._refused(sw, _N_COPY, target)

    def _value(self, block: int, operation: int, value: int, name: str) -> None:
        _data, sw = self.transmit(mifare.apdu_value(block, operation, value))
        if sw != SW_OK:
            raise self._refused(sw, name, block)

    # ---- reader ---------------------------------------------------------------------------------

    def uid_from_reader(self) -> bytes:
        """Ask the reader for the UID again (``FF CA``)."""
        return self.send(mifare.apdu_get_uid())

    def firmware(self) -> str:
        """The reader's firmware version, e.g. ``ACR122U207`` (answer without a status word)."""
        with self._lock:
            if not self._present:
                raise self._gone()
            return self._exchange(mifare.apdu_firmware()).decode("ascii", errors="replace")

    def feedback(self, good: bool) -> None:
        """Green blink and a short beep for a good tap; red blinks and beeps for a refused one."""
        self.transmit(mifare.GOOD_TAP if good else mifare.BAD_TAP)


# operation names in messages (translated where used)
_N_READ, _N_WRITE, _N_READ_VALUE = N_("read"), N_("write"), N_("read the value of")
_N_STORE, _N_INCREMENT, _N_DECREMENT, _N_COPY = N_("store a value in"), N_("increment"), N_("decrement"), N_("copy a value to")


class CardReader(Protocol):
    """A reader as the suite sees it: a ``suite.device_host.Device`` with a card slot."""

    device_id: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def health(self) -> tuple[bool, str]: ...

    def alive(self) -> bool: ...

    def card(self) -> Card:
        """The card on the reader now; ``NoCard`` when there is none."""

    def feedback(self, good: bool) -> bool:
        """LED/buzzer for a good or refused tap; False when the reader cannot show it now."""


__all__ = ["AccessDenied", "AuthenticationFailed", "Card", "CardCommunicationError", "CardError", "CardReader",
           "CardRemovedError", "CardStatusError", "NoCard"]
