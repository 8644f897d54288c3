"""The box office's table in the site configuration, ``[plugins.tickets]`` (docs/tickets.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from suite.plugin_settings import parse_table, time_zone

SECTION = "plugins.tickets"


@dataclass(frozen=True)
class TicketSettings:
    timezone: str = "Asia/Shanghai"  # the venue's time: offers' time slots, shifts, reports
    hold_minutes: int = 10  # how long seats picked on the map stay held for this terminal
    ticket_printer: str = ""  # device id of the ticket printer ("" = the first ESC/POS printer)
    receipt_printer: str = ""  # device id of the receipt printer ("" = the ticket printer)
    face: str = ""  # the ticket face template code ("" = the built-in face)
    signing_key_secret: str = "tickets-signing-key"  # keyring entry of the Ed25519 key signing codes

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_settings(table: dict[str, Any] | None) -> TicketSettings:
    settings = parse_table(TicketSettings, table, SECTION)
    time_zone(settings.timezone, SECTION)
    return settings


def settings_of(app: Any) -> TicketSettings:
    return parse_settings(app.settings.plugins.get("tickets"))


__all__ = ["TicketSettings", "parse_settings", "settings_of"]
