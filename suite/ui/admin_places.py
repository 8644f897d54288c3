"""Venues and terminals of the chain: list and add."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.places import VENUE_KINDS
from suite.ui.admin_base import Panel, field
from suite.ui.widgets import ColumnDef, Table


class PlacesPanel(Panel):
    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent, context)
        body = ttk.Frame(self)
        body.pack(side="top", fill="both", expand=True)
        body.columnconfigure(0, weight=1, uniform="c")
        body.columnconfigure(1, weight=1, uniform="c")
        body.rowconfigure(1, weight=1)
        ttk.Label(body, text=_("Venues"), style="Large.TLabel").grid(row=0, column=0, sticky="w")
        ttk.Label(body, text=_("Terminals"), style="Large.TLabel").grid(row=0, column=1, sticky="w", padx=(12, 0))
        self.venue_table = Table(body, [ColumnDef("code", _("Code"), 10), ColumnDef("name", _("Name"), 18),
                                        ColumnDef("kind", _("Kind"), 10), ColumnDef("active", _("Active"), 6)])
        self.venue_table.grid(row=1, column=0, sticky="nsew", padx=(0, 6))
        self.terminal_table = Table(body, [ColumnDef("venue", _("Venue"), 10), ColumnDef("code", _("Code"), 8),
                                           ColumnDef("name", _("Name"), 16), ColumnDef("active", _("Active"), 6)])
        self.terminal_table.grid(row=1, column=1, sticky="nsew", padx=(6, 0))

        venue_form = ttk.Labelframe(body, text=_("Add a venue"), padding=(10, 6))
        venue_form.grid(row=2, column=0, sticky="nsew", padx=(0, 6), pady=(8, 0))
        venue_form.columnconfigure(1, weight=1)
        self.venue_code = field(venue_form, 0, 0, _("Code"), ttk.Entry(venue_form, width=12))
        self.venue_name = field(venue_form, 1, 0, _("Name"), ttk.Entry(venue_form, width=20))
        self.venue_kind = field(venue_form, 2, 0, _("Kind"), ttk.Combobox(venue_form, state="readonly",
                                                                           values=VENUE_KINDS, width=12))
        self.venue_kind.set("venue")
        ttk.Button(venue_form, text=_("Add venue"), style="Accent.TButton", command=self.add_venue).grid(
            row=3, column=1, sticky="w", pady=3)

        terminal_form = ttk.Labelframe(body, text=_("Register a terminal"), padding=(10, 6))
        terminal_form.grid(row=2, column=1, sticky="nsew", padx=(6, 0), pady=(8, 0))
        terminal_form.columnconfigure(1, weight=1)
        self.terminal_venue = field(terminal_form, 0, 0, _("Venue"), ttk.Combobox(terminal_form, state="readonly",
                                                                                   width=12))
        self.terminal_code = field(terminal_form, 1, 0, _("Code"), ttk.Entry(terminal_form, width=12))
        self.terminal_name = field(terminal_form, 2, 0, _("Name"), ttk.Entry(terminal_form, width=20))
        ttk.Button(terminal_form, text=_("Register terminal"), style="Accent.TButton",
                   command=self.add_terminal).grid(row=3, column=1, sticky="w", pady=3)

    def refresh(self) -> None:
        venues = self.message.attempt(lambda: self.app.places.venues()) or []
        terminals = self.message.attempt(lambda: self.app.places.terminals()) or []
        yes, no = _("yes"), _("no")
        self.venue_table.set_rows([(v.code, v.name, v.kind, yes if v.active else no) for v in venues],
                                  iids=[v.code for v in venues])
        self.terminal_table.set_rows([(t.venue_code, t.code, t.name, yes if t.active else no) for t in terminals])
        self.terminal_venue.configure(values=[v.code for v in venues])
        if venues and not self.terminal_venue.get():
            self.terminal_venue.set(self.app.settings.terminal.venue_code if any(
                v.code == self.app.settings.terminal.venue_code for v in venues) else venues[0].code)

    def add_venue(self) -> Any:
        code = self.venue_code.get().strip()
        result = self.attempt(lambda: self.app.places.add_venue(self.actor, code=code,
                                                        name=self.venue_name.get().strip(),
                                                        kind=self.venue_kind.get() or "venue"),
                              lambda v: _("Venue {code} added.").format(code=v.code))
        if result is not None:
            self.venue_code.delete(0, "end")
            self.venue_name.delete(0, "end")
        return result

    def add_terminal(self) -> Any:
        venue = self.terminal_venue.get()
        if not venue:
            self.message.error(_("Choose the terminal's venue first."))
            return None
        result = self.attempt(lambda: self.app.places.add_terminal(self.actor, venue_code=venue,
                                                           code=self.terminal_code.get().strip(),
                                                           name=self.terminal_name.get().strip()),
                              lambda t: _("Terminal {venue}/{code} registered.").format(venue=t.venue_code, code=t.code))
        if result is not None:
            self.terminal_code.delete(0, "end")
            self.terminal_name.delete(0, "end")
        return result
