"""The side parts of the gate attendant's screen: today's counts, the gates, the last scans, and
the notice shown instead of the screen when this terminal runs no channel."""

from __future__ import annotations

import collections
import tkinter as tk
from collections.abc import Mapping
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.ui.widgets import ColumnDef, error_text

from plugins.checkin.ui.display import OK, Row, desk_note, gate_row, scan_row
from plugins.checkin.ui.widgets import Listing

COUNT_FIELDS = ("in", "out", "inside", "refused")
RECENT_ROWS = 50


class CountsSection(ttk.Frame):
    """Today's people in, out, inside now and refused, per list and per channel of this terminal,
    from the gate's desk (``counts``: the database's, or the gate's own copy while it is out of
    reach, which ``status`` then says), read off the Tk thread, one read at a time."""

    def __init__(self, parent: tk.Misc, context: Any, lanes: Mapping[str, Mapping[str, Any]], desk: Any) -> None:
        super().__init__(parent)
        self.context = context
        self.lanes = lanes
        self.desk = desk
        self.counts: dict[str, Any] | None = None
        self._reading = False
        self._again = False
        self._soon: str | None = None
        self.columnconfigure(0, weight=1)
        ttk.Label(self, text=_("Today"), style="CheckinSection.TLabel").grid(row=0, column=0, sticky="w")
        self.table = Listing(self, [ColumnDef("what", "", 10), ColumnDef("in", _("In"), 4, "e"),
                                    ColumnDef("out", _("Out"), 4, "e"), ColumnDef("inside", _("Inside now"), 8, "e"),
                                    ColumnDef("refused", _("Refused"), 7, "e")], height=3, stretch="what")
        self.table.grid(row=1, column=0, sticky="new")
        self.note = ttk.Label(self, style="Muted.TLabel", wraplength=360)
        self.note.grid(row=2, column=0, sticky="w")
        self.bind("<Destroy>", self._on_destroy, add="+")

    def refresh(self) -> None:
        if self._reading:
            self._again = True
            return
        self._reading = True
        desk, actor = self.desk, self.context.actor

        def read() -> tuple[dict[str, Any], dict[str, Any] | None]:
            status = desk.status() if hasattr(desk, "status") else None
            return desk.counts(actor), status

        self.context.run_in_thread(read, self._read, self._failed)

    def soon(self, delay_ms: int) -> None:
        """Someone went through: read again shortly (several passages, one read)."""
        if self._soon is None:
            self._soon = self.after(delay_ms, self._due)

    def _due(self) -> None:
        self._soon = None
        self.refresh()

    def _read(self, read: tuple[dict[str, Any], dict[str, Any] | None]) -> None:
        self._reading = False
        if not self.winfo_exists():
            return
        counts, status = read
        self.counts = counts
        lists = sorted({str(row["list_code"]) for row in self.lanes.values()})
        rows = []
        for title, table, keys in ((_("List {code}"), counts["lists"], lists),
                                   (_("Channel {code}"), counts["channels"], list(self.lanes))):
            for key in keys:
                values = table.get(key, {})
                rows.append((title.format(code=key), *(values.get(name, 0) for name in COUNT_FIELDS)))
        self.table.set_rows(rows)
        note = desk_note(status)
        self.note.configure(text=note, style="CheckinAlert.TLabel" if note else "Muted.TLabel")
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self._reading = False
        if self.winfo_exists():
            self.note.configure(text=_("Counts not available: {reason}").format(reason=error_text(exc)),
                                style="CheckinAlert.TLabel")

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self and self._soon is not None:
            try:
                self.after_cancel(self._soon)
            except tk.TclError:
                pass
            self._soon = None


class GatesSection(ttk.Frame):
    """Each gate of this terminal: its channels, online or not, its mode, its problems; channels on
    a hand scanner too."""

    def __init__(self, parent: tk.Misc, lanes: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__(parent)
        self.lanes = lanes
        self._shown: list[Any] = []
        self.columnconfigure(0, weight=1)
        self.rowconfigure(1, weight=1)
        ttk.Label(self, text=_("Gates"), style="CheckinSection.TLabel").grid(row=0, column=0, sticky="w")
        self.table = Listing(self, [ColumnDef("gate", _("Gate"), 6), ColumnDef("channels", _("Lanes"), 4),
                                    ColumnDef("state", _("State"), 16), ColumnDef("problem", _("Problems"), 8)],
                             height=4, stretch="problem")
        self.table.grid(row=1, column=0, sticky="nsew")

    def show(self, states: Mapping[str, Mapping[str, Any]], device_status: Mapping[str, Mapping[str, Any]]) -> None:
        rows, tags = [], []
        for gate, state in states.items():
            channels = ", ".join(code for code, row in self.lanes.items() if row.get("gate") == gate)
            values, tone = gate_row(gate, state, channels, device_status.get(gate, {}))
            rows.append(values)
            tags.append((tone,))
        for code, row in self.lanes.items():
            if row.get("gate") not in states:
                rows.append((row.get("gate") or "—", code, _("Hand scanner"), "—"))
                tags.append((OK,))
        if [rows, tags] != self._shown:  # unchanged most of the time: no redraw
            self._shown = [rows, tags]
            self.table.set_rows(rows, tags=tags)


class RecentScans(ttk.Frame):
    """The last scans, newest first: time, channel, what was shown, the result in its colour."""

    def __init__(self, parent: tk.Misc) -> None:
        super().__init__(parent)
        self.rows: collections.deque[Row] = collections.deque(maxlen=RECENT_ROWS)
        self.columnconfigure(0, weight=1)
        self.rowconfigure(1, weight=1)
        ttk.Label(self, text=_("Last scans"), style="CheckinSection.TLabel").grid(row=0, column=0, sticky="w")
        self.table = Listing(self, [ColumnDef("time", _("Time"), 8), ColumnDef("channel", _("Lane"), 6),
                                    ColumnDef("label", _("Ticket or card"), 16), ColumnDef("result", _("Result"), 30)],
                             height=4, stretch="result")
        self.table.grid(row=1, column=0, sticky="nsew")

    def add(self, result: Mapping[str, Any], at: str, *, emergency: bool) -> None:
        row = scan_row(result, at, emergency=emergency)
        if row is None:
            return
        self.rows.appendleft(row)
        self.table.set_rows([(r.time, r.channel, r.label, r.result) for r in self.rows],
                            tags=[(r.tone,) for r in self.rows])


class UnconfiguredNotice(ttk.Frame):
    """Instead of the screen: why there is no gate loop here, and how to set a channel up."""

    def __init__(self, parent: tk.Misc, problem: str) -> None:
        super().__init__(parent)
        self.columnconfigure(0, weight=1)
        self.problem = ttk.Label(self, text=problem, style="Title.TLabel", wraplength=860, justify="left")
        self.problem.grid(row=0, column=0, sticky="w", pady=(18, 8))
        ttk.Label(self, style="CheckinHint.TLabel", wraplength=860, justify="left", text=_(
            "Name the channels this terminal runs in the site file, then sign in again:")).grid(
            row=1, column=0, sticky="w")
        self.example = ttk.Label(self, style="CheckinCode.TLabel", text='[plugins.checkin]\nchannels = ["L1"]')
        self.example.grid(row=2, column=0, sticky="w", pady=(8, 8))
        ttk.Label(self, style="CheckinHint.TLabel", wraplength=860, justify="left", text=_(
            "A channel is set up with 'venue-suite checkin channel add L1 --name \"Lane 1\" --list MAIN "
            "--gate gate-1' (the list first: 'venue-suite checkin list add MAIN --name \"Main entrance\"'); "
            "its gate is a [devices.gate-1] table of this terminal.")).grid(row=3, column=0, sticky="w")


__all__ = ["COUNT_FIELDS", "CountsSection", "GatesSection", "RecentScans", "UnconfiguredNotice"]
