"""The cashier panel's card terminal: the chip's purse moves with the account, and card payments
go on while the database cannot be reached (W6 at the counter).

* ``terminal_of(app)``: the application's ``plugins.wallet.offline.CardTerminal`` (the purse
  service with the chain's card keys from the keyring, and the terminal's offline spool,
  ``spool_of(app)``), made on first use and kept in ``app.extras`` so every login's panel shares
  one spool and one offline lock; None while the keyring holds no card keys (they are never made
  here). Call them off the Tk thread: they open the keyring and the spool file.
* ``chip_reader(app, device_id)``: the device a ``CardPresented`` came from, when it is a reader
  of the device host the window started (``app.extras["devices"]``) that hands out its card.
* ``upload(app, actor)``: one run of the automatic upload (``drain``) of the offline queue,
  when there is something queued and the database answers; with nothing queued, the spool's
  cache of cards and card types is refreshed every ``REFRESH_EVERY`` while online.
* the texts the panel shows for the offline state, the allowance and an upload, and the
  receipt of a payment taken offline (``offline_receipt``).

The rules (what is refused offline, the caps, what an upload does) are in docs/wallet-purse.md;
the panel's behaviour in docs/wallet-screens.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
from collections.abc import Mapping
from typing import Any

from printers.elements import Cut, Feed, Layout, Row, Separator, Text
from suite.i18n import N_, _, ngettext

from plugins.wallet import receipt as receipts
from plugins.wallet.ui.display import counts_text, yuan

log = logging.getLogger(__name__)

TERMINAL_KEY = "wallet.card_terminal"
SPOOL_KEY = "wallet.offline_spool"
REFRESH_EVERY = dt.timedelta(minutes=10)     # the spool's cache of cards and types, while online
_making = threading.RLock()


def spool_of(app: Any) -> Any:
    """The terminal's offline spool (``OfflineSpool.for_app``), opened once."""
    spool = app.extras.get(SPOOL_KEY)
    if spool is None:
        with _making:
            spool = app.extras.get(SPOOL_KEY)
            if spool is None:
                from plugins.wallet.offline import OfflineSpool

                spool = app.extras[SPOOL_KEY] = OfflineSpool.for_app(app)
    return spool


def card_format_of(app: Any) -> Any | None:
    """The chain's ``CardFormat`` from this terminal's keyring (``card-master-key``,
    ``card-mac-key``), or None while it holds none. Never made here: keys of a terminal's own
    would read every card as another system's."""
    from devices.cardformat import MAC_KEY_SECRET, MASTER_KEY_SECRET, CardFormat

    master, mac = app.secrets.get(MASTER_KEY_SECRET), app.secrets.get(MAC_KEY_SECRET)
    if not master or not mac:
        return None
    return CardFormat(base64.b64decode(master), base64.b64decode(mac))


def terminal_of(app: Any) -> Any | None:
    """The application's card terminal (``CardTerminal``: ``PurseService`` as ``from_app`` with
    the chain's card keys, and ``spool_of(app)``), made once; None while the keyring holds no
    card keys (the panel then looks cards up by their UID, as without a reader)."""
    terminal = app.extras.get(TERMINAL_KEY)
    if terminal is None:
        with _making:
            terminal = app.extras.get(TERMINAL_KEY)
            if terminal is None:
                from plugins.wallet.offline import CardTerminal
                from plugins.wallet.purse import PurseService

                card_format = card_format_of(app)
                if card_format is None:
                    log.info("no card keys in the keyring: cards on the reader are looked up by their UID only")
                    return None
                purse = PurseService.from_app(app, card_format=card_format)
                terminal = app.extras[TERMINAL_KEY] = CardTerminal(purse, spool_of(app))
    return terminal


def chip_reader(app: Any, device_id: str) -> Any | None:
    """The reader ``device_id`` of the window's device host, if it hands out cards
    (``current_card``); None for a device id it does not know (a card posted by other means)."""
    devices = app.extras.get("devices")
    if devices is None or not device_id:
        return None
    try:
        device = devices.device(device_id)
    except Exception:  # noqa: BLE001 - not one of ours, or not started: no chip to move
        return None
    return device if callable(getattr(device, "current_card", None)) else None


def queued(app: Any) -> dict[str, int]:
    """The offline queue: ``entries``, ``fen``, ``counts`` (and ``alerts``, detections to report)."""
    spool = spool_of(app)
    return {**spool.totals(), "alerts": len(spool.alerts())}


def cache_due(app: Any, now: dt.datetime | None = None) -> bool:
    """The spool's cache of cards and types was never refreshed, or not for ``REFRESH_EVERY``."""
    refreshed = spool_of(app).status()["refreshed_at"]
    if not refreshed:
        return True
    now = now or dt.datetime.now(dt.timezone.utc)
    return now - dt.datetime.fromisoformat(refreshed) > REFRESH_EVERY


def refresh_cache(app: Any) -> dict[str, int]:
    """Refresh the spool's cache (card types, cards, blacklist) from the database."""
    with app.uow.read() as uow:
        return spool_of(app).refresh(uow.session)


def upload(app: Any, actor: Any, *, probe: bool = False, drain_allowed: bool = True) -> dict[str, Any]:
    """One run of the automatic upload, off the Tk thread: the offline queue is drained
    (``CardTerminal.drain``, which refreshes the cache too) when it holds something and the
    database answers; with nothing queued, the cache is refreshed when it is due. Returns
    ``queue`` (as ``queued``, after the run), ``online`` (True/False when the database was
    asked: whenever something was queued or the cache was due, with ``probe`` also otherwise;
    else None) and ``report`` (the drain's, or None). ``drain_allowed``: the operator may
    upload (``wallet.consume``)."""
    before = queued(app)
    if not before["entries"] and not before["alerts"]:
        due = cache_due(app)
        if not (due or probe):
            return {"queue": before, "online": None, "report": None}
        online = app.database_online()
        if online and due:
            refresh_cache(app)
        return {"queue": before, "online": online, "report": None}
    if not app.database_online():
        return {"queue": before, "online": False, "report": None}
    terminal = terminal_of(app)
    if not drain_allowed or terminal is None:
        return {"queue": before, "online": True, "report": None}
    report = terminal.drain(actor)
    return {"queue": queued(app), "online": True, "report": report}


# -------------------------------------------------------------------- texts

def allowance_text(allowance: Mapping[str, Any]) -> str:
    """What is on the chip and what the card may still pay offline here."""
    if allowance.get("kind") == "count":
        return _("On the chip: {value}. It may still use {left} offline here (limit {cap}).").format(
            value=counts_text(int(allowance.get("value") or 0)), left=counts_text(int(allowance.get("left") or 0)),
            cap=counts_text(int(allowance.get("cap") or 0)))
    return _("On the chip: {value}. It may still pay {left} offline here (limit {cap}).").format(
        value=yuan(int(allowance.get("value") or 0)), left=yuan(int(allowance.get("left") or 0)),
        cap=yuan(int(allowance.get("cap") or 0)))


def offline_banner(allowance: Mapping[str, Any] | None) -> str:
    """The panel's offline line: the state, and for a card on the reader its allowance."""
    head = _("Offline: the database cannot be reached.")
    if allowance is None:
        return head + " " + _("Card payments are taken from the chip and uploaded when it is back.")
    return head + " " + allowance_text(allowance)


def offline_summary(card: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """The panel's line after a payment taken offline."""
    purse = result.get("purse") or {}
    if card.get("kind") == "count":
        text = _("{counts} used offline; {left} on the chip.").format(
            counts=counts_text(int(result.get("counts") or 0)), left=counts_text(int(purse.get("value") or 0)))
    else:
        text = _("Charged {charged} offline (list price {price}, discount {discount}); {left} on the chip.").format(
            charged=yuan(result.get("charged")), price=yuan(result.get("list_price")),
            discount=yuan(result.get("discount") or 0), left=yuan(int(purse.get("value") or 0)))
    return text + " " + _("It is uploaded when the database is back.")


def waiting_text(queue: Mapping[str, Any]) -> str:
    """The offline payments waiting for the upload."""
    entries = int(queue.get("entries") or 0)
    if not entries:
        return ""
    parts = []
    if queue.get("fen"):
        parts.append(yuan(int(queue["fen"])))
    if queue.get("counts"):
        parts.append(counts_text(int(queue["counts"])))
    return ngettext("{n} offline payment waits for the upload ({amount}).",
                    "{n} offline payments wait for the upload ({amount}).", entries).format(
        n=entries, amount=", ".join(parts))


def upload_text(report: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, text) for the panel after an upload: ``ok``, or ``error`` when a card was copied,
    over-spent offline or refused by the server (the payments stay queued then)."""
    posted = int(report.get("posted") or 0) + int(report.get("replayed") or 0)
    parts = [ngettext("{n} offline payment uploaded.", "{n} offline payments uploaded.", posted).format(n=posted)]
    kind = "ok"
    flagged = sorted({str(item.get("card_no")) for key in ("conflicts", "shortfalls", "alerts")
                      for item in report.get(key) or []})
    if flagged:
        kind = "error"
        parts.append(_("Blacklisted after the upload (copied or over-spent): {cards}. See the security log.").format(
            cards=", ".join(flagged)))
    held = len(report.get("held") or [])
    if held:
        kind = "error"
        parts.append(ngettext("{n} payment was refused by the server and stays queued.",
                              "{n} payments were refused by the server and stay queued.", held).format(n=held))
    return kind, " ".join(parts)


# -------------------------------------------------------------------- the offline receipt

# receipts._HEADER and _WHO, then the price and the chip's value: the balances are the
# server's, known once the payment is uploaded
OFFLINE_CONSUME_RECEIPT = Layout("wallet_consume_offline", (
    *receipts._HEADER,
    Text(N_("Card payment (offline)"), bold=True, align="center"),
    *receipts._WHO,
    Row(N_("List price"), "{list_price:money}", when="show_money"),
    Row(N_("Discount"), "-{discount:money}", when="discount"),
    Row(N_("Charged"), "{charged:money}", bold=True, height=2, when="show_money"),
    Row(N_("Counts used"), "{counts_used}", bold=True, height=2, when="counts_used"),
    Separator(),
    Row(N_("Value on the chip"), "{chip_value:money}", when="show_money"),
    Row(N_("Counts on the chip"), "{chip_counts}", when="show_counts"),
    Text(N_("Taken offline: uploaded to the card's account when the terminal is back online."), when="offline"),
    Separator(),
    Row(N_("Payment no."), "{entry_short}"),
    Text(N_("Reprint"), align="center", bold=True, when="reprint"),
    Text(N_("Thank you for your visit!"), align="center"),
    Feed(1),
    Cut(),
))


def offline_receipt(app: Any, actor: Any, card: Mapping[str, Any], result: Mapping[str, Any]) -> receipts.Receipt:
    """The receipt of a payment ``CardTerminal.consume`` took offline (``result["offline"]``)."""
    base = receipts.consume_receipt(app, actor, card, result)
    value = int((result.get("purse") or {}).get("value") or 0)
    count_card = card.get("kind") == "count"
    data = dict(base.data, chip_value=None if count_card else value, chip_counts=value if count_card else None,
                offline=True, entry_short=receipts.short_entry(result.get("key")))
    return receipts.Receipt(OFFLINE_CONSUME_RECEIPT, data)


__all__ = ["OFFLINE_CONSUME_RECEIPT", "SPOOL_KEY", "TERMINAL_KEY", "REFRESH_EVERY", "allowance_text", "cache_due", "card_format_of", "chip_reader", "offline_banner",
           "offline_receipt", "offline_summary", "queued", "refresh_cache", "spool_of", "terminal_of", "upload", "upload_text", "waiting_text"]
