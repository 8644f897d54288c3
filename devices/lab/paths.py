"""The lab folder and its settings.

``<lab>/`` (default ``<data_dir>/lab``, i.e. ``~/.local/share/venue-suite/lab``):

* ``lab.json``: settings (vpcd host, first port, number of readers, reader name)
* ``cards/<name>.json``: every virtual card ever inserted, kept between insertions
* ``control.sock``: the lab daemon's control socket (JSON lines), ``lab.pid``, ``lab.log``
* ``pcscd/reader.conf``: the vpcd reader configuration pcscd is started with, ``pcscd.pid``,
  ``pcscd.log``; ``pcscd.comm``: link to the socket of an isolated pcscd
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_BASE_PORT = 35963             # vpcd's default (0x8C7B); slot n listens on base + n
DEFAULT_READER_NAME = "ACS ACR122U PICC Interface"
SLOTS_PER_VPCD = 2                    # one vpcd reader.conf entry gives two readers


@dataclass(frozen=True)
class LabConfig:
    host: str = "127.0.0.1"
    base_port: int = DEFAULT_BASE_PORT
    readers: int = 2
    reader_name: str = DEFAULT_READER_NAME

    def __post_init__(self) -> None:
        if not 1 <= self.readers <= 8:
            raise ValueError("the lab has 1 to 8 virtual readers")
        if not 1024 <= self.base_port <= 65535 - self.readers:
            raise ValueError(f"vpcd port {self.base_port} outside 1024..{65535 - self.readers}")

    @property
    def ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.readers)]

    @property
    def vpcd_entries(self) -> int:
        return (self.readers + SLOTS_PER_VPCD - 1) // SLOTS_PER_VPCD

    def reader_names(self) -> list[str]:
        """PC/SC names pcscd gives the readers: ``<name> <entry> <slot>`` in hex."""
        return [f"{self.reader_name} {i // SLOTS_PER_VPCD:02X} {i % SLOTS_PER_VPCD:02X}" for i in range(self.readers)]


class LabPaths:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).expanduser().resolve()

    @property
    def config(self) -> Path:
        return self.folder / "lab.json"

    @property
    def cards(self) -> Path:
        return self.folder / "cards"

    @property
    def control_socket(self) -> Path:
        return self.folder / "control.sock"

    @property
    def daemon_pid(self) -> Path:
        return self.folder / "lab.pid"

    @property
    def daemon_log(self) -> Path:
        return self.folder / "lab.log"

    @property
    def pcscd_config(self) -> Path:
        return self.folder / "pcscd"

    @property
    def pcscd_pid(self) -> Path:
        return self.folder / "pcscd.pid"

    @property
    def pcscd_log(self) -> Path:
        return self.folder / "pcscd.log"

    @property
    def pcscd_socket_link(self) -> Path:
        return self.folder / "pcscd.comm"

    def load_config(self) -> LabConfig:
        if not self.config.exists():
            return LabConfig()
        return LabConfig(**json.loads(self.config.read_text()))

    def save_config(self, config: LabConfig) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(json.dumps(asdict(config), indent=1))


__all__ = ["DEFAULT_BASE_PORT", "DEFAULT_READER_NAME", "LabConfig", "LabPaths"]
