"""The xlsx export: openpyxl write-only workbook, rows serialised here for speed (see
``suite.reporting.export``)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.i18n import _
from suite.reporting.formats import EXCEL_FORMATS, LocalClock, parse_stored
from suite.reporting.spec import ChartAggregate, ChartKind, Column, ColumnKind, ReportSpec

from suite.reporting.export_common import (CHECK_EVERY, DEFAULT_BATCH, EXCEL_MAX_ROWS, ExportResult, _Categories,
                                           _Daily, _Progress, _Source, _check_target, _close_rows, _failed, _remove,
                                           _source, _temp_path)

_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
_SHEET_NAME_BAD = re.compile(r"[\[\]\*\?/\\:]")

if TYPE_CHECKING:
    from suite.reporting.runner import ReportRun


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
        chart_spec = self.source.chart
        if chart_spec is None or not daily:
            return False
        names = [c.name for c in self.source.columns]
        value_column = self.source.columns[names.index(chart_spec.value)]
        money = ColumnKind(value_column.kind) is ColumnKind.MONEY and chart_spec.aggregate != ChartAggregate.COUNT
        ws = self._new_chart_sheet()
        value_label = _("Events") if chart_spec.aggregate == ChartAggregate.COUNT else _(value_column.label)
        ws.append([self.cell(ws, _("Day"), bold=True), self.cell(ws, value_label, bold=True)])
        value_format = EXCEL_FORMATS[ColumnKind.MONEY] if money else EXCEL_FORMATS[ColumnKind.COUNT]
        for day, figure in daily:
            ws.append([self.cell(ws, day, number_format=EXCEL_FORMATS[ColumnKind.DATE]),
                       self.cell(ws, figure / 100 if money else figure, number_format=value_format)])
        self._add_chart(ws, len(daily), value_label, _("Day"), EXCEL_FORMATS[ColumnKind.DATE])
        return True

    def category_chart_sheet(self, categories: _Categories) -> bool:
        """One point per row: the category and value cells as on the data sheet."""
        chart_spec = self.source.chart
        if chart_spec is None or not categories.active or not categories.points:
            return False
        category, value = self.writers[categories.category_index], self.writers[categories.value_index]
        ws = self._new_chart_sheet()
        x_label, y_label = _(category.column.label), _(value.column.label)
        header = [self.cell(ws, x_label, bold=True), self.cell(ws, y_label, bold=True)]
        if categories.truncated:
            header += [None, self.cell(ws, _("Only the first {n} rows are charted.").format(
                n=f"{len(categories.points):,}"))]
        ws.append(header)
        for x, y in categories.points:
            ws.append([None if x is None else self.cell(ws, category.value(x), number_format=category.number_format),
                       self.cell(ws, value.value(y), number_format=value.number_format)])
        x_format = category.number_format if ColumnKind(category.column.kind) in (
            ColumnKind.DATE, ColumnKind.DATETIME) else None
        self._add_chart(ws, len(categories.points), y_label, x_label, x_format)
        return True

    def _new_chart_sheet(self) -> Any:
        ws = self.wb.create_sheet(_sheet_name(_("Chart"), 1))
        ws.column_dimensions["A"].width = 12
        ws.column_dimensions["B"].width = 16
        return ws

    def _add_chart(self, ws: Any, points: int, y_title: str, x_title: str, x_format: str | None) -> None:
        """A native chart of the sheet's columns A (x) and B (y), rows 2 to ``points + 1``."""
        from openpyxl.chart import BarChart, LineChart, Reference

        chart_spec = self.source.chart
        assert chart_spec is not None
        chart = LineChart() if chart_spec.kind == ChartKind.LINE else BarChart()
        chart.title = _(chart_spec.title) if chart_spec.title else self.source.title
        chart.y_axis.title = y_title
        chart.x_axis.title = x_title
        if x_format:
            chart.x_axis.number_format = x_format
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.legend = None
        chart.width, chart.height = 26, 13
        data = Reference(ws, min_col=2, min_row=1, max_row=points + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=points + 1))
        ws.add_chart(chart, "D2")

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
    categories = _Categories(src.chart, src.columns)
    total_indexes = [i for i, c in enumerate(src.columns) if c.total]
    sums = {i: 0 for i in total_indexes}
    ticker = _Progress(progress, cancelled)
    temp = _temp_path(target)
    done = 0
    stopped = False
    try:
        book.new_data_sheet()
        append = book.append
        add_point = daily.add if daily.active else categories.add if categories.active else None
        for row in src.rows:
            append(row)
            for i in total_indexes:
                v = row[i]
                if v is not None:
                    sums[i] += v
            if add_point is not None:
                add_point(row)
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
        if categories.active:
            book.category_chart_sheet(categories)
        else:
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


