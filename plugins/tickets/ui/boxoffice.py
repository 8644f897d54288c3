"""The box office's sale screen (tab ``tickets.boxoffice``, permission ``tickets.sell``;
docs/tickets-screens.md).

The day's sessions (◀ and ▶ for the day before and after), the picked session's seat map with
live states, the cart, the payment and the last order:

* **Sessions**: start time, programme, hall, sold / capacity and the sales state; picking one
  shows its seat map (``SeatMapView``). The states are read again every ``REFRESH_MS`` and after
  each sale; only the seats whose state changed are repainted.
* **Seats**: a click on a free seat holds it for this terminal (``SalesService.hold`` with the
  tab's own hold token); unselecting it, picking another session or *Cancel* releases it. Holds
  and releases go one call at a time, in order, whatever the clicks do meanwhile.
* **Cart**: one line per seat with its ticket type (the first adult type to begin with; the type
  chooser sets the lines selected in the cart, or every line when none is) and its price from
  ``SalesService.quote`` (with the member card that pays, for its tier), and the total.
* **Payment** (``plugins.tickets.ui.payment``): a member card presented on the reader
  (``CardPresented`` -> ``WalletService.find_card``) or typed, a cash voucher, cash with the
  change, or a mix, the remaining amount shown.
* **Confirm** (Enter) sells with one idempotency key per order, kept across retries until the
  sale succeeds or is cancelled (Esc): a double Enter or a retry after a lost answer never sells
  twice. The tickets print on the ticket printer (``faces.print_tickets``); the order stays on
  screen with *Reprint*. Refusals (a seat taken, sales stopped, a card short of money, a
  missing permission) are the services' own translated messages; the cart stays.

Every service call runs off the Tk thread; newer answers make older ones moot (generations).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import tkinter as tk
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from tkinter import ttk
from typing import Any

from suite.errors import DatabaseUnavailable, SuiteError
from suite.events import CardPresented
from suite.i18n import N_, _, ngettext
from suite.ui.theme import PALETTE
from suite.ui.widgets import MessageBar, error_text

from plugins.tickets.core import SeatTaken
from plugins.tickets.ui.payment import PaymentPanel, PaymentPlan, ensure_styles, yuan
from plugins.tickets.ui.seatmap import SeatMapView

log = logging.getLogger(__name__)

REFRESH_MS = 5000               # seat states read again this often while the tab is on screen
SESSIONS_REFRESH_MS = 30000     # the sessions' sold counts and states
QUOTE_DELAY_MS = 120            # the cart priced again once the clicks paused this long
SIDE_WIDTH = 380                # pixels: the cart and payment column; the map takes the rest
ANY_ZONE = "*"

SESSION_STATES = {
    "presale": N_("Presale"),
    "on_sale": N_("On sale"),
    "stopped": N_("Stopped"),
    "over": N_("Over"),
}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


@dataclass
class Pending:
    """A confirmed order not yet known to be sold: retries reuse its key."""

    key: str


def seat_text(row: Any, seat: Any) -> str:
    return _("Row {row} Seat {seat}").format(row=row, seat=seat)


def session_state(info: Mapping[str, Any], now: dt.datetime) -> str:
    """``presale``, ``on_sale``, ``stopped`` or ``over`` (the session ended)."""
    ends = info.get("ends_at")
    if ends and dt.datetime.fromisoformat(str(ends)) <= now:
        return "over"
    return str(info.get("state") or "")


def state_title(state: str) -> str:
    return _(SESSION_STATES[state]) if state in SESSION_STATES else state


def day_text(day: dt.date, today: dt.date) -> str:
    text = f"{_(WEEKDAYS[day.weekday()])} {day.isoformat()}"
    return _("{day} (today)").format(day=text) if day == today else text


def default_type(types: Sequence[Mapping[str, Any]]) -> str:
    """The first adult type sold one at a time (else the first type)."""
    for ticket_type in types:
        if ticket_type.get("category") == "adult" and int(ticket_type.get("min_quantity") or 1) <= 1:
            return str(ticket_type["code"])
    return str(types[0]["code"]) if types else ""


def states_changed(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, str]:
    """Seat id -> new state for every seat whose state differs (a seat left out is free)."""
    changed = {sid: state for sid, state in after.items() if before.get(sid, "free") != state}
    changed.update({sid: "free" for sid, state in before.items() if state != "free" and sid not in after})
    return changed


class PrintLine(MessageBar):
    """The printing line of the order strip (on its white surface)."""

    STYLES = {"info": "BoxPrintInfo.TLabel", "ok": "BoxPrintOk.TLabel", "error": "BoxPrintError.TLabel"}


class BoxOfficeTab(ttk.Frame):
    """The sale screen. ``sales``/``setup``/``wallet``: the services (default: the app's);
    ``printer(tickets, reprint) -> result``: the ticket printer (default: ``faces.print_tickets``)."""

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
        self.wallet = wallet if wallet is not None else self._wallet_service()
        self.printer = printer or self._print_on_the_ticket_printer
        self.zone = setup.settings.zone
        self.refresh_ms = refresh_ms
        terminal = getattr(sales, "terminal_code", "") or "T"
        self.hold_token = f"box-{terminal}-{uuid.uuid4().hex[:16]}"
        self.day = self.today()
        self.sessions: list[dict[str, Any]] = []
        self.session: dict[str, Any] | None = None
        self.halls: dict[str, str] = {}
        self.types: list[dict[str, Any]] = []
        self.type_names: dict[str, str] = {}
        self.default_type = ""
        self.prices: dict[tuple[str, str], int] = {}
        self.line_types: dict[str, str] = {}         # seat id -> ticket type code, for the seats in the cart
        self.server_states: dict[str, str] = {}      # the last picture the sales service gave (never mutated)
        self.held: set[str] = set()                  # seats this tab holds (as far as it knows)
        self.held_since: float | None = None         # monotonic time of the oldest hold still running
        self.renew = False                           # the next sync holds every seat of the cart again
        self.syncing = False
        self.release_all = False                     # the next sync lets go of every hold of the tab's token
        self.sync_epoch = 0                          # holds and releases done: older state pictures are moot
        self.fetching = False
        self.quote: dict[str, Any] | None = None
        self.quote_for: tuple[Any, ...] | None = None
        self.quote_error = ""
        self.quoted_prices: dict[str, int] = {}      # seat id -> price of the current quote ({} while none)
        self.quoting = 0                             # the newest quote's generation
        self.confirm_waiting = False                 # Enter came before the prices: sell once they are in
        self.pending: Pending | None = None
        self.outcome_unknown = False                 # the last sale's answer was lost: it may have gone through
        self.busy = False                            # a sale is on its way
        self.session_generation = 0
        self.list_generation = 0
        self.card_generation = 0
        self.order: dict[str, Any] | None = None     # the last order sold here
        self.printing = False
        self.queued_jobs: list[int] = []             # tickets of the last order waiting in the printer's queue
        self.last_change = 0
        self._after: dict[str, str] = {}
        self.can_reprint = self.actor.has_permission("tickets.reprint")
        ensure_styles(self)
        self._styles()
        self._build()
        self._bind_keys()
        self._show_totals()
        self._show_order()
        self._set_enabled()
        context.subscribe(CardPresented, self.on_card_presented)
        self.bind("<Destroy>", self._on_destroy, add="+")
        self.load_types()
        self.load_sessions()
        self._schedule("refresh", self.refresh_ms, self.refresh_states)
        self._schedule("sessions", SESSIONS_REFRESH_MS, self._sessions_tick)

    # ------------------------------------------------------------------ set-up

    def _wallet_service(self) -> Any:
        """The card wallet, when it runs here and the operator may look cards up."""
        plugins = getattr(self.app, "plugins", None)
        try:
            active = {m.id for m in plugins.active_manifests()} if plugins is not None else set()
        except Exception:  # noqa: BLE001 - no host: no cards
            active = set()
        if "wallet" not in active or not self.actor.has_permission("wallet.view"):
            return None
        from plugins.wallet.services import WalletService

        return WalletService.from_app(self.app)

    def today(self) -> dt.date:
        return dt.datetime.now(self.zone).date()

    def _styles(self) -> None:
        p = PALETTE
        style = ttk.Style(self)
        style.configure("BoxDay.TLabel", background=p.window, foreground=p.text, font="VSBold", anchor="center")
        style.configure("BoxTitle.TLabel", background=p.window, foreground=p.text, font="VSLargeBold")
        style.configure("BoxOrder.TLabel", background=p.surface, foreground=p.text)
        style.configure("BoxOrderHead.TLabel", background=p.surface, foreground=p.text, font="VSBold")
        style.configure("BoxOrderChange.TLabel", background=p.surface, foreground=p.success, font="VSLargeBold")
        style.configure("BoxPrintInfo.TLabel", background=p.surface, foreground=p.muted, padding=(0, 2))
        style.configure("BoxPrintOk.TLabel", background=p.surface, foreground=p.success, padding=(0, 2))
        style.configure("BoxPrintError.TLabel", background=p.danger_soft, foreground=p.danger, padding=(6, 2))
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
        left.rowconfigure(3, weight=1)
        self._build_sessions(left)
        self.title_label = ttk.Label(left, style="BoxTitle.TLabel", anchor="w")
        self.title_label.grid(row=2, column=0, sticky="ew", pady=(6, 4))
        self.view = SeatMapView(left, mode="sale", on_select=self._on_select, price_of=self._price_of,
                                stage_text=_("Screen"))
        self.view.grid(row=3, column=0, sticky="nsew")
        self.canvas = self.view.canvas
        self._build_order(left)
        side = ttk.Frame(self, width=SIDE_WIDTH)
        side.grid(row=0, column=1, sticky="nsew")
        side.grid_propagate(False)
        side.columnconfigure(0, weight=1)
        self._build_cart(side)
        self._build_payment(side)

    def _build_sessions(self, parent: ttk.Frame) -> None:
        bar = ttk.Frame(parent)
        bar.grid(row=0, column=0, sticky="ew")
        self.prev_button = ttk.Button(bar, text="◀", width=3,
                                      command=lambda: self.show_day(self.day - dt.timedelta(days=1)))
        self.prev_button.pack(side="left")
        self.day_label = ttk.Label(bar, style="BoxDay.TLabel", width=22)
        self.day_label.pack(side="left", padx=6)
        self.next_button = ttk.Button(bar, text="▶", width=3,
                                      command=lambda: self.show_day(self.day + dt.timedelta(days=1)))
        self.next_button.pack(side="left")
        self.today_button = ttk.Button(bar, text=_("Today"), command=lambda: self.show_day(self.today()))
        self.today_button.pack(side="left", padx=(8, 0))
        self.sessions_note = ttk.Label(bar, style="Muted.TLabel")
        self.sessions_note.pack(side="right")

        box = ttk.Frame(parent)
        box.grid(row=1, column=0, sticky="ew", pady=(6, 0))
        box.columnconfigure(0, weight=1)
        columns = (("time", _("Time"), 60, "w"), ("title", _("Programme"), 150, "w"), ("hall", _("Hall"), 90, "w"),
                   ("sold", _("Sold / capacity"), 140, "e"), ("state", _("State"), 90, "w"))
        self.session_tree = ttk.Treeview(box, columns=[c[0] for c in columns], show="headings", height=4,
                                         selectmode="browse", style="Box.Treeview")
        for name, title, width, anchor in columns:
            self.session_tree.heading(name, text=title, anchor=anchor)
            self.session_tree.column(name, width=width, minwidth=40, anchor=anchor, stretch=name == "title")
        self.session_tree.tag_configure("closed", foreground=PALETTE.disabled)
        self.session_tree.tag_configure("odd", background=PALETTE.stripe)
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.session_tree.yview)
        self.session_tree.configure(yscrollcommand=scroll.set)
        self.session_tree.grid(row=0, column=0, sticky="ew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.session_tree.bind("<<TreeviewSelect>>", self._on_session_selected)

    def _build_cart(self, side: ttk.Frame) -> None:
        head = ttk.Frame(side)
        head.grid(row=0, column=0, sticky="ew")
        ttk.Label(head, text=_("Cart"), style="BoxSection.TLabel").pack(side="left")
        self.cart_count = ttk.Label(head, style="Muted.TLabel")
        self.cart_count.pack(side="right")
        box = ttk.Frame(side)
        box.grid(row=1, column=0, sticky="ew", pady=(4, 0))
        box.columnconfigure(0, weight=1)
        self.cart_tree = ttk.Treeview(box, columns=("seat", "type", "price"), show="headings", height=3,
                                      selectmode="extended", style="Box.Treeview")
        for name, title, width, anchor in (("seat", _("Seat"), 130, "w"), ("type", _("Ticket type"), 115, "w"),
                                           ("price", _("Price"), 85, "e")):
            self.cart_tree.heading(name, text=title, anchor=anchor)
            self.cart_tree.column(name, width=width, minwidth=50, anchor=anchor, stretch=name == "seat")
        self.cart_tree.tag_configure("odd", background=PALETTE.stripe)
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.cart_tree.yview)
        self.cart_tree.configure(yscrollcommand=scroll.set)
        self.cart_tree.grid(row=0, column=0, sticky="ew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.cart_tree.bind("<<TreeviewSelect>>", lambda e: self._show_type_choice())

        chooser = ttk.Frame(side)
        chooser.grid(row=2, column=0, sticky="ew", pady=(6, 0))
        chooser.columnconfigure(1, weight=1)
        ttk.Label(chooser, text=_("Ticket type")).grid(row=0, column=0, sticky="w", padx=(0, 8))
        self.type_choice = ttk.Combobox(chooser, state="readonly", width=16)
        self.type_choice.grid(row=0, column=1, sticky="ew")
        self.type_choice.bind("<<ComboboxSelected>>", lambda e: self.set_type(self.type_choice.get()))

        totals = ttk.Frame(side)
        totals.grid(row=3, column=0, sticky="ew", pady=(6, 0))
        totals.columnconfigure(1, weight=1)
        ttk.Label(totals, text=_("Total"), style="BoxSection.TLabel").grid(row=0, column=0, sticky="w")
        self.discount_label = ttk.Label(totals, style="BoxCaption.TLabel", anchor="e")
        self.discount_label.grid(row=0, column=1, sticky="e", padx=(8, 8))
        self.total_label = ttk.Label(totals, style="BoxTotal.TLabel")
        self.total_label.grid(row=0, column=2, sticky="e")
        ttk.Separator(side).grid(row=4, column=0, sticky="ew", pady=(6, 6))

    def _build_payment(self, side: ttk.Frame) -> None:
        note = "" if self.wallet is not None else _("Card payments need the card wallet on this terminal.")
        self.payment = PaymentPanel(side, on_change=self._payment_changed, on_card_number=self.look_up_card,
                                    on_clear_card=self._card_cleared, cards=self.wallet is not None,
                                    cards_note=note)
        self.payment.grid(row=5, column=0, sticky="ew")
        buttons = ttk.Frame(side)
        buttons.grid(row=6, column=0, sticky="ew", pady=(8, 0))
        buttons.columnconfigure((0, 1), weight=1, uniform="buttons")
        self.confirm_button = ttk.Button(buttons, text=_("Confirm (Enter)"), style="BoxNarrow.TouchAccent.TButton",
                                         command=self.confirm, takefocus=False)
        self.confirm_button.grid(row=0, column=0, sticky="ew", padx=(0, 4))
        self.cancel_button = ttk.Button(buttons, text=_("Cancel (Esc)"), style="BoxNarrow.Touch.TButton",
                                        command=self.cancel, takefocus=False)
        self.cancel_button.grid(row=0, column=1, sticky="ew", padx=(4, 0))
        self.message = MessageBar(side, collapse=True)
        self.message.grid(row=7, column=0, sticky="ew", pady=(6, 0))


    def _build_order(self, parent: ttk.Frame) -> None:
        """The last order sold here, under the map: what was paid, the change, printing, Reprint."""
        order = ttk.Frame(parent, style="Card.TFrame", padding=(8, 4))
        order.grid(row=4, column=0, sticky="ew", pady=(6, 0))
        order.columnconfigure(1, weight=1)
        self.order_frame = order
        self.order_head = ttk.Label(order, style="BoxOrderHead.TLabel", anchor="w")
        self.order_head.grid(row=0, column=0, sticky="w", padx=(0, 8))
        self.order_text = ttk.Label(order, style="BoxOrder.TLabel", anchor="w")
        self.order_text.grid(row=0, column=1, sticky="ew")
        self.order_text.bind("<Configure>", lambda e: self.order_text.configure(wraplength=max(120, e.width - 4)))
        self.change_label = ttk.Label(order, style="BoxOrderChange.TLabel", anchor="e")
        self.change_label.grid(row=0, column=2, sticky="e", padx=(8, 0))
        self.reprint_button = ttk.Button(order, text=_("Reprint"), style="BoxSmall.TButton", command=self.reprint,
                                         takefocus=False)
        self.reprint_button.grid(row=0, column=3, sticky="e", padx=(8, 0))
        self.print_message = PrintLine(order)
        self.print_message.grid(row=1, column=0, columnspan=4, sticky="ew", pady=(2, 0))

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

    # ------------------------------------------------------------------ timers

    def _schedule(self, name: str, ms: int, action: Callable[[], Any]) -> None:
        self._cancel_timer(name)
        if self.winfo_exists():
            self._after[name] = self.after(ms, action)

    def _cancel_timer(self, name: str) -> None:
        after_id = self._after.pop(name, None)
        if after_id is not None:
            try:
                self.after_cancel(after_id)
            except tk.TclError:
                pass

    def _on_screen(self) -> bool:
        try:
            return bool(self.winfo_exists() and self.winfo_viewable())
        except tk.TclError:
            return False

    # ------------------------------------------------------------------ sessions

    def load_types(self) -> None:
        setup, actor = self.setup, self.actor

        def done(types: list[dict[str, Any]]) -> None:
            if not self.winfo_exists():
                return
            self.types = [t for t in types if t.get("active", True)]
            self.type_names = {str(t["code"]): str(t["name"]) for t in self.types}
            self.default_type = default_type(self.types)
            self.type_choice.configure(values=[t["name"] for t in self.types])
            if any(not code for code in self.line_types.values()):     # seats picked before the types came
                self.line_types = {sid: code or self.default_type for sid, code in self.line_types.items()}
                self._show_cart()
                self._request_quote()
            self._show_type_choice()

        self.context.run_in_thread(lambda: setup.list_ticket_types(actor), done, self._load_failed)

    def _load_failed(self, exc: BaseException) -> None:
        if self.winfo_exists():
            if not isinstance(exc, SuiteError):
                log.error("the box office could not load", exc_info=exc)
            self.message.error(exc)

    def show_day(self, day: dt.date) -> None:
        """The sessions of ``day`` (local)."""
        if day != self.day:
            self.day = day
            self.load_sessions()

    def load_sessions(self) -> None:
        self.list_generation += 1
        generation, day = self.list_generation, self.day
        setup, actor = self.setup, self.actor
        self.day_label.configure(text=day_text(day, self.today()))
        load_halls = not self.halls

        def work() -> tuple[list[dict[str, Any]], dict[str, str] | None]:
            halls = {h["code"]: h["name"] for h in setup.list_halls(actor)} if load_halls else None
            return setup.list_sessions(actor, day=day), halls

        def done(found: tuple[list[dict[str, Any]], dict[str, str] | None]) -> None:
            if generation == self.list_generation and self.winfo_exists():
                sessions, halls = found
                if halls is not None:
                    self.halls = halls
                self.show_sessions(sessions)

        self.context.run_in_thread(work, done, self._load_failed)

    def show_sessions(self, sessions: list[dict[str, Any]]) -> None:
        self.sessions = sessions
        tree = self.session_tree
        now = dt.datetime.now(dt.timezone.utc)
        current = self.session["code"] if self.session else None
        tree.delete(*tree.get_children())
        for n, info in enumerate(sessions):
            state = session_state(info, now)
            starts = dt.datetime.fromisoformat(info["starts_at"]).astimezone(self.zone)
            tags = ["odd"] if n % 2 else []
            if state in ("stopped", "over"):
                tags.append("closed")
            tree.insert("", "end", iid=info["code"], tags=tags, values=(
                starts.strftime("%H:%M"), info.get("title") or info.get("programme"),
                self.halls.get(info["hall"], info["hall"]), f"{info['sold']:,} / {info['capacity']:,}",
                state_title(state)))
            if info["code"] == current:
                self.session = dict(self.session or {}, **info)
        if current and tree.exists(current):
            tree.selection_set(current)
            tree.see(current)
        self.sessions_note.configure(text=ngettext("{n} session", "{n} sessions", len(sessions)).format(
            n=len(sessions)) if sessions else _("No sessions this day."))
        self._show_title()

    def _sessions_tick(self) -> None:
        if self._on_screen() and not self.busy:
            self.load_sessions()
        self._schedule("sessions", SESSIONS_REFRESH_MS, self._sessions_tick)

    def _on_session_selected(self, _event: tk.Event) -> None:
        selected = self.session_tree.selection()
        if selected and (self.session is None or selected[0] != self.session["code"]):
            self.pick_session(selected[0])

    def pick_session(self, code: str) -> None:
        """Show session ``code``'s map; the seats held for another session are let go."""
        info = next((s for s in self.sessions if s["code"] == code), None)
        if info is None:
            return
        if self.busy:       # a sale is on its way: it finishes on the session it was made for
            if self.session is not None and self.session_tree.exists(self.session["code"]):
                self.session_tree.selection_set(self.session["code"])
            return
        old = self.session
        if old is not None and old["code"] == code:
            return
        if old is not None:
            self._release_everything(old["code"])
        self.session = dict(info)
        self.session_generation += 1
        generation = self.session_generation
        self.held = set()
        self.line_types = {}
        self.server_states = {}
        self.pending = None
        self.outcome_unknown = False
        self.quote = self.quote_for = None
        self.quoted_prices = {}
        self.quote_error = ""
        self.confirm_waiting = False
        self.canvas.clear_selection()
        self.view.set_map(None)
        self._show_cart()
        self._show_title()
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
            self.prices = prices
            self.server_states = states
            self.view.set_map(seat_map, {sid: ("free" if st == "mine" else st) for sid, st in states.items()})
            self.message.clear()
            self._show_title()
            self._set_enabled()
            self.canvas.focus_set()

        def failed(exc: BaseException) -> None:
            if generation == self.session_generation:
                self._load_failed(exc)

        self.context.run_in_thread(work, done, failed)

    def _show_title(self) -> None:
        info = self.session
        if info is None:
            self.title_label.configure(text=_("Pick a session to see its seats."), style="BoxTitle.TLabel")
            return
        starts = dt.datetime.fromisoformat(info["starts_at"]).astimezone(self.zone)
        state = session_state(info, dt.datetime.now(dt.timezone.utc))
        parts = [info.get("title") or info.get("programme"), starts.strftime("%Y-%m-%d %H:%M"),
                 self.halls.get(info["hall"], info["hall"]), state_title(state)]
        self.title_label.configure(text=" · ".join(str(p) for p in parts if p))

    # ------------------------------------------------------------------ seat states

    def refresh_states(self) -> None:
        """Read the session's seat states now (and again every ``refresh_ms``)."""
        self._schedule("refresh", self.refresh_ms, self.refresh_states)
        if self.session is None or self.fetching or self.canvas.seat_map is None or not self._on_screen():
            return
        self.fetching = True
        code, epoch, generation = self.session["code"], self.sync_epoch, self.session_generation
        before = self.server_states
        sales, actor, token = self.sales, self.actor, self.hold_token

        def work() -> tuple[dict[str, str], dict[str, str]]:
            states = sales.seat_states(actor, code, hold_token=token)["states"]
            return states, states_changed(before, states)      # the comparison off the Tk thread too

        def done(found: tuple[dict[str, str], dict[str, str]]) -> None:
            self.fetching = False
            if not self.winfo_exists() or generation != self.session_generation:
                return
            if epoch != self.sync_epoch:        # holds moved meanwhile: this picture is older than they are
                self._schedule("refresh", 50, self.refresh_states)
                return
            states, changed = found
            self.server_states = states
            self.apply_states(changed)
            self._keep_holds(states)

        def failed(exc: BaseException) -> None:
            self.fetching = False
            if self.winfo_exists() and generation == self.session_generation:
                log.warning("seat states of %s not read: %s", code, exc)

        self.context.run_in_thread(work, done, failed)

    def _keep_holds(self, states: Mapping[str, str]) -> None:
        """Holds last ``hold_minutes``: the cart's are taken again when half of that has gone, and
        at once when one has lapsed (the seat is free again for everybody). Seats of the cart not
        held yet (a hold that failed) are tried again."""
        if self.syncing:
            return
        lapsed = {sid for sid in self.held if states.get(sid, "free") == "free"}
        minutes = int(getattr(getattr(self.sales, "settings", None), "hold_minutes", 0) or 10)
        old = self.held_since is not None and time.monotonic() - self.held_since > minutes * 30
        if lapsed or (old and self.held):
            self.held -= lapsed
            self.renew = True
        if self.renew or self.release_all or set(self.canvas.selected_ids) != self.held:
            self._sync_holds()

    def apply_states(self, changed: Mapping[str, str]) -> None:
        """Show the states the sales service reported. A seat held with this tab's token that is
        no longer wanted (its release on the way) does not jump back into the selection."""
        if not changed:
            return
        wanted = set(self.canvas.selected_ids)
        shown: dict[str, str] = {}
        for seat_id, state in changed.items():
            if state == "mine" and seat_id not in wanted and self.canvas.state_of(seat_id) != "mine":
                state = "free"
            if self.outcome_unknown and seat_id in wanted and state in ("sold", "held"):
                continue        # maybe sold by the order whose answer was lost: the cart stays for the retry
            shown[seat_id] = state
        self.view.set_states(shown)

    # ------------------------------------------------------------------ seats and holds

    def _on_select(self, seat_ids: list[str]) -> None:
        """The operator changed the selection (or a selected seat was taken): the cart follows,
        the holds follow, the prices are worked out again."""
        wanted = list(seat_ids)
        self.line_types = {sid: self.line_types.get(sid) or self.default_type for sid in wanted}
        self._show_cart()
        self._request_quote()
        self._sync_holds()
        self._set_enabled()

    def _sync_holds(self) -> None:
        """Make the holds match the selection: one call at a time, releases first."""
        if self.syncing or self.session is None:
            return
        wanted = set(self.canvas.selected_ids)
        renew = self.renew and bool(wanted)
        to_hold = sorted(wanted if renew else wanted - self.held, key=lambda s: self.canvas.cell_of(s) or (0, 0))
        to_release = sorted(self.held - wanted)
        release_all = self.release_all
        self.renew = False
        if not (to_hold or to_release or release_all):
            return
        self.syncing = True
        self.release_all = False
        code, generation = self.session["code"], self.session_generation
        sales, actor, token = self.sales, self.actor, self.hold_token

        def work() -> BaseException | None:
            if release_all:
                sales.release(actor, session_code=code, token=token)
            elif to_release:
                sales.release(actor, session_code=code, token=token, seat_ids=to_release)
            if to_hold:
                try:
                    sales.hold(actor, session_code=code, seat_ids=to_hold, token=token)
                except SuiteError as exc:
                    return exc
            return None

        def finish(again: bool = True) -> None:
            self.syncing = False
            self.sync_epoch += 1
            if not self.winfo_exists():
                return
            if generation != self.session_generation:     # another session since: let this one go
                self._release_everything(code)
                again = True
            if again:           # the selection may have moved on meanwhile (after a failure: at the next change)
                self._sync_holds()

        def done(refused: BaseException | None) -> None:
            if self.winfo_exists() and generation == self.session_generation:
                self.held -= set(to_release)
                if release_all:
                    self.held = set()
                if refused is None:
                    if renew or not self.held:
                        self.held_since = time.monotonic()
                    self.held |= set(to_hold)
                else:
                    self._hold_refused(refused, to_hold)
                if not self.held:
                    self.held_since = None
            finish()

        def failed(exc: BaseException) -> None:
            if self.winfo_exists() and generation == self.session_generation:
                if not isinstance(exc, SuiteError):
                    log.error("holding seats failed", exc_info=exc)
                self.message.error(exc)
                if release_all:
                    self.release_all = True             # tried again with the next change
            finish(again=False)

        self.context.run_in_thread(work, done, failed)

    def _hold_refused(self, exc: BaseException, tried: list[str]) -> None:
        """A seat picked was taken meanwhile (or the session cannot sell): those seats leave the
        selection, the refusal shows, the map is read again."""
        seats = exc.details.get("seats") if isinstance(exc, SuiteError) else None
        taken = {str(s) for s in seats} if isinstance(seats, list) and seats else set(tried)
        keep = [sid for sid in self.canvas.selected_ids if sid not in taken]
        self.canvas.select(keep)
        self.view.set_states({})            # the information line follows the selection
        self.line_types = {sid: self.line_types.get(sid) or self.default_type for sid in keep}
        self._show_cart()
        self._request_quote()
        self.message.error(exc)
        self._set_enabled()
        self.refresh_states()

    def _release_everything(self, code: str) -> None:
        """Let go of every seat this tab holds in session ``code`` (off the Tk thread)."""
        sales, actor, token = self.sales, self.actor, self.hold_token

        def failed(exc: BaseException) -> None:
            log.warning("holds of %s not released: %s", code, exc)

        self.context.run_in_thread(lambda: sales.release(actor, session_code=code, token=token), None, failed)

    # ------------------------------------------------------------------ the cart

    def _cart_lines(self) -> list[dict[str, str]]:
        return [{"seat_id": sid, "ticket_type": self.line_types.get(sid) or self.default_type}
                for sid in self.canvas.selected_ids]

    def _show_cart(self) -> None:
        tree = self.cart_tree
        selected = set(tree.selection())
        tree.delete(*tree.get_children())
        prices = self._quoted_prices()
        for n, line in enumerate(self._cart_lines()):
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
        self.cart_count.configure(text=ngettext("{n} ticket", "{n} tickets", count).format(n=count) if count else "")
        self._show_type_choice()
        self._show_totals()

    def _show_type_choice(self) -> None:
        lines = self.cart_tree.selection() or tuple(self.line_types)
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
        if not code or self.busy:
            return
        lines = self.cart_tree.selection() or tuple(self.line_types)
        changed = False
        for sid in lines:
            if sid in self.line_types and self.line_types[sid] != code:
                self.line_types[sid] = code
                changed = True
        if changed:
            self._show_cart()
            self._request_quote()

    # ------------------------------------------------------------------ prices

    def _quote_key(self) -> tuple[Any, ...]:
        lines = tuple((line["seat_id"], line["ticket_type"]) for line in self._cart_lines())
        return (self.session["code"] if self.session else "", lines, self.payment.card_no)

    def _quote_current(self) -> bool:
        return self.quote is not None and self.quote_for == self._quote_key()

    def _quoted_prices(self) -> dict[str, int]:
        """The current quote's prices (emptied by every change of the cart or the card, so the map's
        hover and selection line never build it again per seat)."""
        return self.quoted_prices

    def _price_of(self, seat: Mapping[str, Any]) -> int | None:
        """The map's hover price: the cart's price for a seat in the cart, else the list price of
        the default ticket type in the seat's zone."""
        seat_id = str(seat.get("id", ""))
        quoted = self._quoted_prices().get(seat_id)
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

    def _request_quote(self) -> None:
        self.quote_error = ""
        self.quoted_prices = {}
        self.quoting += 1           # a quote on its way is for the cart as it was: moot
        self._schedule("quote", QUOTE_DELAY_MS, self._quote)

    def _quote(self) -> None:
        self._cancel_timer("quote")
        key = self._quote_key()
        self.quoting += 1
        generation = self.quoting
        self.quoted_prices = {}
        if not key[1] or self.session is None:
            self.quote = self.quote_for = None
            self._show_cart()
            return
        sales, actor = self.sales, self.actor
        lines = [{"seat_id": sid, "ticket_type": code} for sid, code in key[1]]

        def done(quote: dict[str, Any]) -> None:
            if generation != self.quoting or not self.winfo_exists():
                return
            self.quote, self.quote_for, self.quote_error = quote, key, ""
            self.quoted_prices = {str(line["seat_id"]): int(line["price"]) for line in quote.get("lines", [])}
            self._show_cart()
            self._refresh_hover()
            self._set_enabled()
            if self.message.kind == "info" and self.message.text == _("Working out the prices…"):
                self.message.clear()
            if self.confirm_waiting:
                self.confirm_waiting = False
                self.confirm()

        def failed(exc: BaseException) -> None:
            if generation != self.quoting or not self.winfo_exists():
                return
            self.quote, self.quote_for = None, None
            self.quoted_prices = {}
            self.quote_error = error_text(exc)
            self.confirm_waiting = False
            self.message.error(exc)
            self._show_cart()
            self._set_enabled()

        self.context.run_in_thread(lambda: sales.quote(actor, session_code=key[0], lines=lines, card_no=key[2]),
                                   done, failed)

    def _total(self) -> int | None:
        return int(self.quote["total"]) if self._quote_current() and self.quote is not None else None

    def _show_totals(self) -> None:
        total = self._total()
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
        self._payment_changed()

    def _payment_changed(self) -> None:
        total = self._total()
        if not self.line_types or total is None:
            self.payment.show_plan(None)
        else:
            self.payment.show_plan(self.payment.plan(total))

    # ------------------------------------------------------------------ the card

    def on_card_presented(self, event: CardPresented) -> None:
        """A card on the reader while this tab is on screen: it pays (found by its chip)."""
        if self.wallet is None or not self._on_screen() or self.busy:
            return
        wallet, actor, uid = self.wallet, self.actor, event.uid
        self._find_card(lambda: wallet.find_card(actor, uid=uid))

    def look_up_card(self, number: str) -> None:
        """A card number typed and Enter."""
        if self.wallet is None or self.busy:
            return
        wallet, actor = self.wallet, self.actor
        self._find_card(lambda: wallet.query(actor, number))

    def _find_card(self, work: Callable[[], dict[str, Any]]) -> None:
        self.card_generation += 1
        generation = self.card_generation
        self.message.show(_("Looking up the card…"))

        def done(card: dict[str, Any]) -> None:
            if generation != self.card_generation or not self.winfo_exists():
                return
            self.message.clear()
            self.payment.show_card(card, self._card_notice(card))
            self._request_quote()            # the card's member tier is in the prices
            self._show_totals()
            self._set_enabled()

        def failed(exc: BaseException) -> None:
            if generation == self.card_generation and self.winfo_exists():
                self.message.error(exc)

        self.context.run_in_thread(work, done, failed)

    @staticmethod
    def _card_notice(card: Mapping[str, Any]) -> str:
        try:
            from plugins.wallet.ui.display import refusal_notice
        except ImportError:      # pragma: no cover - the wallet's screens are not installed
            return ""
        return refusal_notice(card) or ""

    def _card_cleared(self) -> None:
        self._request_quote()
        self._show_totals()
        self._set_enabled()

    # ------------------------------------------------------------------ the sale

    def _set_enabled(self) -> None:
        ready = self.session is not None and bool(self.line_types) and not self.busy
        self.confirm_button.state(["!disabled"] if ready else ["disabled"])
        self.cancel_button.state(["disabled"] if self.busy else ["!disabled"])
        self.type_choice.state(["disabled"] if self.busy or not self.line_types else ["!disabled", "readonly"])
        for button in (self.prev_button, self.next_button, self.today_button):
            button.state(["disabled"] if self.busy else ["!disabled"])
        can_reprint = self.order is not None and not self.printing and (self.can_reprint or bool(self.queued_jobs))
        self.reprint_button.state(["!disabled"] if can_reprint else ["disabled"])

    def confirm(self) -> None:
        """Enter: sell the cart with the payment filled in, under the pending order's key."""
        if self.busy:
            return              # a second Enter while the first is on its way changes nothing
        if self.session is None:
            self.message.error(_("Pick a session first."))
            return
        lines = self._cart_lines()
        if not lines:
            self.message.error(_("Pick the seats on the map first."))
            return
        if not self._quote_current():
            self.confirm_waiting = True          # sold as soon as the prices are in
            self.message.show(_("Working out the prices…"))
            self._quote()
            return
        total = self._total()
        assert total is not None
        plan = self.payment.plan(total)
        problem = plan.problem()
        if problem:
            self.message.error(problem)
            return
        if self.pending is None:
            self.pending = Pending(f"box-{uuid.uuid4()}")
        self._sell(self.pending, lines, plan)

    def _sell(self, pending: Pending, lines: list[dict[str, str]], plan: PaymentPlan) -> None:
        assert self.session is not None
        code, generation = self.session["code"], self.session_generation
        sales, actor, token = self.sales, self.actor, self.hold_token
        payments = [dict(t) for t in plan.tenders]
        self.busy = True
        self._set_enabled()
        self.message.show(_("Selling…"))

        def work() -> dict[str, Any]:
            return sales.sell(actor, session_code=code, lines=lines, payments=payments, key=pending.key,
                              hold_token=token)

        def done(result: dict[str, Any]) -> None:
            self.busy = False
            if not self.winfo_exists():
                return
            if self.pending is pending:
                self.pending = None         # done: the next order gets a new key
            self.outcome_unknown = False
            self._sold(result, plan, generation)

        def failed(exc: BaseException) -> None:
            self.busy = False
            if not self.winfo_exists():
                return
            if not isinstance(exc, SuiteError):
                log.error("the sale failed", exc_info=exc)
            text = error_text(exc)
            self.outcome_unknown = not isinstance(exc, SuiteError) or isinstance(exc, DatabaseUnavailable)
            if self.outcome_unknown:
                text += " " + _("Press Enter to try again: an order is never sold twice.")
            elif isinstance(exc, SeatTaken):
                text += " " + _("Choose other seats and confirm again.")
                self.refresh_states()
            self.message.error(text)        # the key is kept: Enter again retries the same order
            self._set_enabled()

        self.context.run_in_thread(work, done, failed)

    def _sold(self, result: dict[str, Any], plan: PaymentPlan, generation: int) -> None:
        if generation == self.session_generation:
            self.held = set()               # the seats are sold: nothing to release
            cart = set(self.canvas.selected_ids)
            self.view.set_states({sid: "sold" for sid in cart})    # they leave the selection and the cart
            self.canvas.clear_selection()
            self.line_types = {}
            self.quote = self.quote_for = None
            self.quoted_prices = {}
            self._show_cart()
        self.last_change = plan.change if not result.get("replayed") else 0
        self.payment.clear()
        self.order = result
        self.queued_jobs = []
        self._show_order()
        count = len(result.get("tickets", []))
        if result.get("replayed"):
            self.message.ok(_("This order had already gone through: nothing was charged again."))
        else:
            self.message.ok(ngettext("Sold: {n} ticket, {total}.", "Sold: {n} tickets, {total}.", count).format(
                n=count, total=yuan(int(result.get("total") or 0))))
        self._set_enabled()
        self.print_order(result)
        self.load_sessions()
        self.refresh_states()

    def _show_order(self) -> None:
        order = self.order
        if order is None:
            self.order_head.configure(text=_("No order yet"))
            self.order_text.configure(text="")
            self.change_label.configure(text="")
            self.print_message.show(_("The last order sold here shows here, with Reprint."))
            return
        tickets = order.get("tickets", [])
        titles = {"cash": _("cash"), "wallet": _("card"), "voucher": _("voucher")}
        paid = ", ".join(f"{titles.get(p['method'], p['method'])} {yuan(int(p['amount']))}"
                         for p in order.get("payments", []))
        self.order_head.configure(text=_("Order {number}").format(number=order.get("order", "")))
        self.order_text.configure(text=" · ".join((
            ngettext("{n} ticket", "{n} tickets", len(tickets)).format(n=len(tickets)),
            _("paid {total}: {payments}").format(total=yuan(int(order.get("total") or 0)), payments=paid))))
        self.change_label.configure(text=_("Change {amount}").format(amount=yuan(self.last_change))
                                    if self.last_change else "")

    # ------------------------------------------------------------------ printing

    def _print_on_the_ticket_printer(self, tickets: Sequence[Mapping[str, Any]], reprint: bool = False) -> Any:
        from plugins.tickets.faces import print_tickets

        return print_tickets(self.app, tickets, reprint=reprint)

    def print_order(self, order: Mapping[str, Any]) -> None:
        """The tickets on the ticket printer, then the order's receipt on the receipt printer (a
        receipt that cannot print is said in the message; the tickets and the sale stand)."""
        tickets = [dict(t) for t in order.get("tickets", [])]
        if not tickets:
            return
        printer, app, actor = self.printer, self.app, self.actor

        def work() -> Any:
            result = printer(tickets, False)
            from plugins.tickets.receipt import order_receipt
            from plugins.wallet.receipt import print_receipt

            try:
                print_receipt(app, order_receipt(app, actor, order))
            except SuiteError as exc:
                return {**(result if isinstance(result, Mapping) else {}), "receipt_error": error_text(exc)}
            return result

        self._print(work)

    def reprint(self) -> None:
        """The last order's tickets again: the ones waiting in the printer's queue when the first
        print failed (exactly those, unmarked), else every ticket once more, marked REPRINT
        (``SalesService.reprint``, audited)."""
        if self.order is None or self.printing:
            return
        app, jobs = self.app, list(self.queued_jobs)
        if jobs:
            def work() -> Any:
                from plugins.tickets.faces import open_device, ticket_printer_id
                from plugins.tickets.settings import settings_of

                device_id = ticket_printer_id(app, (settings_of(app).ticket_printer,))
                with open_device(app, device_id) as device:
                    for job in list(jobs):
                        device.reprint(job)
                        jobs.remove(job)
                return {"printer": device_id, "printed": [], "queued_done": True}

            def forget_done(result: Any) -> Any:
                self.queued_jobs = []
                return result

            self._print(work, before_done=forget_done, remaining=jobs)
            return
        if not self.can_reprint:
            return
        sales, actor, printer = self.sales, self.actor, self.printer
        serials = [str(t["serial"]) for t in self.order.get("tickets", [])]

        def again() -> Any:
            return printer(sales.reprint(actor, serials=serials, reason=_("reprint at the box office")), True)

        self._print(again)

    def _print(self, work: Callable[[], Any], *, before_done: Callable[[Any], Any] | None = None,
               remaining: list[int] | None = None) -> None:
        self.printing = True
        self._set_enabled()
        self.print_message.show(_("Printing the tickets…"))

        def done(result: Any) -> None:
            self.printing = False
            if before_done is not None:
                result = before_done(result)
            if not self.winfo_exists():
                return
            printer = (result or {}).get("printer", "") if isinstance(result, Mapping) else ""
            receipt_error = (result or {}).get("receipt_error") if isinstance(result, Mapping) else None
            if receipt_error:
                self.print_message.error(" ".join((_("Tickets printed ({printer}).").format(printer=printer),
                                                   _("No receipt:"), receipt_error)))
            else:
                self.print_message.ok(_("Tickets printed ({printer}).").format(printer=printer))
            self._set_enabled()

        def failed(exc: BaseException) -> None:
            self.printing = False
            if not self.winfo_exists():
                return
            if remaining is not None:
                self.queued_jobs = list(remaining)
            else:
                details = exc.details if isinstance(exc, SuiteError) else {}
                ids = details.get("job_ids") if isinstance(details, Mapping) else None
                self.queued_jobs = [int(i) for i in ids] if isinstance(ids, list) else []
            if not isinstance(exc, SuiteError):
                log.error("printing the tickets failed", exc_info=exc)
            from plugins.tickets.faces import NoTicketPrinter

            if isinstance(exc, NoTicketPrinter):
                self.print_message.error(" ".join((error_text(exc), _("The sale stands."))))
            else:
                self.print_message.error(" ".join((error_text(exc), _("The sale stands: press Reprint once the "
                                                                      "printer is ready."))))
            self._set_enabled()

        self.context.run_in_thread(work, done, failed)

    # ------------------------------------------------------------------ cancel

    def cancel(self) -> None:
        """Esc: the seats are let go, the cart and the payment emptied, the pending order's key
        forgotten."""
        if self.busy:
            return
        had = bool(self.line_types or self.pending or self.payment.card is not None)
        self.pending = None
        self.outcome_unknown = False
        self.confirm_waiting = False
        self.canvas.clear_selection()
        self.view.set_states({})
        self.line_types = {}
        self.quote = self.quote_for = None
        self.quoted_prices = {}
        self.quote_error = ""
        self.payment.clear()
        self.release_all = self.session is not None
        self._show_cart()
        self._sync_holds()
        self._set_enabled()
        if had:
            self.message.show(_("Cancelled: the seats are free again."))
        else:
            self.message.clear()

    # ------------------------------------------------------------------ teardown

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is not self:
            return
        for name in list(self._after):
            self._cancel_timer(name)
        if self.session is not None and (self.held or self.syncing):
            self._release_everything(self.session["code"])


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``tickets.boxoffice``."""
    return BoxOfficeTab(parent, context)


__all__ = ["BoxOfficeTab", "Pending", "build_tab", "default_type", "session_state", "states_changed"]
