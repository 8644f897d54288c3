"""The finance tab ``wallet.settlement`` (W8): pick a venue and a period of local days, see its
card figures settled and unsettled and per terminal, and mark the period settled.

*Show* reads ``SettlementService.summary`` and the venue's settlements off the Tk thread;
*Mark settled* takes two presses (the second within ``CONFIRM_MS``) and calls
``SettlementService.mark_settled`` with the note, also off the Tk thread. Refusals (a period
not over, overlapping an earlier settlement, nothing to settle, no permission) show in red,
translated, and change nothing.
"""

from __future__ import annotations

import datetime as dt
import tkinter as tk
from collections.abc import Callable, Mapping, Sequence
from tkinter import ttk
from typing import Any

from suite.i18n import N_, _
from suite.reporting.formats import format_money
from suite.ui.widgets import ColumnDef, MessageBar, Table, release_variables

CONFIRM_MS = 8000

# the summary's rows: (key in the summary, title, money?)
FIGURES: tuple[tuple[str, str, bool], ...] = (
    ("events", N_("Card events"), False),
    ("topups", N_("Top-ups"), False),
    ("recharge", N_("Top-ups paid"), True),
    ("consumes", N_("Payments"), False),
    ("charged", N_("Consumed"), True),
    ("counts_used", N_("Counts used"), False),
    ("refunded", N_("Refunded"), True),
    ("deposits", N_("Deposits"), True),
    ("net_cash", N_("Net cash"), True),
    ("settlement", N_("Due to venue"), True),
    ("net", N_("Net to head office"), True),
)
# tables: (key, title, width in characters, money?)
TERMINAL_COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("terminal", N_("Terminal"), 8, False),
    ("unsettled_events", N_("Unsettled"), 6, False),
    ("recharge", N_("Top-ups paid"), 9, True),
    ("charged", N_("Consumed"), 9, True),
    ("counts_used", N_("Counts"), 5, False),
    ("net_cash", N_("Net cash"), 8, True),
)
SETTLEMENT_COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("period", N_("Period"), 22, False),
    ("events", N_("Events"), 6, False),
    ("recharge", N_("Top-ups paid"), 9, True),
    ("consumption", N_("Consumed"), 9, True),
    ("settled_by", N_("By"), 8, False),
    ("settled_at", N_("Settled at"), 16, False),
    ("note", N_("Note"), 20, False),
)


NUMERIC = frozenset({"events", "counts_used", "unsettled_events"})


def _defs(columns: Sequence[tuple[str, str, int, bool]]) -> list[ColumnDef]:
    """Table columns wide enough for their (translated) heading: a CJK character takes two."""
    defs = []
    for key, title, width, money in columns:
        label = _(title)
        needed = sum(2 if ord(ch) > 0x2E80 else 1 for ch in label) + 3
        defs.append(ColumnDef(key, label, max(width, needed), "e" if money or key in NUMERIC else "w"))
    return defs


def _cells(row: Mapping[str, Any], columns: Sequence[tuple[str, str, int, bool]]) -> tuple[str, ...]:
    return tuple(format_money(int(row.get(key) or 0)) if money else ("" if row.get(key) is None else str(row[key]))
                 for key, _title, _width, money in columns)


class SettlementTab(ttk.Frame):
    def __init__(self, parent: tk.Misc, context: Any, *, service: Any = None) -> None:
        super().__init__(parent, padding=(12, 10, 12, 8))
        self.context = context
        self.app = context.app
        self.actor = context.actor
        if service is None:
            from plugins.wallet.settlement import SettlementService

            service = SettlementService.from_app(self.app)
        self.service = service
        self.generation = 0
        self.busy = False
        self.summary: dict[str, Any] | None = None
        self._armed: tuple[str, str, str] | None = None
        self._disarm_id: str | None = None
        self._build()
        self.yesterday()
        self.load_venues()
        self.bind("<Destroy>", self._on_destroy, add="+")

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.columnconfigure(0, weight=1)
        self.rowconfigure(2, weight=1)
        head = ttk.Frame(self)
        head.grid(row=0, column=0, sticky="ew")
        ttk.Label(head, text=_("Card settlement"), style="Title.TLabel").pack(side="left")
        ttk.Label(head, text=_("Local days of the venue ({zone})").format(zone=self.service.settings.timezone),
                  style="Muted.TLabel").pack(side="left", padx=(12, 0))

        form = ttk.Frame(self)
        form.grid(row=1, column=0, sticky="ew", pady=(8, 6))
        ttk.Label(form, text=_("Venue")).pack(side="left")
        self.venue = ttk.Combobox(form, width=12, values=[self.service.venue_code])
        self.venue.set(self.service.venue_code)
        self.venue.pack(side="left", padx=(6, 16))
        ttk.Label(form, text=_("From")).pack(side="left")
        self.first = ttk.Entry(form, width=11)
        self.first.pack(side="left", padx=(6, 4))
        ttk.Label(form, text=_("to")).pack(side="left")
        self.last = ttk.Entry(form, width=11)
        self.last.pack(side="left", padx=(4, 10))
        for entry in (self.first, self.last):
            entry.bind("<Return>", lambda e: self.show() or "break")
        ttk.Button(form, text=_("Yesterday"), command=self.yesterday).pack(side="left")
        ttk.Button(form, text=_("Last month"), command=self.last_month).pack(side="left", padx=(4, 0))
        self.show_button = ttk.Button(form, text=_("Show"), style="Accent.TButton", command=self.show)
        self.show_button.pack(side="left", padx=(12, 0))

        body = ttk.Frame(self)
        body.grid(row=2, column=0, sticky="nsew")
        body.columnconfigure(1, weight=1)
        body.rowconfigure(1, weight=1)
        ttk.Label(body, text=_("Settled and unsettled"), style="VSBold.TLabel").grid(row=0, column=0, sticky="w")
        self.states = Table(body, _defs((("figure", N_("Figure"), 17, False), ("settled", N_("Settled"), 9, True),
                                         ("unsettled", N_("Unsettled"), 9, True),
                                         ("period", N_("Total"), 9, True))), height=len(FIGURES))
        self.states.grid(row=1, column=0, sticky="nsw", padx=(0, 12), pady=(2, 0))

        lower = ttk.Panedwindow(body, orient="vertical")
        lower.grid(row=0, column=1, rowspan=2, sticky="nsew")
        terminals = ttk.Frame(lower)
        terminals.columnconfigure(0, weight=1)
        terminals.rowconfigure(1, weight=1)
        ttk.Label(terminals, text=_("Per terminal, whole period"), style="VSBold.TLabel").grid(
            row=0, column=0, sticky="w")
        self.terminals = Table(terminals, _defs(TERMINAL_COLUMNS), height=5)
        self.terminals.grid(row=1, column=0, sticky="nsew", pady=(2, 6))
        settled = ttk.Frame(lower)
        settled.columnconfigure(0, weight=1)
        settled.rowconfigure(1, weight=1)
        ttk.Label(settled, text=_("Settlements of this venue"), style="VSBold.TLabel").grid(
            row=0, column=0, sticky="w")
        self.settlements = Table(settled, _defs(SETTLEMENT_COLUMNS), height=4)
        self.settlements.grid(row=1, column=0, sticky="nsew", pady=(2, 0))
        lower.add(terminals, weight=1)
        lower.add(settled, weight=1)

        foot = ttk.Frame(self)
        foot.grid(row=3, column=0, sticky="ew", pady=(8, 0))
        ttk.Label(foot, text=_("Note")).pack(side="left")
        self.note = ttk.Entry(foot, width=40)
        self.note.pack(side="left", padx=(6, 12))
        self.mark_button = ttk.Button(foot, text=_("Mark settled"), style="Accent.TButton", command=self.mark)
        self.mark_button.pack(side="left")
        self.message = MessageBar(self)
        self.message.grid(row=4, column=0, sticky="ew", pady=(6, 0))

    # ------------------------------------------------------------------ the period

    @staticmethod
    def _set(entry: ttk.Entry, text: str) -> None:
        entry.delete(0, "end")
        entry.insert(0, text)

    def set_period(self, first: dt.date | str, last: dt.date | str) -> None:
        self._set(self.first, first if isinstance(first, str) else first.isoformat())
        self._set(self.last, last if isinstance(last, str) else last.isoformat())
        self._disarm()

    def _venue_today(self) -> dt.date:
        return self.service._today()

    def yesterday(self) -> None:
        day = self._venue_today() - dt.timedelta(days=1)
        self.set_period(day, day)

    def last_month(self) -> None:
        end = self._venue_today().replace(day=1) - dt.timedelta(days=1)
        self.set_period(end.replace(day=1), end)

    def chosen(self) -> tuple[str, str, str]:
        first, last = self.first.get().strip(), self.last.get().strip()
        return self.venue.get().strip(), first, last or first

    # ------------------------------------------------------------------ background work

    def _run(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.generation += 1
        generation = self.generation
        self.busy = True
        self._buttons()

        def on_done(result: Any) -> None:
            if generation == self.generation and self.winfo_exists():
                self.busy = False
                self._buttons()
                done(result)

        def on_error(error: BaseException) -> None:
            if generation == self.generation and self.winfo_exists():
                self.busy = False
                self._buttons()
                self.message.error(error)

        self.context.run_in_thread(work, on_done, on_error)

    def _buttons(self) -> None:
        state = ["disabled"] if self.busy else ["!disabled"]
        self.show_button.state(state)
        self.mark_button.state(state)

    def load_venues(self) -> None:
        service, actor = self.service, self.actor

        def done(venues: list[str]) -> None:
            self.venue.configure(values=venues)

        self.context.run_in_thread(lambda: service.venues(actor),
                                   lambda venues: done(venues) if self.winfo_exists() else None,
                                   lambda error: None)

    def show(self, *, keep_message: bool = False) -> None:
        venue, first, last = self.chosen()
        service, actor = self.service, self.actor
        self._disarm()
        if not keep_message:
            self.message.show(_("Reading the card events of {venue}...").format(venue=venue or "?"))

        def work() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            return service.summary(actor, venue, first, last), service.list_settlements(actor, venue)

        def done(result: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
            self.fill(*result)
            if not keep_message:
                self.message.clear()

        self._run(work, done)

    def fill(self, summary: dict[str, Any], settlements: list[dict[str, Any]]) -> None:
        self.summary = summary
        states = {row["state"]: row for row in summary["states"]}
        rows = []
        for key, title, money in FIGURES:
            settled, unsettled = int(states["settled"][key]), int(states["unsettled"][key])
            shown = format_money if money else str
            rows.append((_(title), shown(settled), shown(unsettled), shown(settled + unsettled)))
        self.states.set_rows(rows, iids=[key for key, _title, _money in FIGURES])
        self.terminals.set_rows([_cells({**row, "terminal": row["terminal"] or "-"}, TERMINAL_COLUMNS)
                                 for row in summary["terminals"]])
        self.settlements.set_rows([_cells({**row, "period": f"{row['date_from']} – {row['date_to']}",
                                           "settled_at": _local_time(row["settled_at"], self.service)},
                                          SETTLEMENT_COLUMNS) for row in settlements])

    def figure(self, key: str) -> tuple[str, str, str]:
        """The summary's figure ``key`` as shown: settled, unsettled, whole period."""
        values = self.states.tree.item(key, "values")
        return str(values[1]), str(values[2]), str(values[3])

    # ------------------------------------------------------------------ marking

    def mark(self) -> None:
        chosen = self.chosen()
        venue, first, last = chosen
        if self._armed != chosen:
            self._armed = chosen
            self.mark_button.configure(text=_("Confirm: mark settled"), style="Danger.TButton")
            self.message.error(_("Press \u201cConfirm: mark settled\u201d to mark every unsettled card event of "
                                 "{venue} from {first} to {last} settled.").format(venue=venue, first=first,
                                                                                  last=last))
            self._disarm_id = self.after(CONFIRM_MS, self._disarm)
            return
        self._disarm()
        service, actor, note = self.service, self.actor, self.note.get()

        def done(result: dict[str, Any]) -> None:
            self._set(self.note, "")
            self.message.ok(_("{venue} settled from {first} to {last}: {events} events, top-ups {recharge}, "
                              "consumption {consumption}.").format(
                venue=result["venue"], first=result["date_from"], last=result["date_to"], events=result["events"],
                recharge=format_money(result["recharge"]), consumption=format_money(result["consumption"])))
            self.show(keep_message=True)

        self._run(lambda: service.mark_settled(actor, venue, first, last, note=note), done)

    def _disarm(self) -> None:
        if self._disarm_id is not None:
            try:
                self.after_cancel(self._disarm_id)
            except tk.TclError:
                pass
            self._disarm_id = None
        if self._armed is not None:
            self._armed = None
            self.mark_button.configure(text=_("Mark settled"), style="Accent.TButton")
            if self.message.kind == "error":
                self.message.clear()

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            self.generation += 1
            release_variables(self)


def _local_time(text: str, service: Any) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment.astimezone(service.settings.zone).strftime("%Y-%m-%d %H:%M")


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``wallet.settlement``."""
    return SettlementTab(parent, context)


__all__ = ["CONFIRM_MS", "SettlementTab", "build_tab"]
