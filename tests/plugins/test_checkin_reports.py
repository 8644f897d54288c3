"""The check-in reports (G6) on SQLite and the real PostgreSQL server: the summary in every
dimension, the detail, occupancy over the day and the xlsx exports, with exact figures from
check-ins made through ``CheckinService``.

The venue is in Asia/Shanghai (UTC+8). ``D`` is 2026-11-22; times are the venue's. List MAIN
(no exit tracking) has the entry lane L1 and the exit lane X1; list VIP (VIP tickets) the lane V1.

=======  =====  ==========================================================================
when     lane   what
=======  =====  ==========================================================================
07:30    L1     T1 adult, 1 in (23:30 UTC the day before: still D)
10:05    L1     T2 adult, 1 in
10:20    L1     T2 again: refused, already used
10:40    L1     "NOPE": refused, unknown code
14:10    L1     G5, a family ticket for 5: 3 pass, then it is closed (partial)
14:30    L1     T3 adult: scanned, nobody passes, closed (annulled)
15:00    X1     a free exit, 1 out
16:50    X1     T2 scanned on the way out, 1 out
19:15    V1     opened by hand for 2, both pass
19:20    V1     T4 adult: refused, wrong entrance
20:00    L1     T2 admitted by an offline gate: uploaded, a conflict
20:05    L1     T7 adult admitted by an offline gate: uploaded
23:30    L1     T5 adult, 1 in (still D)
D+1 00:05 X1    a free exit, 1 out (somebody from the day before)
D+1 00:20 L1    T6 adult, 1 in
=======  =====  ==========================================================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

import plugins.checkin as checkin_plugin
from plugins.checkin.reports import REPORTS, day_bounds, report_zone
from suite.errors import InvalidInput, PermissionDenied
from suite.identity.actor import Actor
from suite.reporting.spec import ReportContext
from tests.plugins.checkin_fixtures import Clock, actor, entrance, services, ticket
from tests.sites import Site, write_site

ZONE = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
ADMIN_PASSWORD = "correct-horse-42"
D = dt.date(2026, 11, 22)
D1 = D + dt.timedelta(days=1)
TWO_DAYS = f"{D.isoformat()}..{D1.isoformat()}"


def local(hour: int, minute: int = 0, day: dt.date = D) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE).astimezone(UTC)


@pytest.fixture
def app(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A site licensed for check-in, in the venue zone Asia/Shanghai."""
    site = Site(write_site(tmp_path, db_url, **{"plugins.checkin": 'timezone = "Asia/Shanghai"'}), db_url, capsys,
                monkeypatch)
    assert site.run("--json", "init", stdin=ADMIN_PASSWORD + "\n").code == 0
    public = site.run("--json", "license", "keygen").json["public_key"]
    site.path.write_text(site.path.read_text() + f'\n[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "chain.lic"
    issued = site.run("license", "issue", "--chain", "CHAIN-1", "--licensee", "River Park", "--features",
                      "checkin,tickets,wallet", "--max-terminals", "3", "--max-cards", "500", "--expires",
                      "2099-12-31", "--out", str(licence))
    assert issued.code == 0, issued.err
    assert site.run("license", "install", str(licence)).code == 0
    with site.app() as built:
        yield built


@pytest.fixture
def scanned(app: Any) -> Any:
    """The day of the table above."""
    clock = Clock(local(7, 30))
    setup, checkin = services(app.uow, clock)
    gate = actor()
    entrance(setup, code="MAIN", channels=("L1",))
    setup.add_channel(gate, code="X1", name="Exit X1", list_code="MAIN", gate="gate-X1", direction="out")
    entrance(setup, code="VIP", channels=("V1",), ticket_types="VIP")

    def at(hour: int, minute: int = 0, day: dt.date = D) -> dt.datetime:
        clock.now = local(hour, minute, day)
        return clock.now

    def code(serial: str, **claims: Any) -> str:
        return ticket(serial, starts=clock.now + dt.timedelta(minutes=10), **claims)

    def scan(channel: str, text: str, passes: int = 0, ok: bool = True) -> dict[str, Any]:
        result = checkin.scan(gate, channel=channel, code=text)
        assert result["ok"] is ok, result
        for index in range(1, passes + 1):
            checkin.passage(gate, nonce=result["nonce"], index=index)
        return result

    at(7, 30)
    scan("L1", code("T1"), passes=1)
    at(10, 5)
    t2 = code("T2")
    scan("L1", t2, passes=1)
    at(10, 20)
    assert scan("L1", t2, ok=False)["reason"] == "already_used"
    at(10, 40)
    assert scan("L1", "NOPE", ok=False)["reason"] == "unknown"
    at(14, 10)
    group = scan("L1", code("G5", admits=5, ticket_type="FAMILY"), passes=3)
    assert group["persons"] == 5
    assert checkin.close(gate, nonce=group["nonce"])["state"] == "partial"
    at(14, 30)
    nobody = scan("L1", code("T3"))
    assert checkin.close(gate, nonce=nobody["nonce"])["state"] == "annulled"
    at(15)
    checkin.free_passage(gate, channel="X1")
    at(16, 50)
    scan("X1", t2, passes=1)
    at(19, 15)
    by_hand = checkin.manual_open(gate, channel="V1", reason="school group", persons=2)
    for index in (1, 2):
        checkin.passage(gate, nonce=by_hand["nonce"], index=index)
    at(19, 20)
    assert scan("V1", code("T4"), ok=False)["reason"] == "wrong_entrance"
    at(23, 30)
    def offline(nonce: str, text: str, decided: dt.datetime) -> dict[str, Any]:
        return {"op": "entry", "nonce": nonce, "channel": "L1", "code": text, "kind": "ticket", "reason": "valid",
                "state": "admitted", "authorised": 1, "passed": 1, "decided_at": decided, "closed_at": decided,
                "terminal": "G02", "operator": "night"}

    uploaded = checkin.upload(gate, [offline("offline-1", t2, local(20)),
                                     offline("offline-2", ticket("T7", starts=local(20, 15)), local(20, 5))])
    assert (uploaded["applied"], [c["nonce"] for c in uploaded["conflicts"]]) == (2, ["offline-1"])
    scan("L1", code("T5"), passes=1)
    at(0, 5, D1)
    checkin.free_passage(gate, channel="X1")
    at(0, 20, D1)
    scan("L1", code("T6"), passes=1)
    return app


def plotted(path: Path) -> tuple[str, list[Any], list[Any]]:
    """The xlsx Chart sheet's chart: its type, and the cells its categories and its values point at."""
    sheet = openpyxl.load_workbook(path)["Chart"]
    (chart,) = sheet._charts
    (series,) = chart.series

    def cells(reference: Any) -> list[Any]:
        return [cell.value for row in sheet[reference.f.rsplit("!", 1)[1].replace("$", "")] for cell in row]

    return type(chart).__name__, cells(series.cat.strRef or series.cat.numRef), cells(series.val.numRef)


def run(app: Any, report: str, who: Actor | None = None, **params: Any) -> Any:
    from suite.reporting.runner import ReportRun

    return ReportRun(app, who or Actor.system("test"), report, params)


def rows(app: Any, report: str, **params: Any) -> list[tuple[Any, ...]]:
    return run(app, report, **params).page(0, 1000)


def test_the_venue_zone_and_the_declared_reports() -> None:
    assert day_bounds((D, D), ZONE) == (dt.datetime(2026, 11, 21, 16, tzinfo=UTC),
                                        dt.datetime(2026, 11, 22, 16, tzinfo=UTC))
    context = ReportContext(session=None, actor=Actor.system("test"), venue_id=None, today=D)  # type: ignore[arg-type]

    class Settings:
        plugins = {"checkin": {"timezone": "America/Los_Angeles"}}

    assert report_zone(context) == ZONE
    assert report_zone(dataclasses.replace(context, settings=Settings())) == ZoneInfo("America/Los_Angeles")
    assert [(r.id, r.title) for r in REPORTS] == [(d.id, d.title) for d in checkin_plugin.REPORTS]


# ---------------------------------------------------------------- summary

#: (day, group, scans, people in, people out, refused, annulled, offline, conflicts) on D
SUMMARIES = {
    "list": [
        (None, "MAIN Entrance MAIN", 11, 8, 2, 2, 1, 2, 1),
        (None, "VIP Entrance VIP", 2, 2, 0, 1, 0, 0, 0),
    ],
    "channel": [
        (None, "L1 Lane L1", 9, 8, 0, 2, 1, 2, 1),
        (None, "V1 Lane V1", 2, 2, 0, 1, 0, 0, 0),
        (None, "X1 Exit X1", 2, 0, 2, 0, 0, 0, 0),
    ],
    "hour": [
        (None, "07:00", 1, 1, 0, 0, 0, 0, 0),
        (None, "10:00", 3, 1, 0, 2, 0, 0, 0),
        (None, "14:00", 2, 3, 0, 0, 1, 0, 0),
        (None, "15:00", 1, 0, 1, 0, 0, 0, 0),
        (None, "16:00", 1, 0, 1, 0, 0, 0, 0),
        (None, "19:00", 2, 2, 0, 1, 0, 0, 0),
        (None, "20:00", 2, 2, 0, 0, 0, 2, 1),
        (None, "23:00", 1, 1, 0, 0, 0, 0, 0),
    ],
    "day": [
        (D, "2026-11-22", 13, 10, 2, 3, 1, 2, 1),
    ],
    "kind": [
        (None, "Ticket code", 10, 8, 1, 2, 1, 2, 1),
        (None, "Plain code", 1, 0, 0, 1, 0, 0, 0),
        (None, "Manual opening", 1, 2, 0, 0, 0, 0, 0),
        (None, "Free passage", 1, 0, 1, 0, 0, 0, 0),
    ],
    "ticket_type": [
        (None, "No ticket type", 3, 2, 1, 1, 0, 0, 0),
        (None, "ADULT", 9, 5, 1, 2, 1, 2, 1),
        (None, "FAMILY", 1, 3, 0, 0, 0, 0, 0),
    ],
    "reason": [
        (None, "Valid", 9, 8, 2, 0, 1, 2, 1),
        (None, "Already used", 1, 0, 0, 1, 0, 0, 0),
        (None, "Wrong entrance", 1, 0, 0, 1, 0, 0, 0),
        (None, "Unknown code", 1, 0, 0, 1, 0, 0, 0),
        (None, "Opened by hand", 1, 2, 0, 0, 0, 0, 0),
    ],
}
TOTALS = {"scans": 13, "people_in": 10, "people_out": 2, "refused": 3, "annulled": 1, "offline": 2, "conflicts": 1}


def test_summary_in_every_dimension(scanned: Any) -> None:
    app = scanned
    for by, expected in SUMMARIES.items():
        report = run(app, "checkin.summary", period=D.isoformat(), by=by)
        assert report.page(0, 100) == expected, by
        assert report.totals() == TOTALS, by
        # the chart: people in, one bar per group
        assert report.category_points() == [(group, people_in) for _d, group, _s, people_in, *_ in expected], by
        assert report.daily_totals() == [], by
    assert rows(app, "checkin.summary", period=D.isoformat()) == SUMMARIES["list"]  # the default
    by_day = run(app, "checkin.summary", period=TWO_DAYS, by="day")
    assert by_day.page(0, 10) == [(D, "2026-11-22", 13, 10, 2, 3, 1, 2, 1), (D1, "2026-11-23", 2, 1, 1, 0, 0, 0, 0)]
    assert by_day.category_points() == [("2026-11-22", 10), ("2026-11-23", 1)]
    assert rows(app, "checkin.summary", period=D.isoformat(), list="VIP") == SUMMARIES["list"][1:]
    assert rows(app, "checkin.summary", period=D.isoformat(), venue="OTHER") == []
    with pytest.raises(InvalidInput):
        run(app, "checkin.summary", by="weather")


# ---------------------------------------------------------------- detail


def test_detail_has_one_row_per_entry_on_its_local_day(scanned: Any) -> None:
    app = scanned
    adult = ("S1", "ADULT", "G01", "attendant", False, False)
    report = run(app, "checkin.detail", period=D.isoformat())
    assert report.page(0, 100) == [
        # 07:30 in Shanghai is 23:30 UTC the day before: the venue's day counts
        (D, "07:30:00", "MAIN", "L1", "In", "Ticket code", "T1", "Valid", "admitted", 1, 1, *adult),
        (D, "10:05:00", "MAIN", "L1", "In", "Ticket code", "T2", "Valid", "admitted", 1, 1, *adult),
        (D, "10:20:00", "MAIN", "L1", "In", "Ticket code", "T2", "Already used", "refused", 0, 0, *adult),
        (D, "10:40:00", "MAIN", "L1", "In", "Plain code", "NOPE", "Unknown code", "refused", 0, 0,
         "", "", "G01", "attendant", False, False),
        (D, "14:10:00", "MAIN", "L1", "In", "Ticket code", "G5", "Valid", "partial", 5, 3,
         "S1", "FAMILY", "G01", "attendant", False, False),
        (D, "14:30:00", "MAIN", "L1", "In", "Ticket code", "T3", "Valid", "annulled", 1, 0, *adult),
        (D, "15:00:00", "MAIN", "X1", "Out", "Free passage", "", "Valid", "admitted", 1, 1,
         "", "", "G01", "attendant", False, False),
        (D, "16:50:00", "MAIN", "X1", "Out", "Ticket code", "T2", "Valid", "admitted", 1, 1, *adult),
        (D, "19:15:00", "VIP", "V1", "In", "Manual opening", "", "Opened by hand", "admitted", 2, 2,
         "", "", "G01", "attendant", False, False),
        (D, "19:20:00", "VIP", "V1", "In", "Ticket code", "T4", "Wrong entrance", "refused", 0, 0, *adult),
        (D, "20:00:00", "MAIN", "L1", "In", "Ticket code", "T2", "Valid", "admitted", 1, 1,
         "S1", "ADULT", "G02", "night", True, True),
        (D, "20:05:00", "MAIN", "L1", "In", "Ticket code", "T7", "Valid", "admitted", 1, 1,
         "S1", "ADULT", "G02", "night", True, False),
        # 23:30 stays on D
        (D, "23:30:00", "MAIN", "L1", "In", "Ticket code", "T5", "Valid", "admitted", 1, 1, *adult),
    ]
    assert report.totals() == {"authorised": 15, "passed": 12}
    assert report.daily_totals() == [(D, 13)]
    assert [r[1] for r in rows(app, "checkin.detail", period=D1.isoformat())] == ["00:05:00", "00:20:00"]
    assert [(r[1], r[7]) for r in rows(app, "checkin.detail", period=D.isoformat(), state="refused")] == [
        ("10:20:00", "Already used"), ("10:40:00", "Unknown code"), ("19:20:00", "Wrong entrance")]
    assert [r[6] for r in rows(app, "checkin.detail", period=TWO_DAYS, channel="X1")] == ["", "T2", ""]
    assert [r[1] for r in rows(app, "checkin.detail", list="VIP")] == ["19:15:00", "19:20:00"]
    assert rows(app, "checkin.detail", venue="OTHER") == []


# ---------------------------------------------------------------- occupancy


def moving(report: list[tuple[Any, ...]]) -> list[tuple[str, int, int, int]]:
    """The steps in which somebody went in or out: (time, in, out, inside)."""
    return [(time, people_in, out, inside) for _day, time, people_in, out, inside in report if people_in or out]


def test_occupancy_over_the_day(scanned: Any) -> None:
    app = scanned
    report = run(app, "checkin.occupancy", day=D.isoformat())
    got = report.page(0, 1000)
    assert len(got) == 96 and got[0] == (D, "00:00", 0, 0, 0) and got[-1] == (D, "23:45", 0, 0, 8)
    assert moving(got) == [("07:30", 1, 0, 1), ("10:00", 1, 0, 2), ("14:00", 3, 0, 5), ("15:00", 0, 1, 4),
                           ("16:45", 0, 1, 3), ("19:15", 2, 0, 5), ("20:00", 2, 0, 7), ("23:30", 1, 0, 8)]
    assert got[48] == (D, "12:00", 0, 0, 2)
    assert report.totals() == {"people_in": 10, "people_out": 2}
    # the chart: people inside at the end of each step
    assert report.category_points() == [(time, inside) for _day, time, _in, _out, inside in got]
    assert report.category_points()[29:31] == [("07:15", 0), ("07:30", 1)]
    assert report.daily_totals() == []
    assert moving(rows(app, "checkin.occupancy", day=D.isoformat(), list="MAIN")) == [
        ("07:30", 1, 0, 1), ("10:00", 1, 0, 2), ("14:00", 3, 0, 5), ("15:00", 0, 1, 4), ("16:45", 0, 1, 3),
        ("20:00", 2, 0, 5), ("23:30", 1, 0, 6)]
    hourly = rows(app, "checkin.occupancy", day=D.isoformat(), step="60")
    assert len(hourly) == 24 and moving(hourly) == [
        ("07:00", 1, 0, 1), ("10:00", 1, 0, 2), ("14:00", 3, 0, 5), ("15:00", 0, 1, 4), ("16:00", 0, 1, 3),
        ("19:00", 2, 0, 5), ("20:00", 2, 0, 7), ("23:00", 1, 0, 8)]
    # the next day starts empty; somebody from the day before leaving does not make it negative
    assert moving(rows(app, "checkin.occupancy", day=D1.isoformat())) == [("00:00", 0, 1, 0), ("00:15", 1, 0, 1)]
    with pytest.raises(InvalidInput):
        run(app, "checkin.occupancy", day=D.isoformat(), step="0").page(0, 10)


# ---------------------------------------------------------------- exports and permission


def test_xlsx_exports_and_who_may_run_them(scanned: Any, tmp_path: Path) -> None:
    from suite.reporting.export import export_xlsx
    from suite.reporting.runner import available_reports

    app = scanned
    summary = export_xlsx(run(app, "checkin.summary", period=TWO_DAYS, by="day"), tmp_path / "summary.xlsx")
    assert (summary.rows, summary.cancelled) == (2, False)
    book = openpyxl.load_workbook(summary.path)
    data = list(book["Data"].iter_rows(values_only=True))
    assert data[0] == ("Day", "Group", "Scans", "People in", "People out", "Refused", "Annulled", "Offline",
                       "Conflicts")
    assert data[1:] == [(dt.datetime.combine(D, dt.time()), "2026-11-22", 13, 10, 2, 3, 1, 2, 1),
                        (dt.datetime.combine(D1, dt.time()), "2026-11-23", 2, 1, 1, 0, 0, 0, 0),
                        ("Total", None, 15, 11, 3, 3, 1, 2, 1)]
    assert plotted(summary.path) == ("BarChart", ["2026-11-22", "2026-11-23"], [10, 1])

    by_channel = export_xlsx(run(app, "checkin.summary", period=D.isoformat(), by="channel"),
                             tmp_path / "channels.xlsx")
    # one bar per channel, none for the totals row
    assert plotted(by_channel.path) == ("BarChart", ["L1 Lane L1", "V1 Lane V1", "X1 Exit X1"], [8, 2, 0])
    assert openpyxl.load_workbook(by_channel.path)["Chart"]["A1"].value == "Group"

    detail = export_xlsx(run(app, "checkin.detail", period=D.isoformat()), tmp_path / "detail.xlsx")
    sheet = list(openpyxl.load_workbook(detail.path)["Data"].iter_rows(values_only=True))
    assert detail.rows == 13 and sheet[0][:3] == ("Day", "Time", "Check-in list") and sheet[0][-1] == "Conflict"
    assert sheet[11][6:11] == ("T2", "Valid", "admitted", 1, 1) and sheet[11][-2:] == ("yes", "yes")
    assert sheet[-1][9:11] == (15, 12)

    occupancy = export_xlsx(run(app, "checkin.occupancy", day=D.isoformat()), tmp_path / "occupancy.xlsx")
    book = openpyxl.load_workbook(occupancy.path)
    sheet = list(book["Data"].iter_rows(values_only=True))
    assert occupancy.rows == 96 and sheet[0] == ("Day", "Time", "People in", "People out", "Inside")
    assert sheet[31] == (dt.datetime.combine(D, dt.time()), "07:30", 1, 0, 1)
    assert sheet[-1][2:4] == (10, 2)
    kind, times, inside = plotted(occupancy.path)
    assert kind == "LineChart"
    assert times == [row[1] for row in sheet[1:97]] and times[:2] == ["00:00", "00:15"] and times[-1] == "23:45"
    assert inside == [row[4] for row in sheet[1:97]] and inside[29:31] == [0, 1] and inside[-1] == 8
    assert list(book["Chart"].iter_rows(max_row=1, values_only=True)) == [("Time", "Inside")]

    assert {"checkin.summary", "checkin.detail", "checkin.occupancy"} <= {
        r.id for r in available_reports(app, Actor.system("test"))}
    clerk = Actor(user_id=uuid.uuid4(), username="clerk", display_name="clerk",
                  permissions=frozenset({"reports.view", "reports.chain"}))
    with pytest.raises(PermissionDenied):
        run(app, "checkin.summary", who=clerk)
    viewer = dataclasses.replace(clerk, permissions=clerk.permissions | {"checkin.view"})
    assert run(app, "checkin.summary", who=viewer, period=D.isoformat()).totals() == TOTALS
