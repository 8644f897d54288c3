"""The main window: lazy tabs, keyboard switching, tabs following licence, plugin state and
permission, the status bar fed by events, the language switch."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading

from tests.ui.uihelpers import ADMIN, CASHIER, login, screenshot, settle, wait_for

from suite.demo import DEMO_FEATURES
from suite.events import DeviceHealth, StatusUpdate
from suite.i18n import _
from suite.licensing.service import LicenceService
from tests.ui import plugin_fixture


def test_tabs_are_built_lazily_and_switched_by_keyboard(shell) -> None:
    main = login(shell, *ADMIN)
    ids = main.tab_ids()
    reports, admin = ids.index("core.reports") + 1, ids.index("core.admin") + 1  # 1-based, as the keys
    assert [slot.built for slot in main.slots] == [True] + [False] * (len(ids) - 1)
    main.focus_force()
    settle(shell.root)
    main.event_generate(f"<Control-Key-{admin}>")
    settle(shell.root)
    assert main.current_id() == "core.admin" and main.slots[admin - 1].built
    main.event_generate(f"<F{reports}>")
    settle(shell.root)
    assert main.current_id() == "core.reports"
    main.event_generate(f"<F{admin}>")
    settle(shell.root)
    assert main.current_id() == "core.admin"
    main.event_generate("<Control-Key-9>")  # the ninth tab, or nothing when there is none
    settle(shell.root)
    assert main.current_id() == (ids[8] if len(ids) >= 9 else "core.admin")
    # the same with real key presses from the X server
    shell.root.focus_force()
    settle(shell.root, 0.2)
    env = {**os.environ, "DISPLAY": os.environ["DISPLAY"]}
    subprocess.run(["xdotool", "key", f"ctrl+{reports}"], check=True, env=env, timeout=10)
    wait_for(shell.root, lambda: main.current_id() == "core.reports", what="Ctrl+N from xdotool")
    subprocess.run(["xdotool", "key", f"F{admin}"], check=True, env=env, timeout=10)
    wait_for(shell.root, lambda: main.current_id() == "core.admin", what="F-key from xdotool")
    screenshot(shell.root, "main")


def _licence_with(app, *features: str) -> str:
    return LicenceService.issue_with_keyring(
        app.secrets, chain_id="demo-chain", licensee="Venue Suite Demo", features=features, max_terminals=10,
        max_activated_cards=10_000, expires=dt.date.today() + dt.timedelta(days=365))


def test_a_plugins_tab_follows_its_licence_and_its_enabled_state(shell) -> None:
    app = shell.app
    plugin_fixture.with_plugin(app)
    main = login(shell, *ADMIN)
    assert plugin_fixture.TAB_ID not in main.tab_ids()  # feature "kiosk" is not licensed
    main.select_id("core.admin")
    admin = main.slots[main.tab_ids().index("core.admin")].content
    licence = admin.show("licence")
    assert "Licence valid" in str(licence.state_label.cget("text"))
    try:
        licence.text.insert("1.0", _licence_with(app, *DEMO_FEATURES, plugin_fixture.FEATURE))
        assert licence.install_pasted() is not None, licence.message.text
        assert "installed" in licence.message.text
        assert plugin_fixture.TAB_ID in main.tab_ids()
        assert main.current_id() == "core.admin"  # the admin tab stayed where it was
        ids = main.tab_ids()
        assert ids.index(plugin_fixture.TAB_ID) < ids.index("core.reports")  # order=100 comes first
        main.select_id(plugin_fixture.TAB_ID)
        slot = main.slots[ids.index(plugin_fixture.TAB_ID)]
        assert slot.content is not None and slot.error is None
        plugins = admin.show("plugins")
        plugins.table.select(plugin_fixture.PLUGIN_ID)
        plugins.disable_button.invoke()
        assert "disabled" in plugins.message.text
        assert plugin_fixture.TAB_ID not in main.tab_ids()
        row = plugins.table.tree.item(plugin_fixture.PLUGIN_ID, "values")
        assert row[2] == "0.3.0" and row[3] == "kiosk" and row[4] == "disabled"
        plugins.table.select(plugin_fixture.PLUGIN_ID)
        plugins.enable_button.invoke()
        assert plugin_fixture.TAB_ID in main.tab_ids()
        plugins.table.select("core")
        plugins.disable_button.invoke()
        assert "cannot be disabled" in plugins.message.text and plugins.message.kind == "error"
    finally:
        app.licences.install(_licence_with(app, *DEMO_FEATURES), "test")


def test_a_licensed_plugin_tab_is_shown_to_a_permitted_cashier_without_administration(shell) -> None:
    app = shell.app
    plugin_fixture.with_plugin(app)
    app.licences.install(_licence_with(app, *DEMO_FEATURES, plugin_fixture.FEATURE), "test")
    try:
        main = login(shell, *CASHIER)
        # salesperson: kiosk.use, the wallet's and the box office's counter tabs, no administration
        assert set(main.tab_ids()) == {plugin_fixture.TAB_ID, "wallet.cashier", "wallet.selfquery",
                                       "tickets.boxoffice", "tickets.kiosk"}
        assert main.slots[0].built
    finally:
        app.licences.install(_licence_with(app, *DEMO_FEATURES), "test")


def test_status_bar_shows_what_threads_post(shell) -> None:
    main = login(shell, *ADMIN)
    status = main.status
    assert status.text("shift").endswith("—") and status.text("pending_uploads").endswith(": 0")
    assert "HQ" in status.text("venue") and "T01" in status.text("terminal")
    wait_for(shell.root, lambda: "online" in status.text("online"), what="the heartbeat")

    def device_thread() -> None:
        shell.pump.post(StatusUpdate("shift", "Morning #3"))
        shell.pump.post(DeviceHealth("reader-1", True))
        shell.pump.post(DeviceHealth("printer-1", False, "out of paper"))
        shell.pump.post(StatusUpdate("pending_uploads", 4))
        shell.pump.post(StatusUpdate("gate_mode", "normal"))

    worker = threading.Thread(target=device_thread)
    worker.start()
    worker.join()
    wait_for(shell.root, lambda: "gate_mode" in status.labels, what="the updates")
    assert status.text("shift").endswith("Morning #3")
    assert "printer-1: out of paper" in status.text("devices")
    assert status.text("pending_uploads").endswith(": 4")
    assert status.text("gate_mode") == "gate_mode: normal"
    shell.pump.post(DeviceHealth("printer-1", True))
    wait_for(shell.root, lambda: "all OK (2)" in status.text("devices"), what="the device recovery")


def test_language_switch_in_the_settings_menu_relabels_the_window(shell) -> None:
    main = login(shell, *ADMIN)
    main.select_id("core.admin")
    main.language_menu.invoke(0)  # 简体中文
    new = shell.main
    assert new is not main and not main.winfo_exists()
    assert new.current_id() == "core.admin"
    assert new.status.text("operator").startswith("操作员")  # "Operator" in the catalogue
    admin = new.tab_ids().index("core.admin")
    assert new.notebook.tab(admin, "text") == _("Administration")
    new.language_menu.invoke(1)  # English
    assert shell.main.status.text("operator").startswith("Operator:")
    assert shell.main.notebook.tab(admin, "text") == "Administration"
