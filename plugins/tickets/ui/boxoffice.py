"""The box office's sale screen (tab ``tickets.boxoffice``, permission ``tickets.sell``;
docs/tickets-screens.md).

The day's sessions (◀ and ▶ for the day before and after), the picked session's seat map with
live states, the cart, the payment and the last order. ``BoxOfficeTab`` lays the screen out,
keeps the session on screen and wires its parts together:

* **Sessions** (``boxoffice_sessions.SessionsPanel``): start time, programme, hall, sold /
  capacity and the sales state; picking one shows its seat map (``SeatMapView``).
* **Seats** (``boxoffice_holds.SeatHolds``): a click on a free seat holds it for this terminal
  with the tab's own hold token; the states are read again every ``REFRESH_MS`` and after each
  sale, and only the seats whose state changed are repainted.
* **Cart** (``boxoffice_cart.CartPanel``): one line per seat with its ticket type and its price
  from ``SalesService.quote`` (with the member card that pays, for its tier), and the total.
* **Payment** (``plugins.tickets.ui.payment``): a member card presented on the reader or typed
  (``boxoffice_cards.CardLookup``), a cash voucher, cash with the change, or a mix.
* **Confirm** (Enter, ``boxoffice_sale.Checkout``) sells with one idempotency key per order,
  kept across retries until the sale succeeds or is cancelled (Esc). The tickets print on the
  ticket printer; the order stays on screen with *Reprint* (``boxoffice_order``).

Every service call runs off the Tk thread; newer answers make older ones moot (generations).
"""

from __future__ import annotations

import datetime as dt
import logging
import tkinter as tk
import uuid
from collections.abc import Callable, Mapping, Sequence
from tkinter import ttk
from typing import Any

from suite.errors import SuiteError
from suite.events import CardPresented
from suite.i18n import _
from suite.ui.widgets import MessageBar

from plugins.tickets.ui.boxoffice_cards import CardLookup, wallet_service
from plugins.tickets.ui.boxoffice_cart import CartPanel, default_type
from plugins.tickets.ui.boxoffice_holds import SeatHolds, states_changed
from plugins.tickets.ui.boxoffice_order import OrderStrip, TicketPrinting, ticket_printer
from plugins.tickets.ui.boxoffice_sale import Checkout, Pending
from plugins.tickets.ui.boxoffice_sessions import SessionsPanel, session_state
from plugins.tickets.ui.payment import PaymentPanel, ensure_styles
from plugins.tickets.ui.seatmap import SeatMapView

log = logging.getLogger(__name__)

REFRESH_MS = 5000               # seat states read again this often while the tab is on screen
SESSIONS_REFRESH_MS = 30000     # the sessions' sold counts and states
SIDE_WIDTH = 380                # pixels: the cart and payment column; the map takes the rest


class BoxOfficeTab(ttk.Frame):
    """The sale screen. ``sales``/``setup``/``wallet``: the services (default: the app's);
    ``printer(tickets, reprint) -> result``: the ticket printer (default: ``faces.print_tickets``).

    The tab holds the session on screen; its parts: ``sessions_panel``, ``view`` (the map),
    ``holds``, ``cart``, ``payment``, ``cards``, ``checkout``, ``order_strip`` and
    ``ticket_printing``."""

    def __init__(self, parent: tk.Misc, context: Any, *, sales: Any = None, setup: Any = None, wallet: Any = None,
                 printer: Callable[[Sequence[Mapping[str, Any]], bool], Any] | None = None,
                 refresh_ms: int = REFRESH_MS) -> None:
        super().__init__(parent, padding=(10, 8, 10, 6))
        self.context = context
        self.app = context.app
        self.actor = context.actor
        if sales is None:
            from plugins.tickets.sales import SalesService

            sales = SalesService.from_app(self.app)
        if setup is None:
            from plugins.tickets.setup import SetupService

            setup = SetupService.from_app(self.app)
        self.sales = sales
        self.setup = setup
        self.wallet = wallet if wallet is not None else wallet_service(self.app, self.actor)
        self.printer = printer or ticket_printer(self.app)
        self.zone = setup.settings.zone
        self.refresh_ms = refresh_ms
        terminal = getattr(sales, "terminal_code", "") or "T"
        self.hold_token = f"box-{terminal}-{uuid.uuid4().hex[:16]}"
        self.session: dict[str, Any] | None = None
        self.session_generation = 0
        self._after: dict[str, str] = {}             # timer name -> ``after`` id
        self.can_reprint = self.actor.has_permission("tickets.reprint")
        self.holds = SeatHolds(self)
        self.cards = CardLookup(self)
        self.checkout = Checkout(self)
        self.ticket_printing = TicketPrinting(self)
        ensure_styles(self)
        self._styles()
        self._build()
        self._bind_keys()
        self.cart.show_totals()
        self.order_strip.show(None, 0)
        self.set_enabled()
        context.subscribe(CardPresented, self.cards.on_card_presented)
        self.bind("<Destroy>", self._on_destroy, add="+")
        self.cart.load_types()
        self.load_sessions()
        self.schedule("refresh", self.refresh_ms, self.refresh_states)
        self.schedule("sessions", SESSIONS_REFRESH_MS, self._sessions_tick)

    # ------------------------------------------------------------------ set-up

    def _styles(self) -> None:
        """The tab's own styles (its parts add theirs; ``payment.ensure_styles`` the shared ones)."""
        style = ttk.Style(self)
        style.configure("BoxNarrow.TouchAccent.TButton", padding=(6, 9))
        style.configure("BoxNarrow.Touch.TButton", padding=(6, 9))
        style.configure("Box.Treeview", rowheight=24)

    def _build(self) -> None:
        self.columnconfigure(0, weight=1)
        self.columnconfigure(1, weight=0)
        self.rowconfigure(0, weight=1)
        left = ttk.Frame(self)
        left.grid(row=0, column=0, sticky="nsew", padx=(0, 10))
        left.columnconfigure(0, weight=1)
        left.rowconfigure(1, weight=1)
        self.sessions_panel = SessionsPanel(left, self.context, setup=self.setup, actor=self.actor, zone=self.zone,
                                            current=self._session_code, on_pick=self.pick_session,
                                            on_listed=self._sessions_listed, on_failed=self.load_failed)
        self.sessions_panel.grid(row=0, column=0, sticky="ew")
        self.view = SeatMapView(left, mode="sale", on_select=self._on_select, price_of=self._price_of,
                                stage_text=_("Screen"))
        self.view.grid(row=1, column=0, sticky="nsew")
        self.canvas = self.view.canvas
        self.order_strip = OrderStrip(left, on_reprint=self.ticket_printing.reprint)
        self.order_strip.grid(row=2, column=0, sticky="ew", pady=(6, 0))
        side = ttk.Frame(self, width=SIDE_WIDTH)
        side.grid(row=0, column=1, sticky="nsew")
        side.grid_propagate(False)
        side.columnconfigure(0, weight=1)
        self.cart = CartPanel(side, self, self.view)
        self.cart.grid(row=0, column=0, sticky="ew")
        self._build_payment(side)
        # the parts' widgets, by the names the screen has always had
        self.session_tree = self.sessions_panel.tree
        self.day_label = self.sessions_panel.day_label
        self.title_label = self.sessions_panel.title_label
        self.cart_tree = self.cart.tree
        self.total_label = self.cart.total_label
        self.order_head = self.order_strip.head
        self.change_label = self.order_strip.change_label
        self.reprint_button = self.order_strip.reprint_button
        self.print_message = self.order_strip.print_message

    def _build_payment(self, side: ttk.Frame) -> None:
        note = "" if self.wallet is not None else _("Card payments need the card wallet on this terminal.")
        self.payment = PaymentPanel(side, on_change=self.payment_changed, on_card_number=self.cards.look_up,
                                    on_clear_card=self.card_changed, cards=self.wallet is not None,
                                    cards_note=note)
        self.payment.grid(row=1, column=0, sticky="ew")
        buttons = ttk.Frame(side)
        buttons.grid(row=2, column=0, sticky="ew", pady=(8, 0))
        buttons.columnconfigure((0, 1), weight=1, uniform="buttons")
        self.confirm_button = ttk.Button(buttons, text=_("Confirm (Enter)"), style="BoxNarrow.TouchAccent.TButton",
                                         command=self.confirm, takefocus=False)
        self.confirm_button.grid(row=0, column=0, sticky="ew", padx=(0, 4))
        self.cancel_button = ttk.Button(buttons, text=_("Cancel (Esc)"), style="BoxNarrow.Touch.TButton",
                                        command=self.cancel, takefocus=False)
        self.cancel_button.grid(row=0, column=1, sticky="ew", padx=(4, 0))
        self.message = MessageBar(side, collapse=True)
        self.message.grid(row=3, column=0, sticky="ew", pady=(6, 0))

    def _bind_keys(self) -> None:
        """Enter confirms and Esc cancels wherever the focus is in the tab; on the map too
        (there Space picks the keyboard cursor's seat)."""
        tag = f"BoxOffice{id(self)}"
        self.bind_class(tag, "<Return>", lambda e: self.confirm() or "break")
        self.bind_class(tag, "<KP_Enter>", lambda e: self.confirm() or "break")
        self.bind_class(tag, "<Escape>", lambda e: self.cancel() or "break")
        self._keys_tag = tag

        def walk(widget: tk.Misc) -> None:
            if widget is not self.canvas:
                tags = list(widget.bindtags())
                if tag not in tags:
                    widget.bindtags((tags[0], tag, *tags[1:]))
            for child in widget.winfo_children():
                walk(child)

        walk(self)
        self.canvas.bind("<Return>", lambda e: self.confirm() or "break")
        self.canvas.bind("<KP_Enter>", lambda e: self.confirm() or "break")
        self.canvas.bind("<Escape>", lambda e: self.cancel() or "break")

    # ------------------------------------------------------------------ the parts' state, as the tab's

    @property
    def day(self) -> dt.date:
        return self.sessions_panel.day

    @property
    def types(self) -> list[dict[str, Any]]:
        return self.cart.types

    @property
    def line_types(self) -> dict[str, str]:
        return self.cart.line_types

    @property
    def held(self) -> set[str]:
        return self.holds.held

    @property
    def syncing(self) -> bool:
        return self.holds.syncing

    @property
    def fetching(self) -> bool:
        return self.holds.fetching

    @property
    def busy(self) -> bool:
        return self.checkout.busy

    @property
    def pending(self) -> Pending | None:
        return self.checkout.pending

    @property
    def order(self) -> dict[str, Any] | None:
        return self.checkout.order

    @property
    def printing(self) -> bool:
        return self.ticket_printing.printing

    def show_day(self, day: dt.date) -> None:
        """The sessions of ``day`` (local)."""
        self.sessions_panel.show_day(day)

    def load_sessions(self) -> None:
        self.sessions_panel.load()

    def refresh_states(self) -> None:
        """Read the session's seat states now (and again every ``refresh_ms``)."""
        self.holds.refresh_states()

    def set_type(self, name_or_code: str) -> None:
        """The ticket type of the lines selected in the cart (every line when none is)."""
        self.cart.set_type(name_or_code)

    def look_up_card(self, number: str) -> None:
        """A card number typed and Enter."""
        self.cards.look_up(number)

    def confirm(self) -> None:
        """Enter: sell the cart with the payment filled in, under the pending order's key."""
        self.checkout.confirm()

    def _cart_lines(self) -> list[dict[str, str]]:
        return self.cart.lines()

    def _quote_current(self) -> bool:
        return self.cart.quote_current()

    def _total(self) -> int | None:
        return self.cart.total()

    def _price_of(self, seat: Mapping[str, Any]) -> int | None:
        return self.cart.price_of(seat)

    # ------------------------------------------------------------------ timers

    def schedule(self, name: str, ms: int, action: Callable[[], Any]) -> None:
        """Run ``action`` in ``ms`` (instead of the timer ``name`` already set, if any)."""
        self.cancel_timer(name)
        if self.winfo_exists():
            self._after[name] = self.after(ms, action)

    def cancel_timer(self, name: str) -> None:
        after_id = self._after.pop(name, None)
        if after_id is not None:
            try:
                self.after_cancel(after_id)
            except tk.TclError:
                pass

    def on_screen(self) -> bool:
        try:
            return bool(self.winfo_exists() and self.winfo_viewable())
        except tk.TclError:
            return False

    # ------------------------------------------------------------------ sessions

    def load_failed(self, exc: BaseException) -> None:
        if self.winfo_exists():
            if not isinstance(exc, SuiteError):
                log.error("the box office could not load", exc_info=exc)
            self.message.error(exc)

    def _session_code(self) -> str | None:
        return self.session["code"] if self.session else None

    def _sessions_listed(self) -> None:
        """The list was read again: the session on screen takes its new sold count and state."""
        if self.session is not None:
            info = self.sessions_panel.find(self.session["code"])
            if info is not None:
                self.session = dict(self.session, **info)
        self.sessions_panel.show_title(self.session)

    def _sessions_tick(self) -> None:
        if self.on_screen() and not self.busy:
            self.load_sessions()
        self.schedule("sessions", SESSIONS_REFRESH_MS, self._sessions_tick)

    def pick_session(self, code: str) -> None:
        """Show session ``code``'s map; the seats held for another session are let go."""
        info = self.sessions_panel.find(code)
        if info is None:
            return
        if self.busy:       # a sale is on its way: it finishes on the session it was made for
            if self.session is not None:
                self.sessions_panel.select(self.session["code"])
            return
        old = self.session
        if old is not None and old["code"] == code:
            return
        if old is not None:
            self.holds.release_everything(old["code"])
        self.session = dict(info)
        self.session_generation += 1
        generation = self.session_generation
        self.holds.forget()
        self.cart.empty()
        self.checkout.forget()
        self.canvas.clear_selection()
        self.view.set_map(None)
        self.cart.show()
        self.sessions_panel.show_title(self.session)
        self.message.show(_("Loading the seat map…"))
        setup, sales, actor, token = self.setup, self.sales, self.actor, self.hold_token

        def work() -> tuple[dict[str, Any], dict[str, str], dict[tuple[str, str], int]]:
            seat_map = setup.seat_map(actor, hall=info["hall"], name=info["seat_map"])
            prices = {(p["zone"], p["ticket_type"]): int(p["price"]) for p in setup.prices(actor, plan=info["plan"])}
            states = sales.seat_states(actor, code, hold_token=token)["states"]
            return seat_map, states, prices

        def done(found: tuple[dict[str, Any], dict[str, str], dict[tuple[str, str], int]]) -> None:
            if generation != self.session_generation or not self.winfo_exists():
                return
            seat_map, states, prices = found
            self.cart.prices = prices
            self.holds.server_states = states
            self.view.set_map(seat_map, {sid: ("free" if st == "mine" else st) for sid, st in states.items()})
            self.message.clear()
            self.sessions_panel.show_title(self.session)
            self.set_enabled()
            self.canvas.focus_set()

        def failed(exc: BaseException) -> None:
            if generation == self.session_generation:
                self.load_failed(exc)

        self.context.run_in_thread(work, done, failed)

    # ------------------------------------------------------------------ the seats, the prices, the card

    def _on_select(self, seat_ids: list[str]) -> None:
        """The operator changed the selection (or a selected seat was taken): the cart follows,
        the holds follow, the prices are worked out again."""
        self.cart.follow(list(seat_ids))
        self.holds.sync()
        self.set_enabled()

    def prices_in(self) -> None:
        """The cart's quote came in: a confirmation waiting for it goes ahead."""
        self.set_enabled()
        self.checkout.prices_in()

    def prices_failed(self, exc: BaseException) -> None:
        self.checkout.confirm_waiting = False
        self.message.error(exc)
        self.set_enabled()

    def payment_changed(self) -> None:
        total = self.cart.total()
        if not self.cart.line_types or total is None:
            self.payment.show_plan(None)
        else:
            self.payment.show_plan(self.payment.plan(total))

    def card_changed(self) -> None:
        """A card found, or taken off the order: the prices with (or without) its tier."""
        self.cart.request_quote()
        self.cart.show_totals()
        self.set_enabled()

    # ------------------------------------------------------------------ the buttons

    def set_enabled(self) -> None:
        ready = self.session is not None and bool(self.cart.line_types) and not self.busy
        self.confirm_button.state(["!disabled"] if ready else ["disabled"])
        self.cancel_button.state(["disabled"] if self.busy else ["!disabled"])
        self.cart.set_busy(self.busy)
        self.sessions_panel.set_busy(self.busy)
        self.order_strip.allow_reprint(self.ticket_printing.reprint_ready())

    # ------------------------------------------------------------------ cancel

    def cancel(self) -> None:
        """Esc: the seats are let go, the cart and the payment emptied, the pending order's key
        forgotten."""
        if self.busy:
            return
        had = bool(self.cart.line_types or self.pending or self.payment.card is not None)
        self.checkout.forget()
        self.canvas.clear_selection()
        self.view.set_states({})
        self.cart.empty()
        self.payment.clear()
        self.holds.release_all = self.session is not None
        self.cart.show()
        self.holds.sync()
        self.set_enabled()
        if had:
            self.message.show(_("Cancelled: the seats are free again."))
        else:
            self.message.clear()

    # ------------------------------------------------------------------ teardown

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is not self:
            return
        for name in list(self._after):
            self.cancel_timer(name)
        if self.session is not None and (self.holds.held or self.holds.syncing):
            self.holds.release_everything(self.session["code"])


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``tickets.boxoffice``."""
    return BoxOfficeTab(parent, context)


__all__ = ["BoxOfficeTab", "Pending", "build_tab", "default_type", "session_state", "states_changed"]
