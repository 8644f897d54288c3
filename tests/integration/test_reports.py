"""Reports on SQLite and PostgreSQL: the runner (permissions, paging, counts, totals, daily
totals, scope, local days), exports of real runs in the background, and ``venue-suite report``."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import event, insert

from tests.sites import Site, write_site
from suite.errors import InvalidInput, NotFound, PermissionDenied

ADMIN_PASSWORD = "correct-horse-42"
UTC = dt.timezone.utc
OTHER_VENUE = uuid.UUID("00000000-0000-7000-8000-0000000000aa")
JOURNAL = "core.ledger_journal"


# ---------------------------------------------------------------- set-up


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the local time zone (``zone("Asia/Shanghai")``); UTC unless a test says otherwise."""
    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    set_zone("UTC")
    yield set_zone
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def site(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
         zone: Any) -> Site:
    s = Site(write_site(tmp_path, db_url), db_url, capsys, monkeypatch)
    assert s.run("init", stdin=ADMIN_PASSWORD + "\n").code == 0
    return s


@pytest.fixture
def app(site: Site) -> Iterator[Any]:
    with site.app() as built:
        yield built


def console() -> Any:
    from suite.identity.actor import Actor

    return Actor.system("test")


def add_user(app: Any, username: str, *roles: str) -> Any:
    app.identity.create_user(console(), username=username, password="a-long-pass-42", roles=roles)
    return app.identity.actor_for(username, venue_id=app.venue_id)


def uuid7_at(at: dt.datetime, n: int) -> uuid.UUID:
    ms = int(at.timestamp() * 1000)
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | ((n & 0xFFF) << 64) | (0b10 << 62) | random.getrandbits(62))


class Ledger:
    """Journal entries written straight into the tables, at chosen times (ids made then too)."""

    def __init__(self, app: Any) -> None:
        from suite.ledger import open_account

        self.app = app
        self.balances: dict[uuid.UUID, int] = {}
        self.n = 0
        with app.uow() as uow:
            def account(owner_type: str, owner_id: str, kind: str, unit: str = "CNY") -> uuid.UUID:
                return open_account(uow.session, owner_type=owner_type, owner_id=owner_id, kind=kind, unit=unit,
                                    floor=None).id

            self.cash = account("venue", "HQ", "cash")
            self.shop = account("merchant", "M1", "sales")
            self.card_a = account("card", "A", "wallet.main")
            self.card_b = account("card", "B", "wallet.main")
            self.points_a = account("card", "A", "points", "points")
            self.points_pool = account("chain", "HQ", "points.pool", "points")
            uow.commit()

    def post(self, at: dt.datetime, kind: str, legs: list[tuple[uuid.UUID, int]], *, unit: str = "CNY",
             venue: uuid.UUID | None = None, memo: str = "") -> uuid.UUID:
        from suite.ledger.models import Entry, Line
        from suite.ledger.payload import LineSpec, payload_digest

        assert sum(amount for _a, amount in legs) == 0
        self.n += 1
        entry_id = uuid7_at(at, self.n)
        lines = []
        for position, (account, amount) in enumerate(legs):
            self.balances[account] = self.balances.get(account, 0) + amount
            lines.append({"entry_id": entry_id, "account_id": account, "unit": unit, "amount": amount,
                          "position": position, "balance_after": self.balances[account]})
        with self.app.uow() as uow:
            uow.session.execute(insert(Entry.__table__).values(
                id=entry_id, venue_id=venue, created_at=at, updated_at=at, idempotency_key=f"t-{self.n}",
                kind=kind, memo=memo, payload_hash=payload_digest(kind, [LineSpec(a, x) for a, x in legs]),
                actor="cashier1"))
            uow.session.execute(insert(Line.__table__), lines)
            uow.commit()
        return entry_id

    def standard(self) -> None:
        """Four CNY entries on three UTC days (one late in the evening) and one in points."""
        local = self.app.venue_id
        self.post(dt.datetime(2026, 11, 1, 10, 0, tzinfo=UTC), "wallet.topup",
                  [(self.card_a, 1234), (self.cash, -1234)], venue=local, memo="desk")
        self.post(dt.datetime(2026, 11, 1, 12, 0, tzinfo=UTC), "wallet.topup",
                  [(self.card_b, 5000), (self.cash, -5000)], venue=OTHER_VENUE)
        self.post(dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "wallet.consume",
                  [(self.card_a, -234), (self.shop, 234)], venue=local)
        self.post(dt.datetime(2026, 11, 2, 9, 30, tzinfo=UTC), "points.earn",
                  [(self.points_a, 50), (self.points_pool, -50)], unit="points", venue=local)
        self.post(dt.datetime(2026, 11, 3, 20, 0, tzinfo=UTC), "wallet.topup",
                  [(self.card_a, 100), (self.cash, -100)], venue=local)


@pytest.fixture
def ledger(app: Any) -> Ledger:
    seeded = Ledger(app)
    seeded.standard()
    return seeded


def run(app: Any, report: str = JOURNAL, who: Any = None, **params: Any) -> Any:
    from suite.reporting.runner import ReportRun

    return ReportRun(app, who or console(), report, params)


# ---------------------------------------------------------------- which reports, for whom


def test_available_reports_follow_permissions(app: Any) -> None:
    from suite.reporting.runner import available_reports

    everything = available_reports(app, console())
    assert [(r.id, r.title, r.plugin_id) for r in everything] == [
        ("core.audit_log", "Audit log", "core"), ("core.ledger_journal", "Ledger journal", "core"),
        ("core.users_roles", "Users and roles", "core")]
    assert everything[1].spec.columns[7].name == "amount"
    statistician = add_user(app, "stat", "statistician")
    assert [r.id for r in available_reports(app, statistician)] == [JOURNAL]
    cashier = add_user(app, "cashier", "salesperson")
    assert available_reports(app, cashier) == []


def test_a_run_checks_permission_and_the_report_exists(app: Any) -> None:
    cashier = add_user(app, "cashier", "salesperson")
    with pytest.raises(PermissionDenied):
        run(app, who=cashier)
    statistician = add_user(app, "stat", "statistician")
    with pytest.raises(PermissionDenied):
        run(app, "core.audit_log", who=statistician)
    with pytest.raises(NotFound) as missing:
        run(app, "core.nothing")
    assert "core.ledger_journal" in missing.value.message
    with pytest.raises(InvalidInput):
        run(app, period="last week")
    with pytest.raises(InvalidInput):
        run(app, colour="red")
    assert run(app, who=statistician).can_export


def test_an_unlicensed_plugins_report_is_hidden_and_refused(app: Any) -> None:
    from suite.declarations import PluginManifest, ReportDecl
    from suite.errors import LicenceError
    from suite.hookspecs import hookimpl
    from suite.plugins import PluginHost
    from suite.reporting.runner import available_reports

    class Paid:
        @hookimpl
        def venue_suite_manifest(self) -> PluginManifest:
            return PluginManifest(id="paid", name="Paid", version="1", feature="paid", reports=(
                ReportDecl("paid.journal", "Paid journal", spec="suite.ledger.reports:JOURNAL",
                           permission="ledger.view"),))

    app.plugins = PluginHost(app.uow, app.licences, entry_point_group=None, extra_plugins=[Paid()]).load()
    assert "paid.journal" not in [r.id for r in available_reports(app, console())]
    with pytest.raises(LicenceError):
        run(app, "paid.journal")


# ---------------------------------------------------------------- the journal in the database


def test_journal_pages_counts_and_totals(app: Any, ledger: Ledger) -> None:
    journal = run(app)
    assert journal.count() == 8
    everything = journal.page(0, 100)
    assert len(everything) == 8
    assert journal.page(0, 3) + journal.page(3, 3) + journal.page(6, 3) == everything
    assert journal.page(8, 10) == []
    first = everything[0]
    assert first[0] == dt.datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert first[2:9] == ("wallet.topup", "t-1", "card:A", "wallet.main", "CNY", 1234, 1234)
    assert uuid.UUID(first[1]) == uuid.UUID(str(first[1]))  # the entry id, as text
    assert [row[4] for row in everything[:2]] == ["card:A", "venue:HQ"]  # lines in entry order
    assert journal.totals() == {"amount": 0}  # every entry balances
    assert run(app, owner="card:A").totals() == {"amount": 1234 - 234 + 100}
    assert run(app, owner="A").count() == 3
    assert run(app, kind="wallet.consume").count() == 2


def test_journal_daily_totals_period_and_unit(app: Any, ledger: Ledger) -> None:
    journal = run(app)
    assert journal.daily_totals() == [(dt.date(2026, 11, 1), 6234), (dt.date(2026, 11, 2), 234),
                                      (dt.date(2026, 11, 3), 100)]
    november_2 = run(app, period="2026-11-02..2026-11-03")
    assert november_2.count() == 4 and november_2.daily_totals()[0] == (dt.date(2026, 11, 2), 234)
    assert run(app, period="2026-10").count() == 0
    points = run(app, unit="points")
    assert [row[7] for row in points.page(0, 10)] == [50, -50]
    assert points.columns[7].kind == "count" and journal.columns[7].kind == "money"


def test_local_days_follow_the_time_zone(app: Any, ledger: Ledger, zone: Any) -> None:
    zone("Asia/Shanghai")  # UTC+8: the 20:00 UTC top-up of 3 November is on 4 November here
    journal = run(app)
    assert journal.daily_totals()[-1] == (dt.date(2026, 11, 4), 100)
    assert run(app, period="2026-11-04").count() == 2
    assert run(app, period="2026-11-03").count() == 0


def test_venue_scope(app: Any, ledger: Ledger) -> None:
    assert run(app, scope="chain").count() == 8
    local = run(app, scope="local")
    assert local.count() == 6
    assert "card:B" not in {row[4] for row in local.page(0, 100)}


def test_iter_rows_streams_in_batches(app: Any, ledger: Ledger) -> None:
    journal = run(app)
    options: list[dict[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "ledger_lines" in statement:
            options.append(dict(context.execution_options))

    event.listen(app.engine, "before_cursor_execute", seen)
    try:
        streamed = [tuple(row) for row in journal.iter_rows(batch=3)]
    finally:
        event.remove(app.engine, "before_cursor_execute", seen)
    assert streamed == journal.page(0, 100)
    assert options and options[-1].get("yield_per") == 3 and options[-1].get("stream_results") is True
    light = next(iter(journal.iter_rows(light=True)))
    assert light[7] == 1234 and str(light[0]).startswith("2026-11-01")
    rows = journal.iter_rows(batch=2)
    next(rows)
    rows.close()  # stopping early ends the query and its unit of work
    assert journal.count() == 8


# ---------------------------------------------------------------- the other reports


def test_audit_log_report(app: Any) -> None:
    add_user(app, "clerk", "salesperson")
    log = run(app, "core.audit_log")
    rows = log.page(0, 1000)
    assert log.count() == len(rows) >= 4
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert any(r[3] == "user.create" and r[5] == "clerk" for r in rows)
    assert sum(n for _day, n in log.daily_totals()) == len(rows)
    assert run(app, "core.audit_log", kind="security").count() == 0
    assert run(app, "core.audit_log", actor="nobody").count() == 0
    assert run(app, "core.audit_log", period="2020-01-01").count() == 0


def test_users_and_roles_report(app: Any) -> None:
    add_user(app, "clerk", "salesperson", "finance")
    app.identity.set_active(console(), "clerk", False)
    users = run(app, "core.users_roles")
    assert users.count() == 2
    rows = users.page(0, 10)
    assert rows[1][:4] == ("clerk", "clerk", False, "finance, salesperson")
    assert users.page(1, 5) == rows[1:]
    assert run(app, "core.users_roles", status="active").page(0, 5)[0][0] == "admin"
    assert run(app, "core.users_roles", status="disabled").count() == 1


# ---------------------------------------------------------------- exports of real runs


def test_xlsx_export_of_the_journal(app: Any, ledger: Ledger, tmp_path: Path) -> None:
    from suite.reporting.export import export_xlsx

    result = export_xlsx(run(app), tmp_path / "journal.xlsx", max_sheet_rows=6)
    assert (result.rows, result.sheets, result.cancelled) == (8, 2, False)
    wb = openpyxl.load_workbook(result.path)
    data = wb["Data"]
    assert data["A2"].value == dt.datetime(2026, 11, 1, 10, 0)
    assert data["H2"].value == 12.34 and data["H2"].number_format == "#,##0.00"
    assert data["E2"].value == "card:A" and data["B2"].value == str(uuid.UUID(data["B2"].value))
    assert wb["Data (2)"]["A5"].value == "Total" and wb["Data (2)"]["H5"].value == 0
    chart = wb["Chart"]
    assert len(chart._charts) == 1
    assert [row for row in chart.iter_rows(min_row=2, values_only=True)] == [
        (dt.datetime(2026, 11, 1), 62.34), (dt.datetime(2026, 11, 2), 2.34), (dt.datetime(2026, 11, 3), 1.0)]


def test_a_chart_with_one_point_per_row_of_a_query(app: Any, ledger: Ledger, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal charted per line: x = its time, y = its amount, in the query's order."""
    import dataclasses

    from suite.reporting import runner
    from suite.reporting.export import export_xlsx
    from suite.reporting.spec import ChartKind, ChartSpec

    load_spec = runner.load_spec
    monkeypatch.setattr(runner, "load_spec", lambda decl: dataclasses.replace(
        load_spec(decl), chart=ChartSpec(category="time", value="amount", kind=ChartKind.LINE)))
    journal = run(app)
    lines = journal.page(0, 100)
    assert len(lines) == 8 and journal.daily_totals() == []
    assert journal.category_points() == [(line[0], line[7]) for line in lines]
    assert journal.category_points(limit=3) == [(dt.datetime(2026, 11, 1, 10, 0, tzinfo=UTC), 1234),
                                                (dt.datetime(2026, 11, 1, 10, 0, tzinfo=UTC), -1234),
                                                (dt.datetime(2026, 11, 1, 12, 0, tzinfo=UTC), 5000)]

    result = export_xlsx(journal, tmp_path / "lines.xlsx")
    chart = openpyxl.load_workbook(result.path)["Chart"]
    assert type(chart._charts[0]).__name__ == "LineChart"
    points = list(chart.iter_rows(min_row=2, values_only=True))
    assert points == [(line[0].replace(tzinfo=None), line[7] / 100) for line in lines]  # no totals row
    assert chart["A2"].number_format == "yyyy-mm-dd hh:mm"


def test_export_needs_the_export_permission(app: Any, ledger: Ledger, tmp_path: Path) -> None:
    from suite.reporting.export import export_csv
    from suite.reporting.jobs import ExportJob

    app.identity.create_user(console(), username="viewer", password="a-long-pass-42", roles=())
    with app.uow() as uow:
        from suite.identity.models import Role

        uow.session.add(Role(code="viewer", name="Viewer", scope="chain"))
        uow.commit()
    app.identity.grant(console(), "viewer", "reports.view")
    app.identity.grant(console(), "viewer", "ledger.view")
    app.identity.grant(console(), "viewer", "reports.chain")
    app.identity.assign_role(console(), "viewer", "viewer")
    viewer = app.identity.actor_for("viewer")
    journal = run(app, who=viewer)
    assert journal.count() == 8 and not journal.can_export
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(PermissionDenied):
        export_csv(journal, out / "x.csv")
    with pytest.raises(PermissionDenied):
        ExportJob(journal, out / "x.xlsx", "xlsx")
    assert not list(out.iterdir())


def test_background_export_reports_progress_and_finishes(app: Any, ledger: Ledger, tmp_path: Path) -> None:
    from suite.reporting.jobs import ExportJob, ExportProgress

    events: list[ExportProgress] = []
    threads: set[str] = set()

    def on_progress(progress: ExportProgress) -> None:
        threads.add(threading.current_thread().name)
        events.append(progress)

    job = ExportJob(run(app), tmp_path / "journal.csv", "csv", on_progress).start()
    assert job.wait(60) and job.error is None
    assert job.result is not None and job.result.rows == 8 and not job.result.cancelled
    assert threading.current_thread().name not in threads  # called from the worker
    assert events[0] == ExportProgress(0, 8) and events[-1].finished and events[-1].rows_done == 8
    assert events[-1].path == tmp_path / "journal.csv" and events[-1].fraction == 1.0
    done = [e.rows_done for e in events]
    assert done == sorted(done)
    text = (tmp_path / "journal.csv").read_bytes().decode("utf-8-sig")
    assert text.splitlines()[1].startswith("2026-11-01 10:00,") and ",12.34,12.34,desk," in text


def test_cancelling_a_background_export_deletes_the_partial_file(app: Any, tmp_path: Path) -> None:
    from suite.reporting.jobs import ExportJob, ExportProgress

    ledger = Ledger(app)
    start = dt.datetime(2026, 11, 1, tzinfo=UTC)
    from suite.ledger.models import Entry, Line

    entries, lines = [], []
    for n in range(3500):  # 7,000 lines: the cancel comes with the progress at 5,000
        at = start + dt.timedelta(minutes=n)
        entry_id = uuid7_at(at, n)
        entries.append({"id": entry_id, "venue_id": None, "created_at": at, "updated_at": at,
                        "idempotency_key": f"bulk-{n}", "kind": "wallet.topup", "memo": "", "payload_hash": "0" * 64,
                        "actor": ""})
        lines += [{"entry_id": entry_id, "account_id": ledger.card_a, "unit": "CNY", "amount": 100, "position": 0,
                   "balance_after": 100 * (n + 1)},
                  {"entry_id": entry_id, "account_id": ledger.cash, "unit": "CNY", "amount": -100, "position": 1,
                   "balance_after": -100 * (n + 1)}]
    with app.uow() as uow:
        uow.session.execute(insert(Entry.__table__), entries)
        uow.session.execute(insert(Line.__table__), lines)
        uow.commit()
    events: list[ExportProgress] = []
    job: ExportJob | None = None

    def on_progress(progress: ExportProgress) -> None:
        events.append(progress)
        if progress.rows_done >= 5000 and job is not None:
            job.cancel()

    out = tmp_path / "out"
    out.mkdir()
    job = ExportJob(run(app), out / "journal.xlsx", "xlsx", on_progress)
    job.start()
    assert job.wait(120)
    assert job.result is not None and job.result.cancelled and job.result.rows == 5000  # stopped at once
    assert events[-1].finished and events[-1].cancelled and events[-1].path is None
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------- venue-suite report


def test_cli_report_list(site: Site) -> None:
    listed = site.run("--json", "report", "list")
    assert listed.code == 0, listed.err
    assert [r["id"] for r in listed.json] == ["core.audit_log", JOURNAL, "core.users_roles"]
    journal = listed.json[1]
    assert [p["name"] for p in journal["params"]] == ["period", "owner", "kind", "unit", "scope"]
    text = site.run("report", "list")
    assert text.code == 0 and "Ledger journal" in text.out and "period" in text.out


def test_cli_report_run_prints_rows_count_and_totals(site: Site, tmp_path: Path) -> None:
    with site.app() as app:
        Ledger(app).standard()
    printed = site.run("report", "run", JOURNAL, "--param", "owner=card:A", "--limit", "2")
    assert printed.code == 0, printed.err
    assert "12.34" in printed.out and "count: 3" in printed.out and "total Amount: 11.00" in printed.out
    assert "1-2 of 3" in printed.out
    as_json = site.run("--json", "report", "run", JOURNAL, "--param", "period=2026-11-01", "--limit", "1").json
    assert as_json["count"] == 4 and as_json["totals"] == {"amount": 0} and len(as_json["rows"]) == 1
    assert as_json["rows"][0]["amount"] == 1234 and as_json["params"]["period"] == ["2026-11-01", "2026-11-01"]


def test_cli_report_run_exports(site: Site, tmp_path: Path) -> None:
    with site.app() as app:
        Ledger(app).standard()
    xlsx, csv_file = tmp_path / "j.xlsx", tmp_path / "j.csv"
    exported = site.run("--json", "report", "run", JOURNAL, "--xlsx", str(xlsx), "--csv", str(csv_file))
    assert exported.code == 0, exported.err
    assert [(e["path"], e["rows"]) for e in exported.json["exported"]] == [(str(xlsx), 8), (str(csv_file), 8)]
    assert openpyxl.load_workbook(xlsx)["Data"].max_row == 10  # header, 8 rows, totals
    assert len(csv_file.read_bytes().decode("utf-8-sig").splitlines()) == 9


def test_cli_report_errors_exit_1(site: Site) -> None:
    unknown = site.run("report", "run", "core.nothing")
    assert unknown.code == 1 and "no report 'core.nothing'" in unknown.err
    bad = site.run("--json", "report", "run", JOURNAL, "--param", "period=2026-02-30")
    assert bad.code == 1 and bad.json["error"] == "invalid_input" and "period" in bad.json["message"]
    unknown_param = site.run("report", "run", JOURNAL, "--param", "color=red")
    assert unknown_param.code == 1 and "owner" in unknown_param.err
    malformed = site.run("report", "run", JOURNAL, "--param", "period")
    assert malformed.code == 1 and "NAME=VALUE" in malformed.err


def test_cli_a_cashier_may_not_run_reports(site: Site) -> None:
    added = site.run("user", "add", "cashier", "--role", "salesperson",
                     env={"VENUE_SUITE_NEW_PASSWORD": "cashier-pass-1"})
    assert added.code == 0, added.err
    env = {"VENUE_SUITE_PASSWORD": "cashier-pass-1"}
    for args in (("report", "list"), ("report", "run", JOURNAL)):
        denied = site.run("--json", "--user", "cashier", *args, env=env)
        assert denied.code == 1 and denied.json["error"] == "permission_denied"
    events = site.run("--json", "audit", "list", "--kind", "security").json
    assert any(e["action"] == "permission.denied" and e["actor"] == "cashier" for e in events)


def test_chain_scope_needs_the_chain_permission(tmp_path) -> None:
    """A venue manager's report covers their venue by default; asking for the chain is refused."""
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.errors import PermissionDenied
    from suite.identity.actor import Actor
    from suite.reporting.runner import ReportRun

    site = tmp_path / "site.toml"
    site.write_text(f'[suite]\nlanguage = "en"\ndata_dir = "{tmp_path}"\n'
                    f'[keyring]\nbackend = "keyrings.alt.file.PlaintextKeyring"\nfile = "{tmp_path / "k.cfg"}"\n')
    with build_app(load_settings(site, environ={})) as app:
        app.identity.sync_roles(app.plugins.permissions())
        system = Actor.system("test")
        app.identity.create_user(system, username="boss", password="manager-pass-1", roles=("manager",))
        app.identity.create_user(system, username="analyst", password="analyst-pass-1", roles=("statistician",))
        for role in ("manager", "statistician"):
            app.identity.grant(system, role, "audit.view")
        manager = app.identity.authenticate("boss", "manager-pass-1")
        analyst = app.identity.authenticate("analyst", "analyst-pass-1")
        assert ReportRun(app, manager, "core.audit_log", {}).params.get("scope", "local") == "local"
        with pytest.raises(PermissionDenied):
            ReportRun(app, manager, "core.audit_log", {"scope": "chain"})
        assert ReportRun(app, analyst, "core.audit_log", {"scope": "chain"}).params["scope"] == "chain"
