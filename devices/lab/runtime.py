"""Starting and stopping the whole lab: pcscd with the vpcd readers, and the lab daemon.

Used by ``venue-suite lab start|stop|status`` and by the test fixture
(``tests/devices/conftest.py``), so tests run exactly what a developer runs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devices.lab.control import LabClient, LabError
from devices.lab.paths import LabConfig, LabPaths
from devices.lab.pcscd import ENV_SOCKET, SYSTEM_SOCKET, Pcscd, listening_ports, pid_alive, socket_alive
from suite.i18n import _

DAEMON_START_TIMEOUT = 10.0


class LabRuntime:
    def __init__(self, folder: Path, config: LabConfig | None = None) -> None:
        self.paths = LabPaths(folder)
        self.config = config or self.paths.load_config()
        self.client = LabClient(self.paths.control_socket)
        self.pcscd: Pcscd | None = None

    # ---- start -----------------------------------------------------------------------------------

    def start(self, *, pcscd: str = "auto", if_running: str = "reuse", timeout: float = 10.0) -> dict[str, Any]:
        """Start what is missing. ``pcscd``: ``auto`` (start one when none runs), ``system``,
        ``isolated`` or ``none``. ``if_running`` (auto only): ``reuse`` a pcscd someone else runs,
        or ``isolate`` (start our own beside it)."""
        if pcscd not in ("auto", "system", "isolated", "none") or if_running not in ("reuse", "isolate"):
            raise ValueError("pcscd: auto|system|isolated|none; if_running: reuse|isolate")
        self.paths.folder.mkdir(parents=True, exist_ok=True)
        self.paths.save_config(self.config)
        pcscd_state = self._ensure_pcscd(pcscd, if_running, timeout)
        daemon_state = self._ensure_daemon(timeout)
        self._wait_for_vpcd(timeout)
        return {"lab_dir": str(self.paths.folder), "pcscd": pcscd_state, "daemon": daemon_state,
                "readers": self.config.reader_names(), "vpcd_ports": self.config.ports,
                "env": self.client_env()}

    def _ensure_pcscd(self, mode: str, if_running: str, timeout: float) -> str:
        self.pcscd = Pcscd.find(self.paths)
        if self.pcscd is not None:
            return _("already running (started by this lab, pid {pid})").format(pid=self.pcscd.record.pid)
        if mode == "none":
            return _("not managed by the lab")
        system_busy = socket_alive(SYSTEM_SOCKET)
        if mode == "auto" and system_busy and if_running == "reuse":
            return _("another pcscd is running on {socket}: the lab uses it; its reader configuration must "
                     "serve vpcd ports {ports}").format(socket=SYSTEM_SOCKET, ports=self.config.ports)
        isolated = mode == "isolated" or (mode == "auto" and system_busy)
        self.pcscd = Pcscd.start(self.paths, self.config, isolated=isolated, timeout=timeout)
        return _("started (pid {pid}, {how})").format(
            pid=self.pcscd.record.pid, how=_("isolated") if isolated else str(SYSTEM_SOCKET))

    def _ensure_daemon(self, timeout: float) -> str:
        if self.client.running():
            return _("already running")
        env = dict(os.environ)
        repo = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = repo + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        with open(self.paths.daemon_log, "ab") as log_file:
            process = subprocess.Popen([sys.executable, "-m", "devices.lab.daemon", "--dir", str(self.paths.folder)],
                                       stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True)
        self._daemon_process = process
        deadline = time.monotonic() + min(timeout, DAEMON_START_TIMEOUT)
        while not self.client.running():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                tail = self.paths.daemon_log.read_text(errors="replace")[-800:]
                raise LabError(_("The lab daemon did not start:\n{log}").format(log=tail))
            time.sleep(0.02)
        return _("started (pid {pid})").format(pid=process.pid)

    def _wait_for_vpcd(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not set(self.config.ports) <= listening_ports():
            if time.monotonic() > deadline:
                raise LabError(_("No vpcd listens on ports {ports}: the running pcscd does not have the lab's "
                                 "readers (see {conf}).").format(ports=self.config.ports,
                                                                 conf=self.paths.pcscd_config / "reader.conf"))
            time.sleep(0.02)

    def client_env(self) -> dict[str, str]:
        """Environment a PC/SC client needs to see the lab's readers (empty: the system socket)."""
        if self.pcscd is not None and self.pcscd.record.isolated:
            return {ENV_SOCKET: self.pcscd.record.socket}
        return {}

    # ---- restart, stop, status ---------------------------------------------------------------------

    def stop_pcscd(self) -> None:
        """Stop the lab's pcscd (a reader 'unplugged' for every client); cards stay in the lab."""
        pcscd = self.pcscd or Pcscd.find(self.paths)
        if pcscd is None:
            raise LabError(_("This lab did not start the running pcscd, so it will not stop it."))
        pcscd.stop()

    def start_pcscd(self, timeout: float = 5.0) -> None:
        """Start the lab's pcscd again in the mode it had (isolated keeps its socket link)."""
        isolated = self.pcscd.record.isolated if self.pcscd is not None else False
        self.pcscd = Pcscd.start(self.paths, self.config, isolated=isolated, timeout=timeout)
        self._wait_for_vpcd(timeout)

    def stop(self, timeout: float = 5.0) -> dict[str, Any]:
        stopped: dict[str, Any] = {"daemon": False, "pcscd": False}
        try:
            pid = self.client.call("ping")["pid"]
            self.client.call("shutdown")
            deadline = time.monotonic() + timeout
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
            stopped["daemon"] = True
        except LabError:
            pass
        process = getattr(self, "_daemon_process", None)
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        pcscd = self.pcscd or Pcscd.find(self.paths)
        if pcscd is not None:
            pcscd.stop(timeout)
            stopped["pcscd"] = True
        self.pcscd = None
        return stopped

    def status(self) -> dict[str, Any]:
        pcscd = self.pcscd or Pcscd.find(self.paths)
        if pcscd is not None:
            pcscd_state = _("running (started by this lab, pid {pid}{isolated})").format(
                pid=pcscd.record.pid, isolated=", " + _("isolated") if pcscd.record.isolated else "")
        elif socket_alive(SYSTEM_SOCKET):
            pcscd_state = _("running (not started by this lab)")
        else:
            pcscd_state = _("not running")
        listening = listening_ports()
        result: dict[str, Any] = {"lab_dir": str(self.paths.folder), "pcscd": pcscd_state,
                                  "vpcd_ports": {str(p): p in listening for p in self.config.ports}}
        try:
            result["daemon"] = self.client.call("status")
        except LabError as exc:
            result["daemon"] = exc.message
        return result


def free_port_pair() -> int:
    """A port p with p and p + 1 free on every interface (vpcd binds 0.0.0.0)."""
    for _attempt in range(50):
        base = 36000 + secrets.randbelow(20000)
        sockets = []
        try:
            for port in (base, base + 1):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("0.0.0.0", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise LabError(_("No two consecutive free TCP ports found for vpcd."))


OWNER_FILE = "owner.pid"
PRIVATE_PREFIX = "vs-lab-"


def sweep_abandoned_labs() -> list[str]:
    """Stop and delete private labs whose owning process died without cleaning up (a killed test run)."""
    swept = []
    for folder in Path(tempfile.gettempdir()).glob(PRIVATE_PREFIX + "*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if pid_alive(owner):
            continue
        try:
            LabRuntime(folder).stop(timeout=2)
        except (LabError, OSError, ValueError):
            pass
        shutil.rmtree(folder, ignore_errors=True)
        swept.append(str(folder))
    return swept


@contextmanager
def private_lab(mode: str | None = None, readers: int = 2) -> Iterator[LabRuntime]:
    """A throw-away lab for tests and benchmarks: free vpcd ports, a temporary folder, pcscd on the
    system socket when none runs there (else isolated, ``mode`` forces one), this process's
    ``PCSCLITE_CSOCK_NAME`` pointed at it for as long as it lives; everything stopped and deleted
    afterwards. Set it up before this process's first PC/SC call."""
    sweep_abandoned_labs()
    folder = Path(tempfile.mkdtemp(prefix=PRIVATE_PREFIX))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    if mode is None:
        mode = "isolated" if socket_alive(SYSTEM_SOCKET) else "system"
    runtime = LabRuntime(folder, LabConfig(base_port=free_port_pair(), readers=readers))
    previous = os.environ.get(ENV_SOCKET)
    try:
        runtime.start(pcscd=mode)
        os.environ.update(runtime.client_env())
        yield runtime
    finally:
        runtime.stop()
        if previous is None:
            os.environ.pop(ENV_SOCKET, None)
        else:
            os.environ[ENV_SOCKET] = previous
        shutil.rmtree(folder, ignore_errors=True)


__all__ = ["LabRuntime", "free_port_pair", "private_lab", "sweep_abandoned_labs"]
