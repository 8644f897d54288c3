"""The check-in reports (G6); docs/checkin-reports.md.

* ``SUMMARY``: scans, people in and out, refusals, annulled entries, offline entries and
  conflicts, grouped by one dimension chosen by ``by`` (list, channel, hour, day, credential
  kind, ticket type, reason);
* ``DETAIL``: one row per ``checkin_entries`` row (a scan, a manual opening, a free passage);
* ``OCCUPANCY``: people in, out and inside per time step of one day.

Every row is read from ``checkin_entries`` between UTC bounds computed from the venue's local
days (``[plugins.checkin] timezone``); local days, hours and times are cut in Python in that
zone, so SQLite and PostgreSQL give the same figures whatever the zone of the machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, select, true

from suite.db.core_models import Venue
from suite.i18n import N_, _
from suite.inputs import whole
from suite.reporting.common import venue_scope
from suite.reporting.filters import LOCAL, day_bounds, plugin_table
from suite.reporting.spec import (
    ChartAggregate, ChartKind, ChartSpec, Column, ColumnKind, Param, ParamKind, ReportContext, ReportSpec,
)

from plugins.checkin import rules
from plugins.checkin.models import ENTRY_STATES, CheckinChannel, CheckinEntry, CheckinList
from plugins.checkin.service import message
from plugins.checkin.settings import parse_settings

COUNT, DATE, BOOL = ColumnKind.COUNT, ColumnKind.DATE, ColumnKind.BOOL
UTC = dt.timezone.utc
BATCH = 2000
MANUAL = "manual"
DAY_MINUTES = 24 * 60

KIND_LABELS = {"ticket": N_("Ticket code"), "card": N_("Wallet card"), "code": N_("Plain code"),
               "manual": N_("Manual opening"), "free": N_("Free passage")}
DIRECTION_LABELS = {"in": N_("In"), "out": N_("Out")}
STATE_LABELS = {"refused": N_("refused"), "pending": N_("awaiting passage"), "admitted": N_("admitted"),
                "partial": N_("partial"), "annulled": N_("annulled")}
NO_TICKET_TYPE = N_("No ticket type")

DIMENSIONS = (
    ("list", N_("Check-in list")),
    ("channel", N_("Gate channel")),
    ("hour", N_("Hour")),
    ("day", N_("Day")),
    ("kind", N_("Credential kind")),
    ("ticket_type", N_("Ticket type")),
    ("reason", N_("Reason")),
)

# ---------------------------------------------------------------- the venue's days


def report_zone(ctx: Any) -> ZoneInfo:
    """The venue's zone: the site's ``[plugins.checkin] timezone`` from the report's context,
    or the default (Asia/Shanghai) when the report runs without a site."""
    return parse_settings(plugin_table(ctx, "checkin")).zone






def _label(labels: Mapping[str, str], code: str) -> str:
    label = labels.get(code)
    return _(label) if label else code


def reason_text(reason: str) -> str:
    """What the attendant read for the entry (``manual``: opened by hand)."""
    return _("Opened by hand") if reason == MANUAL else message(reason)


# ---------------------------------------------------------------- parameters


def _period() -> Param:
    return Param("period", N_("Period"), ParamKind.DATE_RANGE,
                 help=N_("the venue's local days of the scans: FIRST..LAST, one day, a month (2026-11), today or "
                         "yesterday; empty: every day"))


def _list() -> Param:
    return Param("list", N_("Check-in list"), ParamKind.TEXT, help=N_("check-in list code; empty: every list"))


def _channel() -> Param:
    return Param("channel", N_("Gate channel"), ParamKind.TEXT, help=N_("channel code; empty: every channel"))


def _venue() -> Param:
    return Param("venue", N_("Venue"), ParamKind.TEXT, help=N_("venue code of the list; empty: every venue"))


def _by() -> Param:
    return Param("by", N_("Grouped by"), ParamKind.CHOICE, required=True, default="list", choices=DIMENSIONS,
                 help=N_("one row per list, channel, local hour, local day, credential kind, ticket type or reason"))


def _state() -> Param:
    return Param("state", N_("State"), ParamKind.CHOICE, choices=tuple((s, STATE_LABELS[s]) for s in ENTRY_STATES),
                 help=N_("only the entries in this state (refused: the refusals); empty: every entry"))


def _day() -> Param:
    return Param("day", N_("Day"), ParamKind.DATE, required=True, default="today",
                 help=N_("the venue's local day"))


def _step() -> Param:
    return Param("step", N_("Step (minutes)"), ParamKind.INT, default=15,
                 help=N_("minutes per row, from 1 to 1440"))


# ---------------------------------------------------------------- reading the entries


def _scope(ctx: ReportContext, scope: str | None) -> ColumnElement[bool]:
    """``chain``: every entry; ``local``: the entries of this terminal's venue (by its code); a
    terminal with no venue configured sees the entries stamped with no venue (head office)."""
    e = CheckinEntry.__table__.c
    if scope != LOCAL:
        return true()
    if ctx.venue_id is None:
        return e.venue_id.is_(None)
    venue = Venue.__table__.c
    return e.venue_code == select(venue.code).where(venue.id == ctx.venue_id).scalar_subquery()


def _filters(ctx: ReportContext, params: Mapping[str, Any], start: dt.datetime | None,
             end: dt.datetime | None) -> list[ColumnElement[bool]]:
    e = CheckinEntry.__table__.c
    where = [_scope(ctx, params.get("scope"))]
    if start is not None and end is not None:
        where += [e.decided_at >= start, e.decided_at < end]
    for name, column in (("list", e.list_code), ("channel", e.channel_code), ("state", e.state),
                         ("venue", e.venue_code)):
        if params.get(name):
            where.append(column == params[name])
    return where


def _stream(ctx: ReportContext, query: Select[Any]) -> Iterator[Any]:
    """``query``'s rows, streamed (a server-side cursor on PostgreSQL), closed when left."""
    result = ctx.session.execute(query.execution_options(yield_per=BATCH, stream_results=True))
    try:
        yield from result
    finally:
        result.close()


@dataclass(frozen=True)
class EntryRow:
    decided_at: dt.datetime
    list_code: str
    channel_code: str
    direction: str
    kind: str
    label: str
    reason: str
    state: str
    authorised: int
    passed: int
    session: str
    ticket_type: str
    terminal: str
    operator: str
    offline: bool
    conflict: bool

    @property
    def people_in(self) -> int:
        return self.passed if self.direction == "in" else 0

    @property
    def people_out(self) -> int:
        return self.passed if self.direction == "out" else 0


def _entries(ctx: ReportContext, params: Mapping[str, Any], zone: dt.tzinfo) -> Iterator[EntryRow]:
    """The entries the parameters select, oldest first."""
    e = CheckinEntry.__table__.c
    start, end = day_bounds(params["period"], zone) if params.get("period") else (None, None)
    query = (select(e.decided_at, e.list_code, e.channel_code, e.direction, e.kind, e.label, e.reason, e.state,
                    e.authorised, e.passed, e.session_ref.label("session"), e.ticket_type,
                    e.terminal_code.label("terminal"), e.operator, e.offline, e.conflict)
             .where(*_filters(ctx, params, start, end))
             .order_by(e.decided_at, e.id))
    for row in _stream(ctx, query):
        yield EntryRow(**row._mapping)


# ---------------------------------------------------------------- detail


def _detail(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    zone = report_zone(ctx)
    for x in _entries(ctx, params, zone):
        local = x.decided_at.astimezone(zone)
        yield (local.date(), local.strftime("%H:%M:%S"), x.list_code, x.channel_code,
               _label(DIRECTION_LABELS, x.direction), _label(KIND_LABELS, x.kind), x.label, reason_text(x.reason),
               _label(STATE_LABELS, x.state), x.authorised, x.passed, x.session, x.ticket_type, x.terminal,
               x.operator, x.offline, x.conflict)


DETAIL = ReportSpec(
    id="checkin.detail",
    title=N_("Check-ins detail"),
    description=N_("Every scan, manual opening and free passage, on the venue's local day and time it was decided: "
                   "list, channel, direction, credential, the reason shown at the gate, its state, the people "
                   "authorised and those who passed, the terminal and the operator."),
    columns=(
        Column("day", N_("Day"), DATE, width=11),
        Column("time", N_("Time"), width=9),
        Column("list", N_("Check-in list"), width=10),
        Column("channel", N_("Gate channel"), width=10),
        Column("direction", N_("Direction"), width=6),
        Column("kind", N_("Credential kind"), width=12),
        Column("label", N_("Credential"), width=16),
        Column("reason", N_("Reason"), width=20),
        Column("state", N_("State"), width=10),
        Column("authorised", N_("Authorised"), COUNT, total=True, width=8),
        Column("passed", N_("Passed"), COUNT, total=True, width=8),
        Column("session", N_("Session"), width=10),
        Column("ticket_type", N_("Ticket type"), width=10),
        Column("terminal", N_("Terminal"), width=8),
        Column("operator", N_("Operator"), width=12),
        Column("offline", N_("Offline"), BOOL, width=7),
        Column("conflict", N_("Conflict"), BOOL, width=7),
    ),
    params=(_period(), _list(), _channel(), _state(), _venue(), venue_scope()),
    rows=_detail,
    chart=ChartSpec(day="day", value="day", title=N_("Check-ins per day"), aggregate=ChartAggregate.COUNT),
)

# ---------------------------------------------------------------- summary


@dataclass
class Figures:
    scans: int = 0
    people_in: int = 0
    people_out: int = 0
    refused: int = 0
    annulled: int = 0
    offline: int = 0
    conflicts: int = 0

    def add(self, entry: EntryRow) -> None:
        self.scans += 1
        self.people_in += entry.people_in
        self.people_out += entry.people_out
        self.refused += int(entry.state == "refused")
        self.annulled += int(entry.state == "annulled")
        self.offline += int(entry.offline)
        self.conflicts += int(entry.conflict)


def _names(ctx: ReportContext, model: Any) -> dict[str, str]:
    table = model.__table__.c
    return {code: name for code, name in ctx.session.execute(select(table.code, table.name))}


def _named(code: str, names: Mapping[str, str]) -> str:
    return " ".join(v for v in (code, names.get(code, "")) if v)


_KIND_ORDER = {kind: index for index, kind in enumerate(KIND_LABELS)}
_REASON_ORDER = {reason: index for index, reason in enumerate((*rules.REASONS, MANUAL))}

# a dimension of the entries: the group's key (also its sort order) and its label
Grouping = Callable[[EntryRow], tuple[Any, str]]


def _groupings(ctx: ReportContext, by: str, zone: dt.tzinfo) -> Grouping:
    if by == "list":
        lists = _names(ctx, CheckinList)
        return lambda x: (x.list_code, _named(x.list_code, lists))
    if by == "channel":
        channels = _names(ctx, CheckinChannel)
        return lambda x: (x.channel_code, _named(x.channel_code, channels))
    if by == "hour":
        return lambda x: (x.decided_at.astimezone(zone).hour, x.decided_at.astimezone(zone).strftime("%H:00"))
    if by == "day":
        def day(x: EntryRow) -> tuple[Any, str]:
            local = x.decided_at.astimezone(zone).date()
            return local, local.isoformat()

        return day
    if by == "kind":
        return lambda x: ((_KIND_ORDER.get(x.kind, len(_KIND_ORDER)), x.kind), _label(KIND_LABELS, x.kind))
    if by == "ticket_type":
        return lambda x: (x.ticket_type, x.ticket_type or _(NO_TICKET_TYPE))
    return lambda x: ((_REASON_ORDER.get(x.reason, len(_REASON_ORDER)), x.reason), reason_text(x.reason))


def _summary(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    zone = report_zone(ctx)
    by = params.get("by") or "list"
    key_of = _groupings(ctx, by, zone)
    groups: dict[Any, tuple[str, Figures]] = {}
    for entry in _entries(ctx, params, zone):
        key, label = key_of(entry)
        groups.setdefault(key, (label, Figures()))[1].add(entry)
    for key, (label, f) in sorted(groups.items(), key=lambda item: item[0]):
        yield (key if by == "day" else None, label, f.scans, f.people_in, f.people_out, f.refused, f.annulled,
               f.offline, f.conflicts)


SUMMARY = ReportSpec(
    id="checkin.summary",
    title=N_("Check-ins summary"),
    description=N_("Scans, people in and out, refusals, entries annulled (authorised but nobody passed), entries "
                   "decided offline and conflicts, over the venue's local days, grouped by list, channel, hour, day, "
                   "credential kind, ticket type or reason."),
    columns=(
        Column("day", N_("Day"), DATE, width=11),
        Column("group", N_("Group"), width=24),
        Column("scans", N_("Scans"), COUNT, total=True, width=9),
        Column("people_in", N_("People in"), COUNT, total=True, width=9),
        Column("people_out", N_("People out"), COUNT, total=True, width=9),
        Column("refused", N_("Refused"), COUNT, total=True, width=9),
        Column("annulled", N_("Annulled"), COUNT, total=True, width=9),
        Column("offline", N_("Offline"), COUNT, total=True, width=9),
        Column("conflicts", N_("Conflicts"), COUNT, total=True, width=9),
    ),
    params=(_period(), _by(), _list(), _venue(), venue_scope()),
    rows=_summary,
    chart=ChartSpec(category="group", value="people_in", title=N_("People in per group")),
)

# ---------------------------------------------------------------- occupancy


def _occupancy(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    """People through per step of the day, at each entry's ``decided_at``; inside starts at 0 at
    local midnight and never goes below 0."""
    zone = report_zone(ctx)
    day: dt.date = params["day"]
    minutes = params.get("step")
    step = dt.timedelta(minutes=whole(15 if minutes is None else minutes, _("The step"), minimum=1,
                                      maximum=DAY_MINUTES))
    start, end = day_bounds((day, day), zone)
    steps = -(-(end - start) // step)  # a DST day has 23 or 25 hours
    ins, outs = [0] * steps, [0] * steps
    e = CheckinEntry.__table__.c
    query = (select(e.decided_at, e.direction, e.passed)
             .where(e.passed > 0, *_filters(ctx, params, start, end)))
    for decided_at, direction, passed in _stream(ctx, query):
        index = (decided_at - start) // step
        (ins if direction == "in" else outs)[index] += int(passed)
    inside = 0
    for index in range(steps):
        inside = max(0, inside + ins[index] - outs[index])
        yield (day, (start + index * step).astimezone(zone).strftime("%H:%M"), ins[index], outs[index], inside)


OCCUPANCY = ReportSpec(
    id="checkin.occupancy",
    title=N_("Occupancy over the day"),
    description=N_("People who went in and out during each step of the venue's local day, and how many were inside "
                   "at the end of the step (people in less people out since midnight), counted when each entry was "
                   "decided."),
    columns=(
        Column("day", N_("Day"), DATE, width=11),
        Column("time", N_("Time"), width=6),
        Column("people_in", N_("People in"), COUNT, total=True, width=9),
        Column("people_out", N_("People out"), COUNT, total=True, width=9),
        Column("inside", N_("Inside"), COUNT, width=9),
    ),
    params=(_day(), _list(), _step(), _venue(), venue_scope()),
    rows=_occupancy,
    chart=ChartSpec(category="time", value="inside", title=N_("People inside over the day"), kind=ChartKind.LINE),
)

REPORTS = (SUMMARY, DETAIL, OCCUPANCY)

__all__ = ["DETAIL", "OCCUPANCY", "REPORTS", "SUMMARY", "day_bounds", "reason_text",
           "report_zone"]
