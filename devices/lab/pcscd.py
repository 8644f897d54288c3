"""Starting and stopping pcscd with the lab's vpcd readers.

pcscd serves one socket per mount namespace, ``/run/pcscd/pcscd.comm`` (the daemon ignores
``PCSCLITE_CSOCK_NAME``; the client library reads it once per process). Two ways to run it:

* system: ``pcscd --foreground --config <lab>/pcscd --error`` on the usual socket, for a machine
  where no pcscd runs (CI, a newcomer's laptop after ``systemctl stop pcscd.socket pcscd``);
* isolated: the same inside ``unshare --mount`` with a tmpfs on ``/run/pcscd``, so it never meets
  the system's pcscd; clients reach it through ``<lab>/pcscd.comm``, a link to
  ``/proc/<pid>/root/run/pcscd/pcscd.comm``, by setting ``PCSCLITE_CSOCK_NAME`` before their first
  PC/SC call. Needs root (CAP_SYS_ADMIN).

Either way vpcd listens on TCP ports ``base``, ``base + 1``... on every interface (a vpcd
limitation): keep those ports closed in the firewall of a machine on a shared network.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from devices.lab.control import LabError
from devices.lab.paths import LabConfig, LabPaths
from suite.i18n import _

SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
ENV_SOCKET = "PCSCLITE_CSOCK_NAME"
_ISOLATE = 'mkdir -p /run/pcscd && mount -t tmpfs -o mode=0755 tmpfs /run/pcscd && exec "$0" "$@"'


def socket_alive(path: Path) -> bool:
    """Does a pcscd answer on this Unix socket?"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def pid_command(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def listening_ports() -> set[int]:
    """TCP ports in LISTEN state on this machine (from /proc/net/tcp{,6})."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def write_reader_conf(folder: Path, config: LabConfig) -> Path:
    """One vpcd entry per two readers (vpcd serves ports ``CHANNELID`` and ``CHANNELID + 1``)."""
    if not VPCD_DRIVER.exists():
        raise LabError(_("The vpcd reader driver is missing ({path}): install the vsmartcard-vpcd package.").format(
            path=VPCD_DRIVER))
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for entry in range(config.vpcd_entries):
        port = config.base_port + 2 * entry
        entries.append(f'FRIENDLYNAME "{config.reader_name}"\nDEVICENAME   /dev/null:0x{port:04X}\n'
                       f"LIBPATH      {VPCD_DRIVER}\nCHANNELID    0x{port:04X}\n")
    path = folder / "reader.conf"
    path.write_text("\n".join(entries))
    return path


@dataclass
class PcscdRecord:
    """What ``<lab>/pcscd.pid`` holds about the pcscd the lab started."""

    pid: int
    isolated: bool
    socket: str

    def matches(self, paths: LabPaths) -> bool:
        command = pid_command(self.pid)
        return pid_alive(self.pid) and any(Path(word).name == "pcscd" for word in command) \
            and str(paths.pcscd_config) in command


class Pcscd:
    """The pcscd a lab started (or found running from an earlier ``lab start``)."""

    def __init__(self, paths: LabPaths, record: PcscdRecord, process: subprocess.Popen[bytes] | None = None) -> None:
        self.paths = paths
        self.record = record
        self.process = process

    @property
    def socket(self) -> Path:
        return Path(self.record.socket)

    @classmethod
    def find(cls, paths: LabPaths) -> "Pcscd | None":
        try:
            record = PcscdRecord(**json.loads(paths.pcscd_pid.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return cls(paths, record) if record.matches(paths) else None

    @classmethod
    def start(cls, paths: LabPaths, config: LabConfig, *, isolated: bool, timeout: float = 5.0) -> "Pcscd":
        executable = shutil.which("pcscd") or "/usr/sbin/pcscd"
        if not Path(executable).exists():
            raise LabError(_("pcscd is not installed: install the pcscd package."))
        write_reader_conf(paths.pcscd_config, config)
        command = [executable, "--foreground", "--config", str(paths.pcscd_config), "--error"]
        if isolated:
            unshare = shutil.which("unshare") or "/usr/bin/unshare"
            command = [unshare, "--mount", "--propagation", "private", "sh", "-c", _ISOLATE, *command]
        elif socket_alive(SYSTEM_SOCKET):
            raise LabError(_("A pcscd is already running on {socket}: stop it first (systemctl stop pcscd.socket "
                             "pcscd) or start the lab isolated.").format(socket=SYSTEM_SOCKET))
        with open(paths.pcscd_log, "ab") as log_file:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        socket_path = paths.pcscd_socket_link if isolated else SYSTEM_SOCKET
        if isolated:
            temporary = socket_path.with_name(socket_path.name + ".new")
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(f"/proc/{process.pid}/root/run/pcscd/pcscd.comm")
            os.replace(temporary, socket_path)
        pcscd = cls(paths, PcscdRecord(process.pid, isolated, str(socket_path)), process)
        deadline = time.monotonic() + timeout
        while not socket_alive(socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                pcscd.stop()
                tail = paths.pcscd_log.read_text(errors="replace")[-600:] if paths.pcscd_log.exists() else ""
                raise LabError(_("pcscd did not start ({command}):\n{log}").format(command=" ".join(command), log=tail))
            time.sleep(0.02)
        paths.pcscd_pid.write_text(json.dumps(asdict(pcscd.record)))
        return pcscd

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return pid_alive(self.record.pid)

    def stop(self, timeout: float = 5.0) -> None:
        pid = self.record.pid
        if self.alive():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if not self._wait(timeout):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._wait(timeout)
        try:
            record = json.loads(self.paths.pcscd_pid.read_text())
            if record.get("pid") == pid:
                self.paths.pcscd_pid.unlink()
        except (OSError, ValueError):
            pass

    def _wait(self, timeout: float) -> bool:
        if self.process is not None:
            try:
                self.process.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while pid_alive(self.record.pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


__all__ = ["ENV_SOCKET", "Pcscd", "SYSTEM_SOCKET", "listening_ports", "socket_alive", "write_reader_conf"]
