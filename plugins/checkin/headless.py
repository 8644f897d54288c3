"""``venue-suite gate run --channel ID``: the gate loop of a turnstile PC with no screen.

The terminal's devices are opened through the host's ``DeviceHost`` (so a gate that drops off
is reopened with backoff); their events go to a queue this thread drains into a ``GateRunner``;
once a second the runner follows the venue's emergency state and syncs an offline desk. Every
decision, passage and device change is written as one JSON line.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from suite.errors import NotFound
from suite.i18n import _
from suite.identity.actor import Actor

from plugins.checkin.runner import DeviceGates, GateRunner, Lane

GATE_KINDS = ("osdp-gate", "relay-gate")
POLL_SECONDS = 0.5


def gate_ids(app: Any) -> list[str]:
    """The turnstiles configured on this terminal (``[devices.<id>]`` of a gate kind)."""
    return [device_id for device_id, table in app.settings.devices.items() if table.get("kind") in GATE_KINDS]


def build_desk(app: Any) -> Any:
    """The gate's desk: online with an offline fallback when the offline store is available."""
    try:
        from plugins.checkin.desk import GateDesk
    except ImportError:  # pragma: no cover - the offline part is optional for the loop
        from plugins.checkin.service import CheckinService

        return CheckinService.from_app(app)
    return GateDesk.from_app(app)


def build_runner(app: Any, channels: Sequence[str], devices: Any, *, actor: Actor | None = None,
                 emit: Callable[[dict[str, Any]], None] | None = None, desk: Any = None) -> GateRunner:
    """A runner for ``channels`` (codes; empty = the site's ``[plugins.checkin] channels``)."""
    from plugins.checkin.settings import settings_of
    from plugins.checkin.setup import SetupService
    from suite.emergency import EmergencyService

    settings = settings_of(app)
    wanted = list(channels) or list(settings.channels)
    actor = actor or Actor.system("gate")
    rows = {row["code"]: row for row in SetupService.from_app(app).channels(actor)}
    missing = [code for code in wanted if code not in rows]
    if missing or not wanted:
        raise NotFound(_("No channel {codes}: add it with 'venue-suite checkin channel add' or name one with "
                         "--channel.").format(codes=", ".join(missing) or "-"))
    lanes = [Lane.from_channel(rows[code]) for code in wanted]
    gates = DeviceGates(devices, [g for g in gate_ids(app) if any(lane.device == g for lane in lanes)])
    return GateRunner(desk or build_desk(app), actor, lanes, gates, emit=emit,
                      emergency=EmergencyService.from_app(app), repeat_seconds=settings.repeat_seconds)


class GateLoop:
    """The devices of this terminal and a runner for its channels, on one thread."""

    def __init__(self, app: Any, channels: Sequence[str], emit: Callable[[dict[str, Any]], None]) -> None:
        from suite.bootstrap import build_device_host

        self.events: queue.Queue[object] = queue.Queue()
        self.devices = build_device_host(app, self.events.put)
        self.runner = build_runner(app, channels, self.devices, emit=emit)

    def run(self, stop: threading.Event) -> None:
        self.devices.start()
        next_poll = 0.0
        try:
            while not stop.is_set():
                try:
                    event = self.events.get(timeout=0.05)
                except queue.Empty:
                    event = None
                if event is not None:
                    self.runner.handle(event)
                if time.monotonic() >= next_poll:
                    self.runner.poll()
                    next_poll = time.monotonic() + POLL_SECONDS
        finally:
            self.devices.stop()


def run(app: Any, channels: Sequence[str], emit: Callable[[dict[str, Any]], None], stop: threading.Event) -> None:
    """``venue-suite gate run``: the loop until ``stop`` is set (Ctrl-C, SIGTERM)."""
    from plugins.checkin.core import PLUGIN_ID
    from suite.licensing.service import Purpose

    app.plugins.require_active(PLUGIN_ID, Purpose.SALE)
    loop = GateLoop(app, channels, emit)
    emit({"type": "started", "channels": sorted(loop.runner.lanes), "gates": list(loop.runner.gates)})
    loop.run(stop)


__all__ = ["GATE_KINDS", "GateLoop", "build_desk", "build_runner", "gate_ids", "run"]
