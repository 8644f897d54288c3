"""The reports tab: filters from the spec, a virtual table, totals, chart, background export."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from tests.ui.uihelpers import ADMIN, login, screenshot, wait_for

from bench.bench_ui import seed_ledger_lines

LEDGER_LINES = 40_000


@pytest.fixture(scope="module")
def ledger_lines(demo_site: Path) -> int:
    return seed_ledger_lines(demo_site.parent / "venue-suite.db", LEDGER_LINES, days=28)


def finished(tab) -> bool:
    """Count, totals and chart are in, and the first page is on screen (when there are rows)."""
    return (tab.count is not None and tab.totals is not None and tab.daily is not None
            and (tab.count == 0 or len(tab.shown_rows()) > 0))


def open_reports(shell):
    main = login(shell, *ADMIN)
    main.select_id("core.reports")
    return main.slots[main.tab_ids().index("core.reports")].content


def test_audit_log_filtered_by_a_date_range(shell) -> None:
    tab = open_reports(shell)
    assert {"core.audit_log", "core.ledger_journal", "core.users_roles"} <= set(tab.report_ids())
    tab.select_report("core.audit_log")
    period = tab.form.fields["period"]
    period.today()
    today = dt.date.today().isoformat()
    assert tab.form.raw()["period"] == f"{today}..{today}"
    assert tab.run_report()
    wait_for(shell.root, lambda: finished(tab), what="the run")
    rows = tab.shown_rows()
    assert rows and tab.count >= len(rows)
    assert all(row[1].startswith(today) for row in rows), rows[:3]
    assert [day for day, _n in tab.daily] == [dt.date.today()]
    assert tab.daily[0][1] == tab.count and len(tab.chart.bars) == 1
    assert f"{tab.count:,} rows" == str(tab.count_label.cget("text"))

    period.set_range("2001-01-01", "2001-01-31")  # nothing happened then
    tab.run_report()
    wait_for(shell.root, lambda: finished(tab), what="the empty run")
    assert tab.count == 0 and tab.shown_rows() == []

    period.set_range(today, "2001-01-01")
    assert not tab.run_report()
    assert tab.message.kind == "error" and "starts after it ends" in tab.message.text

    tab.form.fields["kind"].combo.current(2)  # security log
    period.this_month()
    tab.run_report()
    wait_for(shell.root, lambda: finished(tab), what="the security run")
    assert {row[2] for row in tab.shown_rows()} == {"security"}


def test_occupancy_charts_one_point_per_step_as_a_line(shell) -> None:
    tab = open_reports(shell)
    tab.select_report("checkin.occupancy")
    step = tab.form.fields["step"].entry
    step.delete(0, "end")
    step.insert(0, "60")
    assert tab.run_report()
    wait_for(shell.root, lambda: finished(tab) and tab.points is not None, what="the run")
    assert tab.count == 24 and tab.daily == []
    assert [time for time, _inside in tab.points] == [f"{hour:02d}:00" for hour in range(24)]
    chart = tab.chart
    assert chart.bars == [] and len(chart.points) == 24
    assert chart.line is not None and len(chart.coords(chart.line)) == 2 * 24  # one vertex per step
    labels = [chart.itemcget(item, "text") for item in chart.find_all() if chart.type(item) == "text"]
    assert "People inside over the day" in labels and "00:00" in labels


def test_ledger_journal_table_totals_chart_and_csv_export(shell, ledger_lines, tmp_path: Path) -> None:
    tab = open_reports(shell)
    tab.select_report("core.ledger_journal")
    tab.form.fields["period"].this_month()
    tab.form.fields["period"].set_range((dt.date.today() - dt.timedelta(days=29)).isoformat(),
                                         dt.date.today().isoformat())
    tab.run_report()
    wait_for(shell.root, lambda: finished(tab), what="the run")
    assert tab.count >= ledger_lines
    assert tab.totals == {"amount": 0}  # every entry balances
    assert "Totals" in str(tab.totals_label.cget("text"))
    assert len(tab.daily) >= 27 and len(tab.chart.bars) == len(tab.daily)
    shown = tab.shown_rows()
    assert 5 <= len(shown) <= 40  # only the visible window is in the Treeview
    tab.table.scroll_to(tab.count - 1)
    wait_for(shell.root, lambda: tab.table.row(tab.count - 1) is not None, what="the last page")
    assert tab.shown_rows() and tab.shown_rows() != shown
    tab.table.scroll_to(0)
    wait_for(shell.root, lambda: tab.shown_rows() == shown, what="back to the top")
    screenshot(shell.root, "report")

    target = tmp_path / "journal.csv"
    assert tab.export("csv", target)
    assert tab.cancel_button.winfo_manager() == "pack"
    wait_for(shell.root, lambda: tab.job is None, timeout=60, what="the export")
    assert tab.export_state is not None and tab.export_state.finished and not tab.export_state.cancelled
    assert tab.export_state.rows_done == tab.count
    assert tab.message.kind == "ok" and "Exported" in tab.message.text
    assert tab.cancel_button.winfo_manager() == ""
    with target.open(newline="", encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert len(lines) >= tab.count + 1


def test_xlsx_export_shows_progress_and_can_be_cancelled(shell, ledger_lines, tmp_path: Path) -> None:
    tab = open_reports(shell)
    tab.select_report("core.ledger_journal")
    tab.run_report()
    wait_for(shell.root, lambda: finished(tab), what="the run")
    target = tmp_path / "journal.xlsx"
    progress: list[int] = []
    assert tab.export("xlsx", target)
    wait_for(shell.root, lambda: tab.export_state is not None and tab.export_state.rows_done > 0,
             timeout=30, what="some progress")
    progress.append(tab.export_state.rows_done)
    assert float(tab.progress.cget("value")) > 0
    tab.cancel_button.invoke()
    wait_for(shell.root, lambda: tab.job is None, timeout=30, what="the cancellation")
    assert tab.export_state.cancelled and tab.export_state.rows_done < tab.count
    assert "cancelled" in tab.message.text
    assert not target.exists()
    assert not tab.xlsx_button.instate(["disabled"])
