"""The cashier and stall panel (tab ``wallet.cashier``): one card at a time, touch-sized.

A card presented on the reader (``CardPresented``, while this tab is on screen) or a number
typed in the card field pops up the card's panel: number, holder, type, status (red when it
cannot pay), validity and every balance. The lookup runs off the Tk thread. Then:

* **Consume** (the default): type the amount (digits and ``.``; counts on a count card) or
  press a quick amount, **Enter** charges, **Esc** cancels;
* **Top up**: the same with the amount paid (count cards: the counts, and the money paid);
* **History**: the card's events in the table under the panel;
* **Report lost** (operators with ``wallet.loss``): two presses blacklist the card.

Every consume or top-up the operator confirms gets one idempotency key, kept until the
operation succeeds or the operator cancels it (Esc, another card, another operation): a double
Enter or a retry after an error can never charge twice. Refusals (blacklisted, expired,
insufficient balance, not accepted here, no permission) are the service's own translated
messages, shown in red in the panel. After a successful consume or top-up a receipt is printed
(``plugins.wallet.receipt``); a printing problem is shown with *Reprint* and never touches
the money.

A card presented on a reader of the window's device host moves its chip too (W6, through the
terminal of ``plugins.wallet.ui.terminal``): the tap checks the chip against the server (a
clone, restored dump or fork is refused in red and blacklisted) and brings its purse up to
date; a consume or top-up posts the entry first, then writes the chip. When the database
cannot be reached, a consume is taken offline from the chip within the card's offline cap
(the panel says it is offline and what the card may still pay), queued in the terminal's
spool, counted in the status bar's *Pending uploads*, and uploaded by itself once the
database is back. A card typed in by its number moves the server only (the next tap brings
its chip up to date). A chip that was never personalised is looked up by its UID.

``CashierTab`` lays the screen out, keeps the shown card and the mode, and wires its parts:

* ``cashier_panel.CardPanel``: the card, its balances, the message line and the history table;
* ``cashier_actions.ActionsColumn``: the modes, the amount fields, the quick amounts, Confirm
  and Cancel, the receipt line with Reprint and the upload line;
* ``cashier_lookup.CardLookup``: the lookups (``tap_card`` for a card on the reader);
* ``cashier_operations.CardOperations``: consume, top up and report lost;
* ``cashier_receipt.ReceiptPrinting``: the receipt and Reprint;
* ``cashier_offline.OfflineUploads``: the database's state, the offline line and the uploads.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Mapping
from tkinter import ttk
from typing import Any

from suite.events import CardPresented, StatusUpdate
from suite.i18n import _
from suite.ui.widgets import release_variables

from plugins.wallet.receipt import Receipt
from plugins.wallet.ui.cashier_actions import ActionsColumn
from plugins.wallet.ui.cashier_lookup import CardLookup, Chip, find_card
from plugins.wallet.ui.cashier_offline import OfflineUploads
from plugins.wallet.ui.cashier_operations import CardOperations, Pending
from plugins.wallet.ui.cashier_panel import CardPanel
from plugins.wallet.ui.cashier_receipt import ReceiptPrinting
from plugins.wallet.ui.display import ensure_styles, fill_history, history_rows, refusal_notice, venue_names, venue_zone


class CashierTab(ttk.Frame):
    """The cashier panel. ``service``: the wallet service (default: the app's).

    The tab holds the shown card (``card``, its ``chip`` and offline ``allowance``) and the
    ``mode``; its parts: ``panel``, ``actions``, ``lookup``, ``operations``, ``receipts`` and
    ``offline``."""

    def __init__(self, parent: tk.Misc, context: Any, *, service: Any = None) -> None:
        super().__init__(parent, padding=(10, 8, 10, 6))
        self.context = context
        self.app = context.app
        self.actor = context.actor
        if service is None:
            from plugins.wallet.services import WalletService

            service = WalletService.from_app(self.app)
        self.service = service
        self.zone = venue_zone(self.app)
        self.card: dict[str, Any] | None = None
        self.mode = "consume"
        self.history_shown = False
        self.shown_at: float | None = None       # perf_counter when the last card was drawn (benchmark)
        self.chip: Chip | None = None   # the shown card came from a reader: its chip moves too
        self.allowance: dict[str, Any] | None = None    # what the shown card may still pay offline
        self.can_topup = self.actor.has_permission("wallet.topup")
        self.can_consume = self.actor.has_permission("wallet.consume")
        self.can_block = self.actor.has_permission("wallet.loss")
        self.lookup = CardLookup(self)
        self.operations = CardOperations(self)
        self.receipts = ReceiptPrinting(self)
        self.offline = OfflineUploads(self)
        ensure_styles(self)
        self._build()
        self._show_empty()
        self.set_mode("consume" if self.can_consume or not self.can_topup else "topup")
        context.subscribe(CardPresented, self.lookup.on_card_presented)
        context.subscribe(StatusUpdate, self.offline.on_status)
        self.bind("<Destroy>", self._on_destroy, add="+")
        self.offline.upload()   # what an earlier session left queued: counted, and uploaded if it can be

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.columnconfigure(0, weight=1)
        self.columnconfigure(1, weight=0)
        self.rowconfigure(1, weight=1)
        self._build_lookup()
        self.panel = CardPanel(self)
        self.panel.grid(row=1, column=0, sticky="nsew", padx=(0, 10))
        self.actions = ActionsColumn(
            self, can_consume=self.can_consume, can_topup=self.can_topup, can_block=self.can_block,
            on_mode=self.set_mode, on_history=self.toggle_history, on_block=self.operations.report_lost,
            on_quick=self.quick, on_confirm=self.confirm, on_cancel=self.cancel, on_reprint=self.receipts.reprint)
        self.actions.grid(row=1, column=1, sticky="nsew")
        # the parts' widgets the tab's users reach on the tab
        panel, actions = self.panel, self.actions
        self.message = panel.message
        self.table = panel.table
        self.number_label, self.status_label, self.holder_label = (
            panel.number_label, panel.status_label, panel.holder_label)
        self.offline_label, self.balance_labels = panel.offline_label, panel.balance_labels
        self.mode_buttons, self.block_button = actions.mode_buttons, actions.block_button
        self.amount_title, self.amount_entry = actions.amount_title, actions.amount_entry
        self.confirm_button, self.reprint_button = actions.confirm_button, actions.reprint_button
        self.receipt_message, self.upload_message = actions.receipt_message, actions.upload_message

    def _build_lookup(self) -> None:
        bar = ttk.Frame(self)
        bar.grid(row=0, column=0, columnspan=2, sticky="ew", pady=(0, 8))
        ttk.Label(bar, text=_("Card no."), style="Large.TLabel").pack(side="left", padx=(0, 8))
        self.number_entry = ttk.Entry(bar, width=18, style="Touch.TEntry", font="VSLarge")
        self.number_entry.pack(side="left")
        self.number_entry.bind("<Return>", lambda e: self.lookup.look_up_number() or "break")
        self.number_entry.bind("<KP_Enter>", lambda e: self.lookup.look_up_number() or "break")
        self.lookup_button = ttk.Button(bar, text=_("Look up"), style="Touch.TButton",
                                        command=self.lookup.look_up_number)
        self.lookup_button.pack(side="left", padx=(8, 0))
        self.clear_button = ttk.Button(bar, text=_("Next customer"), style="Touch.TButton", command=self.clear)
        self.clear_button.pack(side="right")

    # ------------------------------------------------------------------ the parts' state

    @property
    def busy(self) -> bool:
        """A consume, top-up or block is on its way."""
        return self.operations.busy

    @property
    def pending(self) -> Pending | None:
        return self.operations.pending

    @property
    def last_result(self) -> dict[str, Any] | None:
        return self.operations.last_result

    @property
    def looking_up(self) -> bool:
        return self.lookup.looking_up

    @property
    def online(self) -> bool | None:
        """The database, as the last operation or the heartbeat saw it (None: not known yet)."""
        return self.offline.online

    @property
    def receipt(self) -> Receipt | None:
        return self.receipts.receipt

    @property
    def count_card(self) -> bool:
        """The shown card holds counts, not money."""
        return self.card is not None and self.card.get("kind") == "count"

    # ------------------------------------------------------------------ showing a card

    def _show_empty(self) -> None:
        self.panel.show_empty()
        self.offline.show_banner()

    def show_card(self, card: Mapping[str, Any]) -> None:
        """Draw ``card`` (a ``WalletService.query`` dict) in the panel."""
        previous = self.card.get("card_no") if self.card else None
        self.card = dict(card)
        if card.get("card_no") != previous:
            self.operations.forget()
            self.operations.last_result = None
            self.receipts.forget()
        self.panel.show_card(card)
        self.panel.show_balances(card.get("balances") or {}, count_card=self.count_card)
        self.offline.show_banner()
        notice = refusal_notice(card)
        if notice:
            self.message.error(notice)
        elif card.get("card_no") != previous or self.message.kind != "ok":
            self.message.clear()
        self._apply_mode()
        if self.history_shown and not card.get("offline"):
            self.load_history()
        self.amount_entry.focus_set()
        self.shown_at = time.perf_counter()

    def clear(self) -> None:
        """Forget the card (the next customer); a pending operation is cancelled."""
        if self.busy:
            return
        self.lookup.forget()
        self.card = None
        self.chip = None
        self.allowance = None
        self.operations.forget()
        self.operations.last_result = None
        self.message.clear()
        self.receipts.forget()
        self.table.set_rows([])
        self.history_shown = False
        self.panel.show_history(False)
        self._show_empty()
        self.number_entry.delete(0, "end")
        self.number_entry.focus_set()

    # ------------------------------------------------------------------ modes and operations

    def set_mode(self, mode: str) -> None:
        if self.busy or mode == self.mode and self.amount_title.cget("text"):
            return
        if mode != self.mode:
            self.operations.forget()
        self.mode = mode
        self._apply_mode()
        self.amount_entry.focus_set()

    def _apply_mode(self) -> None:
        self.actions.apply_mode(self.mode, count_card=self.count_card)
        self.set_enabled()

    def set_enabled(self) -> None:
        """What can be pressed: the actions column's controls, the lookup and *Next customer*."""
        self.actions.set_enabled(self.mode, has_card=self.card is not None, busy=self.busy)
        self.lookup_button.state(["disabled"] if self.busy else ["!disabled"])
        self.clear_button.state(["disabled"] if self.busy else ["!disabled"])

    def quick(self, index: int) -> None:
        """The quick amount ``index`` in the amount field."""
        self.actions.fill_quick(index, count_card=self.count_card)

    def confirm(self) -> None:
        """Enter: charge (or top up) the amount typed (``CardOperations.confirm``)."""
        self.operations.confirm()

    def cancel(self) -> None:
        """Esc: drop what was typed and the pending operation (``CardOperations.cancel``)."""
        self.operations.cancel()

    # ------------------------------------------------------------------ history

    def toggle_history(self) -> None:
        if self.history_shown:
            self.history_shown = False
            self.panel.show_history(False)
            return
        self.history_shown = True
        self.panel.show_history(True)
        self.load_history()

    def load_history(self) -> None:
        if self.card is None:
            return
        app, service, actor, number, zone = self.app, self.service, self.actor, self.card["card_no"], self.zone

        def done(rows: list[tuple[str, ...]]) -> None:
            if self.winfo_exists() and self.card is not None and self.card["card_no"] == number:
                fill_history(self.table, rows)

        def failed(exc: BaseException) -> None:
            if self.winfo_exists():
                self.message.error(exc)

        self.context.run_in_thread(lambda: history_rows(service.history(actor, number), zone, venue_names(app)),
                                   done, failed)

    # ------------------------------------------------------------------ teardown

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            self.offline.stop()
            self.operations.stop()
            release_variables(self)


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``wallet.cashier``."""
    return CashierTab(parent, context)


__all__ = ["CashierTab", "Pending", "build_tab", "find_card"]
