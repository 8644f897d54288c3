"""The box office's reports (P1) on SQLite and the real PostgreSQL server: sales detail, the
sales summary in every dimension, session occupancy, the daily charts and an xlsx export, with
exact fen figures from sales made through ``SalesService``.

The venue's zone is set to America/Los_Angeles (``[plugins.tickets] timezone``), so that a
sale at 23:30 local time is already the next day in UTC: a report cutting days in UTC or in
the machine's zone would put it on the wrong day. ``B`` is three local days ago; the sessions
start in a few days (S1 "The River" at 19:30, S2 "Night Train" at 14:00), both in hall 1 (5 x 8,
a VIP back row at 80.00; adult 50.00, child 30.00) where row 1 seat 8 is locked for the press.

=====  ======  =====  ======  ===========================================================
day    local   who    order   what
=====  ======  =====  ======  ===========================================================
B      10:00   alice  A       S1 1-1 adult, 1-2 child; cash 80.00
B      13:50   bob            a cash voucher of 20.00 (sold for cash: not a ticket sale)
B      14:00   bob    V       S1 5-1 adult VIP 80.00; voucher 20.00 + cash 60.00; source phone
B      23:30   alice  C       S2 2-1, 2-2 adult, 2-3 child; cash 130.00; source phone
B+1    09:00   mia    A       refund of 1-2 child: cash 30.00 back
B+1    11:00   bob    D       S2 3-1 adult; cash 50.00; channel distributor, Star Travel
B+1    12:00   mia    C       exchange of S2 2-3 child for S1 3-4 adult: 20.00 more in cash
now            alice          holds S1 4-1 and 4-2
=====  ======  =====  ======  ===========================================================

Every figure counts on the sale's day: the refund and the exchange belong to orders A and C.
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
from sqlalchemy import update

import plugins.tickets as tickets_plugin
from plugins.tickets.models import Distributor, Order
from plugins.tickets.reports import REPORTS, day_bounds, report_zone
from plugins.tickets.sales import SalesService
from plugins.tickets.settings import TicketSettings
from plugins.tickets.setup import SetupService
from suite.declarations import ReportDecl
from suite.errors import InvalidInput, PermissionDenied
from suite.i18n import N_
from suite.identity.actor import Actor
from suite.reporting.spec import ReportContext
from tests.plugins.tickets_fixtures import ALL_TICKETS, small_cinema
from tests.sites import Site, write_site

ZONE_NAME = "America/Los_Angeles"
ZONE = ZoneInfo(ZONE_NAME)
UTC = dt.timezone.utc
ADMIN_PASSWORD = "correct-horse-42"
B = dt.datetime.now(ZONE).date() - dt.timedelta(days=3)
B1 = B + dt.timedelta(days=1)
S1_DAY, S2_DAY = B + dt.timedelta(days=5), B + dt.timedelta(days=6)
PERIOD = f"{B.isoformat()}..{B1.isoformat()}"

# what the plugin's manifest declares for its reports (added here while it does not yet)
REPORT_DECLS = (
    ReportDecl("tickets.sales_detail", N_("Ticket sales detail"), spec="plugins.tickets.reports:SALES_DETAIL",
               permission="tickets.view"),
    ReportDecl("tickets.sales_summary", N_("Ticket sales summary"), spec="plugins.tickets.reports:SALES_SUMMARY",
               permission="tickets.view"),
    ReportDecl("tickets.session_occupancy", N_("Session occupancy"),
               spec="plugins.tickets.reports:SESSION_OCCUPANCY", permission="tickets.view"),
)


@pytest.fixture(autouse=True)
def declared(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reports in the box office's manifest (those it does not declare yet)."""
    from suite.hookspecs import hookimpl

    manifest = tickets_plugin.venue_suite_manifest()
    missing = tuple(d for d in REPORT_DECLS if d.id not in {r.id for r in manifest.reports})
    if not missing:
        return

    @hookimpl
    def venue_suite_manifest() -> Any:
        return dataclasses.replace(manifest, reports=tuple(manifest.reports) + missing)

    monkeypatch.setattr(tickets_plugin, "venue_suite_manifest", venue_suite_manifest)


@pytest.fixture
def site(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
         declared: None) -> Site:
    """A site whose host loads the box office as a built-in, licensed for ``tickets``, in the
    venue zone ``ZONE_NAME``."""
    import suite.plugins as host

    class TicketsHost(host.PluginHost):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            builtins = tuple(kwargs.pop("builtin_modules", host.BUILTIN_PLUGINS))
            if "plugins.tickets" not in builtins:
                builtins += ("plugins.tickets",)
            super().__init__(*args, builtin_modules=builtins, **kwargs)

    monkeypatch.setattr(host, "PluginHost", TicketsHost)
    path = write_site(tmp_path, db_url, **{"plugins.tickets": f'timezone = "{ZONE_NAME}"'})
    s = Site(path, db_url, capsys, monkeypatch)
    assert s.run("--json", "init", stdin=ADMIN_PASSWORD + "\n").code == 0
    public = s.run("--json", "license", "keygen").json["public_key"]
    s.path.write_text(s.path.read_text() + f'\n[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "chain.lic"
    issued = s.run("license", "issue", "--chain", "CHAIN-1", "--licensee", "River Cinemas", "--features",
                   "tickets", "--max-terminals", "3", "--max-cards", "500", "--expires", "2099-12-31",
                   "--out", str(licence))
    assert issued.code == 0, issued.err
    assert s.run("license", "install", str(licence)).code == 0
    return s


@pytest.fixture
def app(site: Site) -> Iterator[Any]:
    with site.app() as built:
        yield built


# ---------------------------------------------------------------- the scenario


class Clock:
    """The services' clock, set to the venue's local times."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, day: dt.date, hour: int, minute: int = 0) -> None:
        self.now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def actor(name: str) -> Actor:
    return Actor(user_id=uuid.uuid4(), username=name, display_name=name, permissions=ALL_TICKETS)


def key() -> str:
    return f"test-{uuid.uuid4()}"


def cash(amount: int) -> list[dict[str, Any]]:
    return [{"method": "cash", "amount": amount}]


@dataclasses.dataclass
class Scenario:
    app: Any
    orders: dict[str, dict[str, Any]]


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE)


@pytest.fixture
def scenario(app: Any) -> Scenario:
    clock = Clock()
    settings = TicketSettings(timezone=ZONE_NAME)
    common = {"venue_code": "CINEMA-01", "plugins": app.plugins, "settings": settings, "secrets": app.secrets,
              "clock": clock}
    setup = SetupService(app.uow, app.identity, terminal_code="T01", **common)
    sales = SalesService(app.uow, app.identity, terminal_code="T01", **common)
    admin, alice, bob, mia = actor("admin"), actor("alice"), actor("bob"), actor("mia")

    small_cinema(setup, starts_at=local(S1_DAY, 19, 30))
    setup.add_programme(admin, code="FILM2", title="Night Train", kind="film", duration_minutes=100)
    setup.add_session(admin, code="S2", programme="FILM2", hall="H1", seat_map="Standard", plan="STD",
                      starts_at=local(S2_DAY, 14), state="on_sale")
    setup.edit_seats(admin, hall="H1", name="Standard", kind="locked_press", kind_cells=[(0, 7)])
    seats = {(s["row_label"], s["seat_label"]): s["id"]
             for s in setup.seat_map(admin, hall="H1", name="Standard")["seats"]}

    def line(row: str, seat: str, kind: str = "ADULT") -> dict[str, Any]:
        return {"seat_id": seats[(row, seat)], "ticket_type": kind}

    orders: dict[str, dict[str, Any]] = {}
    clock.at(B, 10)
    orders["A"] = sales.sell(alice, session_code="S1", lines=[line("1", "1"), line("1", "2", "CHILD")],
                             payments=cash(8000), key=key())
    clock.at(B, 13, 50)
    voucher = sales.issue_voucher(bob, value=2000, key=key())
    clock.at(B, 14)
    orders["V"] = sales.sell(bob, session_code="S1", lines=[line("5", "1")], key=key(), customer_source="phone",
                             payments=[{"method": "voucher", "amount": 2000, "reference": voucher["code"]},
                                       {"method": "cash", "amount": 6000}])
    clock.at(B, 23, 30)
    orders["C"] = sales.sell(alice, session_code="S2", lines=[line("2", "1"), line("2", "2"),
                                                              line("2", "3", "CHILD")],
                             payments=cash(13000), key=key(), customer_source="phone")
    clock.at(B1, 9)
    child = next(t for t in orders["A"]["tickets"] if t["ticket_type"] == "Child")
    refund = sales.refund(mia, serials=[child["serial"]], key=key(), reason="changed plans")
    assert (refund["state"], refund["amount"]) == ("partly_refunded", 3000)
    clock.at(B1, 11)
    orders["D"] = sales.sell(bob, session_code="S2", lines=[line("3", "1")], payments=cash(5000), key=key(),
                             channel="distributor")
    clock.at(B1, 12)
    child = next(t for t in orders["C"]["tickets"] if t["ticket_type"] == "Child")
    exchanged = sales.exchange(mia, serial=child["serial"], session_code="S1", seat_id=seats[("3", "4")],
                               ticket_type="ADULT", key=key())
    assert exchanged["difference"] == 2000
    orders["C"]["new"] = exchanged["new"]
    # a distributor's booking stamps its order with the distributor; here the order is stamped directly
    with app.uow() as unit:
        star = Distributor(code="STAR", name="Star Travel")
        unit.session.add(star)
        unit.session.flush()
        unit.session.execute(update(Order).where(Order.number == orders["D"]["order"])
                             .values(distributor_id=star.id))
        unit.commit()
    clock.now = dt.datetime.now(UTC)  # a hold counts until it expires, by the real clock
    sales.hold(alice, session_code="S1", seat_ids=[seats[("4", "1")], seats[("4", "2")]], token="t-alice")
    return Scenario(app, orders)


def run(app: Any, report: str, who: Actor | None = None, **params: Any) -> Any:
    from suite.reporting.runner import ReportRun

    return ReportRun(app, who or Actor.system("test"), report, params)


def rows(app: Any, report: str, **params: Any) -> list[tuple[Any, ...]]:
    return run(app, report, **params).page(0, 1000)


# ---------------------------------------------------------------- the venue's day


def test_the_venue_day_and_zone() -> None:
    start, end = day_bounds((dt.date(2026, 11, 3), dt.date(2026, 11, 3)), ZoneInfo("Asia/Shanghai"))
    assert (start, end) == (dt.datetime(2026, 11, 2, 16, tzinfo=UTC), dt.datetime(2026, 11, 3, 16, tzinfo=UTC))
    context = ReportContext(session=None, actor=Actor.system("test"), venue_id=None,  # type: ignore[arg-type]
                            today=dt.date(2026, 11, 3))
    assert report_zone(context) == ZoneInfo("Asia/Shanghai")

    class Settings:
        plugins = {"tickets": {"timezone": ZONE_NAME}}

    assert report_zone(dataclasses.replace(context, settings=Settings())) == ZONE
    assert [r.id for r in REPORTS] == [d.id for d in REPORT_DECLS]


# ---------------------------------------------------------------- detail


def test_sales_detail_lists_every_ticket_on_its_local_day(scenario: Scenario) -> None:
    app, orders = scenario.app, scenario.orders
    a, v, c, d = (orders[k]["order"] for k in "AVCD")
    tickets = [t for k in "AVCD" for t in orders[k]["tickets"]] + [orders["C"]["new"]]
    serial = {(t["session"], t["row"], t["seat"]): t["serial"] for t in tickets}
    s1, s2 = f"{S1_DAY.isoformat()} 19:30", f"{S2_DAY.isoformat()} 14:00"
    report = run(app, "tickets.sales_detail", period=PERIOD)
    got = report.page(0, 100)
    assert got == [
        (B, "10:00", a, serial["S1", "1", "1"], "S1", s1, "The River", "Hall 1", "1", "1", "Adult", 5000, 5000, "valid",
         None, 5000, 0, 5000, "alice", "Counter", "walk_in", ""),
        (B, "10:00", a, serial["S1", "1", "2"], "S1", s1, "The River", "Hall 1", "1", "2", "Child", 3000, 3000,
         "refunded", B1, 3000, 3000, 0, "alice", "Counter", "walk_in", ""),
        (B, "14:00", v, serial["S1", "5", "1"], "S1", s1, "The River", "Hall 1", "5", "1", "Adult", 8000, 8000, "valid",
         None, 8000, 0, 8000, "bob", "Counter", "phone", ""),
        # 23:30 in Los Angeles is the next day in UTC: the venue's day counts
        (B, "23:30", c, serial["S2", "2", "1"], "S2", s2, "Night Train", "Hall 1", "2", "1", "Adult", 5000, 5000,
         "valid", None, 5000, 0, 5000, "alice", "Counter", "phone", ""),
        (B, "23:30", c, serial["S2", "2", "2"], "S2", s2, "Night Train", "Hall 1", "2", "2", "Adult", 5000, 5000,
         "valid", None, 5000, 0, 5000, "alice", "Counter", "phone", ""),
        # exchanged: neither sold nor refunded; its replacement (issued later, same order) is the sale
        (B, "23:30", c, serial["S2", "2", "3"], "S2", s2, "Night Train", "Hall 1", "2", "3", "Child", 3000, 3000,
         "exchanged", B1, 0, 0, 0, "alice", "Counter", "phone", ""),
        (B, "23:30", c, serial["S1", "3", "4"], "S1", s1, "The River", "Hall 1", "3", "4", "Adult", 5000, 5000,
         "valid", None, 5000, 0, 5000, "alice", "Counter", "phone", ""),
        (B1, "11:00", d, serial["S2", "3", "1"], "S2", s2, "Night Train", "Hall 1", "3", "1", "Adult", 5000, 5000,
         "valid", None, 5000, 0, 5000, "bob", "Distributor", "walk_in", "Star Travel"),
    ]
    assert report.count() == 8
    assert report.totals() == {"gross": 36000, "refunds": 3000, "net": 33000}
    assert report.daily_totals() == [(B, 28000), (B1, 5000)]
    # one local day: the 23:30 sale stays on B
    assert [r[2] for r in rows(app, "tickets.sales_detail", period=B.isoformat())] == [a, a, v, c, c, c, c]
    assert [r[2] for r in rows(app, "tickets.sales_detail", period=B1.isoformat())] == [d]
    assert [r[3] for r in rows(app, "tickets.sales_detail", cashier="bob")] == [
        serial["S1", "5", "1"], serial["S2", "3", "1"]]
    assert [r[3] for r in rows(app, "tickets.sales_detail", session="S1", ticket_type="CHILD")] == [
        serial["S1", "1", "2"]]
    assert len(rows(app, "tickets.sales_detail", venue="CINEMA-01")) == 8
    assert rows(app, "tickets.sales_detail", venue="OTHER") == []
    before = (B - dt.timedelta(days=1)).isoformat()
    assert rows(app, "tickets.sales_detail", period=before) == []


# ---------------------------------------------------------------- summary


SUMMARIES = {
    "ticket_type": [
        (None, "Adult", 6, 0, 6, 33000, 0, 33000),
        (None, "Child", 1, 1, 0, 3000, 3000, 0),
    ],
    "payment_method": [
        (None, "Cash", None, None, None, 34000, 3000, 31000),
        (None, "Voucher", None, None, None, 2000, 0, 2000),
    ],
    "day": [
        (B, "", 6, 1, 5, 31000, 3000, 28000),
        (B1, "", 1, 0, 1, 5000, 0, 5000),
    ],
    "cashier": [
        (None, "alice", 5, 1, 4, 23000, 3000, 20000),
        (None, "bob", 2, 0, 2, 13000, 0, 13000),
    ],
    "customer_source": [
        (None, "phone", 4, 0, 4, 23000, 0, 23000),
        (None, "walk_in", 3, 1, 2, 13000, 3000, 10000),
    ],
    "distributor": [
        (None, "No distributor", 6, 1, 5, 31000, 3000, 28000),
        (None, "Star Travel", 1, 0, 1, 5000, 0, 5000),
    ],
    "session": [
        (None, f"S1 The River {S1_DAY.isoformat()} 19:30", 4, 1, 3, 21000, 3000, 18000),
        (None, f"S2 Night Train {S2_DAY.isoformat()} 14:00", 3, 0, 3, 15000, 0, 15000),
    ],
    "channel": [
        (None, "Counter", 6, 1, 5, 31000, 3000, 28000),
        (None, "Distributor", 1, 0, 1, 5000, 0, 5000),
    ],
}


def test_sales_summary_in_every_dimension(scenario: Scenario) -> None:
    app = scenario.app
    for by, expected in SUMMARIES.items():
        report = run(app, "tickets.sales_summary", period=PERIOD, by=by)
        assert report.page(0, 100) == expected, by
        totals = report.totals()
        # every dimension adds up to the same money; the payment methods' rows are money only
        assert {k: totals[k] for k in ("gross", "refunds", "net")} == {"gross": 36000, "refunds": 3000,
                                                                     "net": 33000}, by
        assert (totals["sold"], totals["refunded"], totals["net_tickets"]) == (
            (0, 0, 0) if by == "payment_method" else (7, 1, 6)), by
        assert report.daily_totals() == ([(B, 28000), (B1, 5000)] if by == "day" else []), by
    assert rows(app, "tickets.sales_summary", period=PERIOD) == SUMMARIES["ticket_type"]  # the default
    # filters: a day, a cashier, a session (payments: the orders holding a ticket of it)
    assert rows(app, "tickets.sales_summary", period=B1.isoformat(), by="cashier") == [
        (None, "bob", 1, 0, 1, 5000, 0, 5000)]
    assert rows(app, "tickets.sales_summary", period=PERIOD, by="day", cashier="alice") == [
        (B, "", 5, 1, 4, 23000, 3000, 20000)]
    assert rows(app, "tickets.sales_summary", period=PERIOD, by="ticket_type", session="S2") == [
        (None, "Adult", 3, 0, 3, 15000, 0, 15000)]
    assert rows(app, "tickets.sales_summary", period=PERIOD, by="payment_method", session="S2") == [
        (None, "Cash", None, None, None, 20000, 0, 20000)]
    assert rows(app, "tickets.sales_summary", period=PERIOD, by="payment_method", cashier="bob") == [
        (None, "Cash", None, None, None, 11000, 0, 11000),
        (None, "Voucher", None, None, None, 2000, 0, 2000)]
    with pytest.raises(InvalidInput):
        run(app, "tickets.sales_summary", by="weather")


# ---------------------------------------------------------------- occupancy


def test_session_occupancy(scenario: Scenario) -> None:
    app = scenario.app
    report = run(app, "tickets.session_occupancy")
    # 40 seats less row 1 seat 8, locked for the press: 39
    # S1: 1-1, 5-1 and 3-4 sold (1-2 refunded: free again), 4-1 and 4-2 held; 8 % is 3 of 39
    # S2: 2-1, 2-2 and 3-1 sold (2-3 exchanged away: free again)
    assert report.page(0, 100) == [
        (S1_DAY, "19:30", "S1", "The River", "Hall 1", 39, 3, 2, 34, 8, 18000),
        (S2_DAY, "14:00", "S2", "Night Train", "Hall 1", 39, 3, 0, 36, 8, 15000),
    ]
    assert report.totals() == {"capacity": 78, "sold": 6, "held": 2, "free": 70, "revenue": 33000}
    assert report.daily_totals() == [(S1_DAY, 3), (S2_DAY, 3)]
    assert [r[2] for r in rows(app, "tickets.session_occupancy", period=S2_DAY.isoformat())] == ["S2"]
    assert [r[2] for r in rows(app, "tickets.session_occupancy", session="S1")] == ["S1"]
    assert rows(app, "tickets.session_occupancy", venue="OTHER") == []
    assert rows(app, "tickets.session_occupancy", period=B.isoformat()) == []


# ---------------------------------------------------------------- export and permission


def test_xlsx_export_holds_the_totals_and_the_chart(scenario: Scenario, tmp_path: Path) -> None:
    from suite.reporting.export import export_xlsx

    app = scenario.app
    result = export_xlsx(run(app, "tickets.sales_summary", period=PERIOD, by="day"), tmp_path / "days.xlsx")
    assert (result.rows, result.cancelled) == (2, False)
    book = openpyxl.load_workbook(result.path)
    data = list(book["Data"].iter_rows(values_only=True))
    assert data[0] == ("Day", "Group", "Tickets sold", "Tickets refunded", "Net tickets", "Gross", "Refunds",
                       "Net amount")
    assert data[1] == (dt.datetime.combine(B, dt.time()), None, 6, 1, 5, 310.0, 30.0, 280.0)
    assert data[3] == ("Total", None, 7, 1, 6, 360.0, 30.0, 330.0)
    assert book["Data"]["F2"].number_format == "#,##0.00"
    chart = book["Chart"]
    assert list(chart.iter_rows(min_row=2, values_only=True)) == [
        (dt.datetime.combine(B, dt.time()), 280.0), (dt.datetime.combine(B1, dt.time()), 50.0)]
    assert chart._charts  # the native bar chart

    detail = export_xlsx(run(app, "tickets.sales_detail", period=PERIOD), tmp_path / "detail.xlsx")
    sheet = list(openpyxl.load_workbook(detail.path)["Data"].iter_rows(values_only=True))
    assert detail.rows == 8 and sheet[0][0] == "Day" and sheet[0][-1] == "Distributor"
    assert sheet[-1][0] == "Total" and sheet[-1][15:18] == (360.0, 30.0, 330.0)

    occupancy = export_xlsx(run(app, "tickets.session_occupancy"), tmp_path / "occupancy.xlsx")
    book = openpyxl.load_workbook(occupancy.path)
    sheet = list(book["Data"].iter_rows(values_only=True))
    assert sheet[1][5:] == (39, 3, 2, 34, 8, 180.0)
    assert sheet[-1][5:] == (78, 6, 2, 70, None, 330.0)
    assert list(book["Chart"].iter_rows(min_row=2, values_only=True)) == [
        (dt.datetime.combine(S1_DAY, dt.time()), 3), (dt.datetime.combine(S2_DAY, dt.time()), 3)]


def test_reports_need_the_tickets_view_permission(scenario: Scenario) -> None:
    from suite.reporting.runner import available_reports

    ids = [r.id for r in available_reports(scenario.app, Actor.system("test"))]
    assert {d.id for d in REPORT_DECLS} <= {i for i in ids if i.startswith("tickets.")}
    clerk = Actor(user_id=uuid.uuid4(), username="clerk", display_name="clerk",
                  permissions=frozenset({"reports.view", "reports.chain"}))
    with pytest.raises(PermissionDenied):
        run(scenario.app, "tickets.sales_summary", who=clerk)
    viewer = dataclasses.replace(clerk, permissions=frozenset({"reports.view", "reports.chain", "tickets.view"}))
    assert run(scenario.app, "tickets.sales_summary", who=viewer, period=PERIOD).totals()["net"] == 33000


def test_a_venue_role_sees_its_own_venue(scenario: Scenario) -> None:
    app = scenario.app
    local = Actor(user_id=uuid.uuid4(), username="lena", display_name="lena",
                  permissions=frozenset({"reports.view", "tickets.view"}))
    with pytest.raises(PermissionDenied):
        run(app, "tickets.sales_summary", who=local, scope="chain")
    # this terminal is at HQ: the sales and sessions of CINEMA-01 are not its venue's
    report = run(app, "tickets.sales_summary", who=local, period=PERIOD)
    assert report.params["scope"] == "local" and report.page(0, 10) == []
    assert run(app, "tickets.session_occupancy", who=local).page(0, 10) == []
    # a terminal at CINEMA-01 sees them
    app.venue_id = app.places.add_venue(Actor.system("test"), code="CINEMA-01", name="Cinema 1").id
    assert run(app, "tickets.sales_summary", who=local, period=PERIOD).totals()["net"] == 33000
    assert [r[2] for r in rows(app, "tickets.session_occupancy", scope="local")] == ["S1", "S2"]
