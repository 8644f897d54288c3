"""The sale screen's sessions (``plugins.tickets.ui.boxoffice``): the day bar (◀ and ▶ for the
day before and after, *Today*) over the day's sessions, each with its start time, programme,
hall, sold / capacity and sales state, and the title of the session on screen
(``SessionsPanel``)."""

from __future__ import annotations

import datetime as dt
import tkinter as tk
from collections.abc import Callable, Mapping
from tkinter import ttk
from typing import Any

from suite.i18n import N_, _, ngettext
from suite.ui.theme import PALETTE

SESSION_STATES = {
    "presale": N_("Presale"),
    "on_sale": N_("On sale"),
    "stopped": N_("Stopped"),
    "over": N_("Over"),
}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def session_state(info: Mapping[str, Any], now: dt.datetime) -> str:
    """``presale``, ``on_sale``, ``stopped`` or ``over`` (the session ended)."""
    ends = info.get("ends_at")
    if ends and dt.datetime.fromisoformat(str(ends)) <= now:
        return "over"
    return str(info.get("state") or "")


def state_title(state: str) -> str:
    return _(SESSION_STATES[state]) if state in SESSION_STATES else state


def day_text(day: dt.date, today: dt.date) -> str:
    text = f"{_(WEEKDAYS[day.weekday()])} {day.isoformat()}"
    return _("{day} (today)").format(day=text) if day == today else text


class SessionsPanel(ttk.Frame):
    """The day bar, the sessions of ``day`` (read with ``setup.list_sessions`` off the Tk
    thread; the newest reading wins) and the title of the session on screen.

    ``current()``: the code of the session the screen shows (None: none); ``on_pick(code)``:
    another session's row was selected; ``on_listed()``: the list was shown again (the sold
    counts and states changed); ``on_failed(exc)``: the sessions could not be read."""

    def __init__(self, parent: tk.Misc, context: Any, *, setup: Any, actor: Any, zone: dt.tzinfo,
                 current: Callable[[], str | None], on_pick: Callable[[str], Any], on_listed: Callable[[], Any],
                 on_failed: Callable[[BaseException], Any]) -> None:
        super().__init__(parent)
        self.context = context
        self.setup = setup
        self.actor = actor
        self.zone = zone
        self.current = current
        self.on_pick = on_pick
        self.on_listed = on_listed
        self.on_failed = on_failed
        self.day = self.today()
        self.sessions: list[dict[str, Any]] = []
        self.halls: dict[str, str] = {}             # hall code -> name, read once
        self.generation = 0
        style = ttk.Style(self)
        style.configure("BoxDay.TLabel", background=PALETTE.window, foreground=PALETTE.text, font="VSBold",
                        anchor="center")
        style.configure("BoxTitle.TLabel", background=PALETTE.window, foreground=PALETTE.text, font="VSLargeBold")
        self.columnconfigure(0, weight=1)
        self._build()

    def _build(self) -> None:
        bar = ttk.Frame(self)
        bar.grid(row=0, column=0, sticky="ew")
        self.prev_button = ttk.Button(bar, text="◀", width=3,
                                      command=lambda: self.show_day(self.day - dt.timedelta(days=1)))
        self.prev_button.pack(side="left")
        self.day_label = ttk.Label(bar, style="BoxDay.TLabel", width=22)
        self.day_label.pack(side="left", padx=6)
        self.next_button = ttk.Button(bar, text="▶", width=3,
                                      command=lambda: self.show_day(self.day + dt.timedelta(days=1)))
        self.next_button.pack(side="left")
        self.today_button = ttk.Button(bar, text=_("Today"), command=lambda: self.show_day(self.today()))
        self.today_button.pack(side="left", padx=(8, 0))
        self.note = ttk.Label(bar, style="Muted.TLabel")
        self.note.pack(side="right")

        box = ttk.Frame(self)
        box.grid(row=1, column=0, sticky="ew", pady=(6, 0))
        box.columnconfigure(0, weight=1)
        columns = (("time", _("Time"), 60, "w"), ("title", _("Programme"), 150, "w"), ("hall", _("Hall"), 90, "w"),
                   ("sold", _("Sold / capacity"), 140, "e"), ("state", _("State"), 90, "w"))
        self.tree = ttk.Treeview(box, columns=[c[0] for c in columns], show="headings", height=4,
                                 selectmode="browse", style="Box.Treeview")
        for name, title, width, anchor in columns:
            self.tree.heading(name, text=title, anchor=anchor)
            self.tree.column(name, width=width, minwidth=40, anchor=anchor, stretch=name == "title")
        self.tree.tag_configure("closed", foreground=PALETTE.disabled)
        self.tree.tag_configure("odd", background=PALETTE.stripe)
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.grid(row=0, column=0, sticky="ew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.tree.bind("<<TreeviewSelect>>", self._on_selected)
        self.title_label = ttk.Label(self, style="BoxTitle.TLabel", anchor="w")
        self.title_label.grid(row=2, column=0, sticky="ew", pady=(6, 4))

    def today(self) -> dt.date:
        return dt.datetime.now(self.zone).date()

    def hall_name(self, code: str) -> str:
        return self.halls.get(code, code)

    def find(self, code: str) -> dict[str, Any] | None:
        """The session ``code`` of the list (None: not listed)."""
        return next((s for s in self.sessions if s["code"] == code), None)

    def show_day(self, day: dt.date) -> None:
        """The sessions of ``day`` (local)."""
        if day != self.day:
            self.day = day
            self.load()

    def load(self) -> None:
        """Read the day's sessions (and the halls' names the first time) again."""
        self.generation += 1
        generation, day = self.generation, self.day
        setup, actor = self.setup, self.actor
        self.day_label.configure(text=day_text(day, self.today()))
        load_halls = not self.halls

        def work() -> tuple[list[dict[str, Any]], dict[str, str] | None]:
            halls = {h["code"]: h["name"] for h in setup.list_halls(actor)} if load_halls else None
            return setup.list_sessions(actor, day=day), halls

        def done(found: tuple[list[dict[str, Any]], dict[str, str] | None]) -> None:
            if generation == self.generation and self.winfo_exists():
                sessions, halls = found
                if halls is not None:
                    self.halls = halls
                self.show(sessions)

        self.context.run_in_thread(work, done, self.on_failed)

    def show(self, sessions: list[dict[str, Any]]) -> None:
        self.sessions = sessions
        tree = self.tree
        now = dt.datetime.now(dt.timezone.utc)
        current = self.current()
        tree.delete(*tree.get_children())
        for n, info in enumerate(sessions):
            state = session_state(info, now)
            starts = dt.datetime.fromisoformat(info["starts_at"]).astimezone(self.zone)
            tags = ["odd"] if n % 2 else []
            if state in ("stopped", "over"):
                tags.append("closed")
            tree.insert("", "end", iid=info["code"], tags=tags, values=(
                starts.strftime("%H:%M"), info.get("title") or info.get("programme"),
                self.hall_name(info["hall"]), f"{info['sold']:,} / {info['capacity']:,}",
                state_title(state)))
        if current and tree.exists(current):
            tree.selection_set(current)
            tree.see(current)
        self.note.configure(text=ngettext("{n} session", "{n} sessions", len(sessions)).format(
            n=len(sessions)) if sessions else _("No sessions this day."))
        self.on_listed()

    def show_title(self, info: Mapping[str, Any] | None) -> None:
        """The title over the map: the session on screen (``info``), or what to do first."""
        if info is None:
            self.title_label.configure(text=_("Pick a session to see its seats."), style="BoxTitle.TLabel")
            return
        starts = dt.datetime.fromisoformat(info["starts_at"]).astimezone(self.zone)
        state = session_state(info, dt.datetime.now(dt.timezone.utc))
        parts = [info.get("title") or info.get("programme"), starts.strftime("%Y-%m-%d %H:%M"),
                 self.hall_name(info["hall"]), state_title(state)]
        self.title_label.configure(text=" · ".join(str(p) for p in parts if p))

    def select(self, code: str) -> None:
        """Select the row of session ``code`` again (when it is listed)."""
        if self.tree.exists(code):
            self.tree.selection_set(code)

    def set_busy(self, busy: bool) -> None:
        """No other day while a sale is on its way."""
        for button in (self.prev_button, self.next_button, self.today_button):
            button.state(["disabled"] if busy else ["!disabled"])

    def _on_selected(self, _event: tk.Event) -> None:
        selected = self.tree.selection()
        if selected and selected[0] != self.current():
            self.on_pick(selected[0])
