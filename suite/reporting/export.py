"""Exports of a report: xlsx (openpyxl, write-only) and CSV, streamed, cancellable.

Both stream rows straight from ``ReportRun.iter_rows()`` (or any iterable of rows with a
spec), call ``progress(rows_done)`` every few thousand rows, stop when ``cancelled()``
returns true, and write to a temporary file in the target's folder that is renamed over the
target only when complete: a cancelled or failed export leaves nothing behind.

The xlsx has a bold, frozen header row on every data sheet, a number format per column kind
(money as a number with two decimals from minor units, real Excel dates), column widths, an
auto-filter over the data, a totals row, a new sheet every ``max_sheet_rows`` rows (Excel's
limit by default), a "Report" sheet with the title, parameters and totals, and, when the spec
has a ``ChartSpec``, a native bar or line chart of the daily totals on a sheet of its own.

Rows are serialised by this module rather than cell by cell through openpyxl's XML writer
(four times faster on a million rows); the workbook, styles, sheets, views, filters and
charts are openpyxl's. Where openpyxl writes through lxml the plain openpyxl path is used.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.errors import InvalidInput, SuiteError
from suite.i18n import _
from suite.reporting.formats import EXCEL_FORMATS, LocalClock, csv_formatters, format_money, parse_stored
from suite.reporting.spec import ChartAggregate, ChartKind, ChartSpec, Column, ColumnKind, ReportSpec

if TYPE_CHECKING:
    from suite.reporting.runner import ReportRun

EXCEL_MAX_ROWS = 1_048_576  # rows in one Excel sheet, the header included
PROGRESS_EVERY = 5000
CHECK_EVERY = 500
DEFAULT_BATCH = 5000

_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
_SHEET_NAME_BAD = re.compile(r"[\[\]\*\?/\\:]")


class ExportFailed(SuiteError):
    """The file could not be written (disk full, no permission...)."""

    code = "export_failed"


def _failed(path: Path, exc: OSError) -> ExportFailed:
    return ExportFailed(_("Cannot write the export to {path}: {reason}").format(
        path=path, reason=exc.strerror or exc), path=str(path))


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    sheets: int
    cancelled: bool
    format: str = "xlsx"


@dataclass
class _Source:
    report_id: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Iterator[Sequence[Any]]
    params: list[tuple[str, str]]
    chart: ChartSpec | None
    actor: str


def _described(params: Mapping[str, Any] | Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return [(str(k), "" if v is None else str(v)) for k, v in params.items()]
    return [(str(k), str(v)) for k, v in params]


def _source(source: "ReportRun | ReportSpec", rows: Iterable[Sequence[Any]] | None,
            params: Mapping[str, Any] | Sequence[tuple[str, str]] | None, batch: int) -> _Source:
    from suite.reporting.runner import ReportRun

    if isinstance(source, ReportRun):
        source.require_export()
        actor = source.actor.display_name or source.actor.username
        return _Source(source.report_id, source.title, _(source.spec.description) if source.spec.description else "",
                       source.columns, iter(rows) if rows is not None else source.iter_rows(batch, light=True),
                       source.describe_params() if params is None else _described(params), source.spec.chart, actor)
    if isinstance(source, ReportSpec):
        if rows is None:
            raise TypeError("exporting a ReportSpec needs its rows")
        return _Source(source.id, _(source.title), _(source.description) if source.description else "",
                       source.columns, iter(rows), _described(params), source.chart, "")
    raise TypeError(f"cannot export {type(source).__name__}")


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")


def _check_target(path: Path) -> None:
    try:
        is_dir, parent_ok = path.is_dir(), path.parent.is_dir()
    except OSError as exc:
        raise _failed(path, exc) from exc
    if is_dir:
        raise InvalidInput(_("Cannot write the export to {path}: it is a folder.").format(path=path))
    if not parent_ok:
        raise InvalidInput(_("Cannot write the export to {path}: the folder {folder} does not exist.").format(
            path=path, folder=path.parent))


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _close_rows(rows: Iterator[Any]) -> None:
    close = getattr(rows, "close", None)
    if close is not None:
        close()


class _Progress:
    """Calls ``progress`` with a growing count and asks ``cancelled`` now and then."""

    def __init__(self, progress: Callable[[int], None] | None, cancelled: Callable[[], bool] | None) -> None:
        self._progress = progress
        self._cancelled = cancelled
        self.last = -1

    def tick(self, done: int) -> bool:
        """Call every CHECK_EVERY rows; True when the export is to stop."""
        if self._progress is not None and done - max(self.last, 0) >= PROGRESS_EVERY:
            self.report(done)
        return self._cancelled is not None and bool(self._cancelled())

    def report(self, done: int) -> None:
        if self._progress is not None and done > self.last:
            self.last = done
            self._progress(done)


# ---------------------------------------------------------------- chart data


class _Daily:
    """Daily figures of the chart, accumulated while the rows stream by."""

    def __init__(self, chart: ChartSpec | None, columns: Sequence[Column], clock: LocalClock) -> None:
        self.per_day: dict[dt.date, int] = {}
        self.active = False
        if chart is None:
            return
        try:
            names = [c.name for c in columns]
            self.day_index, self.value_index = names.index(chart.day), names.index(chart.value)
        except ValueError:
            return
        self.active = True
        self.aggregate = ChartAggregate(chart.aggregate)
        self.clock = clock

    def add(self, row: Sequence[Any]) -> None:
        day = row[self.day_index]
        if day is None:
            return
        if type(day) is str:
            day = parse_stored(day)
        if isinstance(day, dt.datetime):
            day = self.clock.naive(day).date()
        value = row[self.value_index]
        if self.aggregate is ChartAggregate.COUNT:
            add = 0 if value is None else 1
        elif value is None or (self.aggregate is ChartAggregate.SUM_POSITIVE and value <= 0):
            return
        else:
            add = int(value)
        self.per_day[day] = self.per_day.get(day, 0) + add

    def items(self) -> list[tuple[dt.date, int]]:
        return sorted(self.per_day.items())


# ---------------------------------------------------------------- xlsx


def _xml_text(value: str) -> str:
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sheet_name(base: str, number: int) -> str:
    base = _SHEET_NAME_BAD.sub(" ", base).strip() or "Sheet"
    suffix = "" if number == 1 else f" ({number})"
    return base[:31 - len(suffix)] + suffix


class _ColumnWriter:
    """One column's cells: the Excel value of a report value, and its XML."""

    def __init__(self, column: Column, style_id: int, number_format: str | None, clock: LocalClock) -> None:
        self.column = column
        self.number_format = number_format
        kind = ColumnKind(column.kind)
        s = style_id
        yes, no = _("yes"), _("no")

        if kind is ColumnKind.MONEY:
            def value(v: Any) -> Any:
                return float(v) / 100

            def xml(ref: str, v: Any) -> str:
                return f'<c r="{ref}" s="{s}"><v>{float(v) / 100!r}</v></c>'
        elif kind in (ColumnKind.INT, ColumnKind.COUNT):
            def value(v: Any) -> Any:
                return int(v)

            def xml(ref: str, v: Any) -> str:
                return f'<c r="{ref}" s="{s}"><v>{int(v)}</v></c>'
        elif kind is ColumnKind.DATE:
            def value(v: Any) -> Any:
                v = parse_stored(v)
                return clock.naive(v).date() if isinstance(v, dt.datetime) else v

            def xml(ref: str, v: Any) -> str:
                d = value(v)
                if not isinstance(d, dt.date):
                    return f'<c r="{ref}" t="inlineStr"><is><t>{_xml_text(str(d))}</t></is></c>'
                return f'<c r="{ref}" s="{s}"><v>{d.toordinal() - _EXCEL_EPOCH}</v></c>'
        elif kind is ColumnKind.DATETIME:
            def value(v: Any) -> Any:
                v = parse_stored(v)
                return clock.naive(v) if isinstance(v, dt.datetime) else v

            def xml(ref: str, v: Any) -> str:
                if type(v) is str:
                    v = parse_stored(v)
                if not isinstance(v, dt.date):
                    return f'<c r="{ref}" t="inlineStr"><is><t>{_xml_text(str(v))}</t></is></c>'
                if not isinstance(v, dt.datetime):
                    return f'<c r="{ref}" s="{s}"><v>{v.toordinal() - _EXCEL_EPOCH}</v></c>'
                d = clock.naive(v)
                serial = (d.toordinal() - _EXCEL_EPOCH
                          + (d.hour * 3600 + d.minute * 60 + d.second + d.microsecond / 1e6) / 86400)
                return f'<c r="{ref}" s="{s}"><v>{serial!r}</v></c>'
        elif kind is ColumnKind.BOOL:
            def value(v: Any) -> Any:
                return yes if v else no

            def xml(ref: str, v: Any) -> str:
                return f'<c r="{ref}" t="inlineStr"><is><t>{yes if v else no}</t></is></c>'
        else:
            def value(v: Any) -> Any:
                text = v if isinstance(v, str) else str(v)
                return _ILLEGAL.sub("", text)

            def xml(ref: str, v: Any) -> str:
                text = _xml_text(v if isinstance(v, str) else str(v))
                if not text:
                    return ""
                if text[:1].isspace() or text[-1:].isspace():
                    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
                return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

        self.value = value
        self.xml = xml


class _FastRow(tuple):  # type: ignore[type-arg]
    """A row of report values appended to a data sheet; ``_ColumnWriter.xml`` writes it."""

    __slots__ = ()


def _install_fast_rows(ws: Any, writers: list[_ColumnWriter]) -> None:
    """Make ``ws`` (a write-only sheet whose writer exists) write ``_FastRow`` rows itself."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    letters = [get_column_letter(i + 1) for i in range(len(writers))]
    encoders = [w.xml for w in writers]
    original_write_row = ws._writer.write_row

    def values_to_row(values: Any, row_idx: int) -> Any:
        if isinstance(values, _FastRow):
            return values
        return WriteOnlyWorksheet._values_to_row(ws, values, row_idx)

    def cells(values: Sequence[Any]) -> list[Any]:
        made: list[Any] = []
        for writer, v in zip(writers, values):
            if v is None:
                made.append(None)
                continue
            cell = WriteOnlyCell(ws, writer.value(v))
            if writer.number_format:
                cell.number_format = writer.number_format
            made.append(cell)
        return made

    def write_row(xf: Any, row: Any, row_idx: int) -> None:
        if not isinstance(row, _FastRow):
            original_write_row(xf, row, row_idx)
            return
        raw = getattr(xf, "_file", None)
        if not callable(raw):  # lxml's writer: no raw text; the plain openpyxl path
            original_write_row(xf, WriteOnlyWorksheet._values_to_row(ws, cells(row), row_idx), row_idx)
            return
        r = str(row_idx)
        parts = [f'<row r="{r}">']
        for encode, letter, v in zip(encoders, letters, row):
            if v is not None:
                parts.append(encode(letter + r, v))
        parts.append("</row>")
        raw("".join(parts))

    ws._values_to_row = values_to_row
    ws._writer.write_row = write_row


class _Workbook:
    def __init__(self, source: _Source, max_sheet_rows: int) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        if max_sheet_rows < 3:
            raise ValueError("a sheet needs room for a header and at least two rows")
        self.source = source
        self.wb = Workbook(write_only=True)
        self.bold = Font(bold=True)
        self.clock = LocalClock()
        self.max_sheet_rows = max_sheet_rows
        self.sheets: list[Any] = []
        self.sheet_rows = 0  # data rows on the current sheet
        self.writers: list[_ColumnWriter] = []

    # -- cells

    def cell(self, ws: Any, value: Any, *, bold: bool = False, number_format: str | None = None) -> Any:
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value)
        if bold:
            cell.font = self.bold
        if number_format:
            cell.number_format = number_format
        return cell

    def _column_writers(self, ws: Any) -> list[_ColumnWriter]:
        writers = []
        for column in self.source.columns:
            number_format = EXCEL_FORMATS.get(ColumnKind(column.kind))
            probe = self.cell(ws, None, number_format=number_format)
            writers.append(_ColumnWriter(column, probe.style_id, number_format, self.clock))
        return writers

    # -- data sheets

    def new_data_sheet(self) -> Any:
        from openpyxl.utils import get_column_letter

        if self.sheets:
            self._finish_data_sheet()
        ws = self.wb.create_sheet(_sheet_name(_("Data"), len(self.sheets) + 1))
        for i, column in enumerate(self.source.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(6, column.width + 2)
        ws.freeze_panes = "A2"
        ws.append([self.cell(ws, _(c.label) if c.label else c.name, bold=True) for c in self.source.columns])
        if not self.writers:
            self.writers = self._column_writers(ws)
        _install_fast_rows(ws, self.writers)
        self.sheets.append(ws)
        self.sheet_rows = 0
        return ws

    def _finish_data_sheet(self) -> None:
        from openpyxl.utils import get_column_letter

        ws = self.sheets[-1]
        last_col = get_column_letter(max(1, len(self.source.columns)))
        ws.auto_filter.ref = f"A1:{last_col}{self.sheet_rows + 1}"

    def append(self, row: Sequence[Any]) -> None:
        if self.sheet_rows >= self.max_sheet_rows - 1:
            self.new_data_sheet()
        self.sheets[-1].append(_FastRow(row))
        self.sheet_rows += 1

    def totals_row(self, sums: dict[int, int]) -> None:
        if not sums:
            self._finish_data_sheet()
            return
        if self.sheet_rows >= self.max_sheet_rows - 1:
            self.new_data_sheet()  # no room left under the data for the totals
        self._finish_data_sheet()
        ws = self.sheets[-1]
        label_at = 0 if min(sums) > 0 else None  # the word goes left of the figures when there is room
        cells: list[Any] = []
        for i, writer in enumerate(self.writers):
            if i in sums:
                cells.append(self.cell(ws, writer.value(sums[i]), bold=True, number_format=writer.number_format))
            elif i == label_at:
                cells.append(self.cell(ws, _("Total"), bold=True))
            else:
                cells.append(None)
        if label_at is None:
            cells.append(self.cell(ws, _("Total"), bold=True))
        ws.append(cells)

    # -- chart and report sheets

    def chart_sheet(self, daily: list[tuple[dt.date, int]]) -> bool:
        from openpyxl.chart import BarChart, LineChart, Reference

        chart_spec = self.source.chart
        if chart_spec is None or not daily:
            return False
        names = [c.name for c in self.source.columns]
        value_column = self.source.columns[names.index(chart_spec.value)]
        money = ColumnKind(value_column.kind) is ColumnKind.MONEY and chart_spec.aggregate != ChartAggregate.COUNT
        ws = self.wb.create_sheet(_sheet_name(_("Chart"), 1))
        ws.column_dimensions["A"].width = 12
        ws.column_dimensions["B"].width = 16
        title = _(chart_spec.title) if chart_spec.title else self.source.title
        value_label = _("Events") if chart_spec.aggregate == ChartAggregate.COUNT else _(value_column.label)
        ws.append([self.cell(ws, _("Day"), bold=True), self.cell(ws, value_label, bold=True)])
        value_format = EXCEL_FORMATS[ColumnKind.MONEY] if money else EXCEL_FORMATS[ColumnKind.COUNT]
        for day, figure in daily:
            ws.append([self.cell(ws, day, number_format=EXCEL_FORMATS[ColumnKind.DATE]),
                       self.cell(ws, figure / 100 if money else figure, number_format=value_format)])
        chart = LineChart() if chart_spec.kind == ChartKind.LINE else BarChart()
        chart.title = title
        chart.y_axis.title = value_label
        chart.x_axis.title = _("Day")
        chart.x_axis.number_format = EXCEL_FORMATS[ColumnKind.DATE]
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.legend = None
        chart.width, chart.height = 26, 13
        data = Reference(ws, min_col=2, min_row=1, max_row=len(daily) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(daily) + 1))
        ws.add_chart(chart, "D2")
        return True

    def report_sheet(self, rows: int, sums: dict[int, int], data_sheets: int) -> None:
        ws = self.wb.create_sheet(_sheet_name(_("Report"), 1))
        ws.column_dimensions["A"].width = 22
        ws.column_dimensions["B"].width = 40
        source = self.source
        ws.append([self.cell(ws, source.title, bold=True)])
        if source.description:
            ws.append([source.description])
        ws.append([])
        now = dt.datetime.now().replace(microsecond=0)
        ws.append([_("Report"), source.report_id])
        ws.append([_("Generated"), self.cell(ws, now, number_format=EXCEL_FORMATS[ColumnKind.DATETIME])])
        if source.actor:
            ws.append([_("Generated by"), source.actor])
        ws.append([_("Rows"), self.cell(ws, rows, number_format=EXCEL_FORMATS[ColumnKind.COUNT])])
        ws.append([_("Data sheets"), data_sheets])
        if source.params:
            ws.append([])
            ws.append([self.cell(ws, _("Parameters"), bold=True)])
            for label, value in source.params:
                ws.append([label, value])
        if sums:
            ws.append([])
            ws.append([self.cell(ws, _("Totals"), bold=True)])
            for i, total in sums.items():
                writer = self.writers[i]
                ws.append([_(writer.column.label), self.cell(ws, writer.value(total),
                                                              number_format=writer.number_format)])

    # -- the end

    def save(self, path: Path) -> None:
        self.wb.save(str(path))

    def discard(self) -> None:
        """Close and delete the sheets' temporary files (a cancelled or failed export)."""
        from openpyxl.worksheet._writer import ALL_TEMP_FILES

        for ws in self.wb._sheets:
            rows = getattr(ws, "_rows", None)
            writer = getattr(ws, "_writer", None)
            for closer in (getattr(rows, "close", None), getattr(writer, "close", None)):
                try:
                    if closer is not None:
                        closer()
                except Exception:  # noqa: BLE001 - best effort: the file goes anyway
                    pass
            out = getattr(writer, "out", None)
            if isinstance(out, str):
                try:
                    os.remove(out)
                except OSError:
                    pass
                if out in ALL_TEMP_FILES:
                    ALL_TEMP_FILES.remove(out)


def export_xlsx(source: "ReportRun | ReportSpec", path: str | os.PathLike[str], *,
                rows: Iterable[Sequence[Any]] | None = None,
                params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
                progress: Callable[[int], None] | None = None, cancelled: Callable[[], bool] | None = None,
                total: int | None = None, max_sheet_rows: int = EXCEL_MAX_ROWS,
                batch: int = DEFAULT_BATCH) -> ExportResult:
    """Export a ``ReportRun`` (its rows are streamed; the actor needs ``reports.export``), or
    a ``ReportSpec`` with ``rows``, to an xlsx file at ``path``.

    ``params`` overrides the parameters shown on the Report sheet (a run describes its own);
    ``total`` is the expected row count if known (informational: progress reports rows done);
    ``max_sheet_rows`` is the most rows a data sheet holds, its header included.
    """
    target = Path(path)
    _check_target(target)
    src = _source(source, rows, params, batch)
    book = _Workbook(src, max_sheet_rows)
    daily = _Daily(src.chart, src.columns, book.clock)
    total_indexes = [i for i, c in enumerate(src.columns) if c.total]
    sums = {i: 0 for i in total_indexes}
    ticker = _Progress(progress, cancelled)
    temp = _temp_path(target)
    done = 0
    stopped = False
    try:
        book.new_data_sheet()
        append = book.append
        add_day = daily.add if daily.active else None
        for row in src.rows:
            append(row)
            for i in total_indexes:
                v = row[i]
                if v is not None:
                    sums[i] += v
            if add_day is not None:
                add_day(row)
            done += 1
            if done % CHECK_EVERY == 0 and ticker.tick(done):
                stopped = True
                break
        if not stopped and cancelled is not None and cancelled():
            stopped = True
        if stopped:
            _close_rows(src.rows)
            book.discard()
            _remove(temp)
            return ExportResult(target, done, len(book.sheets), True)
        book.totals_row(sums)
        data_sheets = len(book.sheets)
        book.chart_sheet(daily.items())
        book.report_sheet(done, sums, data_sheets)
        book.save(temp)
        os.replace(temp, target)
    except BaseException as exc:
        _close_rows(src.rows)
        book.discard()
        _remove(temp)
        if isinstance(exc, OSError):
            raise _failed(target, exc) from exc
        raise
    ticker.report(done)
    return ExportResult(target, done, data_sheets, False)


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
