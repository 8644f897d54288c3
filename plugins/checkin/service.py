"""Checking people in against the database (G1-G4): scan, passage, close, open by hand, live
counts; and what offline gates need: a snapshot to decide from and an idempotent upload.

A scan writes one ``checkin_entries`` row whatever the verdict (the attendant's list and the
reports show refusals too). A valid scan reserves its people on the credential's
``checkin_usage`` row (locked while deciding, so two gates cannot admit the same ticket); each
``passage`` turns one reservation into an admission (and, for count cards, takes one count
through the wallet's ledger); ``close`` gives back the places nobody used, so the ticket stays
valid for them. Every call carries the entry's nonce, so a replay changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suite.db.ids import uuid7
from suite.errors import InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import text, whole

from plugins.checkin import core, rules, statements
from plugins.checkin.core import CheckinCore, CheckinRefused
from plugins.checkin.credentials import (
    OnlineResolver, channel_rules, clean_code, list_rules, revoked_serials,
)
from plugins.checkin.models import CheckinChannel, CheckinCode, CheckinConflict, CheckinEntry, CheckinList, CheckinUsage
from plugins.checkin.setup import channel_dict, code_dict, list_dict

RULES_TTL = 1.0  # seconds a gate trusts its copy of the lists before looking for changes
_USAGE_FIELDS = ("admitted", "reserved", "exited", "inside", "day", "day_admitted", "last_at", "last_channel")
FINAL_STATES = ("refused", "admitted", "partial", "annulled")


def message(reason: str) -> str:
    """What the attendant reads for a reason code, in the current language."""
    return _(rules.REASONS.get(reason, reason))


def entry_dict(entry: CheckinEntry | Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    get = entry.get if isinstance(entry, Mapping) else (lambda name: getattr(entry, name))
    decided, closed = get("decided_at"), get("closed_at")
    return {"nonce": get("nonce"), "ok": get("state") != "refused", "reason": get("reason"),
            "message": message(get("reason")) if get("reason") != "manual" else _("Opened by hand"),
            "state": get("state"), "persons": get("authorised"), "passed": get("passed"), "kind": get("kind"),
            "label": get("label"), "credential": get("credential"), "list": get("list_code"),
            "channel": get("channel_code"), "direction": get("direction"), "session": get("session_ref"),
            "ticket_type": get("ticket_type"), "offline": bool(get("offline")), "conflict": bool(get("conflict")),
            "decided_at": decided.isoformat() if decided else None, "closed_at": closed.isoformat() if closed else None,
            "note": get("note"), **extra}


def usage_of(row: Mapping[str, Any] | None) -> rules.Usage:
    if row is None:
        return rules.Usage()
    return rules.Usage(**{name: row[name] for name in _USAGE_FIELDS})


class CheckinService(CheckinCore):
    """Scans, passages and counts. ``wallet``: a ``WalletService`` for count cards (built from
    the app when omitted)."""

    def __init__(self, *args: Any, wallet: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wallet = wallet
        self._rules: dict[str, tuple[rules.ListRules, rules.ChannelRules]] = {}
        self._rules_version: tuple[Any, ...] | None = None
        self._rules_fresh_until = 0.0
        self._generation = -1
        self._resolver: OnlineResolver | None = None

    @classmethod
    def from_app(cls, app: Any, **kwargs: Any) -> "CheckinService":
        from plugins.wallet.services import WalletService

        return super().from_app(app, wallet=WalletService.from_app(app), **kwargs)

    # ------------------------------------------------------------ keys and rules

    def public_keys(self) -> list[str]:
        """The Ed25519 keys ticket codes are checked with: the site's list, or this chain's own."""
        if self.settings.ticket_public_keys:
            return list(self.settings.ticket_public_keys)
        from plugins.tickets.codes import TicketSigner
        from plugins.tickets.settings import TicketSettings

        if self.secrets is None:
            raise CheckinRefused(_("No ticket key: set [plugins.checkin] ticket_public_keys to the output of "
                                   "'venue-suite ticket key'."))
        return [TicketSigner.from_secrets(self.secrets, TicketSettings().signing_key_secret).public_key]

    def resolver(self) -> OnlineResolver:
        if self._resolver is None:
            from plugins.tickets.codes import TicketVerifier

            self._resolver = OnlineResolver(TicketVerifier(self.public_keys()), self.settings.zone)
        return self._resolver

    def rules_for(self, session: Session, channel: str) -> tuple[rules.ListRules, rules.ChannelRules]:
        """The list and channel rules, reloaded when a list or channel changed (looked at once a
        second, and at once after a change made in this process)."""
        tick = time.monotonic()
        if self._rules_version is not None and tick < self._rules_fresh_until and core.generation() == self._generation:
            found = self._rules.get(channel)
            if found is not None:
                return found
        self._rules_fresh_until, self._generation = tick + RULES_TTL, core.generation()
        version = tuple(session.execute(select(
            select(func.max(CheckinList.updated_at)).scalar_subquery(),
            select(func.count(CheckinList.id)).scalar_subquery(),
            select(func.max(CheckinChannel.updated_at)).scalar_subquery(),
            select(func.count(CheckinChannel.id)).scalar_subquery())).one())
        if version != self._rules_version:
            lists = {row.code: list_rules(row) for row in session.scalars(select(CheckinList)
                                                                          .where(CheckinList.active.is_(True)))}
            self._rules = {row.code: (lists[row.list_code], channel_rules(row))
                           for row in session.scalars(select(CheckinChannel).where(CheckinChannel.active.is_(True)))
                           if row.list_code in lists}
            self._rules_version = version
        found = self._rules.get(channel)
        if found is None:
            raise NotFound(_("There is no active channel {code} (or its list is inactive).").format(code=channel),
                           code=channel)
        return found

    # ------------------------------------------------------------ scan

    def scan(self, actor: Actor, *, channel: str, code: str, nonce: str | None = None,
             at: dt.datetime | None = None) -> dict[str, Any]:
        """Decide a scan at ``channel`` and record it. A valid scan reserves its people until
        ``passage``/``close``; the same valid code at the same channel within
        ``repeat_seconds`` returns the first decision (``repeat``) and opens nothing."""
        self._begin(actor, "checkin.scan")
        raw = clean_code(code)
        nonce = text(nonce, _("The nonce"), 64) if nonce else uuid7().hex
        now = at or self.now()
        zone = self.settings.zone
        with self._uow.relaxed() as uow:  # a reservation: see UnitOfWorkFactory.relaxed
            session = uow.session
            statements.relax_postgres(session.connection())
            list_rule, channel_rule = self.rules_for(session, channel)
            credential = self.resolver().resolve(session, raw) if raw else rules.Credential(
                "code", "", "", problem=rules.UNKNOWN)
            usage_row = None
            if credential.key and not credential.problem:
                usage_row = self._lock_usage(session, list_rule.code, credential.key)
                repeat = self._repeat(session, usage_row, channel_rule, credential, now)
                if repeat is not None:
                    return repeat
            usage = usage_of(usage_row)
            decision = rules.decide(list_rule, channel_rule, credential, usage, now, zone)
            values = self._entry_values(nonce, list_rule, channel_rule, credential, decision, now, actor)
            if not statements.insert_entry(session.connection(), values):
                uow.rollback()
                return self._replay(nonce)
            if decision.ok:
                held = decision.persons if channel_rule.direction == "in" else 0  # exits reserve nothing
                self._save_usage(session, list_rule.code, credential.key,
                                 {"reserved": usage.reserved + held, "last_at": now,
                                  "last_channel": channel_rule.code})
            uow.commit()
        return entry_dict(values, remaining=decision.remaining, side=channel_rule.side, gate=channel_rule.gate,
                          card_kind=credential.card_kind, repeat=False, replayed=False)

    def _entry_values(self, nonce: str, list_rule: rules.ListRules, channel_rule: rules.ChannelRules,
                      credential: rules.Credential, decision: rules.Decision, now: dt.datetime,
                      actor: Actor) -> dict[str, Any]:
        return {"id": uuid7(), "venue_id": actor.venue_id, "terminal_id": actor.terminal_id, "created_at": now,
                "updated_at": now, "nonce": nonce, "list_code": list_rule.code, "channel_code": channel_rule.code,
                "venue_code": list_rule.venue, "direction": channel_rule.direction, "kind": credential.kind,
                "credential": credential.key, "label": credential.label[:96], "reason": decision.reason,
                "state": "pending" if decision.ok else "refused", "authorised": decision.persons, "passed": 0,
                "session_ref": credential.session[:64], "ticket_type": credential.ticket_type[:32],
                "decided_at": now, "closed_at": None if decision.ok else now, "terminal_code": self.terminal_code,
                "operator": actor.username[:128], "note": credential.card_kind, "offline": False, "conflict": False}

    def _repeat(self, session: Session, usage: Mapping[str, Any] | None, channel: rules.ChannelRules,
                credential: rules.Credential, now: dt.datetime) -> dict[str, Any] | None:
        if (usage is None or not self.settings.repeat_seconds or usage["last_channel"] != channel.code
                or usage["last_at"] is None):
            return None
        if not 0 <= (now - usage["last_at"]).total_seconds() <= self.settings.repeat_seconds:
            return None
        entry = session.scalars(select(CheckinEntry).where(
            CheckinEntry.credential == credential.key, CheckinEntry.channel_code == channel.code,
            CheckinEntry.state != "refused").order_by(CheckinEntry.decided_at.desc()).limit(1)).first()
        if entry is None:
            return None
        return entry_dict(entry, side=channel.side, gate=channel.gate, card_kind=credential.card_kind, repeat=True,
                          replayed=False, remaining=None)

    def _replay(self, nonce: str) -> dict[str, Any]:
        with self._uow.read() as uow:
            entry = self._entry(uow.session, nonce)
            _list_rule, channel_rule = self.rules_for(uow.session, entry.channel_code)
            return entry_dict(entry, side=channel_rule.side, gate=channel_rule.gate, card_kind=entry.note,
                              repeat=False, replayed=True, remaining=None)

    # ------------------------------------------------------------ passages

    def passage(self, actor: Actor, *, nonce: str, index: int | None = None,
                at: dt.datetime | None = None) -> dict[str, Any]:
        """One authorised person went through (``index``: which one, 1-based, so a replay is
        recognised). The last one closes the entry as admitted."""
        self._begin(actor, "checkin.scan")
        now = at or self.now()
        with self._uow() as uow:
            session = uow.session
            entry = self._entry(session, nonce, lock=True)
            if index is not None:
                whole(index, _("The passage number"), minimum=1, maximum=10_000)
                if index <= entry.passed:
                    return entry_dict(entry, replayed=True)
            if entry.state != "pending" or entry.passed >= entry.authorised:
                raise CheckinRefused(_("Check-in {nonce} is closed: no more people may pass on it.").format(
                    nonce=nonce), nonce=nonce)
            self._record_passage(session, actor, entry, now)
            result = entry_dict(entry, replayed=False)
            uow.commit()
        return result

    def _record_passage(self, session: Session, actor: Actor, entry: CheckinEntry, now: dt.datetime) -> None:
        entry.passed += 1
        if entry.passed >= entry.authorised:
            entry.state, entry.closed_at = "admitted", now
        if not entry.credential:
            return
        list_rule = self._list_rule(session, entry.list_code)
        row = self._lock_usage(session, entry.list_code, entry.credential)
        usage = rules.after_passage(usage_of(row), list_rule, entry.direction, now, self.settings.zone,
                                    channel=entry.channel_code, reserved=entry.direction == "in")
        self._save_usage(session, entry.list_code, entry.credential, {n: getattr(usage, n) for n in _USAGE_FIELDS})
        if entry.direction == "in" and entry.kind == "card" and entry.note == "count":
            self._take_count(session, entry, entry.passed)

    def _take_count(self, session: Session, entry: CheckinEntry, index: int) -> None:
        if self._wallet is None:
            raise CheckinRefused(_("Count cards need the card wallet."))
        self._wallet.consume(Actor.system(f"checkin-{entry.channel_code}"), card_no=entry.label,
                             key=f"checkin:{entry.nonce}:{index}", counts=1, within=session,
                             device=entry.channel_code)

    def close(self, actor: Actor, *, nonce: str, at: dt.datetime | None = None) -> dict[str, Any]:
        """Nobody else will pass on this entry: admitted, partial or annulled; the places not
        used are given back. Closing a closed entry changes nothing."""
        self._begin(actor, "checkin.scan")
        now = at or self.now()
        with self._uow() as uow:
            session = uow.session
            entry = self._entry(session, nonce, lock=True)
            was_pending = entry.state == "pending"
            if was_pending:
                self._close_entry(session, entry, now)
            result = entry_dict(entry, replayed=not was_pending)
            uow.commit()
        return result

    def _close_entry(self, session: Session, entry: CheckinEntry, now: dt.datetime) -> None:
        unused = entry.authorised - entry.passed
        entry.state = "admitted" if unused == 0 else ("partial" if entry.passed else "annulled")
        entry.closed_at = now
        if unused and entry.credential and entry.direction == "in":
            row = self._lock_usage(session, entry.list_code, entry.credential)
            self._save_usage(session, entry.list_code, entry.credential,
                             {"reserved": rules.released(usage_of(row), unused).reserved})

    def manual_open(self, actor: Actor, *, channel: str, reason: str, persons: int = 1,
                    nonce: str | None = None) -> dict[str, Any]:
        """The attendant lets ``persons`` through by hand; the reason is kept and audited."""
        self._begin(actor, "checkin.open")
        reason = text(reason, _("The reason"), 500)
        persons = whole(persons, _("People"), minimum=1, maximum=100)
        nonce = text(nonce, _("The nonce"), 64) if nonce else uuid7().hex
        now = self.now()
        with self._uow() as uow:
            session = uow.session
            list_rule, channel_rule = self.rules_for(session, channel)
            values = self._entry_values(nonce, list_rule, channel_rule, rules.Credential("manual", "", ""),
                                        rules.Decision(rules.VALID, persons=persons), now, actor)
            values.update(kind="manual", reason="manual", note=reason)
            session.execute(CheckinEntry.__table__.insert().values(**values))
            self._audit(session, actor, "checkin.open", channel, {"persons": persons, "reason": reason,
                                                                  "nonce": nonce})
            uow.commit()
        return entry_dict(values, side=channel_rule.side, gate=channel_rule.gate, card_kind="", repeat=False,
                          replayed=False, remaining=None)

    def free_passage(self, actor: Actor, *, channel: str, nonce: str | None = None,
                     at: dt.datetime | None = None) -> dict[str, Any]:
        """Someone went through with no scan (a free exit, or during an emergency): counted."""
        self._begin(actor, "checkin.scan")
        nonce = text(nonce, _("The nonce"), 64) if nonce else uuid7().hex
        now = at or self.now()
        with self._uow() as uow:
            session = uow.session
            list_rule, channel_rule = self.rules_for(session, channel)
            values = self._entry_values(nonce, list_rule, channel_rule, rules.Credential("free", "", ""),
                                        rules.Decision(rules.VALID, persons=1), now, actor)
            values.update(kind="free", state="admitted", passed=1, closed_at=now)
            try:
                with session.begin_nested():
                    session.execute(CheckinEntry.__table__.insert().values(**values))
            except IntegrityError:
                return self._replay(nonce)
            uow.commit()
        return entry_dict(values, replayed=False)

    # ------------------------------------------------------------ what the screens show

    def counts(self, actor: Actor, *, since: dt.datetime | None = None) -> dict[str, Any]:
        """People in, out and inside now, and refusals, per list and per channel, since the
        start of the venue's day (or ``since``)."""
        self._begin(actor, "checkin.view")
        since = since or self.day_start()
        with self._uow.read() as uow:
            rows = uow.session.execute(
                select(CheckinEntry.list_code, CheckinEntry.channel_code, CheckinEntry.direction, CheckinEntry.state,
                       func.sum(CheckinEntry.passed), func.count())
                .where(CheckinEntry.decided_at >= since)
                .group_by(CheckinEntry.list_code, CheckinEntry.channel_code, CheckinEntry.direction,
                          CheckinEntry.state)).all()
        lists: dict[str, dict[str, int]] = {}
        channels: dict[str, dict[str, int]] = {}
        for list_code, channel_code, direction, state, passed, scans in rows:
            for table, key in ((lists, list_code), (channels, channel_code)):
                counts = table.setdefault(key, {"in": 0, "out": 0, "inside": 0, "refused": 0, "scans": 0})
                counts["scans"] += int(scans)
                if state == "refused":
                    counts["refused"] += int(scans)
                else:
                    counts[direction] += int(passed or 0)
        for table in (lists, channels):
            for counts in table.values():
                counts["inside"] = max(0, counts["in"] - counts["out"])
        return {"since": since.isoformat(), "lists": lists, "channels": channels}

    def recent(self, actor: Actor, *, channel: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        self._begin(actor, "checkin.view")
        with self._uow.read() as uow:
            query = select(CheckinEntry).order_by(CheckinEntry.decided_at.desc()).limit(limit)
            if channel:
                query = query.where(CheckinEntry.channel_code == channel)
            return [entry_dict(e) for e in uow.session.scalars(query)]

    def day_start(self) -> dt.datetime:
        zone = self.settings.zone
        local = self.now().astimezone(zone)
        return dt.datetime.combine(local.date(), dt.time(), zone).astimezone(dt.timezone.utc)

    def entry(self, actor: Actor, nonce: str) -> dict[str, Any]:
        self._begin(actor, "checkin.view")
        with self._uow.read() as uow:
            return entry_dict(self._entry(uow.session, nonce))

    # ------------------------------------------------------------ offline gates

    def snapshot(self, actor: Actor, *, lists: Iterable[str] | None = None) -> dict[str, Any]:
        """What a gate needs to decide alone: lists, channels, plain codes, revoked ticket
        serials, cards (status, type, counts) and what each credential used on ``lists``."""
        self._begin(actor, "checkin.scan")
        from plugins.wallet.core import balances_of
        from plugins.wallet.models import Card, CardType

        with self._uow.read() as uow:
            session = uow.session
            list_rows = [list_dict(r) for r in session.scalars(select(CheckinList).where(CheckinList.active.is_(True)))]
            wanted = set(lists) if lists is not None else {r["code"] for r in list_rows}
            usage_query = select(*[getattr(CheckinUsage, n) for n in ("list_code", "credential", *_USAGE_FIELDS)])
            cards = []
            for card_no, uid, status, expires_on, type_code, category, kind in session.execute(
                    select(Card.card_no, Card.uid, Card.status, Card.expires_on, CardType.code, CardType.category,
                           CardType.kind).join(CardType, CardType.id == Card.type_id)):
                counts = balances_of(session, card_no)["counts"] if kind == "count" else 0
                cards.append({"card_no": card_no, "uid": uid or "", "status": status, "expires_on": expires_on,
                              "type": type_code, "category": category, "kind": kind, "counts": counts})
            return {
                "at": self.now(), "public_keys": self.public_keys(), "lists": list_rows,
                "channels": [channel_dict(r) for r in session.scalars(select(CheckinChannel)
                                                                      .where(CheckinChannel.active.is_(True)))],
                "codes": [dict(code_dict(r), valid_from=r.valid_from, valid_until=r.valid_until)
                          for r in session.scalars(select(CheckinCode))],
                "revoked": revoked_serials(session), "cards": cards,
                "usage": [dict(row) for row in session.execute(
                    usage_query.where(CheckinUsage.list_code.in_(wanted))).mappings()],
            }

    def upload(self, actor: Actor, items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Apply what a gate recorded while the database was away, in order: whole entries it
        decided (``op`` "entry", with the scanned ``code``) and passages or closes of entries
        decided here (``op`` "passage"/"close"). Each item once, by nonce (and passage number):
        replays are skipped. An admission the rules here would have refused (one ticket at two
        offline gates) is kept, flagged and reported as a conflict."""
        self._begin(actor, "checkin.scan")
        applied = skipped = 0
        conflicts: list[dict[str, Any]] = []
        for item in items:
            op = item.get("op", "entry")
            if op == "entry":
                outcome = self._upload_entry(actor, item)
            elif op == "passage":
                outcome = "skipped" if self.passage(actor, nonce=item["nonce"], index=int(item["index"]),
                                                    at=_when(item.get("at")))["replayed"] else "applied"
            elif op == "close":
                outcome = "skipped" if self.close(actor, nonce=item["nonce"],
                                                  at=_when(item.get("at")))["replayed"] else "applied"
            else:
                raise InvalidInput(_("Unknown upload item {op!r}.").format(op=op))
            if isinstance(outcome, dict):
                conflicts.append(outcome)
                applied += 1
            elif outcome == "applied":
                applied += 1
            else:
                skipped += 1
        return {"applied": applied, "skipped": skipped, "conflicts": conflicts}

    def _upload_entry(self, actor: Actor, item: Mapping[str, Any]) -> str | dict[str, Any]:
        nonce = text(item.get("nonce"), _("The nonce"), 64)
        decided_at = _when(item["decided_at"])
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(CheckinEntry.id).where(CheckinEntry.nonce == nonce)) is not None:
                return "skipped"
            list_rule, channel_rule = self.rules_for(session, item["channel"])
            passed = int(item.get("passed", 0))
            conflict = ""
            credential = rules.Credential(item.get("kind", "code"), item.get("credential", ""), item.get("label", ""))
            if item.get("code") and item.get("state") != "refused":
                credential = self.resolver().resolve(session, clean_code(item["code"]))
            if credential.key and passed and channel_rule.direction == "in":
                row = self._lock_usage(session, list_rule.code, credential.key)
                usage = usage_of(row)
                verdict = rules.decide(list_rule, channel_rule, credential, rules.released(usage, usage.reserved),
                                       decided_at, self.settings.zone)
                if not verdict.ok:
                    conflict = verdict.reason
                elif verdict.persons < passed:
                    conflict = rules.ALREADY_USED
            values = {
                "id": uuid7(), "venue_id": actor.venue_id, "terminal_id": actor.terminal_id, "nonce": nonce,
                "list_code": list_rule.code, "channel_code": channel_rule.code, "venue_code": list_rule.venue,
                "direction": channel_rule.direction, "kind": item.get("kind", credential.kind),
                "credential": credential.key or item.get("credential", ""),
                "label": (credential.label or item.get("label", ""))[:96], "reason": item["reason"],
                "state": item["state"], "authorised": int(item.get("authorised", 0)), "passed": passed,
                "session_ref": credential.session[:64], "ticket_type": credential.ticket_type[:32],
                "decided_at": decided_at, "closed_at": _when(item.get("closed_at")),
                "terminal_code": str(item.get("terminal", ""))[:32], "operator": str(item.get("operator", ""))[:128],
                "note": credential.card_kind or str(item.get("note", "")), "offline": True, "conflict": bool(conflict),
                "created_at": self.now(), "updated_at": self.now()}
            session.execute(CheckinEntry.__table__.insert().values(**values))
            entry = self._entry(session, nonce)
            for index in range(passed):
                self._apply_offline_passage(session, list_rule, entry, index + 1, decided_at)
            if entry.kind == "manual":
                self._audit(session, actor, "checkin.open", entry.channel_code,
                            {"persons": entry.authorised, "reason": entry.note, "nonce": nonce, "offline": True,
                             "terminal": entry.terminal_code, "operator": entry.operator})
            report: dict[str, Any] | None = None
            if conflict:
                report = self._conflict(session, actor, entry, conflict)
            uow.commit()
        return report if report is not None else "applied"

    def _apply_offline_passage(self, session: Session, list_rule: rules.ListRules, entry: CheckinEntry, index: int,
                               at: dt.datetime) -> None:
        if not entry.credential:
            return
        row = self._lock_usage(session, entry.list_code, entry.credential)
        usage = rules.after_passage(usage_of(row), list_rule, entry.direction, at, self.settings.zone,
                                    channel=entry.channel_code, reserved=False)
        self._save_usage(session, entry.list_code, entry.credential, {n: getattr(usage, n) for n in _USAGE_FIELDS})
        if entry.direction == "in" and entry.kind == "card" and entry.note == "count":
            from plugins.wallet.core import CardRefused, InsufficientBalance

            try:
                with session.begin_nested():
                    self._take_count(session, entry, index)
            except (CardRefused, InsufficientBalance):  # no count left: the conflict is reported
                entry.conflict = True

    def _conflict(self, session: Session, actor: Actor, entry: CheckinEntry, reason: str) -> dict[str, Any]:
        report = {"nonce": entry.nonce, "list": entry.list_code, "channel": entry.channel_code,
                  "credential": entry.credential, "label": entry.label, "reason": reason, "message": message(reason),
                  "passed": entry.passed, "decided_at": entry.decided_at.isoformat(),
                  "terminal": entry.terminal_code}
        session.add(CheckinConflict(nonce=entry.nonce, list_code=entry.list_code, channel_code=entry.channel_code,
                                    credential=entry.credential, label=entry.label, reason=reason,
                                    passed=entry.passed, decided_at=entry.decided_at,
                                    terminal_code=entry.terminal_code, details=""))
        self._audit(session, actor, "checkin.conflict", entry.credential, report, kind="security")
        return report

    def conflicts(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "checkin.conflicts")
        with self._uow.read() as uow:
            return [{"nonce": c.nonce, "list": c.list_code, "channel": c.channel_code, "credential": c.credential,
                     "label": c.label, "reason": c.reason, "message": message(c.reason), "passed": c.passed,
                     "decided_at": c.decided_at.isoformat(), "terminal": c.terminal_code}
                    for c in uow.session.scalars(select(CheckinConflict).order_by(CheckinConflict.decided_at))]

    # ------------------------------------------------------------ rows

    @staticmethod
    def _entry(session: Session, nonce: str, *, lock: bool = False) -> CheckinEntry:
        query = select(CheckinEntry).where(CheckinEntry.nonce == nonce)
        if lock:
            query = query.with_for_update()
        entry = session.scalars(query).one_or_none()
        if entry is None:
            raise NotFound(_("There is no check-in {nonce}.").format(nonce=nonce), nonce=nonce)
        return entry

    def _list_rule(self, session: Session, code: str) -> rules.ListRules:
        for list_rule, _channel in self._rules.values():
            if list_rule.code == code:
                return list_rule
        row = session.scalars(select(CheckinList).where(CheckinList.code == code)).one()
        return list_rules(row)

    @staticmethod
    def _lock_usage(session: Session, list_code: str, credential: str) -> Mapping[str, Any]:
        """The usage row, locked for this transaction (created empty when missing)."""
        return statements.lock_usage(session.connection(), list_code, credential)

    @staticmethod
    def _save_usage(session: Session, list_code: str, credential: str, values: Mapping[str, Any]) -> None:
        statements.save_usage(session.connection(), list_code, credential, values)


def _when(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


__all__ = ["FINAL_STATES", "CheckinService", "entry_dict", "message", "usage_of"]
