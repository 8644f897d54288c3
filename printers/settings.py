"""Options of an ``escpos-printer`` device (``[devices.<id>]`` in the TOML), checked up front.

```toml
[devices.printer1]
kind = "escpos-printer"
transport = "network"      # network | serial | usb | file
host = "192.168.1.50"      # network
port = 9100
device = "/dev/ttyUSB0"    # serial (baudrate = 9600, flow = "none" | "rtscts" | "dsrdtr" | "xonxoff")
usb_vendor = 0x0416        # usb (usb_product = 0x5011)
path = "/dev/usb/lp0"      # file: write-only, no status
paper = 80                 # 58 or 80 mm: 32 or 48 columns, 384 or 576 dots
chinese = "gb18030"        # gb18030 (Chinese mode, FS &) or raster (text drawn as images)
qr = "native"              # native (GS ( k) or image (GS v 0)
profile = "default"        # a python-escpos profile for the printer's features
timeout = 3.0              # seconds to connect and to wait for a status answer
poll_seconds = 5.0         # status poll between jobs (0: only before jobs)
queue_dir = "{data_dir}/printers/printer1"
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suite.device_host import DeviceConfig
from suite.errors import ConfigError
from suite.i18n import _

TRANSPORTS = ("network", "serial", "usb", "file")
PAPER = {58: (32, 384), 80: (48, 576)}     # mm -> (columns of font A, dots per line)
CHINESE_MODES = ("gb18030", "raster")
QR_MODES = ("native", "image")
FLOW = ("none", "rtscts", "dsrdtr", "xonxoff")


@dataclass(frozen=True)
class PaperSettings:
    """What rendering a job needs to know about the printer."""

    paper_mm: int = 80
    chinese: str = "gb18030"
    qr: str = "native"
    profile: str = "default"

    @property
    def columns(self) -> int:
        return PAPER[self.paper_mm][0]

    @property
    def dots(self) -> int:
        return PAPER[self.paper_mm][1]


@dataclass(frozen=True)
class PrinterSettings:
    device_id: str
    transport: str
    paper: PaperSettings
    queue_dir: Path
    host: str = ""
    port: int = 9100
    device: str = ""
    baudrate: int = 9600
    flow: str = "none"
    usb_vendor: int = 0
    usb_product: int = 0
    path: str = ""
    timeout: float = 3.0
    poll_seconds: float = 5.0

    @property
    def has_status(self) -> bool:
        """A file (or a one-way device node) cannot answer DLE EOT."""
        return self.transport != "file"

    def where(self) -> str:
        return {"network": f"{self.host}:{self.port}", "serial": self.device,
                "usb": f"USB {self.usb_vendor:04x}:{self.usb_product:04x}", "file": self.path}[self.transport]


def _option(config: DeviceConfig, key: str, kind: type, default: Any,
            check: Callable[[Any], bool] = lambda _v: True, expected: str = "") -> Any:
    value = config.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind) or not check(value):
        raise ConfigError(_("[devices.{id}] {key}: expected {expected}, got {value!r}").format(
            id=config.id, key=key, expected=expected or kind.__name__, value=value))
    return value


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], bool]:
    return lambda value: value in choices


def _default_data_dir() -> Path:
    from suite.config import load_settings

    return load_settings().data_dir


def printer_settings(config: DeviceConfig) -> PrinterSettings:
    """Validate a device table; every mistake is a ``ConfigError`` naming the option."""
    choices = _("one of {names}")
    transport = _option(config, "transport", str, "network", _one_of(TRANSPORTS), choices.format(names=", ".join(TRANSPORTS)))
    paper = PaperSettings(
        paper_mm=_option(config, "paper", int, 80, _one_of(tuple(PAPER)), choices.format(names="58, 80")),
        chinese=_option(config, "chinese", str, "gb18030", _one_of(CHINESE_MODES),
                        choices.format(names=", ".join(CHINESE_MODES))),
        qr=_option(config, "qr", str, "native", _one_of(QR_MODES), choices.format(names=", ".join(QR_MODES))),
        profile=_option(config, "profile", str, "default", _known_profile, _("a python-escpos profile name")),
    )
    positive = _("a positive number")
    data_dir = config.get("data_dir")
    queue_dir = _option(config, "queue_dir", str, "{data_dir}/printers/" + config.id)
    if "{data_dir}" in queue_dir:
        queue_dir = queue_dir.replace("{data_dir}", str(Path(data_dir) if data_dir else _default_data_dir()))
    settings = PrinterSettings(
        device_id=config.id, transport=transport, paper=paper, queue_dir=Path(queue_dir).expanduser(),
        host=_option(config, "host", str, "127.0.0.1" if transport == "network" else ""),
        port=_option(config, "port", int, 9100, lambda p: 0 < p < 65536, _("a TCP port (1-65535)")),
        device=_option(config, "device", str, ""),
        baudrate=_option(config, "baudrate", int, 9600, lambda b: b > 0, positive),
        flow=_option(config, "flow", str, "none", _one_of(FLOW), choices.format(names=", ".join(FLOW))),
        usb_vendor=_option(config, "usb_vendor", int, 0, lambda v: 0 <= v <= 0xFFFF, _("a USB id (0-0xFFFF)")),
        usb_product=_option(config, "usb_product", int, 0, lambda v: 0 <= v <= 0xFFFF, _("a USB id (0-0xFFFF)")),
        path=_option(config, "path", str, ""),
        timeout=_option(config, "timeout", float, 3.0, lambda t: t > 0, positive),
        poll_seconds=_option(config, "poll_seconds", float, 5.0, lambda t: t >= 0, _("zero or more seconds")),
    )
    needed = {"network": "host", "serial": "device", "usb": "usb_vendor", "file": "path"}[transport]
    if not getattr(settings, needed):
        raise ConfigError(_("[devices.{id}] {key}: required for transport {transport}").format(
            id=config.id, key=needed, transport=transport))
    return settings


def _known_profile(name: str) -> bool:
    from escpos.capabilities import CAPABILITIES

    return name in CAPABILITIES["profiles"]
