"""The login screen (also the lock screen): password or operator card, in either language.

The password check (Argon2, about 0.1 s) and the card check run off the Tk thread through the
event pump; their messages come from the identity service in the language chosen here
(``suite.i18n`` is switched before the check). Card login listens for ``CardPresented``
events on the pump, whichever reader driver posts them.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any, Protocol

from suite.events import CardPresented
from suite.i18n import _, current_language
from suite.ui.widgets import error_text, release_variables

LANGUAGES = (("zh_CN", "简体中文"), ("en", "English"))


class LoginHooks(Protocol):
    def on_login(self, actor: Any) -> None: ...
    def set_language(self, language: str) -> None: ...
    def logout(self) -> None: ...


class LoginScreen(ttk.Frame):
    """``locked_by``: the operator whose session is locked (lock screen), or None."""

    def __init__(self, parent: tk.Misc, *, app: Any, pump: Any, hooks: LoginHooks, username: str = "",
                 locked_by: Any = None) -> None:
        super().__init__(parent)
        self.app = app
        self.pump = pump
        self.hooks = hooks
        self.locked_by = locked_by
        self.busy = False
        self.username = tk.StringVar(self, value=locked_by.username if locked_by is not None else username)
        self.password = tk.StringVar(self)
        self._build()
        self._card_sub = pump.subscribe(CardPresented, self.on_card)
        self.bind("<Destroy>", self._on_destroy, add="+")

    # -- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        card = ttk.Frame(self, style="Card.TFrame", padding=(36, 28))
        card.place(relx=0.5, rely=0.47, anchor="center")
        card.columnconfigure(0, weight=1)
        self.card = card
        ttk.Label(card, text="Venue Suite", style="SurfaceTitle.TLabel").grid(row=0, column=0, sticky="w")
        if self.locked_by is not None:
            subtitle = _("Locked by {name}. Enter the password or present the card to unlock.").format(
                name=self.locked_by.display_name)
        else:
            subtitle = _("Sign in to start work")
        ttk.Label(card, text=subtitle, style="SurfaceMuted.TLabel", wraplength=380).grid(
            row=1, column=0, sticky="w", pady=(2, 16))

        langs = ttk.Frame(card, style="Surface.TFrame")
        langs.grid(row=2, column=0, sticky="ew", pady=(0, 14))
        self.language_buttons: dict[str, ttk.Button] = {}
        for n, (code, title) in enumerate(LANGUAGES):
            button = ttk.Button(langs, text=title, command=lambda c=code: self.hooks.set_language(c),
                                style="TouchAccent.TButton" if code == current_language() else "Touch.TButton")
            button.grid(row=0, column=n, sticky="ew", padx=(0 if n == 0 else 8, 0))
            langs.columnconfigure(n, weight=1, uniform="lang")
            self.language_buttons[code] = button

        ttk.Label(card, text=_("Username"), style="Surface.TLabel").grid(row=3, column=0, sticky="w")
        self.username_entry = ttk.Entry(card, textvariable=self.username, style="Touch.TEntry", font="VSLarge",
                                        width=26)
        self.username_entry.grid(row=4, column=0, sticky="ew", pady=(2, 10))
        ttk.Label(card, text=_("Password"), style="Surface.TLabel").grid(row=5, column=0, sticky="w")
        self.password_entry = ttk.Entry(card, textvariable=self.password, show="•", style="Touch.TEntry",
                                        font="VSLarge", width=26)
        self.password_entry.grid(row=6, column=0, sticky="ew", pady=(2, 14))
        self.login_button = ttk.Button(card, text=_("Unlock") if self.locked_by is not None else _("Log in"),
                                       style="TouchAccent.TButton", command=self.submit)
        self.login_button.grid(row=7, column=0, sticky="ew")
        if self.locked_by is not None:
            self.logout_button = ttk.Button(card, text=_("Log out"), style="Touch.TButton",
                                            command=self.hooks.logout)
            self.logout_button.grid(row=8, column=0, sticky="ew", pady=(8, 0))
        self.message = ttk.Label(card, text="", style="Error.TLabel", wraplength=380, justify="left")
        self.message.grid(row=9, column=0, sticky="w", pady=(12, 0))
        ttk.Label(card, text=_("Or present your operator card to the reader."), style="SurfaceMuted.TLabel",
                  wraplength=380).grid(row=10, column=0, sticky="w", pady=(6, 0))
        where = self.app.settings.terminal
        ttk.Label(self, text=_("Venue {venue} · terminal {terminal}").format(
            venue=where.venue_code, terminal=where.terminal_code), style="Muted.TLabel").place(
                relx=0.5, rely=1.0, y=-12, anchor="s")

        for entry in (self.username_entry, self.password_entry):
            entry.bind("<Return>", lambda e: self.submit())
            entry.bind("<KP_Enter>", lambda e: self.submit())
        self.after_idle(self.focus_first)

    def focus_first(self) -> None:
        if not self.winfo_exists():
            return
        target = self.password_entry if self.username.get() else self.username_entry
        target.focus_set()

    @property
    def message_text(self) -> str:
        return str(self.message.cget("text"))

    def show_message(self, text: str, *, error: bool = True) -> None:
        self.message.configure(text=text, style="Error.TLabel" if error else "SurfaceMuted.TLabel")

    # -- actions -------------------------------------------------------------------------

    def submit(self) -> None:
        if self.busy:
            return
        username, password = self.username.get().strip(), self.password.get()
        if not username or not password:
            self.show_message(_("Enter your username and password."))
            return
        app = self.app
        self._start(lambda: app.identity.authenticate(username, password, venue_id=app.venue_id,
                                                      terminal_id=app.terminal_id))

    def on_card(self, event: CardPresented) -> None:
        if self.busy or not self.winfo_exists():
            return
        app = self.app
        devices = app.extras.get("devices")

        def check() -> Any:  # on a worker thread: the reader's LED and buzzer say the outcome
            try:
                actor = app.identity.authenticate_card(event.uid, venue_id=app.venue_id, terminal_id=app.terminal_id)
            except Exception:
                if devices is not None:
                    devices.tap_feedback(event.reader, good=False)
                raise
            if devices is not None:
                devices.tap_feedback(event.reader, good=True)
            return actor

        self._start(check)

    def _start(self, check: Callable[[], Any]) -> None:
        self.busy = True
        self.login_button.state(["disabled"])
        self.show_message(_("Checking…"), error=False)
        self.pump.run_in_thread(check, self._done, self._failed, name="login")

    def _done(self, actor: Any) -> None:
        self.busy = False
        if not self.winfo_exists():
            return
        self.password.set("")
        self.hooks.on_login(actor)

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        if not self.winfo_exists():
            return
        self.login_button.state(["!disabled"])
        self.password.set("")
        self.show_message(error_text(exc))
        self.password_entry.focus_set()

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            self._card_sub.cancel()
            release_variables(self)


__all__ = ["LANGUAGES", "LoginScreen"]
