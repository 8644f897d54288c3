"""The last order sold at the sale screen (``plugins.tickets.ui.boxoffice``): the strip under the
map saying what was paid, the change and how the printing went, with *Reprint*
(``OrderStrip``), and the printing itself (``TicketPrinting``): the tickets on the ticket
printer (``faces.print_tickets``), then the order's receipt on the receipt printer."""

from __future__ import annotations

import logging
import tkinter as tk
from collections.abc import Callable, Mapping, Sequence
from tkinter import ttk
from typing import TYPE_CHECKING, Any

from suite.errors import SuiteError
from suite.i18n import _, ngettext
from suite.ui.theme import PALETTE
from suite.ui.widgets import MessageBar, error_text

from plugins.tickets.ui.payment import yuan

if TYPE_CHECKING:
    from plugins.tickets.ui.boxoffice import BoxOfficeTab

log = logging.getLogger(__name__)

Printer = Callable[[Sequence[Mapping[str, Any]], bool], Any]


class PrintLine(MessageBar):
    """The printing line of the order strip (on its white surface)."""

    STYLES = {"info": "BoxPrintInfo.TLabel", "ok": "BoxPrintOk.TLabel", "error": "BoxPrintError.TLabel"}


class OrderStrip(ttk.Frame):
    """The last order sold here: its number, its tickets and payments, the change, the printing
    line and *Reprint* (``on_reprint()``)."""

    def __init__(self, parent: tk.Misc, *, on_reprint: Callable[[], Any]) -> None:
        super().__init__(parent, style="Card.TFrame", padding=(8, 4))
        self._styles()
        self.columnconfigure(1, weight=1)
        self.head = ttk.Label(self, style="BoxOrderHead.TLabel", anchor="w")
        self.head.grid(row=0, column=0, sticky="w", padx=(0, 8))
        self.text = ttk.Label(self, style="BoxOrder.TLabel", anchor="w")
        self.text.grid(row=0, column=1, sticky="ew")
        self.text.bind("<Configure>", lambda e: self.text.configure(wraplength=max(120, e.width - 4)))
        self.change_label = ttk.Label(self, style="BoxOrderChange.TLabel", anchor="e")
        self.change_label.grid(row=0, column=2, sticky="e", padx=(8, 0))
        self.reprint_button = ttk.Button(self, text=_("Reprint"), style="BoxSmall.TButton", command=on_reprint,
                                         takefocus=False)
        self.reprint_button.grid(row=0, column=3, sticky="e", padx=(8, 0))
        self.print_message = PrintLine(self)
        self.print_message.grid(row=1, column=0, columnspan=4, sticky="ew", pady=(2, 0))

    def _styles(self) -> None:
        p = PALETTE
        style = ttk.Style(self)
        style.configure("BoxOrder.TLabel", background=p.surface, foreground=p.text)
        style.configure("BoxOrderHead.TLabel", background=p.surface, foreground=p.text, font="VSBold")
        style.configure("BoxOrderChange.TLabel", background=p.surface, foreground=p.success, font="VSLargeBold")
        style.configure("BoxPrintInfo.TLabel", background=p.surface, foreground=p.muted, padding=(0, 2))
        style.configure("BoxPrintOk.TLabel", background=p.surface, foreground=p.success, padding=(0, 2))
        style.configure("BoxPrintError.TLabel", background=p.danger_soft, foreground=p.danger, padding=(6, 2))

    def show(self, order: Mapping[str, Any] | None, change: int) -> None:
        """``order`` as the sales service returned it (None: no order yet); ``change``: the cash
        given back, in fen (0: none)."""
        if order is None:
            self.head.configure(text=_("No order yet"))
            self.text.configure(text="")
            self.change_label.configure(text="")
            self.print_message.show(_("The last order sold here shows here, with Reprint."))
            return
        tickets = order.get("tickets", [])
        titles = {"cash": _("cash"), "wallet": _("card"), "voucher": _("voucher")}
        paid = ", ".join(f"{titles.get(p['method'], p['method'])} {yuan(int(p['amount']))}"
                         for p in order.get("payments", []))
        self.head.configure(text=_("Order {number}").format(number=order.get("order", "")))
        self.text.configure(text=" · ".join((
            ngettext("{n} ticket", "{n} tickets", len(tickets)).format(n=len(tickets)),
            _("paid {total}: {payments}").format(total=yuan(int(order.get("total") or 0)), payments=paid))))
        self.change_label.configure(text=_("Change {amount}").format(amount=yuan(change)) if change else "")

    def allow_reprint(self, allowed: bool) -> None:
        self.reprint_button.state(["!disabled"] if allowed else ["disabled"])


def ticket_printer(app: Any) -> Printer:
    """``printer(tickets, reprint)``: the tickets on the site's ticket printer."""

    def print_on_the_ticket_printer(tickets: Sequence[Mapping[str, Any]], reprint: bool = False) -> Any:
        from plugins.tickets.faces import print_tickets

        return print_tickets(app, tickets, reprint=reprint)

    return print_on_the_ticket_printer


class TicketPrinting:
    """Prints ``tab``'s last order (``tab.order``) with ``tab.printer``, off the Tk thread, and
    says how it went on the order strip's printing line. ``queued_jobs``: the order's tickets
    left waiting in the printer's queue by a print that failed (*Reprint* prints exactly those)."""

    def __init__(self, tab: BoxOfficeTab) -> None:
        self.tab = tab
        self.printing = False
        self.queued_jobs: list[int] = []

    def reprint_ready(self) -> bool:
        """*Reprint* does something now."""
        tab = self.tab
        return tab.order is not None and not self.printing and (tab.can_reprint or bool(self.queued_jobs))

    def print_order(self, order: Mapping[str, Any]) -> None:
        """The tickets on the ticket printer, then the order's receipt on the receipt printer (a
        receipt that cannot print is said in the message; the tickets and the sale stand)."""
        tickets = [dict(t) for t in order.get("tickets", [])]
        if not tickets:
            return
        printer, app, actor = self.tab.printer, self.tab.app, self.tab.actor

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
        tab = self.tab
        if tab.order is None or self.printing:
            return
        app, jobs = tab.app, list(self.queued_jobs)
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
        if not tab.can_reprint:
            return
        sales, actor, printer = tab.sales, tab.actor, tab.printer
        serials = [str(t["serial"]) for t in tab.order.get("tickets", [])]

        def again() -> Any:
            return printer(sales.reprint(actor, serials=serials, reason=_("reprint at the box office")), True)

        self._print(again)

    def _print(self, work: Callable[[], Any], *, before_done: Callable[[Any], Any] | None = None,
               remaining: list[int] | None = None) -> None:
        tab = self.tab
        line = tab.order_strip.print_message
        self.printing = True
        tab.set_enabled()
        line.show(_("Printing the tickets…"))

        def done(result: Any) -> None:
            self.printing = False
            if before_done is not None:
                result = before_done(result)
            if not tab.winfo_exists():
                return
            printer = (result or {}).get("printer", "") if isinstance(result, Mapping) else ""
            receipt_error = (result or {}).get("receipt_error") if isinstance(result, Mapping) else None
            if receipt_error:
                line.error(" ".join((_("Tickets printed ({printer}).").format(printer=printer),
                                     _("No receipt:"), receipt_error)))
            else:
                line.ok(_("Tickets printed ({printer}).").format(printer=printer))
            tab.set_enabled()

        def failed(exc: BaseException) -> None:
            self.printing = False
            if not tab.winfo_exists():
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
                line.error(" ".join((error_text(exc), _("The sale stands."))))
            else:
                line.error(" ".join((error_text(exc), _("The sale stands: press Reprint once the "
                                                        "printer is ready."))))
            tab.set_enabled()

        tab.context.run_in_thread(work, done, failed)
