"""The check-in rules (G1, G2): one pure function decides every scan, online and offline.

A list's rules and a channel are plain data (``ListRules``, ``ChannelRules``); what a scanned
code turned out to be is a ``Credential`` (built from the database online, from the signed code
and the gate's cached copy offline); what it has used on the list so far is a ``Usage``.
``decide`` returns a ``Decision``: a reason code and how many people may pass. The checks run
in a fixed order, so one scan has one reason: the credential itself (forged, unknown, refunded,
blacklisted), then where (wrong entrance), then when (too early, too late, expired), then how
often (already used, anti-passback, no counts left).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from suite.i18n import N_

VALID = "valid"
ALREADY_USED = "already_used"
WRONG_ENTRANCE = "wrong_entrance"
TOO_EARLY = "too_early"
TOO_LATE = "too_late"
BLACKLISTED = "blacklisted"
EXPIRED = "expired"
REFUNDED = "refunded"
FORGED = "forged"
UNKNOWN = "unknown"
PASSBACK = "passback"
NO_COUNTS = "no_counts"
EMERGENCY = "emergency"

#: every reason code and what the attendant reads (translated where it is shown)
REASONS: Mapping[str, str] = {
    VALID: N_("Valid"),
    ALREADY_USED: N_("Already used"),
    WRONG_ENTRANCE: N_("Wrong entrance"),
    TOO_EARLY: N_("Too early"),
    TOO_LATE: N_("Too late"),
    BLACKLISTED: N_("Blacklisted"),
    EXPIRED: N_("Expired"),
    REFUNDED: N_("Refunded or void"),
    FORGED: N_("Forged or damaged code"),
    UNKNOWN: N_("Unknown code"),
    PASSBACK: N_("Already inside (anti-passback)"),
    NO_COUNTS: N_("No entries left on the card"),
    EMERGENCY: N_("Emergency: free passage"),
}

STAFF_CARD_CATEGORIES = frozenset({"operator", "authorisation"})
ANY = None  # a selector admitting everything


def selector(text: str) -> frozenset[str] | None:
    """``"*"`` -> any (None); ``"A, B"`` -> {"A", "B"}; ``""`` -> nothing."""
    items = [part.strip() for part in str(text or "").split(",") if part.strip()]
    if "*" in items:
        return ANY
    return frozenset(items)


def _admits(chosen: frozenset[str] | None, value: str) -> bool:
    return chosen is ANY or value in chosen


@dataclass(frozen=True)
class ListRules:
    code: str
    venue: str
    ticket_types: frozenset[str] | None = ANY
    halls: frozenset[str] | None = ANY
    sessions: frozenset[str] | None = ANY
    card_types: frozenset[str] | None = frozenset()
    plain_codes: bool = True
    staff: bool = False
    opens_before: dt.timedelta = dt.timedelta(minutes=30)
    closes_after: dt.timedelta = dt.timedelta(0)
    daily_open: dt.time | None = None
    daily_close: dt.time | None = None
    entries: str = "single"  # single | multiple | per_day
    per_day: int = 1
    exit_tracking: bool = False
    anti_passback: bool = False
    reentry: bool = False


@dataclass(frozen=True)
class ChannelRules:
    code: str
    list_code: str
    direction: str = "in"  # in | out
    side: str = "A"
    gate: str = ""
    staff: bool = False


@dataclass(frozen=True)
class Credential:
    """What a scanned code is. ``problem``: a reason found while resolving it (forged,
    unknown, refunded, blacklisted, expired), or ""."""

    kind: str  # ticket | card | code
    key: str  # the usage key: "ticket:<serial>", "card:<number>", "code:<code>"
    label: str  # what the attendant sees: serial, card number, code
    problem: str = ""
    venue: str = ""
    session: str = ""
    hall: str = ""
    ticket_type: str = ""
    admits: int = 1
    starts: dt.datetime | None = None  # the session's start (tickets)
    ends: dt.datetime | None = None  # the session's end, or a package's validity end
    package: bool = False
    card_type: str = ""
    card_category: str = ""
    card_kind: str = ""  # value | count
    counts: int | None = None  # count cards: entries left
    valid_from: dt.datetime | None = None  # plain codes
    valid_until: dt.datetime | None = None  # plain codes, card expiry (end of the last day)
    lists: frozenset[str] | None = ANY  # plain codes: the lists they are good for

    @property
    def group(self) -> bool:
        """One scan admits every person the code still has (group tickets, group codes)."""
        return self.admits > 1 and not self.package and self.kind in ("ticket", "code")

    @property
    def staff_card(self) -> bool:
        return self.kind == "card" and self.card_category in STAFF_CARD_CATEGORIES


@dataclass(frozen=True)
class Usage:
    admitted: int = 0
    reserved: int = 0
    exited: int = 0
    inside: int = 0
    day: dt.date | None = None
    day_admitted: int = 0
    last_at: dt.datetime | None = None
    last_channel: str = ""


@dataclass(frozen=True)
class Decision:
    reason: str
    persons: int = 0  # people who may pass now
    remaining: int | None = None  # people (or entries) left after these, when limited

    @property
    def ok(self) -> bool:
        return self.reason in (VALID, EMERGENCY)


def local_day(when: dt.datetime, zone: ZoneInfo) -> dt.date:
    return when.astimezone(zone).date()


def decide(rules: ListRules, channel: ChannelRules, credential: Credential, usage: Usage, now: dt.datetime,
           zone: ZoneInfo) -> Decision:
    """The verdict on one scan of ``credential`` at ``channel`` (a channel of ``rules``)."""
    if credential.problem:
        return Decision(credential.problem)
    if channel.direction == "out":
        return Decision(VALID, persons=1)
    where = _where(rules, channel, credential)
    if where:
        return Decision(where)
    when = _when(rules, credential, now, zone)
    if when:
        return Decision(when)
    return _how_often(rules, credential, usage, now, zone)


def _where(rules: ListRules, channel: ChannelRules, credential: Credential) -> str:
    if channel.staff and not credential.staff_card:
        return WRONG_ENTRANCE
    if credential.kind == "ticket":
        if credential.venue != rules.venue or not _admits(rules.ticket_types, credential.ticket_type):
            return WRONG_ENTRANCE
        if not _admits(rules.sessions, credential.session):
            return WRONG_ENTRANCE
        if not credential.package and not _admits(rules.halls, credential.hall):
            return WRONG_ENTRANCE
        return ""
    if credential.kind == "card":
        if credential.staff_card:
            return "" if rules.staff else WRONG_ENTRANCE
        return "" if _admits(rules.card_types, credential.card_type) else WRONG_ENTRANCE
    if credential.kind == "code":
        return "" if rules.plain_codes and _admits(credential.lists, rules.code) else WRONG_ENTRANCE
    return WRONG_ENTRANCE


def _when(rules: ListRules, credential: Credential, now: dt.datetime, zone: ZoneInfo) -> str:
    if credential.staff_card:
        return EXPIRED if credential.valid_until is not None and now > credential.valid_until else ""
    if credential.kind == "ticket" and not credential.package:
        if credential.starts is not None and now < credential.starts - rules.opens_before:
            return TOO_EARLY
        if credential.ends is not None and now > credential.ends + rules.closes_after:
            return TOO_LATE
        return ""
    if credential.kind == "ticket" and credential.ends is not None and now > credential.ends:
        return EXPIRED
    if credential.valid_from is not None and now < credential.valid_from:
        return TOO_EARLY
    if credential.valid_until is not None and now > credential.valid_until:
        return EXPIRED
    clock = now.astimezone(zone).time().replace(tzinfo=None)
    if rules.daily_open is not None and clock < rules.daily_open:
        return TOO_EARLY
    if rules.daily_close is not None and clock > rules.daily_close:
        return TOO_LATE
    return ""


def _how_often(rules: ListRules, credential: Credential, usage: Usage, now: dt.datetime, zone: ZoneInfo) -> Decision:
    admits = max(1, credential.admits)
    tracked = rules.exit_tracking
    if tracked and rules.anti_passback and usage.inside + usage.reserved >= admits:
        return Decision(PASSBACK)
    if credential.staff_card:
        return Decision(VALID, persons=1)
    used = usage.admitted - (usage.exited if tracked and rules.reentry else 0)
    if rules.entries == "single":
        left = admits - max(0, used) - usage.reserved
    elif rules.entries == "per_day":
        today = usage.day_admitted if usage.day == local_day(now, zone) else 0
        left = rules.per_day * admits - today - usage.reserved
    else:
        left = None
    if credential.kind == "card" and credential.card_kind == "count":
        counts = (credential.counts or 0) - usage.reserved
        if counts < 1:
            return Decision(NO_COUNTS)
        left = counts if left is None else min(left, counts)
    if left is not None and left < 1:
        return Decision(ALREADY_USED)
    persons = 1
    if credential.group:
        persons = admits if left is None else left
        if tracked and rules.anti_passback:
            persons = min(persons, admits - usage.inside - usage.reserved)
    persons = max(1, persons)
    return Decision(VALID, persons=persons, remaining=None if left is None else left - persons)


def after_decision(usage: Usage, decision: Decision) -> Usage:
    """The usage with the decision's people reserved."""
    return replace(usage, reserved=usage.reserved + decision.persons) if decision.ok else usage


def after_passage(usage: Usage, rules: ListRules, direction: str, now: dt.datetime, zone: ZoneInfo, *,
                  channel: str, reserved: bool = True) -> Usage:
    """The usage once one person went through (``reserved``: their place was reserved)."""
    if direction == "out":
        return replace(usage, exited=usage.exited + 1, inside=max(0, usage.inside - 1), last_at=now,
                       last_channel=channel)
    day = local_day(now, zone)
    day_admitted = (usage.day_admitted if usage.day == day else 0) + 1
    return replace(usage, admitted=usage.admitted + 1, reserved=max(0, usage.reserved - (1 if reserved else 0)),
                   inside=usage.inside + 1 if rules.exit_tracking else usage.inside, day=day,
                   day_admitted=day_admitted, last_at=now, last_channel=channel)


def released(usage: Usage, persons: int) -> Usage:
    """The usage once ``persons`` authorised people did not pass."""
    return replace(usage, reserved=max(0, usage.reserved - persons))


__all__ = ["ALREADY_USED", "BLACKLISTED", "EMERGENCY", "EXPIRED", "FORGED", "NO_COUNTS", "PASSBACK", "REASONS",
           "REFUNDED", "STAFF_CARD_CATEGORIES", "TOO_EARLY", "TOO_LATE", "UNKNOWN", "VALID", "WRONG_ENTRANCE",
           "ChannelRules", "Credential", "Decision", "ListRules", "Usage", "after_decision", "after_passage", "decide",
           "local_day", "released", "selector"]
