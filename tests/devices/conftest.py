"""Device tests against the virtual card lab: a real pcscd, vpcd readers and emulated cards.

The lab itself comes from ``tests/conftest.py`` (one per test process, shared with the plugin and
GUI tests; see its ``card_lab`` for how pcscd is started, isolated or on the system socket, and
``tests/cardlab.py`` for the handle's operations):

* ``card_lab`` (session): a ``tests.cardlab.LabHandle`` on the running lab.
* ``lab``: the same handle for one test; afterwards every card is taken off the readers.

Fixtures added here for every test under ``tests/devices/``:

* ``events``: an ``EventRecorder`` to pass as a driver's ``post``; ``events.wait_for(CardPresented)``.
* ``reader``: a started ``devices.pcsc.PcscReader`` on virtual reader 0, posting to ``events``.
* ``vpcd_port``: a free TCP port pair, for a test that starts a lab of its own.

Use a fresh UID per test (``lab.new_uid()``): cards persist in the lab folder for the session.
Close pyscard connections (stop readers) before the session ends.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from devices.lab.runtime import free_port_pair
from tests.cardlab import LabHandle

EVENT_TIMEOUT = 3.0     # pcscd polls card presence every 400 ms
E = TypeVar("E")


class EventRecorder:
    """A driver's ``post``: records events; ``wait_for`` blocks until a matching one arrives."""

    def __init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self.seen: list[object] = []

    def __call__(self, event: object) -> None:
        self._queue.put(event)

    def wait_for(self, kind: type[E], predicate: Callable[[E], bool] = lambda _e: True,
                 timeout: float = EVENT_TIMEOUT) -> E:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind.__name__} within {timeout} s; events seen: {self.seen[-10:]}")
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if isinstance(event, kind) and predicate(event):
                return event

    def clear(self) -> None:
        while not self._queue.empty():
            self.seen.append(self._queue.get_nowait())


@pytest.fixture
def vpcd_port() -> int:
    """A free port pair for a second lab (``venue-suite lab start --port``)."""
    return free_port_pair()


@pytest.fixture
def events() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def reader(lab: LabHandle, events: EventRecorder) -> Iterator[Any]:
    from devices.pcsc import open_reader
    from suite.events import ReaderAdded

    device = open_reader(lab.reader_config(0), events)
    device.start()
    events.wait_for(ReaderAdded)
    yield device
    device.stop()
