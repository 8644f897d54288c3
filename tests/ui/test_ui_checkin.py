"""The gate attendant's screen (tab ``checkin.attendant``) under Xvfb, on the session's demo site,
driving a simulated OSDP turnstile: the simulator runs in its own process on a pty that the
site names as this terminal's ``gate-1`` (``osdp-gate``, the device host of the window), the
secure channel keyed from the demo's keyring; the demo's list MAIN has its entry lane L1 (side A)
and its exit lane X1 (side B) on it, and this terminal runs both.

A signed ticket shown at the simulator's reader turns the panel green ("Valid"), the relay pulses
and the simulated passage counts one person in; the same ticket again turns it red ("Already
used"); with the controller's power cut a valid code turns red ("The gate did not open").
*Open once* with a reason typed by real keys pulses the relay and is audited; *Release all
gates* holds every output of the controller on and the screen shows the emergency; the
attendant's *Reset* is refused in red, the administrator's locks the gates again. A plain code
typed in the code field, in Chinese, then again from a keyboard-wedge scanner. Without a channel
configured the tab says how to set one. Screenshots: docs/screenshots/checkin-attendant*.png.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.uihelpers import ADMIN, REPO, login, screenshot, wait_for

from gates.simulator.process import SimulatorProcess, keyring_args
from gates.simulator.pty import PtyPair
from suite.identity.actor import Actor

SCREENSHOTS = REPO / "docs" / "screenshots"
SYSTEM = Actor.system("check-in screen tests")
GATE = "gate-1"
LIST = "MAIN"                   # the demo's list (suite.demo): L1 in and X1 out on gate-1
PASSAGE_MS = 1500
PASS_AFTER_MS = 300
GATE_TIMEOUT = 15.0             # the driver's first connection, with the secure channel
ATTENDANT_PASSWORD = "gate-attendant-2026"
TAB = "checkin.attendant"


# -------------------------------------------------------------------- the site

@pytest.fixture
def channels() -> tuple[str, ...]:
    """The channels this terminal runs (``[plugins.checkin] channels``), as the demo sets it."""
    return ("L1", "X1")


@pytest.fixture
def pair() -> Iterator[PtyPair]:
    with PtyPair() as the_pair:
        yield the_pair


@pytest.fixture
def app(demo_site: Path, pair: PtyPair, channels: tuple[str, ...]) -> Iterator[Any]:
    """The session's demo with this terminal's turnstile on ``pair`` and its channels; the same
    code twice in a row is checked twice (``repeat_seconds = 0``)."""
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.i18n import set_language

    settings = load_settings(demo_site)
    devices = {GATE: {"kind": "osdp-gate", "port": pair.port, "pulse_ms": 100,
                      "passage_timeout_ms": PASSAGE_MS}} if channels else {}
    checkin = {**settings.plugins.get("checkin", {}), "channels": list(channels), "repeat_seconds": 0}
    plugins = {**settings.plugins, "checkin": checkin}
    application = build_app(dataclasses.replace(settings, devices=devices, plugins=plugins))
    set_language("en")
    try:
        yield application
    finally:
        application.close()
        set_language("en")


@pytest.fixture
def attendant(app: Any) -> str:
    """A gate attendant of this test's own (what it did is found by its name in the audit log)."""
    username = "gate-" + secrets.token_hex(3)
    app.identity.create_user(SYSTEM, username=username, password=ATTENDANT_PASSWORD, display_name="Gate Attendant",
                             language="en", roles=("gate_attendant",))
    return username


@pytest.fixture
def turnstile(app: Any, pair: PtyPair) -> Iterator[SimulatorProcess]:
    """The simulated controller on the far end of ``pair``; someone walks through 300 ms after
    each open."""
    secret = f"osdp-scbk:{GATE}"
    app.secrets.get_or_create_key(secret, 16)           # made once, before either end reads it
    sim = SimulatorProcess("turnstile", pair, keyring_args(app.secrets, secret)
                           + ["--window-ms", str(PASSAGE_MS), "--pass-after", str(PASS_AFTER_MS)]).start()
    yield sim
    sim.stop()


@pytest.fixture
def gate(turnstile: SimulatorProcess, devices: Any) -> SimulatorProcess:
    """The turnstile once the window's device host talks to it."""
    deadline = time.monotonic() + GATE_TIMEOUT
    while not _inputs_known(devices):
        assert time.monotonic() < deadline, "the gate did not come online"
        time.sleep(0.05)
    return turnstile


def _inputs_known(devices: Any) -> bool:
    try:
        return bool(devices.device(GATE).inputs_known())
    except Exception:  # noqa: BLE001 - not started yet
        return False


# -------------------------------------------------------------------- helpers

def ticket(app: Any, serial: str) -> str:
    """A ticket code signed with the box office's key of this site (what CheckinService checks)."""
    from plugins.tickets.codes import TicketClaims, TicketSigner
    from plugins.tickets.settings import TicketSettings

    starts = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    claims = TicketClaims(serial=serial, venue=app.settings.terminal.venue_code, session="S1", hall="H1", row="F",
                          seat="7", ticket_type="ADULT", category="adult", admits=1,
                          starts=int(starts.timestamp()), ends=int((starts + dt.timedelta(hours=2)).timestamp()))
    return TicketSigner.from_secrets(app.secrets, TicketSettings().signing_key_secret).sign(claims)


def serial() -> str:
    return "2" + "".join(secrets.choice("0123456789") for _n in range(11))


def xdotool(*args: object) -> None:
    subprocess.run(["xdotool", *(str(a) for a in args)], check=True, timeout=20, env=dict(os.environ))


def click(widget: Any) -> None:
    """A real click in the middle of ``widget``."""
    widget.update_idletasks()
    xdotool("mousemove", widget.winfo_rootx() + widget.winfo_width() // 2,
            widget.winfo_rooty() + widget.winfo_height() // 2, "sleep", "0.05", "click", "1")


def publish(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    shutil.copyfile(REPO / "test-artifacts" / f"{name}.png", target)
    return target


def attendant_tab(shell: Any, username: str, password: str = ATTENDANT_PASSWORD) -> Any:
    main = login(shell, username, password)
    assert TAB in main.tab_ids()
    main.select_id(TAB)
    slot = main.slots[main.tab_ids().index(TAB)]
    assert slot.content is not None, slot.error
    wait_for(shell.root, lambda: slot.content.winfo_viewable(), what="the gates tab on screen")
    return slot.content


def online(shell: Any, tab: Any) -> None:
    """Wait until the gates table shows the turnstile online (in the screen's language)."""
    from suite.i18n import _

    def shown() -> bool:
        rows = tab.gates.table.rows()
        return bool(rows) and rows[0][:3] == (GATE, ", ".join(tab.lanes), _("Normal (locked)"))

    wait_for(shell.root, shown, timeout=GATE_TIMEOUT, what="the gate online on screen")


def count(tab: Any, row_title: str, column: str) -> int | None:
    """A figure of the counts table as shown (``None`` before the first read)."""
    columns = {"in": 1, "out": 2, "inside": 3, "refused": 4}
    for row in tab.counts.table.rows():
        if row[0] == row_title:
            return int(row[columns[column]])
    return None


def counts_now(app: Any, table: str, code: str) -> dict[str, int]:
    """Today's counts of a list or channel (``table``: "lists" or "channels") as the service has them."""
    from plugins.checkin.service import CheckinService

    counts = CheckinService.from_app(app).counts(SYSTEM)
    return counts[table].get(code, {"in": 0, "out": 0, "inside": 0, "refused": 0})


def output(code: int, direction: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """A simulator event: an output command (5 pulse, 2 hold on, 1 off)."""
    return lambda e: e.get("event") == "output" and e.get("control_code") == code and (
        direction is None or e.get("direction") == direction)


def seen(gate: SimulatorProcess, *wanted: Callable[[dict[str, Any]], bool],
         timeout: float = 10.0) -> list[dict[str, Any]]:
    """The simulator's first event matching each of ``wanted``, in whatever order they come."""
    found: list[dict[str, Any] | None] = [None] * len(wanted)
    deadline = time.monotonic() + timeout
    while None in found:
        event = gate.wait_for(lambda _e: True, timeout=max(0.01, deadline - time.monotonic()))
        for n, match in enumerate(wanted):
            if found[n] is None and match(event):
                found[n] = event
                break
    return [event for event in found if event is not None]


def led(colour: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("event") == "led" and e.get("colour") == colour


def background(widget: Any) -> str:
    from tkinter import ttk

    return str(ttk.Style(widget).lookup(str(widget.cget("style")), "background"))


def foreground(widget: Any) -> str:
    from tkinter import ttk

    return str(ttk.Style(widget).lookup(str(widget.cget("style")), "foreground"))


def answer_prompt(shell: Any, tab: Any, text: str) -> None:
    """Type ``text`` into the open prompt with real keys, then press Enter."""
    wait_for(shell.root, lambda: tab.prompt is not None and tab.prompt.winfo_viewable(), what="the prompt")
    entry = tab.prompt.reason_entry
    shell.root.focus_force()
    entry.focus_force()
    wait_for(shell.root, lambda: shell.root.focus_get() is entry, what="the focus in the reason field")
    if text:
        xdotool("type", "--delay", "15", text)
        wait_for(shell.root, lambda: entry.get() == text, what="the typed reason")
    xdotool("key", "Return")
    wait_for(shell.root, lambda: tab.prompt is None, what="the prompt to close")


# -------------------------------------------------------------------- tests

def test_a_valid_ticket_shows_green_and_counts_in_the_same_again_shows_red(
        shell: Any, app: Any, attendant: str, gate: SimulatorProcess) -> None:
    from suite.ui.theme import PALETTE

    before, before_list = counts_now(app, "channels", "L1"), counts_now(app, "lists", LIST)
    tab = attendant_tab(shell, attendant)
    online(shell, tab)
    assert tab.panel.tone == "idle" and tab.panel.texts()["verdict"] == "Waiting for a scan"
    number = serial()
    code = ticket(app, number)

    gate.send("qr " + code)                           # at the turnstile's reader
    wait_for(shell.root, lambda: tab.panel.tone == "ok", timeout=10, what="the green panel")
    texts = tab.panel.texts()
    assert texts["verdict"] == "Valid"
    assert texts["credential"] == f"Ticket {number}" and texts["channel"] == "Channel L1 · Lane 1 in · entry"
    assert background(tab.panel) == PALETTE.success
    _light, pulse = seen(gate, led("green"), output(5))
    assert pulse["direction"] == "A"                              # the relay pulse: one person
    wait_for(shell.root, lambda: tab.panel.texts()["persons"] == "1 of 1 person through", timeout=10,
             what="the passage")
    wait_for(shell.root, lambda: count(tab, "Channel L1", "in") == before["in"] + 1, what="the count in")
    assert (count(tab, f"List {LIST}", "in"), count(tab, f"List {LIST}", "inside")) == (
        before_list["in"] + 1, before_list["inside"] + 1)                 # MAIN tracks exits: one more inside
    assert tab.recent.table.rows()[0][1:] == ("L1", number, "Valid")
    screenshot(shell.root, "checkin-attendant")
    publish("checkin-attendant")

    gate.send("qr " + code)                           # the same ticket again
    wait_for(shell.root, lambda: tab.panel.tone == "bad", timeout=10, what="the red panel")
    assert tab.panel.texts()["verdict"] == "Already used" and tab.panel.texts()["persons"] == ""
    assert background(tab.panel) == PALETTE.danger
    seen(gate, led("red"))
    wait_for(shell.root, lambda: count(tab, "Channel L1", "refused") == before["refused"] + 1, what="the refusal")
    assert count(tab, "Channel L1", "in") == before["in"] + 1
    assert [r[1:] for r in tab.recent.table.rows()[:2]] == [("L1", number, "Already used"), ("L1", number, "Valid")]
    assert not [e for e in gate.drain() if output(5)(e)]          # nothing opened
    screenshot(shell.root, "checkin-attendant-refused")
    publish("checkin-attendant-refused")

    gate.kill()                                       # the controller loses power
    wait_for(shell.root, lambda: tab.gates.table.rows()[0][2] == "offline", timeout=GATE_TIMEOUT,
             what="the gate offline")
    assert tab.gates.table.tree.item(tab.gates.table.tree.get_children()[0], "tags") == ("bad",)
    other = serial()
    tab.code_entry.insert(0, ticket(app, other))      # checked at the desk: valid, but the gate cannot open
    tab.code_entry.event_generate("<Return>")
    wait_for(shell.root, lambda: tab.panel.tone == "bad", timeout=10, what="the gate that did not open")
    assert tab.panel.texts()["verdict"] == "The gate did not open: the entry is annulled."
    assert tab.message.kind == "error" and tab.recent.table.rows()[0][1:] == (
        "L1", other, "The gate did not open: the entry is annulled.")
    assert count(tab, "Channel L1", "in") == before["in"] + 1


def test_open_once_then_release_all_gates_and_only_the_administrator_resets(
        shell: Any, app: Any, attendant: str, gate: SimulatorProcess) -> None:
    from sqlalchemy import select

    from suite.audit.models import AuditEvent
    from suite.emergency import EmergencyService
    from suite.ui.theme import PALETTE

    emergency = EmergencyService.from_app(app)
    before = counts_now(app, "channels", "L1")
    tab = attendant_tab(shell, attendant)
    online(shell, tab)
    try:
        # Open once: a real click, a reason typed with real keys, Enter
        click(tab.open_button)
        answer_prompt(shell, tab, "Guest of the manager")
        assert gate.wait_for(output(5))["direction"] == "A"
        assert tab.panel.tone == "manual" and tab.panel.texts()["verdict"] == "Opened by hand"
        assert tab.panel.texts()["credential"] == "Reason: Guest of the manager"
        assert tab.message.kind == "ok" and tab.message.text == "Channel L1 opened by hand for 1 person."
        wait_for(shell.root, lambda: count(tab, "Channel L1", "in") == before["in"] + 1, timeout=10,
                 what="the person let in by hand")
        with app.uow.read() as uow:
            opened = uow.session.execute(select(AuditEvent.target, AuditEvent.details).where(
                AuditEvent.action == "checkin.open", AuditEvent.actor == attendant)).all()
        assert [(target, json.loads(details)["reason"]) for target, details in opened] == [
            ("L1", "Guest of the manager")]

        # a reason is required
        click(tab.release_button)
        wait_for(shell.root, lambda: tab.prompt is not None, what="the release prompt")
        tab.prompt.ok_button.invoke()
        assert tab.prompt is not None and tab.prompt.error.cget("text") == "Say why: a reason is required."
        assert not emergency.state().active
        answer_prompt(shell, tab, "Smoke in hall 2")
        seen(gate, output(2, "A"), output(2, "B"))                # both sides held open
        state = emergency.state()
        assert state.active and state.reason == "Smoke in hall 2" and state.actor == attendant
        wait_for(shell.root, lambda: tab.banner.shown and tab.panel.tone == "emergency", what="the emergency")
        assert "Smoke in hall 2" in tab.banner.detail.cget("text") and attendant in tab.banner.detail.cget(
            "text")
        assert background(tab.banner) == background(tab.panel) != PALETTE.surface
        assert tab.release_button.instate(["disabled"]) and tab.open_button.instate(["disabled"])
        wait_for(shell.root, lambda: tab.gates.table.rows()[0][2] == "Released", what="the gate's mode")

        assert tab.panel.texts()["verdict"] == "Emergency: free passage"
        gate.send("qr " + ticket(app, serial()))             # not checked: free passage
        wait_for(shell.root, lambda: tab.recent.table.rows()[0][1:] == ("L1", "", "Emergency: free passage"),
                 timeout=10, what="the scan in the emergency")
        assert tab.panel.tone == "emergency" and tab.panel.texts()["channel"] == "Channel L1 · Lane 1 in · entry"
        screenshot(shell.root, "checkin-attendant-emergency")
        publish("checkin-attendant-emergency")

        # the attendant may not end it
        click(tab.banner.reset_button)
        answer_prompt(shell, tab, "")
        wait_for(shell.root, lambda: tab.message.kind == "error", what="the refusal")
        assert tab.message.text == "You do not have permission: Reset the gates after an emergency"
        assert foreground(tab.message) == PALETTE.danger
        assert emergency.state().active and tab.banner.shown

        # the administrator may
        shell.logout()
        tab = attendant_tab(shell, *ADMIN)
        wait_for(shell.root, lambda: tab.banner.shown, what="the emergency on the administrator's screen")
        click(tab.banner.reset_button)
        answer_prompt(shell, tab, "All clear")
        wait_for(shell.root, lambda: not tab.banner.shown, timeout=10, what="the end of the emergency")
        assert not emergency.state().active
        assert tab.message.kind == "ok" and tab.panel.tone == "idle"
        assert tab.release_button.instate(["!disabled"])
        gate.wait_for(output(1))                                  # the outputs released
        wait_for(shell.root, lambda: tab.gates.table.rows()[0][2] == "Normal (locked)", what="the gate locked")
    finally:
        if emergency.state().active:
            emergency.reset(SYSTEM, reason="end of test")


def test_a_code_typed_at_the_desk_in_chinese(shell: Any, app: Any, attendant: str,
                                             gate: SimulatorProcess) -> None:
    from plugins.checkin.setup import SetupService
    from plugins.checkin.ui.attendant import WEDGE_SOURCE
    from suite.errors import Conflict
    from suite.events import ScanEvent
    from suite.i18n import _, ngettext, set_language

    code = "GUEST-0042"
    try:
        SetupService.from_app(app).add_code(SYSTEM, code=code, admits=2, note="two guests of the band")
    except Conflict:
        pass
    shell.login.language_buttons["zh_CN"].invoke()
    try:
        tab = attendant_tab(shell, attendant)
        online(shell, tab)
        tab.code_entry.focus_force()
        wait_for(shell.root, lambda: shell.root.focus_get() is tab.code_entry, what="the focus in the code field")
        xdotool("type", "--delay", "30", code)
        wait_for(shell.root, lambda: tab.code_entry.get() == code, what="the typed code")
        xdotool("key", "Return")
        wait_for(shell.root, lambda: tab.panel.tone == "ok", timeout=10, what="the green panel")
        assert tab.panel.texts()["verdict"] == _("Valid") != "Valid"
        assert tab.code_entry.get() == ""
        through = ngettext("{passed} of {persons} person through", "{passed} of {persons} people through", 2)
        wait_for(shell.root, lambda: tab.panel.texts()["persons"] == through.format(passed=2, persons=2),
                 timeout=10, what="both guests through")
        screenshot(shell.root, "checkin-attendant-zh")
        publish("checkin-attendant-zh")

        shell.pump.post(ScanEvent(WEDGE_SOURCE, code))        # the keyboard-wedge scanner: the same code
        wait_for(shell.root, lambda: tab.panel.tone == "bad", timeout=10, what="the code used up")
        assert tab.panel.texts()["verdict"] == _("Already used")
        assert tab.recent.table.rows()[0][1:3] == ("L1", code)
    finally:
        set_language("en")


@pytest.mark.parametrize("channels", [()])
def test_without_a_channel_the_tab_says_how_to_set_one(shell: Any, app: Any, attendant: str) -> None:
    from plugins.checkin.ui import EVENTS_KEY

    tab = attendant_tab(shell, attendant)
    assert tab.runner is None and tab.problem == "No channel is set for this terminal."
    assert tab.notice.problem.cget("text") == tab.problem and tab.notice.winfo_viewable()
    assert tab.notice.example.cget("text") == '[plugins.checkin]\nchannels = ["L1"]'
    assert EVENTS_KEY not in app.extras
