"""The offline gate's own SQLite file (G2; docs/checkin-offline.md).

``OfflineStore`` keeps a copy of what ``CheckinService.snapshot`` returns (lists, channels,
plain codes, revoked ticket serials, cards, usage per list and credential, the ticket keys) and
the spool of what this gate recorded: entries it decided offline, and passages or closes of
entries decided online that could not be written. Every change this gate makes to the cached
usage is also kept as an effect of its spool item, so ``refresh`` lays a new snapshot down and
plays back what the database has not received yet. ``drain`` uploads the spool with
``CheckinService.upload``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from suite.db.base import utcnow
from suite.errors import DatabaseUnavailable, NotFound, SuiteError
from suite.i18n import N_, _
from suite.identity.actor import Actor
from suite.inputs import whole
from suite.local_file import LocalFile

from plugins.checkin import rules
from plugins.checkin.core import CheckinRefused
from plugins.checkin.credentials import channel_rules, list_rules
from plugins.checkin.service import entry_dict, usage_of
from plugins.checkin.settings import CheckinSettings

SCHEMA_VERSION = 1
KEEP = dt.timedelta(days=2)  # entries and uploaded spool items older than this go at a refresh
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE lists (code TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE channels (code TEXT PRIMARY KEY, list_code TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE codes (
    code TEXT PRIMARY KEY, lists TEXT NOT NULL, admits INTEGER NOT NULL, valid_from TEXT, valid_until TEXT,
    state TEXT NOT NULL);
CREATE TABLE revoked (serial TEXT PRIMARY KEY);
CREATE TABLE cards (
    card_no TEXT PRIMARY KEY, uid TEXT NOT NULL, status TEXT NOT NULL, expires_on TEXT, type TEXT NOT NULL,
    category TEXT NOT NULL, kind TEXT NOT NULL, counts INTEGER NOT NULL);
CREATE INDEX cards_uid ON cards (uid);
CREATE TABLE usage (
    list_code TEXT NOT NULL, credential TEXT NOT NULL, admitted INTEGER NOT NULL, reserved INTEGER NOT NULL,
    exited INTEGER NOT NULL, inside INTEGER NOT NULL, day TEXT, day_admitted INTEGER NOT NULL, last_at TEXT,
    last_channel TEXT NOT NULL, PRIMARY KEY (list_code, credential));
CREATE TABLE public_keys (key TEXT PRIMARY KEY);
CREATE TABLE entries (
    nonce TEXT PRIMARY KEY, offline INTEGER NOT NULL, list_code TEXT NOT NULL, channel_code TEXT NOT NULL,
    venue_code TEXT NOT NULL, direction TEXT NOT NULL, kind TEXT NOT NULL, credential TEXT NOT NULL,
    label TEXT NOT NULL, reason TEXT NOT NULL, state TEXT NOT NULL, authorised INTEGER NOT NULL,
    passed INTEGER NOT NULL, session_ref TEXT NOT NULL, ticket_type TEXT NOT NULL, decided_at TEXT NOT NULL,
    closed_at TEXT, terminal_code TEXT NOT NULL, operator TEXT NOT NULL, note TEXT NOT NULL, code TEXT NOT NULL,
    conflict INTEGER NOT NULL, spool_seq INTEGER);
CREATE INDEX entries_decided ON entries (decided_at);
CREATE INDEX entries_credential ON entries (credential, channel_code);
CREATE TABLE spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL CHECK (op IN ('entry', 'passage', 'close')),
    nonce TEXT NOT NULL, idx INTEGER NOT NULL, at TEXT NOT NULL, uploaded_at TEXT, problem TEXT NOT NULL DEFAULT '',
    UNIQUE (op, nonce, idx));
CREATE TABLE effects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, spool_seq INTEGER NOT NULL, action TEXT NOT NULL, list_code TEXT NOT NULL,
    credential TEXT NOT NULL, direction TEXT NOT NULL, channel TEXT NOT NULL, at TEXT NOT NULL,
    persons INTEGER NOT NULL, count_card INTEGER NOT NULL);
CREATE TABLE conflicts (nonce TEXT PRIMARY KEY, reason TEXT NOT NULL, data TEXT NOT NULL);
"""


def database_down(exc: BaseException) -> bool:
    """True for the errors that mean "the database cannot be reached", not for a refused or
    conflicting statement (as ``plugins.wallet.purse.database_down``)."""
    if isinstance(exc, (DatabaseUnavailable, OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def default_path(settings: CheckinSettings, data_dir: Path | str) -> Path:
    """``[plugins.checkin] offline_path`` (``{data_dir}`` expanded), or ``<data dir>/checkin-offline.sqlite``."""
    if settings.offline_path:
        return Path(settings.offline_path.replace("{data_dir}", str(data_dir))).expanduser()
    return Path(data_dir).expanduser() / "checkin-offline.sqlite"


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _time(value: Any) -> dt.datetime | None:
    """A datetime from the store's text or a snapshot's value (datetime or ISO text)."""
    if value is None or value == "":
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when.astimezone(dt.timezone.utc)


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _day_text(value: Any) -> str | None:
    day = _date(value)
    return day.isoformat() if day else None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Effect:
    """One change this gate made to a credential's cached usage (and a count card's counts)."""

    action: str  # reserve | pass | release
    list_code: str
    credential: str
    direction: str
    channel: str
    at: dt.datetime
    persons: int = 1
    count_card: bool = False


def entry_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored entry as ``service.entry_dict`` reads it (times and flags typed)."""
    return {**row, "decided_at": _time(row["decided_at"]), "closed_at": _time(row["closed_at"]),
            "offline": bool(row["offline"]), "conflict": bool(row["conflict"])}


def _count_card(row: Mapping[str, Any]) -> bool:
    return row["kind"] == "card" and row["note"] == "count"


# ---------------------------------------------------------------- the gate's file


class OfflineStore(LocalFile):
    """The gate's SQLite file: the cached snapshot and the spool. Thread-safe; every change is
    one ``BEGIN IMMEDIATE`` transaction. ``zone``: the venue's day (per-day entries)."""

    SCHEMA = _SCHEMA
    SCHEMA_VERSION = SCHEMA_VERSION
    WHAT = N_("offline file")

    def __init__(self, path: Path | str, *, zone: ZoneInfo | None = None) -> None:
        self.zone = zone or CheckinSettings().zone
        super().__init__(path)

    def _all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _count(self, sql: str, *params: Any) -> int:
        row = self._one(sql, *params)
        return int(row[0]) if row is not None else 0

    # ------------------------------------------------------------ the cached snapshot

    def refresh(self, snapshot: Mapping[str, Any]) -> dict[str, int]:
        """Replace the cached copy with ``snapshot`` (``CheckinService.snapshot``), then play
        back the effects of what this gate recorded and has not uploaded yet. One transaction."""
        at = _time(snapshot["at"]) or utcnow()
        with self.transaction() as db:
            for table in ("lists", "channels", "codes", "revoked", "cards", "usage", "public_keys"):
                db.execute(f"DELETE FROM {table}")
            db.executemany("INSERT INTO lists VALUES (?, ?)", [
                (row["code"], json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True))
                for row in snapshot["lists"]])
            db.executemany("INSERT INTO channels VALUES (?, ?, ?)", [
                (row["code"], row["list_code"], json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True))
                for row in snapshot["channels"]])
            db.executemany("INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?)", [
                (row["code"], row["lists"], int(row["admits"]), _iso(_time(row.get("valid_from"))),
                 _iso(_time(row.get("valid_until"))), row["state"]) for row in snapshot["codes"]])
            db.executemany("INSERT OR IGNORE INTO revoked VALUES (?)", [(s,) for s in snapshot["revoked"]])
            db.executemany("INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (c["card_no"], (c.get("uid") or "").upper(), c["status"], _day_text(c.get("expires_on")), c["type"],
                 c["category"], c["kind"], int(c.get("counts") or 0)) for c in snapshot["cards"]])
            db.executemany(f"INSERT INTO usage VALUES ({', '.join('?' * 10)})", [
                (u["list_code"], u["credential"], int(u["admitted"]), int(u["reserved"]), int(u["exited"]),
                 int(u["inside"]), _day_text(u.get("day")), int(u["day_admitted"]), _iso(_time(u.get("last_at"))),
                 u.get("last_channel") or "") for u in snapshot["usage"]])
            db.executemany("INSERT OR IGNORE INTO public_keys VALUES (?)", [(k,) for k in snapshot["public_keys"]])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('refreshed_at', ?)", (_iso(at),))
            self._prune(db, at - KEEP)
            for effect in db.execute("SELECT e.* FROM effects e JOIN spool s ON s.seq = e.spool_seq "
                                     "WHERE s.uploaded_at IS NULL ORDER BY e.seq").fetchall():
                self.apply(db, Effect(effect["action"], effect["list_code"], effect["credential"],
                                      effect["direction"], effect["channel"], _time(effect["at"]) or at,
                                      int(effect["persons"]), bool(effect["count_card"])))
        return {"lists": len(snapshot["lists"]), "channels": len(snapshot["channels"]),
                "codes": len(snapshot["codes"]), "revoked": len(snapshot["revoked"]), "cards": len(snapshot["cards"]),
                "usage": len(snapshot["usage"])}

    @staticmethod
    def _prune(db: sqlite3.Connection, cutoff: dt.datetime) -> None:
        db.execute("DELETE FROM effects WHERE spool_seq IN (SELECT seq FROM spool WHERE uploaded_at IS NOT NULL)")
        db.execute("DELETE FROM spool WHERE uploaded_at IS NOT NULL AND at < ?", (_iso(cutoff),))
        db.execute("DELETE FROM entries WHERE decided_at < ? AND state != 'pending' "
                   "AND nonce NOT IN (SELECT nonce FROM spool)", (_iso(cutoff),))

    def refreshed_at(self) -> dt.datetime | None:
        row = self._one("SELECT value FROM meta WHERE key = 'refreshed_at'")
        return _time(row["value"]) if row is not None else None

    def list_codes_of(self, channels: tuple[str, ...]) -> set[str]:
        """The lists of these cached channels (what a refresh needs the usage of)."""
        if not channels:
            return set()
        marks = ", ".join("?" * len(channels))
        return {r["list_code"] for r in self._all(f"SELECT list_code FROM channels WHERE code IN ({marks})",
                                                  *channels)}

    # what the desk reads while deciding (inside its transaction)

    def rules_for(self, db: sqlite3.Connection, channel: str) -> tuple[rules.ListRules, rules.ChannelRules]:
        row = db.execute("SELECT c.data AS channel, l.data AS list FROM channels c JOIN lists l "
                         "ON l.code = c.list_code WHERE c.code = ?", (channel,)).fetchone()
        if row is None:
            if db.execute("SELECT 1 FROM meta WHERE key = 'refreshed_at'").fetchone() is None:
                raise CheckinRefused(_("This gate has no offline copy yet: it can check people in without the "
                                       "database only after the database has answered once."))
            raise NotFound(_("There is no active channel {code} (or its list is inactive).").format(code=channel),
                           code=channel)
        return list_rules(json.loads(row["list"])), channel_rules(json.loads(row["channel"]))

    def _list_rule(self, db: sqlite3.Connection, code: str) -> rules.ListRules:
        row = db.execute("SELECT data FROM lists WHERE code = ?", (code,)).fetchone()
        return list_rules(json.loads(row["data"])) if row is not None else rules.ListRules(code=code, venue="")

    @staticmethod
    def public_keys(db: sqlite3.Connection) -> tuple[str, ...]:
        return tuple(r["key"] for r in db.execute("SELECT key FROM public_keys ORDER BY key"))

    @staticmethod
    def revoked(db: sqlite3.Connection, serial: str) -> bool:
        return db.execute("SELECT 1 FROM revoked WHERE serial = ?", (serial,)).fetchone() is not None

    @staticmethod
    def card(db: sqlite3.Connection, scanned: str) -> dict[str, Any] | None:
        """The cached card whose chip UID or number was scanned (its counts: what is left here)."""
        row = db.execute("SELECT * FROM cards WHERE uid != '' AND uid = ?", (scanned.upper(),)).fetchone()
        row = row or db.execute("SELECT * FROM cards WHERE card_no = ?", (scanned,)).fetchone()
        if row is None:
            return None
        return {**dict(row), "expires_on": _date(row["expires_on"])}

    @staticmethod
    def plain_code(db: sqlite3.Connection, scanned: str) -> dict[str, Any] | None:
        row = db.execute("SELECT * FROM codes WHERE code = ?", (scanned,)).fetchone()
        if row is None:
            return None
        return {**dict(row), "valid_from": _time(row["valid_from"]), "valid_until": _time(row["valid_until"])}

    @staticmethod
    def usage(db: sqlite3.Connection, list_code: str, credential: str) -> dict[str, Any] | None:
        row = db.execute("SELECT * FROM usage WHERE list_code = ? AND credential = ?",
                         (list_code, credential)).fetchone()
        if row is None:
            return None
        return {**dict(row), "day": _date(row["day"]), "last_at": _time(row["last_at"])}

    def _save_usage(self, db: sqlite3.Connection, list_code: str, credential: str, usage: rules.Usage) -> None:
        db.execute(f"INSERT OR REPLACE INTO usage VALUES ({', '.join('?' * 10)})", (
            list_code, credential, usage.admitted, usage.reserved, usage.exited, usage.inside,
            _day_text(usage.day), usage.day_admitted, _iso(usage.last_at), usage.last_channel))

    def apply(self, db: sqlite3.Connection, effect: Effect, spool_seq: int | None = None) -> None:
        """Change the cached usage (and a count card's counts) as the database will once it has
        the spool item ``spool_seq``; the effect is kept for ``refresh`` while that item waits.
        ``None``: the database has it already (a result noted from an online call)."""
        usage = usage_of(self.usage(db, effect.list_code, effect.credential))
        if effect.action == "reserve":
            held = effect.persons if effect.direction == "in" else 0
            usage = replace(usage, reserved=usage.reserved + held, last_at=effect.at, last_channel=effect.channel)
        elif effect.action == "pass":
            usage = rules.after_passage(usage, self._list_rule(db, effect.list_code), effect.direction, effect.at,
                                        self.zone, channel=effect.channel, reserved=effect.direction == "in")
            if effect.count_card and effect.direction == "in":
                db.execute("UPDATE cards SET counts = MAX(0, counts - 1) WHERE card_no = ?",
                           (effect.credential.split(":", 1)[-1],))
        else:
            usage = rules.released(usage, effect.persons)
        self._save_usage(db, effect.list_code, effect.credential, usage)
        if spool_seq is not None:
            db.execute("INSERT INTO effects (spool_seq, action, list_code, credential, direction, channel, at, "
                       "persons, count_card) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (spool_seq, effect.action, effect.list_code, effect.credential, effect.direction,
                        effect.channel, _iso(effect.at), effect.persons, int(effect.count_card)))

    # ------------------------------------------------------------ entries

    def entry(self, nonce: str) -> dict[str, Any] | None:
        """The entry this gate recorded (offline) or saw decided online, as stored."""
        row = self._one("SELECT * FROM entries WHERE nonce = ?", nonce)
        return dict(row) if row is not None else None

    @staticmethod
    def find_entry(db: sqlite3.Connection, nonce: str) -> dict[str, Any] | None:
        row = db.execute("SELECT * FROM entries WHERE nonce = ?", (nonce,)).fetchone()
        return dict(row) if row is not None else None

    def insert_entry(self, db: sqlite3.Connection, values: Mapping[str, Any], *, code: str = "",
                     effects: bool = True) -> dict[str, Any]:
        """Record an entry (``values``: the fields ``entry_dict`` reads); one decided offline
        goes on the spool. ``effects``: its reservation is made in the cache as the service makes it."""
        row = {name: _plain(values.get(name)) for name in (
            "nonce", "list_code", "channel_code", "venue_code", "direction", "kind", "credential", "label", "reason",
            "state", "authorised", "passed", "session_ref", "ticket_type", "decided_at", "closed_at",
            "terminal_code", "operator", "note")}
        row.update(offline=int(bool(values.get("offline"))), code=code, conflict=0, spool_seq=None)
        for name in ("venue_code", "credential", "label", "session_ref", "ticket_type", "terminal_code", "operator",
                     "note"):
            row[name] = row[name] or ""
        if row["offline"]:
            row["spool_seq"] = db.execute("INSERT INTO spool (op, nonce, idx, at) VALUES ('entry', ?, 0, ?)",
                                          (row["nonce"], row["decided_at"])).lastrowid
        db.execute(f"INSERT INTO entries ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
        if effects and row["state"] == "pending" and row["credential"]:
            self.apply(db, Effect("reserve", row["list_code"], row["credential"], row["direction"],
                                  row["channel_code"], _time(row["decided_at"]) or utcnow(), int(row["authorised"])),
                       row["spool_seq"])
        return row

    def record_passage(self, db: sqlite3.Connection, row: Mapping[str, Any], at: dt.datetime,
                       spool_seq: int | None) -> dict[str, Any]:
        """One more person went through on ``row``; the last one admits the entry."""
        passed = int(row["passed"]) + 1
        state, closed_at = row["state"], row["closed_at"]
        if passed >= int(row["authorised"]):
            state, closed_at = "admitted", _iso(at)
        db.execute("UPDATE entries SET passed = ?, state = ?, closed_at = ? WHERE nonce = ?",
                   (passed, state, closed_at, row["nonce"]))
        if row["credential"]:
            self.apply(db, Effect("pass", row["list_code"], row["credential"], row["direction"], row["channel_code"],
                                  at, 1, _count_card(row)), spool_seq)
        return {**row, "passed": passed, "state": state, "closed_at": closed_at}

    def close_entry(self, db: sqlite3.Connection, row: Mapping[str, Any], at: dt.datetime,
                    spool_seq: int | None) -> dict[str, Any]:
        """Nobody else passes on ``row``: admitted, partial or annulled, the places not used given back."""
        if row["state"] != "pending":
            return dict(row)
        unused = int(row["authorised"]) - int(row["passed"])
        state = "admitted" if unused == 0 else ("partial" if row["passed"] else "annulled")
        db.execute("UPDATE entries SET state = ?, closed_at = ? WHERE nonce = ?", (state, _iso(at), row["nonce"]))
        if unused and row["credential"] and row["direction"] == "in":
            self.apply(db, Effect("release", row["list_code"], row["credential"], row["direction"],
                                  row["channel_code"], at, unused), spool_seq)
        return {**row, "state": state, "closed_at": _iso(at)}

    def entries(self, *, since: dt.datetime | None = None, channel: str | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        """Entries this gate knows of, newest first."""
        sql, params = "SELECT * FROM entries WHERE 1 = 1", []
        if since is not None:
            sql, params = sql + " AND decided_at >= ?", [*params, _iso(since)]
        if channel:
            sql, params = sql + " AND channel_code = ?", [*params, channel]
        sql += " ORDER BY decided_at DESC, rowid DESC"
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, limit]
        return [dict(r) for r in self._all(sql, *params)]

    # ------------------------------------------------------------ online results noted here

    def note_online(self, result: Mapping[str, Any], *, terminal: str = "", operator: str = "") -> None:
        """An entry decided online (``CheckinService.scan``/``manual_open``/``free_passage``'s
        dict): kept so its passages can be queued, and its reservation noted in the cache until
        the next refresh brings the database's own. A repeat or a replay changes nothing."""
        with self.transaction() as db:
            if self.find_entry(db, result["nonce"]) is None:
                values = {**_from_result(result), "terminal_code": terminal, "operator": operator, "offline": False}
                self.insert_entry(db, values, effects=not (result.get("repeat") or result.get("replayed")))

    def note_online_passage(self, result: Mapping[str, Any], at: dt.datetime) -> None:
        """``CheckinService.passage``'s dict: one more person through, noted in the cache."""
        if result.get("replayed"):
            return
        with self.transaction() as db:
            row = self.find_entry(db, result["nonce"])
            if row is not None and int(row["passed"]) < int(result["passed"]):
                self.record_passage(db, row, at, None)

    def note_online_close(self, result: Mapping[str, Any], at: dt.datetime) -> None:
        with self.transaction() as db:
            row = self.find_entry(db, result["nonce"])
            if row is not None and result["state"] != "pending":
                self.close_entry(db, row, at, None)

    # ------------------------------------------------------------ the spool

    def queue_passage(self, nonce: str, index: int | None, at: dt.datetime) -> dict[str, Any]:
        """A passage of an entry decided online, kept for the upload (``index``: 1-based, the
        next one when None). Queuing the same passage again changes nothing (``replayed``)."""
        with self.transaction() as db:
            row = self.find_entry(db, nonce)
            if index is None:
                queued = db.execute("SELECT MAX(idx) FROM spool WHERE op = 'passage' AND nonce = ?",
                                    (nonce,)).fetchone()[0]
                index = int(row["passed"]) + 1 if row is not None else int(queued or 0) + 1
            index = whole(index, _("The passage number"), minimum=1, maximum=10_000)
            known = db.execute("SELECT 1 FROM spool WHERE op = 'passage' AND nonce = ? AND idx = ?",
                               (nonce, index)).fetchone()
            if known is not None or (row is not None and index <= int(row["passed"])):
                return _queued(row, nonce, index, replayed=True)
            if row is not None and (row["state"] != "pending" or int(row["passed"]) >= int(row["authorised"])):
                raise CheckinRefused(_("Check-in {nonce} is closed: no more people may pass on it.").format(
                    nonce=nonce), nonce=nonce)
            seq = db.execute("INSERT INTO spool (op, nonce, idx, at) VALUES ('passage', ?, ?, ?)",
                             (nonce, index, _iso(at))).lastrowid
            if row is not None:
                row = self.record_passage(db, row, at, seq)
            return _queued(row, nonce, index, replayed=False)

    def queue_close(self, nonce: str, at: dt.datetime) -> dict[str, Any]:
        """Closing an entry decided online, kept for the upload; closing it again changes nothing."""
        with self.transaction() as db:
            row = self.find_entry(db, nonce)
            known = db.execute("SELECT 1 FROM spool WHERE op = 'close' AND nonce = ?", (nonce,)).fetchone()
            if known is not None or (row is not None and row["state"] != "pending"):
                return _queued(row, nonce, None, replayed=True)
            seq = db.execute("INSERT INTO spool (op, nonce, idx, at) VALUES ('close', ?, 0, ?)",
                             (nonce, _iso(at))).lastrowid
            if row is not None:
                row = self.close_entry(db, row, at, seq)
            return _queued(row, nonce, None, replayed=False)

    def _waiting(self) -> list[tuple[int, dict[str, Any]]]:
        """Spool items not uploaded, in order, with their sequence numbers. An entry decided
        offline waits until it is closed, and so does whatever follows it for the same
        credential on the same list (the database takes one credential's history in order)."""
        rows = self._all("SELECT s.seq AS seq, s.op AS op, s.idx AS idx, s.at AS at, s.nonce AS nonce, "
                         "e.nonce AS known, e.list_code, e.channel_code, e.kind, e.credential, e.label, e.reason, "
                         "e.state, e.authorised, e.passed, e.decided_at, e.closed_at, e.terminal_code, e.operator, "
                         "e.note, e.code FROM spool s LEFT JOIN entries e ON e.nonce = s.nonce "
                         "WHERE s.uploaded_at IS NULL ORDER BY s.seq")
        waiting: list[tuple[int, dict[str, Any]]] = []
        held_back: set[tuple[str, str]] = set()
        for row in rows:
            key = (row["list_code"], row["credential"]) if row["known"] is not None and row["credential"] else None
            if key is not None and key in held_back:
                continue
            if row["op"] == "entry":
                if row["known"] is None:
                    continue
                if row["state"] == "pending":
                    if key is not None:
                        held_back.add(key)
                    continue
                waiting.append((row["seq"], {
                    "op": "entry", "nonce": row["nonce"], "channel": row["channel_code"], "kind": row["kind"],
                    "credential": row["credential"], "label": row["label"], "reason": row["reason"],
                    "state": row["state"], "authorised": row["authorised"], "passed": row["passed"],
                    "decided_at": row["decided_at"], "closed_at": row["closed_at"], "terminal": row["terminal_code"],
                    "operator": row["operator"], "note": row["note"], "code": row["code"]}))
            elif row["op"] == "passage":
                waiting.append((row["seq"], {"op": "passage", "nonce": row["nonce"], "index": row["idx"],
                                             "at": row["at"]}))
            else:
                waiting.append((row["seq"], {"op": "close", "nonce": row["nonce"], "at": row["at"]}))
        return waiting

    def pending_uploads(self) -> list[dict[str, Any]]:
        """What ``CheckinService.upload`` is given next, in order."""
        return [item for _seq, item in self._waiting()]

    def drain(self, service: Any, actor: Actor, *, batch: int = 200) -> dict[str, Any]:
        """Upload the spool with ``service.upload`` (a ``CheckinService``), ``batch`` items at a
        time; what the database applied or already had is marked uploaded. An item it refuses
        (a channel gone, an entry closed there) stays and is listed in ``held``; conflicts are
        kept here and returned. A database that goes away stops the drain (the error is raised);
        what was not marked is uploaded again later, which changes nothing there. ``applied``
        and ``skipped`` are as the database reports them: when it refuses an item of a batch, the
        items it applied before are sent again one by one and come back ``skipped``."""
        report: dict[str, Any] = {"applied": 0, "skipped": 0, "conflicts": [], "held": [], "left": 0}
        refused_before = {int(r["seq"]) for r in self._all("SELECT seq FROM spool WHERE uploaded_at IS NULL "
                                                          "AND problem != ''")}
        held: set[int] = set()
        while True:
            waiting = [(s, i) for s, i in self._waiting() if s not in held and s not in refused_before][:batch]
            if not waiting:
                break
            try:
                self._uploaded(service.upload(actor, [item for _seq, item in waiting]), [s for s, _i in waiting],
                               report)
            except SuiteError as exc:
                if database_down(exc):
                    raise
                held |= self._one_by_one(service, actor, waiting, report)
        self._one_by_one(service, actor, [(s, i) for s, i in self._waiting() if s in refused_before], report)
        report["left"] = self._count("SELECT COUNT(*) FROM spool WHERE uploaded_at IS NULL")
        return report

    def _one_by_one(self, service: Any, actor: Actor, waiting: list[tuple[int, dict[str, Any]]],
                    report: dict[str, Any]) -> set[int]:
        """Upload items singly (a batch was refused): the ones refused stay, noted; the others go."""
        held: set[int] = set()
        for seq, item in waiting:
            try:
                self._uploaded(service.upload(actor, [item]), [seq], report)
            except SuiteError as refused:
                if database_down(refused):
                    raise
                held.add(seq)
                with self.transaction() as db:
                    db.execute("UPDATE spool SET problem = ? WHERE seq = ?", (refused.message[:500], seq))
                report["held"].append({"op": item["op"], "nonce": item["nonce"], **refused.as_dict()})
        return held

    def _uploaded(self, outcome: Mapping[str, Any], seqs: list[int], report: dict[str, Any]) -> None:
        marks = ", ".join("?" * len(seqs))
        with self.transaction() as db:
            db.execute(f"UPDATE spool SET uploaded_at = ?, problem = '' WHERE seq IN ({marks})",
                       (_iso(utcnow()), *seqs))
            for conflict in outcome["conflicts"]:
                db.execute("INSERT OR REPLACE INTO conflicts VALUES (?, ?, ?)",
                           (conflict["nonce"], conflict["reason"], json.dumps(conflict, sort_keys=True, default=str)))
                db.execute("UPDATE entries SET conflict = 1 WHERE nonce = ?", (conflict["nonce"],))
        report["applied"] += int(outcome["applied"])
        report["skipped"] += int(outcome["skipped"])
        report["conflicts"].extend(outcome["conflicts"])

    def sweep(self, now: dt.datetime, older_than: dt.timedelta) -> list[str]:
        """Close the entries decided offline still open after ``older_than`` (the gate crashed,
        or never reported the passages): admitted, partial or annulled by what passed."""
        with self.transaction() as db:
            rows = db.execute("SELECT * FROM entries WHERE offline = 1 AND state = 'pending' AND decided_at <= ?",
                              (_iso(now - older_than),)).fetchall()
            for row in rows:
                self.close_entry(db, dict(row), now, row["spool_seq"])
        return [row["nonce"] for row in rows]

    def conflicts(self) -> list[dict[str, Any]]:
        """The conflicts the database reported for this gate's uploads."""
        return [json.loads(r["data"]) for r in self._all("SELECT data FROM conflicts ORDER BY rowid")]

    def status(self) -> dict[str, Any]:
        """What a screen shows: items waiting for the upload, entries still open, items the
        database refused, conflicts seen, the last refresh and what is cached."""
        refreshed = self.refreshed_at()
        return {
            "path": str(self.path),
            "waiting": self._count("SELECT COUNT(*) FROM spool WHERE uploaded_at IS NULL"),
            "open": self._count("SELECT COUNT(*) FROM entries WHERE offline = 1 AND state = 'pending'"),
            "held": self._count("SELECT COUNT(*) FROM spool WHERE uploaded_at IS NULL AND problem != ''"),
            "conflicts": self._count("SELECT COUNT(*) FROM conflicts"),
            "refreshed_at": refreshed.isoformat() if refreshed else None,
            **{table: self._count(f"SELECT COUNT(*) FROM {table}") for table in ("lists", "channels", "cards",
                                                                                  "codes", "revoked")},
        }


def _from_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """An ``entry_dict`` back as the entry's fields."""
    return {"nonce": result["nonce"], "list_code": result["list"], "channel_code": result["channel"],
            "venue_code": "", "direction": result["direction"], "kind": result["kind"],
            "credential": result["credential"] or "", "label": result["label"] or "", "reason": result["reason"],
            "state": result["state"], "authorised": int(result["persons"]), "passed": int(result["passed"]),
            "session_ref": result.get("session") or "", "ticket_type": result.get("ticket_type") or "",
            "decided_at": _time(result["decided_at"]), "closed_at": _time(result.get("closed_at")),
            "note": result.get("note") or ""}


def _queued(row: Mapping[str, Any] | None, nonce: str, index: int | None, *, replayed: bool) -> dict[str, Any]:
    if row is None:
        return {"nonce": nonce, "passed": index, "queued": True, "replayed": replayed, "offline": True}
    return entry_dict(entry_view(row), queued=True, replayed=replayed)


# ---------------------------------------------------------------- deciding offline


__all__ = ["KEEP", "SCHEMA_VERSION", "Effect", "OfflineStore", "database_down", "default_path", "entry_view"]
