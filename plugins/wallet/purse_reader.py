"""The card on a configured reader, for the CLI (the desktop suite's device host hands out
cards itself)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from suite.errors import ConfigError
from suite.i18n import _

from plugins.wallet.purse_checks import READER_KIND

@contextmanager
def reader_card(app: Any, device_id: str | None = None, *, wait: float = 5.0) -> Iterator[Any]:
    """The card on a reader of the site file (``[devices.<id>]`` of kind ``pcsc-reader``;
    default: the only one), waiting up to ``wait`` seconds for a card; the reader is closed
    afterwards. For the CLI; the desktop suite's device host hands out cards itself."""
    from devices.reader import NoCard
    from suite.device_host import DeviceConfig, resolve_factory

    tables = {name: dict(table) for name, table in app.settings.devices.items() if table.get("kind") == READER_KIND}
    if device_id is None and len(tables) == 1:
        device_id = next(iter(tables))
    if device_id is None:
        if not tables:
            raise ConfigError(_('No card reader is configured: add [devices.<id>] with kind = "pcsc-reader".'))
        raise ConfigError(_("Several card readers are configured ({ids}): choose one with --reader.").format(
            ids=", ".join(sorted(tables))))
    if device_id not in tables:
        raise ConfigError(_("No card reader {id!r} in the configuration; configured: {ids}.").format(
            id=device_id, ids=", ".join(sorted(tables)) or "-"))
    kinds = {kind.id: kind for manifest in app.plugins.active_manifests() for kind in manifest.device_kinds}
    options = tables[device_id]
    options.pop("kind")
    factory = resolve_factory(kinds[READER_KIND].driver)
    device = factory(DeviceConfig(device_id, READER_KIND, options, app.secrets), lambda _event: None)
    device.start()
    try:
        deadline = time.monotonic() + max(0.0, wait)
        card = device.current_card()
        while card is None and time.monotonic() < deadline:
            time.sleep(0.02)
            card = device.current_card()
        if card is None:
            raise NoCard(_("No card on reader {reader} within {seconds} s: present a card and try again.").format(
                reader=device_id, seconds=wait))
        yield card
    finally:
        device.stop()


__all__ = ["reader_card"]
