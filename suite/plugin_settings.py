"""A plugin's table of the site configuration (``[plugins.<id>]``) as a frozen dataclass:
unknown keys and wrong types are ``ConfigError`` naming the key, so a plugin's
``venue_suite_validate_settings`` hook is one call. Field types follow the defaults: text,
whole numbers (0 or more), yes/no, or lists of codes (tuple defaults)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from suite.errors import ConfigError
from suite.i18n import _

T = TypeVar("T")


def parse_table(kind: type[T], table: dict[str, Any] | None, section: str) -> T:
    """``table`` checked against the dataclass ``kind``'s fields and defaults."""
    known = {f.name: f for f in fields(kind)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, value in dict(table or {}).items():
        if key not in known:
            raise ConfigError(_("[{section}] {key}: unknown setting (known: {known}).").format(
                section=section, key=key, known=", ".join(sorted(known))))
        default = known[key].default
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(_("[{section}] {key}: expected a list of codes.").format(section=section, key=key))
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(_("[{section}] {key}: expected true or false.").format(section=section, key=key))
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(_("[{section}] {key}: expected a whole number, 0 or more.").format(
                    section=section, key=key))
        elif not isinstance(value, str):
            raise ConfigError(_("[{section}] {key}: expected text.").format(section=section, key=key))
        values[key] = value
    return kind(**values)


def time_zone(name: str, section: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(_("[{section}] timezone: {zone} is not a time zone (like Asia/Shanghai).").format(
            section=section, zone=name)) from exc


__all__ = ["parse_table", "time_zone"]
