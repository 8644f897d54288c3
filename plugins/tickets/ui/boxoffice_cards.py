"""The member card that pays at the sale screen (``plugins.tickets.ui.boxoffice``): presented on
the reader (``CardPresented`` -> ``WalletService.find_card``) or its number typed
(``WalletService.query``), looked up off the Tk thread and shown on the payment panel
(``CardLookup``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from suite.events import CardPresented
from suite.i18n import _

if TYPE_CHECKING:
    from plugins.tickets.ui.boxoffice import BoxOfficeTab


def wallet_service(app: Any, actor: Any) -> Any:
    """The card wallet, when it runs here and the operator may look cards up (else None)."""
    plugins = getattr(app, "plugins", None)
    try:
        active = {m.id for m in plugins.active_manifests()} if plugins is not None else set()
    except Exception:  # noqa: BLE001 - no host: no cards
        active = set()
    if "wallet" not in active or not actor.has_permission("wallet.view"):
        return None
    from plugins.wallet.services import WalletService

    return WalletService.from_app(app)


def card_notice(card: Mapping[str, Any]) -> str:
    """Why the card cannot pay, in the wallet's words ("" when it can)."""
    try:
        from plugins.wallet.ui.display import refusal_notice
    except ImportError:      # pragma: no cover - the wallet's screens are not installed
        return ""
    return refusal_notice(card) or ""


class CardLookup:
    """Finds the card that pays for ``tab``'s order with the tab's wallet service (none: no card
    payments); the newest look-up wins. A card found goes to the payment panel and the cart is
    priced again (its member tier is in the prices)."""

    def __init__(self, tab: BoxOfficeTab) -> None:
        self.tab = tab
        self.generation = 0

    def on_card_presented(self, event: CardPresented) -> None:
        """A card on the reader while the tab is on screen: it pays (found by its chip)."""
        tab = self.tab
        if tab.wallet is None or not tab.on_screen() or tab.busy:
            return
        wallet, actor, uid = tab.wallet, tab.actor, event.uid
        self._find(lambda: wallet.find_card(actor, uid=uid))

    def look_up(self, number: str) -> None:
        """A card number typed and Enter."""
        tab = self.tab
        if tab.wallet is None or tab.busy:
            return
        wallet, actor = tab.wallet, tab.actor
        self._find(lambda: wallet.query(actor, number))

    def _find(self, work: Callable[[], dict[str, Any]]) -> None:
        tab = self.tab
        self.generation += 1
        generation = self.generation
        tab.message.show(_("Looking up the card…"))

        def done(card: dict[str, Any]) -> None:
            if generation != self.generation or not tab.winfo_exists():
                return
            tab.message.clear()
            tab.payment.show_card(card, card_notice(card))
            tab.card_changed()               # the card's member tier is in the prices

        def failed(exc: BaseException) -> None:
            if generation == self.generation and tab.winfo_exists():
                tab.message.error(exc)

        tab.context.run_in_thread(work, done, failed)
