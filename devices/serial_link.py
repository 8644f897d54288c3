"""Opening a serial line for a gate: a device path, or any pyserial URL (``socket://host:port``
for a serial device server, ``loop://``). RS-485 direction control is not touched: it fails on
pseudo-terminals and USB adapters switch direction by themselves."""

from __future__ import annotations

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
