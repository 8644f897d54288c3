"""The lab daemon's control channel: one JSON request per line on a Unix socket, one JSON answer.

Request ``{"op": "insert", "reader": 0, "uid": "04A1B2C3"}``; answer ``{"ok": true, "result": ...}``
or ``{"ok": false, "error": "<message>"}``. Ops: see ``LabDaemon.OPS``.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from suite.errors import SuiteError
from suite.i18n import _

MAX_REQUEST = 1 << 20


class LabError(SuiteError):
    """The lab cannot do what was asked (no card on that reader, unknown card, lab not running...)."""

    code = "lab"


class LabNotRunning(LabError):
    code = "lab_not_running"


Handler = Callable[[dict[str, Any]], Any]


class _RequestHandler(socketserver.StreamRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        line = self.rfile.readline(MAX_REQUEST)
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("a JSON object expected")
            answer: dict[str, Any] = {"ok": True, "result": self.server.dispatch(request)}
        except LabError as exc:
            answer = {"ok": False, "error": exc.message, "code": exc.code}
        except (ValueError, KeyError, TypeError) as exc:
            answer = {"ok": False, "error": str(exc), "code": "invalid_request"}
        self.wfile.write(json.dumps(answer).encode() + b"\n")


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, dispatch: Handler) -> None:
        self.dispatch = dispatch
        super().__init__(path, _RequestHandler)


class ControlServer:
    def __init__(self, path: Path, dispatch: Handler) -> None:
        if len(str(path)) > 100:
            raise LabError(_("Lab folder path too long for a control socket: {path}").format(path=path))
        self.path = path
        path.unlink(missing_ok=True)
        self._server = _Server(str(path), dispatch)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="lab-control", daemon=True)

    def start(self) -> "ControlServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)


class LabClient:
    """Talks to a running lab daemon (``venue-suite lab``, tests, benchmarks)."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout

    def call(self, op: str, **params: Any) -> Any:
        request = json.dumps({"op": op, **params}).encode() + b"\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(str(self.path))
                sock.sendall(request)
                answer = sock.makefile("rb").readline(MAX_REQUEST)
        except (FileNotFoundError, ConnectionRefusedError):
            raise LabNotRunning(_("The card lab is not running (no {path}): start it with "
                                  "'venue-suite lab start'.").format(path=self.path)) from None
        except OSError as exc:
            raise LabError(_("Cannot talk to the card lab at {path}: {reason}").format(
                path=self.path, reason=exc.strerror or exc)) from None
        if not answer:
            raise LabError(_("The card lab closed the connection without answering."))
        reply = json.loads(answer)
        if not reply.get("ok"):
            raise LabError(reply.get("error", "?"))
        return reply.get("result")

    def running(self) -> bool:
        try:
            self.call("ping")
        except LabError:
            return False
        return True


__all__ = ["ControlServer", "LabClient", "LabError", "LabNotRunning"]
