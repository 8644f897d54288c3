"""The demo's virtual device lab: a card reader with virtual cards (pcscd + vpcd), a virtual
receipt printer on TCP, and a simulated OSDP turnstile in a window of its own, each a separate
process on the far side of the same wire a real device would use."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

OPERATOR_CARD = "04C0FFEE"  # the demo cashier's operator card (README)


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free TCP port")


def devices_config(directory: Path, printer_port: int) -> str:
    return f"""
[devices.reader]
kind = "pcsc-reader"
reader = "ACR122U"

[devices.printer]
kind = "escpos-printer"
transport = "network"
host = "127.0.0.1"
port = {printer_port}
paper = 80

[devices.gate-1]
kind = "osdp-gate"
port = "{directory / 'gate-1'}"
"""


class DemoLab:
    """Starts the simulators for the demo's devices and stops them again."""

    def __init__(self, directory: Path, site: Path, printer_port: int) -> None:
        self.directory = directory
        self.site = site
        self.printer_port = printer_port
        self.processes: list[subprocess.Popen[bytes]] = []
        self.notes: list[str] = []

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "suite.cli", "--config", str(self.site), *args]

    def _start_card_lab(self) -> None:
        """pcscd with the virtual readers; beside a pcscd that already runs (a desktop's), a
        private one, which this process's pyscard is pointed at."""
        for mode in ((), ("--isolated",)):
            lab = subprocess.run(self._cli("--json", "lab", "start", *mode), capture_output=True, text=True)
            if lab.returncode == 0:
                export = json.loads(lab.stdout).get("export") or ""
                name, _eq, value = export.partition("=")
                if name and value:
                    os.environ[name] = value
                return
        self.notes.append("card lab not started: " + (lab.stderr.strip().splitlines() or ["?"])[-1])

    def start(self) -> "DemoLab":
        self._start_card_lab()
        log = (self.directory / "lab.log").open("ab")
        self.processes.append(subprocess.Popen(
            self._cli("printer", "virtual", "start", "--port", str(self.printer_port), "--paper", "80",
                      "--out", str(self.directory / "printed")), stdout=log, stderr=log))
        self.processes.append(subprocess.Popen(
            self._cli("gate", "simulate", "--gate", "gate-1", "--link", str(self.directory / "gate-1"), "--window"),
            stdin=subprocess.PIPE, stdout=log, stderr=log))
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(self._cli("lab", "stop"), capture_output=True)

    def __enter__(self) -> "DemoLab":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
