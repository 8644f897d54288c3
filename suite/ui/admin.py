"""The administration tab (``core.admin``): users, roles, plugins, licence, places, audit log.

Each section is a sub-tab built the first time it is shown. Every action calls a service
with the logged-in operator, so a missing permission comes back as the service's message
(and lands in the security log); nothing here opens a database session.
"""

from __future__ import annotations

import importlib
import tkinter as tk
from tkinter import ttk
from typing import Any

from suite.i18n import N_, _

#: (id, title, "module:Class") of each section, in order
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("users", N_("Users"), "suite.ui.admin_users:UsersPanel"),
    ("roles", N_("Roles"), "suite.ui.admin_roles:RolesPanel"),
    ("plugins", N_("Plugins"), "suite.ui.admin_plugins:PluginsPanel"),
    ("licence", N_("Licence"), "suite.ui.admin_licence:LicencePanel"),
    ("places", N_("Venues and terminals"), "suite.ui.admin_places:PlacesPanel"),
    ("audit", N_("Audit log"), "suite.ui.admin_audit:AuditPanel"),
)


class AdminTab(ttk.Frame):
    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent)
        self.context = context
        self.notebook = ttk.Notebook(self, style="Sub.TNotebook")
        self.notebook.pack(fill="both", expand=True, padx=4, pady=4)
        self.frames: dict[str, ttk.Frame] = {}
        self.panels: dict[str, Any] = {}
        for section_id, title, _ref in SECTIONS:
            frame = ttk.Frame(self.notebook)
            self.notebook.add(frame, text=_(title))
            self.frames[section_id] = frame
        self.notebook.bind("<<NotebookTabChanged>>", self._on_changed)

    def _on_changed(self, _event: tk.Event) -> None:
        index = self.notebook.index(self.notebook.select())
        self.panel(SECTIONS[index][0])

    def panel(self, section_id: str) -> Any:
        """The panel of ``section_id``, built (and loaded) on first use."""
        if section_id not in self.panels:
            ref = next(ref for sid, _t, ref in SECTIONS if sid == section_id)
            module, _sep, name = ref.partition(":")
            panel = getattr(importlib.import_module(module), name)(self.frames[section_id], self.context)
            panel.pack(fill="both", expand=True)
            self.panels[section_id] = panel
            panel.refresh()
        return self.panels[section_id]

    def show(self, section_id: str) -> Any:
        self.notebook.select(self.frames[section_id])
        return self.panel(section_id)


def build(parent: tk.Misc, context: Any) -> AdminTab:
    return AdminTab(parent, context)
