"""The reader side of a virtual ACR122U: pseudo-APDUs (``FF ...``) handled here, others passed
to an ISO 14443-4 card. Pure: no I/O.

Pseudo-APDUs (ACR122U API v2.04): ``FF CA`` UID, ``FF 82`` load key, ``FF 86`` authenticate,
``FF B0`` read, ``FF D6`` write, ``FF D7`` value operation (store, increment, decrement,
restore+transfer), ``FF B1`` read value, ``FF 00 48`` firmware version (no status word),
``FF 00 40`` LED and buzzer (recorded in ``feedback``). A MIFARE Classic refusal is ``63 00``.

``tear_after`` simulates a card pulled mid-operation: the N-th matching command is executed
(or not) and the answer never comes: ``transmit`` returns ``None`` and the link hangs up.
"""

from __future__ import annotations

import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from devices.apdu import (SW_FAILED, SW_FUNCTION_NOT_SUPPORTED, SW_OK, SW_WRONG_LENGTH, SW_WRONG_P1P2,
                          Command, MalformedApdu, parse_command, response)
from devices.lab.cpu_card import CpuCard
from devices.lab.mifare_card import CardRefused, MifareClassic1K
from devices.mifare import BLOCK_COUNT, KEY_A, KEY_B, encode_value_block

FIRMWARE = b"ACR122U207"
MIFARE_1K_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
WRITE_COMMANDS = {0xD6, 0xD7}


@dataclass(frozen=True)
class Feedback:
    """One ``FF 00 40`` LED/buzzer command, with what it shows."""

    at: float
    led_control: int
    t1: int
    t2: int
    repeat: int
    buzzer: int

    @property
    def colour(self) -> str:
        """``"green"``, ``"red"``, ``"both"`` or ``"none"``: the LEDs it lights or blinks."""
        green = bool(self.led_control & 0x82) or (self.led_control & 0x28) == 0x28
        red = bool(self.led_control & 0x41) or (self.led_control & 0x14) == 0x14
        return "both" if green and red else "green" if green else "red" if red else "none"

    def as_dict(self) -> dict[str, object]:
        return {"at": self.at, "led_control": self.led_control, "t1": self.t1, "t2": self.t2, "repeat": self.repeat,
                "buzzer": self.buzzer, "colour": self.colour}


@dataclass
class Tear:
    after: int                 # count down matching commands; the one reaching 0 tears
    writes_only: bool = True   # count only FF D6 / FF D7 (writes) or every command
    apply: bool = False        # the torn command took effect on the card before the field was lost


class Acr122uFrontEnd:
    def __init__(self, card: MifareClassic1K | CpuCard, *, on_change: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.card = card
        self.keys: list[bytes | None] = [None, None]
        self.feedback: deque[Feedback] = deque(maxlen=200)
        self.led_state = 0
        self.apdu_count = 0
        self.tear: Tear | None = None
        self._on_change = on_change
        self._clock = clock

    @property
    def atr(self) -> bytes:
        return MIFARE_1K_ATR if isinstance(self.card, MifareClassic1K) else self.card.atr

    def power_off(self) -> None:
        self.card.power_off()

    def transmit(self, apdu: bytes) -> bytes | None:
        """The R-APDU, or ``None`` when the card was pulled during this command."""
        self.apdu_count += 1
        tear = self._tear_now(apdu)
        if tear is not None:
            if tear.apply:
                self._execute(apdu)
            self.card.power_off()
            return None
        return self._execute(apdu)

    def _tear_now(self, apdu: bytes) -> Tear | None:
        tear = self.tear
        if tear is None or (tear.writes_only and not (apdu[:1] == b"\xff" and apdu[1:2] and apdu[1] in WRITE_COMMANDS)):
            return None
        tear.after -= 1
        if tear.after > 0:
            return None
        self.tear = None
        return tear

    def _execute(self, apdu: bytes) -> bytes:
        if apdu[:1] != b"\xff":
            if isinstance(self.card, CpuCard):
                return self.card.process(apdu)
            return response(sw=SW_FUNCTION_NOT_SUPPORTED)
        if apdu[:3] == b"\xff\x00\x48":
            return FIRMWARE
        try:
            cmd = parse_command(apdu)
        except MalformedApdu:
            return response(sw=SW_WRONG_LENGTH)
        if cmd.ins == 0x00 and cmd.p1 == 0x40:
            return self._led_buzzer(cmd)
        if cmd.ins == 0xCA:
            return self._get_data(cmd)
        if cmd.ins == 0x82:
            return self._load_key(cmd)
        handler = {0x86: self._authenticate, 0xB0: self._read, 0xD6: self._write, 0xD7: self._value_operation,
                   0xB1: self._read_value}.get(cmd.ins)
        if handler is None:
            return response(sw=SW_FUNCTION_NOT_SUPPORTED)
        card = self.card
        if not isinstance(card, MifareClassic1K):
            return response(sw=SW_FAILED)
        try:
            return handler(card, cmd)
        except CardRefused:
            return response(sw=SW_FAILED)

    def _get_data(self, cmd: Command) -> bytes:
        if cmd.p1 == 0x00:
            uid = self.card.uid
            return response(uid if cmd.le in (None, 0) else uid[:cmd.le])
        if cmd.p1 == 0x01 and isinstance(self.card, CpuCard):
            return response(self.card.historical)
        return response(sw=SW_FUNCTION_NOT_SUPPORTED)

    def _load_key(self, cmd: Command) -> bytes:
        if len(cmd.data) != 6:
            return response(sw=SW_WRONG_LENGTH)
        if cmd.p2 not in (0, 1):
            return response(sw=SW_FAILED)
        self.keys[cmd.p2] = cmd.data
        return response()

    def _authenticate(self, card: MifareClassic1K, cmd: Command) -> bytes:
        data = cmd.data
        if len(data) != 5 or data[0] != 0x01 or data[3] not in (0x60, 0x61) or data[4] not in (0, 1):
            return response(sw=SW_FAILED)
        key = self.keys[data[4]]
        if key is None or data[2] >= BLOCK_COUNT:
            return response(sw=SW_FAILED)
        card.authenticate(data[2], KEY_A if data[3] == 0x60 else KEY_B, key)
        return response()

    def _read(self, card: MifareClassic1K, cmd: Command) -> bytes:
        if cmd.p2 >= BLOCK_COUNT or cmd.expected_length != 16:
            return response(sw=SW_FAILED)
        return response(card.read(cmd.p2))

    def _write(self, card: MifareClassic1K, cmd: Command) -> bytes:
        if cmd.p2 >= BLOCK_COUNT or len(cmd.data) != 16:
            return response(sw=SW_FAILED)
        card.write(cmd.p2, cmd.data)
        self._changed()
        return response()

    def _value_operation(self, card: MifareClassic1K, cmd: Command) -> bytes:
        block, data = cmd.p2, cmd.data
        if block >= BLOCK_COUNT:
            return response(sw=SW_FAILED)
        if len(data) == 2 and data[0] == 0x03:
            card.restore(block)
            card.transfer(data[1])
        elif len(data) == 5 and data[0] in (0x00, 0x01, 0x02):
            amount = struct.unpack(">i", data[1:5])[0]
            if data[0] == 0x00:
                card.write(block, encode_value_block(amount, block))
            else:
                (card.increment if data[0] == 0x01 else card.decrement)(block, amount)
                card.transfer(block)
        else:
            return response(sw=SW_WRONG_P1P2)
        self._changed()
        return response()

    def _read_value(self, card: MifareClassic1K, cmd: Command) -> bytes:
        if cmd.p2 >= BLOCK_COUNT:
            return response(sw=SW_FAILED)
        return response(struct.pack(">i", card.read_value(cmd.p2)))

    def _led_buzzer(self, cmd: Command) -> bytes:
        if len(cmd.data) != 4:
            return response(sw=SW_WRONG_LENGTH)
        control = cmd.p2
        t1, t2, repeat, buzzer = cmd.data
        self.feedback.append(Feedback(self._clock(), control, t1, t2, repeat, buzzer))
        for bit, mask in ((0x01, 0x04), (0x02, 0x08)):   # final red / green state where its mask is set
            if control & mask:
                self.led_state = (self.led_state & ~bit) | (control & bit)
        return bytes([SW_OK >> 8, self.led_state])

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()


__all__ = ["Acr122uFrontEnd", "FIRMWARE", "Feedback", "MIFARE_1K_ATR", "Tear"]
