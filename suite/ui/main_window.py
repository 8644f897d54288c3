"""The main window: a header, one notebook tab per permitted plugin tab, the status bar.

Tabs come from ``app.plugins.tabs(actor)``: only active (enabled, licensed) plugins, only
tabs whose permission the operator holds. Each tab starts as an empty frame and is built by
its factory (``factory(parent, context)``) the first time it is shown, so logging in costs
only the tab that opens first. Ctrl+1..9 and F1..F9 select the tabs in order.
"""

from __future__ import annotations

import logging
import tkinter as tk
from dataclasses import dataclass
from tkinter import ttk
from typing import Any, Protocol

from suite.declarations import TabSpec
from suite.events import DeviceHealth, StatusUpdate
from suite.i18n import _, current_language
from suite.ui.context import TabContext
from suite.ui.login import LANGUAGES
from suite.ui.status_bar import StatusBar
from suite.ui.widgets import error_text, release_variables

log = logging.getLogger(__name__)

MAX_SHORTCUT = 9


class MainHooks(Protocol):
    def lock(self) -> None: ...
    def logout(self) -> None: ...
    def set_language(self, language: str) -> None: ...


@dataclass
class TabSlot:
    spec: TabSpec
    frame: ttk.Frame
    content: tk.Misc | None = None
    error: str | None = None

    @property
    def built(self) -> bool:
        return self.content is not None or self.error is not None


def shortcut_sequences(n: int) -> list[str]:
    """The key sequences selecting tab ``n`` (1-based)."""
    return [f"<Control-Key-{n}>", f"<F{n}>"]


class MainWindow(ttk.Frame):
    def __init__(self, parent: tk.Misc, *, app: Any, actor: Any, pump: Any, hooks: MainHooks,
                 fonts: Any = None) -> None:
        super().__init__(parent)
        self.app = app
        self.actor = actor
        self.pump = pump
        self.hooks = hooks
        self.context = TabContext(app, actor, pump, self, fonts=fonts)
        self.slots: list[TabSlot] = []
        self.suspended = False  # True while the lock screen covers the window
        self._bound: list[tuple[str, str]] = []
        self._build_header()
        self.notebook = ttk.Notebook(self)
        self.notebook.pack(side="top", fill="both", expand=True, padx=8, pady=(6, 0))
        self.notebook.bind("<<NotebookTabChanged>>", self._on_tab_changed)
        where = app.settings.terminal
        self.status = StatusBar(self, operator=actor.display_name, venue=where.venue_code,
                                terminal=where.terminal_code)
        self.status.pack(side="bottom", fill="x", before=self.notebook)
        self.context.subscribe(StatusUpdate, self.status.on_status)
        self.context.subscribe(DeviceHealth, self.status.on_device)
        self.empty = ttk.Label(self, text=_("No tab is available to you: ask an administrator for a role or a "
                                            "licence."), style="Muted.TLabel")
        self.load_tabs()
        self._bind_shortcuts()
        self.bind("<Destroy>", self._on_destroy, add="+")

    # -- header --------------------------------------------------------------------------

    def _build_header(self) -> None:
        header = ttk.Frame(self, style="Header.TFrame", padding=(14, 8))
        header.pack(side="top", fill="x")
        ttk.Label(header, text="Venue Suite", style="Header.TLabel").pack(side="left")
        ttk.Label(header, text=f"  {self.app.settings.terminal.venue_code} / "
                               f"{self.app.settings.terminal.terminal_code}",
                  style="HeaderMuted.TLabel").pack(side="left")
        self.logout_button = ttk.Button(header, text=_("Log out"), style="Header.TButton", command=self.hooks.logout)
        self.logout_button.pack(side="right")
        self.lock_button = ttk.Button(header, text=_("Lock"), style="Header.TButton", command=self.hooks.lock)
        self.lock_button.pack(side="right", padx=(0, 6))
        self.settings_button = ttk.Menubutton(header, text=_("Settings"), style="Header.TButton")
        self.settings_menu = tk.Menu(self.settings_button, tearoff=False)
        self.language_menu = tk.Menu(self.settings_menu, tearoff=False)
        self._language = tk.StringVar(self, value=current_language())
        for code, title in LANGUAGES:
            self.language_menu.add_radiobutton(label=title, value=code, variable=self._language,
                                               command=lambda c=code: self.hooks.set_language(c))
        self.settings_menu.add_cascade(label=_("Language"), menu=self.language_menu)
        self.settings_menu.add_command(label=_("Keyboard shortcuts"), command=self.show_shortcuts)
        self.settings_button.configure(menu=self.settings_menu)
        self.settings_button.pack(side="right", padx=(0, 6))
        ttk.Label(header, text=self.actor.display_name, style="HeaderMuted.TLabel").pack(side="right", padx=(0, 14))

    def show_shortcuts(self) -> None:
        from tkinter import messagebox

        lines = [f"Ctrl+{n} / F{n}: {_(slot.spec.title)}" for n, slot in enumerate(self.slots[:MAX_SHORTCUT], 1)]
        messagebox.showinfo(_("Keyboard shortcuts"), "\n".join(lines) or _("No tabs."), parent=self)

    # -- tabs ----------------------------------------------------------------------------

    def load_tabs(self) -> None:
        """Add a placeholder for every tab the operator may open (nothing is built yet)."""
        for spec in self.app.plugins.tabs(self.actor):
            self._add_slot(spec)
        self._show_empty_hint()
        if self.slots:
            self.select(0)

    def _add_slot(self, spec: TabSpec, index: int | str = "end") -> TabSlot:
        frame = ttk.Frame(self.notebook)
        slot = TabSlot(spec, frame)
        self.notebook.insert(index, frame, text=_(spec.title))
        if index == "end":
            self.slots.append(slot)
        else:
            self.slots.insert(int(index), slot)
        return slot

    def _show_empty_hint(self) -> None:
        if self.slots:
            self.empty.place_forget()
        else:
            self.empty.place(relx=0.5, rely=0.4, anchor="center")

    def tab_ids(self) -> list[str]:
        return [slot.spec.id for slot in self.slots]

    def current_index(self) -> int | None:
        try:
            current = self.notebook.select()
            return self.notebook.index(current) if current else None
        except tk.TclError:
            return None

    def current_id(self) -> str | None:
        index = self.current_index()
        return self.slots[index].spec.id if index is not None and index < len(self.slots) else None

    def select(self, index: int) -> None:
        if 0 <= index < len(self.slots):
            self.notebook.select(self.slots[index].frame)
            self.build_tab(index)

    def select_id(self, tab_id: str) -> None:
        self.select(self.tab_ids().index(tab_id))

    def _on_tab_changed(self, _event: tk.Event) -> None:
        index = self.current_index()
        if index is not None:
            self.build_tab(index)

    def build_tab(self, index: int) -> TabSlot:
        """Build tab ``index`` now if it was not built yet."""
        from suite.plugins import resolve_ref

        slot = self.slots[index]
        if slot.built:
            return slot
        try:
            factory = resolve_ref(slot.spec.factory)
            content = factory(slot.frame, self.context.for_tab(slot.spec.id))
            if content is None:
                raise TypeError(f"{slot.spec.factory} returned None instead of a widget")
            if not content.winfo_manager():
                content.pack(fill="both", expand=True)
            slot.content = content
        except Exception as exc:  # noqa: BLE001 - one broken tab must not take the window down
            log.exception("tab %s (%s) failed to build", slot.spec.id, slot.spec.factory)
            slot.error = error_text(exc)
            ttk.Label(slot.frame, text=_("This tab could not be opened: {reason}").format(reason=slot.error),
                      style="Muted.TLabel", wraplength=600).pack(padx=24, pady=24, anchor="nw")
        return slot

    def build_all(self) -> None:
        for index in range(len(self.slots)):
            self.build_tab(index)

    def rebuild_tabs(self) -> None:
        """Match the tabs to the plugins' current state (after enable/disable or a licence):
        tabs that stay keep their content, gone ones are removed, new ones appear unbuilt."""
        if not self.winfo_exists():
            return
        current = self.current_id()
        specs = self.app.plugins.tabs(self.actor)
        wanted = [s.id for s in specs]
        for slot in [s for s in self.slots if s.spec.id not in wanted]:
            self.notebook.forget(slot.frame)
            slot.frame.destroy()
            self.slots.remove(slot)
        by_id = {slot.spec.id: slot for slot in self.slots}
        for position, spec in enumerate(specs):
            slot = by_id.get(spec.id)
            if slot is None:
                self._add_slot(spec, position)
            else:
                self.notebook.insert(position, slot.frame)
                self.slots.remove(slot)
                self.slots.insert(position, slot)
        self._show_empty_hint()
        if current in wanted:
            self.select_id(current)
        elif self.slots:
            self.select(0)

    # -- shortcuts -----------------------------------------------------------------------

    def _bind_shortcuts(self) -> None:
        top = self.winfo_toplevel()
        for n in range(1, MAX_SHORTCUT + 1):
            for sequence in shortcut_sequences(n):
                funcid = top.bind(sequence, lambda e, i=n - 1: self._shortcut(i), add="+")
                self._bound.append((sequence, funcid))

    def _shortcut(self, index: int) -> str:
        if not self.suspended:
            self.select(index)
        return "break"

    def _unbind_shortcuts(self) -> None:
        top = self.winfo_toplevel()
        for sequence, funcid in self._bound:
            try:
                top.unbind(sequence, funcid)
            except tk.TclError:
                pass
        self._bound.clear()

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            self._unbind_shortcuts()
            self.context.close()
            release_variables(self)


__all__ = ["MainWindow", "TabSlot", "shortcut_sequences"]
