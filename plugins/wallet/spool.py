"""The wallet terminal's offline spool (W6): a local SQLite file (``[plugins.wallet]
offline_spool``; see ``suite.local_file``). It holds what the terminal needs offline, as
refreshed while online: the card types (tier discount, offline cap, where they are accepted),
every card's number, UID, type, status, expiry and last known purse counter and fingerprint, and
the blacklist of lost card numbers and UIDs; and the queue of consumes taken offline, in order,
each under its idempotency key, plus the clone detections made offline (docs/wallet-purse.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.cardformat import PurseState
from suite.db.base import utcnow
from suite.i18n import N_
from suite.local_file import LocalFile

from plugins.wallet.models import Card, CardType, codes
from plugins.wallet.settings import WalletSettings


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


__all__ = ["SCHEMA_VERSION", "CachedCard", "CachedType", "OfflineSpool", "QueuedConsume"]
