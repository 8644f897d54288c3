"""A simulator running as its own process on a pty this process holds (tests, benchmarks).

Killing it is a controller losing power: the application's port stays open and goes quiet;
``start()`` again is the controller coming back on the same line.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from gates.simulator.pty import PtyPair

Predicate = Callable[[dict[str, Any]], bool]


def keyring_args(store: Any, secret: str) -> list[str]:
    """Arguments that make the simulator read ``secret`` from the same keyring as ``store``."""
    backend = type(store.backend)
    return ["--secret", secret, "--keyring-service", store.service,
            "--keyring-backend", f"{backend.__module__}.{backend.__qualname__}",
            "--keyring-file", str(getattr(store.backend, "file_path", "") or "")]


class SimulatorProcess:
    def __init__(self, kind: str, pair: PtyPair, args: list[str] | None = None) -> None:
        self.kind = kind
        self.pair = pair
        self.args = list(args or [])
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> "SimulatorProcess":
        command = [sys.executable, "-m", "gates.simulator", self.kind, "--fd", str(self.pair.device_fd), *self.args]
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                      pass_fds=[self.pair.device_fd], env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._reader = threading.Thread(target=self._read, args=(self._proc,), daemon=True)
        self._reader.start()
        self.wait_for("ready", timeout)
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                self.events.put({"event": "output", "text": line.rstrip()})

    def send(self, line: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(line.rstrip("\n") + "\n")
        self._proc.stdin.flush()

    def wait_for(self, what: str | Predicate, timeout: float = 5.0) -> dict[str, Any]:
        """The next event named ``what`` (or matching it); earlier ones are dropped."""
        match = what if callable(what) else (lambda event: event.get("event") == what)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"simulator: no {what!r} event within {timeout} s")
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if match(event):
                return event

    def drain(self) -> list[dict[str, Any]]:
        items = []
        while True:
            try:
                items.append(self.events.get_nowait())
            except queue.Empty:
                return items

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> None:
        """Power cut: SIGKILL, no goodbye on the line."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=5)
            self._close_pipes()

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            try:
                self.send("quit")
                self._proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._close_pipes()

    def _close_pipes(self) -> None:
        assert self._proc is not None
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
        if self._reader is not None:
            self._reader.join(timeout=2)  # the process is gone: its output ends
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None
