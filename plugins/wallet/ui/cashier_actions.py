"""The actions column of the cashier panel (``plugins.wallet.ui.cashier``), beside the card.

``ActionsColumn`` holds the touch-sized controls: *Consume* and *Top up*, *History* and
*Report lost* (shown only to operators with ``wallet.loss``), the amount field (counts on a
count card; beside it the money paid for a count top-up), the quick amounts, *Confirm (Enter)*
and *Cancel (Esc)*; under them the receipt line with *Reprint* and the offline upload line.
The buttons call back into the tab; the column reads and lays out what was typed.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from suite.i18n import _

from plugins.wallet.ui.display import COUNT_TYPING, MONEY_TYPING, PanelMessage

QUICK_AMOUNTS = (1000, 2000, 5000, 10000)      # fen
QUICK_COUNTS = (1, 2, 5, 10)
SIDE_WIDTH = 380            # pixels: the actions column; the card panel takes the rest


class ActionsColumn(ttk.Frame):
    """The operator's controls for the shown card. ``can_*``: the operator's permissions;
    ``on_mode(mode)``, ``on_quick(index)`` and the other ``on_*`` are the tab's answers."""

    def __init__(self, parent: tk.Misc, *, can_consume: bool, can_topup: bool, can_block: bool,
                 on_mode: Callable[[str], Any], on_history: Callable[[], Any], on_block: Callable[[], Any],
                 on_quick: Callable[[int], Any], on_confirm: Callable[[], Any], on_cancel: Callable[[], Any],
                 on_reprint: Callable[[], Any]) -> None:
        # a fixed width: the card panel takes what is left (1024x768: about 600 px)
        super().__init__(parent, width=SIDE_WIDTH)
        self.can_consume = can_consume
        self.can_topup = can_topup
        self._typing = "money"          # what the amount field accepts: "money" or "count"
        self.grid_propagate(False)
        self.columnconfigure((0, 1), weight=1, uniform="modes")
        self.mode_buttons: dict[str, ttk.Button] = {}
        self.mode_buttons["consume"] = ttk.Button(self, text=_("Consume"), style="Touch.TButton",
                                                  command=lambda: on_mode("consume"))
        self.mode_buttons["topup"] = ttk.Button(self, text=_("Top up"), style="Touch.TButton",
                                                command=lambda: on_mode("topup"))
        self.mode_buttons["consume"].grid(row=0, column=0, sticky="ew", padx=(0, 4))
        self.mode_buttons["topup"].grid(row=0, column=1, sticky="ew", padx=(4, 0))
        if not can_consume:
            self.mode_buttons["consume"].state(["disabled"])
        if not can_topup:
            self.mode_buttons["topup"].state(["disabled"])
        self.history_button = ttk.Button(self, text=_("History"), style="Touch.TButton", command=on_history)
        self.history_button.grid(row=1, column=0, sticky="ew", padx=(0, 4), pady=(8, 0))
        self.block_button = ttk.Button(self, text=_("Report lost"), style="Touch.TButton", command=on_block)
        if can_block:
            self.block_button.grid(row=1, column=1, sticky="ew", padx=(4, 0), pady=(8, 0))

        # the amount (or counts), and beside it what a count top-up is paid
        entry_box = ttk.Frame(self)
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
            entry.bind("<Return>", lambda e: on_confirm() or "break")
            entry.bind("<KP_Enter>", lambda e: on_confirm() or "break")
            entry.bind("<Escape>", lambda e: on_cancel() or "break")

        quick = ttk.Frame(self)
        quick.grid(row=3, column=0, columnspan=2, sticky="ew", pady=(8, 0))
        self.quick_buttons: list[ttk.Button] = []
        for n in range(4):
            quick.columnconfigure(n, weight=1, uniform="quick")
            button = ttk.Button(quick, style="WalletQuick.Touch.TButton", command=lambda n=n: on_quick(n))
            button.grid(row=0, column=n, sticky="ew", padx=(0 if n == 0 else 3, 0 if n == 3 else 3))
            self.quick_buttons.append(button)

        self.confirm_button = ttk.Button(self, text=_("Confirm (Enter)"), style="WalletNarrow.TouchAccent.TButton",
                                         command=on_confirm)
        self.confirm_button.grid(row=4, column=0, sticky="ew", padx=(0, 4), pady=(10, 0))
        self.cancel_button = ttk.Button(self, text=_("Cancel (Esc)"), style="WalletNarrow.Touch.TButton",
                                        command=on_cancel)
        self.cancel_button.grid(row=4, column=1, sticky="ew", padx=(4, 0), pady=(10, 0))

        ttk.Separator(self).grid(row=5, column=0, columnspan=2, sticky="ew", pady=(12, 8))
        ttk.Label(self, text=_("Receipt"), style="WalletSection.TLabel").grid(row=6, column=0, sticky="w")
        self.reprint_button = ttk.Button(self, text=_("Reprint"), style="Touch.TButton", command=on_reprint)
        self.reprint_button.grid(row=6, column=1, sticky="ew", padx=(4, 0))
        self.reprint_button.state(["disabled"])
        self.receipt_message = PanelMessage(self)
        self.receipt_message.grid(row=7, column=0, columnspan=2, sticky="ew", pady=(6, 0))
        # offline payments waiting for the database, and what the last upload did
        self.upload_message = PanelMessage(self)
        self.upload_message.grid(row=8, column=0, columnspan=2, sticky="ew", pady=(10, 0))

    def apply_mode(self, mode: str, *, count_card: bool) -> None:
        """Lay the controls out for ``mode`` ("consume" or "topup") on a money or a count card:
        the mode buttons, the amount's title and what it accepts, the paid field, the quick amounts."""
        for name, button in self.mode_buttons.items():
            button.configure(style="TouchAccent.TButton" if name == mode else "Touch.TButton")
        if mode == "consume":
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
        if count_card and mode == "topup":
            self.amount_entry.grid_configure(columnspan=1, padx=(0, 8))
            self.paid_title.grid(row=0, column=1, sticky="w")
            self.paid_entry.grid(row=1, column=1, sticky="ew", pady=(4, 0))
        else:
            self.amount_entry.grid_configure(columnspan=2, padx=0)
            self.paid_title.grid_remove()
            self.paid_entry.grid_remove()
        for button, value in zip(self.quick_buttons, QUICK_COUNTS if count_card else QUICK_AMOUNTS):
            button.configure(text=str(value) if count_card else f"¥{value // 100}")

    def set_enabled(self, mode: str, *, has_card: bool, busy: bool) -> None:
        """What can be pressed now: an operation needs a card, no operation on its way and the
        operator's permission for ``mode``."""
        allowed = self.can_consume if mode == "consume" else self.can_topup
        ready = has_card and not busy
        for button in (self.confirm_button, *self.quick_buttons):
            button.state(["!disabled"] if ready and allowed else ["disabled"])
        for button in (self.history_button, self.block_button):
            button.state(["!disabled"] if ready else ["disabled"])
        for name, button in self.mode_buttons.items():
            permitted = self.can_consume if name == "consume" else self.can_topup
            button.state(["!disabled"] if permitted and not busy else ["disabled"])

    def fill_quick(self, index: int, *, count_card: bool) -> None:
        """The quick amount ``index`` in the amount field."""
        value = (QUICK_COUNTS if count_card else QUICK_AMOUNTS)[index]
        self.amount_entry.delete(0, "end")
        self.amount_entry.insert(0, str(value) if count_card else f"{value // 100}")
        self.amount_entry.focus_set()

    def read(self, mode: str, *, count_card: bool) -> tuple[int, int]:
        """(amount in fen, counts) from the fields; ``InvalidInput`` with a translated reason."""
        from plugins.wallet.ui.display import parse_counts, parse_yuan

        if not count_card:
            return parse_yuan(self.amount_entry.get()), 0
        counts = parse_counts(self.amount_entry.get())
        paid = 0
        if mode == "topup" and self.paid_entry.get().strip():
            paid = parse_yuan(self.paid_entry.get(), allow_zero=True)
        return paid, counts

    def typed(self) -> bool:
        """Something is typed in the amount or the paid field."""
        return bool(self.amount_entry.get() or self.paid_entry.get())

    def clear_amounts(self) -> None:
        self.amount_entry.delete(0, "end")
        self.paid_entry.delete(0, "end")

    def arm_block(self, armed: bool) -> None:
        """*Report lost* asks for its second press (red), or is back to its first."""
        if armed:
            self.block_button.configure(text=_("Confirm: report lost"), style="Touch.Danger.TButton")
            return
        try:
            self.block_button.configure(text=_("Report lost"), style="Touch.TButton")
        except tk.TclError:
            pass
