"""Offline gates (G2): a desk that decides scans from the gate's own SQLite file
(``plugins.checkin.offline_store``) while the database is unreachable (docs/checkin-offline.md).

``OfflineDesk`` answers like ``CheckinService`` (the same dicts, ``offline: True``), deciding
through the same ``rules.decide`` with credentials built by the same ``credential_from_*``
functions.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from typing import Any

from suite.db.base import utcnow
from suite.db.ids import uuid7
from suite.errors import NotFound, PermissionDenied
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import text, whole

from plugins.checkin import rules
from plugins.checkin.core import CheckinRefused
from plugins.checkin.credentials import (
    clean_code, credential_from_card, credential_from_claims, credential_from_code, is_ticket_code, unknown,
)
from plugins.checkin.service import entry_dict, usage_of
from plugins.checkin.settings import CheckinSettings

from plugins.checkin.offline_store import (
    OfflineStore, database_down, default_path, entry_view,
)


class OfflineDesk:
    """``CheckinService``'s scan, passage, close, manual opening, free passage and counts,
    decided from an ``OfflineStore``. Permissions are the service's (``actor.has``); the
    licence is not checked here (it was when the gate's desk was built)."""

    def __init__(self, store: OfflineStore, *, venue_code: str, terminal_code: str,
                 settings: CheckinSettings | None = None, clock: Any = utcnow) -> None:
        self.store = store
        self.venue_code = venue_code
        self.terminal_code = terminal_code
        self.settings = settings or CheckinSettings()
        self._clock = clock
        self._verifier: tuple[tuple[str, ...], Any] = ((), None)

    def now(self) -> dt.datetime:
        return self._clock()

    @staticmethod
    def require(actor: Actor, permission: str) -> None:
        """The service's permission check, without the database (the refusal is not logged)."""
        if actor.has(permission):
            return
        from plugins.checkin import PERMISSIONS

        titles = {p.id: p.title for p in PERMISSIONS}
        raise PermissionDenied(_("You do not have permission: {title}").format(
            title=_(titles[permission]) if permission in titles else permission), permission=permission)

    # ------------------------------------------------------------ scan

    def scan(self, actor: Actor, *, channel: str, code: str, nonce: str | None = None,
             at: dt.datetime | None = None) -> dict[str, Any]:
        """``CheckinService.scan`` from the cached copy; the entry goes on the spool."""
        self.require(actor, "checkin.scan")
        raw = clean_code(code)
        nonce = text(nonce, _("The nonce"), 64) if nonce else uuid7().hex
        now = at or self.now()
        with self.store.transaction() as db:
            list_rule, channel_rule = self.store.rules_for(db, channel)
            known = self.store.find_entry(db, nonce)
            if known is not None:
                return entry_dict(entry_view(known), side=channel_rule.side, gate=channel_rule.gate,
                                  card_kind=known["note"], repeat=False, replayed=True, remaining=None)
            credential = self._resolve(db, raw) if raw else rules.Credential("code", "", "", problem=rules.UNKNOWN)
            usage: Mapping[str, Any] | None = None
            if credential.key and not credential.problem:
                usage = self.store.usage(db, list_rule.code, credential.key)
                repeat = self._repeat(db, usage, channel_rule, credential, now)
                if repeat is not None:
                    return repeat
            decision = rules.decide(list_rule, channel_rule, credential, usage_of(usage), now, self.settings.zone)
            values = self._values(nonce, list_rule, channel_rule, credential, decision, now, actor)
            self.store.insert_entry(db, values, code=raw)
        return entry_dict(values, remaining=decision.remaining, side=channel_rule.side, gate=channel_rule.gate,
                          card_kind=credential.card_kind, repeat=False, replayed=False)

    def _resolve(self, db: sqlite3.Connection, raw: str) -> rules.Credential:
        if is_ticket_code(raw):
            return credential_from_claims(self._ticket_verifier(db).claims(raw),
                                          lambda serial: self.store.revoked(db, serial))
        card = self.store.card(db, raw)
        if card is not None:
            return credential_from_card(card, self.settings.zone)
        code = self.store.plain_code(db, raw)
        if code is not None:
            return credential_from_code(code)
        return unknown(raw)

    def _ticket_verifier(self, db: sqlite3.Connection) -> Any:
        from plugins.tickets.codes import TicketVerifier

        keys = self.store.public_keys(db)
        if self._verifier[0] != keys or self._verifier[1] is None:
            self._verifier = (keys, TicketVerifier(keys))
        return self._verifier[1]

    def _repeat(self, db: sqlite3.Connection, usage: Mapping[str, Any] | None, channel: rules.ChannelRules,
                credential: rules.Credential, now: dt.datetime) -> dict[str, Any] | None:
        if usage is None or usage["last_channel"] != channel.code or usage["last_at"] is None:
            return None
        if (now - usage["last_at"]).total_seconds() > self.settings.repeat_seconds:
            return None
        row = db.execute("SELECT * FROM entries WHERE credential = ? AND channel_code = ? AND state != 'refused' "
                         "ORDER BY decided_at DESC LIMIT 1", (credential.key, channel.code)).fetchone()
        if row is None:
            return None
        return entry_dict(entry_view(dict(row)), side=channel.side, gate=channel.gate, card_kind=credential.card_kind,
                          repeat=True, replayed=False, remaining=None)

    def _values(self, nonce: str, list_rule: rules.ListRules, channel_rule: rules.ChannelRules,
                credential: rules.Credential, decision: rules.Decision, now: dt.datetime,
                actor: Actor) -> dict[str, Any]:
        return {"nonce": nonce, "list_code": list_rule.code, "channel_code": channel_rule.code,
                "venue_code": list_rule.venue, "direction": channel_rule.direction, "kind": credential.kind,
                "credential": credential.key, "label": credential.label[:96], "reason": decision.reason,
                "state": "pending" if decision.ok else "refused", "authorised": decision.persons, "passed": 0,
                "session_ref": credential.session[:64], "ticket_type": credential.ticket_type[:32],
                "decided_at": now, "closed_at": None if decision.ok else now, "terminal_code": self.terminal_code,
                "operator": actor.username[:128], "note": credential.card_kind, "offline": True, "conflict": False}

    # ------------------------------------------------------------ passages

    def passage(self, actor: Actor, *, nonce: str, index: int | None = None,
                at: dt.datetime | None = None) -> dict[str, Any]:
        """One authorised person went through. An entry decided offline is updated here; one
        decided online is queued for the upload (``queued``)."""
        self.require(actor, "checkin.scan")
        now = at or self.now()
        known = self._known(nonce)
        if not known["offline"]:
            return self.store.queue_passage(nonce, index, now)
        with self.store.transaction() as db:
            row = self.store.find_entry(db, nonce) or known
            if index is not None:
                whole(index, _("The passage number"), minimum=1, maximum=10_000)
                if index <= int(row["passed"]):
                    return entry_dict(entry_view(row), replayed=True)
            if row["state"] != "pending" or int(row["passed"]) >= int(row["authorised"]):
                raise CheckinRefused(_("Check-in {nonce} is closed: no more people may pass on it.").format(
                    nonce=nonce), nonce=nonce)
            row = self.store.record_passage(db, row, now, row["spool_seq"])
        return entry_dict(entry_view(row), replayed=False)

    def close(self, actor: Actor, *, nonce: str, at: dt.datetime | None = None) -> dict[str, Any]:
        """Nobody else passes on this entry (decided offline: closed here; online: queued)."""
        self.require(actor, "checkin.scan")
        now = at or self.now()
        known = self._known(nonce)
        if not known["offline"]:
            return self.store.queue_close(nonce, now)
        with self.store.transaction() as db:
            row = self.store.find_entry(db, nonce) or known
            was_pending = row["state"] == "pending"
            row = self.store.close_entry(db, row, now, row["spool_seq"])
        return entry_dict(entry_view(row), replayed=not was_pending)

    def _known(self, nonce: str) -> dict[str, Any]:
        row = self.store.entry(nonce)
        if row is None:
            raise NotFound(_("There is no check-in {nonce}.").format(nonce=nonce), nonce=nonce)
        return row

    def manual_open(self, actor: Actor, *, channel: str, reason: str, persons: int = 1,
                    nonce: str | None = None) -> dict[str, Any]:
        """The attendant lets ``persons`` through by hand; the reason goes with the upload (and
        is audited there)."""
        self.require(actor, "checkin.open")
        reason = text(reason, _("The reason"), 500)
        persons = whole(persons, _("People"), minimum=1, maximum=100)
        nonce = text(nonce, _("The nonce"), 64) if nonce else uuid7().hex
        now = self.now()
        with self.store.transaction() as db:
            list_rule, channel_rule = self.store.rules_for(db, channel)
            known = self.store.find_entry(db, nonce)
            if known is not None:
                return entry_dict(entry_view(known), side=channel_rule.side, gate=channel_rule.gate, card_kind="",
                                  repeat=False, replayed=True, remaining=None)
            values = self._values(nonce, list_rule, channel_rule, rules.Credential("manual", "", ""),
                                  rules.Decision(rules.VALID, persons=persons), now, actor)
            values.update(kind="manual", reason="manual", note=reason)
            self.store.insert_entry(db, values)
        return entry_dict(values, side=channel_rule.side, gate=channel_rule.gate, card_kind="", repeat=False,
                          replayed=False, remaining=None)

    def free_passage(self, actor: Actor, *, channel: str, nonce: str | None = None,
                     at: dt.datetime | None = None) -> dict[str, Any]:
        """Someone went through with no scan: counted, and uploaded like a scan."""
        self.require(actor, "checkin.scan")
        nonce = text(nonce, _("The nonce"), 64) if nonce else uuid7().hex
        now = at or self.now()
        with self.store.transaction() as db:
            list_rule, channel_rule = self.store.rules_for(db, channel)
            known = self.store.find_entry(db, nonce)
            if known is not None:
                return entry_dict(entry_view(known), replayed=True)
            values = self._values(nonce, list_rule, channel_rule, rules.Credential("free", "", ""),
                                  rules.Decision(rules.VALID, persons=1), now, actor)
            values.update(kind="free", state="admitted", passed=1, closed_at=now)
            self.store.insert_entry(db, values)
        return entry_dict(values, replayed=False)

    # ------------------------------------------------------------ what the screens show

    def counts(self, actor: Actor, *, since: dt.datetime | None = None) -> dict[str, Any]:
        """``CheckinService.counts`` over what this gate knows (its own entries, online and
        offline), with ``offline: True``."""
        self.require(actor, "checkin.view")
        since = since or self.day_start()
        lists: dict[str, dict[str, int]] = {}
        channels: dict[str, dict[str, int]] = {}
        for row in self.store.entries(since=since):
            for table, key in ((lists, row["list_code"]), (channels, row["channel_code"])):
                counts = table.setdefault(key, {"in": 0, "out": 0, "inside": 0, "refused": 0, "scans": 0})
                counts["scans"] += 1
                if row["state"] == "refused":
                    counts["refused"] += 1
                else:
                    counts[row["direction"]] += int(row["passed"])
        for table in (lists, channels):
            for counts in table.values():
                counts["inside"] = max(0, counts["in"] - counts["out"])
        return {"since": since.isoformat(), "lists": lists, "channels": channels, "offline": True}

    def recent(self, actor: Actor, *, channel: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        self.require(actor, "checkin.view")
        return [entry_dict(entry_view(row)) for row in self.store.entries(channel=channel, limit=limit)]

    def entry(self, actor: Actor, nonce: str) -> dict[str, Any]:
        self.require(actor, "checkin.view")
        row = self.store.entry(nonce)
        if row is None:
            raise NotFound(_("There is no check-in {nonce}.").format(nonce=nonce), nonce=nonce)
        return entry_dict(entry_view(row))

    def day_start(self) -> dt.datetime:
        zone = self.settings.zone
        local = self.now().astimezone(zone)
        return dt.datetime.combine(local.date(), dt.time(), zone).astimezone(dt.timezone.utc)


__all__ = ["OfflineDesk", "OfflineStore", "database_down", "default_path"]
