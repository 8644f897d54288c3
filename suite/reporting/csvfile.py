"""The CSV export: UTF-8 with a BOM (Excel opens Chinese correctly), streamed."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.i18n import _
from suite.reporting.formats import csv_formatters
from suite.reporting.spec import ReportSpec

from suite.reporting.export_common import (CHECK_EVERY, DEFAULT_BATCH, ExportResult, _Progress, _check_target,
                                           _close_rows, _failed, _remove, _source, _temp_path)

if TYPE_CHECKING:
    from suite.reporting.runner import ReportRun


# ---------------------------------------------------------------- CSV


class _CsvLines:
    """CSV lines as ``csv.writer`` (QUOTE_MINIMAL, CRLF) writes them, made faster: a row is
    joined with commas and only a row that needs quoting (a comma, quote or line break inside
    a field) goes through ``csv.writer``. ``None`` is written as nothing, anything else as
    ``str(value)``."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[str] = []
        self._scratch = io.StringIO()
        # the same line terminator as the file: the csv module quotes a field holding one
        self._writer = csv.writer(self._scratch, lineterminator="\r\n")

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, row: Sequence[Any]) -> None:
        try:
            line = ",".join(row)
        except TypeError:  # None, numbers, UUIDs...
            row = ["" if v is None else v if type(v) is str else str(v) for v in row]
            line = ",".join(row)
        if (line.count(",") != self.width - 1 or '"' in line or "\n" in line or "\r" in line
                or self.width == 1):
            self._writer.writerow(row)
            line = self._scratch.getvalue()[:-2]
            self._scratch.seek(0)
            self._scratch.truncate()
        self.lines.append(line)

    def flush(self, fh: Any) -> int:
        """Write the lines held; returns how many."""
        count = len(self.lines)
        if count:
            fh.write("\r\n".join(self.lines))
            fh.write("\r\n")
            self.lines.clear()
        return count


def export_csv(source: "ReportRun | ReportSpec", path: str | os.PathLike[str], *,
               rows: Iterable[Sequence[Any]] | None = None,
               params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
               progress: Callable[[int], None] | None = None, cancelled: Callable[[], bool] | None = None,
               total: int | None = None, batch: int = DEFAULT_BATCH) -> ExportResult:
    """Export to CSV: UTF-8 with a byte-order mark (so Excel reads Chinese correctly), a
    header row of the translated column labels, then every row formatted as on screen
    except that numbers carry no thousands separators (``csv_formatters``)."""
    target = Path(path)
    _check_target(target)
    src = _source(source, rows, params, batch)
    fmts = csv_formatters(src.columns)
    ticker = _Progress(progress, cancelled)
    temp = _temp_path(target)
    done = 0
    stopped = False
    chunk = max(CHECK_EVERY, (batch // CHECK_EVERY) * CHECK_EVERY)
    try:
        with open(temp, "w", encoding="utf-8", newline="") as fh:
            fh.write("\ufeff")  # the byte-order mark: Excel then reads the file as UTF-8
            lines = _CsvLines(len(src.columns))
            lines.add([_(c.label) if c.label else c.name for c in src.columns])
            lines.flush(fh)
            add, held = lines.add, lines.lines
            for row in src.rows:
                if fmts:
                    row = list(row)
                    for i, fmt in fmts:
                        v = row[i]
                        if v is not None:
                            row[i] = fmt(v)
                add(row)
                if len(held) >= chunk:
                    done += lines.flush(fh)
                    if ticker.tick(done):
                        stopped = True
                        break
            if not stopped:
                done += lines.flush(fh)
                stopped = cancelled is not None and bool(cancelled())
        if stopped:
            _close_rows(src.rows)
            _remove(temp)
            return ExportResult(target, done, 1, True, "csv")
        os.replace(temp, target)
    except BaseException as exc:
        _close_rows(src.rows)
        _remove(temp)
        if isinstance(exc, OSError):
            raise _failed(target, exc) from exc
        raise
    ticker.report(done)
    return ExportResult(target, done, 1, False, "csv")


