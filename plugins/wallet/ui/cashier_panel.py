"""The card panel of the cashier panel (``plugins.wallet.ui.cashier``): what the shown card is.

``CardPanel`` shows the card's number and status badge (red when it cannot pay), its holder,
type and validity, the offline line, every balance, the message line the tab's actions answer
on, and the card's history table under them (hidden until *History*).
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Mapping
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.ui.widgets import ColumnDef, Table

from plugins.wallet.ui.display import (BALANCE_TITLES, PanelMessage, badge_style, balance_text, kind_title,
                                       status_title)


def validity_text(card: Mapping[str, Any]) -> str:
    """"Valid until …", or "" for a card that does not expire."""
    expires = card.get("expires_on")
    return _("Valid until {date}").format(date=expires) if expires else ""


class CardPanel(ttk.Frame):
    """The shown card, its balances, the message line (``message``) and the history
    (``table``). Drawing only: the tab decides what to show."""

    def __init__(self, parent: tk.Misc) -> None:
        super().__init__(parent, style="Card.TFrame", padding=(16, 12))
        self.columnconfigure(0, weight=1)
        self.rowconfigure(7, weight=1)
        top = ttk.Frame(self, style="Surface.TFrame")
        top.grid(row=0, column=0, sticky="ew")
        top.columnconfigure(0, weight=1)
        self.number_label = ttk.Label(top, style="WalletNumber.TLabel")
        self.number_label.grid(row=0, column=0, sticky="w")
        self.status_label = ttk.Label(top, style="WalletBadgeMuted.TLabel")
        self.status_label.grid(row=0, column=1, sticky="e")
        self.holder_label = ttk.Label(self, style="SurfaceLarge.TLabel")
        self.holder_label.grid(row=1, column=0, sticky="w", pady=(6, 0))
        line = ttk.Frame(self, style="Surface.TFrame")
        line.grid(row=2, column=0, sticky="w", pady=(2, 0))
        self.type_label = ttk.Label(line, style="SurfaceMuted.TLabel")
        self.type_label.pack(side="left")
        self.validity_label = ttk.Label(line, style="Surface.TLabel")
        self.validity_label.pack(side="left", padx=(14, 0))
        # offline: the state, what is on the chip and what the card may still pay offline here
        self.offline_label = ttk.Label(self, style="WalletOffline.TLabel", anchor="w", justify="left")
        self.offline_label.grid(row=3, column=0, sticky="ew", pady=(8, 0))
        self.offline_label.bind("<Configure>", lambda e: self.offline_label.configure(
            wraplength=max(160, e.width - PanelMessage.MARGIN)))
        self.offline_label.grid_remove()
        ttk.Separator(self).grid(row=4, column=0, sticky="ew", pady=(10, 8))

        # every balance: main, gift and points on the first line, counts and deposit on the second
        balances = ttk.Frame(self, style="Surface.TFrame")
        balances.grid(row=5, column=0, sticky="ew")
        self.balance_labels: dict[str, ttk.Label] = {}
        self.balance_captions: dict[str, ttk.Label] = {}
        for n, (which, title) in enumerate(BALANCE_TITLES):
            band, column = divmod(n, 3)
            balances.columnconfigure(column, weight=1, uniform="balances")
            caption = ttk.Label(balances, text=_(title), style="WalletCaption.TLabel")
            caption.grid(row=2 * band, column=column, sticky="w", pady=(6 if band else 0, 0))
            value = ttk.Label(balances, text="—", style="WalletValue.TLabel")
            value.grid(row=2 * band + 1, column=column, sticky="w")
            self.balance_captions[which] = caption
            self.balance_labels[which] = value

        self.message = PanelMessage(self, collapse=True)
        self.message.grid(row=6, column=0, sticky="ew", pady=(10, 0))

        self.table = Table(self, [
            ColumnDef("at", _("Time"), 14), ColumnDef("venue", _("Venue"), 9),
            ColumnDef("action", _("Operation"), 13), ColumnDef("amount", _("Amount"), 8, "e"),
            ColumnDef("remaining", _("Remaining"), 10, "e")], height=5)
        self.table.grid(row=7, column=0, sticky="nsew", pady=(10, 0))
        self.table.grid_remove()

    def show_empty(self) -> None:
        """No card: the prompt, and a dash for every balance."""
        self.number_label.configure(text=_("No card"))
        self.status_label.configure(text="", style="WalletBadgeMuted.TLabel")
        self.status_label.grid_remove()
        self.holder_label.configure(text=_("Present a card on the reader, or type its number."))
        self.type_label.configure(text="")
        self.validity_label.configure(text="")
        for label in self.balance_labels.values():
            label.configure(text="—", style="WalletValue.TLabel")

    def show_card(self, card: Mapping[str, Any]) -> None:
        """``card``'s number, status, holder, type and validity (a ``WalletService.query``
        dict; one read offline from the chip has no holder)."""
        self.number_label.configure(text=str(card.get("card_no") or ""))
        self.status_label.configure(text=status_title(card.get("status")), style=badge_style(card.get("status")))
        self.status_label.grid()
        if card.get("offline"):     # read from the chip and the terminal's cache: no holder, no balances
            self.holder_label.configure(text=_("Holder and balances show once the database is back."))
            self.type_label.configure(text=f"{card.get('type')} · {kind_title(card.get('kind'))}")
        else:
            holder = card.get("holder_name") or _("(no holder name)")
            phone = card.get("holder_phone") or ""
            self.holder_label.configure(text=f"{holder}   {phone}".rstrip())
            type_name = card.get("type_name") or card.get("type") or ""
            self.type_label.configure(text=f"{type_name} ({card.get('type')}) · {kind_title(card.get('kind'))}")
        self.validity_label.configure(text=validity_text(card))

    def show_balances(self, balances: Mapping[str, Any], *, count_card: bool) -> None:
        """Every balance; the one that pays (counts on a count card, else main) red at zero."""
        for which, label in self.balance_labels.items():
            value = balances.get(which)
            low = which == "counts" and count_card and value == 0 or which == "main" and not count_card and value == 0
            label.configure(text=balance_text(which, value), style="WalletLow.TLabel" if low else "WalletValue.TLabel")

    def show_offline(self, text: str | None) -> None:
        """The offline line with ``text``; None hides it."""
        if text is None:
            self.offline_label.grid_remove()
            return
        self.offline_label.configure(text=text)
        self.offline_label.grid()

    def show_history(self, shown: bool) -> None:
        """The history table under the balances, or not."""
        if shown:
            self.table.grid()
        else:
            self.table.grid_remove()
