"""The receipt of the cashier panel's last consume or top-up (``plugins.wallet.ui.cashier``).

``receipt_for`` makes it (``plugins.wallet.receipt``; an offline payment's from the terminal);
``ReceiptPrinting`` prints it off the Tk thread and says how it went on the receipt line, with
*Reprint*. A printing problem never touches the money: the sale stands, and a receipt that did
not come out stays on offer for *Reprint*, even for the next customer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from suite.i18n import _
from suite.ui.widgets import error_text

from plugins.wallet import receipt as receipts
from plugins.wallet.ui import terminal as chips

if TYPE_CHECKING:
    from plugins.wallet.ui.cashier import CashierTab


def receipt_for(app: Any, actor: Any, operation: str, card: Mapping[str, Any],
                result: Mapping[str, Any]) -> receipts.Receipt:
    """The receipt of a successful ``operation`` ("consume" or "topup") on ``card``: paid from
    the chip offline (``result["offline"]``), charged, or topped up."""
    if result.get("offline"):
        return chips.offline_receipt(app, actor, card, result)
    if operation == "consume":
        return receipts.consume_receipt(app, actor, card, result)
    return receipts.topup_receipt(app, actor, card, result)


class ReceiptPrinting:
    """Prints ``tab``'s receipts and keeps the last one (``receipt``) for *Reprint*
    (``tab.reprint_button``); the outcome goes to ``tab.receipt_message``."""

    def __init__(self, tab: CashierTab) -> None:
        self.tab = tab
        self.receipt: receipts.Receipt | None = None
        self.printing = False
        self.failed = False         # the last receipt did not print: Reprint stays on offer

    def waiting(self) -> bool:
        """The last receipt did not come out (it stays on offer for *Reprint*)."""
        return self.receipt is not None and self.failed

    def forget(self) -> None:
        """Another card, or the next customer: the last receipt is dropped unless it still waits
        for *Reprint*."""
        if not self.waiting():
            self.receipt = None
            self.tab.receipt_message.clear()
            self.tab.reprint_button.state(["disabled"])

    def print_receipt(self, receipt: receipts.Receipt) -> None:
        app = self.tab.app
        self.receipt, self.failed = receipt, False
        self._print(lambda: receipts.print_receipt(app, receipt))

    def reprint(self) -> None:
        if self.receipt is not None and not self.printing:
            app, receipt = self.tab.app, self.receipt
            self._print(lambda: receipts.reprint(app, receipt))

    def _print(self, work: Callable[[], str]) -> None:
        tab = self.tab
        self.printing = True
        tab.reprint_button.state(["disabled"])
        tab.receipt_message.show(_("Printing the receipt…"))
        tab.context.run_in_thread(work, self._printed, self._print_failed)

    def _printed(self, printer_id: str) -> None:
        tab = self.tab
        self.printing = False
        self.failed = False
        if tab.winfo_exists():
            tab.receipt_message.ok(_("Receipt printed ({printer}).").format(printer=printer_id))
            tab.reprint_button.state(["!disabled"])

    def _print_failed(self, exc: BaseException) -> None:
        tab = self.tab
        self.printing = False
        if not tab.winfo_exists():
            return
        if isinstance(exc, receipts.NoReceiptPrinter):
            tab.receipt_message.show(" ".join((error_text(exc), _("The sale stands."))), "error")
            return          # nothing to reprint on
        self.failed = True
        tab.receipt_message.error(" ".join((error_text(exc), _("The sale stands: press Reprint once the "
                                                               "printer is ready."))))
        tab.reprint_button.state(["!disabled"])
