"""Roles: every role with its permissions; grant and revoke; a new role."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.ui.admin_base import Panel, button_row, field
from suite.ui.widgets import ColumnDef, Table

ALL = "*"


class RolesPanel(Panel):
    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent, context)
        self.roles: dict[str, Any] = {}
        panes = ttk.Frame(self)
        panes.columnconfigure(0, weight=2, uniform="p")
        panes.columnconfigure(1, weight=3, uniform="p")
        panes.rowconfigure(0, weight=1)
        self.role_table = Table(panes, [ColumnDef("code", _("Role"), 14), ColumnDef("name", _("Name"), 16),
                                        ColumnDef("scope", _("Scope"), 7), ColumnDef("count", _("Permissions"), 8, "e")])
        self.role_table.grid(row=0, column=0, sticky="nsew", padx=(0, 6))
        self.role_table.tree.bind("<<TreeviewSelect>>", lambda e: self._show_permissions())
        self.permission_table = Table(panes, [ColumnDef("code", _("Permission"), 14),
                                              ColumnDef("title", _("What it allows"), 26),
                                              ColumnDef("granted", _("Granted"), 7, "center")])
        self.permission_table.grid(row=0, column=1, sticky="nsew")

        new = ttk.Labelframe(self, text=_("New role"), padding=(10, 6))
        new.pack(side="bottom", fill="x", pady=(8, 0))
        bar = ttk.Frame(self)
        bar.pack(side="bottom", fill="x", pady=(8, 0))
        panes.pack(side="top", fill="both", expand=True)
        self.grant_button, self.revoke_button = button_row(bar, 0, 0, [
            (_("Grant to role"), self.grant), (_("Revoke from role"), self.revoke)], span=1)
        self.new_code = ttk.Entry(new, width=14)
        field(new, 0, 0, _("Code"), self.new_code)
        self.new_name = ttk.Entry(new, width=18)
        field(new, 0, 2, _("Name"), self.new_name)
        self.new_scope = ttk.Combobox(new, state="readonly", width=8, values=("venue", "chain"))
        self.new_scope.current(0)
        field(new, 0, 4, _("Scope"), self.new_scope)
        ttk.Button(new, text=_("Create role"), command=self.create_role).grid(row=0, column=6, sticky="w")

    def refresh(self) -> None:
        roles = self.message.attempt(lambda: self.app.identity.list_roles(self.actor))
        permissions = self.message.attempt(lambda: self.app.identity.list_permissions(self.actor))
        if roles is None or permissions is None:
            return
        self.roles = {r.code: r for r in roles}
        self.permissions = permissions
        self.role_table.set_rows([(r.code, r.name, r.scope, _("all") if ALL in r.permissions else len(r.permissions))
                                  for r in roles], iids=[r.code for r in roles])
        self._show_permissions()

    def _show_permissions(self) -> None:
        role = self.roles.get(self.role_table.selected() or "")
        rows = []
        for p in getattr(self, "permissions", []):
            granted = role is not None and (ALL in role.permissions or p.code in role.permissions)
            rows.append((p.code, p.title, "✓" if granted else ""))
        self.permission_table.set_rows(rows, iids=[p.code for p in getattr(self, "permissions", [])])

    def _selection(self) -> tuple[str, str] | None:
        role, permission = self.role_table.selected(), self.permission_table.selected()
        if not role or not permission:
            self.message.error(_("Select a role and a permission first."))
            return None
        return role, permission

    def grant(self) -> None:
        if (chosen := self._selection()) is None:
            return
        role, permission = chosen
        self.attempt(lambda: self.app.identity.grant(self.actor, role, permission),
                     lambda added: (_("{role} now holds {permission}.") if added
                                    else _("{role} already held {permission}.")).format(role=role, permission=permission))

    def revoke(self) -> None:
        if (chosen := self._selection()) is None:
            return
        role, permission = chosen
        self.attempt(lambda: self.app.identity.revoke(self.actor, role, permission),
                     lambda removed: (_("{permission} is taken from {role}.") if removed
                                      else _("{role} did not hold {permission}.")).format(role=role, permission=permission))

    def create_role(self) -> None:
        code = self.new_code.get().strip()
        self.attempt(lambda: self.app.identity.create_role(self.actor, code, self.new_name.get().strip(),
                                                           self.new_scope.get()),
                     lambda info: _("Role {code} created.").format(code=info.code))
