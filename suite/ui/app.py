"""The shell: one Tk root, the theme, the event pump, and the screens it moves between.

``Shell`` starts at the login screen; a login shows the main window; *Lock* covers it with
the lock screen (the same operator's password or card brings it back, another operator's
login ends the session); *Log out* returns to the login screen. Switching the language
rebuilds the current screen. ``run(app)`` is what ``venue-suite gui`` and ``make demo`` call.
"""

from __future__ import annotations

import logging
import tkinter as tk
from typing import Any

from suite.i18n import _, current_language, set_language
from suite.ui.events import EventPump
from suite.ui.login import LoginScreen
from suite.ui.main_window import MainWindow
from suite.ui.status_bar import Heartbeat
from suite.ui.theme import apply_theme

log = logging.getLogger(__name__)

MIN_SIZE = (1024, 768)
ACTOR_KEY = "ui.actor"  # app.extras[ACTOR_KEY]: who is logged in (None when nobody)


def create_root(*, title: str = "Venue Suite", size: tuple[int, int] = MIN_SIZE, base_font: int = 11) -> tuple[tk.Tk, Any]:
    """The Tk root, themed, at ``size`` (never smaller than 1024x768); returns (root, fonts)."""
    root = tk.Tk(className="VenueSuite")
    root.title(title)
    fonts = apply_theme(root, base_size=base_font)
    width, height = max(size[0], MIN_SIZE[0]), max(size[1], MIN_SIZE[1])
    root.geometry(f"{width}x{height}+0+0")
    root.minsize(*MIN_SIZE)
    return root, fonts


class Shell:
    def __init__(self, root: tk.Tk, app: Any, *, fonts: Any = None, ping_interval: float = 5.0) -> None:
        self.root = root
        self.app = app
        self.fonts = fonts
        self.ping_interval = ping_interval
        self.pump = EventPump(root, app=app)
        self.pump.start()
        self.actor: Any = None
        self.login: LoginScreen | None = None
        self.main: MainWindow | None = None
        self.heartbeat: Heartbeat | None = None
        self.locked = False
        self.app.extras[ACTOR_KEY] = None
        root.protocol("WM_DELETE_WINDOW", self.close)

    # -- screens -------------------------------------------------------------------------

    def show_login(self, *, username: str = "", message: str = "") -> LoginScreen:
        self._drop_login()
        self.login = LoginScreen(self.root, app=self.app, pump=self.pump, hooks=self, username=username,
                                 locked_by=self.actor if self.locked else None)
        self.login.place(x=0, y=0, relwidth=1, relheight=1)
        self.login.lift()
        if message:
            self.login.show_message(message)
        self.root.title(_("Venue Suite: sign in") if not self.locked else _("Venue Suite: locked"))
        return self.login

    def _drop_login(self) -> None:
        if self.login is not None:
            self.login.destroy()
            self.login = None

    def show_main(self, actor: Any) -> MainWindow:
        self._drop_login()
        self._drop_main()
        self.actor = actor
        self.locked = False
        self.app.extras[ACTOR_KEY] = actor
        self.main = MainWindow(self.root, app=self.app, actor=actor, pump=self.pump, hooks=self, fonts=self.fonts)
        self.main.place(x=0, y=0, relwidth=1, relheight=1)
        self.root.title(_("Venue Suite: {name}").format(name=actor.display_name))
        self.heartbeat = Heartbeat(self.app.database_online, self.pump.poster, self.ping_interval).start()
        return self.main

    def _drop_main(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
            self.heartbeat = None
        if self.main is not None:
            self.main.destroy()
            self.main = None

    # -- hooks of the screens ------------------------------------------------------------

    def on_login(self, actor: Any) -> None:
        if self.locked and self.main is not None and self.actor is not None and actor.username == self.actor.username:
            self.locked = False
            self._drop_login()
            self.main.suspended = False
            self.main.place(x=0, y=0, relwidth=1, relheight=1)
            self.main.lift()
            self.root.title(_("Venue Suite: {name}").format(name=actor.display_name))
            return
        self.show_main(actor)

    def lock(self) -> None:
        if self.main is None:
            return
        self.locked = True
        self.main.suspended = True
        self.main.place_forget()  # nothing behind the lock screen can take focus or keys
        self.show_login()

    def logout(self) -> None:
        self._drop_main()
        previous = self.actor
        self.actor = None
        self.locked = False
        self.app.extras[ACTOR_KEY] = None
        self.show_login(username=previous.username if previous is not None else "")

    def rebuild_tabs(self) -> None:
        if self.main is not None:
            self.main.rebuild_tabs()

    def set_language(self, language: str) -> None:
        """Switch the language and rebuild the screen on show (typed input is kept)."""
        set_language(language)
        if self.login is not None:
            username = self.login.username.get() if self.login.locked_by is None else ""
            self.show_login(username=username)
        elif self.main is not None and self.actor is not None:
            current = self.main.current_id()
            main = self.show_main(self.actor)
            if current in main.tab_ids():
                main.select_id(current)

    @property
    def language(self) -> str:
        return current_language()

    def close(self) -> None:
        self._drop_main()
        self.pump.stop()
        self.app.extras.pop(ACTOR_KEY, None)
        try:
            self.root.destroy()
        except tk.TclError:
            pass


def run(app: Any, *, size: tuple[int, int] = MIN_SIZE) -> int:
    """Open the window at the login screen and run until it is closed."""
    from suite.bootstrap import build_device_host

    root, fonts = create_root(size=size)
    shell = Shell(root, app, fonts=fonts)
    from devices.wedge import KeyboardWedge

    devices = build_device_host(app, shell.pump.post)
    app.extras["devices"] = devices
    KeyboardWedge(root, shell.pump.post).attach()  # keyboard-wedge scanners -> ScanEvent
    shell.show_login()
    devices.start()  # device threads post to the pump; nothing they do touches a widget
    try:
        root.mainloop()
    finally:
        devices.stop()
        shell.pump.stop()
    return 0


__all__ = ["ACTOR_KEY", "MIN_SIZE", "Shell", "create_root", "run"]
