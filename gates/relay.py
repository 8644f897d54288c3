"""A turnstile wired to a serial relay board (LCUS style, 9600 8N1; frames in ``relay_frames``).

``[devices.<id>] kind = "relay-gate"`` options (all but ``port`` optional):

``port``                    ``/dev/ttyUSB0``, ``/dev/pts/N`` or a pyserial URL
``baudrate``                9600
``relay_a``/``relay_b``     relay channels wired to the turnstile's unlock A / unlock B, 1 and 2
``pulse_ms``                unlock pulse, 300 (at least 100)
``passage_timeout_ms``      how long an opened passage waits for someone, 5000
``pass_sensor``             the board reports inputs (``A1`` frames): false
``sensor_a``/``sensor_b``   pass sensor inputs, 1 and 2; ``fire_input`` 0 = none
``frame_timeout_ms``        a frame not finished after this much silence is cut short, 100

A relay board does not answer, so the gate is online while its port is open. Without a pass
sensor a passage is assumed at the end of its timeout and no ``passed``/``not_passed`` events
are posted; ``open_once(d, count)`` then pulses once per passage, a timeout apart. The board has
no light or buzzer: ``indicate`` does nothing. Garbled or cut-short frames from the board are
logged and shown in ``health()`` for ``problem_hold_s`` seconds; the frames after them still count.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import serial

from gates.base import DIRECTIONS, Post, TurnstileLogic, option_ms
from gates.relay_frames import COMMAND, INPUT, Frame, FrameParser, Problem, command_frame
from devices.serial_link import SerialReader
from suite.device_host import DeviceConfig, DeviceError
from suite.i18n import _

log = logging.getLogger(__name__)


class RelayGate(TurnstileLogic, SerialReader):
    def __init__(self, config: DeviceConfig, post: Post) -> None:
        self._sensors_enabled = bool(config.get("pass_sensor", False))
        super().__init__(config.id, post, passage_timeout_ms=option_ms(config, "passage_timeout_ms", 5000, 100),
                         counts_passages=self._sensors_enabled)
        self._port_name = str(config.get("port", ""))
        self._baudrate = int(config.get("baudrate", 9600))
        self._relays = {"A": int(config.get("relay_a", 1)), "B": int(config.get("relay_b", 2))}
        self._sensors = {int(config.get("sensor_a", 1)): "A", int(config.get("sensor_b", 2)): "B"}
        self._fire_input = int(config.get("fire_input", 0))
        self._pulse = option_ms(config, "pulse_ms", 300, 100) / 1000
        self._frame_timeout = option_ms(config, "frame_timeout_ms", 100, 10) / 1000
        self._problem_hold = float(config.get("problem_hold_s", 10.0))
        self._port: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._pulse_ends: dict[str, float] = {}
        self._failure = ""
        self._problem = ""
        self._problem_until = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- Device

    def start(self) -> None:
        self._open_line(timeout=0.01, what=_("Gate {id}").format(id=self.device_id),
                        thread_name=f"relay-gate-{self.device_id}")
        self.on_link(True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.on_link(False)  # after the reader stops, before the line closes
        self._close_line()

    def health(self) -> tuple[bool, str]:
        problem = self._line_problem(_("Gate {id}").format(id=self.device_id))
        if problem:
            return False, problem
        state = self.state()
        if state.fire_alarm:
            return False, _("Fire alarm at gate {id}: the turnstile turns freely and ignores other "
                            "commands.").format(id=self.device_id)
        if self._problem and time.monotonic() < self._problem_until:
            return False, self._problem
        return True, ""

    def indicate(self, accepted: bool) -> None:
        return None

    def inputs_known(self) -> bool:
        return self.state().online

    # ------------------------------------------------------------- outputs

    def _output_pulse(self, direction: str) -> None:
        self._write(command_frame(self._relays[direction], True))
        self._pulse_ends[direction] = time.monotonic() + self._pulse

    def _output_hold(self, direction: str, on: bool) -> None:
        self._pulse_ends.pop(direction, None)
        self._write(command_frame(self._relays[direction], on))

    def _write(self, frame: bytes) -> None:
        port = self._port
        if port is None or self._failure:
            raise DeviceError(self._offline_message())
        try:
            with self._write_lock:
                port.write(frame)
                port.flush()
        except (serial.SerialException, OSError) as exc:
            self._failure = str(exc)
            raise DeviceError(_("Gate {id}: the serial line {port} failed ({reason}).").format(
                id=self.device_id, port=self._port_name, reason=exc)) from exc

    # ------------------------------------------------------------- the line

    def _run(self) -> None:
        parser = FrameParser()
        last_byte = time.monotonic()
        while not self._stop.is_set():
            port = self._port
            if port is None:
                return
            try:
                data = port.read(64)
            except (serial.SerialException, OSError) as exc:
                self._failure = str(exc)
                log.warning("gate %s: serial line failed: %s", self.device_id, exc)
                self.on_link(False)
                return
            now = time.monotonic()
            if data:
                last_byte = now
                for item in parser.feed(data):
                    self._received(item)
            elif parser.pending and now - last_byte > self._frame_timeout:
                problem = parser.expire()
                if problem is not None:
                    self._received(problem)
            self._end_pulses(now)
            self.tick()

    def _end_pulses(self, now: float) -> None:
        with self._lock:
            for direction in DIRECTIONS:
                end = self._pulse_ends.get(direction)
                if end is not None and now >= end:
                    del self._pulse_ends[direction]
                    try:
                        self._write(command_frame(self._relays[direction], False))
                    except DeviceError:
                        log.exception("gate %s: relay %s not released", self.device_id, direction)

    def _received(self, item: Frame | Problem) -> None:
        if isinstance(item, Problem):
            self._report(item)
            return
        if item.header == COMMAND:
            return  # the board echoed a command
        if item.header == INPUT:
            if self._fire_input and item.channel == self._fire_input:
                self.on_fire_alarm(item.on)
            elif self._sensors_enabled and item.channel in self._sensors and item.on:
                self.on_pass_sensor(self._sensors[item.channel])

    def _report(self, problem: Problem) -> None:
        messages = {
            "garbage": _("Relay board of gate {id} sent bytes that are not a frame: {bytes}."),
            "checksum": _("Relay board of gate {id} sent a frame with a wrong checksum: {bytes}."),
            "state": _("Relay board of gate {id} sent a frame with an unknown state: {bytes}."),
            "truncated": _("Relay board of gate {id} sent a frame cut short: {bytes} (a frame is 4 bytes)."),
        }
        message = messages[problem.kind].format(id=self.device_id, bytes=problem.hex)
        log.warning("%s", message)
        self._problem = message
        self._problem_until = time.monotonic() + self._problem_hold


def open_gate(config: DeviceConfig, post: Post, secrets: Any = None) -> RelayGate:
    """Factory of ``relay-gate`` devices (``secrets`` is accepted for symmetry and unused)."""
    return RelayGate(config, post)
