"""The gate loop end to end (G3, G4, G5): a simulated OSDP turnstile in its own process on a
pseudo-terminal, the real driver, the runner and the database.

scan at the reader -> decision -> relay pulse at the controller -> pass sensor -> entry committed;
nobody passes -> annulled and the ticket still valid; a group of 5 with 3 passing; a fire alarm
at one gate frees every gate and the venue's emergency is recorded; only a reset locks them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from gates.osdp import open_gate
from gates.simulator.process import SimulatorProcess, keyring_args
from gates.simulator.pty import PtyPair
from plugins.checkin.models import CheckinEntry, CheckinUsage
from plugins.checkin.runner import GateRunner, Lane
from suite.device_host import DeviceConfig
from suite.emergency import EmergencyService
from suite.identity.service import IdentityService
from tests.plugins.checkin_fixtures import VENUE, actor, checkin_schema, entrance, services, ticket

PASSAGE_MS = 1200
SENSOR_S = 0.25  # the simulator's pass sensor stays on 150 ms per person
WAIT = 8.0


def wait_until(predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


class Turnstile:
    """A simulated controller and the driver talking to it."""

    def __init__(self, gate_id: str, secret_store: Any, post: Callable[[object], None]) -> None:
        self.pair = PtyPair()
        self.sim = SimulatorProcess("turnstile", self.pair, keyring_args(secret_store, f"osdp-scbk:{gate_id}")
                                    + ["--window-ms", str(PASSAGE_MS), "--pass-after", "150"]).start()
        config = DeviceConfig(gate_id, "osdp-gate", {"port": self.pair.port, "passage_timeout_ms": PASSAGE_MS,
                                                     "pulse_ms": 100})
        self.gate = open_gate(config, post, secrets=secret_store)
        self.gate.start()
        wait_until(self.gate.inputs_known)

    def close(self) -> None:
        self.gate.stop()
        self.sim.stop()
        self.pair.close()


class Loop:
    """The runner on its own thread, fed by the drivers, as ``gate run`` does it."""

    def __init__(self, runner: GateRunner, events: queue.Queue[object], results: list[dict[str, Any]]) -> None:
        self.runner = runner
        self.events = events
        self.results = results
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_poll = 0.0
        while not self._stop.is_set():
            try:
                self.runner.handle(self.events.get(timeout=0.05))
            except queue.Empty:
                pass
            if time.monotonic() >= next_poll:
                self.runner.poll()
                next_poll = time.monotonic() + 0.2

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def result(self, kind: str, **match: Any) -> dict[str, Any]:
        return wait_until(lambda: next((r for r in list(self.results) if r.get("type") == kind
                                        and all(r.get(k) == v for k, v in match.items())), None))


@pytest.fixture
def site(engine: Any, secret_store: Any) -> Iterator[dict[str, Any]]:
    uow = checkin_schema(engine)
    setup, service = services(uow, clock=None, repeat_seconds=0)
    entrance(setup, channels=("L1", "L2"))
    events: queue.Queue[object] = queue.Queue()
    gates = {name: Turnstile(name, secret_store, events.put) for name in ("gate-L1", "gate-L2")}
    emergency = EmergencyService(uow, IdentityService(uow), venue_code=VENUE)
    lanes = [Lane("L1", "MAIN", "gate-L1"), Lane("L2", "MAIN", "gate-L2")]
    results: list[dict[str, Any]] = []
    runner = GateRunner(service, actor(), lanes, {k: t.gate for k, t in gates.items()}, emergency=emergency,
                        repeat_seconds=0, emit=results.append)
    loop = Loop(runner, events, results)
    yield {"uow": uow, "service": service, "gates": gates, "loop": loop, "emergency": emergency}
    loop.stop()
    for turnstile in gates.values():
        turnstile.close()


def entry(uow: Any, nonce: str) -> Any:
    with uow.read() as u:
        return u.session.execute(select(CheckinEntry.state, CheckinEntry.passed)
                                 .where(CheckinEntry.nonce == nonce)).one()


def usage(uow: Any, serial: str) -> Any:
    with uow.read() as u:
        return u.session.execute(select(CheckinUsage.admitted, CheckinUsage.reserved)
                                 .where(CheckinUsage.credential == f"ticket:{serial}")).one()


def test_scan_opens_the_relay_and_the_passage_commits_the_entry(site: dict[str, Any]) -> None:
    turnstile, loop = site["gates"]["gate-L1"], site["loop"]
    turnstile.sim.send("qr " + ticket("100000000001"))
    decision = loop.result("decision")
    assert decision["ok"] and decision["reason"] == "valid" and decision["persons"] == 1
    pulse = turnstile.sim.wait_for(lambda e: e.get("event") == "output" and e["control_code"] == 5)
    assert pulse["direction"] == "A"
    assert turnstile.sim.wait_for("led")["colour"] == "green"  # the relay first, then the light
    loop.result("passage", nonce=decision["nonce"])
    committed = entry(site["uow"], decision["nonce"])
    assert (committed.state, committed.passed) == ("admitted", 1)
    assert usage(site["uow"], "100000000001").admitted == 1


def test_refused_code_lights_red_and_opens_nothing(site: dict[str, Any]) -> None:
    turnstile, loop = site["gates"]["gate-L1"], site["loop"]
    forged = ticket("100000000002")[:-4] + "AAAA"
    turnstile.sim.send("qr " + forged)
    decision = loop.result("decision")
    assert not decision["ok"] and decision["reason"] == "forged"
    assert turnstile.sim.wait_for("led")["colour"] == "red"
    events = [e for e in turnstile.sim.drain() if e.get("event") == "output" and e.get("control_code") == 5]
    assert events == []


def test_nobody_passes_the_entry_is_annulled_and_the_ticket_stays_valid(site: dict[str, Any]) -> None:
    turnstile, loop = site["gates"]["gate-L1"], site["loop"]
    turnstile.sim.send("auto off")
    code = ticket("100000000003")
    turnstile.sim.send("qr " + code)
    decision = loop.result("decision")
    closed = loop.result("closed", nonce=decision["nonce"])
    assert closed["state"] == "annulled" and closed["passed"] == 0
    assert usage(site["uow"], "100000000003").reserved == 0
    again = site["service"].scan(actor(), channel="L1", code=code)
    assert again["ok"] and again["reason"] == "valid"


def test_group_of_five_with_three_passing_keeps_two_places(site: dict[str, Any]) -> None:
    turnstile, loop = site["gates"]["gate-L1"], site["loop"]
    turnstile.sim.send("auto off")
    code = ticket("100000000004", admits=5)
    turnstile.sim.send("qr " + code)
    decision = loop.result("decision")
    assert decision["persons"] == 5
    for person in range(1, 4):
        turnstile.sim.wait_for(lambda e: e.get("event") == "output" and e["control_code"] == 5)
        turnstile.sim.send("pass A")
        loop.result("passage", passed=person)
        time.sleep(SENSOR_S)  # the next person steps in once the sensor is clear
    closed = loop.result("closed", nonce=decision["nonce"])
    assert (closed["state"], closed["passed"]) == ("partial", 3)
    assert [r["passed"] for r in loop.results if r.get("type") == "passage"] == [1, 2, 3]
    used = usage(site["uow"], "100000000004")
    assert (used.admitted, used.reserved) == (3, 0)
    rest = site["service"].scan(actor(), channel="L2", code=code)
    assert rest["ok"] and rest["persons"] == 2


def test_fire_alarm_frees_every_gate_until_an_administrator_resets(site: dict[str, Any]) -> None:
    gates, loop, emergency = site["gates"], site["loop"], site["emergency"]
    gates["gate-L1"].sim.send("fire on")
    loop.result("emergency", active=True)
    wait_until(lambda: gates["gate-L2"].gate.state().mode == "emergency")
    state = emergency.state()
    assert state.active and state.source == "fire_alarm" and state.gate == "gate-L1"
    gates["gate-L2"].sim.wait_for(lambda e: e.get("event") == "output" and e["control_code"] == 2)
    gates["gate-L2"].sim.send("qr " + ticket("100000000005"))
    assert loop.result("decision")["reason"] == "emergency"  # validation suspended
    gates["gate-L2"].sim.send("pass A")
    free = loop.result("free")
    assert free["kind"] == "free" and free["passed"] == 1
    gates["gate-L1"].sim.send("fire off")
    emergency.reset(_administrator(), reason="drill over")
    loop.result("emergency", active=False)
    wait_until(lambda: gates["gate-L2"].gate.state().mode == "locked")


def _administrator() -> Any:
    from suite.identity.actor import ALL_PERMISSIONS, Actor

    return Actor(user_id=None, username="admin", display_name="admin", permissions=frozenset({ALL_PERMISSIONS}))
