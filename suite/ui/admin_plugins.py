"""Plugins: id, version, feature, state and why; enable and disable (then the tabs follow)."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.plugins import PluginState
from suite.ui.admin_base import NONE, Panel, button_row
from suite.ui.widgets import ColumnDef, Table

ADMIN_PLUGINS = "admin.plugins"


class PluginsPanel(Panel):
    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent, context)
        self.table = Table(self, [
            ColumnDef("id", _("Plugin"), 10), ColumnDef("name", _("Name"), 14), ColumnDef("version", _("Version"), 7),
            ColumnDef("feature", _("Licence feature"), 10), ColumnDef("state", _("State"), 9),
            ColumnDef("why", _("Error or reason"), 34)])
        bar = ttk.Frame(self)
        bar.pack(side="bottom", fill="x", pady=(8, 0))
        self.table.pack(side="top", fill="both", expand=True)
        self.enable_button, self.disable_button, self.refresh_button = button_row(bar, 0, 0, [
            (_("Enable"), lambda: self.toggle(True)), (_("Disable"), lambda: self.toggle(False)),
            (_("Reload"), self.refresh)], span=1)

    def refresh(self) -> None:
        infos = self.message.attempt(lambda: self.app.plugins.plugins()) or []
        rows, tags = [], []
        for p in infos:
            rows.append((p.id, p.name, p.version or NONE, p.feature or NONE, PluginState(p.state).title,
                         p.error or p.reason or ""))
            tags.append(() if str(p.state) == "active" else ("bad",))
        self.table.set_rows(rows, iids=[p.id for p in infos], tags=tags)

    def toggle(self, enable: bool, plugin_id: str | None = None) -> None:
        plugin_id = plugin_id or self.table.selected()
        if not plugin_id:
            self.message.error(_("Select a plugin in the list first."))
            return

        def change() -> Any:
            self.app.identity.require(self.actor, ADMIN_PLUGINS)
            if enable:
                info = self.app.plugins.enable(plugin_id, self.actor.username)
            else:
                info = self.app.plugins.disable(plugin_id, self.actor.username)
            self.app.plugins.refresh()
            return info

        info = self.attempt(change, lambda i: _("{name} is now {state}.").format(name=i.name, state=PluginState(i.state).title))
        if info is not None:
            self.context.rebuild_tabs()
