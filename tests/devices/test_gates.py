"""Gates against the lab: the OSDP driver (libosdp control panel) talks to the simulated
turnstile (libosdp peripheral, in its own process) over a pty pair with a secure channel whose
key both read from the same keyring; the relay gate talks to the simulated relay board."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gates.osdp import OsdpGate, open_gate as open_osdp_gate
from gates.relay import RelayGate
from gates.relay_frames import Frame, FrameParser, Problem, command_frame, input_frame
from gates.simulator.process import SimulatorProcess, keyring_args
from gates.simulator.pty import PtyPair
from gates.simulator.relay_board import RelayBoardSimulator
from suite.device_host import DeviceConfig, DeviceError
from suite.errors import InvalidInput
from suite.events import GateEvent, ScanEvent

PASSAGE_MS = 1000


class Events:
    """What a driver posted, in order."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()
        self.seen: list[Any] = []

    def post(self, event: Any) -> None:
        self.queue.put(event)

    def wait(self, match: Callable[[Any], bool], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.queue.get(timeout=0.05)
            except queue.Empty:
                continue
            self.seen.append(event)
            if match(event):
                return event
        raise AssertionError(f"no matching event within {timeout} s; seen {self.seen}")

    def gate(self, kind: str, detail: str | None = None, timeout: float = 5.0) -> GateEvent:
        return self.wait(lambda e: isinstance(e, GateEvent) and e.kind == kind
                         and (detail is None or e.detail == detail), timeout)

    def settle(self, seconds: float) -> list[Any]:
        """Everything posted during the next ``seconds``."""
        time.sleep(seconds)
        got = [self.queue.get_nowait() for _n in range(self.queue.qsize())]
        self.seen.extend(got)
        return got


def is_output(direction: str, code: int) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("event") == "output" and e["direction"] == direction and e["control_code"] == code


# ------------------------------------------------------------------ OSDP

@pytest.fixture
def pair() -> Iterator[PtyPair]:
    with PtyPair() as the_pair:
        yield the_pair


@pytest.fixture
def turnstile(pair: PtyPair, secret_store: Any) -> Iterator[SimulatorProcess]:
    sim = SimulatorProcess("turnstile", pair, keyring_args(secret_store, "osdp-scbk:gate-1")
                           + ["--window-ms", str(PASSAGE_MS), "--pass-after", "200"]).start()
    yield sim
    sim.stop()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def osdp_gate(pair: PtyPair, turnstile: SimulatorProcess, secret_store: Any, events: Events) -> Iterator[OsdpGate]:
    config = DeviceConfig("gate-1", "osdp-gate", {"port": pair.port, "passage_timeout_ms": PASSAGE_MS})
    gate = open_osdp_gate(config, events.post, secrets=secret_store)
    gate.start()
    try:
        events.gate("online")
        turnstile.wait_for(lambda e: e.get("event") == "secure_channel" and e["active"])
        wait_until(gate.inputs_known)  # the controller's first input report
        yield gate
    finally:
        gate.stop()


def test_secure_channel_comes_up_with_the_keyring_key(osdp_gate: OsdpGate, secret_store: Any) -> None:
    assert osdp_gate.health() == (True, "")
    assert osdp_gate.state().online and osdp_gate.state().mode == "locked"
    assert len(secret_store.get_or_create_key("osdp-scbk:gate-1", 16)) == 16


def test_open_once_pulses_the_relay_and_the_passage_is_counted(osdp_gate: OsdpGate, turnstile: SimulatorProcess,
                                                               events: Events) -> None:
    assert osdp_gate.open_once("a") is True
    pulse = turnstile.wait_for(is_output("A", 5))
    assert pulse["timer_ms"] == 300
    assert events.gate("opened").detail == "A"
    passage = turnstile.wait_for("passage")
    assert passage["direction"] == "A" and passage["authorised"] is True
    assert events.gate("passed").detail == "A"
    assert osdp_gate.state().passed == {"A": 1, "B": 0} and osdp_gate.state().pending == {"A": 0, "B": 0}
    assert not [e for e in events.settle(PASSAGE_MS / 1000 + 0.3) if isinstance(e, GateEvent) and e.kind == "not_passed"]


def test_nobody_passes_no_passed_event_and_the_gate_locks_again(osdp_gate: OsdpGate, turnstile: SimulatorProcess,
                                                                events: Events) -> None:
    turnstile.send("auto off")
    osdp_gate.open_once("B")
    turnstile.wait_for(is_output("B", 5))
    not_passed = events.gate("not_passed", timeout=PASSAGE_MS / 1000 + 1)
    assert not_passed.detail == "B"
    assert not [e for e in events.seen if isinstance(e, GateEvent) and e.kind == "passed"]
    turnstile.wait_for(is_output("B", 1))  # the control panel locks it again
    turnstile.send("state")
    assert turnstile.wait_for("state")["mode"]["B"] == "locked"
    assert osdp_gate.state().pending == {"A": 0, "B": 0}


def test_a_group_opens_once_per_person(osdp_gate: OsdpGate, turnstile: SimulatorProcess, events: Events) -> None:
    osdp_gate.open_once("A", count=2)
    turnstile.wait_for(is_output("A", 5))
    events.gate("passed", "A")
    turnstile.wait_for(is_output("A", 5))  # the second person gets a second pulse
    events.gate("passed", "A")
    assert osdp_gate.state().passed["A"] == 2
    with pytest.raises(InvalidInput):
        osdp_gate.open_once("A", count=0)
    with pytest.raises(InvalidInput, match="A or B"):
        osdp_gate.open_once("C")


def test_a_forced_passage_is_an_alarm(osdp_gate: OsdpGate, turnstile: SimulatorProcess, events: Events) -> None:
    turnstile.send("pass A")
    assert turnstile.wait_for("passage")["authorised"] is False
    assert events.gate("alarm").detail == "A"
    assert osdp_gate.state().passed["A"] == 0


def test_fire_alarm_frees_the_gate_and_other_commands_are_ignored(osdp_gate: OsdpGate, turnstile: SimulatorProcess,
                                                                  events: Events) -> None:
    turnstile.send("fire on")
    assert events.gate("fire_alarm").detail == "on"
    turnstile.wait_for(is_output("A", 2))
    turnstile.wait_for(is_output("B", 2))
    ok, message = osdp_gate.health()
    assert not ok and "Fire alarm" in message
    assert osdp_gate.state().mode == "fire"
    assert osdp_gate.open_once("A") is False
    assert osdp_gate.lock() is False and osdp_gate.set_free("B") is False
    assert not [e for e in turnstile.drain() if e.get("event") == "output"]
    turnstile.send("pass B")  # everyone walks out freely: counted, no alarm
    assert events.gate("passed").detail == "B"
    turnstile.send("fire off")
    assert events.gate("fire_alarm").detail == "off"
    turnstile.wait_for(is_output("A", 1))
    assert osdp_gate.health() == (True, "") and osdp_gate.state().mode == "locked"


def test_emergency_release_opens_both_ways_and_reset_locks(osdp_gate: OsdpGate, turnstile: SimulatorProcess,
                                                           events: Events) -> None:
    assert osdp_gate.emergency_release() is True
    assert events.gate("opened").detail == "emergency"
    turnstile.wait_for(is_output("A", 2))
    turnstile.wait_for(is_output("B", 2))
    turnstile.send("pass A")
    assert turnstile.wait_for("passage")["authorised"] is True
    events.gate("passed", "A")
    assert osdp_gate.reset() is True
    turnstile.wait_for(is_output("A", 1))
    turnstile.wait_for(is_output("B", 1))
    assert osdp_gate.state().mode == "locked"


def test_cards_and_qr_codes_at_the_reader_are_scans(osdp_gate: OsdpGate, turnstile: SimulatorProcess,
                                                    events: Events) -> None:
    long_code = "VS1." + "x" * 150 + ".签名"
    turnstile.send("card 04a1b2c3d4")
    turnstile.send("qr TICKET-2026-0001")
    turnstile.send("qr " + long_code)
    scans = [events.wait(lambda e: isinstance(e, ScanEvent)).data for _n in range(3)]
    assert scans == ["04A1B2C3D4", "TICKET-2026-0001", long_code]
    assert all(e.source == "gate-1" for e in events.seen if isinstance(e, ScanEvent))


def test_indicate_lights_and_beeps(osdp_gate: OsdpGate, turnstile: SimulatorProcess) -> None:
    osdp_gate.indicate(True)
    assert turnstile.wait_for("led")["colour"] == "green"
    assert turnstile.wait_for("buzzer")["beeps"] == 1
    osdp_gate.indicate(False)
    assert turnstile.wait_for("led")["colour"] == "red"
    assert turnstile.wait_for("buzzer")["beeps"] == 3


def test_tamper_is_reported(osdp_gate: OsdpGate, turnstile: SimulatorProcess, events: Events) -> None:
    turnstile.send("tamper on")
    assert events.gate("tamper").detail == "on"
    assert "tamper" in osdp_gate.health()[1]
    turnstile.send("tamper off")
    assert events.gate("tamper").detail == "off"


def test_controller_power_cut_and_back(osdp_gate: OsdpGate, turnstile: SimulatorProcess, events: Events) -> None:
    turnstile.kill()
    events.gate("offline", timeout=3)
    ok, message = osdp_gate.health()
    assert not ok and "does not answer" in message
    with pytest.raises(DeviceError, match="offline"):
        osdp_gate.open_once("A")
    assert osdp_gate.emergency_release() is False  # remembered while the line is down
    turnstile.start()
    events.gate("online", timeout=10)
    turnstile.wait_for(is_output("A", 2))  # ... and applied as soon as the controller answers
    turnstile.wait_for(is_output("B", 2))
    assert osdp_gate.health() == (True, "") and osdp_gate.alive()
    osdp_gate.reset()
    assert osdp_gate.open_once("A") is True
    turnstile.wait_for(is_output("A", 5))


def test_a_controller_with_another_key_is_refused_clearly(pair: PtyPair, secret_store: Any, events: Events) -> None:
    secret_store.set("osdp-scbk:gate-1", "AAAAAAAAAAAAAAAAAAAAAA==")  # 16 zero bytes for the panel
    sim = SimulatorProcess("turnstile", pair, keyring_args(secret_store, "osdp-scbk:other")).start()
    gate = open_osdp_gate(DeviceConfig("gate-1", "osdp-gate", {"port": pair.port}), events.post, secrets=secret_store)
    gate.start()
    try:
        deadline = time.monotonic() + 5
        while "secure channel" not in gate.health()[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        ok, message = gate.health()
        assert not ok and "osdp-scbk:gate-1" in message and not gate.state().online
    finally:
        gate.stop()
        sim.stop()


def test_a_missing_port_is_a_clear_device_error(secret_store: Any, events: Events) -> None:
    gate = open_osdp_gate(DeviceConfig("gate-9", "osdp-gate", {"port": "/dev/nope"}), events.post, secrets=secret_store)
    with pytest.raises(DeviceError, match="cannot open /dev/nope"):
        gate.start()
    assert gate.health()[0] is False


# ------------------------------------------------------------------ relay board

@pytest.fixture
def board(pair: PtyPair) -> Iterator[RelayBoardSimulator]:
    sim = RelayBoardSimulator(pair.device_fd)
    sim.start()
    yield sim
    sim.stop()


def relay_gate(pair: PtyPair, events: Events, **options: Any) -> RelayGate:
    gate = RelayGate(DeviceConfig("lane-2", "relay-gate", {"port": pair.port, "pulse_ms": 200,
                                                           "passage_timeout_ms": 600, **options}), events.post)
    gate.start()
    return gate


def wait_until(predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_relay_open_once_sends_exactly_on_then_off_after_the_pulse(pair: PtyPair, board: RelayBoardSimulator,
                                                                   events: Events) -> None:
    gate = relay_gate(pair, events)
    try:
        events.gate("online")
        wait_until(lambda: len(board.frames) == 2)  # both relays switched off when the line opened
        before = len(board.raw_bytes())
        gate.open_once("A")
        wait_until(lambda: len(board.frames) == 4)
        time.sleep(0.1)
        assert board.raw_bytes()[before:] == bytes.fromhex("A0 01 01 A2 A0 01 00 A1")
        (t_on, on), (t_off, off) = board.frames[-2:]
        assert on == Frame(0xA0, 1, True) and off == Frame(0xA0, 1, False)
        assert 0.19 <= t_off - t_on < 0.35
        assert events.gate("opened").detail == "A"
        assert not board.bad_frames and gate.health() == (True, "")
    finally:
        gate.stop()


def test_relay_pass_sensor_counts_passages_and_alarms(pair: PtyPair, board: RelayBoardSimulator,
                                                      events: Events) -> None:
    gate = relay_gate(pair, events, pass_sensor=True, fire_input=3)
    try:
        gate.open_once("B")
        wait_until(lambda: board.relays[2])
        board.set_input(2, True)
        board.set_input(2, False)
        assert events.gate("passed").detail == "B"
        board.set_input(1, True)  # nobody opened A
        assert events.gate("alarm").detail == "A"
        gate.open_once("A")
        assert events.gate("not_passed", timeout=2).detail == "A"
        board.set_input(3, True)
        assert events.gate("fire_alarm").detail == "on"
        wait_until(lambda: board.relays[1] and board.relays[2])
        assert gate.open_once("A") is False
    finally:
        gate.stop()


def test_relay_board_garbled_and_truncated_frames_are_reported(pair: PtyPair, board: RelayBoardSimulator,
                                                               events: Events) -> None:
    gate = relay_gate(pair, events, pass_sensor=True)
    try:
        events.gate("online")
        board.send_raw(b"\x13\x37")
        message = wait_until(lambda: gate.health()[1])
        assert "not a frame: 13 37" in message and gate.health()[0] is False
        board.send_raw(bytes.fromhex("A1 01 01 00"))
        assert "wrong checksum: A1 01 01 00" in wait_until(lambda: "checksum" in gate.health()[1] and gate.health()[1])
        board.send_raw(bytes.fromhex("A1 02"))
        assert "cut short: A1 02" in wait_until(lambda: "cut short" in gate.health()[1] and gate.health()[1])
        board.set_input(1, True)  # the board talks sense again: nothing after the junk is lost
        assert events.gate("alarm").detail == "A"
        assert gate.alive()
    finally:
        gate.stop()


def test_relay_frames_are_checked() -> None:
    assert command_frame(1, True) == bytes.fromhex("A0 01 01 A2")
    assert command_frame(1, False) == bytes.fromhex("A0 01 00 A1")
    parser = FrameParser()
    items = parser.feed(b"\x00" + input_frame(1, True)[:3] + b"\x00" + input_frame(2, False) + bytes.fromhex("A0 01 05 A6"))
    assert items == [Problem("garbage", b"\x00"), Problem("checksum", bytes.fromhex("A1 01 01 00")),
                     Frame(0xA1, 2, False), Problem("state", bytes.fromhex("A0 01 05 A6"))]
    assert parser.feed(b"\xA1") == [] and parser.expire() == Problem("truncated", b"\xA1")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8), st.booleans()), min_size=1, max_size=20), st.data())
def test_valid_frames_survive_any_split(frames: list[tuple[int, bool]], data: st.DataObject) -> None:
    stream = b"".join(input_frame(n, on) for n, on in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    parser = FrameParser()
    got: list[Any] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        got += parser.feed(stream[start:end])
    assert got == [Frame(0xA1, n, on) for n, on in frames] and not parser.pending


# ------------------------------------------------------------------ the CLI verb

def test_gate_cli_status_open_and_release(tmp_path: Any, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, pair: PtyPair) -> None:
    from suite.bootstrap import open_secrets
    from suite.config import load_settings
    from tests.sites import Site, write_site

    devices = (f'[devices.gate-7]\nkind = "osdp-gate"\nport = "{pair.port}"\npassage_timeout_ms = {PASSAGE_MS}\n'
               '[devices.lane-9]\nkind = "relay-gate"\nport = "/dev/no-such-board"\n')
    path = write_site(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")
    path.write_text(path.read_text() + "\n" + devices)
    site = Site(path, "", capsys, monkeypatch)
    sim = SimulatorProcess("turnstile", pair, keyring_args(open_secrets(load_settings(path)), "osdp-scbk:gate-7")
                           + ["--pass-after", "100"]).start()
    try:
        status = site.run("--json", "gate", "status", "--timeout", "3")
        assert status.code == 0, status.err
        rows = {row["gate"]: row for row in status.json}
        assert rows["gate-7"]["online"] is True and rows["gate-7"]["ok"] is True and rows["gate-7"]["mode"] == "locked"
        assert rows["lane-9"]["ok"] is False and "/dev/no-such-board" in rows["lane-9"]["message"]
        opened = site.run("--json", "gate", "open", "--gate", "gate-7", "--direction", "b")
        assert opened.code == 0, opened.err
        assert opened.json == {"gate": "gate-7", "direction": "B", "opened": True, "passed": 1, "not_passed": 0}
        sim.wait_for(is_output("B", 5))
        released = site.run("--json", "gate", "release", "--gate", "gate-7")
        assert released.code == 0 and released.json[0]["released"] is True
        sim.wait_for(is_output("A", 2))
        missing = site.run("gate", "open", "--gate", "nope", "--direction", "A")
        assert missing.code == 1 and "No gate nope" in missing.err
    finally:
        sim.stop()
