"""The ``escpos-printer`` device: status checks before every job, a reprint queue for jobs that
could not print, health for the status bar.

``open_printer(config, post)`` is the factory the device host calls (``suite.core_plugin``).
Callers print with ``printer.print_layout(layout, data)`` (or ``print_bytes`` for a job already
rendered); a job that cannot print raises a ``PrinterError`` whose message says why and which
queue entry holds the job, and ``reprint(job_id)`` / ``drop(job_id)`` settle it later. Jobs are
never reprinted on their own: a ticket printed an hour late at an unattended printer is worse
than one the cashier reprints on purpose.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from printers.elements import Layout
from printers.queue import QueuedJob, ReprintQueue
from printers.render import render_job
from printers.settings import PrinterSettings, printer_settings
from printers.transport import Link, LinkLost, Paper, Status
from suite.device_host import DeviceConfig, DeviceError, Post
from suite.i18n import _, ngettext

log = logging.getLogger(__name__)


class PrinterError(DeviceError):
    """A job did not print; ``details["job_id"]`` is its entry in the reprint queue (if queued)."""

    code = "printer"


class PrinterUnreachable(PrinterError):
    code = "printer_unreachable"


class PrinterOffline(PrinterError):
    code = "printer_offline"


class PaperOut(PrinterError):
    code = "paper_out"


def open_printer(config: DeviceConfig, post: Post) -> "Printer":
    """The device host's factory for kind ``escpos-printer`` (options: ``printers.settings``)."""
    settings = printer_settings(config)
    return Printer(settings, ReprintQueue(settings.queue_dir), post)


class Printer:
    def __init__(self, settings: PrinterSettings, queue: ReprintQueue, post: Post | None = None) -> None:
        self.settings = settings
        self.device_id = settings.device_id
        self.queue = queue
        self._post = post
        self._link = Link(settings)
        self._lock = threading.RLock()
        self._status: Status | None = None
        self._problem = ""          # why the printer is unreachable, "" when connected
        self._alive = False
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    # -- Device protocol -------------------------------------------------------------------
    def start(self) -> None:
        """Connect and read the status once; ``DeviceError`` when the printer cannot be reached."""
        with self._lock:
            self._connect()
        self._stop.clear()
        if self.settings.poll_seconds > 0 and self.settings.has_status:
            self._poller = threading.Thread(target=self._poll, name=f"printer-{self.device_id}", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(timeout=self.settings.timeout + 1)
        self._poller = None
        with self._lock:
            self._link.close()
            self._alive = False

    def alive(self) -> bool:
        return self._alive

    def health(self) -> tuple[bool, str]:
        waiting = len(self.queue)
        queued = ngettext("{count} job waits in the reprint queue.", "{count} jobs wait in the reprint queue.",
                          waiting).format(count=waiting) if waiting else ""
        status = self._status
        if not self._alive:
            ok, message = False, self._unreachable_message()
        elif status is None:
            ok, message = True, ""
        elif status.paper is Paper.OUT:
            ok, message = False, self._paper_out_message()
        elif not status.online:
            ok, message = False, self._offline_message()
        elif status.paper is Paper.NEAR_END:
            ok, message = True, _("Printer {id}: the paper roll is nearly used up.").format(id=self.device_id)
        else:
            ok, message = True, ""
        return ok, " ".join(part for part in (message, queued) if part)

    # -- printing --------------------------------------------------------------------------
    def print_layout(self, layout: Layout, data: Mapping[str, Any]) -> None:
        """Render ``layout`` for this printer's paper and print it (see ``print_bytes``)."""
        self.print_bytes(render_job(layout, data, self.settings.paper), layout.id)

    def print_bytes(self, job: bytes, layout_id: str = "raw") -> None:
        """Check the status, then send. On failure the job goes to the reprint queue and a
        ``PrinterError`` says why; the paper running low only shows in ``health()``."""
        with self._lock:
            try:
                self._deliver(job)
            except PrinterError as exc:
                job_id = self.queue.add(job, layout_id, exc.message)
                log.info("printer %s: job %s queued: %s", self.device_id, job_id, exc.message)
                raise type(exc)(" ".join((exc.message, _("The job waits in the reprint queue as number {job}.")
                                          .format(job=job_id))), job_id=job_id) from None

    def status(self) -> Status | None:
        """Ask the printer now (``None`` for a transport without a status channel)."""
        with self._lock:
            return self._fresh_status()

    # -- the reprint queue ------------------------------------------------------------------
    def queued(self) -> list[QueuedJob]:
        return self.queue.jobs()

    def reprint(self, job_id: int) -> None:
        """Print a queued job again; it leaves the queue only once it was sent."""
        _info, job = self.queue.get(job_id)
        with self._lock:
            try:
                self._deliver(job)
            except PrinterError as exc:
                self.queue.failed_again(job_id, exc.message)
                raise type(exc)(exc.message, job_id=job_id) from None
            self.queue.remove(job_id)

    def drop(self, job_id: int) -> None:
        self.queue.remove(job_id)

    # -- inside ----------------------------------------------------------------------------
    def _deliver(self, job: bytes) -> None:
        status = self._fresh_status()
        if status is not None and status.paper is Paper.OUT:
            raise PaperOut(self._paper_out_message())
        if status is not None and not status.online:
            raise PrinterOffline(self._offline_message())
        try:
            self._link.send(job)
        except LinkLost as exc:
            self._lost(str(exc))
            raise PrinterUnreachable(_("The connection to printer {id} broke while printing ({reason}).").format(
                id=self.device_id, reason=exc)) from None

    def _fresh_status(self) -> Status | None:
        """Connect if needed and ask for the status; a connection the printer dropped while idle
        answers with nothing, so that gets one reconnect before the printer counts as lost."""
        try:
            if not self._link.is_open:
                self._open()
                return self._check_status()
            try:
                return self._check_status()
            except LinkLost:
                self._open()
                return self._check_status()
        except LinkLost as exc:
            self._lost(str(exc))
            raise PrinterUnreachable(self._unreachable_message()) from None

    def _open(self) -> None:
        self._link.open()
        self._alive, self._problem = True, ""

    def _connect(self) -> None:
        try:
            self._open()
            self._check_status()
        except LinkLost as exc:
            self._lost(str(exc))
            raise PrinterUnreachable(self._unreachable_message()) from None

    def _check_status(self) -> Status | None:
        if not self.settings.has_status:
            return None
        self._status = self._link.status()
        return self._status

    def _lost(self, reason: str) -> None:
        self._link.close()
        self._alive, self._problem, self._status = False, reason, None

    def _poll(self) -> None:
        while not self._stop.wait(self.settings.poll_seconds):
            if not self._lock.acquire(timeout=0.05):
                continue               # a job is printing: it checks the status itself
            try:
                if self._alive:
                    self._check_status()
            except LinkLost as exc:
                self._lost(str(exc))
            finally:
                self._lock.release()
            if not self._alive:
                return

    def _unreachable_message(self) -> str:
        return _("Printer {id} cannot be reached at {where}: {reason}. Check the cable, the power and the "
                 "address.").format(id=self.device_id, where=self.settings.where(), reason=self._problem or "-")

    def _offline_message(self) -> str:
        return _("Printer {id} is offline: close the cover, press the feed/online button or clear the error "
                 "light.").format(id=self.device_id)

    def _paper_out_message(self) -> str:
        return _("Printer {id} is out of paper: load a new roll.").format(id=self.device_id)
