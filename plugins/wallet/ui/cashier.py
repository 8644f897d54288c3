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
from suite.events import CardPresented, StatusUpdate
from suite.i18n import _
from suite.ui.widgets import ColumnDef, Table, error_text, release_variables

from plugins.wallet import receipt as receipts
from plugins.wallet.ui import terminal as chips
from plugins.wallet.ui.display import (BALANCE_TITLES, COUNT_TYPING, MONEY_TYPING, PanelMessage, badge_style,
                                       balance_text, counts_text, ensure_styles, fill_history, history_rows,
                                       kind_title, points_text, refusal_notice, status_title, venue_names,
                                       venue_zone, yuan)

log = logging.getLogger(__name__)

QUICK_AMOUNTS = (1000, 2000, 5000, 10000)      # fen
QUICK_COUNTS = (1, 2, 5, 10)
CONFIRM_BLOCK_MS = 8000     # the second press of Report lost must come within this
SIDE_WIDTH = 380            # pixels: the actions column; the card panel takes the rest
PURSE_CHIP = "mifare_classic"       # the card kind the purse format (devices.cardformat) is written on
UPLOAD_EVERY_MS = 15000     # how often the offline queue is offered to the database (also when it is back)


@dataclass
class Pending:
    """A confirmed consume or top-up not yet known to have succeeded: its key is reused."""

    operation: str          # "consume" | "topup"
    card_no: str
    key: str


@dataclass(frozen=True)
class Chip:
    """The shown card came from this reader: its chip moves with the account."""

    reader: str             # the device id
    uid: str


@dataclass(frozen=True)
class Shown:
    """A lookup's answer: the card, its chip (None: by number only) and a refusal to show."""

    card: dict[str, Any]
    chip: Chip | None = None
    refusal: BaseException | None = None


def find_card(service: Any, actor: Any, uid: str) -> dict[str, Any]:
    """The card whose chip has ``uid`` (``WalletService.find_card``)."""
    finder = getattr(service, "find_card", None)
    if finder is None:
        raise NotFound(_("Cards cannot be looked up by their chip on this system yet: type the card number."))
    return finder(actor, uid=uid)


def reader_card(app: Any, chip: Chip, card_no: str) -> Any:
    """The card ``chip`` on its reader now (off the Tk thread); ``NoCard`` when it left."""
    from devices.reader import NoCard

    device = chips.chip_reader(app, chip.reader)
    card = device.current_card() if device is not None else None
    if card is None or card.uid_hex != chip.uid:
        raise NoCard(_("Card {card} is no longer on the reader: put it back on the reader and try again.").format(
            card=card_no), card=card_no)
    return card


def database_down(exc: BaseException) -> bool:
    from plugins.wallet.purse import database_down as down

    return down(exc)


def tap_card(app: Any, service: Any, actor: Any, reader: str, uid: str) -> Shown:
    """The card ``uid`` presented on ``reader`` (off the Tk thread). A MIFARE Classic card on a
    reader of the window's device host has its chip read and checked (``CardTerminal.tap``:
    synced online, or checked against the offline spool when the database cannot be reached);
    a clone, restored dump or fork is refused, the card blacklisted by the service and shown
    with the refusal. A card posted by other means, gone already, of another kind (the purse
    is a MIFARE Classic format), whose chip was never personalised, or presented on a terminal
    whose keyring holds no card keys is looked up by its UID (``find_card``)."""
    from devices.cardformat import BlankCard

    from plugins.wallet.core import CardRefused

    device = chips.chip_reader(app, reader)
    card = device.current_card() if device is not None else None
    if card is None or card.uid_hex != uid.upper() or getattr(card, "kind", "") != PURSE_CHIP:
        return Shown(find_card(service, actor, uid))
    terminal = chips.terminal_of(app)
    if terminal is None:            # no card keys on this terminal: by the UID, as without a reader
        return Shown(find_card(service, actor, uid))
    try:
        found = terminal.tap(actor, card)
    except BlankCard:
        return Shown(find_card(service, actor, uid))
    except CardRefused as exc:
        number = exc.details.get("card")
        if exc.details.get("offline") or not number:
            raise
        try:
            refused = service.query(actor, str(number))
        except Exception:  # noqa: BLE001 - the refusal is what matters
            raise exc from None
        return Shown(refused, None, exc)
    return Shown(found, Chip(reader, uid.upper()))


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
        self.chip: Chip | None = None   # the shown card came from a reader: its chip moves too
        self.looking_up = False         # a lookup is on its way
        self.online: bool | None = None           # the database, as the last operation or the heartbeat saw it
        self.allowance: dict[str, Any] | None = None    # what the shown card may still pay offline
        self.uploading = False
        self.upload_every_ms = UPLOAD_EVERY_MS
        self._upload_after: str | None = None
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
        context.subscribe(StatusUpdate, self.on_status)
        self.bind("<Destroy>", self._on_destroy, add="+")
        self.upload()           # what an earlier session left queued: counted, and uploaded if it can be

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
        # offline: the state, what is on the chip and what the card may still pay offline here
        self.offline_label = ttk.Label(panel, style="WalletOffline.TLabel", anchor="w", justify="left")
        self.offline_label.grid(row=3, column=0, sticky="ew", pady=(8, 0))
        self.offline_label.bind("<Configure>", lambda e: self.offline_label.configure(
            wraplength=max(160, e.width - PanelMessage.MARGIN)))
        self.offline_label.grid_remove()
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
        # offline payments waiting for the database, and what the last upload did
        self.upload_message = PanelMessage(side)
        self.upload_message.grid(row=8, column=0, columnspan=2, sticky="ew", pady=(10, 0))

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
        self._show_offline()

    def _show_offline(self) -> None:
        """The offline line: while the database is known to be away, or the shown card was read
        offline; with what the card may still pay offline when the chip said so."""
        card_offline = self.card is not None and bool(self.card.get("offline"))
        if not (card_offline or self.online is False):
            self.offline_label.grid_remove()
            return
        self.offline_label.configure(text=chips.offline_banner(self.allowance if card_offline else None))
        self.offline_label.grid()

    def _note_online(self, online: bool, *, upload: bool = True) -> None:
        """What the last operation (or the heartbeat) said of the database. Back online: the
        queue is uploaded (``upload``) and a card shown from the chip alone is read again."""
        was, self.online = self.online, online
        self._show_offline()
        if online and was is False:
            if upload:
                self.upload()
            if self.card is not None and self.card.get("offline"):
                self._refresh_quietly()

    def on_status(self, event: StatusUpdate) -> None:
        """The heartbeat's ``online`` (``suite.ui.status_bar.Heartbeat``)."""
        if event.field == "online" and event.value is not None and self.winfo_exists():
            self._note_online(bool(event.value))

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
        offline = bool(card.get("offline"))
        if offline:     # read from the chip and the terminal's cache: no holder, no balances
            self.holder_label.configure(text=_("Holder and balances show once the database is back."))
            self.type_label.configure(text=f"{card.get('type')} · {kind_title(card.get('kind'))}")
        else:
            holder = card.get("holder_name") or _("(no holder name)")
            phone = card.get("holder_phone") or ""
            self.holder_label.configure(text=f"{holder}   {phone}".rstrip())
            type_name = card.get("type_name") or card.get("type") or ""
            self.type_label.configure(text=f"{type_name} ({card.get('type')}) · {kind_title(card.get('kind'))}")
        self.validity_label.configure(text=self._validity(card))
        self._show_balances(card.get("balances") or {})
        self._show_offline()
        notice = refusal_notice(card)
        if notice:
            self.message.error(notice)
        elif card.get("card_no") != previous or self.message.kind != "ok":
            self.message.clear()
        self._apply_mode()
        if self.history_shown and not offline:
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
        """A card on the reader: look it up when this tab is on screen. On a reader of the
        window's device host the chip is read and checked too (``tap_card``)."""
        if not self.winfo_exists() or not self.winfo_viewable():
            return
        if self.busy:
            self.message.show(_("Wait: the current operation is not finished yet."))
            return
        devices = self.app.extras.get("devices")
        app, service, actor, uid, reader = self.app, self.service, self.actor, event.uid, event.reader

        def work() -> Shown:
            try:
                shown = tap_card(app, service, actor, reader, uid)
            except Exception:
                if devices is not None:
                    devices.tap_feedback(reader, good=False)
                raise
            if devices is not None:
                devices.tap_feedback(reader, good=shown.refusal is None and shown.card.get("status") == "active")
            return shown

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

    def _look_up(self, work: Callable[[], dict[str, Any] | Shown], *, keep_chip: bool = False) -> None:
        """Run ``work`` off the Tk thread and show its card. A plain card dict (by number) has
        no chip, unless ``keep_chip`` (the shown card read again)."""
        self.generation += 1
        generation = self.generation
        self.looking_up = True
        self.message.show(_("Looking up the card…"))

        def done(found: dict[str, Any] | Shown) -> None:
            if generation != self.generation or not self.winfo_exists():
                return
            self.looking_up = False
            shown = found if isinstance(found, Shown) else Shown(found, self._same_chip(found) if keep_chip else None)
            self.number_entry.delete(0, "end")
            self.chip = shown.chip
            self.allowance = shown.card.get("allowance") if shown.card.get("offline") else None
            self.show_card(shown.card)
            self._note_online(not shown.card.get("offline"))
            notice = (shown.card.get("purse") or {}).get("notice")
            if shown.refusal is not None:
                self.message.error(shown.refusal)
            elif notice and self.message.kind != "error":
                self.message.show(notice)

        def failed(exc: BaseException) -> None:
            if generation == self.generation and self.winfo_exists():
                self.looking_up = False
                if database_down(exc):
                    self._note_online(False)
                self.message.error(exc)

        self.context.run_in_thread(work, done, failed)

    def _same_chip(self, card: Mapping[str, Any]) -> Chip | None:
        if self.chip is not None and self.card is not None and self.card.get("card_no") == card.get("card_no"):
            return self.chip
        return None

    def refresh(self) -> None:
        """Read the shown card again (after a block, or on demand)."""
        if self.card is not None:
            service, actor, number = self.service, self.actor, self.card["card_no"]
            self._look_up(lambda: service.query(actor, number), keep_chip=True)

    def _refresh_quietly(self) -> None:
        """Read the shown card again unless the operator is busy with it or another card is
        being looked up (an upload, or the database back, changed what it shows)."""
        if self.card is not None and not self.busy and not self.looking_up:
            self.refresh()

    def clear(self) -> None:
        """Forget the card (the next customer); a pending operation is cancelled."""
        if self.busy:
            return
        self.generation += 1
        self.looking_up = False
        self.card = None
        self.chip = None
        self.allowance = None
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
        service, actor, app, chip = self.service, self.actor, self.app, self.chip
        if chip is not None and operation == "consume":
            def work() -> dict[str, Any]:
                # the entry, then the chip; offline (from the chip, queued) when the database is away
                terminal = chips.terminal_of(app)
                assert terminal is not None         # a chip is shown only when the terminal has card keys
                result = terminal.consume(actor, reader_card(app, chip, card_no), key=pending.key, amount=amount,
                                          counts=counts, device=chip.reader)
                if result.get("offline"):
                    result["allowance"] = terminal.allowance(card_no, int(result["purse"]["value"]))
                return result
        elif chip is not None:
            def work() -> dict[str, Any]:
                terminal = chips.terminal_of(app)
                assert terminal is not None
                return terminal.top_up_on_reader(actor, reader_card(app, chip, card_no), key=pending.key,
                                                 amount=amount, counts=counts)
        elif operation == "consume":
            def work() -> dict[str, Any]:
                return service.consume(actor, card_no=card_no, key=pending.key, amount=amount, counts=counts)
        else:
            def work() -> dict[str, Any]:
                return service.top_up(actor, card_no=card_no, key=pending.key, amount=amount, counts=counts)
        self.message.show(_("Charging the card…") if operation == "consume" else _("Topping up the card…"))
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
        offline = bool(result.get("offline"))
        card = dict(self.card or {}, card_no=pending.card_no)
        if self.card is not None and self.card.get("card_no") == pending.card_no:
            if offline:     # paid from the chip: the server's balances are known after the upload
                self.card.update(offline=True, balances={})
                self.allowance = result.get("allowance")
            else:
                self.card["balances"] = result.get("balances") or self.card.get("balances") or {}
            self._show_balances(self.card["balances"])
            card = dict(self.card)
        self.amount_entry.delete(0, "end")
        self.paid_entry.delete(0, "end")
        if offline:
            self._note_online(False)
            text = self._summary(pending.operation, card, result) if result.get("replayed") else \
                chips.offline_summary(card, result)
            self._queue_changed(result.get("spool") or {})
        else:
            text = self._summary(pending.operation, card, result)
            notice = (result.get("purse") or {}).get("notice")
            if notice:
                text += " " + notice
            self._note_online(True)
        self.message.ok(text)
        self._show_offline()
        self._set_enabled()
        self.amount_entry.focus_set()
        if self.history_shown and not offline:
            self.load_history()
        # a replayed result answers a retry whose first answer never came back: no receipt yet
        if offline:
            receipt = chips.offline_receipt(self.app, self.actor, card, result)
        elif pending.operation == "consume":
            receipt = receipts.consume_receipt(self.app, self.actor, card, result)
        else:
            receipt = receipts.topup_receipt(self.app, self.actor, card, result)
        self.print_receipt(receipt)

    def _failed(self, pending: Pending, exc: BaseException) -> None:
        self.busy = False
        if not self.winfo_exists():
            return
        if not isinstance(exc, SuiteError):
            log.error("wallet %s failed", pending.operation, exc_info=exc)
        text = error_text(exc)
        if database_down(exc):
            self._note_online(False)
            if pending.operation == "topup":
                text += " " + _("Top-ups need the database: try again once it is back.")
            elif self.chip is None:
                text += " " + _("Present the card on the reader to pay from its chip while the database is away.")
        self.message.error(text)   # the key is kept: Enter again retries the same operation
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

    # ------------------------------------------------------------------ offline uploads

    def upload(self) -> None:
        """Offer the offline queue to the database now, off the Tk thread (``terminal.upload``),
        and count it in the status bar; then again every ``upload_every_ms``, and at once when
        the heartbeat or an operation finds the database back."""
        if self.uploading or not self.winfo_exists():
            return
        self.uploading = True
        app, actor, probe, allowed = self.app, self.actor, self.online is False, self.can_consume

        def done(outcome: dict[str, Any]) -> None:
            self.uploading = False
            if not self.winfo_exists():
                return
            if outcome["online"] is not None:
                self._note_online(bool(outcome["online"]), upload=False)
            self._queue_changed(outcome["queue"], outcome["report"])
            self._schedule_upload()

        def failed(exc: BaseException) -> None:
            self.uploading = False
            if not self.winfo_exists():
                return
            if database_down(exc):
                self._note_online(False, upload=False)
            else:
                log.error("uploading the offline payments failed", exc_info=exc)
            self.upload_message.error(" ".join((_("The offline payments were not all uploaded:"), error_text(exc))))
            self._schedule_upload()

        self.context.run_in_thread(lambda: chips.upload(app, actor, probe=probe, drain_allowed=allowed), done, failed)

    def _schedule_upload(self) -> None:
        if self._upload_after is not None:
            try:
                self.after_cancel(self._upload_after)
            except tk.TclError:
                pass
        self._upload_after = self.after(self.upload_every_ms, self.upload)

    def _queue_changed(self, queue: Mapping[str, Any], report: Mapping[str, Any] | None = None) -> None:
        """The status bar's *Pending uploads* and the line under the receipt: what waits, or
        what the upload did."""
        self.context.set_status("pending_uploads", int(queue.get("entries") or 0))
        waiting = chips.waiting_text(queue)
        if report is not None:
            kind, text = chips.upload_text(report)
            self.upload_message.show(" ".join(part for part in (text, waiting) if part), kind)
            if report.get("posted") or report.get("conflicts") or report.get("alerts"):
                self._refresh_quietly()     # the uploaded payments are in the balances now
        elif waiting:
            self.upload_message.show(waiting)
        elif self.upload_message.kind == "info":
            self.upload_message.clear()

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
            if self._upload_after is not None:
                self._after_ids.append(self._upload_after)
                self._upload_after = None
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
