"""The block operations the card format needs, and nothing more.

Anything with these methods is a ``BlockCard``: the PC/SC driver's ``Card`` through
``PcscBlockCard`` (ACR122U pseudo-APDUs through pcscd), or the lab's MIFARE emulator directly
in unit tests. Block numbers are absolute (0-63 on a 1K card).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


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
        """16 bytes; raises a ``DeviceError`` when the access bits forbid it."""

    def write_block(self, block: int, data: bytes) -> None:
        """Write 16 bytes; raises a ``DeviceError`` when the access bits forbid it."""

    def increment(self, block: int, amount: int) -> None:
        """Increment the value block by ``amount`` (>= 0) and transfer it back to the block."""

    def decrement(self, block: int, amount: int) -> None:
        """Decrement the value block by ``amount`` (>= 0) and transfer it back to the block."""
