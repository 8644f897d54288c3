"""A turnstile controller as an OSDP peripheral device (libosdp ``PeripheralDevice``).

It behaves like a PERCo/TiSO tripod: a pulse on the unlock relay of a direction lets one person
through within ``passage_window_ms`` (then it locks again by itself); a relay held on leaves the
direction free; the fire-alarm input makes it turn freely both ways. Each passage closes the pass
sensor of its direction for ``sensor_ms`` and the controller reports its inputs to the control
panel. The script: ``pass_after_ms`` (someone walks through that long after each open; None:
nobody comes), ``walk_through`` (someone pushes through now, authorised or not), fire alarm,
tamper, cards and QR codes at the reader.

Everything that happens is also handed to ``on_event`` as a plain dict (``{"event": "output",
"direction": "A", "control_code": 5, "t": <monotonic>}``...), which the process runner prints
as JSON lines for tests and benchmarks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from osdp import CardFormat, Channel, Command, CommandLEDColor, Event, LibFlag, LogLevel, PDInfo
from osdp import PeripheralDevice, StatusReportType

from gates import osdp_profile as profile
from gates.simulator.pty import DeviceEnd
from gates.simulator.scheduler import Scheduler

log = logging.getLogger(__name__)

DIRECTIONS = ("A", "B")
OUTPUT_DIRECTION = {profile.OUTPUT_A: "A", profile.OUTPUT_B: "B"}
PASS_INPUT = {"A": profile.INPUT_PASS_A, "B": profile.INPUT_PASS_B}
LED_COLOURS = {CommandLEDColor.Black: "off", CommandLEDColor.Red: "red", CommandLEDColor.Green: "green",
               CommandLEDColor.Amber: "amber", CommandLEDColor.Blue: "blue"}
EventSink = Callable[[dict[str, Any]], None]


class _PtyChannel(Channel):
    def __init__(self, end: DeviceEnd) -> None:
        super().__init__()
        self._end = end

    def read(self, max_bytes: int) -> bytes:
        return self._end.read(max_bytes)

    def write(self, buf: bytes) -> int:
        return self._end.write(buf)

    def flush(self) -> None:
        pass


class TurnstileSimulator:
    def __init__(self, device_fd: int, key: bytes, *, address: int = 1, pass_after_ms: int | None = 300,
                 passage_window_ms: int = 5000, sensor_ms: int = 150, fire_normally_closed: bool = False,
                 on_event: EventSink | None = None) -> None:
        self._end = DeviceEnd(device_fd)
        self._key = key
        self._address = address
        self.pass_after_ms = pass_after_ms
        self._window = passage_window_ms / 1000
        self._sensor_time = sensor_ms / 1000
        self._fire_nc = fire_normally_closed
        self._on_event = on_event or (lambda event: None)
        self._lock = threading.Lock()
        self._relay = {d: "off" for d in DIRECTIONS}  # off / pulse / on
        self._armed: dict[str, float | None] = {d: None for d in DIRECTIONS}
        self._sensor = {d: False for d in DIRECTIONS}
        self.passed = {d: 0 for d in DIRECTIONS}
        self.forced = {d: 0 for d in DIRECTIONS}
        self._fire = False
        self._tamper = False
        self._led = "off"
        self._beeps = 0
        self._secure = False
        self._scheduler = Scheduler("turnstile-simulator")
        self._pd: PeripheralDevice | None = None

    # ------------------------------------------------------------- life

    def start(self) -> None:
        info = PDInfo(self._address, _PtyChannel(self._end), scbk=self._key, flags=[LibFlag.EnforceSecure])
        self._pd = PeripheralDevice(info, profile.capabilities(), log_level=LogLevel.Error,
                                    command_handler=self._on_command)
        self._scheduler.start()
        self._pd.start()
        self._scheduler.every(0.05, self._watch_secure_channel)

    def stop(self) -> None:
        self._scheduler.stop()
        if self._pd is not None:
            try:
                self._pd.teardown()
            except RuntimeError:
                pass
            self._pd = None

    # ------------------------------------------------------------- the script

    def present_card(self, uid_hex: str) -> None:
        uid = bytes.fromhex(uid_hex)
        if not 1 <= len(uid) <= profile.MAX_CARD_READ:
            raise ValueError(f"a card UID is 1 to {profile.MAX_CARD_READ} bytes")
        self._scheduler.call_soon(self._submit, {"event": Event.CardRead, "reader_no": profile.CARD_READER,
                                                 "format": CardFormat.Unspecified, "direction": 0,
                                                 "length": len(uid) * 8, "data": uid})

    def present_qr(self, text: str) -> None:
        data = text.encode("utf-8")
        if len(data) <= profile.MAX_CARD_READ:
            events = [{"event": Event.CardRead, "reader_no": profile.QR_READER, "format": CardFormat.Unspecified,
                       "direction": 0, "length": len(data) * 8, "data": data}]
        else:
            events = [{"event": Event.ManufacturerReply, "vendor_code": profile.QR_VENDOR_CODE, "mfg_command": 1,
                       "data": chunk} for chunk in profile.qr_chunks(text)]
        for event in events:
            self._scheduler.call_soon(self._submit, event)

    def walk_through(self, direction: str) -> None:
        """Someone goes through now (pushing a locked turnstile counts as forced)."""
        self._scheduler.call_soon(self._passage, direction, True)

    def set_fire_alarm(self, active: bool) -> None:
        self._scheduler.call_soon(self._set_fire, active)

    def set_tamper(self, active: bool) -> None:
        self._scheduler.call_soon(self._set_tamper, active)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"secure": self._secure, "relay": dict(self._relay), "mode": {d: self._mode(d) for d in DIRECTIONS},
                    "sensor": dict(self._sensor), "passed": dict(self.passed), "forced": dict(self.forced),
                    "fire_alarm": self._fire, "tamper": self._tamper, "led": self._led, "beeps": self._beeps,
                    "pass_after_ms": self.pass_after_ms}

    # ------------------------------------------------------------- commands from the control panel

    def _on_command(self, command: dict[str, Any]) -> tuple[int, Any]:
        # runs in libosdp's thread holding its lock: record, and act on the scheduler thread
        now = time.monotonic()
        kind = command.get("command")
        if kind == Command.Output:
            direction = OUTPUT_DIRECTION.get(command.get("output_no", -1))
            if direction is None:
                return -1, None
            self._scheduler.call_soon(self._apply_output, direction, command["control_code"], command["timer_count"], now)
        elif kind == Command.LED:
            colour = LED_COLOURS.get(command.get("on_color", 0), str(command.get("on_color")))
            with self._lock:
                self._led = colour
            self._emit({"event": "led", "colour": colour, "t": now})
            timer = command.get("timer_count", 0)
            if command.get("temporary") and timer:
                self._scheduler.call_later(timer / 10, self._led_off, colour)
        elif kind == Command.Buzzer:
            with self._lock:
                self._beeps += command.get("rep_count", 1)
            self._emit({"event": "buzzer", "beeps": command.get("rep_count", 1), "t": now})
        return 0, None

    def _apply_output(self, direction: str, control_code: int, timer_count: int, received: float) -> None:
        now = time.monotonic()
        with self._lock:
            if control_code in (1, 3, 6):
                self._relay[direction] = "off"
                relocked = self._armed[direction] is not None
                self._armed[direction] = None
            elif control_code in (2, 4):
                self._relay[direction] = "on"
                relocked = False
            elif control_code == 5:
                self._relay[direction] = "pulse"
                deadline = now + self._window
                self._armed[direction] = deadline
                self._scheduler.call_at(now + max(timer_count, 1) / 10, self._pulse_end, direction)
                self._scheduler.call_at(deadline, self._window_end, direction, deadline)
                if self.pass_after_ms is not None:
                    self._scheduler.call_later(self.pass_after_ms / 1000, self._passage, direction, False)
                relocked = False
            else:
                return
        # "t": when the command arrived (benchmarks measure up to there)
        self._emit({"event": "output", "direction": direction, "control_code": control_code,
                    "timer_ms": timer_count * 100, "t": received})
        if relocked:
            self._emit({"event": "relocked", "direction": direction, "t": now})

    def _pulse_end(self, direction: str) -> None:
        with self._lock:
            if self._relay[direction] == "pulse":
                self._relay[direction] = "off"

    def _window_end(self, direction: str, deadline: float) -> None:
        with self._lock:
            expired = self._armed[direction] == deadline
            if expired:
                self._armed[direction] = None
        if expired:
            self._emit({"event": "relocked", "direction": direction, "t": time.monotonic()})

    def _led_off(self, colour: str) -> None:
        with self._lock:
            if self._led == colour:
                self._led = "off"

    # ------------------------------------------------------------- the turnstile

    def _mode(self, direction: str) -> str:
        if self._fire:
            return "fire"
        if self._relay[direction] == "on":
            return "free"
        return "open once" if self._armed[direction] is not None else "locked"

    def _passage(self, direction: str, pushed: bool) -> None:
        with self._lock:
            free = self._fire or self._relay[direction] == "on"
            authorised = free or self._armed[direction] is not None
            if not authorised and not pushed:
                return  # the scripted visitor found the turnstile locked again
            if self._armed[direction] is not None and not free:
                self._armed[direction] = None
            if authorised:
                self.passed[direction] += 1
            else:
                self.forced[direction] += 1
            self._sensor[direction] = True
        self._emit({"event": "passage", "direction": direction, "authorised": authorised, "t": time.monotonic()})
        self._report_inputs()
        self._scheduler.call_later(self._sensor_time, self._sensor_release, direction)

    def _sensor_release(self, direction: str) -> None:
        with self._lock:
            self._sensor[direction] = False
        self._report_inputs()

    def _set_fire(self, active: bool) -> None:
        with self._lock:
            self._fire = active
            if active:
                self._armed = {d: None for d in DIRECTIONS}
        self._emit({"event": "fire_alarm", "active": active, "t": time.monotonic()})
        self._report_inputs()

    def _set_tamper(self, active: bool) -> None:
        with self._lock:
            self._tamper = active
        self._emit({"event": "tamper", "active": active, "t": time.monotonic()})
        self._report_local()

    # ------------------------------------------------------------- reports to the control panel

    def _report_inputs(self) -> None:
        with self._lock:
            values = [0] * profile.INPUT_COUNT
            for direction in DIRECTIONS:
                values[PASS_INPUT[direction]] = int(self._sensor[direction])
            values[profile.INPUT_FIRE] = int(self._fire != self._fire_nc)
        self._submit({"event": Event.Status, "type": StatusReportType.Input, "report": bytes(values)})

    def _report_local(self) -> None:
        with self._lock:
            report = bytes([int(self._tamper), 0])
        self._submit({"event": Event.Status, "type": StatusReportType.Local, "report": report})

    def _submit(self, event: dict[str, Any]) -> None:
        # never with self._lock held: libosdp's thread may be waiting for it in _on_command
        pd = self._pd
        if pd is not None:
            pd.submit_event(event)

    def _watch_secure_channel(self) -> None:
        pd = self._pd
        if pd is None:
            return
        secure = bool(pd.is_sc_active())
        with self._lock:
            changed, self._secure = secure != self._secure, secure
        if not changed:
            return
        self._emit({"event": "secure_channel", "active": secure, "t": time.monotonic()})
        if secure:  # a control panel (re)connected: drop stale reports, tell it where we are
            with pd.lock:
                pd.ctx.flush_events()
            self._report_inputs()
            self._report_local()

    def _emit(self, event: dict[str, Any]) -> None:
        try:
            self._on_event(event)
        except Exception:  # noqa: BLE001 - a broken listener must not stop the turnstile
            log.exception("turnstile simulator: event listener failed")
