"""One thread that runs the simulators' timed actions in order (a heap of due times)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, name: str) -> None:
        self._name = name
        self._heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._heap.clear()
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def call_at(self, when: float, func: Callable[..., Any], *args: Any) -> None:
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._order), func, args))
            self._cond.notify()

    def call_later(self, delay: float, func: Callable[..., Any], *args: Any) -> None:
        self.call_at(time.monotonic() + delay, func, *args)

    def call_soon(self, func: Callable[..., Any], *args: Any) -> None:
        self.call_at(time.monotonic(), func, *args)

    def every(self, interval: float, func: Callable[[], Any]) -> None:
        def repeat() -> None:
            func()
            self.call_later(interval, repeat)

        self.call_soon(repeat)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._running and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if not self._running:
                    return
                _when, _n, func, args = heapq.heappop(self._heap)
            try:
                func(*args)
            except Exception:  # noqa: BLE001 - one failing action must not stop the device
                log.exception("%s: scheduled action failed", self._name)
