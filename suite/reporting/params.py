"""Report parameters: text from ``--param k=v`` or a form field, to typed values.

* DATE: ``2026-11-01``, ``today``, ``yesterday``;
* DATE_RANGE: ``2026-11-01..2026-11-30``, one day (``2026-11-01``, ``today``) or a month
  (``2026-11``), each end may be ``today``/``yesterday``;
* NUMBER_RANGE: ``1000..1999`` or one number (card and ticket numbers stay text);
* INT, CHOICE (one of the declared values), USER and TEXT, VENUE_SCOPE (``local``/``chain``).

An empty value counts as not given. Every error is ``InvalidInput`` with a translated message
naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from suite.errors import InvalidInput
from suite.i18n import _
from suite.reporting.filters import SCOPES
from suite.reporting.spec import Param, ParamKind, ReportSpec

RANGE_SEPARATOR = ".."
_NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]*$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _who(param: Param) -> str:
    return f"{param.name} ({_(param.label)})" if param.label else param.name


def _words(today: dt.date) -> dict[str, dt.date]:
    yesterday = today - dt.timedelta(days=1)
    return {"today": today, "yesterday": yesterday, _("today"): today, _("yesterday"): yesterday}


def _date(param: Param, text: str, today: dt.date) -> dt.date:
    word = _words(today).get(text.strip().lower()) or _words(today).get(text.strip())
    if word is not None:
        return word
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(_("{param}: {value!r} is not a date (expected YYYY-MM-DD, today or yesterday).").format(
            param=_who(param), value=text), param=param.name) from None


def _month(text: str) -> tuple[dt.date, dt.date] | None:
    match = _MONTH.match(text.strip())
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def _date_range(param: Param, text: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if RANGE_SEPARATOR in text:
        left, _sep, right = text.partition(RANGE_SEPARATOR)
        if not left.strip() or not right.strip():
            raise InvalidInput(_("{param}: {value!r} is not a date range (expected FIRST..LAST like "
                                 "2026-11-01..2026-11-30, one day, or a month like 2026-11).").format(
                param=_who(param), value=text), param=param.name)
        return _ordered_days(param, _date(param, left, today), _date(param, right, today))
    month = _month(text)
    if month is not None:
        return month
    day = _date(param, text, today)
    return day, day


def _ordered_days(param: Param, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    if first > last:
        raise InvalidInput(_("{param}: the range starts after it ends ({first} > {last}).").format(
            param=_who(param), first=first.isoformat(), last=last.isoformat()), param=param.name)
    return first, last


def _number_range(param: Param, text: str) -> tuple[str, str]:
    left, sep, right = text.partition(RANGE_SEPARATOR)
    first, last = left.strip(), (right.strip() if sep else left.strip())
    if not _NUMBER.match(first) or not _NUMBER.match(last):
        raise InvalidInput(_("{param}: {value!r} is not a number range (expected FIRST..LAST like 1000..1999, "
                             "or one number).").format(param=_who(param), value=text), param=param.name)
    return _ordered_numbers(param, first, last)


def _ordered_numbers(param: Param, first: str, last: str) -> tuple[str, str]:
    if first.isdigit() and last.isdigit() and int(first) > int(last):
        raise InvalidInput(_("{param}: the range starts after it ends ({first} > {last}).").format(
            param=_who(param), first=first, last=last), param=param.name)
    return first, last


def _int(param: Param, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput(_("{param}: {value!r} is not a whole number.").format(param=_who(param), value=text),
                           param=param.name) from None


def _choice(param: Param, text: str) -> str:
    value = text.strip()
    valid = [v for v, _label in param.choices]
    if value in valid:
        return value
    # a form may hand back the label it showed instead of the value
    for v, label in param.choices:
        if value in (label, _(label)):
            return v
    raise InvalidInput(_("{param}: {value!r} is not one of: {choices}.").format(
        param=_who(param), value=text, choices=", ".join(valid)), param=param.name)


def _scope(param: Param, text: str) -> str:
    value = text.strip().lower()
    if value in SCOPES:
        return value
    raise InvalidInput(_("{param}: the scope is local (this venue) or chain (every venue), not {value!r}.").format(
        param=_who(param), value=text), param=param.name)


def parse_value(param: Param, text: str, *, today: dt.date | None = None) -> Any:
    """One parameter's text to its typed value (``InvalidInput`` when it is not valid)."""
    today = today or dt.date.today()
    kind = ParamKind(param.kind)
    if kind is ParamKind.DATE:
        return _date(param, text, today)
    if kind is ParamKind.DATE_RANGE:
        return _date_range(param, text, today)
    if kind is ParamKind.NUMBER_RANGE:
        return _number_range(param, text)
    if kind is ParamKind.INT:
        return _int(param, text)
    if kind is ParamKind.CHOICE:
        return _choice(param, text)
    if kind is ParamKind.VENUE_SCOPE:
        return _scope(param, text)
    return text.strip()


def _typed(param: Param, value: Any, today: dt.date) -> Any:
    """A value given already typed (from a form or code), checked like text would be."""
    if isinstance(value, str):
        return parse_value(param, value, today=today)
    kind = ParamKind(param.kind)
    bad = InvalidInput(_("{param}: {value!r} is not a valid value.").format(param=_who(param), value=value),
                       param=param.name)
    if kind is ParamKind.DATE:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raise bad
    if kind is ParamKind.DATE_RANGE:
        if isinstance(value, dt.date):
            day = value.date() if isinstance(value, dt.datetime) else value
            return day, day
        if isinstance(value, (tuple, list)) and len(value) == 2:
            first, last = (_typed(Param(param.name, param.label, ParamKind.DATE), v, today) for v in value)
            return _ordered_days(param, first, last)
        raise bad
    if kind is ParamKind.NUMBER_RANGE:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value), str(value)
        if isinstance(value, (tuple, list)) and len(value) == 2:
            return _number_range(param, f"{value[0]}{RANGE_SEPARATOR}{value[1]}")
        raise bad
    if kind is ParamKind.INT:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise bad
    return parse_value(param, str(value), today=today)


def _unknown(spec: ReportSpec, name: str) -> InvalidInput:
    valid = [p.name for p in spec.params]
    if not valid:
        return InvalidInput(_("Unknown parameter {name!r}: the report {report} takes no parameters.").format(
            name=name, report=spec.id), param=name)
    return InvalidInput(_("Unknown parameter {name!r} for the report {report}; its parameters are: {valid}.").format(
        name=name, report=spec.id, valid=", ".join(valid)), param=name, valid=valid)


def _complete(spec: ReportSpec, given: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """Defaults for what is missing; ``InvalidInput`` for a required parameter left out."""
    values: dict[str, Any] = {}
    for param in spec.params:
        if param.name in given:
            values[param.name] = given[param.name]
        elif param.default is not None:
            values[param.name] = _typed(param, param.default, today)
        elif param.required:
            raise InvalidInput(_("{param} is required.").format(param=_who(param)), param=param.name)
        else:
            values[param.name] = None
    return values


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_params(spec: ReportSpec, raw: Mapping[str, str], *, today: dt.date | None = None) -> dict[str, Any]:
    """Texts (``--param k=v``, a form) to typed values; every parameter of the spec gets a
    key (``None`` when optional, not given and without a default)."""
    today = today or dt.date.today()
    known = {p.name: p for p in spec.params}
    given: dict[str, Any] = {}
    for name, text in raw.items():
        param = known.get(name)
        if param is None:
            raise _unknown(spec, name)
        if not _is_empty(text):
            given[name] = parse_value(param, str(text), today=today)
    return _complete(spec, given, today)


def coerce_params(spec: ReportSpec, values: Mapping[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    """Like ``parse_params`` for values that may already be typed (text is parsed)."""
    today = today or dt.date.today()
    known = {p.name: p for p in spec.params}
    given: dict[str, Any] = {}
    for name, value in values.items():
        param = known.get(name)
        if param is None:
            raise _unknown(spec, name)
        if not _is_empty(value):
            given[name] = _typed(param, value, today)
    return _complete(spec, given, today)


def split_assignments(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["from=2026-11-01", "kind=topup"]`` (``--param`` values) -> a mapping; later wins."""
    raw: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(_("A parameter is given as NAME=VALUE, not {item!r}.").format(item=item))
        raw[name.strip()] = value
    return raw


__all__ = ["RANGE_SEPARATOR", "coerce_params", "parse_params", "parse_value", "split_assignments"]
