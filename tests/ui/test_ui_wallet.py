"""The wallet's screens in the real window under Xvfb, with the real devices: a virtual card on the
card lab's reader (pcscd + vpcd, read by the ``pcsc-reader`` driver of the device host) and the
receipt on the virtual ESC/POS printer (``escpos-printer`` over TCP), as ``make demo`` runs them.

The cashier logs in, a card is inserted in the lab: the panel pops up by itself; an amount is
typed with real keys (xdotool) and Enter charges it; the database, the printed receipt and the
screenshots (docs/screenshots/wallet-*.png) are checked. Refusals (a blacklisted card) show in
red and charge nothing; a double Enter or a retry after an error charges once; a printer out
of paper leaves the sale standing and *Reprint* prints the waiting job.

A card personalised on a lab chip moves its chip with the account (the purse read back with
the application's card keys); with the database of its own PostgreSQL server stopped, the panel
goes offline, takes a payment from the chip within the card's offline cap, refuses one above
it, and uploads the queue by itself once the server is back; a copy of a card is refused in red
and blacklisted. The lab is the ``card_lab`` of tests/conftest.py.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cardlab import LabHandle
from tests.ui.uihelpers import counter_devices, CASHIER, REPO, login, screenshot, settle, wait_for

from suite.declarations import TabSpec
from suite.identity.actor import Actor

SCREENSHOTS = REPO / "docs" / "screenshots"
EVENT_TIMEOUT = 10.0          # pcscd polls card presence every 400 ms
TABS = (
    TabSpec("wallet.cashier", "Cards", factory="plugins.wallet.ui.cashier:build_tab", permission="wallet.view",
            order=100),
    TabSpec("wallet.selfquery", "Card enquiry", factory="plugins.wallet.ui.selfquery:build_tab",
            permission="wallet.view", order=110),
)


# -------------------------------------------------------------------- the site

@pytest.fixture(autouse=True)
def wallet_tabs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wallet's two tabs, declared here as well while the plugin's manifest lacks them."""
    import plugins.wallet as wallet
    from suite.hookspecs import hookimpl

    manifest = wallet.venue_suite_manifest()
    missing = tuple(t for t in TABS if t.id not in {tab.id for tab in manifest.tabs})
    if missing:
        @hookimpl
        def venue_suite_manifest() -> Any:
            return dataclasses.replace(manifest, tabs=tuple(manifest.tabs) + missing)

        monkeypatch.setattr(wallet, "venue_suite_manifest", venue_suite_manifest)


def postgres_demo(folder: Path, server: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo set up as ``make demo`` does (``suite.demo``: init, then ``demo``), on a
    PostgreSQL database of ``server``; returns its site file."""
    import contextlib
    import io

    from suite import demo
    from suite.cli import main as cli_main
    from tests.ui.uihelpers import ADMIN, LOCKOUT_THRESHOLD

    site = demo.prepare(folder)
    sqlite = 'url = "sqlite:///{data_dir}/venue-suite.db"'
    assert sqlite in site.read_text()
    site.write_text(site.read_text().replace(sqlite, f'url = "{server.create_database("demo")}"')
                    + f"\n[security]\nlockout_threshold = {LOCKOUT_THRESHOLD}\n")
    monkeypatch.setenv("VENUE_SUITE_ADMIN_PASSWORD", ADMIN[1])
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["--config", str(site), "init", "--admin", ADMIN[0], "--admin-name", "Demo Administrator",
                         "--venue-name", "Head Office"]) == 0
        assert cli_main(["--config", str(site), "demo"]) == 0
    return site


@pytest.fixture
def site_file(request: pytest.FixtureRequest, demo_site: Path) -> Path:
    """The site the application runs on: the session's demo (SQLite); parametrized
    ``indirect`` with ``"postgresql"``, the demo on a PostgreSQL server of the test's own
    (``own_pg``), which the test may stop and start again."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return demo_site
    return postgres_demo(request.getfixturevalue("tmp_path") / "pg-demo", request.getfixturevalue("own_pg"),
                         request.getfixturevalue("monkeypatch"))


@pytest.fixture
def app(site_file: Path, lab: LabHandle, printer: Any, tmp_path: Path) -> Iterator[Any]:
    """The demo site with this terminal's devices: the lab's reader and the virtual printer."""
    from plugins.wallet.ui.terminal import SPOOL_KEY
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.i18n import set_language

    settings = load_settings(site_file)
    devices = counter_devices(lab.reader_names[0], printer, tmp_path)
    application = build_app(dataclasses.replace(settings, devices=devices))
    set_language("en")
    try:
        yield application
    finally:
        application.close()
        spool = application.extras.pop(SPOOL_KEY, None)     # the cashier panel's offline spool
        if spool is not None:
            spool.close()
        set_language("en")


@pytest.fixture
def wallet(app: Any) -> Iterator[Any]:
    """The wallet on the demo's database, with the demo's time-slot discount (evenings) off while
    the test runs, so its figures do not depend on the hour it runs at."""
    from plugins.wallet.services import WalletService

    service = WalletService.from_app(app)
    active = [rule["rule_id"] for rule in service.list_rules(SYSTEM) if rule["active"]]
    for rule in active:
        service.set_rule_active(SYSTEM, rule, False)
    try:
        yield service
    finally:
        for rule in active:
            service.set_rule_active(SYSTEM, rule, True)


SYSTEM = Actor.system("test")


def new_card(wallet: Any, lab_uid: str, *, top_up: int = 10_000, block: bool = False) -> dict[str, Any]:
    """A Gold card (10 % off, 10 % top-up bonus, 1 point per yuan) with the chip ``lab_uid``."""
    tag = secrets.token_hex(3).upper()
    code = f"GOLD{tag}"
    wallet.create_card_type(SYSTEM, code=code, name="Gold member", discount_bp=1000, bonus_bp=1000,
                            points_per_yuan=1, deposit=2000)
    card_no = f"8800{tag}"
    wallet.issue(SYSTEM, card_no=card_no, type_code=code, key=f"issue-{tag}", uid=lab_uid, holder_name="Han Meimei",
                 holder_phone="138 0000 1234")
    if top_up:
        wallet.top_up(SYSTEM, card_no=card_no, key=f"topup-{tag}", amount=top_up)
    if block:
        wallet.block(SYSTEM, card_no)
    return wallet.query(SYSTEM, card_no)


def new_uid() -> str:
    return "04" + secrets.token_hex(3).upper()


def on_reader(devices: Any, uid: str) -> Any:
    """The card ``uid`` as the device host's reader holds it (what the panel's terminal uses)."""
    reader = devices.device("reader")

    def found() -> Any:
        card = reader.current_card()
        return card if card is not None and card.uid_hex == uid else None

    deadline = time.monotonic() + EVENT_TIMEOUT
    while (card := found()) is None:
        assert time.monotonic() < deadline, f"card {uid} not on the reader"
        time.sleep(0.02)
    return card


def chip(app: Any, devices: Any, uid: str) -> Any:
    """The purse on the chip ``uid``, read with the application's card keys (as the tests of
    the purse read it)."""
    from devices.cardformat import CardFormat

    return CardFormat.from_secrets(app.secrets).read(on_reader(devices, uid))


def chip_card(app: Any, devices: Any, lab: LabHandle, *, top_up: int = 10_000, offline_cap: int = 5_000,
              keep: bool = False) -> tuple[dict[str, Any], str]:
    """A Gold card (10 % off, 10 % top-up bonus, ``offline_cap`` fen offline) personalised on a
    new lab chip at the desk (``card init`` with the holder, then a top-up with the card on the
    reader), taken off the reader again unless ``keep``. Returns the card and the chip's UID."""
    from plugins.wallet.purse import PurseService

    purse = PurseService.from_app(app)
    number = f"88{secrets.randbelow(10 ** 8):08d}"
    code = f"CHIP{secrets.token_hex(3).upper()}"
    purse.create_card_type(SYSTEM, code=code, name="Gold member", discount_bp=1000, bonus_bp=1000,
                           points_per_yuan=1, offline_cap=offline_cap)
    uid = new_uid()
    lab.insert(uid)
    card = on_reader(devices, uid)
    purse.init_card(SYSTEM, card, card_no=number, type_code=code, holder_name="Han Meimei")
    if top_up:
        purse.top_up_on_reader(SYSTEM, card, key=f"desk-{number}", amount=top_up)
    if not keep:
        lab.remove()
        deadline = time.monotonic() + EVENT_TIMEOUT
        while devices.device("reader").current_card() is not None:
            assert time.monotonic() < deadline, "the card did not leave the reader"
            time.sleep(0.02)
    return purse.query(SYSTEM, number), uid


def money(card: dict[str, Any]) -> int:
    return card["balances"]["main"] + card["balances"]["gift"]


def keys(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=20, env=dict(os.environ))


def publish(name: str) -> Path:
    """Copy test-artifacts/NAME.png to docs/screenshots/NAME.png (the docs show it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    shutil.copyfile(REPO / "test-artifacts" / f"{name}.png", target)
    return target


def give_focus(shell: Any, widget: Any) -> None:
    """The window gets the input focus (as a click on it would) and Tk hands it to the widget the
    panel chose: ``widget`` must be that one."""
    assert shell.root.focus_lastfor() is widget, shell.root.focus_lastfor()
    shell.root.focus_lastfor().focus_force()
    wait_for(shell.root, lambda: shell.root.focus_get() is widget, what=f"the focus in {widget}")


def open_tab(main: Any, tab_id: str) -> Any:
    main.select_id(tab_id)
    slot = main.slots[main.tab_ids().index(tab_id)]
    assert slot.content is not None, slot.error
    return slot.content


def cashier_tab(shell: Any) -> Any:
    main = login(shell, *CASHIER)
    assert {"wallet.cashier", "wallet.selfquery"} <= set(main.tab_ids())
    tab = open_tab(main, "wallet.cashier")
    # the panel takes a card only while it is on screen: wait for the tab to be mapped
    wait_for(shell.root, lambda: tab.winfo_viewable(), what="the cashier tab on screen")
    return tab


def present(shell: Any, lab: LabHandle, uid: str, *, again: bool = False, name: str | None = None) -> None:
    """Put the card with ``uid`` on reader 0 (or the lab's stored card ``name``, a copy);
    ``again``: take it off first (the reader must see it leave, or it never sees it come back)."""
    from suite.events import CardRemoved

    if again:
        removed: list[object] = []
        sub = shell.pump.subscribe(CardRemoved, removed.append)
        try:
            lab.remove()
            wait_for(shell.root, lambda: removed, timeout=EVENT_TIMEOUT, what="the card to leave the reader")
        finally:
            sub.cancel()
    lab.insert(None if name else uid, name=name)


# -------------------------------------------------------------------- tests

def test_card_on_the_reader_pops_up_enter_charges_and_the_receipt_prints(
        shell: Any, devices: Any, wallet: Any, lab: LabHandle, printer: Any) -> None:
    uid = new_uid()
    card = new_card(wallet, uid)
    assert card["balances"] == {**card["balances"], "main": 10_000, "gift": 1_000, "deposit": 2_000}
    tab = cashier_tab(shell)
    try:
        present(shell, lab, uid)
        wait_for(shell.root, lambda: tab.card is not None, timeout=EVENT_TIMEOUT, what="the card panel")
        assert tab.number_label.cget("text") == card["card_no"]
        assert tab.balance_labels["main"].cget("text") == "¥100.00"
        assert tab.balance_labels["gift"].cget("text") == "¥10.00"
        assert tab.status_label.cget("text") == "Valid"
        assert str(tab.status_label.cget("style")) == "WalletBadgeOk.TLabel"
        assert "Han Meimei" in tab.holder_label.cget("text")
        assert tab.confirm_button.winfo_height() >= 44 and tab.mode_buttons["consume"].winfo_height() >= 44

        # the amount by real keys: digits, Enter
        give_focus(shell, tab.amount_entry)
        keys("type", "--delay", "40", "30")
        wait_for(shell.root, lambda: tab.amount_entry.get() == "30", what="the typed amount")
        keys("key", "Return")
        wait_for(shell.root, lambda: tab.message.kind == "ok", what="the charge")
        after = wallet.query(SYSTEM, card["card_no"])
        charged = tab.last_result["charged"]
        assert charged == 2_700                      # 30.00 at 10 % off
        assert money(card) - money(after) == charged
        assert after["balances"]["points"] == card["balances"]["points"] + tab.last_result["points_earned"]
        assert tab.amount_entry.get() == ""
        shown = {k: tab.balance_labels[k].cget("text") for k in ("main", "gift")}
        assert shown == {"main": f"¥{after['balances']['main'] // 100:,}.{after['balances']['main'] % 100:02d}",
                         "gift": f"¥{after['balances']['gift'] // 100:,}.{after['balances']['gift'] % 100:02d}"}
        assert "Charged ¥27.00" in tab.message.text

        # the receipt, rendered by the virtual printer
        [job] = printer.wait_for_jobs(1, timeout=10)
        wait_for(shell.root, lambda: tab.receipt_message.kind == "ok", what="the receipt line")
        assert job.printed and job.png.exists() and not job.errors
        text = job.transcript
        assert "Card payment" in text and "27.00" in text and "30.00" in text
        assert "*" * 4 + card["card_no"][-4:] in text and card["card_no"] not in text
        assert "Demo Cashier" in text and "T01" in text and "Han Meimei" in text
        assert tab.last_result["entry_id"].replace("-", "")[-8:].upper() in text
        shutil.copyfile(job.png, SCREENSHOTS / "wallet-receipt.png")

        tab.toggle_history()
        wait_for(shell.root, lambda: len(tab.table.rows()) >= 3, what="the history")
        newest = tab.table.rows()[0]
        assert newest[2] == "Payment" and newest[3] == "-¥27.00"
        settle(shell.root, 0.3)
        screenshot(shell.root, "wallet-cashier")
        publish("wallet-cashier")

        # the customer's enquiry: the same card, its balances and history
        query = open_tab(shell.main, "wallet.selfquery")
        present(shell, lab, uid, again=True)
        wait_for(shell.root, lambda: query.card is not None, timeout=EVENT_TIMEOUT, what="the enquiry")
        assert query.main_label.cget("text") == tab.balance_labels["main"].cget("text")
        rows = query.table.rows()
        assert [r[2] for r in rows] == ["Payment", "Card topped up", "Card issued"]
        assert rows[1][3] == "+¥100.00"
        assert tab.card["card_no"] == card["card_no"]          # the hidden cashier tab did not react
        settle(shell.root, 0.3)
        screenshot(shell.root, "wallet-selfquery")
        publish("wallet-selfquery")
    finally:
        lab.remove()


def test_a_blacklisted_card_is_refused_in_red_and_nothing_is_charged(
        shell: Any, devices: Any, wallet: Any, lab: LabHandle, printer: Any) -> None:
    from tkinter import ttk

    from suite.ui.theme import PALETTE

    uid = new_uid()
    card = new_card(wallet, uid, block=True)
    tab = cashier_tab(shell)
    try:
        present(shell, lab, uid)
        wait_for(shell.root, lambda: tab.card is not None, timeout=EVENT_TIMEOUT, what="the card panel")
        style = ttk.Style(shell.root)
        assert tab.status_label.cget("text") == "Blacklisted (lost)"
        assert style.lookup(str(tab.status_label.cget("style")), "foreground") == PALETTE.danger
        assert tab.message.kind == "error" and "blacklisted" in tab.message.text
        give_focus(shell, tab.amount_entry)
        keys("type", "--delay", "40", "12.5")
        keys("key", "Return")
        wait_for(shell.root, lambda: tab.message.kind == "error" and not tab.busy and tab.pending is not None,
                 what="the refusal")
        assert tab.message.text == f"Card {card['card_no']} is blacklisted (reported lost)."
        assert style.lookup(str(tab.message.cget("style")), "foreground") == PALETTE.danger
        assert wallet.query(SYSTEM, card["card_no"])["balances"] == card["balances"]
        assert [e["action"] for e in wallet.history(SYSTEM, card["card_no"])] == ["issue", "topup", "block"]
        settle(shell.root, 0.5)
        assert printer.jobs == []
        screenshot(shell.root, "wallet-cashier-refused")
        publish("wallet-cashier-refused")
    finally:
        lab.remove()


def test_double_enter_and_a_retry_after_an_error_charge_once(
        shell: Any, devices: Any, wallet: Any, printer: Any) -> None:
    from suite.errors import DatabaseUnavailable

    card = new_card(wallet, new_uid())
    tab = cashier_tab(shell)
    tab.number_entry.insert(0, card["card_no"])
    tab.lookup_button.invoke()
    wait_for(shell.root, lambda: tab.card is not None, what="the card by its number")

    # the first attempt reaches the database, but its answer is lost: the retry must not charge again
    real, keys_seen = tab.service, []

    class LostAnswer:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def consume(self, actor: Any, **kw: Any) -> Any:
            keys_seen.append(kw["key"])
            result = real.consume(actor, **kw)
            if len(keys_seen) == 1:
                raise DatabaseUnavailable("The connection to the database was lost.")
            return result

    tab.service = LostAnswer()
    tab.amount_entry.insert(0, "20")
    tab.amount_entry.event_generate("<Return>")
    tab.amount_entry.event_generate("<Return>")        # a double Enter while the first is on its way
    wait_for(shell.root, lambda: not tab.busy and tab.message.kind == "error", what="the lost answer")
    assert len(keys_seen) == 1 and tab.pending is not None and tab.amount_entry.get() == "20"
    tab.confirm_button.invoke()                        # retry: the same key, the first result
    wait_for(shell.root, lambda: not tab.busy and tab.message.kind == "ok", what="the retry")
    assert keys_seen[0] == keys_seen[1] and tab.pending is None
    assert tab.last_result["replayed"] is True
    after = wallet.query(SYSTEM, card["card_no"])
    assert money(card) - money(after) == 1_800
    assert [e["action"] for e in wallet.history(SYSTEM, card["card_no"])].count("consume") == 1

    # the next sale gets a new key; Esc drops what was typed and the pending key
    tab.amount_entry.insert(0, "5")
    tab.amount_entry.event_generate("<Escape>")
    assert tab.amount_entry.get() == "" and tab.pending is None
    tab.quick(0)
    assert tab.amount_entry.get() == "10"
    tab.confirm_button.invoke()
    wait_for(shell.root, lambda: not tab.busy and tab.message.kind == "ok", what="the second sale")
    assert keys_seen[2] != keys_seen[0]
    assert money(card) - money(wallet.query(SYSTEM, card["card_no"])) == 1_800 + 900


def test_typed_amounts_accept_digits_and_one_point_only(shell: Any, wallet: Any) -> None:
    card = new_card(wallet, new_uid())
    tab = cashier_tab(shell)
    tab.number_entry.insert(0, card["card_no"])
    tab.number_entry.focus_force()
    wait_for(shell.root, lambda: shell.root.focus_get() is tab.number_entry, what="the focus")
    tab.number_entry.event_generate("<Return>")
    wait_for(shell.root, lambda: tab.card is not None, what="the card")
    for text in ("12a", "1.2.3", "1.234", "-5"):
        tab.amount_entry.delete(0, "end")
        tab.amount_entry.insert(0, text)
        assert tab.amount_entry.get() == "", text
    tab.amount_entry.insert(0, "0")
    tab.confirm()
    assert tab.message.kind == "error" and tab.pending is None
    before = wallet.query(SYSTEM, card["card_no"])
    tab.amount_entry.delete(0, "end")
    tab.amount_entry.insert(0, "99999")
    tab.confirm()
    wait_for(shell.root, lambda: not tab.busy and tab.message.kind == "error", what="the refusal")
    assert "Insufficient balance" in tab.message.text
    assert wallet.query(SYSTEM, card["card_no"])["balances"] == before["balances"]


def test_top_up_prints_its_receipt_and_paper_out_keeps_the_sale_with_reprint(
        shell: Any, devices: Any, wallet: Any, printer: Any) -> None:
    card = new_card(wallet, new_uid(), top_up=0)
    tab = cashier_tab(shell)
    tab.number_entry.insert(0, card["card_no"])
    tab.lookup_button.invoke()
    wait_for(shell.root, lambda: tab.card is not None, what="the card")
    tab.mode_buttons["topup"].invoke()
    assert tab.amount_title.cget("text") == "Top-up amount (¥)"
    printer.state.paper = "out"
    tab.amount_entry.insert(0, "50")
    tab.confirm_button.invoke()
    wait_for(shell.root, lambda: tab.message.kind == "ok", what="the top-up")
    wait_for(shell.root, lambda: tab.receipt_message.kind == "error", what="the printing error")
    assert "out of paper" in tab.receipt_message.text and "The sale stands" in tab.receipt_message.text
    assert wallet.query(SYSTEM, card["card_no"])["balances"]["main"] == 5_000      # the money stays
    assert tab.receipt.queued_job is not None
    tab.clear()                                           # the next customer: the receipt stays on offer
    assert tab.reprint_button.instate(["!disabled"]) and "out of paper" in tab.receipt_message.text
    printer.state.paper = "ok"
    tab.reprint_button.invoke()
    wait_for(shell.root, lambda: tab.receipt_message.kind == "ok", what="the reprint")
    jobs = printer.wait_for_jobs(1, timeout=10)         # nothing was sent while the paper was out
    assert len(jobs) == 1 and jobs[0].printed
    assert "Card top-up" in jobs[0].transcript and "50.00" in jobs[0].transcript and "5.00" in jobs[0].transcript
    assert tab.receipt.queued_job is None and not devices.device("printer").queued()


def test_no_receipt_printer_is_said_and_the_sale_stands(shell: Any, app: Any, wallet: Any) -> None:
    app.settings = dataclasses.replace(app.settings, devices={})
    card = new_card(wallet, new_uid())
    tab = cashier_tab(shell)
    tab.number_entry.insert(0, card["card_no"])
    tab.lookup_button.invoke()
    wait_for(shell.root, lambda: tab.card is not None, what="the card")
    tab.amount_entry.insert(0, "10")
    tab.confirm_button.invoke()
    wait_for(shell.root, lambda: tab.message.kind == "ok", what="the charge")
    wait_for(shell.root, lambda: tab.receipt_message.text, what="the receipt line")
    assert "No receipt printer is configured" in tab.receipt_message.text
    assert money(card) - money(wallet.query(SYSTEM, card["card_no"])) == 900


def test_report_lost_takes_two_presses_and_the_panel_turns_red(shell: Any, app: Any, wallet: Any) -> None:
    card = new_card(wallet, new_uid())
    manager = "wallet-manager-" + secrets.token_hex(2)
    app.identity.create_user(SYSTEM, username=manager, password="manager-pass-2026", roles=("manager",))
    tab = open_tab(login(shell, manager, "manager-pass-2026"), "wallet.cashier")
    assert tab.block_button.winfo_manager() == "grid"
    tab.number_entry.insert(0, card["card_no"])
    tab.lookup_button.invoke()
    wait_for(shell.root, lambda: tab.card is not None, what="the card")
    tab.block_button.invoke()
    assert wallet.query(SYSTEM, card["card_no"])["status"] == "active"     # the first press only asks
    tab.block_button.invoke()
    wait_for(shell.root, lambda: tab.card["status"] == "lost", what="the block")
    assert str(tab.status_label.cget("style")) == "WalletBadgeBad.TLabel"
    assert wallet.query(SYSTEM, card["card_no"])["status"] == "lost"


def test_the_cashier_cannot_report_a_card_lost_and_the_enquiry_clears_itself(shell: Any, wallet: Any) -> None:
    card = new_card(wallet, new_uid())
    tab = cashier_tab(shell)
    assert not tab.block_button.winfo_manager()        # salespeople hold no wallet.loss
    query = open_tab(shell.main, "wallet.selfquery")
    query.idle_ms = 300
    query.number_entry.insert(0, card["card_no"])
    query.show_button.invoke()
    wait_for(shell.root, lambda: query.card is not None, what="the enquiry")
    assert query.main_label.cget("text") == "¥100.00"
    wait_for(shell.root, lambda: query.card is None, timeout=5, what="the idle clear")
    assert query.main_label.cget("text") == "—" and query.table.rows() == []


def charge(shell: Any, tab: Any, amount: str, *, kind: str = "ok", what: str = "the charge") -> None:
    """Type ``amount`` and press Enter; wait for the panel's answer of ``kind``."""
    tab.amount_entry.delete(0, "end")
    tab.amount_entry.insert(0, amount)
    tab.amount_entry.event_generate("<Return>")
    wait_for(shell.root, lambda: not tab.busy and tab.message.kind == kind, what=what)


def test_a_card_on_the_reader_moves_its_chip_with_the_account(
        shell: Any, app: Any, devices: Any, wallet: Any, lab: LabHandle, printer: Any) -> None:
    card, uid = chip_card(app, devices, lab)                 # ¥100.00 + ¥10.00 bonus, on the chip too
    tab = cashier_tab(shell)
    present(shell, lab, uid)
    wait_for(shell.root, lambda: tab.card is not None and tab.chip is not None, timeout=EVENT_TIMEOUT,
             what="the card from its chip")
    assert tab.chip.uid == uid and tab.number_label.cget("text") == card["card_no"]
    assert (tab.balance_labels["main"].cget("text"), tab.balance_labels["gift"].cget("text")) == ("¥100.00", "¥10.00")
    assert tab.online is True and not tab.offline_label.winfo_manager()

    charge(shell, tab, "30")                                # the entry first, then the chip
    result = tab.last_result
    assert result["charged"] == 2_700 and result["purse"]["written"] and result["purse"]["in_step"]
    after = wallet.query(SYSTEM, card["card_no"])
    state = chip(app, devices, uid)
    assert state.value == money(after) == 11_000 - 2_700 and state.counter == result["purse"]["counter"]
    assert "Charged ¥27.00" in tab.message.text

    tab.mode_buttons["topup"].invoke()                      # a top-up moves it too (+10 % bonus)
    charge(shell, tab, "50", what="the top-up")
    after = wallet.query(SYSTEM, card["card_no"])
    assert chip(app, devices, uid).value == money(after) == 8_300 + 5_500
    jobs = printer.wait_for_jobs(2, timeout=10)
    assert "Card payment" in jobs[0].transcript and "Card top-up" in jobs[1].transcript

    # typed in by its number, the card moves the server only; its next tap brings the chip up to date
    tab.set_mode("consume")
    tab.number_entry.insert(0, card["card_no"])
    tab.lookup_button.invoke()
    wait_for(shell.root, lambda: tab.chip is None and not tab.looking_up, what="the card by its number")
    charge(shell, tab, "10", what="the charge by number")
    assert "purse" not in tab.last_result and chip(app, devices, uid).value == 13_800
    present(shell, lab, uid, again=True)
    wait_for(shell.root, lambda: tab.chip is not None and not tab.looking_up, timeout=EVENT_TIMEOUT,
             what="the tap")
    assert chip(app, devices, uid).value == money(wallet.query(SYSTEM, card["card_no"])) == 13_800 - 900


@pytest.mark.parametrize("site_file", ["postgresql"], indirect=True)
def test_offline_at_the_counter_within_the_cap_then_uploaded(
        shell: Any, app: Any, devices: Any, wallet: Any, lab: LabHandle, printer: Any, own_pg: Any) -> None:
    from suite.ledger import check
    from suite.ui.theme import PALETTE
    from tkinter import ttk

    card, uid = chip_card(app, devices, lab, offline_cap=5_000)   # ¥110.00, ¥50.00 may be spent offline
    number = card["card_no"]
    tab = cashier_tab(shell)
    status = shell.main.status
    present(shell, lab, uid)                                # online: the terminal notes the card
    wait_for(shell.root, lambda: tab.chip is not None and not tab.looking_up, timeout=EVENT_TIMEOUT,
             what="the card online")

    own_pg.pause()                                          # the database goes away
    wait_for(shell.root, lambda: tab.online is False and status.text("online").endswith("offline"),
             what="the heartbeat to see the database gone")
    assert tab.offline_label.winfo_manager() == "grid"
    present(shell, lab, uid, again=True)
    wait_for(shell.root, lambda: tab.card is not None and tab.card.get("offline") and not tab.looking_up,
             timeout=EVENT_TIMEOUT, what="the card read offline")
    style = ttk.Style(shell.root)
    assert style.lookup(str(tab.offline_label.cget("style")), "foreground") == PALETTE.danger
    assert "On the chip: ¥110.00. It may still pay ¥50.00 offline here" in tab.offline_label.cget("text")
    assert tab.status_label.cget("text") == "Valid" and tab.balance_labels["main"].cget("text") == "—"

    charge(shell, tab, "30", what="the offline charge")      # 10 % off: ¥27.00 from the chip
    result = tab.last_result
    assert result["offline"] and result["charged"] == 2_700 and chip(app, devices, uid).value == 8_300
    assert tab.message.text.startswith("Charged ¥27.00 offline")
    assert "It may still pay ¥23.00 offline here" in tab.offline_label.cget("text")
    wait_for(shell.root, lambda: status.text("pending_uploads").endswith(": 1"), what="the pending upload")
    assert "1 offline payment waits for the upload" in tab.upload_message.text
    [job] = printer.wait_for_jobs(1, timeout=10)
    assert "Card payment (offline)" in job.transcript and "27.00" in job.transcript and "83.00" in job.transcript
    settle(shell.root, 0.3)
    screenshot(shell.root, "wallet-cashier-offline")
    publish("wallet-cashier-offline")

    charge(shell, tab, "30", kind="error", what="the refusal above the cap")    # 27 + 27 > 50
    assert tab.message.text == (f"Card {number} may spend 50.00 offline; 23.00 is left until the terminal is "
                                "back online.")
    assert style.lookup(str(tab.message.cget("style")), "foreground") == PALETTE.danger
    assert chip(app, devices, uid).value == 8_300 and status.text("pending_uploads").endswith(": 1")
    tab.cancel()

    own_pg.resume()                                         # back: the queue goes up by itself
    wait_for(shell.root, lambda: tab.upload_message.kind == "ok" and status.text("pending_uploads").endswith(": 0"),
             timeout=20, what="the upload")
    assert tab.upload_message.text == "1 offline payment uploaded."
    wait_for(shell.root, lambda: tab.card is not None and not tab.card.get("offline") and not tab.looking_up,
             what="the card read again online")
    assert not tab.offline_label.winfo_manager()
    after = wallet.query(SYSTEM, number)
    assert money(after) == 11_000 - 2_700 == chip(app, devices, uid).value
    assert tab.balance_labels["main"].cget("text") == f"¥{after['balances']['main'] // 100:,}.{after['balances']['main'] % 100:02d}"
    assert [e["action"] for e in wallet.history(SYSTEM, number)].count("consume") == 1
    with app.uow.read() as uow:
        assert check(uow.session).ok
    charge(shell, tab, "10", what="the next charge online")   # online again: the entry, then the chip
    assert not tab.last_result.get("offline") and tab.last_result["purse"]["in_step"]
    assert chip(app, devices, uid).value == money(wallet.query(SYSTEM, number)) == 8_300 - 900


def test_a_copied_card_is_refused_in_red_and_blacklisted(
        shell: Any, app: Any, devices: Any, wallet: Any, lab: LabHandle, printer: Any) -> None:
    import json

    from sqlalchemy import select

    from suite.audit.models import AuditEvent
    from suite.ui.theme import PALETTE
    from tkinter import ttk

    card, uid = chip_card(app, devices, lab)
    number = card["card_no"]
    lab.clone(uid, magic=True)                  # a full copy (same UID) of the card as it is now
    tab = cashier_tab(shell)
    present(shell, lab, uid)
    wait_for(shell.root, lambda: tab.chip is not None and not tab.looking_up, timeout=EVENT_TIMEOUT,
             what="the card")
    charge(shell, tab, "30")                    # the card moves on; the copy stays behind
    present(shell, lab, uid, again=True, name=uid + ".magic")
    expected = (f"Card {number} shows an older state than the one already used: it is a restored copy. "
                "It is blacklisted: keep the card and call a manager.")
    wait_for(shell.root, lambda: tab.message.text == expected, timeout=EVENT_TIMEOUT, what="the refusal")
    style = ttk.Style(shell.root)
    assert tab.message.kind == "error"
    assert style.lookup(str(tab.message.cget("style")), "foreground") == PALETTE.danger
    assert tab.status_label.cget("text") == "Blacklisted (lost)" and tab.chip is None
    after = wallet.query(SYSTEM, number)
    assert after["status"] == "lost" and money(after) == 11_000 - 2_700
    with app.uow.read() as uow:
        found = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "security",
                                                             AuditEvent.target == number)).all()
        assert [(e.action, json.loads(e.details)["reason"]) for e in found] == [("wallet.clone_detected", "rollback")]
    charge(shell, tab, "10", kind="error", what="the refused charge")
    assert tab.message.text == f"Card {number} is blacklisted (reported lost)."
    assert money(wallet.query(SYSTEM, number)) == 11_000 - 2_700


def test_the_panel_in_chinese(shell: Any, wallet: Any) -> None:
    from suite.i18n import set_language

    card = new_card(wallet, new_uid(), block=True)
    shell.login.language_buttons["zh_CN"].invoke()
    try:
        tab = cashier_tab(shell)
        tab.number_entry.insert(0, card["card_no"])
        tab.lookup_button.invoke()
        wait_for(shell.root, lambda: tab.card is not None, what="the card")
        assert tab.message.kind == "error"
        assert tab.message.text != f"Card {card['card_no']} is blacklisted (reported lost)."
        assert card["card_no"] in tab.message.text
    finally:
        set_language("en")
