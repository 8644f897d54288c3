"""An OSDP turnstile controller, driven as a control panel through libosdp over a pyserial line.

``[devices.<id>] kind = "osdp-gate"`` options (all but ``port`` optional):

``port``                    ``/dev/ttyUSB0``, ``/dev/pts/N`` or a pyserial URL
``baudrate``                9600
``address``                 the controller's OSDP address, 1
``scbk_secret``             keyring entry of the 16-byte secure channel key, ``osdp-scbk:<id>``
                            (created on first use: install the same key in the controller)
``pulse_ms``                unlock pulse, 300 (at least 100)
``passage_timeout_ms``      how long an opened passage waits for someone, 5000
``output_a``/``output_b``   unlock outputs, 0 and 1
``input_pass_a``/``_b``     pass sensor inputs, 0 and 1
``input_fire``              fire-alarm input, 2; ``fire_normally_closed`` false
``card_reader``/``qr_reader``  OSDP reader numbers, 0 and 1
``offline_after_ms``        silence after which the controller counts as gone, 1000

The secure channel is enforced. libosdp takes 8 s to notice a dead peripheral and then waits
300 s before trying again, so this driver watches the line itself: no byte for
``offline_after_ms`` means offline, and it builds a fresh control panel with backoff until the
controller answers again (the serial port stays open). Cards read at the gate's reader arrive
as ``ScanEvent(gate_id, <UID in hex>)``, QR codes as ``ScanEvent(gate_id, <text>)``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import serial
from osdp import Channel, ControlPanel, Event, EventNotification, LibFlag, LogLevel, PDInfo, StatusReportType

from gates import osdp_profile as profile
from gates.base import DIRECTIONS, Post, TurnstileLogic, option_ms
from devices.serial_link import close_quietly, open_port
from suite.device_host import DeviceConfig, DeviceError
from suite.events import ScanEvent
from suite.i18n import _

log = logging.getLogger(__name__)

KEY_BYTES = 16
CONNECT_TIMEOUT = 3.0
MODE_WAIT = 0.5
REFRESH_INTERVAL = 0.005
MAX_BACKOFF = 8.0


class SerialChannel(Channel):
    """libosdp's byte stream on a pyserial port; remembers when the peer last spoke."""

    def __init__(self, port: serial.SerialBase) -> None:
        super().__init__()
        self.port = port
        self.last_rx = 0.0
        self.failure = ""

    def read(self, max_bytes: int) -> bytes:
        if self.failure:
            return b""
        try:
            data = self.port.read(max_bytes)
        except (serial.SerialException, OSError) as exc:
            self.failure = str(exc)
            return b""
        if data:
            self.last_rx = time.monotonic()
        return bytes(data)

    def write(self, buf: bytes) -> int:
        if self.failure:
            return 0
        try:
            return self.port.write(buf) or 0
        except serial.SerialTimeoutException:
            return 0  # nobody drains the line (a pseudo-terminal whose peer died): drop it
        except (serial.SerialException, OSError) as exc:
            self.failure = str(exc)
            return 0

    def flush(self) -> None:
        pass

    def discard_input(self) -> None:
        try:
            self.port.reset_input_buffer()
        except (serial.SerialException, OSError):
            pass


class _ControlPanel(ControlPanel):
    """libosdp's panel with a 5 ms refresh cycle instead of 20 ms: a queued command leaves
    sooner (scan-to-relay p50 ~60 ms -> ~20 ms here) for a few hundred cheap calls a second."""

    @staticmethod
    def refresh(event: threading.Event, lock: threading.Lock, ctx: Any) -> None:
        while not event.is_set():
            with lock:
                ctx.refresh()
            time.sleep(REFRESH_INTERVAL)


class OsdpGate(TurnstileLogic):
    def __init__(self, config: DeviceConfig, post: Post, key: bytes) -> None:
        super().__init__(config.id, post, passage_timeout_ms=option_ms(config, "passage_timeout_ms", 5000, 100))
        if len(key) != KEY_BYTES:
            raise DeviceError(_("Gate {id}: the OSDP key must be 16 bytes.").format(id=config.id))
        self._key = key
        self._port_name = str(config.get("port", ""))
        self._baudrate = int(config.get("baudrate", 9600))
        self._address = int(config.get("address", 1))
        self._secret = str(config.get("scbk_secret", f"osdp-scbk:{config.id}"))
        self._pulse_ms = option_ms(config, "pulse_ms", 300, 100)
        self._offline_after = option_ms(config, "offline_after_ms", 1000, 200) / 1000
        self._outputs = {"A": int(config.get("output_a", profile.OUTPUT_A)),
                         "B": int(config.get("output_b", profile.OUTPUT_B))}
        self._pass_inputs = {"A": int(config.get("input_pass_a", profile.INPUT_PASS_A)),
                             "B": int(config.get("input_pass_b", profile.INPUT_PASS_B))}
        self._fire_input = int(config.get("input_fire", profile.INPUT_FIRE))
        self._fire_nc = bool(config.get("fire_normally_closed", False))
        self._card_reader = int(config.get("card_reader", profile.CARD_READER))
        self._qr_reader = int(config.get("qr_reader", profile.QR_READER))
        self._port: serial.SerialBase | None = None
        self._channel: SerialChannel | None = None
        self._cp: ControlPanel | None = None
        self._attempt_started = 0.0
        self._next_attempt = 0.0
        self._backoff = 0.5
        self._key_refused = False
        self._inputs: bytes | None = None
        self._apply_due = 0.0
        self._qr = profile.ChunkAssembler()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._online_event = threading.Event()

    # ------------------------------------------------------------- Device

    def start(self) -> None:
        self._port = open_port(self._port_name, baudrate=self._baudrate,
                               what=_("Gate {id}").format(id=self.device_id))
        self._channel = SerialChannel(self._port)
        self._stop.clear()
        self._connect()
        self._thread = threading.Thread(target=self._run, name=f"osdp-gate-{self.device_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._teardown_cp()
        self.on_link(False)
        close_quietly(self._port)
        self._port = None
        self._channel = None

    def alive(self) -> bool:
        channel = self._channel
        return channel is not None and not channel.failure

    def health(self) -> tuple[bool, str]:
        channel = self._channel
        if channel is None:
            return False, _("Gate {id} is not started.").format(id=self.device_id)
        if channel.failure:
            return False, _("Gate {id}: the serial line {port} failed ({reason}).").format(
                id=self.device_id, port=self._port_name, reason=channel.failure)
        state = self.state()
        if not state.online:
            if self._key_refused:
                return False, _("Gate {id} refused the secure channel: the OSDP key in the keyring ({secret}) "
                                "is not the controller's.").format(id=self.device_id, secret=self._secret)
            return False, _("Gate {id} does not answer on {port}: check the cable, the power and OSDP address "
                            "{address}.").format(id=self.device_id, port=self._port_name, address=self._address)
        if state.fire_alarm:
            return False, _("Fire alarm at gate {id}: the turnstile turns freely and ignores other "
                            "commands.").format(id=self.device_id)
        if state.tamper:
            return False, _("Gate {id}: the tamper switch is open.").format(id=self.device_id)
        return True, ""

    def wait_online(self, timeout: float) -> bool:
        return self._online_event.wait(timeout)

    def inputs_known(self) -> bool:
        """The controller reported its inputs since it came online (fire alarm, sensors)."""
        return self.state().online and self._inputs is not None

    def indicate(self, accepted: bool) -> None:
        with self._lock:
            if not self._online:
                return
            self._submit(profile.led_command(accepted))
            self._submit(profile.buzzer_command(accepted))

    # ------------------------------------------------------------- outputs

    def _output_pulse(self, direction: str) -> None:
        self._submit(profile.pulse_command(self._outputs[direction], self._pulse_ms))

    def _output_hold(self, direction: str, on: bool) -> None:
        self._submit(profile.hold_command(self._outputs[direction], on))

    def _submit(self, command: dict[str, Any]) -> None:
        cp = self._cp
        if cp is None or not cp.submit_command(self._address, command):
            raise DeviceError(self._offline_message())

    # ------------------------------------------------------------- the line

    def _connect(self) -> None:
        assert self._channel is not None
        self._channel.discard_input()
        info = PDInfo(self._address, self._channel, scbk=self._key,
                      flags=[LibFlag.EnforceSecure, LibFlag.EnableNotification])
        cp = _ControlPanel([info], log_level=LogLevel.Error)
        cp.start()
        self._key_refused = False
        self._inputs = None
        self._attempt_started = time.monotonic()
        with self._lock:
            self._cp = cp

    def _teardown_cp(self) -> None:
        with self._lock:
            cp, self._cp = self._cp, None
        if cp is not None:
            try:
                cp.teardown()
            except Exception:  # noqa: BLE001 - a half-built panel must not stop the driver
                log.exception("gate %s: control panel teardown", self.device_id)

    def _drop(self, why: str) -> None:
        log.info("gate %s: %s", self.device_id, why)
        self._online_event.clear()
        self.on_link(False)
        self._teardown_cp()
        self._next_attempt = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    def _run(self) -> None:
        while not self._stop.is_set():
            cp = self._cp
            if cp is None:
                if self._channel is not None and self._channel.failure:
                    self.on_link(False)
                    return
                if time.monotonic() >= self._next_attempt:
                    self._connect()
                else:
                    self._stop.wait(0.02)
                continue
            event = cp.get_event(self._address, timeout=0.02)
            if event is not None:
                try:
                    self._handle(event)
                except Exception:  # noqa: BLE001 - one odd event must not stop the gate
                    log.exception("gate %s: event %r", self.device_id, event)
            self.tick()
            self._watch(cp)

    def _watch(self, cp: ControlPanel) -> None:
        assert self._channel is not None
        now = time.monotonic()
        if self._channel.failure:
            self._drop("serial line failed: " + self._channel.failure)
            return
        secure = cp.is_sc_active(self._address)
        if secure and not self._online:
            self._backoff = 0.5
            # the outputs follow once the first input report says whether the fire alarm is on
            self._apply_due = now + MODE_WAIT
            self.on_link(True, apply_mode=False)
            self._online_event.set()
        elif self._apply_due and (now >= self._apply_due or self._inputs is not None):
            self._apply_due = 0.0
            self.apply_mode()
        elif self._online and (not secure or now - self._channel.last_rx > self._offline_after):
            self._drop("the controller stopped answering")
        elif not self._online and now - self._attempt_started > CONNECT_TIMEOUT:
            self._drop("no secure channel yet")

    # ------------------------------------------------------------- events

    def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == Event.CardRead:
            self._card_read(event)
        elif kind == Event.ManufacturerReply and event.get("vendor_code") == profile.QR_VENDOR_CODE:
            self._qr_chunk(bytes(event.get("data", b"")))
        elif kind == Event.Status and event.get("type") == StatusReportType.Input:
            self._input_report(bytes(event.get("report", b"")))
        elif kind == Event.Status and event.get("type") == StatusReportType.Local:
            report = bytes(event.get("report", b""))
            self.on_tamper(bool(report[:1] and report[0]))
        elif kind == Event.Notification:
            self._notification(event)

    def _notification(self, event: dict[str, Any]) -> None:
        if event.get("type") == EventNotification.SecureChannelStatus and not event.get("arg0"):
            if not self._online and self._channel is not None and self._channel.last_rx > self._attempt_started:
                self._key_refused = True
        elif event.get("type") == EventNotification.PeripheralDeviceStatus and not event.get("arg0"):
            if self._online:
                self._drop("libosdp reports the controller offline")

    def _card_read(self, event: dict[str, Any]) -> None:
        data = bytes(event.get("data", b""))
        reader = event.get("reader_no")
        if reader == self._qr_reader:
            self._scan_text(data)
        elif data:
            self._post(ScanEvent(self.device_id, data.hex().upper()))

    def _qr_chunk(self, chunk: bytes) -> None:
        dropped = self._qr.dropped
        try:
            whole = self._qr.add(chunk)
        except ValueError as exc:
            log.warning("gate %s: QR code dropped (%s)", self.device_id, exc)
            return
        if self._qr.dropped != dropped:
            log.warning("gate %s: a QR code was cut off in transit and dropped", self.device_id)
        if whole is not None:
            self._scan_text(whole)

    def _scan_text(self, data: bytes) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("gate %s: unreadable code from the reader dropped: %s", self.device_id, data.hex())
            return
        if not text or not text.isprintable():
            log.warning("gate %s: code with control characters dropped: %r", self.device_id, text)
            return
        self._post(ScanEvent(self.device_id, text))

    def _input_report(self, report: bytes) -> None:
        def level(values: bytes, index: int) -> bool:
            return index < len(values) and bool(values[index])

        previous = self._inputs
        self.on_fire_alarm(level(report, self._fire_input) != self._fire_nc)
        self._inputs = report
        if previous is None:  # the first report after connecting is the baseline, not an edge
            if self._apply_due:
                self._apply_due = 0.0
                self.apply_mode()
            return
        for direction in DIRECTIONS:
            index = self._pass_inputs[direction]
            if level(report, index) and not level(previous, index):
                self.on_pass_sensor(direction)


def open_gate(config: DeviceConfig, post: Post, secrets: Any = None) -> OsdpGate:
    """Factory of ``osdp-gate`` devices. ``secrets``: a ``SecretStore`` (default: the
    terminal's, carried by the config)."""
    secrets = secrets if secrets is not None else config.secrets
    if secrets is None:
        raise DeviceError(_("Gate {id}: no keyring to hold its OSDP key.").format(id=config.id))
    key = secrets.get_or_create_key(str(config.get("scbk_secret", f"osdp-scbk:{config.id}")), KEY_BYTES)
    return OsdpGate(config, post, key)
