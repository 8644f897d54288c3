"""Offline consumption (W6): the terminal's spool, a consume while the database is unreachable,
and the upload (``drain``) once it is back.

The spool is a local SQLite file (``[plugins.wallet] offline_spool``; WAL, ``synchronous=FULL``,
schema versioned with ``PRAGMA user_version``). It holds what the terminal needs offline, as
refreshed while online: the card types (tier discount, offline cap, where they are accepted),
every card's number, UID, type, status, expiry and last known purse counter and fingerprint,
and the blacklist of lost card numbers and UIDs. And it holds the queue of consumes taken
offline, in order, each under its idempotency key, plus the clone detections made offline.

    spool = OfflineSpool.open(path)                   # or OfflineSpool.for_app(app)
    terminal = CardTerminal(PurseService.from_app(app), spool)
    terminal.consume(actor, reader_card, key=key, amount=3000)   # online, or offline when the database is down
    terminal.drain(actor)                                        # upload the queue

The rules (what is refused offline, the price, the caps, what an upload does with a fork or an
over-spend) are in docs/wallet-purse.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.cardformat import ForeignCard, PurseState, TamperedCard
from suite.audit.log import record
from suite.db.base import utcnow
from suite.errors import InvalidInput, PermissionDenied, SuiteError
from suite.i18n import N_, _
from suite.identity.actor import Actor
from suite.ledger import LineSpec
from suite.ledger.models import Entry
from suite.local_file import LocalFile

from plugins.wallet.core import (
    CARD_COUNTS, CARD_POINTS, CNY, COUNT, GIFT, MAIN, POINTS, STAFF_CATEGORIES, CardRefused, InsufficientBalance,
    _key, _text, _whole, balances_of,
)
from plugins.wallet.models import Card, CardEvent, CardType, PurseRecord, codes
from plugins.wallet.pricing import BP, SaleContext, SaleItem, apply_multiplier, price_sale
from plugins.wallet.purse import (
    PurseService, chip_uid, clone_refusal, database_down, note_seen, record_at, state_dict, terminal_label,
)
from plugins.wallet.services import DEFAULT_CATEGORY, card_terms, yuan
from plugins.wallet.settings import WalletSettings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE card_types (
    code TEXT PRIMARY KEY, kind TEXT NOT NULL, category TEXT NOT NULL, discount_bp INTEGER NOT NULL,
    offline_cap INTEGER NOT NULL, accepted_venues TEXT NOT NULL, accepted_merchants TEXT NOT NULL,
    accepted_terminal_groups TEXT NOT NULL);
CREATE TABLE cards (
    card_no TEXT PRIMARY KEY, uid TEXT, type_code TEXT NOT NULL, status TEXT NOT NULL, expires_on TEXT,
    counter INTEGER NOT NULL, fingerprint TEXT NOT NULL);
CREATE INDEX cards_uid ON cards (uid);
CREATE TABLE blacklist (
    card_no TEXT NOT NULL, uid TEXT NOT NULL, reason TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('server', 'local')), at TEXT NOT NULL, PRIMARY KEY (card_no, origin));
CREATE TABLE queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, card_no TEXT NOT NULL, uid TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('value', 'count')), amount INTEGER NOT NULL, counts INTEGER NOT NULL,
    charged INTEGER NOT NULL CHECK (charged > 0), category TEXT NOT NULL, value_before INTEGER NOT NULL,
    value_after INTEGER NOT NULL, counter_after INTEGER NOT NULL, fingerprint_after TEXT NOT NULL,
    at TEXT NOT NULL, venue TEXT NOT NULL, terminal TEXT NOT NULL, operator TEXT NOT NULL, device TEXT NOT NULL);
CREATE INDEX queue_card ON queue (card_no);
CREATE TABLE alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, card_no TEXT NOT NULL, uid TEXT NOT NULL, reason TEXT NOT NULL,
    at TEXT NOT NULL, operator TEXT NOT NULL, details TEXT NOT NULL);
CREATE TABLE pending (
    key TEXT PRIMARY KEY, card_no TEXT NOT NULL, counter_before INTEGER NOT NULL, value_before INTEGER NOT NULL,
    value_after INTEGER NOT NULL, plan TEXT NOT NULL, at TEXT NOT NULL);
"""


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat()


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class CachedType:
    code: str
    kind: str
    category: str
    discount_bp: int
    offline_cap: int
    accepted_venues: str
    accepted_merchants: str
    accepted_terminal_groups: str

    def accepted_at(self, venue: str, merchant: str, terminal_group: str) -> bool:
        return all(not codes(allowed) or (bool(code) and code in codes(allowed)) for allowed, code in (
            (self.accepted_venues, venue), (self.accepted_merchants, merchant),
            (self.accepted_terminal_groups, terminal_group)))


@dataclass(frozen=True)
class CachedCard:
    card_no: str
    uid: str | None
    type_code: str
    status: str
    expires_on: dt.date | None
    counter: int
    fingerprint: str


@dataclass(frozen=True)
class QueuedConsume:
    """One consume taken offline: what the chip paid and the purse state it left."""

    seq: int
    key: str
    card_no: str
    uid: str
    kind: str
    amount: int  # list price (fen); 0 for a count card
    counts: int
    charged: int  # fen taken off the chip (value card) or counts
    category: str
    value_before: int
    value_after: int
    counter_after: int
    fingerprint_after: str
    at: dt.datetime
    venue: str
    terminal: str
    operator: str
    device: str

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["at"] = _iso(self.at)
        return data


# ---------------------------------------------------------------- the spool file


class OfflineSpool(LocalFile):
    """The terminal's local SQLite spool. Thread-safe; every change is one transaction."""

    SCHEMA = _SCHEMA
    SCHEMA_VERSION = SCHEMA_VERSION
    WHAT = N_("offline spool")

    @classmethod
    def open(cls, path: Path | str) -> "OfflineSpool":
        return cls(path)

    @classmethod
    def for_settings(cls, settings: WalletSettings, data_dir: Path | str) -> "OfflineSpool":
        return cls(settings.offline_spool.replace("{data_dir}", str(data_dir)))

    @classmethod
    def for_app(cls, app: Any) -> "OfflineSpool":
        from plugins.wallet.settings import settings_of

        return cls.for_settings(settings_of(app), app.settings.data_dir)

    # ------------------------------------------------------------ cache (refreshed while online)

    def refresh(self, session: Session) -> dict[str, int]:
        """Replace the cached card types, cards and server blacklist with the database's. A
        card's counter never goes back: the higher of the cache's and the server's is kept."""
        types = session.scalars(select(CardType)).all()
        codes_by_id = {t.id: t.code for t in types}
        cards = session.execute(select(Card.card_no, Card.uid, Card.type_id, Card.status, Card.expires_on,
                                       Card.counter, Card.purse_fingerprint)).all()
        now = _iso(utcnow())
        with self.transaction() as db:
            db.execute("DELETE FROM card_types")
            db.executemany("INSERT INTO card_types VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (t.code, t.kind, t.category, t.discount_bp, t.offline_cap, t.accepted_venues, t.accepted_merchants,
                 t.accepted_terminal_groups) for t in types])
            known = {r["card_no"]: (r["counter"], r["fingerprint"])
                     for r in db.execute("SELECT card_no, counter, fingerprint FROM cards")}
            db.execute("DELETE FROM cards")
            rows = []
            for c in cards:
                counter, fingerprint = c.counter, c.purse_fingerprint
                local = known.get(c.card_no)
                if local is not None and local[0] > counter:
                    counter, fingerprint = local
                rows.append((c.card_no, c.uid, codes_by_id[c.type_id], c.status,
                             c.expires_on.isoformat() if c.expires_on else None, counter, fingerprint))
            db.executemany("INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("DELETE FROM blacklist WHERE origin = 'server'")
            db.executemany("INSERT INTO blacklist VALUES (?, ?, 'lost', 'server', ?)",
                           [(c.card_no, c.uid or "", now) for c in cards if c.status == "lost"])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('refreshed_at', ?)", (now,))
        return {"card_types": len(types), "cards": len(cards),
                "blacklisted": sum(1 for c in cards if c.status == "lost")}

    def remember(self, card: dict[str, Any]) -> None:
        """Update one card from a server answer (``query``'s dict) after an online operation."""
        purse = card.get("purse") or {}
        with self.transaction() as db:
            row = db.execute("SELECT counter, fingerprint FROM cards WHERE card_no = ?", (card["card_no"],)).fetchone()
            counter, fingerprint = card.get("counter", 0), ""
            if purse.get("counter") is not None and purse["counter"] >= counter:
                counter, fingerprint = purse["counter"], purse.get("fingerprint", "")
            if row is not None and row["counter"] > counter:
                counter, fingerprint = row["counter"], row["fingerprint"]
            db.execute("INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?, ?, ?, ?)", (
                card["card_no"], card.get("uid"), card["type"], card["status"], card.get("expires_on"), counter,
                fingerprint))
            if card["status"] == "lost":
                db.execute("INSERT OR REPLACE INTO blacklist VALUES (?, ?, 'lost', 'server', ?)",
                           (card["card_no"], card.get("uid") or "", _iso(utcnow())))

    def card(self, card_no: str) -> CachedCard | None:
        row = self._one("SELECT * FROM cards WHERE card_no = ?", card_no)
        if row is None:
            return None
        return CachedCard(row["card_no"], row["uid"], row["type_code"], row["status"],
                          dt.date.fromisoformat(row["expires_on"]) if row["expires_on"] else None,
                          row["counter"], row["fingerprint"])

    def card_type(self, code: str) -> CachedType | None:
        row = self._one("SELECT * FROM card_types WHERE code = ?", code)
        return CachedType(**dict(row)) if row is not None else None

    def blacklisted(self, card_no: str, uid: str) -> str | None:
        row = self._one("SELECT reason FROM blacklist WHERE card_no = ? OR (uid != '' AND uid = ?)", card_no, uid)
        return row["reason"] if row is not None else None

    def detected_offline(self, card_no: str, uid: str, reason: str, operator: str, details: dict[str, Any]) -> None:
        """A clone, rollback or fork caught offline: blacklisted here at once, reported at the next drain."""
        now = _iso(utcnow())
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO blacklist VALUES (?, ?, ?, 'local', ?)", (card_no, uid, reason, now))
            db.execute("INSERT INTO alerts (card_no, uid, reason, at, operator, details) VALUES (?, ?, ?, ?, ?, ?)",
                       (card_no, uid, reason, now, operator, json.dumps(details, sort_keys=True, default=str)))

    # ------------------------------------------------------------ queue

    def queued(self, key: str) -> QueuedConsume | None:
        row = self._one("SELECT * FROM queue WHERE key = ?", key)
        return self._entry(row) if row is not None else None

    def entries(self) -> list[QueuedConsume]:
        return [self._entry(row) for row in self._all("SELECT * FROM queue ORDER BY seq")]

    @staticmethod
    def _entry(row: sqlite3.Row) -> QueuedConsume:
        data = dict(row)
        data["at"] = _when(data["at"])
        return QueuedConsume(**data)

    def card_spent(self, card_no: str) -> int:
        """What this card spent offline here and is still queued (fen, or counts)."""
        row = self._one("SELECT COALESCE(SUM(charged), 0) AS spent FROM queue WHERE card_no = ?", card_no)
        return int(row["spent"]) if row else 0

    def last_counter(self, card_no: str) -> tuple[int, str] | None:
        """The highest purse counter this terminal queued for the card, with its fingerprint."""
        row = self._one("SELECT counter_after, fingerprint_after FROM queue WHERE card_no = ? "
                        "ORDER BY counter_after DESC LIMIT 1", card_no)
        return (int(row["counter_after"]), row["fingerprint_after"]) if row else None

    def totals(self) -> dict[str, int]:
        row = self._one("SELECT COUNT(*) AS entries, COALESCE(SUM(CASE WHEN kind = 'value' THEN charged END), 0) "
                        "AS fen, COALESCE(SUM(CASE WHEN kind = 'count' THEN charged END), 0) AS counts FROM queue")
        assert row is not None
        return {"entries": int(row["entries"]), "fen": int(row["fen"]), "counts": int(row["counts"])}

    def pending(self, key: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM pending WHERE key = ?", key)

    def begin_write(self, key: str, state: PurseState, value_after: int, plan: dict[str, Any]) -> None:
        """Before the chip is written: if the card leaves mid-write, a retry with the same key
        tells from the chip whether the write landed."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (key, state.card_number, state.counter, state.value, value_after,
                        json.dumps(plan, sort_keys=True), _iso(utcnow())))

    def enqueue(self, entry: QueuedConsume) -> None:
        """Queue a consume whose purse write is done, drop its pending mark and note the chip's
        new counter in the cache: one transaction."""
        data = entry.as_dict()
        data.pop("seq")
        columns = ", ".join(data)
        with self.transaction() as db:
            db.execute(f"INSERT INTO queue ({columns}) VALUES ({', '.join('?' for _c in data)})", tuple(data.values()))
            db.execute("DELETE FROM pending WHERE key = ?", (entry.key,))
            db.execute("UPDATE cards SET counter = ?, fingerprint = ? WHERE card_no = ? AND counter < ?",
                       (entry.counter_after, entry.fingerprint_after, entry.card_no, entry.counter_after))

    def dequeue(self, key: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM queue WHERE key = ?", (key,))

    def alerts(self) -> list[dict[str, Any]]:
        return [{**dict(row), "details": json.loads(row["details"])} for row in
                self._all("SELECT * FROM alerts ORDER BY seq")]

    def alert_reported(self, seq: int, card_no: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM alerts WHERE seq = ?", (seq,))
            if db.execute("SELECT 1 FROM alerts WHERE card_no = ?", (card_no,)).fetchone() is None:
                db.execute("DELETE FROM blacklist WHERE card_no = ? AND origin = 'local'", (card_no,))

    def status(self, settings: WalletSettings | None = None) -> dict[str, Any]:
        """Queue length and totals, the limits, cached cards and the last refresh."""
        totals = self.totals()
        refreshed = self._one("SELECT value FROM meta WHERE key = 'refreshed_at'")
        result: dict[str, Any] = {
            "spool": str(self.path), "entries": totals["entries"], "total": totals["fen"], "counts": totals["counts"],
            "alerts": len(self._all("SELECT seq FROM alerts")),
            "cards_cached": int(self._one("SELECT COUNT(*) AS n FROM cards")["n"]),  # type: ignore[index]
            "blacklisted": int(self._one("SELECT COUNT(DISTINCT card_no) AS n FROM blacklist")["n"]),  # type: ignore[index]
            "refreshed_at": refreshed["value"] if refreshed else None}
        if settings is not None:
            result.update({"terminal_limit": settings.offline_terminal_limit,
                           "max_entries": settings.offline_max_entries})
        return result


# ---------------------------------------------------------------- consuming offline


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


def _offline_actor(entry: QueuedConsume, actor: Actor) -> Actor:
    """The operator who took the payment, for the event and the ledger (no permissions)."""
    return Actor(user_id=None, username=entry.operator or actor.username, display_name=entry.operator,
                 permissions=frozenset(), venue_id=actor.venue_id, terminal_id=actor.terminal_id)


def _offline_replayed(session: Session, card: Card, key: str) -> tuple[bool, uuid.UUID | None]:
    entry_id = session.scalar(select(Entry.id).where(Entry.idempotency_key == key))
    if entry_id is not None:
        return True, entry_id
    event = session.scalar(select(CardEvent.id).where(
        CardEvent.card_id == card.id, CardEvent.offline.is_(True),
        CardEvent.details.contains(json.dumps({"key": key}, ensure_ascii=False)[1:-1], autoescape=True)))
    return event is not None, None


def upload_entry(service: PurseService, actor: Actor, entry: QueuedConsume) -> dict[str, Any]:
    """Post one queued consume (idempotent by its key: a replay changes nothing). Returns what
    happened: ``posted``/``replayed``, ``covered`` and ``shortfall``, and ``conflict`` (a fork)."""
    outcome: dict[str, Any] = {"key": entry.key, "card_no": entry.card_no, "counter": entry.counter_after,
                               "charged": entry.charged, "replayed": False, "conflict": None, "shortfall": 0}
    with service._uow() as uow:
        session = uow.session
        card = service._card(session, entry.card_no, lock=True)
        card_type = session.get_one(CardType, card.type_id)
        replayed, entry_id = _offline_replayed(session, card, entry.key)
        if replayed:
            if record_at(session, card.id, entry.counter_after) is None:
                _record(service, session, actor, card, entry, entry_id)
                uow.commit()
            outcome.update(replayed=True, covered=None)
            return outcome
        who = _offline_actor(entry, actor)
        known = record_at(session, card.id, entry.counter_after)
        if known is not None and known.fingerprint != entry.fingerprint_after:
            outcome["conflict"] = {"reason": "fork", "counter": entry.counter_after,
                                   "fingerprint": entry.fingerprint_after, "known_fingerprint": known.fingerprint,
                                   "known_terminal": known.terminal_code, "terminal": entry.terminal}
        balances = balances_of(session, card.card_no)
        if entry.kind == "count":
            covered = min(entry.charged, balances["counts"])
            lines = [LineSpec(service._card_account(session, card.card_no, CARD_COUNTS).id, -covered),
                     LineSpec(service._venue_account(session, "counts.used", COUNT).id, covered)] if covered else []
            paid: dict[str, Any] = {"counts": covered}
        else:
            covered, lines, paid = _money_lines(service, session, card, card_type, entry, balances)
        outcome["covered"] = covered
        outcome["shortfall"] = entry.charged - covered
        if lines:
            entry_id = service._post(session, who, card, key=entry.key, kind="wallet.consume", lines=lines).entry_id
        service._event(session, who, card, "consume", amount=-covered, unit=COUNT if entry.kind == "count" else CNY,
                       entry_id=entry_id, device=entry.device, offline=True, at=entry.at, key=entry.key,
                       list_price=entry.amount, charged=entry.charged, shortfall=outcome["shortfall"],
                       counter=entry.counter_after, offline_terminal=entry.terminal, **paid)
        if known is None:
            _record(service, session, actor, card, entry, entry_id)
        elif outcome["conflict"] is None and known.entry_id is None:
            known.entry_id = entry_id
        note_seen(card, entry.counter_after, entry.fingerprint_after)
        if outcome["conflict"] is not None:
            details = {k: v for k, v in outcome["conflict"].items() if k != "reason"}
            service._blacklist(session, actor, card, "fork", {"uid": entry.uid, "key": entry.key, **details})
        if outcome["shortfall"]:
            service._blacklist(session, actor, card, "shortfall", {
                "uid": entry.uid, "key": entry.key, "charged": entry.charged, "covered": covered,
                "uncovered": outcome["shortfall"], "counter": entry.counter_after, "offline_terminal": entry.terminal})
        uow.commit()
    outcome["entry_id"] = str(entry_id) if entry_id else None
    return outcome


def _record(service: PurseService, session: Session, actor: Actor, card: Card, entry: QueuedConsume,
            entry_id: uuid.UUID | None) -> None:
    session.add(PurseRecord(card_id=card.id, counter=entry.counter_after, fingerprint=entry.fingerprint_after,
                            value_after=entry.value_after, amount=entry.value_after - entry.value_before,
                            terminal_code=terminal_label(entry.venue, entry.terminal, offline=True), at=entry.at, source="offline",
                            entry_id=entry_id, venue_id=actor.venue_id, terminal_id=actor.terminal_id))
    session.flush()
    note_seen(card, entry.counter_after, entry.fingerprint_after)


def _money_lines(service: PurseService, session: Session, card: Card, card_type: CardType, entry: QueuedConsume,
                 balances: dict[str, int]) -> tuple[int, list[LineSpec], dict[str, Any]]:
    """The chip paid ``charged`` fen (the discount was taken offline): split it between the gift
    and main wallets by the card type's rules and balances, earn points on main; when the
    balances cannot cover it all, what they cover."""
    terms = dataclasses.replace(card_terms(card_type, balances, [entry.category]), tier_discount_bp=0)
    local = entry.at.astimezone(service.settings.zone).replace(tzinfo=None)
    context = SaleContext(at=local, venue=entry.venue, merchant=service.settings.merchant or None)

    def quote(total: int) -> Any:
        return price_sale([SaleItem(sku=entry.category, category=entry.category, unit_price=total)], terms, context)

    priced = quote(entry.charged)
    covered = entry.charged
    if not priced.ok:
        covered = entry.charged - priced.shortfall
        priced = quote(covered) if covered > 0 else None
    if priced is None:
        return 0, [], {"paid_main": 0, "paid_gift": 0, "points_earned": 0}
    lines: list[LineSpec] = []

    def move(source: Any, target: Any, value: int) -> None:
        if value:
            lines.extend((LineSpec(source.id, -value), LineSpec(target.id, value)))

    move(service._card_account(session, card.card_no, MAIN), service._venue_account(session, "revenue"),
         priced.paid_main)
    move(service._card_account(session, card.card_no, GIFT), service._venue_account(session, "revenue.gift"),
         priced.paid_gift)
    move(service._chain_account(session, "points.issued", POINTS), service._card_account(session, card.card_no,
                                                                                       CARD_POINTS),
         priced.points_earned)
    return covered, lines, {"paid_main": priced.paid_main, "paid_gift": priced.paid_gift,
                            "points_earned": priced.points_earned}


def upload_alert(service: PurseService, actor: Actor, alert: dict[str, Any]) -> dict[str, Any]:
    """A clone, rollback or fork caught offline: the card blacklisted and a security record."""
    with service._uow() as uow:
        session = uow.session
        card = session.scalars(select(Card).where(Card.card_no == alert["card_no"]).with_for_update()).one_or_none()
        details = {"uid": alert["uid"], "detected_at": alert["at"], "detected_by": alert["operator"], "offline": True,
                   **{k: v for k, v in alert["details"].items() if k not in ("amount", "unit", "at", "device")}}
        if card is not None:
            service._blacklist(session, actor, card, alert["reason"], details)
        else:
            record(session, kind="security", action="wallet.clone_detected", actor=actor.username,
                   target=alert["card_no"], details={"reason": alert["reason"], **details},
                   venue_id=actor.venue_id, terminal_id=actor.terminal_id)
        uow.commit()
    return {"card_no": alert["card_no"], "reason": alert["reason"]}


def drain(service: PurseService, spool: OfflineSpool, actor: Actor, *, refresh: bool = True) -> dict[str, Any]:
    """Upload the spool in order: each queued consume posted idempotently then taken off the
    queue (a crash in between replays harmlessly), the offline detections reported, the cache
    refreshed. Forks and over-spends are in ``conflicts``/``shortfalls`` (and the security
    log); an entry the server refuses stays queued and is listed in ``held``. A database that
    goes away stops the drain; what is left stays queued."""
    service._begin(actor, "wallet.consume")
    report: dict[str, Any] = {"posted": 0, "replayed": 0, "conflicts": [], "shortfalls": [], "alerts": [],
                              "held": [], "left": 0}
    for entry in spool.entries():
        try:
            outcome = upload_entry(service, actor, entry)
        except SuiteError as exc:
            if database_down(exc):
                raise
            report["held"].append({"key": entry.key, "card_no": entry.card_no, **exc.as_dict()})
            continue
        spool.dequeue(entry.key)
        report["replayed" if outcome["replayed"] else "posted"] += 1
        if outcome["conflict"] is not None:
            report["conflicts"].append({"key": entry.key, "card_no": entry.card_no, **outcome["conflict"]})
        if outcome["shortfall"]:
            report["shortfalls"].append({"key": entry.key, "card_no": entry.card_no, "charged": entry.charged,
                                         "covered": outcome["covered"], "uncovered": outcome["shortfall"]})
    for alert in spool.alerts():
        report["alerts"].append(upload_alert(service, actor, alert))
        spool.alert_reported(alert["seq"], alert["card_no"])
    if refresh:
        with service._uow.read() as uow:
            report["refreshed"] = spool.refresh(uow.session)
    report["left"] = spool.totals()["entries"]
    return report


# ---------------------------------------------------------------- the terminal


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
           "SCHEMA_VERSION", "drain", "upload_alert", "upload_entry"]
