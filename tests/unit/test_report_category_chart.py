"""Charts with one point per row (``ChartSpec.category``): the spec's rules, the points kept
while rows stream by, and the xlsx Chart sheet read back with openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from suite.reporting.export import export_csv, export_xlsx
from suite.reporting.export_common import _Categories, _Daily
from suite.reporting.formats import LocalClock
from suite.reporting.spec import (MAX_CHART_POINTS, ChartAggregate, ChartKind, ChartSpec, Column, ColumnKind,
                                  ReportSpec)

COLUMNS = (
    Column("stand", "Stand"),
    Column("qty", "Quantity", ColumnKind.COUNT, total=True),
    Column("amount", "Amount", ColumnKind.MONEY, total=True),
    Column("day", "Day", ColumnKind.DATE),
)
BY_STAND = ReportSpec(id="test.stands", title="Stands", columns=COLUMNS,
                      chart=ChartSpec(category="stand", value="amount", title="Takings per stand"))
STANDS = [("North", 3, 1250, dt.date(2026, 11, 1)), ("South", 1, None, dt.date(2026, 11, 1)),
          ("East, gate 2", 7, 990, dt.date(2026, 11, 2))]


def plotted(path: Path) -> tuple[str, list[Any], list[Any]]:
    """The Chart sheet's chart: its type, and the cells its categories and its values point at."""
    sheet = openpyxl.load_workbook(path)["Chart"]
    (chart,) = sheet._charts
    (series,) = chart.series

    def cells(reference: Any) -> list[Any]:
        return [cell.value for row in sheet[reference.f.rsplit("!", 1)[1].replace("$", "")] for cell in row]

    return type(chart).__name__, cells(series.cat.strRef or series.cat.numRef), cells(series.val.numRef)


def test_a_chart_is_by_day_or_by_category() -> None:
    assert ChartSpec("time", "amount").category is None  # the day chart, as before
    assert ChartSpec(category="stand", value="amount", kind=ChartKind.LINE).day == ""
    with pytest.raises(ValueError, match="value column"):
        ChartSpec(category="stand")
    with pytest.raises(ValueError, match="day column or a category"):
        ChartSpec(value="amount")
    with pytest.raises(ValueError, match="SUM"):
        ChartSpec(category="stand", value="amount", aggregate=ChartAggregate.COUNT)


def test_points_keep_row_order_and_stop_at_the_limit() -> None:
    points = _Categories(BY_STAND.chart, COLUMNS, limit=4)
    assert points.active and not _Daily(BY_STAND.chart, COLUMNS, LocalClock()).active
    for n in range(10_000):
        points.add((f"stand {n}", 1, n if n % 2 else None, None))
    assert points.points == [("stand 0", 0), ("stand 1", 1), ("stand 2", 0), ("stand 3", 3)]
    assert points.rows == 10_000 and points.truncated
    assert not _Categories(ChartSpec("day", "amount"), COLUMNS).active
    assert not _Categories(ChartSpec(category="nowhere", value="amount"), COLUMNS).active


def test_xlsx_bar_chart_has_one_bar_per_row_and_no_total(tmp_path: Path) -> None:
    result = export_xlsx(BY_STAND, tmp_path / "stands.xlsx", rows=STANDS)
    book = openpyxl.load_workbook(result.path)
    assert book.sheetnames == ["Data", "Chart", "Report"]
    assert book["Data"]["A5"].value == "Total"  # the totals row is on the data sheet only
    sheet = book["Chart"]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("Stand", "Amount"), ("North", 12.5), ("South", 0), ("East, gate 2", 9.9)]
    assert sheet["B2"].number_format == "#,##0.00"
    kind, categories, values = plotted(result.path)
    assert kind == "BarChart"
    assert categories == ["North", "South", "East, gate 2"] and values == [12.5, 0, 9.9]
    chart = sheet._charts[0]
    assert chart.x_axis.title.tx.rich.p[0].r[0].t == "Stand"


def test_xlsx_line_chart_of_a_date_category(tmp_path: Path) -> None:
    spec = ReportSpec(id="test.days", title="Days", columns=COLUMNS,
                      chart=ChartSpec(category="day", value="qty", kind=ChartKind.LINE))
    result = export_xlsx(spec, tmp_path / "days.xlsx", rows=STANDS)
    kind, categories, values = plotted(result.path)
    assert kind == "LineChart"
    # one point per row, even when two rows share a day: no grouping
    assert categories == [dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 2)]
    assert values == [3, 1, 7]
    sheet = openpyxl.load_workbook(result.path)["Chart"]
    assert sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet._charts[0].x_axis.number_format.formatCode == "yyyy-mm-dd"


def test_a_large_report_charts_its_first_rows_and_says_so(tmp_path: Path) -> None:
    def many() -> Iterator[tuple[Any, ...]]:
        for n in range(MAX_CHART_POINTS + 250):
            yield (f"S{n:05d}", n, n * 100, None)

    result = export_xlsx(BY_STAND, tmp_path / "many.xlsx", rows=many())
    assert result.rows == MAX_CHART_POINTS + 250
    kind, categories, values = plotted(result.path)
    assert len(categories) == len(values) == MAX_CHART_POINTS
    assert categories[-1] == f"S{MAX_CHART_POINTS - 1:05d}" and values[-1] == MAX_CHART_POINTS - 1
    note = openpyxl.load_workbook(result.path)["Chart"]["D1"].value
    assert note == f"Only the first {MAX_CHART_POINTS:,} rows are charted."


def test_no_rows_no_chart_and_csv_is_unchanged(tmp_path: Path) -> None:
    empty = export_xlsx(BY_STAND, tmp_path / "empty.xlsx", rows=[])
    assert openpyxl.load_workbook(empty.path).sheetnames == ["Data", "Report"]
    export_csv(BY_STAND, tmp_path / "stands.csv", rows=STANDS)
    with (tmp_path / "stands.csv").open(newline="", encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["Stand", "Quantity", "Amount", "Day"] and len(lines) == 4
