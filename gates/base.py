"""The gate contract and the turnstile semantics every gate driver shares.

A turnstile (PERCo, TiSO, Castle, TANSA...) has an "unlock A" and an "unlock B" input: a pulse
of at least 100 ms lets one person through in that direction within a few seconds; holding the
input on leaves it free. Pass sensors say someone went through; a fire-alarm input makes it
turn freely whatever it is told. ``TurnstileLogic`` keeps that bookkeeping (authorised passages
per direction, their deadlines, the free directions, emergency release, fire alarm) and turns it
into ``GateEvent``s; a driver only says how to pulse or hold an output and feeds its inputs back
through ``on_pass_sensor``, ``on_fire_alarm``, ``on_tamper`` and ``on_link``.

Events (``suite.events.GateEvent(gate_id, kind, detail)``):

======================  ===================================================================
``opened``              an open was sent: detail ``A``/``B``, or ``emergency``
``passed``              someone went through: detail the direction
``not_passed``          an authorised passage was not used before its deadline (one event per
                        unused passage): detail the direction; the gate is locked again
``alarm``               a passage nobody authorised (forced or tailgating): detail the direction
``fire_alarm``          detail ``on`` (the gate turns freely, other commands are ignored) / ``off``
``tamper``              detail ``on`` / ``off``
``online``/``offline``  the controller answers / stopped answering
======================  ===================================================================
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from suite.device_host import DeviceConfig, DeviceError
from suite.errors import InvalidInput
from suite.events import GateEvent
from suite.i18n import _

log = logging.getLogger(__name__)

DIRECTIONS = ("A", "B")
Post = Callable[[object], None]


class Gate(Protocol):
    """What the check-in screens and services may ask of any gate (it is also a ``Device``)."""

    device_id: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def health(self) -> tuple[bool, str]: ...
    def alive(self) -> bool: ...

    def open_once(self, direction: str, count: int = 1) -> bool:
        """Let ``count`` people through in ``direction``; False when ignored (fire alarm)."""

    def set_free(self, direction: str) -> bool:
        """Leave ``direction`` unlocked until ``lock()``; False when ignored (fire alarm)."""

    def lock(self) -> bool:
        """Lock both directions; unused passages become ``not_passed``. False under fire alarm."""

    def emergency_release(self) -> bool:
        """Unlock both directions now, whatever the state; needs no licence or database. True
        when sent now, False when the gate is offline (it is applied as soon as it answers)."""

    def reset(self) -> bool:
        """Forget authorised passages, free directions and the emergency release; lock."""

    def indicate(self, accepted: bool) -> None:
        """Green light and a short beep, or red light and three beeps (where the gate has them)."""

    def state(self) -> "GateState": ...


def parse_direction(value: str) -> str:
    direction = str(value).strip().upper()
    if direction not in DIRECTIONS:
        raise InvalidInput(_("Gate direction must be A or B, not {value!r}.").format(value=value))
    return direction


def option_ms(config: DeviceConfig, key: str, default: int, minimum: int = 0) -> int:
    """An integer option in milliseconds from a ``DeviceConfig``; a clear error when wrong."""
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DeviceError(_("Device option {key}: expected a whole number of milliseconds of at least "
                            "{minimum}, not {value!r}.").format(key=key, minimum=minimum, value=value))
    return value


@dataclass(frozen=True)
class GateState:
    """A snapshot for screens and the CLI."""

    gate_id: str
    online: bool
    mode: str  # "locked", "free A", "free B", "free A B", "emergency", "fire"
    pending: dict[str, int] = field(default_factory=dict)
    passed: dict[str, int] = field(default_factory=dict)
    fire_alarm: bool = False
    tamper: bool = False


class TurnstileLogic:
    """Passage bookkeeping shared by the drivers; all state changes happen under ``self._lock``."""

    def __init__(self, gate_id: str, post: Post, *, passage_timeout_ms: int = 5000,
                 counts_passages: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.device_id = gate_id
        self._post = post
        self._clock = clock
        self._passage_timeout = passage_timeout_ms / 1000
        # without pass sensors a passage is assumed at its deadline (no passed/not_passed events)
        self._counts_passages = counts_passages
        self._lock = threading.RLock()
        self._online = False
        self._pending = {d: 0 for d in DIRECTIONS}
        self._deadline: dict[str, float | None] = {d: None for d in DIRECTIONS}
        self._passed = {d: 0 for d in DIRECTIONS}
        self._free: set[str] = set()
        self._emergency = False
        self._fire = False
        self._tamper = False

    # ------------------------------------------------------------- the driver's part

    def _output_pulse(self, direction: str) -> None:
        """Pulse the unlock output of ``direction`` (raise DeviceError if it cannot be sent)."""
        raise NotImplementedError

    def _output_hold(self, direction: str, on: bool) -> None:
        """Hold the unlock output of ``direction`` on or off (raise DeviceError on failure)."""
        raise NotImplementedError

    def _offline_message(self) -> str:
        return _("Gate {id} is offline: the command was not sent.").format(id=self.device_id)

    # ------------------------------------------------------------- commands

    def open_once(self, direction: str, count: int = 1) -> bool:
        direction = parse_direction(direction)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidInput(_("The number of passages must be 1 or more, not {value!r}.").format(value=count))
        with self._lock:
            if self._fire:
                log.info("gate %s: open %s ignored during the fire alarm", self.device_id, direction)
                return False
            self._require_online()
            if direction in self._free or self._emergency:
                self._post(GateEvent(self.device_id, "opened", direction))
                return True
            self._pending[direction] += count
            if self._deadline[direction] is None:
                self._output_pulse(direction)
                self._deadline[direction] = self._clock() + self._passage_timeout
            self._post(GateEvent(self.device_id, "opened", direction))
            return True

    def set_free(self, direction: str) -> bool:
        direction = parse_direction(direction)
        with self._lock:
            if self._fire:
                return False
            self._require_online()
            self._output_hold(direction, True)
            self._free.add(direction)
            return True

    def lock(self) -> bool:
        with self._lock:
            if self._fire:
                return False
            self._require_online()
            self._free.clear()
            self._emergency = False
            for direction in DIRECTIONS:
                self._output_hold(direction, False)
                self._expire(direction)
            return True

    def emergency_release(self) -> bool:
        with self._lock:
            self._emergency = True
            self._post(GateEvent(self.device_id, "opened", "emergency"))
            if not self._online:
                log.warning("gate %s: emergency release remembered until the gate answers", self.device_id)
                return False
            try:
                for direction in DIRECTIONS:
                    self._output_hold(direction, True)
            except DeviceError:
                log.exception("gate %s: emergency release not sent; retried when the gate answers", self.device_id)
                return False
            return True

    def reset(self) -> bool:
        with self._lock:
            self._emergency = False
            self._free.clear()
            for direction in DIRECTIONS:
                self._pending[direction] = 0
                self._deadline[direction] = None
            if self._fire or not self._online:
                return False
            for direction in DIRECTIONS:
                self._output_hold(direction, False)
            return True

    def state(self) -> GateState:
        with self._lock:
            return GateState(self.device_id, self._online, self._mode(), dict(self._pending), dict(self._passed),
                             self._fire, self._tamper)

    # ------------------------------------------------------------- inputs from the driver

    def on_pass_sensor(self, direction: str) -> None:
        with self._lock:
            if self._fire or self._emergency or direction in self._free:
                self._count_passage(direction)
            elif self._pending[direction] > 0:
                self._count_passage(direction)
                self._pending[direction] -= 1
                self._deadline[direction] = None
                if self._pending[direction] > 0:
                    self._pulse_next(direction)
            else:
                self._post(GateEvent(self.device_id, "alarm", direction))

    def on_fire_alarm(self, active: bool) -> None:
        with self._lock:
            if active == self._fire:
                return
            self._fire = active
            if active:
                for direction in DIRECTIONS:
                    self._pending[direction] = 0
                    self._deadline[direction] = None
            self._post(GateEvent(self.device_id, "fire_alarm", "on" if active else "off"))
            self._apply_mode()

    def on_tamper(self, active: bool) -> None:
        with self._lock:
            if active != self._tamper:
                self._tamper = active
                self._post(GateEvent(self.device_id, "tamper", "on" if active else "off"))

    def on_link(self, up: bool, *, apply_mode: bool = True) -> None:
        """The controller answers (or stopped). ``apply_mode=False``: the driver calls
        ``apply_mode()`` itself once it knows the inputs (a fire alarm already on)."""
        with self._lock:
            if up == self._online:
                return
            self._online = up
            if not up:
                for direction in DIRECTIONS:
                    self._expire(direction)
            self._post(GateEvent(self.device_id, "online" if up else "offline"))
            if up and apply_mode:
                self._apply_mode()

    def apply_mode(self) -> None:
        """Drive the outputs to the current mode: locked, free, emergency or fire."""
        with self._lock:
            self._apply_mode()

    def tick(self) -> None:
        """Called often by the driver's thread: passages whose deadline went by."""
        now = self._clock()
        with self._lock:
            for direction in DIRECTIONS:
                deadline = self._deadline[direction]
                if deadline is None or now < deadline:
                    continue
                if self._counts_passages:
                    self._expire(direction)
                    self._hold_quietly(direction, False)
                else:
                    self._pending[direction] = max(0, self._pending[direction] - 1)
                    self._deadline[direction] = None
                    if self._pending[direction] > 0:
                        self._pulse_next(direction)

    # ------------------------------------------------------------- helpers

    def _require_online(self) -> None:
        if not self._online:
            raise DeviceError(self._offline_message())

    def _count_passage(self, direction: str) -> None:
        self._passed[direction] += 1
        self._post(GateEvent(self.device_id, "passed", direction))

    def _expire(self, direction: str) -> None:
        """Unused passages of ``direction`` are reported and dropped."""
        unused, self._pending[direction] = self._pending[direction], 0
        self._deadline[direction] = None
        if self._counts_passages:
            for _n in range(unused):
                self._post(GateEvent(self.device_id, "not_passed", direction))

    def _pulse_next(self, direction: str) -> None:
        try:
            self._output_pulse(direction)
        except DeviceError:
            log.exception("gate %s: next passage %s not opened", self.device_id, direction)
            self._expire(direction)
            return
        self._deadline[direction] = self._clock() + self._passage_timeout

    def _hold_quietly(self, direction: str, on: bool) -> None:
        if not self._online:
            return
        try:
            self._output_hold(direction, on)
        except DeviceError:
            log.exception("gate %s: output %s not set", self.device_id, direction)

    def _apply_mode(self) -> None:
        """Drive the outputs to the mode (after the link came up or the fire alarm changed)."""
        for direction in DIRECTIONS:
            self._hold_quietly(direction, self._fire or self._emergency or direction in self._free)

    def _mode(self) -> str:
        if self._fire:
            return "fire"
        if self._emergency:
            return "emergency"
        if self._free:
            return "free " + " ".join(sorted(self._free))
        return "locked"
