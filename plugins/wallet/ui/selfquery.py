"""The customer's card enquiry (tab ``wallet.selfquery``, feature W7): big and simple.

The customer presents the card on the reader (or types its number): the screen shows its
balances, validity and status, and the history (time, place, operation, amount or count, and
the balance left when the history carries it) in a scrollable table. Nothing can be changed
here. After ``IDLE_SECONDS`` without a card, a key or a touch, the screen clears itself so
the next customer does not see the last one's card.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Mapping
from tkinter import ttk
from typing import Any

from suite.events import CardPresented
from suite.i18n import _
from suite.ui.widgets import ColumnDef, Table, Timer, release_variables

from plugins.wallet.ui.cashier import find_card
from plugins.wallet.ui.display import (BALANCE_TITLES, PanelMessage, badge_style, balance_text, ensure_styles,
                                       fill_history, history_rows, kind_title, refusal_notice, status_title,
                                       venue_names, venue_zone)

IDLE_SECONDS = 30


class SelfQueryTab(ttk.Frame):
    def __init__(self, parent: tk.Misc, context: Any, *, service: Any = None,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        super().__init__(parent, padding=(14, 10, 14, 8))
        self.context = context
        self.app = context.app
        self.actor = context.actor
        if service is None:
            from plugins.wallet.services import WalletService

            service = WalletService.from_app(self.app)
        self.service = service
        self.zone = venue_zone(self.app)
        self.idle_ms = int(idle_seconds * 1000)
        self.card: dict[str, Any] | None = None
        self.generation = 0
        self._idle_timer = Timer(self, self._idle)
        ensure_styles(self)
        self._build()
        self.clear()
        context.subscribe(CardPresented, self.on_card_presented)
        for sequence in ("<Key>", "<Button>", "<MouseWheel>", "<Button-4>", "<Button-5>"):
            self.bind_all_children(sequence)
        self.bind("<Destroy>", self._on_destroy, add="+")

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.columnconfigure(0, weight=1)
        self.rowconfigure(3, weight=1)
        top = ttk.Frame(self)
        top.grid(row=0, column=0, sticky="ew")
        top.columnconfigure(0, weight=1)
        ttk.Label(top, text=_("Card enquiry"), style="Title.TLabel").grid(row=0, column=0, sticky="w")
        self.prompt = ttk.Label(top, text=_("Please present your card on the reader."), style="WalletPrompt.TLabel")
        self.prompt.grid(row=1, column=0, sticky="w", pady=(2, 0))
        box = ttk.Frame(top)
        box.grid(row=0, column=1, rowspan=2, sticky="e")
        ttk.Label(box, text=_("or type the card number"), style="Muted.TLabel").pack(side="left", padx=(0, 8))
        self.number_entry = ttk.Entry(box, width=16, style="Touch.TEntry", font="VSLarge")
        self.number_entry.pack(side="left")
        self.number_entry.bind("<Return>", lambda e: self.look_up_number() or "break")
        self.number_entry.bind("<KP_Enter>", lambda e: self.look_up_number() or "break")
        self.number_entry.bind("<Escape>", lambda e: self.clear() or "break")
        self.show_button = ttk.Button(box, text=_("Show"), style="TouchAccent.TButton", command=self.look_up_number)
        self.show_button.pack(side="left", padx=(8, 0))

        panel = ttk.Frame(self, style="Card.TFrame", padding=(18, 12))
        panel.grid(row=1, column=0, sticky="ew", pady=(10, 8))
        panel.columnconfigure(0, weight=1)
        panel.columnconfigure(1, weight=1)
        self.panel = panel
        left = ttk.Frame(panel, style="Surface.TFrame")
        left.grid(row=0, column=0, sticky="nsw")
        head = ttk.Frame(left, style="Surface.TFrame")
        head.pack(anchor="w")
        self.number_label = ttk.Label(head, style="WalletNumber.TLabel")
        self.number_label.pack(side="left")
        self.status_label = ttk.Label(head, style="WalletBadgeMuted.TLabel")
        self.status_label.pack(side="left", padx=(14, 0))
        self.holder_label = ttk.Label(left, style="SurfaceLarge.TLabel")
        self.holder_label.pack(anchor="w", pady=(6, 0))
        self.type_label = ttk.Label(left, style="SurfaceMuted.TLabel")
        self.type_label.pack(anchor="w", pady=(2, 0))
        self.validity_label = ttk.Label(left, style="SurfaceLarge.TLabel")
        self.validity_label.pack(anchor="w", pady=(2, 0))

        right = ttk.Frame(panel, style="Surface.TFrame")
        right.grid(row=0, column=1, sticky="nse")
        self.main_caption = ttk.Label(right, text=_("Main balance"), style="WalletCaption.TLabel")
        self.main_caption.grid(row=0, column=0, columnspan=4, sticky="e")
        self.main_label = ttk.Label(right, style="WalletHuge.TLabel")
        self.main_label.grid(row=1, column=0, columnspan=4, sticky="e")
        self.balance_labels: dict[str, ttk.Label] = {}
        self.balance_captions: dict[str, ttk.Label] = {}
        for column, (which, title) in enumerate(t for t in BALANCE_TITLES if t[0] != "main"):
            caption = ttk.Label(right, text=_(title), style="WalletCaption.TLabel")
            caption.grid(row=2, column=column, sticky="e", padx=(18, 0), pady=(6, 0))
            value = ttk.Label(right, style="WalletValue.TLabel")
            value.grid(row=3, column=column, sticky="e", padx=(18, 0))
            self.balance_captions[which] = caption
            self.balance_labels[which] = value
        self.message = PanelMessage(panel, collapse=True)
        self.message.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(10, 0))

        ttk.Label(self, text=_("History"), style="WalletSection.TLabel").grid(row=2, column=0, sticky="nw")
        self.table = Table(self, [
            ColumnDef("at", _("Time"), 16), ColumnDef("venue", _("Place"), 12),
            ColumnDef("action", _("Operation"), 16), ColumnDef("amount", _("Amount or count"), 14, "e"),
            ColumnDef("remaining", _("Remaining"), 12, "e")], height=6)
        self.table.tree.configure(style="WalletLarge.Treeview")
        self.table.grid(row=3, column=0, sticky="nsew", pady=(4, 0))
        self.footer = ttk.Label(self, text=_("This screen clears itself after {seconds} seconds without use.").format(
            seconds=max(1, self.idle_ms // 1000)), style="Muted.TLabel")
        self.footer.grid(row=4, column=0, sticky="w", pady=(6, 0))

    def bind_all_children(self, sequence: str) -> None:
        """Any key or touch on this screen counts as activity (keeps the card shown)."""
        def walk(widget: tk.Misc) -> None:
            widget.bind(sequence, lambda e: self.touch(), add="+")
            for child in widget.winfo_children():
                walk(child)
        walk(self)

    # ------------------------------------------------------------------ showing

    def clear(self) -> None:
        """Back to the prompt: no card on screen."""
        self.generation += 1
        self.card = None
        self._idle_timer.cancel()
        self.number_label.configure(text=_("Card enquiry"))
        self.status_label.configure(text="", style="WalletBadgeMuted.TLabel")
        self.status_label.pack_forget()
        self.holder_label.configure(text=_("Present your card to see its balance and history."))
        self.type_label.configure(text="")
        self.validity_label.configure(text="")
        self.main_label.configure(text="—")
        for label in self.balance_labels.values():
            label.configure(text="—")
        self.message.clear()
        self.table.set_rows([])
        self.number_entry.delete(0, "end")

    def show_card(self, card: Mapping[str, Any], history: list[tuple[str, ...]]) -> None:
        self.card = dict(card)
        self.number_label.configure(text=_("Card {card}").format(card=card.get("card_no")))
        self.status_label.configure(text=status_title(card.get("status")), style=badge_style(card.get("status")))
        if not self.status_label.winfo_manager():
            self.status_label.pack(side="left", padx=(14, 0))
        self.holder_label.configure(text=card.get("holder_name") or "")
        type_name = card.get("type_name") or card.get("type") or ""
        self.type_label.configure(text=f"{type_name} · {kind_title(card.get('kind'))}")
        expires = card.get("expires_on")
        self.validity_label.configure(text=_("Valid until {date}").format(date=expires) if expires else "")
        balances = card.get("balances") or {}
        count_card = card.get("kind") == "count"
        if count_card:
            self.main_caption.configure(text=_("Counts left"))
            self.main_label.configure(text=balance_text("counts", balances.get("counts")))
        else:
            self.main_caption.configure(text=_("Main balance"))
            self.main_label.configure(text=balance_text("main", balances.get("main")))
        for which, label in self.balance_labels.items():
            label.configure(text=balance_text(which, balances.get(which)))
        notice = refusal_notice(card)
        if notice:
            self.message.error(notice)
        else:
            self.message.clear()
        fill_history(self.table, history)
        self.number_entry.delete(0, "end")
        self.touch()

    # ------------------------------------------------------------------ lookups

    def on_card_presented(self, event: CardPresented) -> None:
        if not self.winfo_exists() or not self.winfo_viewable():
            return
        service, actor, uid = self.service, self.actor, event.uid
        devices = self.app.extras.get("devices")
        reader = event.reader

        def card() -> dict[str, Any]:
            try:
                found = find_card(service, actor, uid)
            except Exception:
                if devices is not None:
                    devices.tap_feedback(reader, good=False)
                raise
            if devices is not None:
                devices.tap_feedback(reader, good=True)
            return found

        self._look_up(card)

    def look_up_number(self) -> None:
        number = self.number_entry.get().strip()
        if not number:
            self.number_entry.focus_set()
            return
        service, actor = self.service, self.actor
        self._look_up(lambda: service.query(actor, number))

    def _look_up(self, find: Callable[[], dict[str, Any]]) -> None:
        self.generation += 1
        generation = self.generation
        app, service, actor, zone = self.app, self.service, self.actor, self.zone
        self.message.show(_("Looking up the card…"))
        self.touch()

        def work() -> tuple[dict[str, Any], list[tuple[str, ...]]]:
            card = find()
            return card, history_rows(service.history(actor, card["card_no"]), zone, venue_names(app))

        def done(found: tuple[dict[str, Any], list[tuple[str, ...]]]) -> None:
            if generation == self.generation and self.winfo_exists():
                self.show_card(*found)

        def failed(exc: BaseException) -> None:
            if generation == self.generation and self.winfo_exists():
                self.message.error(exc)

        self.context.run_in_thread(work, done, failed)

    # ------------------------------------------------------------------ idle

    def touch(self) -> None:
        """Activity: the screen clears itself ``idle_ms`` after the last one."""
        self._idle_timer.start(self.idle_ms)

    def _idle(self) -> None:
        self.clear()

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            self._idle_timer.cancel()
            release_variables(self)


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``wallet.selfquery``."""
    return SelfQueryTab(parent, context)


__all__ = ["IDLE_SECONDS", "SelfQueryTab", "build_tab"]
