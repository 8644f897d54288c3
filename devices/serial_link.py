"""Opening a serial line for a gate: a device path, or any pyserial URL (``socket://host:port``
for a serial device server, ``loop://``). RS-485 direction control is not touched: it fails on
pseudo-terminals and USB adapters switch direction by themselves."""

from __future__ import annotations

import threading

import serial

from suite.device_host import DeviceError
from suite.i18n import _


def open_port(port: str, *, baudrate: int = 9600, timeout: float = 0.0, write_timeout: float = 0.5,
              what: str = "") -> serial.SerialBase:
    if not isinstance(port, str) or not port:
        raise DeviceError(_("{what}: the option port is missing (a device such as /dev/ttyUSB0, or a URL "
                            "such as socket://10.0.0.5:4001).").format(what=what or _("Serial device")))
    try:
        return serial.serial_for_url(port, baudrate=baudrate, timeout=timeout, write_timeout=write_timeout)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise DeviceError(_("{what}: cannot open {port} ({reason}).").format(
            what=what or _("Serial device"), port=port, reason=exc)) from exc


def close_quietly(port: serial.SerialBase | None) -> None:
    if port is None:
        return
    try:
        port.close()
    except Exception:  # noqa: BLE001 - closing a dead port must not raise
        pass


class SerialReader:
    """Mixin for a device read by one daemon thread on a serial line.

    The class sets ``device_id``, ``_port_name``, ``_baudrate``, ``_failure`` ("" while the
    line is good), ``_stop`` (an Event), ``_thread`` and ``_port`` (None) in its own
    ``__init__``, and implements ``_run`` (the read loop, which sets ``_failure`` when the
    line breaks)."""

    device_id: str
    _port_name: str
    _baudrate: int
    _failure: str
    _stop: threading.Event
    _thread: threading.Thread | None
    _port: serial.SerialBase | None

    def _run(self) -> None:
        raise NotImplementedError

    def _open_line(self, *, timeout: float, what: str, thread_name: str) -> None:
        self._port = open_port(self._port_name, baudrate=self._baudrate, timeout=timeout, what=what)
        self._failure = ""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def _close_line(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        close_quietly(self._port)
        self._port = None

    def alive(self) -> bool:
        return self._port is not None and not self._failure

    def _line_problem(self, what: str) -> str:
        """Why the line is not usable ("" when it is); ``what`` names the device."""
        if self._port is None:
            return _("{what} is not started.").format(what=what)
        if self._failure:
            return _("{what}: the serial line {port} failed ({reason}).").format(
                what=what, port=self._port_name, reason=self._failure)
        return ""
