"""Users: list; create; enable/disable; reset password; roles; operator card; unlock."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from suite.events import CardPresented
from suite.i18n import _
from suite.ui.admin_base import NONE, Panel, button_row, field, when
from suite.ui.widgets import ColumnDef, Table

ALL_VENUES = "*"


class UsersPanel(Panel):
    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent, context)
        self.users: dict[str, Any] = {}
        self.venues: dict[str, Any] = {}
        self.table = Table(self, [
            ColumnDef("username", _("Username"), 14), ColumnDef("display_name", _("Name"), 18),
            ColumnDef("roles", _("Roles"), 22), ColumnDef("state", _("State"), 10),
            ColumnDef("card", _("Operator card"), 14), ColumnDef("last_login", _("Last login"), 17)], height=8)
        self.table.tree.bind("<<TreeviewSelect>>", lambda e: self._on_select())

        forms = ttk.Frame(self)
        forms.pack(side="bottom", fill="x", pady=(8, 0))  # before the table: the table shrinks first
        self.table.pack(side="top", fill="both", expand=True)
        forms.columnconfigure(0, weight=1, uniform="forms")
        forms.columnconfigure(1, weight=1, uniform="forms")
        self._build_selected(forms)
        self._build_new(forms)
        context.subscribe(CardPresented, self._on_card)

    def _on_card(self, event: CardPresented) -> None:
        """A card presented while this panel is on screen fills in its UID (to bind it)."""
        if self.winfo_exists() and self.winfo_viewable():
            self.card_uid.delete(0, "end")
            self.card_uid.insert(0, event.uid)

    # -- forms ---------------------------------------------------------------------------

    def _build_selected(self, parent: ttk.Frame) -> None:
        box = ttk.Labelframe(parent, text=_("Selected user"), padding=(10, 6))
        box.grid(row=0, column=0, sticky="nsew", padx=(0, 6))
        for column in (1, 2, 3):
            box.columnconfigure(column, weight=1, uniform="sel")
        self.selected_box = box
        self.selected_name = ttk.Label(box, text=_("Select a user in the list."), style="Muted.TLabel")
        self.selected_name.grid(row=0, column=0, columnspan=4, sticky="w")
        self.enable_button, self.disable_button, self.unlock_button = button_row(box, 1, 0, [
            (_("Enable"), lambda: self._set_active(True)), (_("Disable"), lambda: self._set_active(False)),
            (_("Unlock"), self._unlock)], span=4)
        self.new_password = ttk.Entry(box, show="•", width=16)
        field(box, 2, 0, _("New password"), self.new_password)
        self.reset_button = ttk.Button(box, text=_("Reset password"), command=self._reset_password)
        self.reset_button.grid(row=2, column=2, columnspan=2, sticky="ew", pady=3)
        self.role = ttk.Combobox(box, state="readonly", width=16)
        field(box, 3, 0, _("Role"), self.role)
        self.role_venue = ttk.Combobox(box, state="readonly", width=12)
        self.role_venue.grid(row=3, column=2, columnspan=2, sticky="ew", pady=3)
        self.assign_button, self.revoke_button = button_row(box, 4, 1, [
            (_("Assign role"), self._assign), (_("Revoke role"), self._revoke)], span=3)
        self.card_uid = ttk.Entry(box, width=16)
        field(box, 5, 0, _("Card UID"), self.card_uid)
        self.bind_button, self.unbind_button = button_row(box, 5, 2, [
            (_("Bind"), self._bind_card), (_("Unbind"), self._unbind_card)], span=2)

    def _build_new(self, parent: ttk.Frame) -> None:
        box = ttk.Labelframe(parent, text=_("New user"), padding=(10, 6))
        box.grid(row=0, column=1, sticky="nsew", padx=(6, 0))
        box.columnconfigure(1, weight=1)
        box.columnconfigure(3, weight=1)
        self.new_username = ttk.Entry(box, width=14)
        field(box, 0, 0, _("Username"), self.new_username)
        self.new_display = ttk.Entry(box, width=14)
        field(box, 0, 2, _("Name"), self.new_display)
        self.new_user_password = ttk.Entry(box, show="•", width=14)
        field(box, 1, 0, _("Password"), self.new_user_password)
        self.new_language = ttk.Combobox(box, state="readonly", width=10, values=("简体中文", "English"))
        self.new_language.current(0)
        field(box, 1, 2, _("Language"), self.new_language)
        self.new_role = ttk.Combobox(box, state="readonly", width=14)
        field(box, 2, 0, _("Role"), self.new_role)
        self.create_button = ttk.Button(box, text=_("Create user"), style="Accent.TButton", command=self.create_user)
        self.create_button.grid(row=2, column=2, columnspan=2, sticky="ew", pady=3)

    # -- data ----------------------------------------------------------------------------

    def refresh(self) -> None:
        users = self.message.attempt(lambda: self.app.identity.list_users(self.actor))
        if users is None:
            self.table.set_rows([])
            return
        try:
            venues = self.app.places.venues()
        except Exception:  # noqa: BLE001 - venue names are a nicety here
            venues = []
        self.venues = {v.code: v.id for v in venues}
        codes = {v.id: v.code for v in venues}
        roles = self.message.attempt(lambda: self.app.identity.list_roles(self.actor)) or []
        role_codes = [r.code for r in roles] if isinstance(roles, list) else []
        self.role.configure(values=role_codes)
        self.new_role.configure(values=["", *role_codes])
        self.role_venue.configure(values=[_("every venue"), *self.venues])
        if not self.role_venue.get():
            self.role_venue.current(0)
        self.users = {u.username: u for u in users}
        rows, tags = [], []
        for u in users:
            shown_roles = ", ".join(r.role_code if r.venue_id is None else f"{r.role_code}@{codes.get(r.venue_id, '?')}"
                                    for r in u.roles)
            if not u.active:
                state = _("disabled")
            elif u.locked_until is not None and u.failed_logins:
                state = _("locked")
            else:
                state = _("active")
            rows.append((u.username, u.display_name, shown_roles or NONE, state, u.operator_card_uid or NONE,
                         when(u.last_login_at)))
            tags.append(("bad",) if state != _("active") else ())
        self.table.set_rows(rows, iids=[u.username for u in users], tags=tags)
        self._on_select()

    def selected_user(self) -> str | None:
        return self.table.selected()

    def _on_select(self) -> None:
        name = self.selected_user()
        user = self.users.get(name or "")
        if user is None:
            self.selected_name.configure(text=_("Select a user in the list."))
            return
        self.selected_name.configure(text=f"{user.display_name} ({user.username})")
        self.card_uid.delete(0, "end")
        if user.operator_card_uid:
            self.card_uid.insert(0, user.operator_card_uid)

    def _need_user(self) -> str | None:
        name = self.selected_user()
        if name is None:
            self.message.error(_("Select a user in the list first."))
        return name

    # -- actions -------------------------------------------------------------------------

    def create_user(self) -> Any:
        language = "zh_CN" if self.new_language.current() == 0 else "en"
        role = self.new_role.get()
        username = self.new_username.get().strip()
        result = self.attempt(lambda: self.app.identity.create_user(
            self.actor, username=username, password=self.new_user_password.get(),
            display_name=self.new_display.get().strip(), language=language, roles=(role,) if role else ()),
            lambda info: _("User {name} created.").format(name=info.username))
        if result is not None:
            for entry in (self.new_username, self.new_display, self.new_user_password):
                entry.delete(0, "end")
            if self.table.tree.exists(result.username):
                self.table.select(result.username)
        return result

    def _set_active(self, active: bool) -> None:
        if (name := self._need_user()) is None:
            return
        self.attempt(lambda: self.app.identity.set_active(self.actor, name, active),
                     (_("{name} can log in again.") if active else _("{name} is disabled.")).format(name=name))

    def _unlock(self) -> None:
        if (name := self._need_user()) is None:
            return
        self.attempt(lambda: self.app.identity.unlock(self.actor, name), _("{name} is unlocked.").format(name=name))

    def _reset_password(self) -> None:
        if (name := self._need_user()) is None:
            return
        password = self.new_password.get()
        if self.attempt(lambda: self.app.identity.set_password(self.actor, name, password),
                        _("The password of {name} is changed.").format(name=name)) is not None:
            self.new_password.delete(0, "end")

    def _role_venue(self) -> Any:
        code = self.role_venue.get()
        return self.venues.get(code) if code in self.venues else None

    def _assign(self) -> None:
        self._change_role(grant=True)

    def _revoke(self) -> None:
        self._change_role(grant=False)

    def _change_role(self, *, grant: bool) -> None:
        if (name := self._need_user()) is None:
            return
        role, venue = self.role.get(), self._role_venue()
        if not role:
            self.message.error(_("Choose a role first."))
            return
        if grant:
            self.attempt(lambda: self.app.identity.assign_role(self.actor, name, role, venue_id=venue),
                         lambda added: (_("{name} now has the role {role}.") if added
                                        else _("{name} already had the role {role}.")).format(name=name, role=role))
        else:
            self.attempt(lambda: self.app.identity.revoke_role(self.actor, name, role, venue_id=venue),
                         lambda removed: (_("The role {role} is taken from {name}.") if removed
                                          else _("{name} did not have the role {role}.")).format(name=name, role=role))

    def _bind_card(self) -> None:
        if (name := self._need_user()) is None:
            return
        uid = self.card_uid.get().strip()
        if not uid:
            self.message.error(_("Enter the card UID (or present the card) first."))
            return
        self.attempt(lambda: self.app.identity.bind_card(self.actor, name, uid),
                     _("The card is now the operator card of {name}.").format(name=name))

    def _unbind_card(self) -> None:
        if (name := self._need_user()) is None:
            return
        self.attempt(lambda: self.app.identity.bind_card(self.actor, name, None),
                     _("{name} has no operator card now.").format(name=name))
