"""Login and lock screens: password, card, errors and lockout in the chosen language."""

from __future__ import annotations

import threading

from tests.ui.uihelpers import ADMIN, CASHIER, LOCKOUT_THRESHOLD, login, screenshot, settle, wait_for

from suite.events import CardPresented
from suite.i18n import current_language
from suite.identity.actor import Actor
from suite.ui.theme import TOUCH_MIN_PX


def test_login_screen_renders_and_good_password_opens_the_main_window(shell) -> None:
    screen = shell.login
    settle(shell.root)
    assert screen.winfo_ismapped()
    assert screen.login_button.winfo_height() >= TOUCH_MIN_PX
    assert screen.username_entry.winfo_height() >= 40
    assert shell.root.winfo_width() >= 1024 and shell.root.winfo_height() >= 768
    screenshot(shell.root, "login")
    main = login(shell, *ADMIN)
    assert shell.actor.username == "admin"
    ids = main.tab_ids()  # the demo licenses the wallet: its tabs come first (order 100+)
    assert ids[-2:] == ["core.reports", "core.admin"] and "wallet.cashier" in ids
    assert "Demo Administrator" in main.status.text("operator")
    assert shell.app.extras["ui.actor"].username == "admin"


def test_wrong_password_is_refused_with_the_services_message(shell) -> None:
    screen = shell.login
    screen.username.set("admin")
    screen.password.set("not-the-password")
    screen.login_button.invoke()
    wait_for(shell.root, lambda: "Wrong username or password" in screen.message_text, what="the refusal")
    assert shell.main is None
    assert screen.password.get() == ""
    assert "!disabled" in str(screen.login_button.state()) or not screen.login_button.instate(["disabled"])


def test_empty_fields_are_refused_without_a_check(shell) -> None:
    shell.login.login_button.invoke()
    assert shell.login.message_text == "Enter your username and password."
    assert not shell.login.busy


def test_lockout_is_shown_in_chinese_after_switching_language(shell) -> None:
    user = "locky"
    shell.app.identity.create_user(Actor.system("test"), username=user, password="locky-pass-2026",
                                   roles=("salesperson",))
    shell.login.language_buttons["zh_CN"].invoke()
    assert current_language() == "zh_CN"
    screen = shell.login
    assert str(screen.language_buttons["zh_CN"].cget("style")) == "TouchAccent.TButton"
    for attempt in range(LOCKOUT_THRESHOLD):
        screen.username.set(user)
        screen.password.set("wrong-password")
        screen.login_button.invoke()
        wait_for(shell.root, lambda: not screen.busy and screen.message_text not in ("", screen.message_text[:0]),
                 what="the answer")
        if attempt < LOCKOUT_THRESHOLD - 1:
            assert screen.message_text == "用户名或密码错误"
    assert "锁定" in screen.message_text
    screenshot(shell.root, "login-zh")
    # even the right password is refused while locked, still in Chinese
    screen.username.set(user)
    screen.password.set("locky-pass-2026")
    screen.login_button.invoke()
    wait_for(shell.root, lambda: not screen.busy, what="the answer")
    assert "锁定" in screen.message_text and shell.main is None
    shell.login.language_buttons["en"].invoke()
    assert current_language() == "en"
    assert shell.login.username.get() == user  # what was typed survives the switch


def test_operator_card_posted_from_a_reader_thread_logs_in(shell) -> None:
    shell.app.identity.bind_card(Actor.system("test"), "cashier", "04A1B2C3D4")
    unknown = threading.Thread(target=shell.pump.post, args=(CardPresented("reader-1", "DEADBEEF"),))
    unknown.start()
    unknown.join()
    wait_for(shell.root, lambda: "not an operator card" in shell.login.message_text, what="unknown card refused")
    reader = threading.Thread(target=shell.pump.post,
                              args=(CardPresented("reader-1", "04A1B2C3D4", "3B8F8001", "mifare_classic"),))
    reader.start()
    reader.join()
    wait_for(shell.root, lambda: shell.main is not None, what="the card login")
    assert shell.actor.username == "cashier"


def test_lock_and_unlock_keeps_the_session_and_log_out_returns_to_login(shell) -> None:
    main = login(shell, *ADMIN)
    main.select_id("core.admin")
    main.lock_button.invoke()
    assert shell.locked and shell.login is not None and not main.winfo_ismapped()
    assert shell.login.username.get() == "admin"
    main.event_generate("<Control-Key-1>")  # shortcuts do nothing while locked
    assert main.current_id() == "core.admin"
    screen = shell.login
    screen.password.set("wrong-password")
    screen.login_button.invoke()
    wait_for(shell.root, lambda: not screen.busy and screen.message_text, what="refusal")
    assert shell.locked
    screen.password.set(ADMIN[1])
    screen.login_button.invoke()
    wait_for(shell.root, lambda: not shell.locked, what="unlock")
    assert shell.main is main and main.current_id() == "core.admin"  # the same window, as it was
    main.logout_button.invoke()
    assert shell.main is None and shell.login is not None and shell.actor is None
    assert shell.login.username.get() == "admin"


def test_cashier_does_not_see_administration(shell) -> None:
    main = login(shell, *CASHIER)
    assert "core.admin" not in main.tab_ids()
    assert "core.reports" not in main.tab_ids()  # a salesperson has no reports.view
