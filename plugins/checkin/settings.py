"""The check-in table of the site configuration, ``[plugins.checkin]`` (docs/checkin.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from suite.plugin_settings import parse_table, time_zone

SECTION = "plugins.checkin"


@dataclass(frozen=True)
class CheckinSettings:
    timezone: str = "Asia/Shanghai"  # the venue's day (per-day entries, daily hours, reports)
    channels: tuple[str, ...] = ()  # channels this terminal runs (attendant screen)
    repeat_seconds: int = 3  # the same code at the same reader within this many seconds counts once
    ticket_public_keys: tuple[str, ...] = ()  # Ed25519 keys of ticket codes ("" = this chain's own key)
    offline_path: str = ""  # the gate's own SQLite file ("" = <data dir>/checkin-offline.sqlite)
    refresh_seconds: int = 60  # how often the offline copy (lists, revocations, cards) is refreshed
    upload_seconds: int = 5  # how often check-ins decided offline are uploaded once the database is back

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_settings(table: dict[str, Any] | None) -> CheckinSettings:
    settings = parse_table(CheckinSettings, table, SECTION)
    time_zone(settings.timezone, SECTION)
    return settings


def settings_of(app: Any) -> CheckinSettings:
    return parse_settings(app.settings.plugins.get("checkin"))


__all__ = ["CheckinSettings", "parse_settings", "settings_of"]
