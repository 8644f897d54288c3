"""The venue's gate emergency (G5) on SQLite and the real PostgreSQL server: the service, its
permissions and audit records, the migration, and ``venue-suite gate emergency`` driving a relay
board on a pseudo-terminal, with and without a database."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select

from gates.relay_frames import Frame, command_frame
from gates.simulator.pty import PtyPair
from gates.simulator.relay_board import RelayBoardSimulator
from suite.audit import AuditEvent, verify
from suite.core_plugin import PERMISSIONS
from suite.db.core_models import GateEmergency, Venue
from suite.emergency import EMERGENCY, EMERGENCY_RESET, EmergencyService, EmergencyState
from suite.errors import Conflict, InvalidInput, PermissionDenied
from suite.identity import Actor, IdentityService
from suite.identity.passwords import OWASP_MINIMUM, make_hasher
from tests.sites import Site, write_site

PASSWORD = "emergency-pass-1"
ADMIN_PASSWORD = "correct-horse-42"
FAST = make_hasher(OWASP_MINIMUM)
VENUE = "PARK1"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2030, 6, 1, 19, 30, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def identity(uow_factory) -> IdentityService:
    service = IdentityService(uow_factory, hasher=FAST)
    service.sync_roles(PERMISSIONS)  # the host's own declarations, default roles included
    system = Actor.system("tests")
    with uow_factory() as uow:
        uow.session.add(Venue(code=VENUE, name="River Park"))
        uow.commit()
    for username, role in (("attendant", "gate_attendant"), ("manager", "manager"), ("boss", "system_admin"),
                           ("seller", "salesperson")):
        service.create_user(system, username=username, password=PASSWORD, roles=(role,))
    return service


@pytest.fixture
def emergency(uow_factory, identity: IdentityService, clock: Clock) -> EmergencyService:
    return EmergencyService(uow_factory, identity, venue_code=VENUE.lower(), clock=clock)


def login(identity: IdentityService, username: str) -> Actor:
    return identity.authenticate(username, PASSWORD)


def events(uow_factory, prefix: str = "") -> list[AuditEvent]:
    with uow_factory.read() as uow:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if prefix:
            query = query.where(AuditEvent.action.startswith(prefix))
        found = list(uow.session.scalars(query))
        uow.session.expunge_all()  # plain values after the read transaction ends
        return found


def chain_ok(uow_factory) -> None:
    with uow_factory.read() as uow:
        result = verify(uow.session)
    assert result.ok, result.problems
    assert result.checked >= 1


def rows(uow_factory) -> list[GateEmergency]:
    with uow_factory.read() as uow:
        found = list(uow.session.scalars(select(GateEmergency)))
        uow.session.expunge_all()
        return found


# ---------------------------------------------------------------- permissions as declared

def test_permissions_are_declared_with_their_default_roles(identity: IdentityService) -> None:
    attendant, manager, boss, seller = (login(identity, n) for n in ("attendant", "manager", "boss", "seller"))
    assert attendant.has(EMERGENCY) and manager.has(EMERGENCY) and boss.has(EMERGENCY)
    assert not seller.has(EMERGENCY)
    # nobody but the system administrator resets the gates
    assert boss.has(EMERGENCY_RESET)
    assert not attendant.has(EMERGENCY_RESET) and not manager.has(EMERGENCY_RESET)


# ---------------------------------------------------------------- the service

def test_nothing_recorded_means_not_active(emergency: EmergencyService) -> None:
    assert emergency.state() == EmergencyState(VENUE, False)
    assert emergency.state().as_dict() == {"venue_code": VENUE, "active": False, "since": None, "source": "",
                                           "gate": "", "reason": "", "actor": ""}


def test_attendant_activates_audited_and_a_second_activation_keeps_since(
        emergency: EmergencyService, identity: IdentityService, uow_factory, clock: Clock) -> None:
    attendant = login(identity, "attendant")
    started = clock.now
    state = emergency.activate(attendant, reason="  smoke in hall 2  ")
    assert state == EmergencyState(VENUE, True, since=started, source="operator", gate="",
                                   reason="smoke in hall 2", actor="attendant")
    assert emergency.state() == state
    assert state.as_dict()["since"] == started.isoformat()

    (on,) = events(uow_factory, "gates.emergency.")
    assert (on.kind, on.action, on.actor, on.target) == ("security", "gates.emergency.on", "attendant", VENUE)
    assert on.details_dict == {"source": "operator", "gate": "", "reason": "smoke in hall 2",
                               "since": started.isoformat(), "already_active": False}
    with uow_factory.read() as uow:
        venue_id = uow.session.scalar(select(Venue.id).where(Venue.code == VENUE))
    assert on.venue_id == venue_id

    clock.advance(minutes=3)
    manager = login(identity, "manager")
    again = emergency.activate(manager, reason="second report", source="operator", gate="lane-4")
    assert again.since == started  # still the moment the emergency began
    assert (again.actor, again.reason, again.gate) == ("manager", "second report", "lane-4")
    second = events(uow_factory, "gates.emergency.")[-1]
    assert second.details_dict["already_active"] is True and second.actor == "manager"
    (row,) = rows(uow_factory)  # one row per venue, updated in place
    assert row.venue_code == VENUE and row.active and row.since == started and row.venue_id == venue_id
    chain_ok(uow_factory)


def test_only_the_administrator_resets(emergency: EmergencyService, identity: IdentityService, uow_factory,
                                       clock: Clock) -> None:
    attendant, manager, boss = (login(identity, n) for n in ("attendant", "manager", "boss"))
    started = clock.now
    emergency.activate(attendant, reason="fire drill")
    before = emergency.state()

    for who in (attendant, manager):
        with pytest.raises(PermissionDenied) as refused:
            emergency.reset(who, reason="all clear")
        assert refused.value.details["permission"] == EMERGENCY_RESET
    assert emergency.state() == before  # nothing changed
    denied = [e for e in events(uow_factory) if e.action == "permission.denied"]
    assert [(e.actor, e.target, e.kind) for e in denied] == [("attendant", EMERGENCY_RESET, "security"),
                                                            ("manager", EMERGENCY_RESET, "security")]
    assert [e.action for e in events(uow_factory, "gates.emergency.")] == ["gates.emergency.on"]

    clock.advance(minutes=20)
    state = emergency.reset(boss, reason="fire brigade: all clear")
    assert state == EmergencyState(VENUE, False)
    assert emergency.state() == EmergencyState(VENUE, False)
    off = events(uow_factory, "gates.emergency.")[-1]
    assert (off.action, off.kind, off.actor, off.target) == ("gates.emergency.off", "security", "boss", VENUE)
    assert off.details_dict == {"reason": "fire brigade: all clear", "since": started.isoformat(),
                                "source": "operator", "gate": "", "started_by": "attendant"}
    (row,) = rows(uow_factory)
    assert not row.active and row.reset_by == "boss" and row.reset_at == clock.now

    # a new emergency starts a new 'since'
    clock.advance(hours=1)
    assert emergency.activate(attendant, reason="again").since == clock.now
    chain_ok(uow_factory)


def test_reset_when_not_active_is_refused(emergency: EmergencyService, identity: IdentityService,
                                          uow_factory) -> None:
    boss = login(identity, "boss")
    with pytest.raises(Conflict, match="not in an emergency"):
        emergency.reset(boss)
    emergency.activate(boss, reason="test")
    emergency.reset(boss)
    with pytest.raises(Conflict, match="nothing to reset"):
        emergency.reset(boss)
    assert [e.action for e in events(uow_factory, "gates.emergency.")] == ["gates.emergency.on",
                                                                          "gates.emergency.off"]


def test_operator_needs_a_reason_and_the_permission(emergency: EmergencyService, identity: IdentityService,
                                                    uow_factory) -> None:
    attendant, seller = login(identity, "attendant"), login(identity, "seller")
    for blank in ("", "   "):
        with pytest.raises(InvalidInput, match="reason is required"):
            emergency.activate(attendant, reason=blank)
    with pytest.raises(InvalidInput, match="reason is required"):
        emergency.activate(attendant, reason="", source="cli")
    with pytest.raises(InvalidInput, match="Unknown emergency source"):
        emergency.activate(attendant, reason="x", source="magic")
    with pytest.raises(PermissionDenied):
        emergency.activate(seller, reason="I saw smoke")
    assert emergency.state().active is False and rows(uow_factory) == []
    denied = [e for e in events(uow_factory) if e.action == "permission.denied"]
    assert [(e.actor, e.target) for e in denied] == [("seller", EMERGENCY)]
    assert events(uow_factory, "gates.emergency.") == []


def test_fire_alarm_from_a_gate_loop(emergency: EmergencyService, uow_factory, clock: Clock) -> None:
    gate_loop = Actor.system("gate-3")
    state = emergency.activate(gate_loop, reason="", source="fire_alarm", gate="gate-3")
    assert state.active and state.source == "fire_alarm" and state.gate == "gate-3"
    assert state.reason == "Fire alarm at gate gate-3." and state.actor == "system:gate-3"
    assert state.since == clock.now
    (on,) = events(uow_factory, "gates.emergency.")
    assert on.actor == "system:gate-3" and on.details_dict["source"] == "fire_alarm"
    # the same gate's alarm again, a little later: one more line, same start
    clock.advance(seconds=30)
    again = emergency.activate(gate_loop, reason="", source="fire_alarm", gate="gate-3")
    assert again.since == state.since and len(events(uow_factory, "gates.emergency.")) == 2
    # the system resets too (a system actor holds every permission)
    assert emergency.reset(Actor.system("console:root")).active is False
    assert events(uow_factory, "gates.emergency.")[-1].actor == "system:console:root"
    chain_ok(uow_factory)


def test_two_gates_reporting_at_once_make_one_row(emergency: EmergencyService, uow_factory) -> None:
    """Two fire alarms racing for the venue's first row: both succeed, one row, two records."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def report(gate: str) -> None:
        try:
            barrier.wait(timeout=5)
            emergency.activate(Actor.system(gate), reason="", source="fire_alarm", gate=gate)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=report, args=(g,)) for g in ("gate-1", "gate-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    (row,) = rows(uow_factory)
    assert row.active and row.gate in ("gate-1", "gate-2")
    assert len(events(uow_factory, "gates.emergency.on")) == 2
    chain_ok(uow_factory)


def test_state_is_one_select(emergency: EmergencyService, identity: IdentityService, engine) -> None:
    from sqlalchemy import event

    emergency.activate(login(identity, "attendant"), reason="drill")
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert emergency.state().active is True
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1 and "gate_emergencies" in statements[0]


def test_from_app_uses_the_terminal_venue(tmp_path: Path) -> None:
    from suite.bootstrap import build_app
    from suite.config import load_settings

    site = write_site(tmp_path, f"sqlite:///{tmp_path / 'suite.db'}", terminal='venue_code = "ktv9"')
    with build_app(load_settings(site)) as app:
        service = EmergencyService.from_app(app)
        assert service.venue_code == "KTV9"
        assert service.state() == EmergencyState("KTV9", False)


# ---------------------------------------------------------------- the migration

def test_host_revision_follows_0001_and_plugin_branches_still_upgrade(db_url: str) -> None:
    """A database made before this revision, with the plugins' branches off ``0001_host``,
    gets the host's new revision alongside them."""
    from plugins.tickets import MIGRATIONS as TICKETS
    from plugins.wallet import MIGRATIONS as WALLET
    from sqlalchemy import inspect

    from suite.db.engine import create_database_engine
    from suite.db.migrate import _config, current_revisions, head_revisions, import_models, pending, upgrade

    locations = [WALLET, TICKETS]
    models = ("plugins.wallet.models", "plugins.tickets.models")
    engine = create_database_engine(db_url)
    try:
        import_models(models)
        cfg = _config(engine, locations)
        for target in ("0001_host", "wallet@head", "tickets@head"):  # what a terminal had before
            command.upgrade(cfg, target)
        before = current_revisions(engine)
        assert "0002_host_gate_emergency" not in before and pending(engine, locations)
        assert "gate_emergencies" not in inspect(engine).get_table_names()

        heads = head_revisions(engine, locations)
        assert "0002_host_gate_emergency" in heads and len(heads) == 3
        assert upgrade(engine, locations, models) == heads
        assert not pending(engine, locations)
        assert "gate_emergencies" in inspect(engine).get_table_names()
        assert set(before) < set(heads)  # the plugins' heads stay where they were
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the command line

@pytest.fixture
def site(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> Site:
    s = Site(write_site(tmp_path, db_url), db_url, capsys, monkeypatch)
    result = s.run("--json", "init", stdin=ADMIN_PASSWORD + "\n")
    assert result.code == 0, result.err
    for username, role in (("attendant", "gate_attendant"), ("seller", "salesperson")):
        added = s.run("user", "add", username, "--role", role, env={"VENUE_SUITE_NEW_PASSWORD": PASSWORD})
        assert added.code == 0, added.err
    return s


def password(value: str = PASSWORD) -> dict[str, str]:
    """The environment that answers ``--user``'s password prompt."""
    return {"VENUE_SUITE_PASSWORD": value}


def test_cli_on_status_off_round_trip(site: Site) -> None:
    assert site.run("--json", "license", "show").json["state"] == "missing"  # no licence needed
    status = site.run("--json", "gate", "emergency", "status")
    assert status.code == 0, status.err
    assert status.json["active"] is False and status.json["venue_code"] == "HQ"

    on = site.run("--json", "--user", "attendant", "gate", "emergency", "on", "--reason", "smoke at the exit",
                  env=password())
    assert on.code == 0, on.err
    assert on.json["recorded"] is True and on.json["active"] is True and on.json["gates"] == []
    assert (on.json["actor"], on.json["source"], on.json["reason"]) == ("attendant", "cli", "smoke at the exit")
    shown = site.run("--json", "gate", "emergency", "status").json
    assert shown["active"] is True and shown["since"] == on.json["since"]

    refused = site.run("--json", "--user", "attendant", "gate", "emergency", "off", env=password())
    assert refused.code == 1 and refused.json["error"] == "permission_denied"
    assert site.run("--json", "gate", "emergency", "status").json["active"] is True

    denied_on = site.run("--json", "--user", "seller", "gate", "emergency", "on", "--reason", "x",
                         env=password())
    assert denied_on.code == 0  # the gates of this terminal are released whoever asks (as 'gate release')
    assert denied_on.json["recorded"] is False and denied_on.json["error"] == "permission_denied"

    off = site.run("--json", "--user", "admin", "gate", "emergency", "off", "--reason", "all clear",
                   env=password(ADMIN_PASSWORD))
    assert off.code == 0, off.err
    assert off.json["active"] is False and off.json["gates"] == []
    again = site.run("--json", "gate", "emergency", "off")
    assert again.code == 1 and again.json["error"] == "conflict" and "not in an emergency" in again.json["message"]
    assert site.run("--json", "gate", "emergency", "status").json["active"] is False

    with pytest.raises(SystemExit) as usage:
        site.run("gate", "emergency", "on")
    assert usage.value.code == 2 and "--reason" in site.capsys.readouterr().err

    log = site.run("--json", "audit", "list", "--kind", "security", "--limit", "100").json
    actions = [(e["action"], e["actor"]) for e in reversed(log) if e["action"].startswith(("gates.", "permission."))]
    assert actions == [("gates.emergency.on", "attendant"), ("permission.denied", "attendant"),
                       ("permission.denied", "seller"), ("gates.emergency.off", "admin")]
    assert site.run("audit", "verify").code == 0


# ---------------------------------------------------------------- real gates on a pseudo-terminal

@pytest.fixture
def board() -> Iterator[tuple[PtyPair, RelayBoardSimulator]]:
    with PtyPair() as pair:
        sim = RelayBoardSimulator(pair.device_fd)
        sim.start()
        try:
            yield pair, sim
        finally:
            sim.stop()


def wait_until(predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def relay_site(tmp_path: Path, db_url: str, port: str) -> Path:
    path = write_site(tmp_path, db_url)
    path.write_text(path.read_text() + f'\n[devices.lane-1]\nkind = "relay-gate"\nport = "{port}"\n')
    return path


HOLD_ON = command_frame(1, True) + command_frame(2, True)
HOLD_OFF = command_frame(1, False) + command_frame(2, False)


def test_cli_on_holds_the_relays_and_off_releases_them(tmp_path: Path, db_url: str,
                                                       board: tuple[PtyPair, RelayBoardSimulator],
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pair, sim = board
    site = Site(relay_site(tmp_path, db_url, pair.port), db_url, capsys, monkeypatch)
    assert site.run("init", stdin=ADMIN_PASSWORD + "\n").code == 0

    on = site.run("--json", "gate", "emergency", "on", "--reason", "fire panel test")
    assert on.code == 0, on.err
    assert on.json["recorded"] is True and on.json["source"] == "cli"
    assert on.json["gates"][0]["gate"] == "lane-1" and on.json["gates"][0]["released"] is True
    wait_until(lambda: sim.relays == {1: True, 2: True})
    # the line opens with both relays off, then holds both on: exactly these frames
    assert sim.raw_bytes() == HOLD_OFF + HOLD_ON
    assert [f for _t, f in sim.frames][-2:] == [Frame(0xA0, 1, True), Frame(0xA0, 2, True)]
    assert not sim.bad_frames

    sent = len(sim.raw_bytes())
    off = site.run("--json", "gate", "emergency", "off", "--reason", "drill over")
    assert off.code == 0, off.err
    assert off.json["active"] is False and off.json["gates"][0]["reset"] is True
    wait_until(lambda: sim.relays == {1: False, 2: False})
    assert sim.raw_bytes()[sent:].endswith(HOLD_OFF)


def test_cli_on_without_a_database_still_releases(tmp_path: Path, board: tuple[PtyPair, RelayBoardSimulator],
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pair, sim = board
    url = "postgresql+psycopg://suite:hunter2@127.0.0.1:1/venue"  # nothing listens on port 1
    site = Site(relay_site(tmp_path, url, pair.port), url, capsys, monkeypatch)
    on = site.run("--json", "gate", "emergency", "on", "--reason", "fire alarm, the network is down")
    assert on.code == 0, on.err
    assert on.json["recorded"] is False and on.json["error"] == "database_unavailable"
    assert "not recorded" in on.json["message"] and "127.0.0.1:1" in on.json["message"]
    assert "hunter2" not in on.out + on.err
    assert on.json["gates"][0]["released"] is True
    wait_until(lambda: sim.relays == {1: True, 2: True})
    assert sim.raw_bytes().endswith(HOLD_ON)
    # what needs the database says so
    status = site.run("--json", "gate", "emergency", "status")
    assert status.code == 2 and status.json["error"] == "database_unavailable"
    off = site.run("--json", "gate", "emergency", "off")
    assert off.code == 2 and sim.relays == {1: True, 2: True}  # not reset without the record
