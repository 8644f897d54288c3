"""The audit log: newest events with a kind filter; verify the hash chain."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.ui.admin_base import Panel, when
from suite.ui.widgets import ColumnDef, Table

KINDS = ("", "operation", "security")


def is_alarm(action: str) -> bool:
    """Events worth a second look: refusals and lockouts (shown in red)."""
    return action.endswith((".failed", ".denied", ".locked"))


class AuditPanel(Panel):
    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent, context)
        bar = ttk.Frame(self)
        bar.pack(side="top", fill="x", pady=(0, 8))
        ttk.Label(bar, text=_("Kind")).pack(side="left")
        self.kind = ttk.Combobox(bar, state="readonly", width=12,
                                 values=(_("every kind"), _("operation"), _("security")))
        self.kind.current(0)
        self.kind.pack(side="left", padx=(6, 12))
        self.kind.bind("<<ComboboxSelected>>", lambda e: self.refresh())
        ttk.Label(bar, text=_("Newest")).pack(side="left")
        self.limit = ttk.Spinbox(bar, from_=10, to=10_000, increment=50, width=7)
        self.limit.set("200")
        self.limit.pack(side="left", padx=(6, 12))
        ttk.Button(bar, text=_("Refresh"), command=self.refresh).pack(side="left")
        self.verify_button = ttk.Button(bar, text=_("Verify the chain"), style="Accent.TButton", command=self.verify)
        self.verify_button.pack(side="right")
        self.table = Table(self, [ColumnDef("seq", _("No."), 6, "e"), ColumnDef("at", _("Time"), 17),
                                  ColumnDef("kind", _("Kind"), 9), ColumnDef("action", _("Action"), 18),
                                  ColumnDef("actor", _("Operator"), 12), ColumnDef("target", _("Target"), 22)])
        self.table.pack(side="top", fill="both", expand=True)
        self.problems = Table(self, [ColumnDef("seq", _("No."), 6, "e"), ColumnDef("problem", _("Problem"), 12),
                                     ColumnDef("message", _("What was found"), 60)], height=4)

    def selected_kind(self) -> str:
        return KINDS[max(0, self.kind.current())]

    def refresh(self) -> None:
        try:
            limit = max(1, min(10_000, int(self.limit.get())))
        except ValueError:
            limit = 200
        events = self.message.attempt(lambda: self.app.audit.events(self.actor, kind=self.selected_kind(),
                                                                   limit=limit))
        if events is None:
            self.table.set_rows([])
            return
        self.table.set_rows([(e.seq, when(e.at), _(e.kind), e.action, e.actor, e.target) for e in events],
                            tags=[("bad",) if is_alarm(e.action) else () for e in events])

    def verify(self) -> Any:
        result = self.message.attempt(lambda: self.app.audit.verify(self.actor))
        if result is None or result is True:
            return None
        if result.ok:
            self.problems.pack_forget()
            self.message.ok(_("The audit log is intact: {n} events checked.").format(n=result.checked))
        else:
            self.problems.set_rows([(p.seq, p.problem, p.message) for p in result.problems])
            self.problems.pack(side="bottom", fill="x", pady=(8, 0), before=self.table)
            self.message.error(_("The audit log has been tampered with: {n} problems.").format(n=len(result.problems)))
        return result
