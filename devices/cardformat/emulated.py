"""A ``BlockCard`` straight on the lab's MIFARE emulator, without pcscd: for unit tests and
for measuring the format's own cost (the integration tests go through pcscd)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devices.cardformat.errors import OperationRefused
from devices.lab.mifare_card import CardRefused, MifareClassic1K


class EmulatedCard:
    def __init__(self, chip: MifareClassic1K) -> None:
        self.chip = chip

    @property
    def uid(self) -> bytes:
        return self.chip.uid

    def authenticate(self, block: int, key_type: str, key: bytes) -> bool:
        try:
            self.chip.authenticate(block, key_type, key)
        except CardRefused:
            return False
        return True

    def read_block(self, block: int) -> bytes:
        return self._do(self.chip.read, block)  # type: ignore[no-any-return]

    def write_block(self, block: int, data: bytes) -> None:
        self._do(self.chip.write, block, data)

    def increment(self, block: int, amount: int) -> None:
        self._do(self.chip.increment, block, amount)
        self._do(self.chip.transfer, block)

    def decrement(self, block: int, amount: int) -> None:
        self._do(self.chip.decrement, block, amount)
        self._do(self.chip.transfer, block)

    @staticmethod
    def _do(operation: Callable[..., Any], *args: Any) -> Any:
        try:
            return operation(*args)
        except CardRefused as exc:
            raise OperationRefused(str(exc)) from exc
