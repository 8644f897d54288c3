"""Device tests against the virtual card lab: a real pcscd, vpcd readers and emulated cards.

Fixtures for every test under ``tests/devices/``:

* ``card_lab`` (session): a ``LabHandle``. Starts pcscd with two virtual ACR122U readers on free
  vpcd ports and the lab daemon in a temporary folder, exactly as ``venue-suite lab start`` does.
  With no pcscd running (CI) it uses the system socket ``/run/pcscd/pcscd.comm``; when one is
  already running (a developer's lab, another test session) it starts an isolated pcscd in its
  own mount namespace and points this process at it through ``PCSCLITE_CSOCK_NAME``, so it never
  disturbs the other one (set ``VENUE_SUITE_LAB_PCSCD=system|isolated`` to force a mode). It waits
  until pyscard lists the readers and stops everything it started at the end.
* ``lab``: the same handle for one test; afterwards every card is taken off the readers.
* ``events``: an ``EventRecorder`` to pass as a driver's ``post``; ``events.wait_for(CardPresented)``.
* ``reader``: a started ``devices.pcsc.PcscReader`` on virtual reader 0, posting to ``events``.
* ``vpcd_port``: a free TCP port pair, for a test that starts a lab of its own.

Use a fresh UID per test (``lab.new_uid()``): cards persist in the lab folder for the session.
Close pyscard connections (stop readers) before the session ends; the fixture stops pcscd last and
deletes the lab folder. A lab left behind by a killed test run is stopped at the next start.
"""

from __future__ import annotations

import os
import queue
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from devices.lab.control import LabClient
from devices.lab.runtime import LabRuntime, free_port_pair, private_lab
from suite.device_host import DeviceConfig

READER_TIMEOUT = 10.0
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


class LabHandle:
    """The running lab as tests see it: control of virtual cards and of pcscd."""

    def __init__(self, runtime: LabRuntime) -> None:
        self.runtime = runtime
        self.folder = runtime.paths.folder
        self.client: LabClient = runtime.client
        self.reader_names = runtime.config.reader_names()

    # cards
    def new_uid(self) -> str:
        return "04" + secrets.token_hex(3).upper()

    def insert(self, uid: str | None = None, *, reader: int = 0, kind: str = "mifare", magic: bool = False,
               name: str | None = None) -> dict[str, Any]:
        return self.client.call("insert", reader=reader, uid=uid, name=name, kind=kind, magic=magic)

    def remove(self, reader: int = 0) -> dict[str, Any]:
        return self.client.call("remove", reader=reader)

    def dump(self, reader: int | None = 0, name: str | None = None) -> dict[str, Any]:
        return self.client.call("dump", reader=None if name else reader, name=name)["card"]

    def feedback(self, reader: int = 0, clear: bool = False) -> list[dict[str, Any]]:
        return self.client.call("feedback", reader=reader, clear=clear)

    def tear(self, reader: int = 0, after: int = 1, writes_only: bool = True, apply: bool = False) -> dict[str, Any]:
        """The ``after``-th write (or command) from now never gets its answer: the card is pulled."""
        return self.client.call("tear", reader=reader, after=after, writes_only=writes_only, apply=apply)

    def clear(self) -> None:
        for reader in range(len(self.reader_names)):
            self.remove(reader)

    # readers and pcscd
    def reader_config(self, reader: int = 0, device_id: str = "reader-1") -> DeviceConfig:
        return DeviceConfig(device_id, "pcsc-reader", {"reader": self.reader_names[reader]})

    def cli(self, *args: str) -> list[str]:
        """argv for ``suite.cli.main`` aimed at this lab: ``lab.cli("card", "insert", ...)``."""
        return ["lab", "--dir", str(self.folder), *args]

    def stop_pcscd(self) -> None:
        self.runtime.stop_pcscd()

    def start_pcscd(self) -> None:
        self.runtime.start_pcscd()
        self.wait_for_readers()

    def wait_for_readers(self, timeout: float = READER_TIMEOUT) -> list[str]:
        from smartcard import scard

        deadline = time.monotonic() + timeout
        found: list[str] = []
        while time.monotonic() < deadline:
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult == scard.SCARD_S_SUCCESS:
                hresult, found = scard.SCardListReaders(context, [])
                scard.SCardReleaseContext(context)
                if hresult == scard.SCARD_S_SUCCESS and set(self.reader_names) <= set(found):
                    return list(found)
            time.sleep(0.05)
        raise RuntimeError(f"pcscd did not list the lab readers {self.reader_names} within {timeout} s "
                           f"(found {found}); see {self.runtime.paths.pcscd_log}")


def _forced_mode() -> str | None:
    forced = os.environ.get("VENUE_SUITE_LAB_PCSCD", "")
    return forced if forced in ("system", "isolated") else None


@pytest.fixture(scope="session")
def card_lab() -> Iterator[LabHandle]:
    with private_lab(_forced_mode()) as runtime:
        handle = LabHandle(runtime)
        handle.wait_for_readers()
        yield handle


@pytest.fixture
def lab(card_lab: LabHandle) -> Iterator[LabHandle]:
    yield card_lab
    card_lab.clear()


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
