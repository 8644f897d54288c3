"""Report parameters, cell formats and the xlsx/CSV exports, on rows made in memory."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from suite.errors import InvalidInput
from suite.reporting.export import ExportResult, export_csv, export_xlsx
from suite.reporting.formats import format_cell, format_money
from suite.reporting.params import coerce_params, parse_params, split_assignments
from suite.reporting.spec import ChartSpec, Column, ColumnKind, Param, ParamKind, ReportSpec

UTC = dt.timezone.utc
TODAY = dt.date(2026, 11, 15)


@pytest.fixture
def utc_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time = UTC, so local days and times are predictable."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


SPEC = ReportSpec(
    id="test.sales",
    title="Sales",
    columns=(
        Column("time", "Time", ColumnKind.DATETIME),
        Column("item", "Item"),
        Column("qty", "Quantity", ColumnKind.COUNT, total=True),
        Column("amount", "Amount", ColumnKind.MONEY, total=True),
        Column("day", "Day", ColumnKind.DATE),
        Column("paid", "Paid", ColumnKind.BOOL),
        Column("seq", "No.", ColumnKind.INT),
    ),
    params=(
        Param("period", "Period", ParamKind.DATE_RANGE, required=True),
        Param("on", "Day", ParamKind.DATE),
        Param("cards", "Cards", ParamKind.NUMBER_RANGE),
        Param("limit", "Limit", ParamKind.INT),
        Param("kind", "Kind", ParamKind.CHOICE, default="all", choices=(("all", "All"), ("topup", "Top-up"))),
        Param("scope", "Venues", ParamKind.VENUE_SCOPE, default="chain"),
        Param("seller", "Salesperson", ParamKind.USER),
    ),
    chart=ChartSpec(day="time", value="amount", title="Takings per day"),
)


def rows(n: int, *, start: dt.datetime = dt.datetime(2026, 11, 1, 8, 0, tzinfo=UTC)) -> Iterator[tuple]:
    for i in range(n):
        at = start + dt.timedelta(hours=6 * i)
        yield (at, f"item, {i}" if i % 3 == 0 else f"item {i}", i + 1, 1234 * (i + 1), at.date(), i % 2 == 0, i)


# ---------------------------------------------------------------- parameters


def test_parse_params_types_every_kind() -> None:
    got = parse_params(SPEC, {"period": "2026-11-01..2026-11-30", "on": "yesterday", "cards": "1000..1999",
                              "limit": "20", "kind": "topup", "scope": "LOCAL", "seller": " ann "}, today=TODAY)
    assert got == {"period": (dt.date(2026, 11, 1), dt.date(2026, 11, 30)), "on": dt.date(2026, 11, 14),
                   "cards": ("1000", "1999"), "limit": 20, "kind": "topup", "scope": "local", "seller": "ann"}


def test_parse_params_single_day_month_and_defaults() -> None:
    got = parse_params(SPEC, {"period": "today"}, today=TODAY)
    assert got["period"] == (TODAY, TODAY)
    assert got["kind"] == "all" and got["scope"] == "chain" and got["on"] is None
    assert parse_params(SPEC, {"period": "2026-02"}, today=TODAY)["period"] == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert parse_params(SPEC, {"period": "2026-11-03", "cards": "42"}, today=TODAY)["cards"] == ("42", "42")


@pytest.mark.parametrize(("raw", "words"), [
    ({"period": "2026-11-31"}, ["period", "not a date"]),
    ({"period": "2026-11-30..2026-11-01"}, ["starts after it ends"]),
    ({"period": "2026-11-01.."}, ["not a date range"]),
    ({"period": "today", "cards": "1999..1000"}, ["starts after it ends"]),
    ({"period": "today", "cards": "12;34"}, ["not a number range"]),
    ({"period": "today", "limit": "ten"}, ["limit", "whole number"]),
    ({"period": "today", "kind": "refund"}, ["kind", "all, topup"]),
    ({"period": "today", "scope": "everywhere"}, ["local", "chain"]),
    ({}, ["period", "required"]),
    ({"period": "today", "colour": "red"}, ["'colour'", "period, on, cards, limit, kind, scope, seller"]),
])
def test_parse_params_errors_name_the_parameter(raw: dict[str, str], words: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_params(SPEC, raw, today=TODAY)
    for word in words:
        assert word in caught.value.message


def test_parse_params_errors_go_through_gettext(monkeypatch: pytest.MonkeyPatch) -> None:
    import suite.reporting.params as params

    monkeypatch.setattr(params, "_", lambda message: "«" + message + "»")
    with pytest.raises(InvalidInput) as caught:
        parse_params(SPEC, {"period": "today", "colour": "red"}, today=TODAY)
    assert caught.value.message.startswith("«Unknown parameter 'colour'")
    with pytest.raises(InvalidInput) as caught:
        parse_params(SPEC, {"period": "soon"}, today=TODAY)
    assert caught.value.message.startswith("«period («Period»)")


def test_coerce_params_takes_typed_values_and_text() -> None:
    got = coerce_params(SPEC, {"period": (dt.date(2026, 11, 1), dt.date(2026, 11, 2)), "limit": 5,
                               "on": dt.datetime(2026, 11, 3, 12, 0), "cards": "5..9"}, today=TODAY)
    assert got["period"] == (dt.date(2026, 11, 1), dt.date(2026, 11, 2))
    assert got["limit"] == 5 and got["on"] == dt.date(2026, 11, 3) and got["cards"] == ("5", "9")
    with pytest.raises(InvalidInput):
        coerce_params(SPEC, {"period": (dt.date(2026, 11, 2), dt.date(2026, 11, 1))})


def test_split_assignments() -> None:
    assert split_assignments(["a=1", "b=x=y", "a=2"]) == {"a": "2", "b": "x=y"}
    with pytest.raises(InvalidInput):
        split_assignments(["novalue"])


# ---------------------------------------------------------------- cells


def test_format_cell(utc_zone: None) -> None:
    assert format_money(123456) == "1,234.56" and format_money(-5) == "-0.05" and format_money(10**15 + 1) == \
        "10,000,000,000,000.01"
    money = Column("m", "M", ColumnKind.MONEY)
    assert format_cell(money, 123456) == "1,234.56" and format_cell(money, None) == ""
    assert format_cell(Column("d", "D", ColumnKind.DATE), dt.date(2026, 11, 1)) == "2026-11-01"
    when = Column("t", "T", ColumnKind.DATETIME)
    assert format_cell(when, dt.datetime(2026, 11, 1, 16, 5, 59, tzinfo=UTC)) == "2026-11-01 16:05"
    assert format_cell(Column("b", "B", ColumnKind.BOOL), True) == "yes"
    assert format_cell(Column("c", "C", ColumnKind.COUNT), 1234567) == "1,234,567"


def test_datetimes_are_shown_in_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        when = Column("t", "T", ColumnKind.DATETIME)
        assert format_cell(when, dt.datetime(2026, 11, 1, 20, 30, tzinfo=UTC)) == "2026-11-02 04:30"
    finally:
        monkeypatch.undo()
        time.tzset()


# ---------------------------------------------------------------- xlsx


def test_xlsx_export_is_formatted_filtered_totalled_and_charted(tmp_path: Path, utc_zone: None) -> None:
    path = tmp_path / "sales.xlsx"
    result = export_xlsx(SPEC, path, rows=rows(10), params={"period": "2026-11-01..2026-11-03"})
    assert result == ExportResult(path, 10, 1, False)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Data", "Chart", "Report"]
    ws = wb["Data"]
    header = list(ws.iter_rows(min_row=1, max_row=1))[0]
    assert [c.value for c in header] == ["Time", "Item", "Quantity", "Amount", "Day", "Paid", "No."]
    assert all(c.font.b for c in header)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G11"
    first = list(ws.iter_rows(min_row=2, max_row=2))[0]
    assert first[0].value == dt.datetime(2026, 11, 1, 8, 0) and first[0].number_format == "yyyy-mm-dd hh:mm"
    assert first[1].value == "item, 0"
    assert first[2].value == 1 and first[2].number_format == "#,##0"
    assert first[3].value == 12.34 and isinstance(first[3].value, float) and first[3].number_format == "#,##0.00"
    assert first[4].value == dt.datetime(2026, 11, 1) and first[4].number_format == "yyyy-mm-dd"
    assert first[5].value == "yes" and first[6].value == 0 and first[6].number_format == "0"
    totals = [c.value for c in list(ws.iter_rows(min_row=12, max_row=12))[0]]
    assert totals[0] == "Total" and totals[2] == 55 and totals[3] == pytest.approx(678.70)
    assert ws.column_dimensions["A"].width > 10
    chart_ws = wb["Chart"]
    assert len(chart_ws._charts) == 1
    days = [r for r in chart_ws.iter_rows(min_row=2, values_only=True)]
    # rows every 6 hours from 08:00: four a day, amounts 12.34 x (i + 1)
    assert days[0] == (dt.datetime(2026, 11, 1), pytest.approx(12.34 * (1 + 2 + 3)))
    assert len(days) == 3
    report = {r[0]: r[1] for r in wb["Report"].iter_rows(values_only=True) if r and r[0]}
    assert report["Rows"] == 10 and report["period"] == "2026-11-01..2026-11-03" and report["Report"] == "test.sales"


def test_xlsx_export_starts_a_new_sheet_at_the_row_limit(tmp_path: Path, utc_zone: None) -> None:
    path = tmp_path / "split.xlsx"
    result = export_xlsx(SPEC, path, rows=rows(250), max_sheet_rows=100)
    assert result.rows == 250 and result.sheets == 3
    wb = openpyxl.load_workbook(path)
    data = [wb[name] for name in wb.sheetnames if name.startswith("Data")]
    assert [ws.title for ws in data] == ["Data", "Data (2)", "Data (3)"]
    assert [ws.max_row for ws in data] == [100, 100, 54]  # 99 + 99 + 52 rows, each under a header, + totals
    for ws in data:
        assert ws["A1"].value == "Time" and ws["A1"].font.b and ws.freeze_panes == "A2"
    assert data[0].auto_filter.ref == "A1:G100" and data[2].auto_filter.ref == "A1:G53"
    assert data[1]["G2"].value == 99  # the 100th row (seq 99) opens the second sheet
    assert data[2]["A54"].value == "Total" and data[2]["C54"].value == sum(range(1, 251))


def test_xlsx_without_chart_or_totals(tmp_path: Path) -> None:
    spec = ReportSpec(id="t.plain", title="Plain", columns=(Column("name", "Name"), Column("n", "N", ColumnKind.INT)))
    result = export_xlsx(spec, tmp_path / "plain.xlsx", rows=[("a", 1), ("<b> & \x01c", None), (" padded ", 3)])
    wb = openpyxl.load_workbook(result.path)
    assert wb.sheetnames == ["Data", "Report"]
    assert [r for r in wb["Data"].iter_rows(min_row=2, values_only=True)] == [
        ("a", 1), ("<b> & c", None), (" padded ", 3)]


def test_cancelled_xlsx_export_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"an older export")
    produced = 0

    def source() -> Iterator[tuple]:
        nonlocal produced
        for row in rows(20_000):
            produced += 1
            yield row

    checks = []

    def cancelled() -> bool:
        checks.append(produced)
        return len(checks) >= 3

    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    sheet_files = list(ALL_TEMP_FILES)
    result = export_xlsx(SPEC, path, rows=source(), cancelled=cancelled)
    assert result.cancelled and result.rows == 1500 and produced < 2000
    assert ALL_TEMP_FILES == sheet_files  # openpyxl's files of the sheets written so far are gone
    assert path.read_bytes() == b"an older export"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.xlsx"]  # no partial file


def test_progress_is_monotonic_and_ends_with_the_count(tmp_path: Path) -> None:
    seen: list[int] = []
    result = export_xlsx(SPEC, tmp_path / "p.xlsx", rows=rows(12_345), progress=seen.append)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == 12_345 == result.rows and seen[0] == 5000
    seen.clear()
    export_csv(SPEC, tmp_path / "p.csv", rows=rows(12_345), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 12_345


def test_export_to_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        export_xlsx(SPEC, tmp_path / "nowhere" / "x.xlsx", rows=rows(1))


# ---------------------------------------------------------------- CSV


def test_csv_has_a_bom_a_header_and_formatted_values(tmp_path: Path, utc_zone: None) -> None:
    spec = ReportSpec(id="t.cn", title="CN", columns=SPEC.columns + (Column("memo", "备注"),))
    data = [r + ("中文, \"引号\"",) for r in rows(3)] + [(None,) * 8]
    result = export_csv(spec, tmp_path / "x.csv", rows=data)
    assert result.rows == 4 and result.format == "csv" and not result.cancelled
    raw = (tmp_path / "x.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert parsed[0] == ["Time", "Item", "Quantity", "Amount", "Day", "Paid", "No.", "备注"]
    assert parsed[1] == ["2026-11-01 08:00", "item, 0", "1", "12.34", "2026-11-01", "yes", "0", "中文, \"引号\""]
    assert parsed[2][1:4] == ["item 1", "2", "24.68"] and parsed[2][5] == "no"
    assert parsed[4] == [""] * 8
    assert raw.count(b"\r\n") == 5


def test_csv_quotes_like_the_csv_module(tmp_path: Path) -> None:
    spec = ReportSpec(id="t.q", title="Q", columns=(Column("a", "A"), Column("b", "B")))
    data = [("plain", "x"), ("com,ma", "q\"uote"), ("line\nbreak", "cr\r"), ("", None), (7, 1.5)]
    export_csv(spec, tmp_path / "q.csv", rows=data)
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(["A", "B"])
    writer.writerows(data)
    assert (tmp_path / "q.csv").read_bytes().decode("utf-8-sig") == expected.getvalue()


def test_cancelled_csv_export_leaves_no_file(tmp_path: Path) -> None:
    calls = []
    result = export_csv(SPEC, tmp_path / "x.csv", rows=rows(50_000), cancelled=lambda: calls.append(1) or True)
    assert result.cancelled and result.rows == 5000 and len(calls) == 1
    assert list(tmp_path.iterdir()) == []
    assert not os.path.exists(tmp_path / "x.csv")


def test_an_unwritable_target_is_a_clear_error(tmp_path: Path) -> None:
    from suite.reporting.export import ExportFailed

    too_long = tmp_path / ("x" * 300 + ".xlsx")
    for export in (export_xlsx, export_csv):
        with pytest.raises(ExportFailed) as caught:
            export(SPEC, too_long, rows=rows(3))
        assert "Cannot write the export" in caught.value.message and caught.value.exit_code == 1
    assert list(tmp_path.iterdir()) == []
