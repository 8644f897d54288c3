"""How the cashier panel (``plugins.wallet.ui.cashier``) finds the card it shows.

A card presented on a reader of the window's device host has its chip read and checked
(``tap_card``, through the terminal of ``plugins.wallet.ui.terminal``); any other card is
looked up by its chip's UID (``find_card``) or by the number typed in. ``CardLookup`` runs the
lookups off the Tk thread and shows only the newest one's answer; ``reader_card`` is the chip
an operation writes to, still on its reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from suite.errors import NotFound
from suite.events import CardPresented
from suite.i18n import _

from plugins.wallet.ui import terminal as chips
from plugins.wallet.ui.cashier_offline import database_down

if TYPE_CHECKING:
    from plugins.wallet.ui.cashier import CashierTab

PURSE_CHIP = "mifare_classic"       # the card kind the purse format (devices.cardformat) is written on


@dataclass(frozen=True)
class Chip:
    """The shown card came from this reader: its chip moves with the account."""

    reader: str             # the device id
    uid: str


@dataclass(frozen=True)
class Shown:
    """A lookup's answer: the card, its chip (None: by number only) and a refusal to show."""

    card: dict[str, Any]
    chip: Chip | None = None
    refusal: BaseException | None = None


def find_card(service: Any, actor: Any, uid: str) -> dict[str, Any]:
    """The card whose chip has ``uid`` (``WalletService.find_card``)."""
    finder = getattr(service, "find_card", None)
    if finder is None:
        raise NotFound(_("Cards cannot be looked up by their chip on this system yet: type the card number."))
    return finder(actor, uid=uid)


def reader_card(app: Any, chip: Chip, card_no: str) -> Any:
    """The card ``chip`` on its reader now (off the Tk thread); ``NoCard`` when it left."""
    from devices.reader import NoCard

    device = chips.chip_reader(app, chip.reader)
    card = device.current_card() if device is not None else None
    if card is None or card.uid_hex != chip.uid:
        raise NoCard(_("Card {card} is no longer on the reader: put it back on the reader and try again.").format(
            card=card_no), card=card_no)
    return card


def tap_card(app: Any, service: Any, actor: Any, reader: str, uid: str) -> Shown:
    """The card ``uid`` presented on ``reader`` (off the Tk thread). A MIFARE Classic card on a
    reader of the window's device host has its chip read and checked (``CardTerminal.tap``:
    synced online, or checked against the offline spool when the database cannot be reached);
    a clone, restored dump or fork is refused, the card blacklisted by the service and shown
    with the refusal. A card posted by other means, gone already, of another kind (the purse
    is a MIFARE Classic format), whose chip was never personalised, or presented on a terminal
    whose keyring holds no card keys is looked up by its UID (``find_card``)."""
    from devices.cardformat import BlankCard

    from plugins.wallet.core import CardRefused

    device = chips.chip_reader(app, reader)
    card = device.current_card() if device is not None else None
    if card is None or card.uid_hex != uid.upper() or getattr(card, "kind", "") != PURSE_CHIP:
        return Shown(find_card(service, actor, uid))
    terminal = chips.terminal_of(app)
    if terminal is None:            # no card keys on this terminal: by the UID, as without a reader
        return Shown(find_card(service, actor, uid))
    try:
        found = terminal.tap(actor, card)
    except BlankCard:
        return Shown(find_card(service, actor, uid))
    except CardRefused as exc:
        number = exc.details.get("card")
        if exc.details.get("offline") or not number:
            raise
        try:
            refused = service.query(actor, str(number))
        except Exception:  # noqa: BLE001 - the refusal is what matters
            raise exc from None
        return Shown(refused, None, exc)
    return Shown(found, Chip(reader, uid.upper()))


class CardLookup:
    """Looks cards up for ``tab`` off the Tk thread with the tab's service: presented on the
    reader (while the tab is on screen), typed in, or the shown card read again. Only the newest
    lookup's answer is shown (``generation``); ``looking_up`` while one is on its way."""

    def __init__(self, tab: CashierTab) -> None:
        self.tab = tab
        self.generation = 0
        self.looking_up = False

    def on_card_presented(self, event: CardPresented) -> None:
        """A card on the reader: look it up when the tab is on screen. On a reader of the
        window's device host the chip is read and checked too (``tap_card``)."""
        tab = self.tab
        if not tab.winfo_exists() or not tab.winfo_viewable():
            return
        if tab.busy:
            tab.message.show(_("Wait: the current operation is not finished yet."))
            return
        devices = tab.app.extras.get("devices")
        app, service, actor, uid, reader = tab.app, tab.service, tab.actor, event.uid, event.reader

        def work() -> Shown:
            try:
                shown = tap_card(app, service, actor, reader, uid)
            except Exception:
                if devices is not None:
                    devices.tap_feedback(reader, good=False)
                raise
            if devices is not None:
                devices.tap_feedback(reader, good=shown.refusal is None and shown.card.get("status") == "active")
            return shown

        self.look_up(work)

    def look_up_number(self) -> None:
        """The number typed in the card field (Enter or *Look up*)."""
        tab = self.tab
        number = tab.number_entry.get().strip()
        if not number:
            tab.message.error(_("Type a card number first."))
            tab.number_entry.focus_set()
            return
        if tab.busy:
            tab.message.show(_("Wait: the current operation is not finished yet."))
            return
        service, actor = tab.service, tab.actor
        self.look_up(lambda: service.query(actor, number))

    def look_up(self, work: Callable[[], dict[str, Any] | Shown], *, keep_chip: bool = False) -> None:
        """Run ``work`` off the Tk thread and show its card. A plain card dict (by number) has
        no chip, unless ``keep_chip`` (the shown card read again)."""
        tab = self.tab
        self.generation += 1
        generation = self.generation
        self.looking_up = True
        tab.message.show(_("Looking up the card…"))

        def done(found: dict[str, Any] | Shown) -> None:
            if generation != self.generation or not tab.winfo_exists():
                return
            self.looking_up = False
            shown = found if isinstance(found, Shown) else Shown(found, self._same_chip(found) if keep_chip else None)
            tab.number_entry.delete(0, "end")
            tab.chip = shown.chip
            tab.allowance = shown.card.get("allowance") if shown.card.get("offline") else None
            tab.show_card(shown.card)
            tab.offline.note_online(not shown.card.get("offline"))
            notice = (shown.card.get("purse") or {}).get("notice")
            if shown.refusal is not None:
                tab.message.error(shown.refusal)
            elif notice and tab.message.kind != "error":
                tab.message.show(notice)

        def failed(exc: BaseException) -> None:
            if generation == self.generation and tab.winfo_exists():
                self.looking_up = False
                if database_down(exc):
                    tab.offline.note_online(False)
                tab.message.error(exc)

        tab.context.run_in_thread(work, done, failed)

    def _same_chip(self, card: Mapping[str, Any]) -> Chip | None:
        tab = self.tab
        if tab.chip is not None and tab.card is not None and tab.card.get("card_no") == card.get("card_no"):
            return tab.chip
        return None

    def refresh(self) -> None:
        """Read the shown card again (after a block, or on demand)."""
        tab = self.tab
        if tab.card is not None:
            service, actor, number = tab.service, tab.actor, tab.card["card_no"]
            self.look_up(lambda: service.query(actor, number), keep_chip=True)

    def refresh_quietly(self) -> None:
        """Read the shown card again unless the operator is busy with it or another card is
        being looked up (an upload, or the database back, changed what it shows)."""
        tab = self.tab
        if tab.card is not None and not tab.busy and not self.looking_up:
            self.refresh()

    def forget(self) -> None:
        """The card is put away: an answer still on its way is not shown."""
        self.generation += 1
        self.looking_up = False
