"""The virtual printer: a loopback TCP server (port 9100 by default) or a pseudo-terminal that
takes ESC/POS jobs like a receipt printer, answers ``DLE EOT`` from a scriptable state and
renders every job to ``job-NNNN.png``, ``.txt`` (transcript) and ``.bin`` (the bytes).

A job ends at a cut, at an ``ESC @`` that follows printed content, or when the connection
closes. While the printer is offline or out of paper, received jobs are not printed (their
bytes and a note are still saved) - the driver is expected to ask first.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from printers.virtual.interpreter import Command, CommandParser
from printers.virtual.page import Page
from printers.virtual.state import PrinterState

log = logging.getLogger(__name__)
PAPER_DOTS = {58: 384, 80: 576}


@dataclass(frozen=True)
class JobRecord:
    number: int
    png: Path
    transcript: str
    errors: tuple[str, ...]
    printed: bool
    render_ms: float


class _Session:
    """One connection (or the pty): parser, page, status answers."""

    def __init__(self, printer: "VirtualPrinter", answer: Callable[[bytes], None]) -> None:
        self.printer = printer
        self.answer = answer
        self.parser = CommandParser()
        self.page = Page(printer.dots)
        self.raw = bytearray()
        self.busy = 0.0            # seconds spent interpreting and drawing the current job

    def receive(self, data: bytes) -> None:
        for command in self.parser.feed(data):
            self._handle(command)

    def close(self) -> None:
        for command in self.parser.finish():
            self._handle(command)
        self._end_job()

    def _handle(self, command: Command) -> None:
        if command.name == "status":
            byte = self.printer.state.status_byte(command.args[0])
            self.printer.count_query()
            if byte is None:
                self.page.error(f"DLE EOT {command.args[0]}: no such status (1-4) at offset {command.offset}")
            else:
                self.answer(bytes([byte]))
            return
        if command.name == "init" and self.page.has_content:
            self._end_job()
        started = time.perf_counter()
        self.raw += command.raw
        self.page.apply(command)
        self.busy += time.perf_counter() - started
        if command.name == "cut":
            self._end_job()

    def _end_job(self) -> None:
        if self.page.has_content:
            self.printer.save_job(self.page, bytes(self.raw), self.busy)
        self.page = Page(self.printer.dots)
        self.raw.clear()
        self.busy = 0.0


class VirtualPrinter:
    def __init__(self, out_dir: Path, *, paper_mm: int = 80, host: str = "127.0.0.1", port: int = 9100,
                 state: PrinterState | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.dots = PAPER_DOTS[paper_mm]
        self.host, self.port = host, port
        self.state = state or PrinterState(self.out_dir / "state.json")
        self.jobs: list[JobRecord] = []
        self.status_queries = 0
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._pty: tuple[int, int] | None = None
        existing = [int(p.stem.split("-")[1]) for p in self.out_dir.glob("job-*.bin") if p.stem[4:].isdigit()]
        self._next_number = max(existing, default=0) + 1

    # -- life ------------------------------------------------------------------------------------
    def start(self) -> "VirtualPrinter":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept, "virtual-printer-accept")
        return self

    def serve_pty(self) -> str:
        """Also take jobs on a pseudo-terminal; returns the device path a serial driver opens."""
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._pty = (master, slave)      # holding the slave open keeps the master readable
        self._spawn(self._serve_pty, "virtual-printer-pty")
        return os.ttyname(slave)

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for client in list(self._clients):
                try:
                    client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        if self._pty is not None:
            for fd in self._pty:
                os.close(fd)
            self._pty = None

    def __enter__(self) -> "VirtualPrinter":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- what tests look at ----------------------------------------------------------------------
    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[JobRecord]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.jobs) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.jobs)} job(s) printed, {count} expected")
                self._lock.wait(left)
            return list(self.jobs)

    def count_query(self) -> None:
        with self._lock:
            self.status_queries += 1

    def save_job(self, page: Page, raw: bytes, busy: float = 0.0) -> None:
        """Finish the page and write the job's files; ``render_ms`` counts the interpreting and
        drawing done while the job arrived (``busy`` seconds) plus this."""
        started = time.perf_counter()
        printed = self.state.can_print()
        if not printed:
            page.note(f"[NOT PRINTED] the printer was {self.state.describe()} when this job arrived")
        job = page.finish()
        with self._lock:
            number = self._next_number
            self._next_number += 1
        base = self.out_dir / f"job-{number:04d}"
        base.with_suffix(".bin").write_bytes(raw)
        base.with_suffix(".txt").write_text(job.transcript, encoding="utf-8")
        png = base.with_suffix(".png")
        if printed:
            job.image.save(png, optimize=False, compress_level=1)
            self.state.job_printed()
        record = JobRecord(number, png, job.transcript, job.errors, printed,
                           (time.perf_counter() - started + busy) * 1000)
        with self._lock:
            self.jobs.append(record)
            self._lock.notify_all()

    # -- inside ----------------------------------------------------------------------------------
    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._clients.add(client)
            self._spawn(self._serve_client, "virtual-printer-client", client)

    def _serve_client(self, client: socket.socket) -> None:
        session = _Session(self, client.sendall)
        client.settimeout(0.1)
        try:
            while not self._stop.is_set():
                try:
                    data = client.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                self._receive(session, data)
        except OSError as exc:
            log.debug("virtual printer client: %s", exc)
        finally:
            self._close(session)
            with self._lock:
                self._clients.discard(client)
            client.close()

    def _serve_pty(self) -> None:
        assert self._pty is not None
        master = self._pty[0]
        session = _Session(self, lambda data: os.write(master, data))
        while not self._stop.is_set():
            ready, _w, _x = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            self._receive(session, data)
        self._close(session)

    def _receive(self, session: _Session, data: bytes) -> None:
        try:
            session.receive(data)
        except Exception as exc:  # noqa: BLE001 - a bug in the interpreter must not stop the printer
            log.exception("virtual printer: interpreter failure")
            session.page.error(f"interpreter failure: {type(exc).__name__}: {exc}")

    def _close(self, session: _Session) -> None:
        try:
            session.close()
        except Exception:  # noqa: BLE001 - same as above
            log.exception("virtual printer: failure while ending a job")
