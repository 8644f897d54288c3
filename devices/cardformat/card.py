"""The block operations the card format needs, and nothing more.

Anything with these methods is a ``BlockCard``: the reader layer's ``Card`` through
``ReaderBlockCard`` (ACR122U pseudo-APDUs through pcscd), or the lab's MIFARE emulator in unit
tests. Block numbers are absolute (0-63 on a 1K card).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from devices.cardformat.errors import OperationRefused
from devices.reader import AccessDenied, AuthenticationFailed, Card


@runtime_checkable
class BlockCard(Protocol):
    @property
    def uid(self) -> bytes:
        """The card's UID (4 or 7 bytes) as the reader reports it."""

    def authenticate(self, block: int, key_type: str, key: bytes) -> bool:
        """Authenticate the sector of ``block`` with key ``'A'`` or ``'B'``: True when the card
        accepted the key, False when it refused it. A card that left the field raises
        ``CardRemoved``; other faults raise a ``DeviceError``."""

    def read_block(self, block: int) -> bytes:
        """16 bytes; ``OperationRefused`` when the access bits forbid it."""

    def write_block(self, block: int, data: bytes) -> None:
        """Write 16 bytes; ``OperationRefused`` when the access bits forbid it."""

    def increment(self, block: int, amount: int) -> None:
        """Increment the value block by ``amount`` (>= 0) and transfer it back to the block;
        ``OperationRefused`` when the access bits forbid it."""

    def decrement(self, block: int, amount: int) -> None:
        """Decrement the value block by ``amount`` (>= 0) and transfer it back to the block;
        ``OperationRefused`` when the access bits forbid it."""


class ReaderBlockCard:
    """A ``BlockCard`` on the reader layer's ``devices.reader.Card`` (PC/SC, ACR122U pseudo-APDUs).

    ``AuthenticationFailed`` becomes ``False``; ``AccessDenied`` becomes ``OperationRefused``;
    ``CardRemovedError`` and other reader errors pass through unchanged."""

    def __init__(self, card: Card) -> None:
        self.card = card

    @property
    def uid(self) -> bytes:
        return self.card.uid

    def authenticate(self, block: int, key_type: str, key: bytes) -> bool:
        try:
            self.card.authenticate(block, key_type, key)
        except AuthenticationFailed:
            return False
        return True

    def read_block(self, block: int) -> bytes:
        try:
            return self.card.read_block(block)
        except AccessDenied as exc:
            raise OperationRefused(exc.message) from exc

    def write_block(self, block: int, data: bytes) -> None:
        try:
            self.card.write_block(block, data)
        except AccessDenied as exc:
            raise OperationRefused(exc.message) from exc

    def increment(self, block: int, amount: int) -> None:
        try:
            self.card.increment(block, amount)
        except AccessDenied as exc:
            raise OperationRefused(exc.message) from exc

    def decrement(self, block: int, amount: int) -> None:
        try:
            self.card.decrement(block, amount)
        except AccessDenied as exc:
            raise OperationRefused(exc.message) from exc
