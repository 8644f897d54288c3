"""Exports of a report: xlsx (openpyxl, write-only) and CSV, streamed, cancellable.

Both stream rows straight from ``ReportRun.iter_rows()`` (or any iterable of rows with a
spec), call ``progress(rows_done)`` every few thousand rows, stop when ``cancelled()``
returns true, and write to a temporary file in the target's folder that is renamed over the
target only when complete: a cancelled or failed export leaves nothing behind.

The xlsx has a bold, frozen header row on every data sheet, a number format per column kind
(money as a number with two decimals from minor units, real Excel dates), column widths, an
auto-filter over the data, a totals row, a new sheet every ``max_sheet_rows`` rows (Excel's
limit by default), a "Report" sheet with the title, parameters and totals, and, when the spec
has a ``ChartSpec``, a native bar or line chart on a sheet of its own: of the daily totals, or of
one point per row (the first ``MAX_CHART_POINTS``) for a chart with a ``category`` column.

Rows are serialised by this module rather than cell by cell through openpyxl's XML writer
(four times faster on a million rows); the workbook, styles, sheets, views, filters and
charts are openpyxl's. Where openpyxl writes through lxml the plain openpyxl path is used.
"""


from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.errors import InvalidInput
from suite.i18n import _
from suite.reporting.csvfile import export_csv
from suite.reporting.export_common import EXCEL_MAX_ROWS, ExportFailed, ExportResult
from suite.reporting.formats import format_money
from suite.reporting.spec import ReportSpec
from suite.reporting.xlsx import export_xlsx

if TYPE_CHECKING:
    from suite.reporting.runner import ReportRun


def export(source: "ReportRun | ReportSpec", path: str | os.PathLike[str], fmt: str | None = None,
           **kwargs: Any) -> ExportResult:
    """``export_xlsx`` or ``export_csv`` by ``fmt`` (default: by the file's suffix)."""
    fmt = (fmt or Path(path).suffix.lstrip(".") or "xlsx").lower()
    if fmt == "xlsx":
        return export_xlsx(source, path, **kwargs)
    if fmt == "csv":
        kwargs.pop("max_sheet_rows", None)
        return export_csv(source, path, **kwargs)
    raise InvalidInput(_("Unknown export format {fmt!r}: xlsx or csv.").format(fmt=fmt))


__all__ = ["EXCEL_MAX_ROWS", "ExportFailed", "ExportResult", "export", "export_csv", "export_xlsx", "format_money"]
