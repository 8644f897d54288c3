"""The gate loop (G3, G4, G5): scan -> decide -> ``open_once`` -> pass sensor -> entry committed.

``GateRunner`` ties the channels of one terminal to their gates. A code read at a gate's reader
(``ScanEvent`` from the gate, or from a scanner named as the channel's ``gate``) is decided by the
desk (``CheckinService`` online, or ``GateDesk`` that falls back to the gate's own database);
the gate lights green or red and, when valid, opens once per person. Each ``passed`` event of
that side commits one person (``desk.passage``), in the order the entries were opened; each
``not_passed`` gives one place back, and an entry whose people are all accounted for is closed
(``desk.close``: admitted, partial or annulled — the ticket stays valid for whoever did not
pass). A channel whose device is not a turnstile (a hand scanner) commits its people at once.

Emergency (G5): a fire alarm at any gate, or the venue's emergency state set by an
administrator, releases every gate of the runner and suspends validation; passages are then
counted as free passages. Only resetting the venue's state locks the gates again. None of
this asks the licence (``Purpose.SAFETY``).

All methods run on one thread (the Tk thread, or ``run_loop``'s); device threads only post.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from suite.device_host import DeviceError
from suite.errors import SuiteError
from suite.events import DeviceHealth, GateEvent, ScanEvent
from suite.i18n import _
from suite.identity.actor import Actor

from plugins.checkin import rules
from plugins.checkin.service import message

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]
RECENT = 50


@dataclass(frozen=True)
class Lane:
    """A channel as the runner drives it."""

    channel: str
    list_code: str
    device: str  # the turnstile (or scanner) device id
    side: str = "A"
    direction: str = "in"

    @classmethod
    def from_channel(cls, row: Mapping[str, Any]) -> "Lane":
        return cls(channel=row["code"], list_code=row["list_code"], device=row["gate"], side=row["side"],
                   direction=row["direction"])


@dataclass
class _Opening:
    """An entry whose people are walking through one side of a gate."""

    nonce: str
    authorised: int
    passed: int = 0
    unused: int = 0
    channel: str = ""

    @property
    def settled(self) -> bool:
        return self.passed + self.unused >= self.authorised


@dataclass
class _LastScan:
    code: str
    at: float
    result: dict[str, Any] = field(default_factory=dict)


class GateRunner:
    def __init__(self, desk: Any, actor: Actor, lanes: Iterable[Lane], gates: Mapping[str, Any], *,
                 emit: Emit | None = None, emergency: Any = None, repeat_seconds: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.desk = desk
        self.actor = actor
        self.lanes = {lane.channel: lane for lane in lanes}
        self.gates = gates  # may look gates up lazily (DeviceGates)
        self._emit = emit or (lambda _result: None)
        self._emergency_service = emergency
        self._repeat = repeat_seconds
        self._clock = clock
        self._openings: dict[tuple[str, str], collections.deque[_Opening]] = collections.defaultdict(
            collections.deque)
        self._last: dict[str, _LastScan] = {}
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=RECENT)
        self.emergency = False
        self.emergency_detail: dict[str, Any] = {}
        self._unrecorded: dict[str, Any] | None = None  # an emergency started here, not recorded yet
        self.device_status: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------ routing

    def lane_for_device(self, device: str) -> Lane | None:
        """The lane that scans at ``device`` (its entry lane when it has both)."""
        found = [lane for lane in self.lanes.values() if lane.device == device]
        found.sort(key=lambda lane: lane.direction != "in")
        return found[0] if found else None

    def _lane_for_side(self, device: str, side: str) -> Lane | None:
        for lane in self.lanes.values():
            if lane.device == device and lane.side == side:
                return lane
        return None

    def handle(self, event: object) -> None:
        """A device event (from the event pump or the headless loop)."""
        if isinstance(event, ScanEvent):
            lane = self.lane_for_device(event.source)
            if lane is not None:
                self.scan(lane.channel, event.data)
        elif isinstance(event, GateEvent) and any(lane.device == event.gate_id for lane in self.lanes.values()):
            self._gate_event(event)
        elif isinstance(event, DeviceHealth) and any(lane.device == event.device_id for lane in self.lanes.values()):
            self._device(event.device_id, ok=event.ok, message=event.message)

    # ------------------------------------------------------------ scans

    def scan(self, channel: str, code: str) -> dict[str, Any]:
        """Decide a code read at ``channel`` and open the gate for the people it admits."""
        lane = self.lanes[channel]
        now = self._clock()
        last = self._last.get(channel)
        if last is not None and last.code == code and now - last.at <= self._repeat:
            return self._show({**last.result, "repeat": True})
        if self.emergency:
            result = {"type": "decision", "ok": True, "reason": rules.EMERGENCY, "message": message(rules.EMERGENCY),
                      "channel": channel, "label": "", "persons": 0, "nonce": ""}
            return self._show(result)
        try:
            result = {"type": "decision", **self.desk.scan(self.actor, channel=channel, code=code)}
        except SuiteError as exc:
            result = {"type": "error", "ok": False, "reason": "error", "message": exc.message, "channel": channel}
            self._indicate(lane, False)
            return self._show(result)
        self._last[channel] = _LastScan(code, now, result)
        if result.get("repeat"):
            return self._show(result)
        not_opened = self._let_through(lane, result["nonce"], int(result["persons"])) if result["ok"] else None
        self._indicate(lane, bool(result["ok"]))  # the relay first: the light and the beep follow
        return self._show(result, then=not_opened)

    def manual_open(self, channel: str, reason: str, persons: int = 1) -> dict[str, Any]:
        """The attendant opens by hand (audited by the desk)."""
        lane = self.lanes[channel]
        result = {"type": "decision", **self.desk.manual_open(self.actor, channel=channel, reason=reason,
                                                               persons=persons)}
        return self._show(result, then=self._let_through(lane, result["nonce"], int(result["persons"])))

    def _let_through(self, lane: Lane, nonce: str, persons: int) -> dict[str, Any] | None:
        """Open for ``persons``; when the gate does not open, the entry is closed and what to
        show after the decision is returned."""
        if lane.device not in self.gates:  # a hand scanner: nobody to wait for
            for index in range(1, persons + 1):
                self.desk.passage(self.actor, nonce=nonce, index=index)
            return None
        opening = _Opening(nonce, persons, channel=lane.channel)
        try:
            opened = self.gates[lane.device].open_once(lane.side, persons)
        except DeviceError as exc:
            log.warning("gate %s: %s", lane.device, exc.message)
            opened = False
        if not opened:
            closed = self.desk.close(self.actor, nonce=nonce)
            return {"type": "closed", **closed, "not_opened": True,
                    "message": _("The gate did not open: the entry is annulled.")}
        self._openings[(lane.device, lane.side)].append(opening)
        return None

    # ------------------------------------------------------------ the gate's events

    def _gate_event(self, event: GateEvent) -> None:
        if event.kind == "passed":
            self._passed(event.gate_id, event.detail)
        elif event.kind == "not_passed":
            self._not_passed(event.gate_id, event.detail)
        elif event.kind == "fire_alarm":
            self._device(event.gate_id, fire_alarm=event.detail == "on")
            if event.detail == "on":
                self.start_emergency(_("Fire alarm at gate {gate}").format(gate=event.gate_id), source="fire_alarm",
                                     gate=event.gate_id)
        elif event.kind in ("online", "offline"):
            self._device(event.gate_id, online=event.kind == "online")
            if event.kind == "online" and self.emergency:
                self._release(event.gate_id)
        elif event.kind == "alarm":
            self._show({"type": "alarm", "ok": False, "reason": "alarm", "channel": "",
                        "message": _("Gate {gate}: someone passed without authorisation ({side}).").format(
                            gate=event.gate_id, side=event.detail)})

    def _passed(self, device: str, side: str) -> None:
        queue = self._openings.get((device, side))
        if queue:
            opening = queue[0]
            opening.passed += 1
            result = self.desk.passage(self.actor, nonce=opening.nonce, index=opening.passed)
            self._show({"type": "passage", **result})
            if opening.settled:
                queue.popleft()
                if opening.unused:
                    self._close(opening)
            return
        lane = self._lane_for_side(device, side)
        if lane is not None:  # a free side, or an emergency: counted
            result = self.desk.free_passage(self.actor, channel=lane.channel)
            self._show({"type": "free", **result})

    def _not_passed(self, device: str, side: str) -> None:
        queue = self._openings.get((device, side))
        if not queue:
            return
        opening = queue[0]
        opening.unused += 1
        if opening.settled:
            queue.popleft()
            self._close(opening)

    def _close(self, opening: _Opening) -> None:
        result = self.desk.close(self.actor, nonce=opening.nonce)
        self._show({"type": "closed", **result})

    # ------------------------------------------------------------ emergency

    def start_emergency(self, reason: str, *, source: str = "operator", gate: str = "",
                        actor: Actor | None = None) -> None:
        """Release every gate now, then record the venue's emergency (the gates never wait for
        the database)."""
        self._release_all()
        self._unrecorded = {"actor": actor or Actor.system(f"gate-{gate or 'runner'}"), "reason": reason,
                            "source": source, "gate": gate}
        self._announce(self._record_emergency() or {"reason": reason, "source": source, "gate": gate})

    def _record_emergency(self) -> dict[str, Any] | None:
        """Record the emergency this runner started; until it is recorded, the venue's state
        (not active yet) must not lock the gates again, and ``poll`` tries again."""
        if self._emergency_service is None or self._unrecorded is None:
            self._unrecorded = None
            return None
        try:
            state = self._emergency_service.activate(**self._unrecorded)
        except Exception:  # noqa: BLE001 - the gates are open; the record follows when possible
            log.exception("emergency not recorded yet")
            return None
        self._unrecorded = None
        return state.as_dict()

    def poll(self) -> None:
        """About once a second: follow the venue's emergency state; sync an offline desk."""
        if self._unrecorded is not None:
            recorded = self._record_emergency()
            if recorded is not None:
                self.emergency_detail = recorded
        elif self._emergency_service is not None:
            try:
                state = self._emergency_service.state()
            except Exception:  # noqa: BLE001 - no database: keep the gates as they are
                state = None
            if state is not None and state.active and not self.emergency:
                self._enter_emergency(state.as_dict())
            elif state is not None and not state.active and self.emergency:
                self._leave_emergency()
        sync = getattr(self.desk, "sync", None)
        if sync is not None:
            try:
                sync(self.actor)
            except Exception:  # noqa: BLE001 - tried again next time
                log.exception("check-in sync")

    def _enter_emergency(self, detail: Mapping[str, Any]) -> None:
        self._release_all()
        self._announce(detail)

    def _release_all(self) -> None:
        self.emergency = True
        for device in self.gates:
            self._release(device)
        for (_device, _side), queue in self._openings.items():
            while queue:
                self._close(queue.popleft())

    def _announce(self, detail: Mapping[str, Any]) -> None:
        self.emergency_detail = dict(detail)
        self._show({"type": "emergency", "ok": True, "active": True, "reason": rules.EMERGENCY,
                    "message": message(rules.EMERGENCY), **{k: v for k, v in detail.items() if k != "active"}})

    def _leave_emergency(self) -> None:
        self.emergency = False
        self.emergency_detail = {}
        for device in self.gates:
            try:
                self.gates[device].reset()
            except DeviceError as exc:
                log.warning("gate %s not reset: %s", device, exc.message)
        self._show({"type": "emergency", "ok": True, "active": False, "reason": "",
                    "message": _("Emergency over: the gates are locked and validate again.")})

    def _release(self, device: str) -> None:
        try:
            self.gates[device].emergency_release()  # remembered by a gate that is offline now
        except DeviceError as exc:
            log.warning("gate %s not released: %s", device, exc.message)

    # ------------------------------------------------------------ screens

    def _indicate(self, lane: Lane, ok: bool) -> None:
        if lane.device in self.gates:
            try:
                self.gates[lane.device].indicate(ok)
            except DeviceError:
                log.info("gate %s: no light or buzzer now", lane.device)

    def _device(self, device: str, **state: Any) -> None:
        self.device_status.setdefault(device, {}).update(state)
        self._emit({"type": "device", "device": device, **self.device_status[device]})

    def _show(self, result: dict[str, Any], *, then: dict[str, Any] | None = None) -> dict[str, Any]:
        """Show ``result`` (and ``then`` after it); returns ``result``."""
        for item in (result, then):
            if item is not None:
                self.recent.appendleft(item)
                self._emit(item)
        return result

    def gate_states(self) -> dict[str, dict[str, Any]]:
        """Each gate's health and mode, for the attendant's screen."""
        states = {}
        for device in self.gates:
            try:
                gate = self.gates[device]
            except DeviceError as exc:
                states[device] = {"ok": False, "message": exc.message, "online": False, "mode": "", "pending": {},
                                  "passed": {}}
                continue
            ok, problem = gate.health()
            state = gate.state()
            states[device] = {"ok": ok, "message": problem, "online": state.online, "mode": state.mode,
                              "pending": dict(state.pending), "passed": dict(state.passed)}
        return states

    def pending(self) -> int:
        """People authorised and not yet through, over every gate."""
        return sum(o.authorised - o.passed - o.unused for queue in self._openings.values() for o in queue)


class DeviceGates(Mapping[str, Any]):
    """The gates of a ``DeviceHost`` by id, looked up when used (a gate may restart)."""

    def __init__(self, host: Any, gate_ids: Iterable[str]) -> None:
        self._host = host
        self._ids = tuple(gate_ids)

    def __getitem__(self, device_id: str) -> Any:
        if device_id not in self._ids:
            raise KeyError(device_id)
        return self._host.device(device_id)  # DeviceError while it is not started

    def __contains__(self, device_id: object) -> bool:
        return device_id in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


__all__ = ["DeviceGates", "GateRunner", "Lane"]
