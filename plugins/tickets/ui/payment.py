"""How a box-office order is paid: a member card of the card wallet, a cash voucher, cash, or
a mix of them (docs/tickets-screens.md).

``plan_payment`` splits the order's total between the tenders the cashier filled in and says
what is left or what change is due, without touching anything; ``PaymentPanel`` is the part of
the sale screen where they are filled in. The card is found by the sale screen (a card
presented on the reader, or its number typed); the panel only shows it.

The rules, in this order:

1. a **voucher** pays exactly its value (the code and the value printed on it);
2. a **card** pays the amount typed beside it, or, left empty, whatever the voucher and the
   cash tendered leave (the card takes the rest);
3. **cash** pays what is left; the cash tendered may be more (the change is shown) or, left
   empty, is taken as exactly what is due. Less than due leaves a remaining amount, and the
   order cannot be confirmed until it is paid.

A card that pays nothing is refused rather than dropped: its member tier is in the prices
quoted, so the order would cost something else without it.
"""

from __future__ import annotations

import re
import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from tkinter import ttk
from typing import Any

from suite.errors import InvalidInput
from suite.i18n import _
from suite.ui.theme import PALETTE
from suite.ui.widgets import release_variables

MONEY_TYPING = re.compile(r"^\d{0,8}(\.\d{0,2})?$")     # what an amount field lets through, key by key


def yuan(fen: int | None) -> str:
    """``1234`` -> ``¥12.34`` (``None`` -> ``—``)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def parse_amount(text: str, what: str) -> int | None:
    """A typed amount in yuan as fen; ``None`` when the field is empty. ``InvalidInput`` naming
    ``what`` when it is not an amount."""
    from suite.plugin_cli import yuan_to_fen

    text = (text or "").strip()
    if not text:
        return None
    try:
        return yuan_to_fen(text)
    except InvalidInput:
        raise InvalidInput(_("{what}: {value!r} is not an amount in yuan (like 100 or 99.50).").format(
            what=what, value=text)) from None


def percent_text(bp: int) -> str:
    """Basis points as a percentage without floats: 1000 -> ``10``, 1250 -> ``12.5``."""
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}".rstrip("0") if rest else str(whole)


@dataclass(frozen=True)
class PaymentPlan:
    """How ``total`` is paid. ``tenders`` go to ``SalesService.sell`` as they are."""

    total: int
    voucher: int = 0
    card: int = 0
    cash: int = 0                   # the cash part of the order
    tendered: int | None = None     # the cash handed over (None: exactly the cash part)
    change: int = 0
    remaining: int = 0              # still to pay
    tenders: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    error: str = ""

    @property
    def ready(self) -> bool:
        return not self.error and self.remaining == 0 and bool(self.tenders)

    def problem(self) -> str:
        """Why the order cannot be confirmed with this payment ("" when it can)."""
        if self.error:
            return self.error
        if self.remaining:
            return _("Still to pay: {amount}.").format(amount=yuan(self.remaining))
        if not self.tenders:
            return _("Say how the order is paid.")
        return ""


def plan_payment(total: int, *, card_no: str = "", card_amount: int | None = None, voucher_code: str = "",
                 voucher_value: int | None = None, tendered: int | None = None) -> PaymentPlan:
    """Split ``total`` (fen) between a voucher, a card and cash (see the module's rules)."""
    card_no, voucher_code = card_no.strip(), voucher_code.strip()
    rest = total
    voucher = 0
    if voucher_code:
        if not voucher_value:
            return PaymentPlan(total, error=_("Type the value of voucher {code}.").format(code=voucher_code))
        if voucher_value > total:
            return PaymentPlan(total, error=_("Voucher {code} is worth {value}, more than the order's {total}.")
                               .format(code=voucher_code, value=yuan(voucher_value), total=yuan(total)))
        voucher, rest = voucher_value, total - voucher_value
    elif voucher_value:
        return PaymentPlan(total, error=_("Type the voucher's code too."))
    card = 0
    if card_no:
        if card_amount is not None:
            if card_amount > rest:
                return PaymentPlan(total, voucher=voucher, error=_(
                    "The card would pay {amount}, more than the {rest} left to pay.").format(
                    amount=yuan(card_amount), rest=yuan(rest)))
            card = card_amount
        else:
            card = max(0, rest - (tendered or 0))       # the card takes what the cash leaves
        if card <= 0:
            return PaymentPlan(total, voucher=voucher, error=_(
                "Card {card} would pay nothing: take the card off the order, or tender less cash.").format(
                card=card_no))
        rest -= card
    elif card_amount:
        return PaymentPlan(total, voucher=voucher, error=_("Present a card on the reader, or type its number."))
    cash = rest
    change = remaining = 0
    if tendered is not None:
        if tendered >= cash:
            change = tendered - cash
        else:
            remaining = cash - tendered
    tenders: list[dict[str, Any]] = []
    if voucher:
        tenders.append({"method": "voucher", "amount": voucher, "reference": voucher_code})
    if card:
        tenders.append({"method": "wallet", "amount": card, "reference": card_no})
    if cash:
        tenders.append({"method": "cash", "amount": cash, "reference": ""})
    return PaymentPlan(total, voucher=voucher, card=card, cash=cash, tendered=tendered, change=change,
                       remaining=remaining, tenders=tuple(tenders))


def plan_text(plan: PaymentPlan) -> str:
    """The split in one line: ``Voucher ¥30.00 · card ¥40.00 · cash ¥20.00 (tendered ¥50.00)``."""
    parts = []
    if plan.voucher:
        parts.append(_("voucher {amount}").format(amount=yuan(plan.voucher)))
    if plan.card:
        parts.append(_("card {amount}").format(amount=yuan(plan.card)))
    if plan.cash:
        if plan.tendered is None:
            parts.append(_("cash {amount} (exact)").format(amount=yuan(plan.cash)))
        else:
            parts.append(_("cash {amount} (tendered {tendered})").format(
                amount=yuan(plan.cash), tendered=yuan(plan.tendered)))
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]


def ensure_styles(widget: tk.Misc) -> None:
    p = PALETTE
    style = ttk.Style(widget)
    style.configure("BoxSection.TLabel", background=p.window, foreground=p.text, font="VSBold")
    style.configure("BoxCaption.TLabel", background=p.window, foreground=p.muted, font="VSSmall")
    style.configure("BoxCard.TLabel", background=p.window, foreground=p.muted, font="VSSmall")
    style.configure("BoxCardBad.TLabel", background=p.window, foreground=p.danger, font="VSSmall")
    style.configure("BoxTotal.TLabel", background=p.window, foreground=p.text, font="VSTitle")
    style.configure("BoxChange.TLabel", background=p.window, foreground=p.success, font="VSLargeBold")
    style.configure("BoxRemaining.TLabel", background=p.window, foreground=p.danger, font="VSLargeBold")
    style.configure("BoxSmall.TButton", padding=(6, 3))
    style.configure("BoxField.TEntry", padding=(6, 3))


class PaymentPanel(ttk.Frame):
    """The card, voucher and cash fields, and the line saying how the order is paid.

    ``on_change()``: a field changed (the sale screen works the split out again);
    ``on_card_number(number)``: Enter in the card field with a number typed (look it up);
    ``on_clear_card()``: the card was taken off the order. ``cards``: False hides the card
    row's entry (no card wallet here) behind a note."""

    def __init__(self, parent: tk.Misc, *, on_change: Callable[[], Any], on_card_number: Callable[[str], Any],
                 on_clear_card: Callable[[], Any], cards: bool = True, cards_note: str = "") -> None:
        super().__init__(parent)
        ensure_styles(self)
        self.on_change = on_change
        self.on_card_number = on_card_number
        self.on_clear_card = on_clear_card
        self.cards = cards
        self.card: dict[str, Any] | None = None
        self._quiet = False
        check = (self.register(lambda text: bool(MONEY_TYPING.match(text))), "%P")
        self.columnconfigure(1, weight=1)
        ttk.Label(self, text=_("Pay with"), style="BoxSection.TLabel").grid(row=0, column=0, sticky="w")
        ttk.Label(self, text=_("Number / code"), style="BoxCaption.TLabel").grid(row=0, column=1, sticky="w")
        ttk.Label(self, text=_("Amount (¥)"), style="BoxCaption.TLabel").grid(row=0, column=2, sticky="w")

        self.card_number = tk.StringVar(self)
        self.card_amount = tk.StringVar(self)
        self.voucher_code = tk.StringVar(self)
        self.voucher_value = tk.StringVar(self)
        self.tendered = tk.StringVar(self)

        ttk.Label(self, text=_("Member card")).grid(row=1, column=0, sticky="w", padx=(0, 8))
        self.card_entry = ttk.Entry(self, textvariable=self.card_number, width=14, style="BoxField.TEntry")
        self.card_entry.grid(row=1, column=1, sticky="ew", pady=1)
        self.card_amount_entry = ttk.Entry(self, textvariable=self.card_amount, width=8, justify="right",
                                           style="BoxField.TEntry", validate="key", validatecommand=check)
        self.card_amount_entry.grid(row=1, column=2, sticky="ew", pady=1, padx=(6, 0))
        self.clear_card_button = ttk.Button(self, text="✕", width=2, style="BoxSmall.TButton",
                                            command=self.clear_card_clicked, takefocus=False)
        self.clear_card_button.grid(row=1, column=3, sticky="w", padx=(4, 0))
        self.card_info = ttk.Label(self, style="BoxCard.TLabel", anchor="nw")
        self.card_info.grid(row=2, column=0, columnspan=4, sticky="new")
        self.card_info.bind("<Configure>", lambda e: self.card_info.configure(wraplength=max(120, e.width - 8)))

        ttk.Label(self, text=_("Voucher")).grid(row=3, column=0, sticky="w", padx=(0, 8))
        self.voucher_entry = ttk.Entry(self, textvariable=self.voucher_code, width=14, style="BoxField.TEntry")
        self.voucher_entry.grid(row=3, column=1, sticky="ew", pady=1)
        self.voucher_value_entry = ttk.Entry(self, textvariable=self.voucher_value, width=8, justify="right",
                                             style="BoxField.TEntry", validate="key", validatecommand=check)
        self.voucher_value_entry.grid(row=3, column=2, sticky="ew", pady=1, padx=(6, 0))

        ttk.Label(self, text=_("Cash tendered")).grid(row=4, column=0, sticky="w", padx=(0, 8))
        self.cash_entry = ttk.Entry(self, textvariable=self.tendered, width=8, justify="right",
                                    style="BoxField.TEntry", validate="key", validatecommand=check)
        self.cash_entry.grid(row=4, column=2, sticky="ew", pady=1, padx=(6, 0))

        self.split_label = ttk.Label(self, style="BoxCard.TLabel", anchor="w")
        self.split_label.grid(row=5, column=0, columnspan=2, sticky="ew", pady=(4, 0))
        self.split_label.bind("<Configure>", lambda e: self.split_label.configure(wraplength=max(120, e.width - 4)))
        self.balance_label = ttk.Label(self, style="BoxChange.TLabel", anchor="e")
        self.balance_label.grid(row=5, column=2, columnspan=2, sticky="e", pady=(4, 0))

        small = tkfont.nametofont("VSSmall", self).metrics("linespace")
        self.rowconfigure(2, minsize=2 * small + 2)     # the card's line may wrap: the buttons below stay put
        self.rowconfigure(5, minsize=small + 6)
        for variable in (self.card_amount, self.voucher_code, self.voucher_value, self.tendered):
            variable.trace_add("write", lambda *_a: self._changed())
        self.card_entry.bind("<Return>", self._card_return)
        self.card_entry.bind("<KP_Enter>", self._card_return)
        if not cards:
            self.card_entry.state(["disabled"])
            self.card_amount_entry.state(["disabled"])
            self.clear_card_button.state(["disabled"])
            self.card_info.configure(text=cards_note)
        self.show_card(None)
        self.bind("<Destroy>", lambda e: e.widget is self and release_variables(self), add="+")

    # ------------------------------------------------------------------ the card

    def _card_return(self, _event: tk.Event) -> str | None:
        """Enter in the card field: look the typed number up; the card shown already: confirm."""
        number = self.card_number.get().strip()
        if number and (self.card is None or number != self.card.get("card_no")):
            self.on_card_number(number)
            return "break"
        return None             # the sale screen's Enter: confirm

    def show_card(self, card: Mapping[str, Any] | None, notice: str = "") -> None:
        """The card that pays (a ``WalletService`` card dict), or none."""
        self.card = dict(card) if card is not None else None
        if not self.cards:
            return
        if card is None:
            self.card_info.configure(text=_("Present a card on the reader, or type its number."),
                                     style="BoxCard.TLabel")
            self.clear_card_button.state(["disabled"])
            return
        self.card_number.set(str(card.get("card_no") or ""))
        balances = card.get("balances") or {}
        money = int(balances.get("main") or 0) + int(balances.get("gift") or 0)
        parts = [card.get("holder_name") or _("(no holder name)"), str(card.get("type_name") or card.get("type"))]
        if card.get("discount_bp"):
            parts.append(_("{percent} % off").format(percent=percent_text(int(card["discount_bp"]))))
        parts.append(_("balance {amount}").format(amount=yuan(money)))
        text = " · ".join(parts)
        self.card_info.configure(text=f"{text}. {notice}" if notice else text,
                                 style="BoxCardBad.TLabel" if notice else "BoxCard.TLabel")
        self.clear_card_button.state(["!disabled"])

    def clear_card_clicked(self) -> None:
        self.clear_card()
        self.on_clear_card()

    def clear_card(self) -> None:
        self._quiet = True
        try:
            self.card_number.set("")
            self.card_amount.set("")
        finally:
            self._quiet = False
        self.show_card(None)

    @property
    def card_no(self) -> str:
        """The number of the card shown (a number typed but not looked up does not pay)."""
        return str(self.card.get("card_no") or "") if self.card is not None else ""

    # ------------------------------------------------------------------ the split

    def _changed(self) -> None:
        if not self._quiet:
            self.on_change()

    def plan(self, total: int) -> PaymentPlan:
        """The split of ``total`` as the fields say; a field that is not an amount is the plan's error."""
        try:
            card_amount = parse_amount(self.card_amount.get(), _("Member card")) if self.card_no else None
            voucher_value = parse_amount(self.voucher_value.get(), _("Voucher"))
            tendered = parse_amount(self.tendered.get(), _("Cash tendered"))
        except InvalidInput as exc:
            return PaymentPlan(total, error=exc.message)
        return plan_payment(total, card_no=self.card_no, card_amount=card_amount,
                            voucher_code=self.voucher_code.get(), voucher_value=voucher_value, tendered=tendered)

    def show_plan(self, plan: PaymentPlan | None) -> None:
        """The split line and, big, the change due or what is still to pay."""
        if plan is None:
            self.split_label.configure(text="")
            self.balance_label.configure(text="")
            return
        if plan.error:
            self.split_label.configure(text=plan.error, style="BoxCardBad.TLabel")
            self.balance_label.configure(text="")
            return
        self.split_label.configure(text=plan_text(plan), style="BoxCard.TLabel")
        if plan.remaining:
            self.balance_label.configure(text=_("Remaining {amount}").format(amount=yuan(plan.remaining)),
                                         style="BoxRemaining.TLabel")
        elif plan.change:
            self.balance_label.configure(text=_("Change {amount}").format(amount=yuan(plan.change)),
                                         style="BoxChange.TLabel")
        else:
            self.balance_label.configure(text="")

    def clear(self) -> None:
        """Every field empty, no card (the next customer)."""
        self._quiet = True
        try:
            for variable in (self.card_amount, self.voucher_code, self.voucher_value, self.tendered):
                variable.set("")
        finally:
            self._quiet = False
        self.clear_card()
        self.show_plan(None)

    def entries(self) -> list[ttk.Entry]:
        return [self.card_entry, self.card_amount_entry, self.voucher_entry, self.voucher_value_entry,
                self.cash_entry]


__all__ = ["MONEY_TYPING", "PaymentPanel", "PaymentPlan", "parse_amount", "percent_text", "plan_payment", "plan_text",
           "yuan"]
