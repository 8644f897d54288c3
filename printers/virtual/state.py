"""What the virtual printer answers to ``DLE EOT``: online or not, paper ok / near end / out.

Tests change ``state.online`` and ``state.paper`` directly; a running ``venue-suite printer
virtual start`` reads ``state.json`` in its job folder whenever it changed, and
``venue-suite printer virtual state`` writes that file. ``paper_out_after`` scripts a roll that
runs out after that many printed jobs.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

PAPER_STATES = ("ok", "near_end", "out")
# DLE EOT n answers (ESC/POS): fixed bits 0x12, plus the bits for the condition
ONLINE, OFFLINE = 0x12, 0x1A
PAPER_BYTES = {"ok": 0x12, "near_end": 0x1E, "out": 0x72}


class PrinterState:
    def __init__(self, path: Path | None = None, *, online: bool = True, paper: str = "ok",
                 paper_out_after: int | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime = 0
        self.online = online
        self.paper = paper
        self.paper_out_after = paper_out_after

    def _reload(self) -> None:
        if self.path is None:
            return
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            values: dict[str, Any] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        self.online = bool(values.get("online", self.online))
        if values.get("paper") in PAPER_STATES:
            self.paper = values["paper"]

    def status_byte(self, n: int) -> int | None:
        """The answer to ``DLE EOT n``; a printer out of paper is also offline."""
        with self._lock:
            self._reload()
            if n == 1:
                return ONLINE if self.online and self.paper != "out" else OFFLINE
            if n == 2:        # offline cause: bit 5 = stopped for lack of paper
                return 0x12 | (0x20 if self.paper == "out" else 0) | (0x04 if not self.online else 0)
            if n == 3:        # error cause: none
                return 0x12
            if n == 4:
                return PAPER_BYTES[self.paper]
            return None

    def can_print(self) -> bool:
        with self._lock:
            self._reload()
            return self.online and self.paper != "out"

    def describe(self) -> str:
        return "out of paper" if self.paper == "out" else "offline" if not self.online else "ready"

    def job_printed(self) -> None:
        with self._lock:
            if self.paper_out_after is not None:
                self.paper_out_after -= 1
                if self.paper_out_after <= 0:
                    self.paper, self.paper_out_after = "out", None


def write_state(path: Path, *, online: bool | None = None, paper: str | None = None) -> dict[str, Any]:
    """Change a running virtual printer's state through its ``state.json`` (atomically)."""
    values: dict[str, Any] = {"online": True, "paper": "ok"}
    if path.exists():
        values.update(json.loads(path.read_text()))
    if online is not None:
        values["online"] = online
    if paper is not None:
        values["paper"] = paper
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(values))
    os.replace(temporary, path)
    return values
