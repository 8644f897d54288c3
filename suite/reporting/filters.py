"""Helpers for writing report queries: local days as UTC instants, time-ordered key bounds,
the venue scope, and the day of a datetime column in SQL on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Date, String, func, literal, true, type_coerce
from sqlalchemy.types import UserDefinedType

from suite.reporting.spec import ReportContext

LOCAL = "local"
CHAIN = "chain"
SCOPES = (LOCAL, CHAIN)

# rows of one venue are stamped by terminals whose clocks may be a little off from the key
# generator's; a key range this much wider than the time range loses none of them
KEY_MARGIN = dt.timedelta(hours=1)


def plugin_table(ctx: Any, plugin_id: str) -> dict[str, Any] | None:
    """The site's ``[plugins.<plugin_id>]`` table from a report's context; None when the report
    runs without a site (the plugin's defaults then apply)."""
    settings = getattr(ctx, "settings", None)
    return settings.plugins.get(plugin_id) if settings is not None else None


def local_midnight(day: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
    """The first instant of ``day`` in ``zone`` (the venue's; default this machine's), as an
    aware UTC datetime."""
    if zone is None:
        return dt.datetime.combine(day, dt.time.min).astimezone().astimezone(dt.timezone.utc)
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.timezone.utc)


def day_bounds(days: tuple[dt.date, dt.date], zone: dt.tzinfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Local days ``(first, last)`` inclusive (in ``zone``) -> UTC instants ``[start, end)``."""
    first, last = days
    return local_midnight(first, zone), local_midnight(last + dt.timedelta(days=1), zone)


def uuid7_floor(instant: dt.datetime) -> uuid.UUID:
    """The smallest UUIDv7 made at ``instant`` (milliseconds): compare time-ordered keys with it."""
    ms = max(0, int(instant.timestamp() * 1000))
    return uuid.UUID(int=(ms & ((1 << 48) - 1)) << 80)


def key_range(column: Any, start: dt.datetime, end: dt.datetime,
              margin: dt.timedelta = KEY_MARGIN) -> ColumnElement[bool]:
    """``column`` (a UUIDv7 key) within ``[start - margin, end + margin)``: lets the database
    range-scan the key's index; combine it with the exact test on the row's time."""
    return (column >= uuid7_floor(start - margin)) & (column < uuid7_floor(end + margin))


def venue_clause(ctx: ReportContext, scope: str | None, column: Any) -> ColumnElement[bool]:
    """``chain``: every row; ``local``: the rows of this terminal's venue (``ctx.venue_id``).

    A terminal with no venue configured sees the rows stamped with no venue (head office)."""
    if scope != LOCAL:
        return true()
    if ctx.venue_id is None:
        return column.is_(None)
    return column == ctx.venue_id


def _uuid_text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        if len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return value
    return str(value)


class UuidText(UserDefinedType[str]):
    """A UUID key read as its canonical text (``0190...-...``) without building ``uuid.UUID``
    objects: SQLite keeps the 32 hex digits, PostgreSQL's driver hands back a UUID. For
    reading only (``type_coerce``); its processor is a plain function, the cheapest kind."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "VARCHAR(36)"

    def bind_processor(self, dialect: Any) -> None:
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return _uuid_text


def uuid_text(column: Any) -> ColumnElement[str]:
    """Select a UUID column as text (reports show ids; converting is the costly part)."""
    return type_coerce(column, UuidText())


def local_zone_name() -> str | None:
    """The IANA name of the local time zone (``Asia/Shanghai``), when it can be found."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return None
    marker = "zoneinfo/"
    at = target.find(marker)
    if at < 0:
        return None
    name = target[at + len(marker):]
    for prefix in ("posix/", "right/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name or None


def local_day(column: Any, dialect_name: str) -> ColumnElement[Any]:
    """The local calendar day of an aware-UTC datetime column, computed by the database.

    SQLite stores UTC text and applies the C library's local time (as Python's
    ``astimezone()`` does); PostgreSQL converts with the zone's IANA name, or with today's
    fixed offset when no name can be found. The result is a date (PostgreSQL) or an ISO
    ``YYYY-MM-DD`` text (SQLite); ``as_date`` turns either into ``dt.date``.
    """
    if dialect_name == "sqlite":
        return func.date(column, "localtime", type_=String)
    if dialect_name == "postgresql":
        zone = local_zone_name()
        if zone is not None:
            return func.date(func.timezone(literal(zone, String), column), type_=Date)
        offset = dt.datetime.now().astimezone().utcoffset() or dt.timedelta(0)
        return func.date(func.timezone("UTC", column) + literal(offset), type_=Date)
    return func.date(column, type_=Date)


def as_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


__all__ = ["CHAIN", "LOCAL", "SCOPES", "as_date", "day_bounds", "key_range", "local_day",
           "local_midnight", "local_zone_name", "UuidText", "uuid7_floor", "uuid_text", "venue_clause"]
