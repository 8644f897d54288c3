"""An LCUS-style serial relay board on the device end of a pty.

It records every byte the application sends (``received``: ``(monotonic time, bytes)`` per
read), switches its relays on valid ``A0`` frames, reports inputs with ``A1`` frames
(``set_input``) and can be told to misbehave (``send_raw``: garbled or truncated frames).
Invalid command frames from the application are recorded in ``bad_frames``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from gates.relay_frames import COMMAND, Frame, FrameParser, Problem, input_frame
from gates.simulator.pty import DeviceEnd

EventSink = Callable[[dict[str, Any]], None]


class RelayBoardSimulator:
    def __init__(self, device_fd: int, *, channels: int = 2, echo: bool = False,
                 on_event: EventSink | None = None) -> None:
        self._end = DeviceEnd(device_fd)
        self._echo = echo
        self._on_event = on_event or (lambda event: None)
        self._lock = threading.Lock()
        self.relays = {n: False for n in range(1, channels + 1)}
        self.received: list[tuple[float, bytes]] = []
        self.frames: list[tuple[float, Frame]] = []
        self.bad_frames: list[Problem] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="relay-board-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def raw_bytes(self) -> bytes:
        with self._lock:
            return b"".join(data for _t, data in self.received)

    def set_input(self, number: int, closed: bool) -> None:
        self.send_raw(input_frame(number, closed))

    def send_raw(self, data: bytes) -> None:
        self._end.write(data)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"relays": dict(self.relays), "frames": len(self.frames), "bad_frames": len(self.bad_frames)}

    def _run(self) -> None:
        parser = FrameParser()
        last = time.monotonic()
        while not self._stop.is_set():
            data = self._end.read(64, timeout=0.01)
            now = time.monotonic()
            if data:
                last = now
                with self._lock:
                    self.received.append((now, data))
                for item in parser.feed(data):
                    self._handle(now, item)
            elif parser.pending and now - last > 0.1:
                problem = parser.expire()
                if problem is not None:
                    self._handle(now, problem)

    def _handle(self, now: float, item: Frame | Problem) -> None:
        if isinstance(item, Problem) or item.header != COMMAND or item.channel not in self.relays:
            problem = item if isinstance(item, Problem) else Problem("channel", bytes([item.header, item.channel]))
            with self._lock:
                self.bad_frames.append(problem)
            self._emit({"event": "bad_frame", "kind": problem.kind, "bytes": problem.hex, "t": now})
            return
        with self._lock:
            self.relays[item.channel] = item.on
            self.frames.append((now, item))
        if self._echo:
            self._end.write(bytes([COMMAND, item.channel, int(item.on), (COMMAND + item.channel + int(item.on)) & 0xFF]))
        self._emit({"event": "relay", "channel": item.channel, "on": item.on, "t": now})

    def _emit(self, event: dict[str, Any]) -> None:
        try:
            self._on_event(event)
        except Exception:  # noqa: BLE001 - a broken listener must not stop the board
            pass
