"""Configured devices: built from ``[devices.<id>]`` tables, kept running, health reported.

A device kind is declared by a plugin (``DeviceKind(id, title, driver="module:factory")``; the
host's own kinds come from the core plugin). The factory is called as
``factory(config, post)`` and returns a ``Device``; ``post`` hands events
(``suite.events``) to whoever listens: the shell's event pump, or a test's queue. Drivers post
from their own threads and never touch Tk.

The host starts every configured device, and a supervisor thread restarts one that failed or
lost its connection, with exponential backoff (0.5 s doubling to 30 s), posting a
``DeviceHealth`` event whenever a device's health changes.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from suite.errors import ConfigError, SuiteError
from suite.events import DeviceHealth
from suite.i18n import _

log = logging.getLogger(__name__)

Post = Callable[[object], None]
MIN_BACKOFF = 0.5
MAX_BACKOFF = 30.0


class DeviceError(SuiteError):
    """A device cannot do what was asked (offline, unplugged, out of paper...)."""

    code = "device"


@dataclass(frozen=True)
class DeviceConfig:
    id: str
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)
    # the terminal's keyring (``SecretStore``), for devices with keys (OSDP secure channel)
    secrets: Any = field(default=None, compare=False, repr=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


class Device(Protocol):
    """What the host needs of a driver."""

    device_id: str

    def start(self) -> None:
        """Open the device and start its threads; raise ``DeviceError`` when it cannot."""

    def stop(self) -> None:
        """Stop threads and close the device; never raises."""

    def health(self) -> tuple[bool, str]:
        """``(ok, message)``: message says what is wrong in the operator's language (a printer
        out of paper is connected but not ok)."""

    def alive(self) -> bool:
        """False once the connection is lost (unplugged, daemon gone): the host restarts it."""


DeviceFactory = Callable[[DeviceConfig, Post], Device]


def device_configs(tables: Mapping[str, Mapping[str, Any]], known_kinds: Mapping[str, Any],
                   secrets: Any = None) -> list[DeviceConfig]:
    """``[devices.<id>]`` tables to configs; an unknown kind is a configuration error."""
    configs = []
    for device_id, table in tables.items():
        options = dict(table)
        kind = options.pop("kind", None)
        if not isinstance(kind, str) or not kind:
            raise ConfigError(_("[devices.{id}] kind: expected one of {kinds}").format(
                id=device_id, kinds=", ".join(sorted(known_kinds))))
        if kind not in known_kinds:
            raise ConfigError(_("[devices.{id}] kind: unknown device kind {kind!r}; expected one of {kinds}").format(
                id=device_id, kind=kind, kinds=", ".join(sorted(known_kinds))))
        configs.append(DeviceConfig(device_id, kind, options, secrets))
    return configs


def resolve_factory(reference: str) -> DeviceFactory:
    module, _sep, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]


@dataclass
class _Slot:
    config: DeviceConfig
    factory: DeviceFactory
    device: Device | None = None
    running: bool = False
    health: tuple[bool, str] = (False, "")
    backoff: float = MIN_BACKOFF
    next_try: float = 0.0


class DeviceHost:
    """Every configured device of one terminal."""

    def __init__(self, configs: list[DeviceConfig], factories: Mapping[str, DeviceFactory], post: Post,
                 *, clock: Callable[[], float] | None = None, poll_interval: float = 0.5) -> None:
        import time

        self._post = post
        self._clock = clock or time.monotonic
        self._poll = poll_interval
        self._slots = {c.id: _Slot(c, factories[c.kind]) for c in configs}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def device(self, device_id: str) -> Device:
        slot = self._slots.get(device_id)
        if slot is None or slot.device is None:
            raise DeviceError(_("Device {id} is not configured or not started.").format(id=device_id))
        return slot.device

    def tap_feedback(self, device_id: str, good: bool) -> bool:
        """LED and buzzer on the reader a card was presented to: accepted or refused. Called
        off the Tk thread; a reader that cannot signal (or is gone) is not an error here."""
        slot = self._slots.get(device_id)
        signal = getattr(slot.device, "feedback", None) if slot is not None else None
        if signal is None:
            return False
        try:
            return bool(signal(good))
        except Exception:  # noqa: BLE001 - feedback is a courtesy, the decision stands
            log.info("no tap feedback on %s", device_id, exc_info=True)
            return False

    def health(self) -> dict[str, tuple[bool, str]]:
        with self._lock:
            return {device_id: slot.health for device_id, slot in self._slots.items()}

    def start(self) -> "DeviceHost":
        for slot in self._slots.values():
            self._try_start(slot)
        self._thread = threading.Thread(target=self._supervise, name="device-host", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for slot in self._slots.values():
            self._halt(slot)

    def _set_health(self, slot: _Slot, ok: bool, message: str) -> None:
        with self._lock:
            changed = slot.health != (ok, message)
            slot.health = (ok, message)
        if changed:
            self._post(DeviceHealth(slot.config.id, ok, message))

    def _try_start(self, slot: _Slot) -> None:
        try:
            if slot.device is None:
                slot.device = slot.factory(slot.config, self._post)
            slot.device.start()
        except Exception as exc:  # noqa: BLE001 - any driver failure is a health state, retried
            message = exc.message if isinstance(exc, SuiteError) else f"{type(exc).__name__}: {exc}"
            log.warning("device %s failed to start: %s", slot.config.id, message)
            self._halt(slot)
            slot.next_try = self._clock() + slot.backoff
            slot.backoff = min(slot.backoff * 2, MAX_BACKOFF)
            self._set_health(slot, False, message)
            return
        slot.running = True
        slot.backoff = MIN_BACKOFF
        self._set_health(slot, *slot.device.health())

    def _halt(self, slot: _Slot) -> None:
        if slot.device is not None:
            try:
                slot.device.stop()
            except Exception:  # noqa: BLE001 - stopping must not stop the others
                log.exception("device %s failed to stop", slot.config.id)
        slot.running = False

    def _supervise(self) -> None:
        while not self._stop.wait(self._poll):
            for slot in self._slots.values():
                if slot.running and slot.device is not None:
                    ok, message = slot.device.health()
                    self._set_health(slot, ok, message)
                    if not slot.device.alive():
                        self._halt(slot)
                        slot.next_try = self._clock() + slot.backoff
                        slot.backoff = min(slot.backoff * 2, MAX_BACKOFF)
                elif self._clock() >= slot.next_try:
                    self._try_start(slot)
