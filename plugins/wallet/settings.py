"""The wallet's table in the site configuration, ``[plugins.wallet]`` (docs/wallet.md).

What this POS is, for card acceptance (a card type lists the venues, merchants and terminal
groups where it pays; the POS lists the card types it takes), the venue's time zone (time-slot
discounts and daily close use local time), and the limits of offline consumption (W6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from suite.plugin_settings import parse_table, time_zone


@dataclass(frozen=True)
class WalletSettings:
    merchant: str = ""  # the merchant (stall, shop) this POS sells for; "" = the venue itself
    terminal_group: str = ""  # e.g. "food", "rides"; "" = none
    accepted_types: tuple[str, ...] = ()  # card type codes this POS takes; () = every type
    timezone: str = "Asia/Shanghai"
    offline_terminal_limit: int = 200000  # fen this terminal may take offline before reconnecting
    offline_max_entries: int = 1000  # consumes it may queue offline
    offline_spool: str = "{data_dir}/wallet-offline.db"  # the local queue of offline consumes

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def takes(self, type_code: str) -> bool:
        return not self.accepted_types or type_code in self.accepted_types


def parse_settings(table: dict[str, Any] | None) -> WalletSettings:
    """``[plugins.wallet]`` as typed settings; ``ConfigError`` names the key and what was expected."""
    settings = parse_table(WalletSettings, table, "plugins.wallet")
    time_zone(settings.timezone, "plugins.wallet")
    return settings


def settings_of(app: Any) -> WalletSettings:
    return parse_settings(app.settings.plugins.get("wallet"))


__all__ = ["WalletSettings", "parse_settings", "settings_of"]
