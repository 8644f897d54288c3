"""Checks for values a user typed or a caller passed, shared by the plugins' services: each
returns the clean value or raises ``InvalidInput`` with a translated message naming the field."""

from __future__ import annotations

import datetime as dt

from suite.errors import InvalidInput
from suite.i18n import _

MAX_AMOUNT = 10**12  # fen: 10 billion yuan, far above any real movement


def whole(value: object, what: str, *, minimum: int = 0, maximum: int = MAX_AMOUNT) -> int:
    """An int (never a bool or a float) from ``minimum`` to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(_("{what} must be a whole number from {low} to {high}.").format(
            what=what, low=minimum, high=maximum))
    return value


def text(value: object, what: str, max_length: int, *, required: bool = True) -> str:
    """Text of at most ``max_length`` characters, stripped; not blank when ``required``."""
    if not isinstance(value, str) or len(value) > max_length or (required and not value.strip()):
        raise InvalidInput(_("{what} is required, as text of at most {n} characters.").format(
            what=what, n=max_length))
    return value.strip()


def idempotency_key(value: object) -> str:
    return text(value, _("The idempotency key"), 100)


def local_date(value: object, what: str) -> dt.date:
    """A ``date`` (a ``datetime``'s date) or its ISO text (YYYY-MM-DD)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(_("{what} must be a date (YYYY-MM-DD), not {value!r}.").format(what=what, value=value))


__all__ = ["MAX_AMOUNT", "idempotency_key", "local_date", "text", "whole"]
