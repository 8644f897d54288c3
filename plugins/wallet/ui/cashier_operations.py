"""What the cashier panel (``plugins.wallet.ui.cashier``) does to the shown card: consume, top
up and report lost, off the Tk thread.

Every consume or top-up the operator confirms gets one idempotency key (``Pending``), kept
until the operation succeeds or the operator cancels it (Esc, another card, another
operation): a double Enter or a retry after an error can never charge twice. A card that came
from a reader moves its chip too (the entry first, then the chip; offline, from the chip within
its cap, while the database is away). After a success the card's balances, the summary
(``operation_summary``) and the receipt; *Report lost* takes two presses within
``CONFIRM_BLOCK_MS``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from suite.errors import SuiteError
from suite.i18n import _
from suite.ui.widgets import Timer, error_text

from plugins.wallet.ui import terminal as chips
from plugins.wallet.ui.cashier_lookup import reader_card
from plugins.wallet.ui.cashier_offline import database_down
from plugins.wallet.ui.cashier_receipt import receipt_for
from plugins.wallet.ui.display import counts_text, points_text, yuan

if TYPE_CHECKING:
    from plugins.wallet.ui.cashier import CashierTab

log = logging.getLogger(__name__)

CONFIRM_BLOCK_MS = 8000     # the second press of Report lost must come within this


@dataclass
class Pending:
    """A confirmed consume or top-up not yet known to have succeeded: its key is reused."""

    operation: str          # "consume" | "topup"
    card_no: str
    key: str


def operation_summary(operation: str, card: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """What a successful consume or top-up did, in the operator's words."""
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


class CardOperations:
    """Consume, top up and report lost for ``tab``'s shown card with the tab's service (or the
    terminal, for a card on the reader). ``busy`` while one is on its way; ``pending``: the
    confirmed operation and its key; ``last_result``: the last success, with its operation."""

    def __init__(self, tab: CashierTab) -> None:
        self.tab = tab
        self.pending: Pending | None = None
        self.busy = False               # a consume, top-up or block is on its way
        self.last_result: dict[str, Any] | None = None
        self.block_armed: str | None = None     # the card whose Report lost waits for its second press
        self.block_timer = Timer(tab, self.disarm_block)

    # ------------------------------------------------------------------ consume and top up

    def confirm(self) -> None:
        """Enter: charge (or top up) the amount typed, with the pending operation's key."""
        tab = self.tab
        if self.busy:
            return              # a second Enter while the first is on its way changes nothing
        if tab.card is None:
            tab.message.error(_("Present a card on the reader, or type its number."))
            return
        mode = tab.mode
        allowed = tab.can_consume if mode == "consume" else tab.can_topup
        if not allowed:
            return
        try:
            amount, counts = tab.actions.read(mode, count_card=tab.count_card)
        except SuiteError as exc:
            tab.message.error(exc)
            tab.amount_entry.focus_set()
            return
        card_no = str(tab.card["card_no"])
        if self.pending is None or (self.pending.operation, self.pending.card_no) != (mode, card_no):
            self.pending = Pending(mode, card_no, f"ui-{mode}-{uuid.uuid4()}")
        pending, operation = self.pending, mode
        service, actor, app, chip = tab.service, tab.actor, tab.app, tab.chip
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
        tab.message.show(_("Charging the card…") if operation == "consume" else _("Topping up the card…"))
        self.busy = True
        tab.set_enabled()
        tab.context.run_in_thread(work, lambda result: self._succeeded(pending, result),
                                  lambda exc: self._failed(pending, exc))

    def _succeeded(self, pending: Pending, result: dict[str, Any]) -> None:
        tab = self.tab
        self.busy = False
        if not tab.winfo_exists():
            return
        if self.pending is pending:
            self.pending = None          # done: the next operation gets a new key
        self.last_result = dict(result, operation=pending.operation)
        offline = bool(result.get("offline"))
        card = dict(tab.card or {}, card_no=pending.card_no)
        if tab.card is not None and tab.card.get("card_no") == pending.card_no:
            if offline:     # paid from the chip: the server's balances are known after the upload
                tab.card.update(offline=True, balances={})
                tab.allowance = result.get("allowance")
            else:
                tab.card["balances"] = result.get("balances") or tab.card.get("balances") or {}
            tab.panel.show_balances(tab.card["balances"], count_card=tab.count_card)
            card = dict(tab.card)
        tab.actions.clear_amounts()
        if offline:
            tab.offline.note_online(False)
            text = operation_summary(pending.operation, card, result) if result.get("replayed") else \
                chips.offline_summary(card, result)
            tab.offline.queue_changed(result.get("spool") or {})
        else:
            text = operation_summary(pending.operation, card, result)
            notice = (result.get("purse") or {}).get("notice")
            if notice:
                text += " " + notice
            tab.offline.note_online(True)
        tab.message.ok(text)
        tab.offline.show_banner()
        tab.set_enabled()
        tab.amount_entry.focus_set()
        if tab.history_shown and not offline:
            tab.load_history()
        # a replayed result answers a retry whose first answer never came back: no receipt yet
        tab.receipts.print_receipt(receipt_for(tab.app, tab.actor, pending.operation, card, result))

    def _failed(self, pending: Pending, exc: BaseException) -> None:
        tab = self.tab
        self.busy = False
        if not tab.winfo_exists():
            return
        if not isinstance(exc, SuiteError):
            log.error("wallet %s failed", pending.operation, exc_info=exc)
        text = error_text(exc)
        if database_down(exc):
            tab.offline.note_online(False)
            if pending.operation == "topup":
                text += " " + _("Top-ups need the database: try again once it is back.")
            elif tab.chip is None:
                text += " " + _("Present the card on the reader to pay from its chip while the database is away.")
        tab.message.error(text)   # the key is kept: Enter again retries the same operation
        tab.set_enabled()
        tab.amount_entry.focus_set()

    def cancel(self) -> None:
        """Esc: drop what was typed and the pending operation (its key with it)."""
        tab = self.tab
        if self.busy:
            return
        had = bool(tab.actions.typed() or self.pending)
        self.forget()
        if had:
            tab.message.show(_("Cancelled."))
        tab.amount_entry.focus_set()

    def forget(self) -> None:
        """Drop the pending operation (its key with it), what was typed and an armed *Report lost*."""
        self.pending = None
        self.tab.actions.clear_amounts()
        self.disarm_block()

    # ------------------------------------------------------------------ report lost

    def report_lost(self) -> None:
        """Report the card lost: the first press asks, the second (within 8 s) blacklists it."""
        tab = self.tab
        if tab.card is None or self.busy or not tab.can_block:
            return
        number = str(tab.card["card_no"])
        if self.block_armed != number:
            self.block_armed = number
            tab.actions.arm_block(True)
            tab.message.error(_("Press \u201cConfirm: report lost\u201d to blacklist card {card}.").format(
                card=number))
            self.block_timer.start(CONFIRM_BLOCK_MS)
            return
        self.disarm_block()
        service, actor = tab.service, tab.actor
        self.busy = True
        tab.set_enabled()
        tab.message.show(_("Blacklisting the card…"))

        def done(card: dict[str, Any]) -> None:
            self.busy = False
            if tab.winfo_exists():
                tab.show_card(card)
                tab.message.error(_("Card {card} is now blacklisted: it can no longer pay or be topped up.").format(
                    card=number))
                tab.set_enabled()

        def failed(exc: BaseException) -> None:
            self.busy = False
            if tab.winfo_exists():
                tab.message.error(exc)
                tab.set_enabled()

        tab.context.run_in_thread(lambda: service.block(actor, number), done, failed)

    def disarm_block(self) -> None:
        """*Report lost* back to its first press."""
        self.block_timer.cancel()
        if self.block_armed is None:
            return
        self.block_armed = None
        self.tab.actions.arm_block(False)

    def stop(self) -> None:
        """The tab goes: no pending disarm."""
        self.block_timer.cancel()
