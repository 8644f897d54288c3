"""Licence: the current state and its details; install from a file or pasted text."""

from __future__ import annotations

import tkinter as tk
from pathlib import Path
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.ui.admin_base import NONE, Panel, when
from suite.ui.theme import PALETTE

ADMIN_LICENCE = "admin.licence"


class LicencePanel(Panel):
    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent, context)
        top = ttk.Frame(self)
        top.pack(side="top", fill="x")
        self.state_label = ttk.Label(top, text="", style="Title.TLabel")
        self.state_label.pack(side="top", anchor="w")
        self.status_message = ttk.Label(top, text="", wraplength=900, justify="left")
        self.status_message.pack(side="top", anchor="w", pady=(2, 8))
        self.details = ttk.Frame(self)
        self.details.pack(side="top", fill="x")
        self.detail_values: dict[str, ttk.Label] = {}
        names = (("licensee", _("Licensee")), ("licence_id", _("Licence id")), ("chain_id", _("Chain")),
                 ("features", _("Features")), ("max_terminals", _("Terminals")),
                 ("max_activated_cards", _("Activated cards")), ("issued", _("Issued")),
                 ("expires", _("Expires")), ("grace_until", _("Grace until")), ("installed", _("Installed")))
        for n, (key, title) in enumerate(names):
            row, col = divmod(n, 2)
            ttk.Label(self.details, text=title, style="Muted.TLabel").grid(row=row, column=col * 2, sticky="w",
                                                                          padx=(0, 8), pady=2)
            value = ttk.Label(self.details, text=NONE)
            value.grid(row=row, column=col * 2 + 1, sticky="w", padx=(0, 30), pady=2)
            self.detail_values[key] = value

        install = ttk.Labelframe(self, text=_("Install a licence"), padding=(10, 6))
        install.pack(side="top", fill="both", expand=True, pady=(10, 0))
        bar = ttk.Frame(install)
        bar.pack(side="top", fill="x")
        ttk.Button(bar, text=_("Install from a file…"), command=self.install_from_file).pack(side="left")
        self.install_button = ttk.Button(bar, text=_("Install the pasted licence"), style="Accent.TButton",
                                         command=self.install_pasted)
        self.install_button.pack(side="left", padx=(8, 0))
        ttk.Label(install, text=_("Or paste the licence text here:"), style="Muted.TLabel").pack(
            side="top", anchor="w", pady=(8, 2))
        self.text = tk.Text(install, height=5, wrap="char", relief="flat", borderwidth=0, font="TkFixedFont",
                            highlightthickness=1, highlightbackground=PALETTE.border_strong,
                            highlightcolor=PALETTE.accent, padx=6, pady=4)
        self.text.pack(side="top", fill="both", expand=True)

    def refresh(self) -> None:
        status = self.message.attempt(lambda: self.app.licences.status())
        if status is None:
            return
        titles = {"missing": _("No licence"), "valid": _("Licence valid"), "grace": _("Licence in grace period"),
                  "expired": _("Licence expired")}
        self.state_label.configure(text=titles.get(str(status.state), str(status.state)))
        self.status_message.configure(text=status.message)
        lic = status.licence
        values: dict[str, str] = {key: NONE for key in self.detail_values}
        if lic is not None:
            values.update(licensee=lic.licensee, licence_id=lic.licence_id, chain_id=lic.chain_id,
                          features=", ".join(lic.features) or NONE, max_terminals=str(lic.max_terminals),
                          max_activated_cards=str(lic.max_activated_cards), issued=lic.issued.isoformat(),
                          expires=lic.expires.isoformat(), grace_until=lic.grace_until.isoformat())
            installed = next((i for i in self.app.licences.installed() if i.active), None)
            if installed is not None:
                values["installed"] = f"{when(installed.installed_at)} · {installed.installed_by}"
        for key, label in self.detail_values.items():
            label.configure(text=values[key])

    def install_text(self, text: str) -> Any:
        def install() -> Any:
            self.app.identity.require(self.actor, ADMIN_LICENCE)
            licence = self.app.licences.install(text, self.actor.username)
            self.app.plugins.refresh()
            return licence

        result = self.attempt(install, lambda lic: _("Licence {id} installed for {licensee}.").format(
            id=lic.licence_id, licensee=lic.licensee))
        if result is not None:
            self.text.delete("1.0", "end")
            self.context.rebuild_tabs()
        return result

    def install_pasted(self) -> Any:
        text = self.text.get("1.0", "end").strip()
        if not text:
            self.message.error(_("Paste the licence text first."))
            return None
        return self.install_text(text)

    def install_from_file(self) -> Any:
        from tkinter import filedialog

        path = filedialog.askopenfilename(parent=self, title=_("Licence file"),
                                          filetypes=[(_("Licence"), "*.lic *.txt"), (_("Every file"), "*")])
        if not path:
            return None
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.message.error(_("Cannot read {path}: {reason}").format(path=path, reason=exc))
            return None
        return self.install_text(text)
