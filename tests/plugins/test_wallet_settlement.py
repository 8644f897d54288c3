"""Card settlement (W8) on SQLite and the real PostgreSQL server: the six wallet reports with
exact fen figures, an xlsx export, marking periods settled (refusals, permission, audit), the
``settlement`` verb, and the finance tab under Xvfb.

The scenario, in the venue's zone (Asia/Shanghai, UTC+8), with HQ (terminal T01, merchant
FOOD1) and PARK (terminal T02, merchant RIDES, reader R1), operators alice and bob:

=====  ===========  ======  =======  ==========================================================
day    local time   venue   who      what
=====  ===========  ======  =======  ==========================================================
11-02  09:00        HQ      alice    issue G1 (GOLD: 10 % off, +10 % bonus, 20.00 deposit)
11-02  09:05        HQ      alice    top up G1 100.00 (+10.00 bonus)
11-02  10:00        PARK    bob      issue C1 (TEN: count card)
11-02  10:05        PARK    bob      top up C1 10 counts for 90.00
11-02  12:00        PARK    bob      G1 pays 30.00 list: 27.00 charged (gift 10.00, main 17.00)
11-02  13:00        PARK    bob      C1 uses 2 counts
11-02  14:00        HQ      alice    G1 pays 10.00 list: 9.00 charged (main)
11-03  01:30        HQ      bob      top up G1 50.00 (+5.00): 2 November 17:30 UTC
11-03  11:00        PARK    alice    C1 uses 3 counts
11-03  15:00        PARK    alice    G1 pays 20.00 list: 18.00 charged (gift 5.00, main 13.00)
11-03  18:00        HQ      alice    G1 returned: 111.00 main + 20.00 deposit paid back
11-04  10:00        HQ      alice    G1 recycled, issued again as TEN, 10 counts for 80.00, 1 used
=====  ===========  ======  =======  ==========================================================

Settlement prices: GOLD at PARK 83.30 % (none at HQ: all of it), TEN 15.00 a count at PARK and
12.00 at HQ.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select, update

import plugins.wallet as wallet_plugin
from plugins.wallet.models import CardEvent, Settlement
from plugins.wallet.services import WalletService
from plugins.wallet.settings import WalletSettings
from plugins.wallet.settlement import (SettlementService, configure_settle, day_bounds, round_half_up,
                                       report_zone, run_settle)
from suite.audit.models import AuditEvent
from suite.declarations import CliCommand, ReportDecl, TabSpec
from suite.errors import Conflict, InvalidInput, PermissionDenied
from suite.i18n import N_
from suite.identity.actor import Actor
from suite.ledger import check
from tests.sites import Site

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
ALL_WALLET = frozenset(p.id for p in wallet_plugin.PERMISSIONS)
REPO = Path(__file__).resolve().parents[2]
D2, D3, D4 = dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)

# what the plugin's manifest declares for settlement (added here while it does not yet)
REPORT_DECLS = (
    ReportDecl("wallet.recharge_detail", N_("Card top-ups"), spec="plugins.wallet.reports:RECHARGE_DETAIL",
               permission="wallet.view"),
    ReportDecl("wallet.recharge_by_operator", N_("Top-ups by operator"),
               spec="plugins.wallet.reports:RECHARGE_BY_OPERATOR", permission="wallet.view"),
    ReportDecl("wallet.consumption", N_("Card consumption by venue, merchant and device"),
               spec="plugins.wallet.reports:CONSUMPTION", permission="wallet.view"),
    ReportDecl("wallet.settlement_status", N_("Card settlement status"),
               spec="plugins.wallet.reports:SETTLEMENT_STATUS", permission="wallet.view"),
    ReportDecl("wallet.branch_net", N_("Head office and branch net"), spec="plugins.wallet.reports:BRANCH_NET",
               permission="wallet.view"),
    ReportDecl("wallet.daily_close", N_("Card daily close"), spec="plugins.wallet.reports:DAILY_CLOSE",
               permission="wallet.view"),
)
TAB = TabSpec("wallet.settlement", N_("Card settlement"), factory="plugins.wallet.ui.settlement:build_tab",
              permission="wallet.settle", order=130)
VERB = CliCommand("settlement", N_("card settlement: mark a venue's period settled, summary, list"),
                  configure="plugins.wallet.settlement:configure_settle", run="plugins.wallet.settlement:run_settle",
                  permission="wallet.view")


@pytest.fixture(autouse=True)
def declared(monkeypatch: pytest.MonkeyPatch) -> bool:
    """The settlement reports, tab and verb in the wallet's manifest; True when added here."""
    from suite.hookspecs import hookimpl

    manifest = wallet_plugin.venue_suite_manifest()
    reports = tuple(d for d in REPORT_DECLS if d.id not in {r.id for r in manifest.reports})
    tabs = tuple(t for t in (TAB,) if t.id not in {t.id for t in manifest.tabs})
    verbs = tuple(c for c in (VERB,) if c.name not in {c.name for c in manifest.cli_commands})
    if not (reports or tabs or verbs):
        return False

    @hookimpl
    def venue_suite_manifest() -> Any:
        return dataclasses.replace(manifest, reports=tuple(manifest.reports) + reports,
                                   tabs=tuple(manifest.tabs) + tabs,
                                   cli_commands=tuple(manifest.cli_commands) + verbs)

    monkeypatch.setattr(wallet_plugin, "venue_suite_manifest", venue_suite_manifest)
    return True


# ---------------------------------------------------------------- the scenario


class Clock:
    """The services' clock, set to venue local times."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 1, tzinfo=UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, day: dt.date, hour: int, minute: int = 0) -> "Clock":
        self.now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)
        return self


def actor(name: str, *permissions: str) -> Actor:
    return Actor(user_id=uuid.uuid4(), username=name, display_name=name,
                 permissions=frozenset(permissions or ALL_WALLET))


def key() -> str:
    return f"test-{uuid.uuid4()}"


@dataclasses.dataclass
class Scenario:
    app: Any
    clock: Clock
    hq: WalletService
    park: WalletService
    settle: SettlementService
    alice: Actor
    bob: Actor
    finance: Actor


@pytest.fixture
def app(site: Site) -> Iterator[Any]:
    with site.app() as built:
        yield built


def build(app: Any) -> Scenario:
    clock = Clock()
    hq = WalletService(app.uow, app.identity, venue_code="HQ", terminal_code="T01", plugins=app.plugins,
                       settings=WalletSettings(merchant="FOOD1"), clock=clock)
    park = WalletService(app.uow, app.identity, venue_code="PARK", terminal_code="T02", plugins=app.plugins,
                         settings=WalletSettings(merchant="RIDES"), clock=clock)
    settle_clock = Clock().at(dt.date(2026, 11, 10), 12)
    settle = SettlementService(app.uow, app.identity, venue_code="HQ", terminal_code="T01", plugins=app.plugins,
                               clock=settle_clock)
    return Scenario(app, clock, hq, park, settle, actor("alice"), actor("bob"),
                    actor("fiona", "wallet.view", "wallet.settle"))


def play(s: Scenario) -> Scenario:
    admin, alice, bob, clock, hq, park = actor("admin"), s.alice, s.bob, s.clock, s.hq, s.park
    hq.create_card_type(admin, code="GOLD", name="Gold", discount_bp=1000, bonus_bp=1000, deposit=2000)
    hq.create_card_type(admin, code="TEN", name="Ten rides", kind="count")
    hq.set_settlement_price(admin, "GOLD", "PARK", rate_bp=8330)
    hq.set_settlement_price(admin, "TEN", "PARK", unit_price=1500)
    hq.set_settlement_price(admin, "TEN", "HQ", unit_price=1200)

    clock.at(D2, 9)
    hq.issue(alice, card_no="G1", type_code="GOLD", key=key(), holder_name="Li Lei")
    clock.at(D2, 9, 5)
    assert hq.top_up(alice, card_no="G1", key=key(), amount=10000)["bonus"] == 1000
    clock.at(D2, 10)
    park.issue(bob, card_no="C1", type_code="TEN", key=key())
    clock.at(D2, 10, 5)
    park.top_up(bob, card_no="C1", key=key(), amount=9000, counts=10)
    clock.at(D2, 12)
    paid = park.consume(bob, card_no="G1", key=key(), amount=3000, device="R1")
    assert (paid["charged"], paid["paid_gift"], paid["paid_main"]) == (2700, 1000, 1700)
    clock.at(D2, 13)
    park.consume(bob, card_no="C1", key=key(), counts=2, device="R1")
    clock.at(D2, 14)
    assert hq.consume(alice, card_no="G1", key=key(), amount=1000)["paid_main"] == 900
    clock.at(D3, 1, 30)
    hq.top_up(bob, card_no="G1", key=key(), amount=5000)
    clock.at(D3, 11)
    park.consume(alice, card_no="C1", key=key(), counts=3, device="R1")
    clock.at(D3, 15)
    paid = park.consume(alice, card_no="G1", key=key(), amount=2000, device="R1")
    assert (paid["charged"], paid["paid_gift"], paid["paid_main"]) == (1800, 500, 1300)
    clock.at(D3, 18)
    refund = hq.refund(alice, "G1", key=key())
    assert (refund["main"], refund["deposit"], refund["gift_forfeited"]) == (11100, 2000, 0)
    clock.at(D4, 10)
    hq.recycle(alice, "G1")
    hq.issue(alice, card_no="G1", type_code="TEN", key=key())
    hq.top_up(alice, card_no="G1", key=key(), amount=8000, counts=10)
    hq.consume(alice, card_no="G1", key=key(), counts=1)
    return s


@pytest.fixture
def scenario(app: Any) -> Scenario:
    return play(build(app))


def run(app: Any, report: str, who: Any = None, **params: Any) -> Any:
    from suite.reporting.runner import ReportRun

    return ReportRun(app, who or Actor.system("test"), report, params)


def rows(app: Any, report: str, **params: Any) -> list[tuple[Any, ...]]:
    return run(app, report, **params).page(0, 1000)


# ---------------------------------------------------------------- the reports


def test_the_venue_day_is_cut_in_its_zone() -> None:
    start, end = day_bounds((D3, D3), SHANGHAI)
    assert (start, end) == (dt.datetime(2026, 11, 2, 16, tzinfo=UTC), dt.datetime(2026, 11, 3, 16, tzinfo=UTC))
    assert [round_half_up(n, 10000) for n in (37_485_000, 37_484_999, 22_491_000, 0)] == [3749, 3748, 2249, 0]


def test_recharge_detail(scenario: Scenario) -> None:
    app = scenario.app
    report = run(app, "wallet.recharge_detail", period="2026-11-02..2026-11-03")
    assert report.page(0, 100) == [
        (dt.datetime(2026, 11, 2, 1, 5, tzinfo=UTC), D2, "HQ", "T01", "alice", "G1", 10000, 1000, 0, False),
        (dt.datetime(2026, 11, 2, 2, 5, tzinfo=UTC), D2, "PARK", "T02", "bob", "C1", 9000, 0, 10, False),
        # 01:30 in Shanghai on 3 November is still 2 November in UTC: the venue's day counts
        (dt.datetime(2026, 11, 2, 17, 30, tzinfo=UTC), D3, "HQ", "T01", "bob", "G1", 5000, 500, 0, False),
    ]
    assert report.count() == 3
    assert report.totals() == {"paid": 24000, "bonus": 1500, "counts": 10}
    assert report.daily_totals() == [(D2, 19000), (D3, 5000)]
    assert [r[5] for r in rows(app, "wallet.recharge_detail", period="2026-11-03")] == ["G1"]
    assert [r[2] for r in rows(app, "wallet.recharge_detail", period="2026-11-02")] == ["HQ", "PARK"]
    assert [r[6] for r in rows(app, "wallet.recharge_detail", operator="bob")] == [9000, 5000]
    assert [r[6] for r in rows(app, "wallet.recharge_detail", venue="HQ", terminal="T01")] == [10000, 5000, 8000]
    assert rows(app, "wallet.recharge_detail", terminal="T09") == []


def test_recharge_by_operator(scenario: Scenario) -> None:
    report = run(scenario.app, "wallet.recharge_by_operator", period="2026-11")
    assert report.page(0, 100) == [
        (D2, "HQ", "alice", 1, 10000, 1000, 0),
        (D2, "PARK", "bob", 1, 9000, 0, 10),
        (D3, "HQ", "bob", 1, 5000, 500, 0),
        (D4, "HQ", "alice", 1, 8000, 0, 10),
    ]
    assert report.totals() == {"topups": 4, "paid": 32000, "bonus": 1500, "counts": 20}
    assert report.daily_totals() == [(D2, 19000), (D3, 5000), (D4, 8000)]
    assert rows(scenario.app, "wallet.recharge_by_operator", operator="alice", venue="HQ") == [
        (D2, "HQ", "alice", 1, 10000, 1000, 0), (D4, "HQ", "alice", 1, 8000, 0, 10)]


def test_consumption_by_venue_merchant_and_device(scenario: Scenario) -> None:
    app = scenario.app
    report = run(app, "wallet.consumption", period="2026-11-02..2026-11-03")
    assert report.page(0, 100) == [
        (D2, "HQ", "FOOD1", "T01", "", 1, 900, 900, 0, 0, 0),
        (D2, "PARK", "RIDES", "T02", "R1", 2, 2700, 1700, 1000, 0, 2),
        (D3, "PARK", "RIDES", "T02", "R1", 2, 1800, 1300, 500, 0, 3),
    ]
    assert report.totals() == {"consumes": 5, "charged": 5400, "paid_main": 3900, "paid_gift": 1500,
                               "paid_points": 0, "counts": 5}
    assert report.daily_totals() == [(D2, 3600), (D3, 1800)]
    whole = run(app, "wallet.consumption", period="2026-11-02..2026-11-03", by="period")
    assert whole.page(0, 100) == [
        (None, "HQ", "FOOD1", "T01", "", 1, 900, 900, 0, 0, 0),
        (None, "PARK", "RIDES", "T02", "R1", 4, 4500, 3000, 1500, 0, 5),
    ]
    assert whole.daily_totals() == []
    assert [r[1:3] for r in rows(app, "wallet.consumption", merchant="RIDES", by="period")] == [("PARK", "RIDES")]
    assert rows(app, "wallet.consumption", period="2026-11-04", by="period") == [
        (None, "HQ", "FOOD1", "T01", "", 1, 0, 0, 0, 0, 1)]


def test_branch_net_signs_and_settlement_prices(scenario: Scenario) -> None:
    app = scenario.app
    report = run(app, "wallet.branch_net", period="2026-11-02..2026-11-03")
    # HQ: no price for GOLD there, so all of 9.00 is due to it; 150.00 + 20.00 - 131.00 - 9.00 = 30.00
    # PARK: 45.00 at 83.30 % = 37.485 -> 37.49, 5 counts at 15.00 = 75.00; 90.00 - 112.49 = -22.49
    assert report.page(0, 100) == [
        ("HQ", 15000, 900, 14100, 0, 900, 2000, 13100, 3000),
        ("PARK", 9000, 4500, 4500, 5, 11249, 0, 0, -2249),
    ]
    assert report.totals() == {"recharge": 24000, "consumption": 5400, "gross": 18600, "counts": 5,
                               "settlement": 12149, "deposits": 2000, "refunds": 13100, "net": 751}
    # G1 became a count card on 4 November: its earlier consumption keeps GOLD's price
    assert rows(app, "wallet.branch_net", period="2026-11") == [
        ("HQ", 23000, 900, 22100, 1, 2100, 2000, 13100, 9800),
        ("PARK", 9000, 4500, 4500, 5, 11249, 0, 0, -2249),
    ]
    assert rows(app, "wallet.branch_net", venue="PARK", period="2026-11-03") == [
        ("PARK", 0, 1800, -1800, 3, 5999, 0, 0, -5999)]


def test_daily_close_per_venue_and_terminal(scenario: Scenario) -> None:
    app = scenario.app
    close = run(app, "wallet.daily_close", day="2026-11-03")
    assert close.page(0, 100) == [
        ("HQ", "T01", 1, 5000, 0, 0, 0, 1, 13100, 0, -8100),
        ("PARK", "T02", 0, 0, 2, 1800, 3, 0, 0, 0, 0),
    ]
    assert close.totals() == {"topups": 1, "paid": 5000, "consumes": 2, "charged": 1800, "counts": 3,
                              "refunds": 1, "refunded": 13100, "deposits": 0, "net_cash": -8100}
    assert rows(app, "wallet.daily_close", day="2026-11-02") == [
        ("HQ", "T01", 1, 10000, 1, 900, 0, 0, 0, 2000, 12000),
        ("PARK", "T02", 1, 9000, 2, 2700, 2, 0, 0, 0, 9000),
    ]
    assert rows(app, "wallet.daily_close", day="2026-11-02", terminal="T02", venue="PARK") == [
        ("PARK", "T02", 1, 9000, 2, 2700, 2, 0, 0, 0, 9000)]
    assert rows(app, "wallet.daily_close", day="2026-11-05") == []


def test_xlsx_export_holds_the_totals(scenario: Scenario, tmp_path: Path) -> None:
    from suite.reporting.export import export_xlsx

    result = export_xlsx(run(scenario.app, "wallet.branch_net", period="2026-11-02..2026-11-03"),
                         tmp_path / "net.xlsx")
    assert (result.rows, result.cancelled) == (2, False)
    book = openpyxl.load_workbook(result.path)
    data = list(book["Data"].iter_rows(values_only=True))
    assert data[0][0] == "Venue" and data[0][-1] == "Net owed to head office"
    assert data[1] == ("HQ", 150.0, 9.0, 141.0, 0, 9.0, 20.0, 131.0, 30.0)
    assert data[2][0] == "PARK" and data[2][5] == 112.49 and data[2][-1] == -22.49
    assert data[3] == ("Total", 240.0, 54.0, 186.0, 5, 121.49, 20.0, 131.0, 7.51)
    assert book["Data"]["I2"].number_format == "#,##0.00"
    detail = export_xlsx(run(scenario.app, "wallet.recharge_detail", period="2026-11"), tmp_path / "topups.xlsx")
    chart = openpyxl.load_workbook(detail.path)["Chart"]
    assert [r for r in chart.iter_rows(min_row=2, values_only=True)] == [
        (dt.datetime(2026, 11, 2), 190.0), (dt.datetime(2026, 11, 3), 50.0), (dt.datetime(2026, 11, 4), 80.0)]


def test_reports_need_the_wallet_view_permission(scenario: Scenario) -> None:
    from suite.reporting.runner import available_reports

    ids = [r.id for r in available_reports(scenario.app, Actor.system("test"))]
    assert [d.id for d in REPORT_DECLS] == [i for i in ids if i in {d.id for d in REPORT_DECLS}]
    clerk = Actor(user_id=uuid.uuid4(), username="clerk", display_name="clerk",
                  permissions=frozenset({"reports.view", "reports.chain"}))
    with pytest.raises(PermissionDenied):
        run(scenario.app, "wallet.branch_net", who=clerk)


# ---------------------------------------------------------------- marking settled


def test_mark_settled_moves_the_split_and_refuses_overlaps(scenario: Scenario) -> None:
    s = scenario
    app, settle, fiona = s.app, s.settle, s.finance
    status = "wallet.settlement_status"
    period = "2026-11-02..2026-11-03"
    assert rows(app, status, period=period) == [
        ("HQ", 0, 0, 0, 5, 15000, 900, None),
        ("PARK", 0, 0, 0, 6, 9000, 4500, None),
    ]

    marked = settle.mark_settled(fiona, "PARK", D2, D2, note="first week")
    assert {k: marked[k] for k in ("venue", "date_from", "date_to", "settled_by", "events", "recharge",
                                   "consumption", "counts_used", "settlement", "net", "note")} == {
        "venue": "PARK", "date_from": "2026-11-02", "date_to": "2026-11-02", "settled_by": "fiona", "events": 4,
        "recharge": 9000, "consumption": 2700, "counts_used": 2, "settlement": 2249 + 3000, "net": 9000 - 5249,
        "note": "first week"}
    status_rows = rows(app, status, period=period)
    assert status_rows == [
        ("HQ", 0, 0, 0, 5, 15000, 900, None),
        ("PARK", 4, 9000, 2700, 2, 0, 1800, D2),
    ]
    assert run(app, status, period=period).totals() == {
        "settled_events": 4, "settled_recharge": 9000, "settled_consumption": 2700, "unsettled_events": 7,
        "unsettled_recharge": 15000, "unsettled_consumption": 2700}
    assert rows(app, "wallet.consumption", period=period, settled="settled") == [
        (D2, "PARK", "RIDES", "T02", "R1", 2, 2700, 1700, 1000, 0, 2)]
    assert [r[:2] for r in rows(app, "wallet.consumption", period=period, settled="unsettled")] == [
        (D2, "HQ"), (D3, "PARK")]
    assert [r[9] for r in rows(app, "wallet.recharge_detail", period=period)] == [False, True, False]
    assert rows(app, "wallet.branch_net", period=period, settled="unsettled")[1] == (
        "PARK", 0, 1800, -1800, 3, 5999, 0, 0, -5999)

    summary = settle.summary(fiona, "PARK", D2, D3)
    settled, unsettled = summary["states"]
    assert (settled["state"], settled["events"], settled["recharge"], settled["charged"], settled["counts_used"],
            settled["settlement"], settled["net"]) == ("settled", 4, 9000, 2700, 2, 5249, 3751)
    assert (unsettled["state"], unsettled["events"], unsettled["charged"], unsettled["paid_main"],
            unsettled["paid_gift"], unsettled["counts_used"], unsettled["settlement"], unsettled["net"]) == (
        "unsettled", 2, 1800, 1300, 500, 3, 5999, -5999)
    [terminal] = summary["terminals"]
    assert (terminal["terminal"], terminal["events"], terminal["settled_events"], terminal["unsettled_events"],
            terminal["recharge"], terminal["charged"]) == ("T02", 6, 4, 2, 9000, 4500)
    assert [(x["date_from"], x["events"]) for x in summary["settlements"]] == [("2026-11-02", 4)]

    # refusals: overlapping, empty, not over yet, a bad period; nothing is written
    with pytest.raises(Conflict) as overlap:
        settle.mark_settled(fiona, "PARK", dt.date(2026, 11, 1), D3)
    assert "2026-11-02" in overlap.value.message
    with pytest.raises(InvalidInput) as empty:
        settle.mark_settled(fiona, "PARK", dt.date(2026, 11, 5), dt.date(2026, 11, 6))
    assert "Nothing to settle" in empty.value.message
    with pytest.raises(InvalidInput) as early:
        settle.mark_settled(fiona, "HQ", D2, dt.date(2026, 11, 10))
    assert "2026-11-10" in early.value.message
    with pytest.raises(InvalidInput):
        settle.mark_settled(fiona, "HQ", D3, D2)
    with pytest.raises(InvalidInput):
        settle.mark_settled(fiona, "HQ", "11/02/2026", D2)

    # the rest of PARK and HQ's whole period; then an overlap at HQ
    assert settle.mark_settled(fiona, "PARK", "2026-11-03", "2026-11-03")["events"] == 2
    hq = settle.mark_settled(fiona, "HQ", D2, D3)
    assert (hq["events"], hq["recharge"], hq["consumption"], hq["settlement"], hq["net_cash"], hq["net"]) == (
        5, 15000, 900, 900, 3900, 3000)
    with pytest.raises(Conflict):
        settle.mark_settled(fiona, "HQ", D3, D4)
    assert rows(app, status, period=period) == [
        ("HQ", 5, 15000, 900, 0, 0, 0, D3),
        ("PARK", 6, 9000, 4500, 0, 0, 0, D3),
    ]
    assert [(x["venue"], x["date_from"], x["date_to"], x["events"]) for x in settle.list_settlements(fiona)] == [
        ("HQ", "2026-11-02", "2026-11-03", 5), ("PARK", "2026-11-03", "2026-11-03", 2),
        ("PARK", "2026-11-02", "2026-11-02", 4)]
    assert len(settle.list_settlements(fiona, "PARK")) == 2
    assert settle.venues(fiona) == ["HQ", "PARK"]

    with app.uow.read() as uow:
        session = uow.session
        assert session.scalar(select(Settlement).where(Settlement.venue_code == "HQ")).consume_total == 900
        audits = session.scalars(select(AuditEvent).where(AuditEvent.action == "wallet.settle")
                                 .order_by(AuditEvent.seq)).all()
        assert [(a.actor, a.target) for a in audits] == [("fiona", "PARK"), ("fiona", "PARK"), ("fiona", "HQ")]
        unsettled_left = session.scalars(select(CardEvent.at).where(CardEvent.settlement_id.is_(None))).all()
        assert unsettled_left and min(unsettled_left) >= day_bounds((D4, D4), SHANGHAI)[0]
        assert check(session).ok


def test_two_overlapping_settlements_at_once_one_wins(scenario: Scenario) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settle, fiona = scenario.settle, scenario.finance
    periods = [(D2, D3), (D3, D3), (D2, D2), (D2, D3)]

    def attempt(period: tuple[dt.date, dt.date]) -> str:
        try:
            settle.mark_settled(fiona, "PARK", *period)
        except Conflict:
            return "conflict"
        return "settled"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, periods))
    with scenario.app.uow.read() as uow:
        rows_ = uow.session.execute(select(Settlement.date_from, Settlement.date_to, Settlement.events)
                                    .where(Settlement.venue_code == "PARK")).all()
        settled = uow.session.scalars(select(CardEvent.settlement_id).where(CardEvent.venue_code == "PARK")).all()
    days = sorted((r.date_from, r.date_to) for r in rows_)
    # whatever the order, the settled periods never overlap and every PARK event is settled once
    assert all(a[1] < b[0] for a, b in zip(days, days[1:])), days
    assert outcomes.count("settled") == len(rows_) >= 1
    assert None not in settled and len(set(settled)) == len(rows_)
    assert sum(r.events for r in rows_) == 6


def test_settling_needs_the_settle_permission(scenario: Scenario) -> None:
    cashier = actor("carol", "wallet.view", "wallet.topup", "wallet.consume")
    with pytest.raises(PermissionDenied):
        scenario.settle.mark_settled(cashier, "PARK", D2, D2)
    with pytest.raises(PermissionDenied):
        scenario.settle.summary(actor("nobody", "wallet.topup"), "PARK", D2, D2)
    with scenario.app.uow.read() as uow:
        assert uow.session.scalar(select(Settlement.id)) is None
        denied = uow.session.scalars(select(AuditEvent.target).where(
            AuditEvent.action == "permission.denied", AuditEvent.actor == "carol")).all()
    assert denied == ["wallet.settle"]


def test_the_zone_follows_the_site(app: Any) -> None:
    from suite.reporting.spec import ReportContext

    def context(settings: Any) -> ReportContext:
        return ReportContext(session=None, actor=Actor.system("t"), venue_id=None,  # type: ignore[arg-type]
                             today=dt.date.today(), settings=settings)

    assert report_zone(context(app.settings)) == SHANGHAI  # the site's (default) zone
    london = dataclasses.replace(app.settings, plugins={"wallet": {"timezone": "Europe/London"}})
    assert report_zone(context(london)) == ZoneInfo("Europe/London")
    assert report_zone(context(None)) == SHANGHAI  # no site: the wallet's default


def test_cli_settlement_round_trip(site: Site, declared: bool) -> None:
    def ok(*args: str, env: dict[str, str] | None = None) -> Any:
        result = site.run("--json", *args, env=env)
        assert result.code == 0, result.err + result.out
        return result.json

    ok("cardtype", "add", "GOLD", "Gold", "--bonus-bp", "1000", "--deposit", "20")
    ok("card", "issue", "0001", "--type", "GOLD")
    ok("card", "topup", "0001", "--amount", "100.00")
    ok("card", "consume", "0001", "--amount", "30")
    # move the events to 10 November (noon in Shanghai), a day that is over
    with site.app() as built:
        with built.uow() as uow:
            uow.session.execute(update(CardEvent).values(at=dt.datetime(2026, 11, 10, 4, tzinfo=UTC)))
            uow.commit()

    summary = ok("settlement", "summary", "--venue", "HQ", "--period", "2026-11-10")
    assert [(s["state"], s["events"], s["recharge"], s["charged"], s["deposits"]) for s in summary["states"]] == [
        ("settled", 0, 0, 0, 0), ("unsettled", 3, 10000, 3000, 2000)]
    assert summary["terminals"][0]["terminal"] == "T01"
    marked = ok("settlement", "mark", "--period", "2026-11-10", "--note", "November 10")
    assert (marked["venue"], marked["events"], marked["recharge"], marked["consumption"], marked["net"]) == (
        "HQ", 3, 10000, 3000, 10000 + 2000 - 3000)
    again = site.run("--json", "settlement", "mark", "--venue", "HQ", "--period", "2026-11-01..2026-11-10")
    assert again.code == 1 and again.json["error"] == "conflict"
    listed = ok("settlement", "list")
    assert [(x["venue"], x["date_from"], x["note"]) for x in listed] == [("HQ", "2026-11-10", "November 10")]
    text = site.run("settlement", "list")
    assert text.code == 0 and "November 10" in text.out
    bad = site.run("--json", "settlement", "summary", "--period", "last week")
    assert bad.code == 1 and bad.json["error"] == "invalid_input" and "last week" in bad.json["message"]

    # a cashier may see the summary but not settle
    password = {"VENUE_SUITE_NEW_PASSWORD": "cashier-pass-1"}
    assert site.run("user", "add", "cashier", "--role", "salesperson", env=password).code == 0
    as_cashier = {"VENUE_SUITE_PASSWORD": "cashier-pass-1"}
    denied = site.run("--json", "--user", "cashier", "settlement", "mark", "--period", "2026-11-09", env=as_cashier)
    assert denied.code == 1 and denied.json["error"] == "permission_denied"
    assert ok("--user", "cashier", "settlement", "summary", "--period", "2026-11-10",
              env=as_cashier)["states"][0]["events"] == 3


def test_run_settle_with_a_namespace(app: Any) -> None:
    """The verb's functions without the host's parser (as the manifest will call them)."""
    parser = argparse.ArgumentParser()
    configure_settle(parser)
    args = parser.parse_args(["list", "--venue", "PARK"])
    assert run_settle(app, args) == []
    args = parser.parse_args(["summary", "--period", "2026-11"])
    assert run_settle(app, args)["venue"] == app.settings.terminal.venue_code
    with pytest.raises(InvalidInput):
        run_settle(app, argparse.Namespace(verb="settlement"))


# ---------------------------------------------------------------- the finance tab


def wait_for(root: Any, predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        root.update()
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_finance_tab_shows_and_marks_settled(app: Any, xvfb: str) -> None:
    from suite.ui.app import create_root
    from suite.ui.context import TabContext
    from suite.ui.events import EventPump

    from plugins.wallet.ui.settlement import SettlementTab, build_tab

    s = play(build(app))
    root, fonts = create_root()
    pump = EventPump(root, app=app)
    pump.start()

    class Shell:
        def rebuild_tabs(self) -> None:
            pass

    try:
        context = TabContext(app, s.finance, pump, Shell(), "wallet.settlement", fonts)
        tab = build_tab(root, context)
        assert isinstance(tab, SettlementTab)
        tab.service = s.settle  # the scenario's clock: 10 November
        tab.pack(fill="both", expand=True)
        wait_for(root, lambda: "PARK" in tab.venue.cget("values"))
        tab.venue.set("PARK")
        tab.set_period(D2, D3)
        tab.show()
        wait_for(root, lambda: tab.summary is not None and not tab.busy)
        assert [tab.figure(k) for k in ("events", "recharge", "charged", "settlement", "net")] == [
            ("0", "6", "6"), ("0.00", "90.00", "90.00"), ("0.00", "45.00", "45.00"), ("0.00", "112.49", "112.49"),
            ("0.00", "-22.49", "-22.49")]
        assert tab.terminals.rows()[0][:4] == ("T02", "6", "90.00", "45.00")

        tab.set_period(D2, D2)
        tab.note.insert(0, "week 45")
        tab.mark_button.invoke()  # the first press only asks to confirm
        assert "Confirm" in str(tab.mark_button.cget("text")) and tab.message.kind == "error"
        with app.uow.read() as uow:
            assert uow.session.scalar(select(Settlement.id)) is None
        tab.mark_button.invoke()
        wait_for(root, lambda: tab.message.kind == "ok" and not tab.busy and tab.settlements.rows())
        assert "PARK settled from 2026-11-02 to 2026-11-02: 4 events" in tab.message.text
        assert tab.settlements.rows()[0][0] == "2026-11-02 – 2026-11-02" and tab.settlements.rows()[0][-1] == "week 45"
        tab.set_period(D2, D3)
        tab.show()
        wait_for(root, lambda: not tab.busy and tab.figure("events")[0] == "4")
        assert tab.figure("recharge") == ("90.00", "0.00", "90.00")
        assert tab.figure("settlement") == ("52.49", "59.99", "112.48")  # each part rounded on its own
        assert tab.figure("net") == ("37.51", "-59.99", "-22.48")
        assert tab.terminals.rows()[0][:2] == ("T02", "2")
        shot = _screenshot(root, "wallet-settlement")

        tab.set_period(D2, D3)  # overlaps: refused in red, translated
        tab.mark_button.invoke()
        tab.mark_button.invoke()
        wait_for(root, lambda: not tab.busy and "already settled" in tab.message.text)
        assert tab.message.kind == "error"
        assert shot.stat().st_size > 10_000
    finally:
        pump.stop()
        root.destroy()


def _screenshot(root: Any, name: str) -> Path:
    """The window as docs/screenshots/NAME.png (and test-artifacts/NAME.png)."""
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        root.update()
        time.sleep(0.01)
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    path = artifacts / f"{name}.png"
    subprocess.run(["import", "-display", os.environ["DISPLAY"], "-window", "root", "-crop",
                    f"{root.winfo_width()}x{root.winfo_height()}+0+0", "+repage", str(path)], check=True, timeout=20)
    target = REPO / "docs" / "screenshots" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    return target
