"""Self pickup at a kiosk (T6): big and simple, for customers.

The customer types the pickup code or the phone number on the on-screen keypad (or a
keyboard), or holds the code's QR under the scanner (``ScanEvent``): the screen lists the
tickets waiting (programme, day and time, ticket type and how many), and *Print my tickets*
redeems each code on the best available seats and sends the tickets to the ticket printer
(``plugins.tickets.faces.print_tickets``). A code good for any session, a used or void code,
a session that is over: the refusal shows in red, in the customer's language, and nothing
is taken. After ``IDLE_SECONDS`` without a key, a touch or a scan the screen clears itself,
so the next customer never sees the last one's tickets.

The codes found are redeemed together (``RedemptionService.redeem_together``): the tickets of
one session side by side, each code under its own key, so a retry after a lost answer, or the
same code at the counter afterwards, finds the first order instead of making a second one.
"""

from __future__ import annotations

import datetime as dt
import tkinter as tk
from collections.abc import Callable, Mapping, Sequence
from tkinter import ttk
from typing import Any

from suite.errors import SuiteError
from suite.events import ScanEvent
from suite.i18n import _
from suite.ui.theme import PALETTE
from suite.ui.widgets import MessageBar, Timer, error_text, release_variables

from plugins.tickets.redemption import face_data

IDLE_SECONDS = 45
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back")
MAX_TYPED = 32


def ensure_styles(widget: tk.Misc) -> None:
    """The kiosk's styles, on the suite's theme: everything a size or two bigger."""
    p = PALETTE
    style = ttk.Style(widget)
    style.configure("Kiosk.TFrame", background=p.window)
    style.configure("KioskTitle.TLabel", background=p.window, foreground=p.text, font="VSHuge")
    style.configure("KioskPrompt.TLabel", background=p.window, foreground=p.muted, font="VSLarge")
    style.configure("KioskKey.TButton", font="VSTitle", padding=(6, 9))
    style.configure("KioskGo.TouchAccent.TButton", font="VSTitle", padding=(14, 10))
    style.configure("KioskCancel.Touch.TButton", font="VSTitle", padding=(14, 10))
    style.configure("KioskEntry.TEntry", padding=(10, 6))
    style.configure("KioskHead.TLabel", background=p.surface, foreground=p.text, font="VSTitle")
    style.configure("KioskLine.TLabel", background=p.surface, foreground=p.text, font="VSLarge")
    style.configure("KioskMuted.TLabel", background=p.surface, foreground=p.muted, font="VSLarge")
    style.configure("KioskDone.TLabel", background=p.success_soft, foreground=p.success, font="VSTitle",
                    padding=(14, 10))
    style.configure("KioskMessage.TLabel", font="VSLargeBold")


def _when(code: Mapping[str, Any]) -> str:
    if code.get("date"):
        return f"{code['date']} {code.get('time', '')}".strip()
    return _("any session")


def code_line(code: Mapping[str, Any]) -> str:
    """One code as the kiosk lists it: ``The River · 2026-07-10 19:30 · Adult × 2``."""
    what = code.get("programme") or code.get("session") or ""
    parts = [p for p in (what, _when(code), f"{code.get('ticket_type_name', '')} × {code.get('quantity', 1)}") if p]
    return " · ".join(parts)


def ticket_line(ticket: Mapping[str, Any], zone: Any = None) -> str:
    """One printed ticket: ``The River · 2026-07-10 19:30 · Hall 1 · Row 3 Seat 4``."""
    when = f"{ticket.get('date', '')} {ticket.get('time', '')}".strip()
    if not when and ticket.get("starts_at") and zone is not None:
        when = dt.datetime.fromisoformat(ticket["starts_at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    seat = _("Row {row} Seat {seat}").format(row=ticket["row"], seat=ticket["seat"]) if ticket.get("row") else ""
    parts = [ticket.get("programme", ""), when, ticket.get("hall_name") or ticket.get("hall", ""), seat]
    return " · ".join(p for p in parts if p)


class KioskTab(ttk.Frame):
    """The self-pickup screen. ``service``: a ``RedemptionService`` (default: the app's);
    ``printer``: ``print(tickets_face_data) -> result`` (default: the terminal's ticket printer)."""

    def __init__(self, parent: tk.Misc, context: Any, *, service: Any = None,
                 printer: Callable[[Sequence[Mapping[str, Any]]], Any] | None = None,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        super().__init__(parent, padding=(18, 12, 18, 10), style="Kiosk.TFrame")
        self.context = context
        self.app = context.app
        self.actor = context.actor
        if service is None:
            from plugins.tickets.redemption import RedemptionService

            service = RedemptionService.from_app(self.app)
        self.service = service
        self.printer = printer or self._print_on_the_ticket_printer
        self.idle_ms = int(idle_seconds * 1000)
        self.generation = 0
        self.state = "idle"       # idle, looking, found, printing, done
        self.found: list[dict[str, Any]] = []
        self.result: dict[str, Any] | None = None
        self._idle_timer = Timer(self, self._idle)
        ensure_styles(self)
        self._build()
        self.clear()
        context.subscribe(ScanEvent, self.on_scan)
        for sequence in ("<Key>", "<Button>"):
            self._bind_tree(self, sequence)
        self.bind("<Destroy>", self._on_destroy, add="+")

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.columnconfigure(0, weight=0)
        self.columnconfigure(1, weight=1)
        self.rowconfigure(1, weight=1)
        head = ttk.Frame(self, style="Kiosk.TFrame")
        head.grid(row=0, column=0, columnspan=2, sticky="ew", pady=(0, 10))
        ttk.Label(head, text=_("Pick up your tickets"), style="KioskTitle.TLabel").pack(anchor="w")
        ttk.Label(head, text=_("Type your pickup code or phone number, or hold the QR code under the scanner."),
                  style="KioskPrompt.TLabel").pack(anchor="w", pady=(2, 0))

        pad = ttk.Frame(self, style="Kiosk.TFrame")
        pad.grid(row=1, column=0, sticky="nsw", padx=(0, 18))
        self.typed = tk.StringVar(self)
        self.entry = ttk.Entry(pad, textvariable=self.typed, style="KioskEntry.TEntry", font="VSTitle", width=16,
                               justify="center")
        self.entry.grid(row=0, column=0, columnspan=3, sticky="ew", pady=(0, 6))
        self.entry.bind("<Return>", lambda e: self.look_up() or "break")
        self.entry.bind("<KP_Enter>", lambda e: self.look_up() or "break")
        self.entry.bind("<Escape>", lambda e: self.clear() or "break")
        self.typed.trace_add("write", lambda *_a: self._typed_changed())
        self.keys: dict[str, ttk.Button] = {}
        titles = {"clear": _("Clear"), "back": "⌫"}
        for index, key in enumerate(KEYS):
            button = ttk.Button(pad, text=titles.get(key, key), style="KioskKey.TButton", width=4,
                                command=lambda k=key: self.press(k), takefocus=False)
            button.grid(row=1 + index // 3, column=index % 3, sticky="nsew", padx=2, pady=2)
            self.keys[key] = button
        self.find_button = ttk.Button(pad, text=_("Find my tickets"), style="KioskGo.TouchAccent.TButton",
                                      command=self.look_up, takefocus=False)
        self.find_button.grid(row=5, column=0, columnspan=3, sticky="ew", pady=(6, 0))

        panel = ttk.Frame(self, style="Card.TFrame", padding=(20, 16))
        panel.grid(row=1, column=1, sticky="nsew")
        panel.columnconfigure(0, weight=1)
        panel.rowconfigure(1, weight=1)
        self.panel_title = ttk.Label(panel, style="KioskHead.TLabel")
        self.panel_title.grid(row=0, column=0, sticky="w")
        self.lines_frame = ttk.Frame(panel, style="Surface.TFrame")
        self.lines_frame.grid(row=1, column=0, sticky="nsew", pady=(10, 10))
        self.done_label = ttk.Label(panel, style="KioskDone.TLabel")
        self.done_label.bind("<Configure>", lambda e: self.done_label.configure(wraplength=max(200, e.width - 30)))
        self.lines_frame.bind("<Configure>", lambda e: self._wrap_lines(e.width))
        buttons = ttk.Frame(panel, style="Surface.TFrame")
        buttons.grid(row=3, column=0, sticky="ew")
        buttons.columnconfigure(0, weight=1)
        buttons.columnconfigure(1, weight=1)
        self.print_button = ttk.Button(buttons, text=_("Print my tickets"), style="KioskGo.TouchAccent.TButton",
                                       command=self.take, takefocus=False)
        self.print_button.grid(row=0, column=0, sticky="ew", padx=(0, 8))
        self.cancel_button = ttk.Button(buttons, text=_("Start again"), style="KioskCancel.Touch.TButton",
                                        command=self.clear, takefocus=False)
        self.cancel_button.grid(row=0, column=1, sticky="ew")
        self.message = MessageBar(self)
        self.message.configure(font="VSLargeBold")
        self.message.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(8, 0))
        self.footer = ttk.Label(self, style="Muted.TLabel", text=_(
            "This screen clears itself after {seconds} seconds without use.").format(
            seconds=max(1, self.idle_ms // 1000)))
        self.footer.grid(row=3, column=0, columnspan=2, sticky="w", pady=(6, 0))

    def _bind_tree(self, widget: tk.Misc, sequence: str) -> None:
        widget.bind(sequence, lambda e: self.touch(), add="+")
        for child in widget.winfo_children():
            self._bind_tree(child, sequence)

    def _set_lines(self, lines: Sequence[tuple[str, str]]) -> None:
        for child in self.lines_frame.winfo_children():
            child.destroy()
        for text, style in lines:
            label = ttk.Label(self.lines_frame, text=text, style=style, justify="left",
                              wraplength=max(240, self.lines_frame.winfo_width() - 10))
            label.pack(anchor="w", pady=3)

    def _wrap_lines(self, width: int) -> None:
        for child in self.lines_frame.winfo_children():
            child.configure(wraplength=max(240, width - 10))

    # ------------------------------------------------------------------ input

    def press(self, key: str) -> None:
        """A key of the on-screen keypad."""
        self.touch()
        if self.state in ("looking", "printing"):
            return
        if self.state in ("found", "done"):
            self._back_to_typing()
        if key == "clear":
            self.typed.set("")
        elif key == "back":
            self.typed.set(self.typed.get()[:-1])
        elif len(self.typed.get()) < MAX_TYPED:
            self.typed.set(self.typed.get() + key)

    def _typed_changed(self) -> None:
        if len(self.typed.get()) > MAX_TYPED:
            self.typed.set(self.typed.get()[:MAX_TYPED])

    def on_scan(self, event: ScanEvent) -> None:
        """A QR code under the scanner: the pickup code it holds is looked up at once."""
        if not self.winfo_exists() or not self.winfo_viewable() or self.state in ("looking", "printing"):
            return
        data = (event.data or "").strip()
        if not data:
            return
        self.typed.set(data[:MAX_TYPED])
        self.look_up()

    # ------------------------------------------------------------------ looking up

    def look_up(self) -> None:
        query = self.typed.get().strip()
        self.touch()
        if self.state in ("looking", "printing"):
            return
        if self.state in ("found", "done"):
            self._back_to_typing()   # the last customer's tickets go before anything else shows
        if not query:
            self.message.error(_("Type your pickup code or phone number."))
            return
        self.generation += 1
        generation = self.generation
        self.state = "looking"
        self._buttons()
        self.message.show(_("Looking for your tickets…"))
        service, actor = self.service, self.actor

        def done(found: dict[str, Any]) -> None:
            if generation == self.generation and self.winfo_exists():
                self.show_found(found)

        def failed(exc: BaseException) -> None:
            if generation == self.generation and self.winfo_exists():
                self.state = "idle"
                self._buttons()
                self.message.error(error_text(exc))

        self.context.run_in_thread(lambda: service.find(actor, query), done, failed)

    def show_found(self, found: Mapping[str, Any]) -> None:
        self.found = list(found.get("codes") or [])
        self.state = "found"
        total = sum(int(c.get("quantity") or 0) for c in self.found)
        self.panel_title.configure(text=_("1 ticket to pick up") if total == 1 else _(
            "{n} tickets to pick up").format(n=total))
        lines = [(code_line(c), "KioskLine.TLabel") for c in self.found]
        if any(not c.get("session") for c in self.found):
            lines.append((_("A code good for any session is exchanged at the counter."), "KioskMuted.TLabel"))
        self._set_lines(lines)
        self.done_label.grid_remove()
        self.message.show(_("Press Print my tickets."))
        self._buttons()
        self.touch()

    # ------------------------------------------------------------------ taking

    def take(self) -> None:
        """Redeem every code shown (on the best available seats) and print the tickets."""
        self.touch()
        if self.state != "found":
            return
        codes = [c for c in self.found if c.get("session")]
        if not codes:
            self.message.error(_("These tickets are exchanged at the counter: please ask there."))
            return
        self.generation += 1
        generation = self.generation
        self.state = "printing"
        self._buttons()
        self.message.show(_("Printing your tickets…"))
        service, actor, printer = self.service, self.actor, self.printer

        def work() -> dict[str, Any]:
            taken = service.redeem_together(actor, codes=[code["code"] for code in codes])
            orders: list[dict[str, Any]] = taken["orders"]
            refused = [r["message"] for r in taken["refused"]]
            tickets = [face_data(t, notice=_("Picked up with code {code}").format(code=o["redemption"]["code"]))
                       for o in orders for t in o["tickets"]]
            printed, not_printed = None, ""
            if tickets:
                try:
                    printed = printer(tickets)
                except SuiteError as exc:
                    not_printed = exc.message
            return {"orders": orders, "refused": refused, "printed": printed, "not_printed": not_printed}

        def done(result: dict[str, Any]) -> None:
            if generation == self.generation and self.winfo_exists():
                self.show_done(result)

        def failed(exc: BaseException) -> None:
            if generation == self.generation and self.winfo_exists():
                self.state = "found"
                self._buttons()
                self.message.error(error_text(exc))

        self.context.run_in_thread(work, done, failed)

    def show_done(self, result: dict[str, Any]) -> None:
        self.result = result
        self.state = "done"
        tickets = [t for o in result["orders"] for t in o["tickets"]]
        self.panel_title.configure(text=_("Here is your ticket") if len(tickets) == 1 else _(
            "Here are your {n} tickets").format(n=len(tickets)))
        zone = getattr(getattr(self.service, "settings", None), "zone", None)
        self._set_lines([(ticket_line(t, zone), "KioskLine.TLabel") for t in tickets])
        problems = list(result["refused"])
        if result["not_printed"]:
            problems.append(_("Your tickets are booked but were not printed: please ask at the counter. {reason}")
                            .format(reason=result["not_printed"]))
        if tickets and not result["not_printed"]:
            self.done_label.configure(text=_("Please take your tickets from the printer. Enjoy the show!"))
            self.done_label.grid(row=2, column=0, sticky="ew", pady=(0, 10))
        else:
            self.done_label.grid_remove()
        if problems:
            self.message.error(" ".join(problems))
        else:
            self.message.ok(_("1 ticket printed.") if len(tickets) == 1 else _(
                "{n} tickets printed.").format(n=len(tickets)))
        self.typed.set("")
        self._buttons()
        self.touch()

    def _print_on_the_ticket_printer(self, tickets: Sequence[Mapping[str, Any]]) -> Any:
        from plugins.tickets.faces import print_tickets

        return print_tickets(self.app, tickets)

    # ------------------------------------------------------------------ states

    def _buttons(self) -> None:
        busy = self.state in ("looking", "printing")
        for button in (*self.keys.values(), self.find_button):
            button.state(["disabled"] if busy else ["!disabled"])
        self.print_button.state(["!disabled"] if self.state == "found" else ["disabled"])
        self.cancel_button.state(["disabled"] if busy else ["!disabled"])
        if self.state == "found":
            self.print_button.grid()
            self.cancel_button.grid_configure(column=1, columnspan=1)
        elif self.state in ("idle", "done"):
            self.print_button.grid_remove()
            self.cancel_button.grid_configure(column=0, columnspan=2)

    def _back_to_typing(self) -> None:
        self.generation += 1
        self.state = "idle"
        self.found, self.result = [], None
        self.panel_title.configure(text=_("Your tickets will show here."))
        self._set_lines([(_("1. Type the code from your message, or your phone number."), "KioskMuted.TLabel"),
                         (_("2. Check the tickets found and press Print my tickets."), "KioskMuted.TLabel"),
                         (_("3. Take your tickets from the printer."), "KioskMuted.TLabel")])
        self.done_label.grid_remove()
        self.message.clear()
        self._buttons()

    def clear(self) -> None:
        """Back to the start: nothing typed, nothing shown."""
        self._idle_timer.cancel()
        self.typed.set("")
        self._back_to_typing()

    # ------------------------------------------------------------------ idle

    def touch(self) -> None:
        """Activity: the screen clears itself ``idle_ms`` after the last one."""
        self._idle_timer.start(self.idle_ms)

    def _idle(self) -> None:
        if self.state in ("looking", "printing"):
            self.touch()          # never clear under a customer whose tickets are on their way
            return
        self.clear()

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            self._idle_timer.cancel()
            release_variables(self)


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``tickets.kiosk``."""
    return KioskTab(parent, context)


__all__ = ["IDLE_SECONDS", "KioskTab", "build_tab", "code_line", "ticket_line"]
