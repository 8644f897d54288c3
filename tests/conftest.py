"""Shared test set-up: a file keyring in a temporary folder, SQLite files and a real
PostgreSQL server started here (never skipped: if it cannot start, the tests fail), and the
virtual card lab every directory's tests share (``card_lab``, ``lab``; ``tests/cardlab.py``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

_KEYRING_HOME = tempfile.mkdtemp(prefix="venue-suite-keyring-")
os.environ["XDG_DATA_HOME"] = _KEYRING_HOME
os.environ["VENUE_SUITE_KEYRING__BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
os.environ.setdefault("VENUE_SUITE_LANG", "en")

from tests.pgserver import PostgresServer  # noqa: E402

if TYPE_CHECKING:
    from tests.cardlab import LabHandle


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()


class OwnPostgres(PostgresServer):
    """A PostgreSQL server of one test's own, which the test may stop and start again with its
    data kept (``PostgresServer.stop`` deletes it): the database going away under a terminal."""

    def pause(self) -> None:
        """Stop the server; its data stays."""
        self._pg("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start it again on the same port."""
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._pg("pg_ctl", "-D", str(self.root / "data"), "-o", opts, "-l", str(self.root / "log"), "-w", "start")


@pytest.fixture
def own_pg() -> Iterator[OwnPostgres]:
    """A server for this test alone: pausing it leaves the session's server alone."""
    server = OwnPostgres.start()
    yield server
    try:
        server.resume()
    except subprocess.CalledProcessError:
        pass  # already running
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'suite.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def engine(db_url: str):
    from suite.db.engine import create_database_engine
    from suite.db.schema import create_schema

    eng = create_database_engine(db_url)
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def uow_factory(engine):
    from suite.db.uow import UnitOfWorkFactory

    return UnitOfWorkFactory(engine)


@pytest.fixture
def secret_store():
    from suite.secrets import SecretStore

    return SecretStore.from_settings(f"venue-suite-test-{uuid.uuid4().hex[:8]}",
                                     "keyrings.alt.file.PlaintextKeyring")


@pytest.fixture(scope="session")
def card_lab() -> Iterator[LabHandle]:
    """The virtual card lab of this test process: a ``tests.cardlab.LabHandle``.

    Starts pcscd with two virtual ACR122U readers on free vpcd ports and the lab daemon in a
    temporary folder, exactly as ``venue-suite lab start`` does. With no pcscd running (CI) it
    uses the system socket ``/run/pcscd/pcscd.comm``; when one is already running (a developer's
    lab, another test session) it starts an isolated pcscd in its own mount namespace and points
    this process at it through ``PCSCLITE_CSOCK_NAME``, so it never disturbs the other one (set
    ``VENUE_SUITE_LAB_PCSCD=system|isolated`` to force a mode). It waits until pyscard lists the
    readers and stops everything it started at the end, deleting the lab folder; a lab left
    behind by a killed test run is stopped at the next start.

    One lab per process, shared by every directory whichever runs first: pcsc-lite reads its
    socket name once per process, so a test must not make a PC/SC call before this fixture has
    started. Use a fresh UID per test (``lab.new_uid()``): cards persist in the lab folder for
    the session. Close pyscard connections (stop readers) before the session ends."""
    from tests.cardlab import start_lab

    with start_lab() as handle:
        yield handle


@pytest.fixture
def lab(card_lab: LabHandle) -> Iterator[LabHandle]:
    """``card_lab`` for one test; afterwards every card is taken off the readers."""
    yield card_lab
    card_lab.clear()


def _free_display() -> int:
    for number in range(90, 400):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number")


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """One X display for the whole test process (Tk cannot move to another one once it has
    connected): Xvfb started here, unless VENUE_SUITE_TEST_DISPLAY names one."""
    given = os.environ.get("VENUE_SUITE_TEST_DISPLAY")
    if given:
        os.environ["DISPLAY"] = given
        yield given
        return
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed (make setup installs it)")
    previous = os.environ.get("DISPLAY")
    for _attempt in range(5):
        number = _free_display()
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.02)
        if proc.poll() is None:
            break
    else:
        pytest.fail("Xvfb did not start")
    display = f":{number}"
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
