"""The sale at the sale screen (``plugins.tickets.ui.boxoffice``): *Confirm* (Enter) sells the
cart with the payment filled in, with one idempotency key per order, kept across retries until
the sale succeeds or is cancelled (Esc): a double Enter or a retry after a lost answer never
sells twice. Refusals (a seat taken, sales stopped, a card short of money, a missing
permission) are the services' own translated messages; the cart stays (``Checkout``)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from suite.errors import DatabaseUnavailable, SuiteError
from suite.i18n import _, ngettext
from suite.ui.widgets import error_text

from plugins.tickets.core import SeatTaken
from plugins.tickets.ui.payment import PaymentPlan, yuan

if TYPE_CHECKING:
    from plugins.tickets.ui.boxoffice import BoxOfficeTab

log = logging.getLogger(__name__)


@dataclass
class Pending:
    """A confirmed order not yet known to be sold: retries reuse its key."""

    key: str


class Checkout:
    """Sells ``tab``'s cart (``SalesService.sell`` with the tab's hold token), then shows and
    prints the order sold (``order``; ``last_change``: the cash given back for it)."""

    def __init__(self, tab: BoxOfficeTab) -> None:
        self.tab = tab
        self.pending: Pending | None = None
        self.outcome_unknown = False                 # the last sale's answer was lost: it may have gone through
        self.busy = False                            # a sale is on its way
        self.confirm_waiting = False                 # Enter came before the prices: sell once they are in
        self.order: dict[str, Any] | None = None     # the last order sold here
        self.last_change = 0

    def forget(self) -> None:
        """The cart was let go (Esc, another session): so is the pending order's key."""
        self.pending = None
        self.outcome_unknown = False
        self.confirm_waiting = False

    def prices_in(self) -> None:
        """The cart's prices came in: an Enter that waited for them sells now."""
        message = self.tab.message
        if message.kind == "info" and message.text == _("Working out the prices…"):
            message.clear()
        if self.confirm_waiting:
            self.confirm_waiting = False
            self.confirm()

    def confirm(self) -> None:
        """Enter: sell the cart with the payment filled in, under the pending order's key."""
        tab = self.tab
        if self.busy:
            return              # a second Enter while the first is on its way changes nothing
        if tab.session is None:
            tab.message.error(_("Pick a session first."))
            return
        lines = tab.cart.lines()
        if not lines:
            tab.message.error(_("Pick the seats on the map first."))
            return
        if not tab.cart.quote_current():
            self.confirm_waiting = True          # sold as soon as the prices are in
            tab.message.show(_("Working out the prices…"))
            tab.cart.quote_now()
            return
        total = tab.cart.total()
        assert total is not None
        plan = tab.payment.plan(total)
        problem = plan.problem()
        if problem:
            tab.message.error(problem)
            return
        if self.pending is None:
            self.pending = Pending(f"box-{uuid.uuid4()}")
        self._sell(self.pending, lines, plan)

    def _sell(self, pending: Pending, lines: list[dict[str, str]], plan: PaymentPlan) -> None:
        tab = self.tab
        assert tab.session is not None
        code, generation = tab.session["code"], tab.session_generation
        sales, actor, token = tab.sales, tab.actor, tab.hold_token
        payments = [dict(t) for t in plan.tenders]
        self.busy = True
        tab.set_enabled()
        tab.message.show(_("Selling…"))

        def work() -> dict[str, Any]:
            return sales.sell(actor, session_code=code, lines=lines, payments=payments, key=pending.key,
                              hold_token=token)

        def done(result: dict[str, Any]) -> None:
            self.busy = False
            if not tab.winfo_exists():
                return
            if self.pending is pending:
                self.pending = None         # done: the next order gets a new key
            self.outcome_unknown = False
            self._sold(result, plan, generation)

        def failed(exc: BaseException) -> None:
            self.busy = False
            if not tab.winfo_exists():
                return
            if not isinstance(exc, SuiteError):
                log.error("the sale failed", exc_info=exc)
            text = error_text(exc)
            self.outcome_unknown = not isinstance(exc, SuiteError) or isinstance(exc, DatabaseUnavailable)
            if self.outcome_unknown:
                text += " " + _("Press Enter to try again: an order is never sold twice.")
            elif isinstance(exc, SeatTaken):
                text += " " + _("Choose other seats and confirm again.")
                tab.refresh_states()
            tab.message.error(text)        # the key is kept: Enter again retries the same order
            tab.set_enabled()

        tab.context.run_in_thread(work, done, failed)

    def _sold(self, result: dict[str, Any], plan: PaymentPlan, generation: int) -> None:
        tab = self.tab
        if generation == tab.session_generation:
            tab.holds.held = set()          # the seats are sold: nothing to release
            cart = set(tab.canvas.selected_ids)
            tab.view.set_states({sid: "sold" for sid in cart})    # they leave the selection and the cart
            tab.canvas.clear_selection()
            tab.cart.empty(keep_error=True)
            tab.cart.show()
        self.last_change = plan.change if not result.get("replayed") else 0
        tab.payment.clear()
        self.order = result
        tab.ticket_printing.queued_jobs = []
        tab.order_strip.show(self.order, self.last_change)
        count = len(result.get("tickets", []))
        if result.get("replayed"):
            tab.message.ok(_("This order had already gone through: nothing was charged again."))
        else:
            tab.message.ok(ngettext("Sold: {n} ticket, {total}.", "Sold: {n} tickets, {total}.", count).format(
                n=count, total=yuan(int(result.get("total") or 0))))
        tab.set_enabled()
        tab.ticket_printing.print_order(result)
        tab.load_sessions()
        tab.refresh_states()
