"""Offline gates (G2) on SQLite and the real PostgreSQL server: the same verdicts online and
offline, two offline gates admitting one ticket, count cards taken at the upload, and a gate
that goes on while the database server is stopped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from plugins.checkin import rules
from plugins.checkin.desk import PROBE_SECONDS, GateDesk
from plugins.checkin.models import CheckinConflict, CheckinEntry, CheckinUsage
from plugins.checkin.offline import OfflineDesk, OfflineStore
from plugins.checkin.service import CheckinService
from plugins.tickets.models import Revocation
from plugins.wallet.services import WalletService
from suite.audit.models import AuditEvent
from suite.audit.verify import verify
from suite.db.engine import create_database_engine
from suite.db.schema import create_schema
from suite.db.uow import UnitOfWorkFactory
from suite.errors import PermissionDenied
from suite.identity.actor import Actor
from suite.identity.service import IdentityService
from suite.ledger import check
from suite.ledger.models import Entry
from tests.plugins.checkin_fixtures import NOW, VENUE, Clock, actor, checkin_schema, entrance, services, ticket

SYSTEM = Actor.system("venue set-up")
LOCAL = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai, the venue's day


class Venue:
    """A venue's database with its check-in services, its wallet and a settable clock."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = checkin_schema(uow.engine)
        self.clock = Clock()
        self.wallet = WalletService(self.uow, IdentityService(self.uow), venue_code=VENUE, clock=self.clock)
        self.setup, self.service = services(self.uow, self.clock, wallet=self.wallet)

    def gate(self, path: Path, terminal: str) -> OfflineDesk:
        """An offline desk on its own file, refreshed from the database now."""
        store = OfflineStore(path, zone=self.service.settings.zone)
        store.refresh(self.service.snapshot(actor()))
        return OfflineDesk(store, venue_code=VENUE, terminal_code=terminal, settings=self.service.settings,
                           clock=self.clock)

    def card_type(self, code: str, **fields: Any) -> None:
        self.wallet.create_card_type(SYSTEM, code=code, name=code.title(), **fields)

    def card(self, card_no: str, type_code: str, *, uid: str | None = None, counts: int = 0,
             validity_days: int | None = None) -> None:
        self.wallet.issue(SYSTEM, card_no=card_no, type_code=type_code, key=f"issue-{card_no}", uid=uid,
                          validity_days=validity_days)
        if counts:
            self.wallet.top_up(SYSTEM, card_no=card_no, key=f"counts-{card_no}", counts=counts)

    def counts_left(self, card_no: str) -> int:
        return int(self.wallet.query(SYSTEM, card_no)["balances"]["counts"])

    def rows(self, model: Any) -> int:
        with self.uow.read() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(model)))

    def state(self) -> tuple[Any, ...]:
        """What a replayed upload must not change: entries, usage, conflicts, journal, audit."""
        with self.uow.read() as uow:
            usage = sorted(tuple(r) for r in uow.session.execute(select(
                CheckinUsage.list_code, CheckinUsage.credential, CheckinUsage.admitted, CheckinUsage.reserved,
                CheckinUsage.exited, CheckinUsage.inside)))
        return (self.rows(CheckinEntry), usage, self.rows(CheckinConflict), self.rows(Entry), self.rows(AuditEvent))


@pytest.fixture
def venue(uow_factory: UnitOfWorkFactory) -> Venue:
    return Venue(uow_factory)


def forged(code: str) -> str:
    """The code with one character of its signature changed (not the last: its low bits are padding)."""
    head, signature = code.rsplit(".", 1)
    swapped = "B" if signature[10] != "B" else "C"
    return f"{head}.{signature[:10]}{swapped}{signature[11:]}"


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=LOCAL).astimezone(dt.timezone.utc)


# ---------------------------------------------------------------- the same verdicts online and offline


def lay_out(venue: Venue) -> None:
    """Lists, channels, cards, plain codes and a revoked ticket for the scenarios below."""
    setup = venue.setup
    entrance(setup, code="MAIN", channels=("L1",), ticket_types="ADULT,GROUP", halls="H1", card_types="MEMBER",
             daily_open="10:00")
    entrance(setup, code="PREMIERE", channels=("P1",), sessions="S9")
    entrance(setup, code="PARK", channels=("K1",), entries="per_day", per_day=1)
    entrance(setup, code="GYM", channels=("GI",), card_types="MEMBER", exit_tracking=True, anti_passback=True,
             reentry=True)
    setup.add_channel(actor(), code="GO", name="Gym exit", list_code="GYM", direction="out")
    entrance(setup, code="POOL", channels=("W1",), card_types="TEN", entries="multiple", plain_codes=False)
    entrance(setup, code="CREW", channels=(), staff=True, plain_codes=False)
    setup.add_channel(actor(), code="ST", name="Staff door", list_code="CREW", staff=True)
    venue.card_type("MEMBER")
    venue.card_type("GUEST")
    venue.card_type("TEN", kind="count")
    venue.card_type("STAFF", category="operator")
    venue.card("M-1", "MEMBER", uid="04A1B2C3")
    venue.card("M-LOST", "MEMBER")
    venue.wallet.block(SYSTEM, "M-LOST", reason="reported lost")
    venue.card("M-OLD", "MEMBER", validity_days=1)
    venue.card("GUEST-1", "GUEST")
    venue.card("TEN-2", "TEN", counts=2)
    venue.card("TEN-0", "TEN")
    venue.card("STAFF-1", "STAFF")
    setup.add_code(actor(), code="GUESTS-2", lists="MAIN", admits=2)
    setup.add_code(actor(), code="VOUCHER-X", lists="MAIN")
    setup.set_code_state(actor(), "VOUCHER-X", "blocked", reason="stolen batch")
    setup.add_code(actor(), code="VOUCHER-OLD", lists="MAIN", valid_until=NOW - dt.timedelta(hours=1))
    with venue.uow() as uow:
        uow.session.add(Revocation(serial="T-REFUND", reason="refund", revoked_at=NOW))
        uow.commit()


HOUR = dt.timedelta(hours=1)
PACKAGE = ticket("PK-1", session="package:P1", starts=NOW - 24 * HOUR, minutes=10 * 24 * 60)

# steps: ("scan", channel, code, reason, persons) | ("pass", n) | ("close",) | ("at", when) | ("later", seconds)
SCENARIOS: dict[str, list[tuple[Any, ...]]] = {
    "single ticket, then used": [
        ("scan", "L1", ticket("T-1"), "valid", 1), ("pass", 1), ("later", 10),
        ("scan", "L1", ticket("T-1"), "already_used", 0)],
    "the same code again at once": [
        ("scan", "L1", ticket("T-2"), "valid", 1), ("scan", "L1", ticket("T-2"), "valid", 1), ("pass", 1)],
    "group of 5, two now and three later": [
        ("scan", "L1", ticket("G-5", admits=5, ticket_type="GROUP"), "valid", 5), ("pass", 2), ("close",),
        ("later", 10), ("scan", "L1", ticket("G-5", admits=5, ticket_type="GROUP"), "valid", 3), ("pass", 3),
        ("later", 10), ("scan", "L1", ticket("G-5", admits=5, ticket_type="GROUP"), "already_used", 0)],
    "a group code": [("scan", "L1", "GUESTS-2", "valid", 2), ("pass", 2)],
    "another venue's ticket": [("scan", "L1", ticket("T-3", venue="OTHER-01"), "wrong_entrance", 0)],
    "a ticket type not on the list": [("scan", "L1", ticket("T-4", ticket_type="VIP"), "wrong_entrance", 0)],
    "another hall": [("scan", "L1", ticket("T-5", hall="H2"), "wrong_entrance", 0)],
    "another session": [("scan", "P1", ticket("T-6"), "wrong_entrance", 0)],
    "a card type not admitted": [("scan", "L1", "GUEST-1", "wrong_entrance", 0)],
    "a member card at the staff door": [("scan", "ST", "M-1", "wrong_entrance", 0)],
    "a staff card at the staff door": [("scan", "ST", "STAFF-1", "valid", 1), ("pass", 1)],
    "before the doors open": [("scan", "L1", ticket("T-7", starts=NOW + 2 * HOUR), "too_early", 0)],
    "a card before the daily opening": [("at", local(22, 9)), ("scan", "L1", "04a1b2c3", "too_early", 0)],
    "after the session": [("scan", "L1", ticket("T-8", starts=NOW - 3 * HOUR), "too_late", 0)],
    "a lost card": [("scan", "L1", "M-LOST", "blacklisted", 0)],
    "a blocked code": [("scan", "L1", "VOUCHER-X", "blacklisted", 0)],
    "a card past its validity": [("later", 3 * 24 * 3600), ("scan", "L1", "M-OLD", "expired", 0)],
    "a package past its end": [("scan", "K1", ticket("PK-2", session="package:P1", starts=NOW - 48 * HOUR),
                                "expired", 0)],
    "a code past its end": [("scan", "L1", "VOUCHER-OLD", "expired", 0)],
    "a refunded ticket": [("scan", "L1", ticket("T-REFUND"), "refunded", 0)],
    "an altered signature": [("scan", "L1", forged(ticket("T-9")), "forged", 0)],
    "an unknown code": [("scan", "L1", "NO-SUCH-CODE", "unknown", 0)],
    "anti-passback, exit and re-entry": [
        ("scan", "GI", "M-1", "valid", 1), ("pass", 1), ("later", 10), ("scan", "GI", "M-1", "passback", 0),
        ("scan", "GO", "M-1", "valid", 1), ("pass", 1), ("later", 10), ("scan", "GI", "M-1", "valid", 1),
        ("pass", 1)],
    "a count card with no counts": [("scan", "W1", "TEN-0", "no_counts", 0)],
    "a count card used up": [
        ("scan", "W1", "TEN-2", "valid", 1), ("pass", 1), ("later", 10), ("scan", "W1", "TEN-2", "valid", 1),
        ("pass", 1), ("later", 10), ("scan", "W1", "TEN-2", "no_counts", 0)],
    "once a day, across midnight": [
        ("at", local(22, 23, 50)), ("scan", "K1", PACKAGE, "valid", 1), ("pass", 1), ("later", 300),
        ("scan", "K1", PACKAGE, "already_used", 0), ("at", local(23, 0, 5)), ("scan", "K1", PACKAGE, "valid", 1),
        ("pass", 1)],
}


def play(desk: CheckinService | OfflineDesk, clock: Clock, steps: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Run the steps from NOW; the verdict of every scan (reason, persons, repeat)."""
    clock.now = NOW
    who = actor()
    verdicts: list[tuple[Any, ...]] = []
    last = ""
    for step in steps:
        if step[0] == "at":
            clock.now = step[1]
        elif step[0] == "later":
            clock.advance(seconds=step[1])
        elif step[0] == "scan":
            result = desk.scan(who, channel=step[1], code=step[2])
            verdicts.append((result["reason"], result["persons"], result["repeat"]))
            last = result["nonce"]
        elif step[0] == "pass":
            for _person in range(step[1]):
                desk.passage(who, nonce=last)
        else:
            desk.close(who, nonce=last)
    return verdicts


def test_the_same_verdicts_online_and_offline(venue: Venue, tmp_path: Path) -> None:
    lay_out(venue)
    offline = venue.gate(tmp_path / "gate.sqlite", "G09")
    covered = set()
    for name, steps in SCENARIOS.items():
        expected = [(step[3], step[4]) for step in steps if step[0] == "scan"]
        online = play(venue.service, venue.clock, steps)
        assert [verdict[:2] for verdict in online] == expected, name
        assert play(offline, venue.clock, steps) == online, name
        covered.update(reason for reason, _persons in expected)
    assert covered == set(rules.REASONS) - {rules.EMERGENCY}
    # the offline decisions are what the gate uploads: all closed, none left open
    assert offline.store.status()["open"] == 0
    assert all(item["op"] == "entry" for item in offline.store.pending_uploads())
    offline.store.close()


def test_a_refresh_keeps_what_the_gate_admitted_and_a_sweep_closes_what_was_left_open(venue: Venue,
                                                                                      tmp_path: Path) -> None:
    entrance(venue.setup, channels=("L1",))
    gate = venue.gate(tmp_path / "gate.sqlite", "G01")
    who = actor()
    admitted = gate.scan(who, channel="L1", code=ticket("T-1"))
    gate.passage(who, nonce=admitted["nonce"], index=1)
    left_open = gate.scan(who, channel="L1", code=ticket("G-3", admits=3))
    gate.passage(who, nonce=left_open["nonce"], index=1)
    gate.store.refresh(venue.service.snapshot(who))               # the database knows of neither
    venue.clock.advance(seconds=10)
    assert gate.scan(who, channel="L1", code=ticket("T-1"))["reason"] == "already_used"
    assert gate.scan(who, channel="L1", code=ticket("G-3", admits=3))["reason"] == "already_used"  # 2 held
    assert gate.store.sweep(venue.clock.now, dt.timedelta(seconds=5)) == [left_open["nonce"]]
    assert gate.store.entry(left_open["nonce"])["state"] == "partial"
    again = gate.scan(who, channel="L1", code=ticket("G-3", admits=3))
    assert (again["reason"], again["persons"]) == ("valid", 2)        # the two places given back
    with pytest.raises(PermissionDenied, match="You do not have permission: Validate tickets and cards at a gate"):
        gate.scan(actor("checkin.view"), channel="L1", code=ticket("T-2"))
    gate.store.close()


# ---------------------------------------------------------------- uploads and conflicts


def test_two_offline_gates_admit_one_ticket_and_the_conflict_is_reported(venue: Venue, tmp_path: Path) -> None:
    entrance(venue.setup, channels=("L1", "L2"))
    code = ticket("T-TWICE")
    who = actor()
    gates = [venue.gate(tmp_path / "gate-1.sqlite", "G01"), venue.gate(tmp_path / "gate-2.sqlite", "G02")]
    nonces = []
    for gate, channel in zip(gates, ("L1", "L2")):
        result = gate.scan(who, channel=channel, code=code)
        assert result["ok"] and result["offline"] and result["persons"] == 1
        assert gate.passage(who, nonce=result["nonce"], index=1)["state"] == "admitted"
        nonces.append(result["nonce"])
        venue.clock.advance(seconds=30)
    items = [gate.store.pending_uploads() for gate in gates]
    assert [len(i) for i in items] == [1, 1]

    first = gates[0].store.drain(venue.service, who)
    assert (first["applied"], first["skipped"], first["conflicts"], first["left"]) == (1, 0, [], 0)
    second = gates[1].store.drain(venue.service, who)
    assert second["applied"] == 1 and [c["reason"] for c in second["conflicts"]] == ["already_used"]
    assert gates[1].store.status()["conflicts"] == 1 and gates[1].recent(who)[0]["conflict"]

    [conflict] = venue.service.conflicts(who)
    assert (conflict["nonce"], conflict["reason"], conflict["terminal"], conflict["passed"]) == (
        nonces[1], "already_used", "G02", 1)
    with venue.uow.read() as uow:
        session = uow.session
        alerts = session.scalars(select(AuditEvent).where(AuditEvent.kind == "security",
                                                          AuditEvent.action == "checkin.conflict")).all()
        assert [a.target for a in alerts] == ["ticket:T-TWICE"]
        assert verify(session).ok
        entries = session.execute(select(CheckinEntry.nonce, CheckinEntry.offline, CheckinEntry.conflict,
                                         CheckinEntry.terminal_code)
                                  .where(CheckinEntry.credential == "ticket:T-TWICE")).all()
        assert sorted(tuple(e) for e in entries) == sorted([(nonces[0], True, False, "G01"),
                                                            (nonces[1], True, True, "G02")])
        usage = session.get_one(CheckinUsage, ("MAIN", "ticket:T-TWICE"))
        assert (usage.admitted, usage.reserved) == (2, 0)

    before = venue.state()
    assert [gate.store.drain(venue.service, who)["applied"] for gate in gates] == [0, 0]
    replay = venue.service.upload(who, items[0] + items[1])
    assert (replay["applied"], replay["skipped"], replay["conflicts"]) == (0, 2, [])
    assert venue.state() == before
    for gate in gates:
        gate.store.close()


def test_queued_passages_go_up_and_a_refused_item_waits_without_holding_the_others(venue: Venue,
                                                                                  tmp_path: Path) -> None:
    entrance(venue.setup, channels=("L1", "L2"))
    gate = venue.gate(tmp_path / "gate.sqlite", "G01")
    who = actor()
    online = venue.service.scan(who, channel="L1", code=ticket("G-2", admits=2))
    gate.store.note_online(online, terminal="G01", operator=who.username)
    assert gate.store.queue_passage(online["nonce"], None, venue.clock.now)["passed"] == 1
    assert gate.store.queue_passage(online["nonce"], 1, venue.clock.now)["replayed"]
    assert gate.store.queue_close(online["nonce"], venue.clock.now)["state"] == "partial"
    offline = gate.scan(who, channel="L2", code=ticket("T-2"))
    gate.passage(who, nonce=offline["nonce"], index=1)
    venue.setup.edit_channel(actor(), "L2", active=False)

    report = gate.store.drain(venue.service, who)
    assert (report["applied"] + report["skipped"], report["left"]) == (2, 1)  # the queued passage and close
    assert [(h["nonce"], h["error"]) for h in report["held"]] == [(offline["nonce"], "not_found")]
    assert gate.store.status()["held"] == 1
    central = venue.service.entry(who, online["nonce"])
    assert (central["state"], central["passed"]) == ("partial", 1)

    venue.setup.edit_channel(actor(), "L2", active=True)
    again = gate.store.drain(venue.service, who)
    assert (again["applied"], again["held"], again["left"]) == (1, [], 0)
    assert venue.service.entry(who, offline["nonce"])["state"] == "admitted"
    gate.store.close()


def test_a_count_card_used_offline_is_taken_at_the_upload(venue: Venue, tmp_path: Path) -> None:
    entrance(venue.setup, code="POOL", channels=("W1", "W2"), card_types="TEN", entries="multiple")
    venue.card_type("TEN", kind="count")
    venue.card("TEN-1", "TEN", counts=1)
    who = actor()
    gates = [venue.gate(tmp_path / "gate-1.sqlite", "G01"), venue.gate(tmp_path / "gate-2.sqlite", "G02")]
    for gate, channel in zip(gates, ("W1", "W2")):
        result = gate.scan(who, channel=channel, code="TEN-1")
        assert (result["reason"], result["card_kind"]) == ("valid", "count")
        gate.passage(who, nonce=result["nonce"], index=1)
        assert gate.scan(who, channel=channel, code="TEN-1", at=venue.clock.now + dt.timedelta(seconds=10))[
            "reason"] == "no_counts"                                 # this gate took the only count
    journal = venue.rows(Entry)
    first_items = gates[0].store.pending_uploads()

    assert gates[0].store.drain(venue.service, who)["conflicts"] == []
    assert venue.counts_left("TEN-1") == 0 and venue.rows(Entry) == journal + 1
    assert venue.service.upload(who, first_items)["skipped"] == len(first_items)
    assert venue.counts_left("TEN-1") == 0 and venue.rows(Entry) == journal + 1

    second = gates[1].store.drain(venue.service, who)
    assert [c["reason"] for c in second["conflicts"]] == ["no_counts"]
    assert venue.counts_left("TEN-1") == 0 and venue.rows(Entry) == journal + 1
    assert [c["reason"] for c in venue.service.conflicts(who)] == ["no_counts"]
    with venue.uow.read() as uow:
        assert check(uow.session).ok
    for gate in gates:
        gate.store.close()


# ---------------------------------------------------------------- the database server stops


def test_a_gate_goes_on_while_the_database_server_is_stopped(own_pg: Any, tmp_path: Path) -> None:
    engine = create_database_engine(own_pg.create_database("gates"))
    create_schema(engine)
    venue = Venue(UnitOfWorkFactory(engine))
    entrance(venue.setup, channels=("L1",))
    desk = GateDesk(venue.service, OfflineStore(tmp_path / "gate.sqlite", zone=venue.service.settings.zone))
    who = actor()
    assert desk.sync(who)["refreshed_at"] is not None and desk.online
    online = desk.scan(who, channel="L1", code=ticket("T-ON"))
    desk.passage(who, nonce=online["nonce"], index=1)
    group = desk.scan(who, channel="L1", code=ticket("G-2", admits=2))
    desk.passage(who, nonce=group["nonce"], index=1)
    assert not online["offline"] and group["persons"] == 2

    own_pg.pause()
    venue.clock.advance(seconds=10)
    offline = desk.scan(who, channel="L1", code=ticket("T-OFF"))
    assert offline["ok"] and offline["offline"] and not desk.online
    assert desk.passage(who, nonce=offline["nonce"], index=1)["state"] == "admitted"
    queued = desk.passage(who, nonce=group["nonce"], index=2)            # decided online, passed offline
    assert queued["queued"] and queued["state"] == "admitted"
    assert desk.scan(who, channel="L1", code=ticket("T-ON"))["reason"] == "already_used"
    assert desk.counts(who)["lists"]["MAIN"]["in"] == 4
    venue.clock.advance(seconds=PROBE_SECONDS)
    down = desk.sync(who)
    assert not down["online"] and down["waiting"] == 3                   # 2 offline entries, 1 passage

    own_pg.resume()
    for _attempt in range(3):
        venue.clock.advance(seconds=PROBE_SECONDS)
        if desk.sync(who)["online"]:
            break
    status = desk.status()
    assert status["online"] and status["waiting"] == 0 and status["last_upload"]["applied"] == 3
    counts = venue.service.counts(who)["lists"]["MAIN"]
    assert (counts["in"], counts["refused"]) == (4, 1)
    assert venue.service.entry(who, group["nonce"])["state"] == "admitted"
    desk.store.close()
    engine.dispose()
