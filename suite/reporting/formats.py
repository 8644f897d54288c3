"""How report values look: on screen and in CSV (text), and in Excel (number formats).

Money is integer minor units everywhere in the suite; only here does it become ``1,234.56``
(text) or ``12.34`` (an Excel number with a two-decimal format). Datetimes are aware UTC in
the database and shown in the local time zone; a naive datetime is taken to be UTC too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from suite.i18n import _
from suite.reporting.spec import Column, ColumnKind

#: Excel number formats per column kind (money as a currency amount with 2 decimals)
EXCEL_FORMATS: dict[ColumnKind, str] = {
    ColumnKind.MONEY: "#,##0.00",
    ColumnKind.INT: "0",
    ColumnKind.COUNT: "#,##0",
    ColumnKind.DATE: "yyyy-mm-dd",
    ColumnKind.DATETIME: "yyyy-mm-dd hh:mm",
}

_UTC = dt.timezone.utc


# below this many minor units a float holds minor/100 closely enough that formatting it to
# two decimals is exact (the error is ~1e-16 relative, the rounding boundary 0.005 away)
_FLOAT_SAFE = 10**13


def format_money(minor: int) -> str:
    """``123456`` -> ``"1,234.56"``; ``-5`` -> ``"-0.05"``."""
    if type(minor) is int and -_FLOAT_SAFE < minor < _FLOAT_SAFE:
        return f"{minor / 100:,.2f}"
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(int(minor)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def local_datetime(value: dt.datetime) -> dt.datetime:
    """An aware (or naive UTC) datetime in the local time zone, aware."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return value.astimezone()


class LocalClock:
    """Aware datetimes to naive local wall-clock ones, fast: the zone's offset is looked up
    once per quarter of an hour of UTC time (offsets only change on such boundaries)."""

    _QUARTER = 900

    def __init__(self) -> None:
        self._offsets: dict[int, dt.timedelta] = {}

    def naive(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=_UTC)
        elif value.tzinfo is not _UTC:
            value = value.astimezone(_UTC)
        key = int(value.timestamp()) // self._QUARTER
        offset = self._offsets.get(key)
        if offset is None:
            if len(self._offsets) > 100_000:
                self._offsets.clear()
            offset = self._offsets[key] = value.astimezone().utcoffset() or dt.timedelta(0)
        return value.replace(tzinfo=None) + offset


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _money(value: Any) -> str:
    return format_money(value)


def _int(value: Any) -> str:
    return str(int(value))


def _count(value: Any) -> str:
    return f"{int(value):,}"


def parse_stored(value: Any) -> Any:
    """A datetime or date kept as text (SQLite's storage: UTC ``YYYY-MM-DD HH:MM:SS.ffffff``,
    or ``YYYY-MM-DD``) as ``datetime``/``date``; anything else unchanged."""
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value)
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _date(value: Any) -> str:
    value = parse_stored(value)
    if isinstance(value, dt.datetime):
        return local_datetime(value).date().isoformat()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _datetime(value: Any) -> str:
    value = parse_stored(value)
    if isinstance(value, dt.datetime):
        return local_datetime(value).strftime("%Y-%m-%d %H:%M")
    return _date(value)


def _bool(value: Any) -> str:
    return _("yes") if value else _("no")


_FORMATTERS: dict[ColumnKind, Callable[[Any], str]] = {
    ColumnKind.TEXT: _text,
    ColumnKind.MONEY: _money,
    ColumnKind.INT: _int,
    ColumnKind.COUNT: _count,
    ColumnKind.DATE: _date,
    ColumnKind.DATETIME: _datetime,
    ColumnKind.BOOL: _bool,
}


def plain_money(minor: int) -> str:
    """``123456`` -> ``"1234.56"``: money for files other programs read (no grouping)."""
    if type(minor) is int and -_FLOAT_SAFE < minor < _FLOAT_SAFE:
        return f"{minor / 100:.2f}"
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(int(minor)), 100)
    return f"{sign}{whole}.{cents:02d}"


def csv_formatters(columns: Sequence[Column]) -> list[tuple[int, Callable[[Any], str]]]:
    """(index, formatter) of the columns whose values need formatting for a CSV file.

    As on screen (``format_cell``), except that numbers carry no thousands separators, so a
    spreadsheet in any locale reads them as numbers: money ``1234.56``, counts ``1234``.
    TEXT, INT and COUNT values are left to ``csv.writer``, which writes ``None`` as nothing
    and anything else as ``str(value)``.
    """
    found: list[tuple[int, Callable[[Any], str]]] = []
    for i, column in enumerate(columns):
        kind = ColumnKind(column.kind)
        if kind is ColumnKind.MONEY:
            found.append((i, plain_money))
        elif kind not in (ColumnKind.TEXT, ColumnKind.INT, ColumnKind.COUNT):
            found.append((i, formatter(column)))
    return found


def formatter(column: Column) -> Callable[[Any], str]:
    """A function turning one value of ``column`` into text (``None`` -> ``""``).

    Precompute one per column when formatting many rows; ``format_cell`` does the same once.
    The yes/no of BOOL columns is translated when the formatter is made.
    """
    if column.kind is ColumnKind.BOOL:
        yes, no = _("yes"), _("no")

        def boolean(value: Any) -> str:
            return "" if value is None else (yes if value else no)

        return boolean
    kind = ColumnKind(column.kind)
    if kind is ColumnKind.DATETIME:
        clock = LocalClock()
        # rows usually come in time order: remember the last minute formatted
        last: list[Any] = [None, ""]

        def when(value: Any) -> str:
            if type(value) is str and len(value) > 16:  # SQLite's UTC text, from a light read
                minute = value[:16]
                if minute == last[0]:
                    return last[1]  # type: ignore[no-any-return]
                value = parse_stored(value)
                if not isinstance(value, dt.datetime):
                    return str(value)
                text = clock.naive(value).isoformat(" ", "minutes")
                last[0], last[1] = minute, text
                return text
            if value is None:
                return ""
            if not isinstance(value, dt.datetime):
                return _date(value)
            if value.tzinfo is None:
                value = value.replace(tzinfo=_UTC)
            minute = value.timestamp() // 60
            if minute == last[0]:
                return last[1]  # type: ignore[no-any-return]
            text = clock.naive(value).isoformat(" ", "minutes")
            last[0], last[1] = minute, text
            return text

        return when
    if kind is ColumnKind.MONEY:
        def money(value: Any) -> str:
            if type(value) is int and -_FLOAT_SAFE < value < _FLOAT_SAFE:
                return f"{value / 100:,.2f}"
            return "" if value is None else format_money(value)

        return money
    if kind is ColumnKind.TEXT:
        def text(value: Any) -> str:
            return "" if value is None else value if isinstance(value, str) else str(value)

        return text
    base = _FORMATTERS.get(kind, _text)

    def fmt(value: Any) -> str:
        if value is None:
            return ""
        try:
            return base(value)
        except (TypeError, ValueError):
            return str(value)

    return fmt


def format_cell(column: Column, value: Any) -> str:
    """One value as the table view and the CSV show it: money ``1,234.56``, dates ISO,
    datetimes local ``YYYY-MM-DD HH:MM``, booleans a translated yes/no, ``None`` empty."""
    if value is None:
        return ""
    try:
        return _FORMATTERS.get(ColumnKind(column.kind), _text)(value)
    except (TypeError, ValueError):
        return str(value)


__all__ = ["EXCEL_FORMATS", "LocalClock", "csv_formatters", "parse_stored", "plain_money", "format_cell", "format_money", "formatter", "local_datetime"]
