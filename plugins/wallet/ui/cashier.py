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
"""

from __future__ import annotations

import logging
import time
import tkinter as tk
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from tkinter import ttk
from typing import Any

from suite.errors import NotFound, SuiteError
from suite.events import CardPresented
from suite.i18n import _
from suite.ui.widgets import ColumnDef, Table, error_text, release_variables

from plugins.wallet import receipt as receipts
from plugins.wallet.ui.display import (BALANCE_TITLES, COUNT_TYPING, MONEY_TYPING, PanelMessage, badge_style,
                                       balance_text, counts_text, ensure_styles, fill_history, history_rows,
                                       kind_title, points_text, refusal_notice, status_title, venue_names,
                                       venue_zone, yuan)

log = logging.getLogger(__name__)

QUICK_AMOUNTS = (1000, 2000, 5000, 10000)      # fen
QUICK_COUNTS = (1, 2, 5, 10)
CONFIRM_BLOCK_MS = 8000     # the second press of Report lost must come within this
SIDE_WIDTH = 380            # pixels: the actions column; the card panel takes the rest


@dataclass
class Pending:
    """A confirmed consume or top-up not yet known to have succeeded: its key is reused."""

    operation: str          # "consume" | "topup"
    card_no: str
    key: str


def find_card(service: Any, actor: Any, uid: str) -> dict[str, Any]:
    """The card whose chip has ``uid`` (``WalletService.find_card``)."""
    finder = getattr(service, "find_card", None)
    if finder is None:
        raise NotFound(_("Cards cannot be looked up by their chip on this system yet: type the card number."))
    return finder(actor, uid=uid)


class CashierTab(ttk.Frame):
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
        self.pending: Pending | None = None
        self.busy = False               # a consume, top-up or block is on its way
        self.generation = 0             # lookups: only the newest one's answer is shown
        self.history_shown = False
        self.receipt: receipts.Receipt | None = None
        self.printing = False
        self.receipt_failed = False     # the last receipt did not print: Reprint stays on offer
        self.last_result: dict[str, Any] | None = None
        self.shown_at: float | None = None       # perf_counter when the last card was drawn (benchmark)
        self._block_armed: str | None = None
        self._typing = "money"          # what the amount field accepts: "money" or "count"
        self._after_ids: list[str] = []
        self.can_topup = self.actor.has_permission("wallet.topup")
        self.can_consume = self.actor.has_permission("wallet.consume")
        self.can_block = self.actor.has_permission("wallet.loss")
        ensure_styles(self)
        self._build()
        self._show_empty()
        self.set_mode("consume" if self.can_consume or not self.can_topup else "topup")
        context.subscribe(CardPresented, self.on_card_presented)
        self.bind("<Destroy>", self._on_destroy, add="+")

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.columnconfigure(0, weight=1)
        self.columnconfigure(1, weight=0)
        self.rowconfigure(1, weight=1)
        self._build_lookup()
        self._build_card_panel()
        self._build_actions()

    def _build_lookup(self) -> None:
        bar = ttk.Frame(self)
        bar.grid(row=0, column=0, columnspan=2, sticky="ew", pady=(0, 8))
        ttk.Label(bar, text=_("Card no."), style="Large.TLabel").pack(side="left", padx=(0, 8))
        self.number_entry = ttk.Entry(bar, width=18, style="Touch.TEntry", font="VSLarge")
        self.number_entry.pack(side="left")
        self.number_entry.bind("<Return>", lambda e: self.look_up_number() or "break")
        self.number_entry.bind("<KP_Enter>", lambda e: self.look_up_number() or "break")
        self.lookup_button = ttk.Button(bar, text=_("Look up"), style="Touch.TButton", command=self.look_up_number)
        self.lookup_button.pack(side="left", padx=(8, 0))
        self.clear_button = ttk.Button(bar, text=_("Next customer"), style="Touch.TButton", command=self.clear)
        self.clear_button.pack(side="right")

    def _build_card_panel(self) -> None:
        panel = ttk.Frame(self, style="Card.TFrame", padding=(16, 12))
        panel.grid(row=1, column=0, sticky="nsew", padx=(0, 10))
        panel.columnconfigure(0, weight=1)
        panel.rowconfigure(7, weight=1)
        self.panel = panel
        top = ttk.Frame(panel, style="Surface.TFrame")
        top.grid(row=0, column=0, sticky="ew")
        top.columnconfigure(0, weight=1)
        self.number_label = ttk.Label(top, style="WalletNumber.TLabel")
        self.number_label.grid(row=0, column=0, sticky="w")
        self.status_label = ttk.Label(top, style="WalletBadgeMuted.TLabel")
        self.status_label.grid(row=0, column=1, sticky="e")
        self.holder_label = ttk.Label(panel, style="SurfaceLarge.TLabel")
        self.holder_label.grid(row=1, column=0, sticky="w", pady=(6, 0))
        line = ttk.Frame(panel, style="Surface.TFrame")
        line.grid(row=2, column=0, sticky="w", pady=(2, 0))
        self.type_label = ttk.Label(line, style="SurfaceMuted.TLabel")
        self.type_label.pack(side="left")
        self.validity_label = ttk.Label(line, style="Surface.TLabel")
        self.validity_label.pack(side="left", padx=(14, 0))
        ttk.Separator(panel).grid(row=4, column=0, sticky="ew", pady=(10, 8))

        # every balance: main, gift and points on the first line, counts and deposit on the second
        balances = ttk.Frame(panel, style="Surface.TFrame")
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

        self.message = PanelMessage(panel, collapse=True)
        self.message.grid(row=6, column=0, sticky="ew", pady=(10, 0))

        self.table = Table(panel, [
            ColumnDef("at", _("Time"), 14), ColumnDef("venue", _("Venue"), 9),
            ColumnDef("action", _("Operation"), 13), ColumnDef("amount", _("Amount"), 8, "e"),
            ColumnDef("remaining", _("Remaining"), 10, "e")], height=5)
        self.table.grid(row=7, column=0, sticky="nsew", pady=(10, 0))
        self.table.grid_remove()

    def _build_actions(self) -> None:
        # a fixed width: the card panel takes what is left (1024x768: about 600 px)
        side = ttk.Frame(self, width=SIDE_WIDTH)
        side.grid(row=1, column=1, sticky="nsew")
        side.grid_propagate(False)
        side.columnconfigure((0, 1), weight=1, uniform="modes")
        self.mode_buttons: dict[str, ttk.Button] = {}
        self.mode_buttons["consume"] = ttk.Button(side, text=_("Consume"), style="Touch.TButton",
                                                  command=lambda: self.set_mode("consume"))
        self.mode_buttons["topup"] = ttk.Button(side, text=_("Top up"), style="Touch.TButton",
                                                command=lambda: self.set_mode("topup"))
        self.mode_buttons["consume"].grid(row=0, column=0, sticky="ew", padx=(0, 4))
        self.mode_buttons["topup"].grid(row=0, column=1, sticky="ew", padx=(4, 0))
        if not self.can_consume:
            self.mode_buttons["consume"].state(["disabled"])
        if not self.can_topup:
            self.mode_buttons["topup"].state(["disabled"])
        self.history_button = ttk.Button(side, text=_("History"), style="Touch.TButton", command=self.toggle_history)
        self.history_button.grid(row=1, column=0, sticky="ew", padx=(0, 4), pady=(8, 0))
        self.block_button = ttk.Button(side, text=_("Report lost"), style="Touch.TButton", command=self.block)
        if self.can_block:
            self.block_button.grid(row=1, column=1, sticky="ew", padx=(4, 0), pady=(8, 0))

        # the amount (or counts), and beside it what a count top-up is paid
        entry_box = ttk.Frame(side)
        entry_box.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(14, 0))
        entry_box.columnconfigure(0, weight=3)
        entry_box.columnconfigure(1, weight=2)
        self.amount_title = ttk.Label(entry_box, style="WalletSection.TLabel")
        self.amount_title.grid(row=0, column=0, sticky="w")
        self._money_check = (self.register(lambda text: bool(MONEY_TYPING.match(text))), "%P")
        self._count_check = (self.register(lambda text: bool(COUNT_TYPING.match(text))), "%P")
        self.amount_entry = ttk.Entry(entry_box, font="VSHuge", justify="right", width=8, validate="key",
                                      validatecommand=self._money_check)
        self.amount_entry.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(4, 0))
        self.paid_title = ttk.Label(entry_box, text=_("Paid (¥)"), style="WalletSection.TLabel")
        self.paid_entry = ttk.Entry(entry_box, font="VSHuge", justify="right", width=6, validate="key",
                                    validatecommand=self._money_check)
        for entry in (self.amount_entry, self.paid_entry):
            entry.bind("<Return>", lambda e: self.confirm() or "break")
            entry.bind("<KP_Enter>", lambda e: self.confirm() or "break")
            entry.bind("<Escape>", lambda e: self.cancel() or "break")

        quick = ttk.Frame(side)
        quick.grid(row=3, column=0, columnspan=2, sticky="ew", pady=(8, 0))
        self.quick_buttons: list[ttk.Button] = []
        for n in range(4):
            quick.columnconfigure(n, weight=1, uniform="quick")
            button = ttk.Button(quick, style="WalletQuick.Touch.TButton", command=lambda n=n: self.quick(n))
            button.grid(row=0, column=n, sticky="ew", padx=(0 if n == 0 else 3, 0 if n == 3 else 3))
            self.quick_buttons.append(button)

        self.confirm_button = ttk.Button(side, text=_("Confirm (Enter)"), style="WalletNarrow.TouchAccent.TButton",
                                         command=self.confirm)
        self.confirm_button.grid(row=4, column=0, sticky="ew", padx=(0, 4), pady=(10, 0))
        self.cancel_button = ttk.Button(side, text=_("Cancel (Esc)"), style="WalletNarrow.Touch.TButton",
                                        command=self.cancel)
        self.cancel_button.grid(row=4, column=1, sticky="ew", padx=(4, 0), pady=(10, 0))

        ttk.Separator(side).grid(row=5, column=0, columnspan=2, sticky="ew", pady=(12, 8))
        ttk.Label(side, text=_("Receipt"), style="WalletSection.TLabel").grid(row=6, column=0, sticky="w")
        self.reprint_button = ttk.Button(side, text=_("Reprint"), style="Touch.TButton", command=self.reprint)
        self.reprint_button.grid(row=6, column=1, sticky="ew", padx=(4, 0))
        self.reprint_button.state(["disabled"])
        self.receipt_message = PanelMessage(side)
        self.receipt_message.grid(row=7, column=0, columnspan=2, sticky="ew", pady=(6, 0))

    # ------------------------------------------------------------------ showing a card

    def _show_empty(self) -> None:
        self.number_label.configure(text=_("No card"))
        self.status_label.configure(text="", style="WalletBadgeMuted.TLabel")
        self.status_label.grid_remove()
        self.holder_label.configure(text=_("Present a card on the reader, or type its number."))
        self.type_label.configure(text="")
        self.validity_label.configure(text="")
        for which, label in self.balance_labels.items():
            label.configure(text="—", style="WalletValue.TLabel")

    def show_card(self, card: Mapping[str, Any]) -> None:
        """Draw ``card`` (a ``WalletService.query`` dict) in the panel."""
        previous = self.card.get("card_no") if self.card else None
        self.card = dict(card)
        if card.get("card_no") != previous:
            self._forget_operation()
            self.last_result = None
            if not self._receipt_waiting():
                self.receipt = None
                self.receipt_message.clear()
                self.reprint_button.state(["disabled"])
        self.number_label.configure(text=str(card.get("card_no") or ""))
        self.status_label.configure(text=status_title(card.get("status")), style=badge_style(card.get("status")))
        self.status_label.grid()
        holder = card.get("holder_name") or _("(no holder name)")
        phone = card.get("holder_phone") or ""
        self.holder_label.configure(text=f"{holder}   {phone}".rstrip())
        type_name = card.get("type_name") or card.get("type") or ""
        self.type_label.configure(text=f"{type_name} ({card.get('type')}) · {kind_title(card.get('kind'))}")
        self.validity_label.configure(text=self._validity(card))
        self._show_balances(card.get("balances") or {})
        notice = refusal_notice(card)
        if notice:
            self.message.error(notice)
        elif card.get("card_no") != previous or self.message.kind != "ok":
            self.message.clear()
        self._apply_mode()
        if self.history_shown:
            self.load_history()
        self.amount_entry.focus_set()
        self.shown_at = time.perf_counter()

    @staticmethod
    def _validity(card: Mapping[str, Any]) -> str:
        expires = card.get("expires_on")
        return _("Valid until {date}").format(date=expires) if expires else ""

    def _show_balances(self, balances: Mapping[str, Any]) -> None:
        count_card = self.card is not None and self.card.get("kind") == "count"
        for which, label in self.balance_labels.items():
            value = balances.get(which)
            low = which == "counts" and count_card and value == 0 or which == "main" and not count_card and value == 0
            label.configure(text=balance_text(which, value), style="WalletLow.TLabel" if low else "WalletValue.TLabel")

    # ------------------------------------------------------------------ lookups

    def on_card_presented(self, event: CardPresented) -> None:
        """A card on the reader: look it up when this tab is on screen."""
        if not self.winfo_exists() or not self.winfo_viewable():
            return
        if self.busy:
            self.message.show(_("Wait: the current operation is not finished yet."))
            return
        devices = self.app.extras.get("devices")
        service, actor, uid, reader = self.service, self.actor, event.uid, event.reader

        def work() -> dict[str, Any]:
            try:
                card = find_card(service, actor, uid)
            except Exception:
                if devices is not None:
                    devices.tap_feedback(reader, good=False)
                raise
            if devices is not None:
                devices.tap_feedback(reader, good=card.get("status") == "active")
            return card

        self._look_up(work)

    def look_up_number(self) -> None:
        number = self.number_entry.get().strip()
        if not number:
            self.message.error(_("Type a card number first."))
            self.number_entry.focus_set()
            return
        if self.busy:
            self.message.show(_("Wait: the current operation is not finished yet."))
            return
        service, actor = self.service, self.actor
        self._look_up(lambda: service.query(actor, number))

    def _look_up(self, work: Callable[[], dict[str, Any]]) -> None:
        self.generation += 1
        generation = self.generation
        self.message.show(_("Looking up the card…"))

        def done(card: dict[str, Any]) -> None:
            if generation == self.generation and self.winfo_exists():
                self.number_entry.delete(0, "end")
                self.show_card(card)

        def failed(exc: BaseException) -> None:
            if generation == self.generation and self.winfo_exists():
                self.message.error(exc)

        self.context.run_in_thread(work, done, failed)

    def refresh(self) -> None:
        """Read the shown card again (after a block, or on demand)."""
        if self.card is not None:
            service, actor, number = self.service, self.actor, self.card["card_no"]
            self._look_up(lambda: service.query(actor, number))

    def clear(self) -> None:
        """Forget the card (the next customer); a pending operation is cancelled."""
        if self.busy:
            return
        self.generation += 1
        self.card = None
        self._forget_operation()
        self.last_result = None
        self.message.clear()
        if not self._receipt_waiting():
            self.receipt = None
            self.receipt_message.clear()
            self.reprint_button.state(["disabled"])
        self.table.set_rows([])
        self.history_shown = False
        self.table.grid_remove()
        self._show_empty()
        self.number_entry.delete(0, "end")
        self.number_entry.focus_set()

    # ------------------------------------------------------------------ operations

    def set_mode(self, mode: str) -> None:
        if self.busy or mode == self.mode and self.amount_title.cget("text"):
            return
        if mode != self.mode:
            self._forget_operation()
        self.mode = mode
        self._apply_mode()
        self.amount_entry.focus_set()

    def _apply_mode(self) -> None:
        count_card = self.card is not None and self.card.get("kind") == "count"
        for name, button in self.mode_buttons.items():
            button.configure(style="TouchAccent.TButton" if name == self.mode else "Touch.TButton")
        if self.mode == "consume":
            title = _("Counts to use") if count_card else _("Amount to pay (¥)")
        else:
            title = _("Counts to add") if count_card else _("Top-up amount (¥)")
        self.amount_title.configure(text=title)
        typing = "count" if count_card else "money"
        if typing != self._typing:
            self._typing = typing
            self.amount_entry.configure(validate="none")
            if not (COUNT_TYPING if count_card else MONEY_TYPING).match(self.amount_entry.get()):
                self.amount_entry.delete(0, "end")
            self.amount_entry.configure(validatecommand=self._count_check if count_card else self._money_check,
                                        validate="key")
        if count_card and self.mode == "topup":
            self.amount_entry.grid_configure(columnspan=1, padx=(0, 8))
            self.paid_title.grid(row=0, column=1, sticky="w")
            self.paid_entry.grid(row=1, column=1, sticky="ew", pady=(4, 0))
        else:
            self.amount_entry.grid_configure(columnspan=2, padx=0)
            self.paid_title.grid_remove()
            self.paid_entry.grid_remove()
        for button, value in zip(self.quick_buttons, QUICK_COUNTS if count_card else QUICK_AMOUNTS):
            button.configure(text=str(value) if count_card else f"¥{value // 100}")
        self._set_enabled()

    def _set_enabled(self) -> None:
        allowed = self.can_consume if self.mode == "consume" else self.can_topup
        ready = self.card is not None and not self.busy
        for button in (self.confirm_button, *self.quick_buttons):
            button.state(["!disabled"] if ready and allowed else ["disabled"])
        for button in (self.history_button, self.block_button):
            button.state(["!disabled"] if ready else ["disabled"])
        for name, button in self.mode_buttons.items():
            permitted = self.can_consume if name == "consume" else self.can_topup
            button.state(["!disabled"] if permitted and not self.busy else ["disabled"])
        self.lookup_button.state(["disabled"] if self.busy else ["!disabled"])
        self.clear_button.state(["disabled"] if self.busy else ["!disabled"])

    def quick(self, index: int) -> None:
        count_card = self.card is not None and self.card.get("kind") == "count"
        value = (QUICK_COUNTS if count_card else QUICK_AMOUNTS)[index]
        self.amount_entry.delete(0, "end")
        self.amount_entry.insert(0, str(value) if count_card else f"{value // 100}")
        self.amount_entry.focus_set()

    def _read(self) -> tuple[int, int]:
        """(amount in fen, counts) from the fields; ``InvalidInput`` with a translated reason."""
        from plugins.wallet.ui.display import parse_counts, parse_yuan

        count_card = self.card is not None and self.card.get("kind") == "count"
        if not count_card:
            return parse_yuan(self.amount_entry.get()), 0
        counts = parse_counts(self.amount_entry.get())
        paid = 0
        if self.mode == "topup" and self.paid_entry.get().strip():
            paid = parse_yuan(self.paid_entry.get(), allow_zero=True)
        return paid, counts

    def confirm(self) -> None:
        """Enter: charge (or top up) the amount typed, with the pending operation's key."""
        if self.busy:
            return              # a second Enter while the first is on its way changes nothing
        if self.card is None:
            self.message.error(_("Present a card on the reader, or type its number."))
            return
        allowed = self.can_consume if self.mode == "consume" else self.can_topup
        if not allowed:
            return
        try:
            amount, counts = self._read()
        except SuiteError as exc:
            self.message.error(exc)
            self.amount_entry.focus_set()
            return
        card_no = str(self.card["card_no"])
        if self.pending is None or (self.pending.operation, self.pending.card_no) != (self.mode, card_no):
            self.pending = Pending(self.mode, card_no, f"ui-{self.mode}-{uuid.uuid4()}")
        pending, operation = self.pending, self.mode
        service, actor = self.service, self.actor
        if operation == "consume":
            def work() -> dict[str, Any]:
                return service.consume(actor, card_no=card_no, key=pending.key, amount=amount, counts=counts)
            self.message.show(_("Charging the card…"))
        else:
            def work() -> dict[str, Any]:
                return service.top_up(actor, card_no=card_no, key=pending.key, amount=amount, counts=counts)
            self.message.show(_("Topping up the card…"))
        self.busy = True
        self._set_enabled()
        self.context.run_in_thread(work, lambda result: self._succeeded(pending, result),
                                   lambda exc: self._failed(pending, exc))

    def _succeeded(self, pending: Pending, result: dict[str, Any]) -> None:
        self.busy = False
        if not self.winfo_exists():
            return
        if self.pending is pending:
            self.pending = None          # done: the next operation gets a new key
        self.last_result = dict(result, operation=pending.operation)
        card = dict(self.card or {}, card_no=pending.card_no)
        if self.card is not None and self.card.get("card_no") == pending.card_no:
            self.card["balances"] = result.get("balances") or self.card.get("balances") or {}
            self._show_balances(self.card["balances"])
            card = dict(self.card)
        self.amount_entry.delete(0, "end")
        self.paid_entry.delete(0, "end")
        self.message.ok(self._summary(pending.operation, card, result))
        self._set_enabled()
        self.amount_entry.focus_set()
        if self.history_shown:
            self.load_history()
        # a replayed result answers a retry whose first answer never came back: no receipt yet
        make = receipts.consume_receipt if pending.operation == "consume" else receipts.topup_receipt
        self.print_receipt(make(self.app, self.actor, card, result))

    def _failed(self, pending: Pending, exc: BaseException) -> None:
        self.busy = False
        if not self.winfo_exists():
            return
        if not isinstance(exc, SuiteError):
            log.error("wallet %s failed", pending.operation, exc_info=exc)
        self.message.error(exc)   # the key is kept: Enter again retries the same operation
        self._set_enabled()
        self.amount_entry.focus_set()

    def _summary(self, operation: str, card: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        count_card = card.get("kind") == "count"
        balances = result.get("balances") or {}
        if result.get("replayed"):
            return _("This operation had already gone through: nothing was charged again.")
        if operation == "consume":
            if count_card:
                return _("{counts} used. Left: {left}.").format(
                    counts=counts_text(int(result.get("counts") or 0)),
                    left=counts_text(int(balances.get("counts", 0))))
            parts = [_("Charged {charged} (list price {price}, discount {discount}).").format(
                charged=yuan(result.get("charged")), price=yuan(result.get("list_price")),
                discount=yuan(result.get("discount") or 0))]
            gift, by_points = result.get("paid_gift") or 0, result.get("paid_points") or 0
            if gift or by_points:
                paid = [_("main {amount}").format(amount=yuan(result.get("paid_main") or 0))]
                if gift:
                    paid.append(_("gift {amount}").format(amount=yuan(gift)))
                if by_points:
                    paid.append(_("points {amount}").format(amount=yuan(by_points)))
                parts.append(_("Paid from: {parts}.").format(parts=", ".join(paid)))
            earned = result.get("points_earned") or 0
            if earned:
                parts.append(_("{points} earned.").format(points=points_text(int(earned))))
            return " ".join(parts)
        if count_card:
            return _("{counts} added. Left: {left}.").format(
                counts=counts_text(int(result.get("counts") or 0)), left=counts_text(int(balances.get("counts", 0))))
        text = _("Topped up {amount}. Main balance now {main}.").format(
            amount=yuan(result.get("amount")), main=yuan(balances.get("main")))
        if result.get("bonus"):
            text += " " + _("Bonus {bonus} to the gift balance.").format(bonus=yuan(result.get("bonus")))
        return text

    def cancel(self) -> None:
        """Esc: drop what was typed and the pending operation (its key with it)."""
        if self.busy:
            return
        had = bool(self.amount_entry.get() or self.paid_entry.get() or self.pending)
        self._forget_operation()
        if had:
            self.message.show(_("Cancelled."))
        self.amount_entry.focus_set()

    def _forget_operation(self) -> None:
        self.pending = None
        self.amount_entry.delete(0, "end")
        self.paid_entry.delete(0, "end")
        self._disarm_block()

    # ------------------------------------------------------------------ history

    def toggle_history(self) -> None:
        if self.history_shown:
            self.history_shown = False
            self.table.grid_remove()
            return
        self.history_shown = True
        self.table.grid()
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

    # ------------------------------------------------------------------ report lost

    def block(self) -> None:
        """Report the card lost: the first press asks, the second (within 8 s) blacklists it."""
        if self.card is None or self.busy or not self.can_block:
            return
        number = str(self.card["card_no"])
        if self._block_armed != number:
            self._block_armed = number
            self.block_button.configure(text=_("Confirm: report lost"), style="Touch.Danger.TButton")
            self.message.error(_("Press \u201cConfirm: report lost\u201d to blacklist card {card}.").format(
                card=number))
            self._after_ids.append(self.after(CONFIRM_BLOCK_MS, self._disarm_block))
            return
        self._disarm_block()
        service, actor = self.service, self.actor
        self.busy = True
        self._set_enabled()
        self.message.show(_("Blacklisting the card…"))

        def done(card: dict[str, Any]) -> None:
            self.busy = False
            if self.winfo_exists():
                self.show_card(card)
                self.message.error(_("Card {card} is now blacklisted: it can no longer pay or be topped up.").format(
                    card=number))
                self._set_enabled()

        def failed(exc: BaseException) -> None:
            self.busy = False
            if self.winfo_exists():
                self.message.error(exc)
                self._set_enabled()

        self.context.run_in_thread(lambda: service.block(actor, number), done, failed)

    def _disarm_block(self) -> None:
        if self._block_armed is None:
            return
        self._block_armed = None
        try:
            self.block_button.configure(text=_("Report lost"), style="Touch.TButton")
        except tk.TclError:
            pass

    # ------------------------------------------------------------------ receipts

    def print_receipt(self, receipt: receipts.Receipt) -> None:
        self.receipt, self.receipt_failed = receipt, False
        self._print(lambda: receipts.print_receipt(self.app, receipt))

    def _receipt_waiting(self) -> bool:
        """The last receipt did not come out (it stays on offer for *Reprint*)."""
        return self.receipt is not None and self.receipt_failed

    def reprint(self) -> None:
        if self.receipt is not None and not self.printing:
            receipt = self.receipt
            self._print(lambda: receipts.reprint(self.app, receipt))

    def _print(self, work: Callable[[], str]) -> None:
        self.printing = True
        self.reprint_button.state(["disabled"])
        self.receipt_message.show(_("Printing the receipt…"))
        self.context.run_in_thread(work, self._printed, self._print_failed)

    def _printed(self, printer_id: str) -> None:
        self.printing = False
        self.receipt_failed = False
        if self.winfo_exists():
            self.receipt_message.ok(_("Receipt printed ({printer}).").format(printer=printer_id))
            self.reprint_button.state(["!disabled"])

    def _print_failed(self, exc: BaseException) -> None:
        self.printing = False
        if not self.winfo_exists():
            return
        if isinstance(exc, receipts.NoReceiptPrinter):
            self.receipt_message.show(" ".join((error_text(exc), _("The sale stands."))), "error")
            return          # nothing to reprint on
        self.receipt_failed = True
        self.receipt_message.error(" ".join((error_text(exc), _("The sale stands: press Reprint once the "
                                                                "printer is ready."))))
        self.reprint_button.state(["!disabled"])

    # ------------------------------------------------------------------ teardown

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            for after_id in self._after_ids:
                try:
                    self.after_cancel(after_id)
                except tk.TclError:
                    pass
            self._after_ids.clear()
            release_variables(self)


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``wallet.cashier``."""
    return CashierTab(parent, context)


__all__ = ["CashierTab", "Pending", "build_tab", "find_card"]
