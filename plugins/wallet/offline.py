"""Offline consumption (W6): a consume while the database is unreachable, kept in the
terminal's spool (``plugins.wallet.spool``) and uploaded once it is back
(``plugins.wallet.upload.drain``); ``CardTerminal`` chooses online or offline.

    spool = OfflineSpool.open(path)                   # or OfflineSpool.for_app(app)
    terminal = CardTerminal(PurseService.from_app(app), spool)
    terminal.consume(actor, reader_card, key=key, amount=3000)   # online, or offline when the database is down
    terminal.drain(actor)                                        # upload the queue

The rules (what is refused offline, the price, the caps, what an upload does with a fork or an
over-spend) are in docs/wallet-purse.md.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from devices.cardformat import ForeignCard, PurseState, TamperedCard
from suite.db.base import utcnow
from suite.errors import InvalidInput, PermissionDenied
from suite.i18n import _
from suite.identity.actor import Actor

from plugins.wallet.core import STAFF_CATEGORIES, CardRefused, InsufficientBalance, _key, _text, _whole
from plugins.wallet.pricing import BP, apply_multiplier
from plugins.wallet.purse import PurseService
from plugins.wallet.purse_checks import chip_uid, clone_refusal, database_down, state_dict, terminal_label
from plugins.wallet.services import DEFAULT_CATEGORY, yuan
from plugins.wallet.settings import WalletSettings

from plugins.wallet.spool import SCHEMA_VERSION, CachedCard, CachedType, OfflineSpool, QueuedConsume, _iso
from plugins.wallet.upload import drain, upload_entry

log = logging.getLogger(__name__)


class OfflineConsume:
    """A consume with the card on the reader while the database is unreachable: the cache
    decides, the chip pays first (it is the record), then the spool queues the entry."""

    def __init__(self, spool: OfflineSpool, card_format: Any, *, venue_code: str, terminal_code: str,
                 settings: WalletSettings | None = None, clock: Any = utcnow) -> None:
        self.spool = spool
        self.card_format = card_format
        self.venue_code = venue_code
        self.terminal_code = terminal_code
        self.settings = settings or WalletSettings()
        self.label = terminal_label(venue_code, terminal_code, offline=True)
        self._clock = clock
        self._lock = threading.Lock()

    def consume(self, actor: Actor, card: Any, *, key: str, amount: int = 0, counts: int = 0,
                category: str = DEFAULT_CATEGORY, device: str = "") -> dict[str, Any]:
        """Value cards: ``amount`` fen at list price, the tier discount taken off; count cards:
        ``counts``. Refusals are translated ``CardRefused`` (reasons ``blacklisted``,
        ``expired``, ``not_active``, ``not_accepted``, ``staff_card``, ``unknown_offline``,
        ``offline_cap``, ``offline_limit``, ``clone``) or ``InsufficientBalance``."""
        if not actor.has("wallet.consume"):
            raise PermissionDenied(_("You do not have permission: {title}").format(title="wallet.consume"),
                                   permission="wallet.consume")
        key = _key(key)
        amount = _whole(amount, _("The amount"))
        counts = _whole(counts, _("The count"), maximum=1_000_000)
        category = _text(category, _("The category"), 32)
        with self._lock:
            done = self.spool.queued(key)
            if done is not None:
                return self._result(done, replayed=True)
            state = self._read(actor, card)
            landed = self._landed(key, state)
            if landed is not None:
                return self._queue(actor, key, state, landed, device)
            cached = self._admit(actor, state)
            card_type = self._cached_type(cached)
            plan = self._plan(state, cached, card_type, amount=amount, counts=counts, category=category)
            self.spool.begin_write(key, state, state.value - plan["charged"], plan)
            written = self.card_format.write(card, new_value=state.value - plan["charged"], amount=-plan["charged"],
                                             terminal=self.label, time=self._clock())
            return self._queue(actor, key, written, {**plan, "value_before": state.value}, device)

    def inspect(self, actor: Actor, card: Any) -> dict[str, Any]:
        """A card presented while the database is unreachable: the chip read and checked as a
        consume would (the same refusals, a clone, rollback or fork blacklisted here at once),
        nothing written. Returns what the terminal knows of the card (``offline = True``: the
        cached number, UID, type, kind, status and expiry; no balances, no holder), its purse
        (``purse``) and what it may still pay offline here (``allowance``)."""
        with self._lock:
            state = self._read(actor, card)
            cached = self._admit(actor, state)
        card_type = self._cached_type(cached)
        return {"card_no": cached.card_no, "uid": cached.uid or state.uid_hex, "type": cached.type_code,
                "type_name": None, "kind": card_type.kind, "category": card_type.category, "status": cached.status,
                "holder_name": None, "holder_phone": None,
                "expires_on": cached.expires_on.isoformat() if cached.expires_on else None,
                "counter": state.counter, "balances": {}, "offline": True, "purse": state_dict(state),
                "allowance": self.allowance(cached.card_no, state.value)}

    def allowance(self, card_no: str, value: int) -> dict[str, Any]:
        """What card ``card_no`` may still pay offline here with ``value`` on its chip (fen, or
        counts, after the discount): the least of its offline cap less what it spent offline here
        (still queued), the terminal's limits and the chip's value."""
        cached = self.spool.card(card_no)
        card_type = self.spool.card_type(cached.type_code) if cached is not None else None
        if cached is None or card_type is None:
            return {"kind": "value", "cap": 0, "spent": 0, "left": 0, "value": value}
        spent = self.spool.card_spent(card_no)
        totals = self.spool.totals()
        left = min(max(0, card_type.offline_cap - spent), max(0, value))
        if card_type.kind == "value":
            left = min(left, max(0, self.settings.offline_terminal_limit - totals["fen"]))
        if totals["entries"] >= self.settings.offline_max_entries:
            left = 0
        return {"kind": card_type.kind, "cap": card_type.offline_cap, "spent": spent, "left": left, "value": value}

    def _cached_type(self, cached: CachedCard) -> CachedType:
        """The card's type from the cache; a type the cache has not seen yet is refused like an
        unknown card."""
        card_type = self.spool.card_type(cached.type_code)
        if card_type is None:
            raise CardRefused(_("Card {card} is not known to this terminal: it cannot pay while the database is "
                                "unreachable.").format(card=cached.card_no), card=cached.card_no,
                              reason="unknown_offline")
        return card_type

    def _read(self, actor: Actor, card: Any) -> PurseState:
        try:
            return self.card_format.read(card)
        except (TamperedCard, ForeignCard) as exc:
            uid = chip_uid(card)
            row = self.spool._one("SELECT card_no FROM cards WHERE uid = ?", uid)
            if row is not None:
                self.spool.detected_offline(row["card_no"], uid, "tampered", actor.username, {"error": exc.code})
            raise

    def _landed(self, key: str, state: PurseState) -> dict[str, Any] | None:
        """A retry of a consume whose chip write may have landed before the card left."""
        pending = self.spool.pending(key)
        if pending is None or pending["card_no"] != state.card_number:
            return None
        if (state.counter == pending["counter_before"] + 1 and state.value == pending["value_after"]
                and state.last.terminal == self.label):
            return {**json.loads(pending["plan"]), "value_before": pending["value_before"]}
        return None

    def _admit(self, actor: Actor, state: PurseState) -> CachedCard:
        number, uid = state.card_number, state.uid_hex
        cached = self.spool.card(number)
        if cached is None:
            raise CardRefused(_("Card {card} is not known to this terminal: it cannot pay while the database is "
                                "unreachable.").format(card=number), card=number, reason="unknown_offline")
        if self.spool.blacklisted(number, uid) is not None or cached.status == "lost":
            raise CardRefused(_("Card {card} is blacklisted (reported lost).").format(card=number),
                              card=number, reason="blacklisted")
        detected = self._detect(cached, state)
        if detected is not None:
            reason, details = detected
            self.spool.detected_offline(number, uid, reason, actor.username, details)
            raise clone_refusal(number, reason, offline=True)
        if cached.status != "active":
            raise CardRefused(_("Card {card} is not active (status: {status}).").format(
                card=number, status=cached.status), card=number, reason="not_active")
        if cached.expires_on is not None and cached.expires_on < self._clock().astimezone(self.settings.zone).date():
            raise CardRefused(_("Card {card} expired on {date}.").format(
                card=number, date=cached.expires_on.isoformat()), card=number, reason="expired")
        return cached

    def _detect(self, cached: CachedCard, state: PurseState) -> tuple[str, dict[str, Any]] | None:
        """The server's checks against what this terminal knows: the cached card and its own queue."""
        uid = state.uid_hex
        if cached.uid and cached.uid != uid:
            return "clone", {"uid": uid, "registered_uid": cached.uid, "counter": state.counter}
        known = [(cached.counter, cached.fingerprint)]
        mine = self.spool.last_counter(cached.card_no)
        if mine is not None:
            known.append(mine)
        for counter, fingerprint in known:
            if state.counter < counter:
                return "rollback", {"uid": uid, "counter": state.counter, "known_counter": counter}
            if state.counter == counter and fingerprint and fingerprint != state.fingerprint:
                return "fork", {"uid": uid, "counter": state.counter, "fingerprint": state.fingerprint,
                                "known_fingerprint": fingerprint}
        return None

    def _plan(self, state: PurseState, cached: CachedCard, card_type: CachedType, *, amount: int, counts: int,
              category: str) -> dict[str, Any]:
        number = cached.card_no
        if card_type.category in STAFF_CATEGORIES:
            raise CardRefused(_("Card {card} is a staff card ({category}): it carries no money.").format(
                card=number, category=card_type.category), card=number, reason="staff_card")
        if card_type.category == "free":
            raise CardRefused(_("Card {card} is a free card: it is checked online only.").format(card=number),
                              card=number, reason="unknown_offline")
        if not (card_type.accepted_at(self.venue_code, self.settings.merchant, self.settings.terminal_group)
                and self.settings.takes(card_type.code)):
            raise CardRefused(_("Card {card} is not accepted here (venue {venue}).").format(
                card=number, venue=self.venue_code), card=number, reason="not_accepted")
        if card_type.kind == "count":
            if amount:
                raise CardRefused(_("Card {card} holds counts, not money.").format(card=number))
            if counts <= 0:
                raise InvalidInput(_("The count must be more than 0."))
            charged, list_price = counts, 0
        else:
            if counts:
                raise CardRefused(_("Card {card} holds money, not counts.").format(card=number))
            if amount <= 0:
                raise InvalidInput(_("The amount must be more than 0."))
            charged, list_price = apply_multiplier(amount, BP - card_type.discount_bp), amount
            if charged <= 0:
                raise InvalidInput(_("Nothing to pay after the discount."))
        shown = str if card_type.kind == "count" else yuan
        spent = self.spool.card_spent(number)
        if spent + charged > card_type.offline_cap:
            raise CardRefused(_("Card {card} may spend {cap} offline; {left} is left until the terminal is "
                                "back online.").format(card=number, cap=shown(card_type.offline_cap),
                                                       left=shown(max(0, card_type.offline_cap - spent))),
                              card=number, reason="offline_cap", cap=card_type.offline_cap, spent=spent)
        totals = self.spool.totals()
        fen = totals["fen"] + (charged if card_type.kind == "value" else 0)
        if totals["entries"] + 1 > self.settings.offline_max_entries or fen > self.settings.offline_terminal_limit:
            raise CardRefused(_("This terminal has taken all it may offline ({entries} payments, {total} yuan): "
                                "card payments resume when the database is back.").format(
                entries=totals["entries"], total=yuan(totals["fen"])), card=number, reason="offline_limit")
        if charged > state.value:
            raise InsufficientBalance(_("Insufficient balance on card {card}: {short} short.").format(
                card=number, short=shown(charged - state.value)), card=number, shortfall=charged - state.value)
        plan = {"kind": card_type.kind, "amount": list_price, "counts": counts if card_type.kind == "count" else 0,
                "charged": charged, "category": category, "discount": list_price - charged if list_price else 0}
        return plan

    def _queue(self, actor: Actor, key: str, written: PurseState, plan: dict[str, Any], device: str) -> dict[str, Any]:
        entry = QueuedConsume(
            seq=0, key=key, card_no=written.card_number, uid=written.uid_hex, kind=plan["kind"], amount=plan["amount"],
            counts=plan["counts"], charged=plan["charged"], category=plan["category"],
            value_before=plan["value_before"], value_after=written.value, counter_after=written.counter,
            fingerprint_after=written.fingerprint, at=self._clock(), venue=self.venue_code,
            terminal=self.terminal_code, operator=actor.username, device=device)
        self.spool.enqueue(entry)
        done = self.spool.queued(key)
        assert done is not None
        return self._result(done, replayed=False, state=written)

    def _result(self, entry: QueuedConsume, *, replayed: bool, state: PurseState | None = None) -> dict[str, Any]:
        value = entry.kind == "value"
        return {"card_no": entry.card_no, "offline": True, "queued": True, "replayed": replayed, "key": entry.key,
                "entry_id": None, "list_price": entry.amount, "charged": entry.charged if value else 0,
                "discount": entry.amount - entry.charged if value else 0, "counts": entry.counts,
                "purse": state_dict(state) if state is not None else {
                    "card_no": entry.card_no, "uid": entry.uid, "value": entry.value_after,
                    "counter": entry.counter_after, "fingerprint": entry.fingerprint_after},
                "spool": self.spool.totals()}


# ---------------------------------------------------------------- uploading


class CardTerminal:
    """A POS with a reader: online through ``PurseService`` while the database answers, offline
    through the spool when it does not (the status bar's "offline"), upload with ``drain``."""

    def __init__(self, purse: PurseService, spool: OfflineSpool) -> None:
        self.purse = purse
        self.spool = spool
        self.offline = OfflineConsume(spool, purse.card_format, venue_code=purse.venue_code,
                                      terminal_code=purse.terminal_code, settings=purse.settings, clock=purse._clock)

    @classmethod
    def from_app(cls, app: Any) -> "CardTerminal":
        return cls(PurseService.from_app(app), OfflineSpool.for_app(app))

    def consume(self, actor: Actor, card: Any, *, key: str, amount: int = 0, counts: int = 0,
                category: str = DEFAULT_CATEGORY, device: str = "") -> dict[str, Any]:
        """Online ``consume_on_reader``; offline (``offline = True``, queued) when the database
        cannot be reached. A retry of a payment this terminal took offline (its key is queued,
        or its chip write was under way) stays offline: it returns the queued payment, or settles
        the write, never charging twice."""
        if self.spool.queued(_key(key)) is not None or self.spool.pending(_key(key)) is not None:
            return self.offline.consume(actor, card, key=key, amount=amount, counts=counts, category=category,
                                        device=device)
        try:
            result = self.purse.consume_on_reader(actor, card, key=key, amount=amount, counts=counts,
                                                  category=category, device=device)
        except CardRefused as exc:
            self._note_refusal(actor, card, exc)
            raise
        except Exception as exc:  # noqa: BLE001 - only "database down" goes offline
            if not database_down(exc):
                raise
            log.warning("database unreachable, consuming offline: %s", exc)
            return self.offline.consume(actor, card, key=key, amount=amount, counts=counts, category=category,
                                        device=device)
        self._remember(actor, result["card_no"], result.get("purse"))
        return result

    def top_up_on_reader(self, actor: Actor, card: Any, *, key: str, amount: int = 0,
                         counts: int = 0) -> dict[str, Any]:
        """``PurseService.top_up_on_reader``, the card then noted in the cache. Online only: a
        top-up needs the database (its error says so when it cannot be reached)."""
        try:
            result = self.purse.top_up_on_reader(actor, card, key=key, amount=amount, counts=counts)
        except CardRefused as exc:
            self._note_refusal(actor, card, exc)
            raise
        self._remember(actor, result["card_no"], result.get("purse"))
        return result

    def sync_on_tap(self, actor: Actor, card: Any) -> dict[str, Any]:
        try:
            result = self.purse.sync_on_tap(actor, card)
        except CardRefused as exc:
            self._note_refusal(actor, card, exc)
            raise
        self._cache(result, result.get("purse"))
        return result

    def tap(self, actor: Actor, card: Any) -> dict[str, Any]:
        """A card presented: ``sync_on_tap`` while the database answers (``offline = False``);
        when it cannot be reached, the chip checked against the spool (``OfflineConsume.inspect``,
        ``offline = True``, with what the card may still pay offline)."""
        try:
            result = self.sync_on_tap(actor, card)
        except Exception as exc:  # noqa: BLE001 - only "database down" goes offline
            if not database_down(exc):
                raise
            log.warning("database unreachable, card checked offline: %s", exc)
            return self.offline.inspect(actor, card)
        result["offline"] = False
        return result

    def allowance(self, card_no: str, value: int) -> dict[str, Any]:
        """What the card may still pay offline here (``OfflineConsume.allowance``)."""
        return self.offline.allowance(card_no, value)

    def _remember(self, actor: Actor, card_no: str, purse: dict[str, Any] | None) -> None:
        try:
            card = self.purse.query(actor, card_no, _checked=True)
        except Exception as exc:  # noqa: BLE001 - the cache is refreshed again at the next drain
            log.info("could not refresh card %s in the offline cache: %s", card_no, exc)
            return
        self._cache(card, purse)

    def _cache(self, card: dict[str, Any], purse: dict[str, Any] | None) -> None:
        """Note one card in the cache; a card type the cache lacks brings a whole refresh."""
        self.spool.remember({**card, "purse": purse})
        if self.spool.card_type(str(card["type"])) is None:
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - refreshed again at the next drain
                log.info("could not refresh the offline cache: %s", exc)

    def _note_refusal(self, actor: Actor, card: Any, exc: CardRefused) -> None:
        """A clone refused online goes on this terminal's blacklist at once; if the database
        could not record it, it is reported at the next drain."""
        if exc.details.get("reason") != "clone" or exc.details.get("offline"):
            return
        card_no = str(exc.details.get("card", ""))
        uid = chip_uid(card)
        if exc.details.get("recorded", True):
            with self.spool.transaction() as db:
                db.execute("INSERT OR REPLACE INTO blacklist VALUES (?, ?, ?, 'server', ?)",
                           (card_no, uid, exc.details.get("detected", "clone"), _iso(utcnow())))
        else:
            self.spool.detected_offline(card_no, uid, str(exc.details.get("detected", "clone")), actor.username,
                                        {})

    def drain(self, actor: Actor) -> dict[str, Any]:
        return drain(self.purse, self.spool, actor)

    def refresh(self) -> dict[str, int]:
        with self.purse._uow.read() as uow:
            return self.spool.refresh(uow.session)

    def status(self) -> dict[str, Any]:
        return self.spool.status(self.purse.settings)


__all__ = ["CachedCard", "CachedType", "CardTerminal", "OfflineConsume", "OfflineSpool", "QueuedConsume",
           "SCHEMA_VERSION", "drain", "upload_entry"]
