"""The sale screen's cart (``plugins.tickets.ui.boxoffice``): one line per seat selected on the
map with its ticket type (the first adult type to begin with; the type chooser sets the lines
selected in the cart, or every line when none is) and its price from ``SalesService.quote``
(with the member card that pays, for its tier), and the total (``CartPanel``)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Mapping, Sequence
from tkinter import ttk
from typing import TYPE_CHECKING, Any

from suite.i18n import _, ngettext
from suite.ui.theme import PALETTE
from suite.ui.widgets import error_text

from plugins.tickets.ui.payment import yuan
from plugins.tickets.ui.seatmap import SeatMapView

if TYPE_CHECKING:
    from plugins.tickets.ui.boxoffice import BoxOfficeTab

QUOTE_DELAY_MS = 120            # the cart priced again once the clicks paused this long
ANY_ZONE = "*"


def seat_text(row: Any, seat: Any) -> str:
    return _("Row {row} Seat {seat}").format(row=row, seat=seat)


def default_type(types: Sequence[Mapping[str, Any]]) -> str:
    """The first adult type sold one at a time (else the first type)."""
    for ticket_type in types:
        if ticket_type.get("category") == "adult" and int(ticket_type.get("min_quantity") or 1) <= 1:
            return str(ticket_type["code"])
    return str(types[0]["code"]) if types else ""


class CartPanel(ttk.Frame):
    """The cart of ``tab`` for the seats selected on its map (``view``): the lines, the ticket
    type chooser and the total. The seats in the cart are the map's selection; ``line_types``
    says each one's ticket type. Every change of the cart or of the paying card asks for a new
    quote (after ``QUOTE_DELAY_MS``; a newer quote makes an older one moot); the tab hears
    when the prices are in (``prices_in``) or refused (``prices_failed``)."""

    def __init__(self, parent: tk.Misc, tab: BoxOfficeTab, view: SeatMapView) -> None:
        super().__init__(parent)
        self.tab = tab
        self.view = view
        self.canvas = view.canvas
        self.types: list[dict[str, Any]] = []
        self.type_names: dict[str, str] = {}
        self.default_type = ""
        self.prices: dict[tuple[str, str], int] = {}    # (zone, ticket type) -> list price, for the map
        self.line_types: dict[str, str] = {}         # seat id -> ticket type code, for the seats in the cart
        self.quote: dict[str, Any] | None = None
        self.quote_for: tuple[Any, ...] | None = None
        self.quote_error = ""
        self.quoted_prices: dict[str, int] = {}      # seat id -> price of the current quote ({} while none)
        self.quoting = 0                             # the newest quote's generation
        self.columnconfigure(0, weight=1)
        self._build()

    def _build(self) -> None:
        head = ttk.Frame(self)
        head.grid(row=0, column=0, sticky="ew")
        ttk.Label(head, text=_("Cart"), style="BoxSection.TLabel").pack(side="left")
        self.count_label = ttk.Label(head, style="Muted.TLabel")
        self.count_label.pack(side="right")
        box = ttk.Frame(self)
        box.grid(row=1, column=0, sticky="ew", pady=(4, 0))
        box.columnconfigure(0, weight=1)
        self.tree = ttk.Treeview(box, columns=("seat", "type", "price"), show="headings", height=3,
                                 selectmode="extended", style="Box.Treeview")
        for name, title, width, anchor in (("seat", _("Seat"), 130, "w"), ("type", _("Ticket type"), 115, "w"),
                                           ("price", _("Price"), 85, "e")):
            self.tree.heading(name, text=title, anchor=anchor)
            self.tree.column(name, width=width, minwidth=50, anchor=anchor, stretch=name == "seat")
        self.tree.tag_configure("odd", background=PALETTE.stripe)
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.grid(row=0, column=0, sticky="ew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.tree.bind("<<TreeviewSelect>>", lambda e: self._show_type_choice())

        chooser = ttk.Frame(self)
        chooser.grid(row=2, column=0, sticky="ew", pady=(6, 0))
        chooser.columnconfigure(1, weight=1)
        ttk.Label(chooser, text=_("Ticket type")).grid(row=0, column=0, sticky="w", padx=(0, 8))
        self.type_choice = ttk.Combobox(chooser, state="readonly", width=16)
        self.type_choice.grid(row=0, column=1, sticky="ew")
        self.type_choice.bind("<<ComboboxSelected>>", lambda e: self.set_type(self.type_choice.get()))

        totals = ttk.Frame(self)
        totals.grid(row=3, column=0, sticky="ew", pady=(6, 0))
        totals.columnconfigure(1, weight=1)
        ttk.Label(totals, text=_("Total"), style="BoxSection.TLabel").grid(row=0, column=0, sticky="w")
        self.discount_label = ttk.Label(totals, style="BoxCaption.TLabel", anchor="e")
        self.discount_label.grid(row=0, column=1, sticky="e", padx=(8, 8))
        self.total_label = ttk.Label(totals, style="BoxTotal.TLabel")
        self.total_label.grid(row=0, column=2, sticky="e")
        ttk.Separator(self).grid(row=4, column=0, sticky="ew", pady=(6, 6))

    # ------------------------------------------------------------------ the ticket types

    def load_types(self) -> None:
        tab = self.tab
        setup, actor = tab.setup, tab.actor

        def done(types: list[dict[str, Any]]) -> None:
            if not self.winfo_exists():
                return
            self.types = [t for t in types if t.get("active", True)]
            self.type_names = {str(t["code"]): str(t["name"]) for t in self.types}
            self.default_type = default_type(self.types)
            self.type_choice.configure(values=[t["name"] for t in self.types])
            if any(not code for code in self.line_types.values()):     # seats picked before the types came
                self.line_types = {sid: code or self.default_type for sid, code in self.line_types.items()}
                self.show()
                self.request_quote()
            self._show_type_choice()

        tab.context.run_in_thread(lambda: setup.list_ticket_types(actor), done, tab.load_failed)

    # ------------------------------------------------------------------ the lines

    def lines(self) -> list[dict[str, str]]:
        return [{"seat_id": sid, "ticket_type": self.line_types.get(sid) or self.default_type}
                for sid in self.canvas.selected_ids]

    def follow(self, seat_ids: Sequence[str]) -> None:
        """The cart holds ``seat_ids`` (each keeps its type; a new one gets the default type)."""
        self.line_types = {sid: self.line_types.get(sid) or self.default_type for sid in seat_ids}
        self.show()
        self.request_quote()

    def empty(self, *, keep_error: bool = False) -> None:
        """No lines and no quote (the seats were sold or let go, or another session shows);
        ``keep_error``: the last quote's refusal stays (after a sale)."""
        self.line_types = {}
        self.quote = self.quote_for = None
        self.quoted_prices = {}
        if not keep_error:
            self.quote_error = ""

    def show(self) -> None:
        tree = self.tree
        selected = set(tree.selection())
        tree.delete(*tree.get_children())
        prices = self.quoted_prices
        for n, line in enumerate(self.lines()):
            seat = self.canvas.seat(line["seat_id"]) or {}
            price = prices.get(line["seat_id"])
            tree.insert("", "end", iid=line["seat_id"], tags=("odd",) if n % 2 else (), values=(
                seat_text(seat.get("row_label", ""), seat.get("seat_label", "")),
                self.type_names.get(line["ticket_type"], line["ticket_type"]), yuan(price) if price is not None
                else "…"))
        keep = [iid for iid in selected if tree.exists(iid)]
        if keep:
            tree.selection_set(keep)
        count = len(self.line_types)
        self.count_label.configure(text=ngettext("{n} ticket", "{n} tickets", count).format(n=count) if count else "")
        self._show_type_choice()
        self.show_totals()

    def _show_type_choice(self) -> None:
        lines = self.tree.selection() or tuple(self.line_types)
        codes = {self.line_types.get(sid) for sid in lines}
        if len(codes) == 1 and None not in codes:
            self.type_choice.set(self.type_names.get(str(next(iter(codes))), ""))
        elif not lines:
            self.type_choice.set(self.type_names.get(self.default_type, ""))
        else:
            self.type_choice.set("")

    def set_type(self, name_or_code: str) -> None:
        """The ticket type of the lines selected in the cart (every line when none is)."""
        code = next((c for c, n in self.type_names.items() if name_or_code in (c, n)), "")
        if not code or self.tab.busy:
            return
        lines = self.tree.selection() or tuple(self.line_types)
        changed = False
        for sid in lines:
            if sid in self.line_types and self.line_types[sid] != code:
                self.line_types[sid] = code
                changed = True
        if changed:
            self.show()
            self.request_quote()

    def set_busy(self, busy: bool) -> None:
        """The type chooser, for a cart with lines while no sale is on its way."""
        self.type_choice.state(["disabled"] if busy or not self.line_types else ["!disabled", "readonly"])

    # ------------------------------------------------------------------ prices

    def _quote_key(self) -> tuple[Any, ...]:
        session = self.tab.session
        lines = tuple((line["seat_id"], line["ticket_type"]) for line in self.lines())
        return (session["code"] if session else "", lines, self.tab.payment.card_no)

    def quote_current(self) -> bool:
        return self.quote is not None and self.quote_for == self._quote_key()

    def price_of(self, seat: Mapping[str, Any]) -> int | None:
        """The map's hover price: the cart's price for a seat in the cart, else the list price of
        the default ticket type in the seat's zone."""
        seat_id = str(seat.get("id", ""))
        quoted = self.quoted_prices.get(seat_id)
        if quoted is not None:
            return quoted
        code = self.line_types.get(seat_id) or self.default_type
        zone = seat.get("zone") or ANY_ZONE
        return self.prices.get((zone, code), self.prices.get((ANY_ZONE, code)))

    def _refresh_hover(self) -> None:
        """The map's information line says the price just worked out for the seat under the pointer."""
        cell = getattr(self.canvas, "_hover", None)
        if cell is not None and self.view.hover_text:
            self.view._hovered(self.canvas.describe(cell))

    def request_quote(self) -> None:
        """Price the cart again once the clicks paused (the quotes on their way are moot)."""
        self.quote_error = ""
        self.quoted_prices = {}
        self.quoting += 1           # a quote on its way is for the cart as it was: moot
        self.tab.schedule("quote", QUOTE_DELAY_MS, self.quote_now)

    def quote_now(self) -> None:
        tab = self.tab
        tab.cancel_timer("quote")
        key = self._quote_key()
        self.quoting += 1
        generation = self.quoting
        self.quoted_prices = {}
        if not key[1] or tab.session is None:
            self.quote = self.quote_for = None
            self.show()
            return
        sales, actor = tab.sales, tab.actor
        lines = [{"seat_id": sid, "ticket_type": code} for sid, code in key[1]]

        def done(quote: dict[str, Any]) -> None:
            if generation != self.quoting or not self.winfo_exists():
                return
            self.quote, self.quote_for, self.quote_error = quote, key, ""
            self.quoted_prices = {str(line["seat_id"]): int(line["price"]) for line in quote.get("lines", [])}
            self.show()
            self._refresh_hover()
            tab.prices_in()

        def failed(exc: BaseException) -> None:
            if generation != self.quoting or not self.winfo_exists():
                return
            self.quote, self.quote_for = None, None
            self.quoted_prices = {}
            self.quote_error = error_text(exc)
            self.show()
            tab.prices_failed(exc)

        tab.context.run_in_thread(lambda: sales.quote(actor, session_code=key[0], lines=lines, card_no=key[2]),
                                  done, failed)

    def total(self) -> int | None:
        """The current quote's total (None while the cart's prices are being worked out)."""
        return int(self.quote["total"]) if self.quote_current() and self.quote is not None else None

    def show_totals(self) -> None:
        total = self.total()
        if not self.line_types:
            self.total_label.configure(text=yuan(0))
            self.discount_label.configure(text="")
        elif total is None:
            self.total_label.configure(text="…")
            self.discount_label.configure(text=self.quote_error)
        else:
            self.total_label.configure(text=yuan(total))
            listed = int(self.quote.get("list_total", total)) if self.quote else total
            self.discount_label.configure(text=_("list {list}, discount {discount}").format(
                list=yuan(listed), discount=yuan(listed - total)) if listed != total else "")
        self.tab.payment_changed()
