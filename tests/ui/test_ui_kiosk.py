"""The self-pickup kiosk under Xvfb, on a demo site of its own with the box office loaded as a
built-in (and migrated), the kiosk tab declared here as well while the manifest lacks it, and
the tickets printed on the virtual ESC/POS printer.

A phone number typed on the on-screen keypad finds two codes; *Print my tickets* redeems them
on the best seats and the printer prints three tickets; a QR code from the scanner
(``ScanEvent``) finds its code at once; a void code is refused in red and nothing is taken; the
screen clears itself when left alone. Screenshots docs/screenshots/tickets-kiosk*.png.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.ui.uihelpers import CASHIER, REPO, login, screenshot, settle, wait_for

from suite.declarations import TabSpec
from suite.identity.actor import Actor

SCREENSHOTS = REPO / "docs" / "screenshots"
KIOSK = TabSpec("tickets.kiosk", "Ticket pickup", factory="plugins.tickets.ui.kiosk:build_tab",
                permission="tickets.redeem", order=160)
SYSTEM = Actor.system("kiosk tests")
PHONE = "13800001234"


@pytest.fixture
def app(tmp_path: Path, printer: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A demo folder of this test's own whose host loads the box office with the kiosk tab, and
    this terminal's ticket printer (the virtual one)."""
    import plugins.tickets as tickets
    import suite.plugins as host
    from suite import demo
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.hookspecs import hookimpl
    from suite.i18n import set_language

    class TicketsHost(host.PluginHost):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            builtins = tuple(kwargs.pop("builtin_modules", host.BUILTIN_PLUGINS))
            if "plugins.tickets" not in builtins:
                builtins += ("plugins.tickets",)
            super().__init__(*args, builtin_modules=builtins, **kwargs)

    manifest = tickets.venue_suite_manifest()
    if KIOSK.id not in {tab.id for tab in manifest.tabs}:
        @hookimpl
        def venue_suite_manifest() -> Any:
            return dataclasses.replace(manifest, tabs=(*manifest.tabs, KIOSK))

        monkeypatch.setattr(tickets, "venue_suite_manifest", venue_suite_manifest)
    monkeypatch.setattr(host, "PluginHost", TicketsHost)
    folder = tmp_path / "demo"
    assert demo.main(["--dir", str(folder), "--no-window"]) == 0
    settings = load_settings(folder / "site.toml")
    devices = {"printer": {"kind": "escpos-printer", "transport": "network", "host": "127.0.0.1",
                           "port": printer.port, "paper": 80, "timeout": 2.0, "poll_seconds": 0,
                           "queue_dir": str(tmp_path / "queue")}}
    application = build_app(dataclasses.replace(settings, devices=devices))
    set_language("en")
    try:
        yield application
    finally:
        application.close()
        set_language("en")


def kiosk_cinema(app: Any, starts_at: dt.datetime) -> str:
    """Hall K1 (5 x 8) showing The River at ``starts_at``, adults 50.00 and children 30.00: codes
    of its own beside whatever the demo sets up. Returns the session's code."""
    from plugins.tickets.setup import SetupService
    from suite.errors import Conflict

    setup = SetupService.from_app(app)
    setup.add_hall(SYSTEM, code="K1", name="Hall 1")
    setup.create_seat_map(SYSTEM, hall="K1", name="Standard", rows=5, columns=8)
    for code, name, category in (("ADULT", "Adult", "adult"), ("CHILD", "Child", "child")):
        try:
            setup.add_ticket_type(SYSTEM, code=code, name=name, category=category)
        except Conflict:
            pass  # the demo has them
    setup.add_programme(SYSTEM, code="K-RIVER", title="The River", kind="film", grade="B", duration_minutes=110)
    setup.add_price_plan(SYSTEM, code="K-STD", name="Kiosk test prices")
    setup.set_price(SYSTEM, plan="K-STD", ticket_type="ADULT", price=5000)
    setup.set_price(SYSTEM, plan="K-STD", ticket_type="CHILD", price=3000)
    setup.add_session(SYSTEM, code="K1-EVENING", programme="K-RIVER", hall="K1", seat_map="Standard", plan="K-STD",
                      starts_at=starts_at, state="on_sale")
    return "K1-EVENING"


@pytest.fixture
def codes(app: Any) -> dict[str, str]:
    """The River tomorrow at 19:30 in hall K1, and the codes waiting for pickup."""
    from plugins.tickets.redemption import RedemptionService

    zone = ZoneInfo("Asia/Shanghai")
    tomorrow = dt.datetime.now(zone).date() + dt.timedelta(days=1)
    show = kiosk_cinema(app, dt.datetime.combine(tomorrow, dt.time(19, 30), zone))
    service = RedemptionService.from_app(app)
    made = {
        "adults": service.issue(SYSTEM, session_code=show, ticket_type="ADULT", quantity=2, phone="138 0000 1234",
                                paid=9000, partner="Meituan")["code"],
        "child": service.issue(SYSTEM, session_code=show, ticket_type="CHILD", phone=PHONE)["code"],
        "scanned": service.issue(SYSTEM, session_code=show, ticket_type="ADULT", code="QR-2026-0001")["code"],
        "void": service.issue(SYSTEM, session_code=show, ticket_type="ADULT", code="VOID-0001")["code"],
    }
    service.void_code(SYSTEM, made["void"], reason="refunded by the partner")
    return made


def open_tab(main: Any, tab_id: str) -> Any:
    main.select_id(tab_id)
    slot = main.slots[main.tab_ids().index(tab_id)]
    assert slot.content is not None, slot.error
    return slot.content


def publish(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    shutil.copyfile(REPO / "test-artifacts" / f"{name}.png", target)
    return target


def kiosk(shell: Any) -> Any:
    main = login(shell, *CASHIER)
    assert KIOSK.id in main.tab_ids()
    return open_tab(main, KIOSK.id)


def test_pickup_by_phone_on_the_keypad_prints_the_tickets(shell: Any, app: Any, codes: dict[str, str],
                                                          printer: Any) -> None:
    from plugins.tickets.redemption import RedemptionService

    tab = kiosk(shell)
    assert tab.state == "idle" and tab.print_button.winfo_manager() == ""
    for key in PHONE:
        tab.keys[key].invoke()
    tab.keys["back"].invoke()
    tab.keys["4"].invoke()
    assert tab.typed.get() == PHONE
    settle(shell.root, 0.2)
    assert min(b.winfo_height() for b in tab.keys.values()) >= 44
    tab.find_button.invoke()
    wait_for(shell.root, lambda: tab.state == "found", what="the codes of the phone")
    assert [c["code"] for c in tab.found] == [codes["adults"], codes["child"]]
    assert tab.panel_title.cget("text") == "3 tickets to pick up"
    shown = [w.cget("text") for w in tab.lines_frame.winfo_children()]
    assert shown[0].startswith("The River · ") and shown[0].endswith("19:30 · Adult × 2")
    assert shown[1].endswith("Child × 1")
    settle(shell.root, 0.3)
    screenshot(shell.root, "tickets-kiosk-found")
    publish("tickets-kiosk-found")

    tab.print_button.invoke()
    wait_for(shell.root, lambda: tab.state == "done", timeout=20, what="the tickets printed")
    assert tab.message.kind == "ok" and tab.message.text == "3 tickets printed."
    assert "take your tickets" in tab.done_label.cget("text")
    jobs = printer.wait_for_jobs(3, timeout=15)
    assert len(jobs) == 3 and all(job.printed and not job.errors for job in jobs)
    text = "\n".join(job.transcript for job in jobs)
    assert "The River" in text and f"Picked up with code {codes['adults']}" in text
    shutil.copyfile(jobs[0].png, SCREENSHOTS / "tickets-kiosk-ticket.png")
    lines = [w.cget("text") for w in tab.lines_frame.winfo_children()]
    assert [line.rpartition(" · ")[2] for line in lines] == ["Row 3 Seat 3", "Row 3 Seat 4", "Row 3 Seat 5"]
    assert all(line.startswith("The River · ") and " 19:30 · Hall 1 · " in line for line in lines)
    service = RedemptionService.from_app(app)
    picked = {c: service.code(SYSTEM, c) for c in (codes["adults"], codes["child"])}
    assert {c["state"] for c in picked.values()} == {"redeemed"}
    orders = [service.order(SYSTEM, c["order"]) for c in picked.values()]
    assert sorted(t["price"] for o in orders for t in o["tickets"]) == [0, 4500, 4500]
    settle(shell.root, 0.3)
    screenshot(shell.root, "tickets-kiosk")
    publish("tickets-kiosk")

    # the same phone again: nothing left to pick up, said in red
    for key in PHONE:
        tab.keys[key].invoke()
    tab.find_button.invoke()
    wait_for(shell.root, lambda: tab.state == "idle" and tab.message.kind == "error", what="nothing left")
    assert "Nothing to pick up" in tab.message.text


def test_a_scanned_code_a_void_code_and_the_idle_clear(shell: Any, app: Any, codes: dict[str, str],
                                                       printer: Any) -> None:
    from plugins.tickets.redemption import RedemptionService
    from suite.events import ScanEvent

    tab = kiosk(shell)
    settle(shell.root, 0.2)                  # the tab is on screen (a hidden kiosk ignores scans)
    shell.pump.post(ScanEvent("scanner-1", "QR-2026-0001\r\n"))
    wait_for(shell.root, lambda: tab.state == "found", what="the scanned code")
    assert [c["code"] for c in tab.found] == [codes["scanned"]]
    tab.print_button.invoke()
    wait_for(shell.root, lambda: tab.state == "done", timeout=20, what="the scanned code's ticket")
    assert len(printer.wait_for_jobs(1, timeout=15)) == 1
    assert RedemptionService.from_app(app).code(SYSTEM, codes["scanned"])["state"] == "redeemed"

    # a void code: refused in red, nothing printed, nothing taken
    tab.typed.set("VOID-0001")
    tab.entry.focus_force()
    wait_for(shell.root, lambda: shell.root.focus_get() is tab.entry, what="the focus in the entry")
    tab.entry.event_generate("<Return>")
    wait_for(shell.root, lambda: tab.message.kind == "error", what="the refusal")
    assert tab.message.text == "Code VOID0001 is void." and tab.state == "idle"
    assert tab.panel_title.cget("text") == "Your tickets will show here."   # the last ticket is gone
    settle(shell.root, 0.5)
    assert len(printer.jobs) == 1
    screenshot(shell.root, "tickets-kiosk-refused")
    publish("tickets-kiosk-refused")

    # left alone, the screen clears itself
    tab.idle_ms = 300
    tab.typed.set("13999999999")
    tab.find_button.invoke()
    wait_for(shell.root, lambda: tab.message.kind == "error", what="nothing for that phone")
    tab.typed.set("1380")
    tab.touch()
    wait_for(shell.root, lambda: tab.typed.get() == "" and tab.message.text == "", timeout=5, what="the idle clear")
    assert tab.panel_title.cget("text") == "Your tickets will show here."
