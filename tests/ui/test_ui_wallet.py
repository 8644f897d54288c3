"""The wallet's screens in the real window under Xvfb, with the real devices: a virtual card on the
card lab's reader (pcscd + vpcd, read by the ``pcsc-reader`` driver of the device host) and the
receipt on the virtual ESC/POS printer (``escpos-printer`` over TCP), as ``make demo`` runs them.

The cashier logs in, a card is inserted in the lab: the panel pops up by itself; an amount is
typed with real keys (xdotool) and Enter charges it; the database, the printed receipt and the
screenshots (docs/screenshots/wallet-*.png) are checked. Refusals (a blacklisted card) show in
red and charge nothing; a double Enter or a retry after an error charges once; a printer out
of paper leaves the sale standing and *Reprint* prints the waiting job.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.uihelpers import CASHIER, REPO, login, screenshot, settle, wait_for

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


# -------------------------------------------------------------------- the card lab

class Lab:
    """The virtual card lab as these tests use it: insert and remove cards on reader 0."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.reader_names: list[str] = runtime.config.reader_names()

    def insert(self, uid: str, reader: int = 0) -> None:
        self.runtime.client.call("insert", reader=reader, uid=uid, name=None, kind="mifare", magic=False)

    def remove(self, reader: int = 0) -> None:
        self.runtime.client.call("remove", reader=reader)

    def wait_for_readers(self, timeout: float = 10.0) -> None:
        from smartcard import scard

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult == scard.SCARD_S_SUCCESS:
                hresult, found = scard.SCardListReaders(context, [])
                scard.SCardReleaseContext(context)
                if hresult == scard.SCARD_S_SUCCESS and set(self.reader_names) <= set(found):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"pcscd did not list the lab readers {self.reader_names}")


def _labs_of_this_process() -> list[Path]:
    """Private labs this test process runs already (``tests/devices`` starts one per session).
    pcsc-lite reads its socket name once per process, so a second lab could not be reached."""
    from devices.lab.runtime import OWNER_FILE, PRIVATE_PREFIX

    found = []
    for folder in Path(tempfile.gettempdir()).glob(PRIVATE_PREFIX + "*"):
        try:
            if int((folder / OWNER_FILE).read_text()) == os.getpid() and (folder / "lab.json").exists():
                found.append(folder)
        except (OSError, ValueError):
            continue
    return found


@pytest.fixture(scope="session")
def wallet_lab() -> Iterator[Lab]:
    from devices.lab.runtime import LabRuntime, private_lab

    running = _labs_of_this_process()
    if running:
        lab = Lab(LabRuntime(running[0]))
        lab.wait_for_readers()
        yield lab
        return
    forced = os.environ.get("VENUE_SUITE_LAB_PCSCD", "")
    with private_lab(forced if forced in ("system", "isolated") else None) as runtime:
        lab = Lab(runtime)
        lab.wait_for_readers()
        yield lab


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


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[Any]:
    from printers.virtual import VirtualPrinter

    virtual = VirtualPrinter(tmp_path / "printed", paper_mm=80, port=0).start()
    yield virtual
    virtual.stop()


@pytest.fixture
def app(demo_site: Path, wallet_lab: Lab, printer: Any, tmp_path: Path) -> Iterator[Any]:
    """The demo site with this terminal's devices: the lab's reader and the virtual printer."""
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.i18n import set_language

    settings = load_settings(demo_site)
    devices = {
        "reader": {"kind": "pcsc-reader", "reader": wallet_lab.reader_names[0]},
        "printer": {"kind": "escpos-printer", "transport": "network", "host": "127.0.0.1", "port": printer.port,
                    "paper": 80, "timeout": 2.0, "poll_seconds": 0, "queue_dir": str(tmp_path / "queue")},
    }
    application = build_app(dataclasses.replace(settings, devices=devices))
    set_language("en")
    try:
        yield application
    finally:
        application.close()
        set_language("en")


@pytest.fixture
def devices(app: Any, shell: Any) -> Iterator[Any]:
    """The device host, as ``venue-suite gui`` starts it: events go to the window's pump."""
    from suite.bootstrap import build_device_host

    host = build_device_host(app, shell.pump.poster)
    app.extras["devices"] = host
    host.start()
    try:
        yield host
    finally:
        host.stop()
        app.extras.pop("devices", None)


@pytest.fixture
def wallet(app: Any) -> Any:
    from plugins.wallet.services import WalletService

    return WalletService.from_app(app)


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
    return open_tab(main, "wallet.cashier")


def present(shell: Any, lab: Lab, uid: str, *, again: bool = False) -> None:
    """Put the card with ``uid`` on reader 0; ``again``: take it off first (the reader must see it
    leave, or it never sees it come back)."""
    from suite.events import CardRemoved

    if again:
        removed: list[object] = []
        sub = shell.pump.subscribe(CardRemoved, removed.append)
        try:
            lab.remove()
            wait_for(shell.root, lambda: removed, timeout=EVENT_TIMEOUT, what="the card to leave the reader")
        finally:
            sub.cancel()
    lab.insert(uid)


# -------------------------------------------------------------------- tests

def test_card_on_the_reader_pops_up_enter_charges_and_the_receipt_prints(
        shell: Any, devices: Any, wallet: Any, wallet_lab: Lab, printer: Any) -> None:
    uid = new_uid()
    card = new_card(wallet, uid)
    assert card["balances"] == {**card["balances"], "main": 10_000, "gift": 1_000, "deposit": 2_000}
    tab = cashier_tab(shell)
    try:
        present(shell, wallet_lab, uid)
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
        present(shell, wallet_lab, uid, again=True)
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
        wallet_lab.remove()


def test_a_blacklisted_card_is_refused_in_red_and_nothing_is_charged(
        shell: Any, devices: Any, wallet: Any, wallet_lab: Lab, printer: Any) -> None:
    from tkinter import ttk

    from suite.ui.theme import PALETTE

    uid = new_uid()
    card = new_card(wallet, uid, block=True)
    tab = cashier_tab(shell)
    try:
        present(shell, wallet_lab, uid)
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
        wallet_lab.remove()


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
