"""Exports in the background: a daemon thread streams the export and reports progress.

``on_progress`` is called from the worker thread; the UI hands it to its event pump (never
touch Tk from it). The last call has ``finished=True`` and says whether the export was
cancelled or failed (``error``: the translated message; the exception is ``job.error``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from suite.errors import InvalidInput, SuiteError
from suite.i18n import _
from suite.reporting.export import ExportResult, export_csv, export_xlsx

if TYPE_CHECKING:
    from suite.reporting.runner import ReportRun

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class ExportProgress:
    rows_done: int
    total: int | None
    finished: bool = False
    cancelled: bool = False
    error: str | None = None
    path: Path | None = None

    @property
    def fraction(self) -> float | None:
        """0..1 when the total is known (for a determinate progress bar)."""
        if not self.total:
            return 1.0 if self.finished else None
        return min(1.0, self.rows_done / self.total)


class ExportJob:
    """``ExportJob(run, path, "xlsx", on_progress).start()``; ``cancel()`` at any time.

    The actor's ``reports.export`` permission is checked here, on the caller's thread, so a
    refusal is raised at once (``PermissionDenied``) rather than reported later.
    ``count_first``: count the rows before exporting, so progress has a total (one more
    query; on by default). ``max_sheet_rows`` is passed to ``export_xlsx``.
    """

    def __init__(self, run: "ReportRun", path: str | Path, fmt: str,
                 on_progress: Callable[[ExportProgress], None] | None = None, *, count_first: bool = True,
                 max_sheet_rows: int | None = None) -> None:
        if fmt not in FORMATS:
            raise InvalidInput(_("Unknown export format {fmt!r}: xlsx or csv.").format(fmt=fmt))
        run.require_export()
        self.run = run
        self.path = Path(path)
        self.fmt = fmt
        self._on_progress = on_progress
        self._count_first = count_first
        self._max_sheet_rows = max_sheet_rows
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.total: int | None = None
        self.rows_done = 0
        self.result: ExportResult | None = None
        self.error: BaseException | None = None

    # ------------------------------------------------------------ control

    def start(self) -> "ExportJob":
        if self._thread is not None:
            raise RuntimeError("an export job runs once")
        self._thread = threading.Thread(target=self._work, name=f"export {self.run.report_id}", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the export to stop; it deletes what it wrote and reports ``cancelled``."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True when the job finished within ``timeout`` seconds."""
        return self._done.wait(timeout)

    # ------------------------------------------------------------ the worker

    def _emit(self, progress: ExportProgress) -> None:
        if self._on_progress is None:
            return
        try:
            self._on_progress(progress)
        except Exception:  # noqa: BLE001 - a broken listener must not break the export
            log.exception("export progress listener failed")

    def _work(self) -> None:
        try:
            if self._count_first and not self._cancel.is_set():
                self.total = self.run.count()
            self._emit(ExportProgress(0, self.total))

            def progress(done: int) -> None:
                self.rows_done = done
                self._emit(ExportProgress(done, self.total))

            kwargs = dict(progress=progress, cancelled=self._cancel.is_set, total=self.total)
            if self._cancel.is_set():
                result = ExportResult(self.path, 0, 0, True, self.fmt)
            elif self.fmt == "xlsx":
                if self._max_sheet_rows is not None:
                    kwargs["max_sheet_rows"] = self._max_sheet_rows
                result = export_xlsx(self.run, self.path, **kwargs)  # type: ignore[arg-type]
            else:
                result = export_csv(self.run, self.path, **kwargs)  # type: ignore[arg-type]
            self.result = result
            self._emit(ExportProgress(result.rows, self.total, finished=True, cancelled=result.cancelled,
                                      path=None if result.cancelled else result.path))
        except BaseException as exc:  # noqa: BLE001 - reported to the UI, never lost in the thread
            self.error = exc
            message = exc.message if isinstance(exc, SuiteError) else _("The export failed: {reason}").format(
                reason=f"{type(exc).__name__}: {exc}")
            if not isinstance(exc, SuiteError):
                log.exception("export of %s failed", self.run.report_id)
            self._emit(ExportProgress(self.rows_done, self.total, finished=True, error=message))
        finally:
            self._done.set()


__all__ = ["ExportJob", "ExportProgress", "FORMATS"]
