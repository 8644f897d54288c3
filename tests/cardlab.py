"""The virtual card lab as the tests see it: virtual cards on the lab's readers, dumps, clones,
restores, torn writes, and pcscd itself.

One lab per test process: pcsc-lite reads its socket name (``PCSCLITE_CSOCK_NAME``) once, at the
process's first PC/SC call, so a second lab started later could not be reached. The session
fixture ``card_lab`` of ``tests/conftest.py`` starts it (``start_lab``) and every directory
uses that one; ``lab`` is the same handle for one test.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devices.lab.control import LabClient
from devices.lab.runtime import LabRuntime, private_lab
from suite.device_host import DeviceConfig

READER_TIMEOUT = 10.0
MODE_VARIABLE = "VENUE_SUITE_LAB_PCSCD"


class LabHandle:
    """The running lab: control of virtual cards (its daemon's operations) and of pcscd."""

    def __init__(self, runtime: LabRuntime) -> None:
        self.runtime = runtime
        self.folder: Path = runtime.paths.folder
        self.client: LabClient = runtime.client
        self.reader_names: list[str] = runtime.config.reader_names()

    # ---- cards

    def call(self, op: str, **params: Any) -> Any:
        """Any operation of the lab daemon (``devices.lab.daemon.LabDaemon.OPS``)."""
        return self.client.call(op, **params)

    @staticmethod
    def new_uid() -> str:
        """A fresh 4-byte UID: cards persist in the lab folder for the session, so use one per test."""
        return "04" + secrets.token_hex(3).upper()

    def insert(self, uid: str | None = None, *, reader: int = 0, kind: str = "mifare", magic: bool = False,
               name: str | None = None) -> dict[str, Any]:
        """Put a card on a reader: a new (or known) card by ``uid``, or a stored card by ``name``
        (a clone: ``"<uid>.magic"``)."""
        return self.call("insert", reader=reader, uid=uid, name=name, kind=kind, magic=magic)

    def remove(self, reader: int = 0) -> dict[str, Any]:
        return self.call("remove", reader=reader)

    def dump(self, reader: int | None = 0, name: str | None = None) -> dict[str, Any]:
        """The card on ``reader`` (or the stored card ``name``) as a dump: ``{"uid", "blocks", ...}``."""
        return self.call("dump", reader=None if name else reader, name=name)["card"]

    def clone(self, name: str, *, to_uid: str | None = None, magic: bool = False, insert: int | None = None,
              new_name: str | None = None) -> dict[str, Any]:
        """Copy card ``name``: onto another UID (``to_uid``; block 0 stays the new chip's) or onto
        a magic card with the same UID (``magic``, stored as ``"<uid>.magic"``); ``insert``: put
        the copy on that reader."""
        return self.call("clone", name=name, to_uid=to_uid, magic=magic, insert=insert, new_name=new_name)

    def restore(self, name: str, card: dict[str, Any]) -> dict[str, Any]:
        """Write an old dump back onto card ``name`` (a card on a reader is taken off and put back)."""
        return self.call("restore", name=name, card=card)

    def feedback(self, reader: int = 0, clear: bool = False) -> list[dict[str, Any]]:
        return self.call("feedback", reader=reader, clear=clear)

    def tear(self, reader: int = 0, after: int = 1, writes_only: bool = True, apply: bool = False) -> dict[str, Any]:
        """The ``after``-th write (or command) from now never gets its answer: the card is pulled.
        ``apply``: the write lands on the card all the same."""
        return self.call("tear", reader=reader, after=after, writes_only=writes_only, apply=apply)

    def clear(self) -> None:
        """Every reader empty."""
        for reader in range(len(self.reader_names)):
            self.remove(reader)

    # ---- readers and pcscd

    def reader_config(self, reader: int = 0, device_id: str = "reader-1") -> DeviceConfig:
        """A ``pcsc-reader`` device on virtual reader ``reader``."""
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
        """Wait until pyscard lists the lab's readers; returns every reader listed."""
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


def forced_mode() -> str | None:
    """``VENUE_SUITE_LAB_PCSCD=system|isolated`` forces how pcscd is started; otherwise None (auto)."""
    forced = os.environ.get(MODE_VARIABLE, "")
    return forced if forced in ("system", "isolated") else None


@contextmanager
def start_lab() -> Iterator[LabHandle]:
    """A private lab (``devices.lab.runtime.private_lab``) with its readers listed by pyscard."""
    with private_lab(forced_mode()) as runtime:
        handle = LabHandle(runtime)
        handle.wait_for_readers()
        yield handle


__all__ = ["LabHandle", "MODE_VARIABLE", "READER_TIMEOUT", "forced_mode", "start_lab"]
