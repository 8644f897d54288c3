"""The cashier panel (``plugins.wallet.ui.cashier``) while the database is away, and after.

``OfflineUploads`` keeps what the last operation or the heartbeat said of the database
(``online``), shows the offline line on the card panel (with what the card may still pay
offline), counts the terminal's spool in the status bar's *Pending uploads* and offers it to
the database off the Tk thread (``terminal.upload``): at start, every ``every_ms``, and at
once when the database is back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from suite.events import StatusUpdate
from suite.i18n import _
from suite.ui.widgets import Timer, error_text

from plugins.wallet.ui import terminal as chips

if TYPE_CHECKING:
    from plugins.wallet.ui.cashier import CashierTab

log = logging.getLogger(__name__)

UPLOAD_EVERY_MS = 15000     # how often the offline queue is offered to the database (also when it is back)


def database_down(exc: BaseException) -> bool:
    """``exc`` says the database cannot be reached (``plugins.wallet.purse.database_down``)."""
    from plugins.wallet.purse_checks import database_down as down

    return down(exc)


class OfflineUploads:
    """The database as ``tab`` last saw it, the offline line on its card panel, and the upload
    of the offline payments queued in the terminal's spool (on the upload line)."""

    def __init__(self, tab: CashierTab, *, every_ms: int = UPLOAD_EVERY_MS) -> None:
        self.tab = tab
        self.online: bool | None = None           # the database, as the last operation or the heartbeat saw it
        self.uploading = False
        self.every_ms = every_ms
        self.timer = Timer(tab, self.upload)

    def show_banner(self) -> None:
        """The offline line: while the database is known to be away, or the shown card was read
        offline; with what the card may still pay offline when the chip said so."""
        tab = self.tab
        card_offline = tab.card is not None and bool(tab.card.get("offline"))
        if not (card_offline or self.online is False):
            tab.panel.show_offline(None)
            return
        tab.panel.show_offline(chips.offline_banner(tab.allowance if card_offline else None))

    def note_online(self, online: bool, *, upload: bool = True) -> None:
        """What the last operation (or the heartbeat) said of the database. Back online: the
        queue is uploaded (``upload``) and a card shown from the chip alone is read again."""
        tab = self.tab
        was, self.online = self.online, online
        self.show_banner()
        if online and was is False:
            if upload:
                self.upload()
            if tab.card is not None and tab.card.get("offline"):
                tab.lookup.refresh_quietly()

    def on_status(self, event: StatusUpdate) -> None:
        """The heartbeat's ``online`` (``suite.ui.status_bar.Heartbeat``)."""
        if event.field == "online" and event.value is not None and self.tab.winfo_exists():
            self.note_online(bool(event.value))

    def upload(self) -> None:
        """Offer the offline queue to the database now, off the Tk thread (``terminal.upload``),
        and count it in the status bar; then again every ``every_ms``, and at once when the
        heartbeat or an operation finds the database back."""
        tab = self.tab
        if self.uploading or not tab.winfo_exists():
            return
        self.uploading = True
        app, actor, probe, allowed = tab.app, tab.actor, self.online is False, tab.can_consume

        def done(outcome: dict[str, Any]) -> None:
            self.uploading = False
            if not tab.winfo_exists():
                return
            if outcome["online"] is not None:
                self.note_online(bool(outcome["online"]), upload=False)
            self.queue_changed(outcome["queue"], outcome["report"])
            self.timer.start(self.every_ms)

        def failed(exc: BaseException) -> None:
            self.uploading = False
            if not tab.winfo_exists():
                return
            if database_down(exc):
                self.note_online(False, upload=False)
            else:
                log.error("uploading the offline payments failed", exc_info=exc)
            tab.upload_message.error(" ".join((_("The offline payments were not all uploaded:"), error_text(exc))))
            self.timer.start(self.every_ms)

        tab.context.run_in_thread(lambda: chips.upload(app, actor, probe=probe, drain_allowed=allowed), done, failed)

    def queue_changed(self, queue: Mapping[str, Any], report: Mapping[str, Any] | None = None) -> None:
        """The status bar's *Pending uploads* and the line under the receipt: what waits, or
        what the upload did."""
        tab = self.tab
        tab.context.set_status("pending_uploads", int(queue.get("entries") or 0))
        waiting = chips.waiting_text(queue)
        if report is not None:
            kind, text = chips.upload_text(report)
            tab.upload_message.show(" ".join(part for part in (text, waiting) if part), kind)
            if report.get("posted") or report.get("conflicts") or report.get("alerts"):
                tab.lookup.refresh_quietly()     # the uploaded payments are in the balances now
        elif waiting:
            tab.upload_message.show(waiting)
        elif tab.upload_message.kind == "info":
            tab.upload_message.clear()

    def stop(self) -> None:
        """The tab goes: no further upload."""
        self.timer.cancel()
