"""A pseudo-terminal pair as a serial cable, and the device end of it as a byte stream.

The application opens ``PtyPair.port`` (``/dev/pts/N``, or a stable symlink) with pyserial; a
simulator reads and writes ``PtyPair.device_fd``. The pair keeps its own descriptor of the
application end open, so the device end never sees a hang-up while the application reconnects,
and the device end can be handed to a simulator process that is killed and started again while
the application keeps its port open, like a controller that loses power.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import tty
from pathlib import Path


class PtyPair:
    def __init__(self, link: str | os.PathLike[str] | None = None) -> None:
        self.device_fd, self._app_fd = os.openpty()
        tty.setraw(self._app_fd)
        tty.setraw(self.device_fd)
        self.port = os.ttyname(self._app_fd)
        self.link: Path | None = None
        if link is not None:
            self.link = Path(link)
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
            self.link.symlink_to(self.port)

    @property
    def name(self) -> str:
        """What the application should open: the symlink when there is one."""
        return str(self.link) if self.link is not None else self.port

    def close(self) -> None:
        for fd in (self.device_fd, self._app_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.link is not None:
            with contextlib.suppress(OSError):
                if self.link.is_symlink():
                    self.link.unlink()

    def __enter__(self) -> "PtyPair":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DeviceEnd:
    """Non-blocking reads and writes on the device end of a pty."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.discard_input()

    def read(self, max_bytes: int, timeout: float = 0.0) -> bytes:
        try:
            ready, _w, _x = select.select([self.fd], [], [], timeout)
            if not ready:
                return b""
            return os.read(self.fd, max_bytes)
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.EAGAIN, errno.EBADF):
                return b""  # nobody has the other end open right now
            raise

    def write(self, data: bytes) -> int:
        try:
            return os.write(self.fd, data)
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.EAGAIN):
                return 0
            raise

    def discard_input(self) -> None:
        """Drop bytes that waited for a device that was not running."""
        while self.read(4096):
            pass
