"""The gate attendant's screen (tab ``checkin.attendant``, G3-G6).

The turnstiles validate on their own; this screen runs their gate loop (``GateRunner``) for the
channels of this terminal (``[plugins.checkin] channels``) and shows what happens:

* the last result, big: green admitted, red refused, amber emergency, blue opened by hand, with
  the reason, what was shown, the people through and the channel; it stays until the next one;
* the last scans (newest first), the counts of today per list and channel (in, out, inside now,
  refused; refreshed off the Tk thread every two seconds and after each passage) and each gate's
  state (online, mode, problems);
* a code field for a hand or keyboard-wedge scanner (Enter checks it at the chosen channel);
  *Open once* asks for a reason and the people, *Release all gates* for a reason; while the
  venue's emergency lasts a banner covers the top with *Reset*, which only an administrator's
  account may do (``suite.emergency.EmergencyService.reset``).

Device events reach the runner through the plugin's ``venue_suite_event`` hook (the screen
registers itself in ``app.extras[EVENTS_KEY]`` while it lives), so the gates keep working while the
window is locked. ``runner.poll()`` (the venue's emergency state) runs every half second with
``after()``; the desk's sync (uploads, the gate's own copy), the counts and the emergency reset
run on worker threads. Times are the venue's (``[plugins.checkin] timezone``).
"""

from __future__ import annotations

import datetime as dt
import logging
import tkinter as tk
from collections.abc import Mapping
from tkinter import ttk
from typing import Any

from suite.device_host import DeviceError
from suite.errors import SuiteError
from suite.events import ScanEvent
from suite.i18n import _, ngettext
from suite.ui.widgets import MessageBar, error_text, release_variables

from plugins.checkin.ui import EVENTS_KEY
from plugins.checkin.ui.display import (BAD, EMERGENCY, IDLE, channel_text, credential_text, emergency_text,
                                        ensure_styles, local_time, persons_text, tone_of)
from plugins.checkin.ui.sections import CountsSection, GatesSection, RecentScans, UnconfiguredNotice
from plugins.checkin.ui.widgets import EmergencyBanner, ReasonPrompt, ResultPanel

log = logging.getLogger(__name__)

WEDGE_SOURCE = "wedge"  # devices.wedge.KeyboardWedge's ScanEvent source
POLL_MS = 500
COUNTS_EVERY_MS = 2000
COUNTS_AFTER_PASSAGE_MS = 150
SYNC_EVERY_MS = 1000


class _NoDevices:
    """The device host when the window started none: every gate is offline."""

    def device(self, device_id: str) -> Any:
        raise DeviceError(_("The devices of this terminal are not started."))


class _SyncedApart:
    """The gate's desk as the runner sees it here: without ``sync``, which uploads and refreshes
    the gate's copy and may take a while, so the screen runs it on a worker thread instead."""

    def __init__(self, desk: Any) -> None:
        self._desk = desk

    def __getattr__(self, name: str) -> Any:
        if name == "sync":
            raise AttributeError(name)
        return getattr(self._desk, name)


class AttendantTab(ttk.Frame):
    def __init__(self, parent: tk.Misc, context: Any, *, devices: Any = None) -> None:
        super().__init__(parent, padding=(10, 8, 10, 6))
        self.context = context
        self.app = context.app
        self.actor = context.actor
        self.runner: Any = None
        self.problem = ""                      # why there is no runner (shown instead of the screen)
        self.lanes: dict[str, dict[str, Any]] = {}   # this terminal's channels (setup rows)
        self.prompt: ReasonPrompt | None = None
        self.desk: Any = None
        self._tick_id: str | None = None
        self._ticks = 0
        self._syncing = False
        ensure_styles(self)
        self.bind("<Destroy>", self._on_destroy, add="+")
        self._start(devices if devices is not None else self.app.extras.get("devices"))
        if self.runner is None:
            self.notice = UnconfiguredNotice(self, self.problem)
            self.notice.pack(fill="both", expand=True)
            return
        from plugins.checkin.settings import settings_of

        self.zone = settings_of(self.app).zone
        self._build()
        self.app.extras[EVENTS_KEY] = self.on_device_event
        self.bind("<Map>", self._on_map, add="+")
        self._tick()
        self.counts.refresh()

    # ------------------------------------------------------------------ the runner

    def _start(self, devices: Any) -> None:
        from plugins.checkin.headless import build_desk, build_runner
        from plugins.checkin.settings import settings_of
        from plugins.checkin.setup import SetupService

        try:
            wanted = list(settings_of(self.app).channels)
            if not wanted:
                self.problem = _("No channel is set for this terminal.")
                return
            rows = {row["code"]: row for row in SetupService.from_app(self.app).channels(self.actor)}
            missing = [code for code in wanted if code not in rows]
            if missing:
                self.problem = _("Channel {codes} is not set up in the database.").format(codes=", ".join(missing))
                return
            self.lanes = {code: rows[code] for code in wanted}
            self.desk = build_desk(self.app)
            self.runner = build_runner(self.app, wanted, devices if devices is not None else _NoDevices(),
                                       actor=self.actor, emit=self.on_result, desk=_SyncedApart(self.desk))
        except SuiteError as exc:
            self.problem = exc.message

    def on_device_event(self, event: object) -> None:
        """A device event from the event pump (the plugin's hook): the runner's, or a code from
        the keyboard-wedge scanner to check at the chosen channel while the screen shows."""
        if self.runner is None or not self.winfo_exists():
            return
        if isinstance(event, ScanEvent) and event.source == WEDGE_SOURCE \
                and self.runner.lane_for_device(WEDGE_SOURCE) is None:
            if self.winfo_viewable():
                self.check_code(event.data)
            return
        self.runner.handle(event)

    def _tick(self) -> None:
        """Every half second: the runner follows the venue's emergency state; the gates' state is
        shown; every few ticks the desk syncs (off the Tk thread) and the counts are read again."""
        self._tick_id = None
        try:
            self.runner.poll()
        except Exception:  # noqa: BLE001 - the loop must go on; the next poll tries again
            log.exception("gate runner poll")
        self._show_gates()
        self._show_emergency()
        self._ticks += 1
        if self._ticks % max(1, SYNC_EVERY_MS // POLL_MS) == 0:
            self._sync()
        if self._ticks % max(1, COUNTS_EVERY_MS // POLL_MS) == 0:
            self.counts.refresh()
        self._tick_id = self.after(POLL_MS, self._tick)

    def _sync(self) -> None:
        """The desk's upload and refresh (``GateDesk.sync``), one at a time, on a worker thread."""
        sync = getattr(self.desk, "sync", None)
        if sync is None or self._syncing:
            return
        self._syncing = True
        actor = self.actor

        def done(_result: Any) -> None:
            self._syncing = False

        def failed(exc: BaseException) -> None:
            self._syncing = False
            log.error("check-in sync failed: %s", error_text(exc))

        self.context.run_in_thread(lambda: sync(actor), done, failed)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        """Banner (emergency only) and toolbar; the result panel beside today's counts; the last
        scans beside the gates; the message line."""
        self.columnconfigure(0, weight=3, uniform="columns")
        self.columnconfigure(1, weight=2, uniform="columns")
        self.rowconfigure(2, weight=1)
        self.banner = EmergencyBanner(self, self.ask_reset)
        self.banner.grid(row=0, column=0, columnspan=2, sticky="ew", pady=(0, 8))
        self.banner.hide()
        self._build_toolbar()
        self.panel = ResultPanel(self)
        self.panel.grid(row=2, column=0, sticky="nsew", padx=(0, 10))
        self._show_waiting()
        self.counts = CountsSection(self, self.context, self.lanes, self.desk)
        self.counts.grid(row=2, column=1, sticky="nsew")
        self.recent = RecentScans(self)
        self.recent.grid(row=3, column=0, sticky="nsew", padx=(0, 10), pady=(8, 0))
        self.gates = GatesSection(self, self.lanes)
        self.gates.grid(row=3, column=1, sticky="nsew", pady=(8, 0))
        self.message = MessageBar(self, collapse=True)
        self.message.grid(row=4, column=0, columnspan=2, sticky="ew", pady=(6, 0))

    def _build_toolbar(self) -> None:
        bar = ttk.Frame(self)
        bar.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(0, 8))
        self.channel = tk.StringVar(self, value=next(iter(self.lanes)))
        self.channel_buttons: dict[str, ttk.Radiobutton] = {}
        for code in self.lanes:
            button = ttk.Radiobutton(bar, text=code, value=code, variable=self.channel,
                                     style="CheckinChannel.Toolbutton", takefocus=False)
            button.pack(side="left", padx=(0, 4))
            self.channel_buttons[code] = button
        self.code_entry = ttk.Entry(bar, width=20, style="Touch.TEntry", font="VSLarge")
        self.code_entry.pack(side="left", padx=(10, 0))
        for key in ("<Return>", "<KP_Enter>"):
            self.code_entry.bind(key, lambda e: self.check_code(self.code_entry.get()) or "break")
        self.check_button = ttk.Button(bar, text=_("Check"), style="TouchAccent.TButton", width=7,
                                       command=lambda: self.check_code(self.code_entry.get()))
        self.check_button.pack(side="left", padx=(6, 0))
        self.release_button = ttk.Button(bar, text=_("Release all gates"), style="Touch.Danger.TButton",
                                         command=self.ask_release)
        self.release_button.pack(side="right")
        self.open_button = ttk.Button(bar, text=_("Open once"), style="Touch.TButton", command=self.ask_open)
        self.open_button.pack(side="right", padx=(0, 8))
        self._enable_actions()

    def _enable_actions(self) -> None:
        """*Open once* and *Release all gates*: for who may, while the gates are not released."""
        released = self.runner.emergency
        for button, permission in ((self.open_button, "checkin.open"), (self.release_button, "gates.emergency")):
            button.state(["!disabled"] if self.actor.has(permission) and not released else ["disabled"])

    # ------------------------------------------------------------------ what the runner reports

    def on_result(self, result: dict[str, Any]) -> None:
        """Every result of the runner (Tk thread): scans, passages, closes, emergencies, devices."""
        if not self.winfo_exists() or not hasattr(self, "message"):
            return
        kind = result.get("type")
        nonce = str(result.get("nonce") or "")
        if kind == "device":
            self._show_gates()
            return
        if kind == "closed" and result.get("not_opened"):
            result = {**result, "ok": False}
            self.panel.show(BAD, str(result.get("message") or ""), credential=credential_text(result),
                            persons=persons_text(result), channel=self._channel_line(result), nonce=nonce)
            self.message.error(str(result["message"]))
        elif kind == "decision":
            result = self._decision(result)
        elif kind == "error":
            self.panel.show(BAD, _("Not checked"), credential=str(result.get("message") or ""),
                            channel=self._channel_line(result))
        elif kind in ("passage", "closed") and nonce and nonce == self.panel.nonce and not result.get("not_opened"):
            self.panel.set_persons(persons_text(result))
        elif kind == "alarm":
            self.message.error(str(result.get("message") or ""))
        elif kind == "emergency":
            self._emergency_result(result)
        self.recent.add(result, dt.datetime.now(self.zone).strftime("%H:%M:%S"),
                        emergency=bool(self.runner and self.runner.emergency))
        if kind in ("passage", "closed", "free") or (kind == "decision" and not result.get("ok")):
            self.counts.soon(COUNTS_AFTER_PASSAGE_MS)

    def _decision(self, result: dict[str, Any]) -> dict[str, Any]:
        nonce = str(result.get("nonce") or "")
        note = _("The same code again: counted once.") if result.get("repeat") else ""
        if result.get("offline"):
            note = _("Decided by the gate alone: the database is out of reach.")
        self.panel.show(tone_of(result), str(result.get("message") or ""), credential=credential_text(result),
                        persons=persons_text(result), channel=self._channel_line(result), note=note,
                        nonce=nonce)
        if result.get("kind") == "manual":
            persons = int(result.get("persons") or 1)
            self.message.ok(ngettext("Channel {channel} opened by hand for {n} person.",
                                     "Channel {channel} opened by hand for {n} people.", persons).format(
                channel=result.get("channel", ""), n=persons))
        return result

    def _emergency_result(self, result: Mapping[str, Any]) -> None:
        if result.get("active"):
            self.panel.show(EMERGENCY, str(result.get("message") or ""), credential=_("Scans are not checked."))
            self.message.clear()
        else:
            self._show_waiting()
            self.message.ok(str(result.get("message") or ""))
        self._show_emergency()

    def _channel_line(self, result: Mapping[str, Any]) -> str:
        names = {code: str(row.get("name") or "") for code, row in self.lanes.items()}
        directions = {code: str(row.get("direction") or "") for code, row in self.lanes.items()}
        return channel_text(str(result.get("channel") or ""), names, directions)

    def _show_waiting(self) -> None:
        self.panel.show(IDLE, _("Waiting for a scan"), note=_(
            "Tickets and cards are checked at the gate's reader, or type or scan a code above."))

    def _show_gates(self) -> None:
        self.gates.show(self.runner.gate_states(), self.runner.device_status)

    def _show_emergency(self) -> None:
        if self.runner.emergency:
            self.banner.show(emergency_text(self.runner.emergency_detail, lambda iso: local_time(iso, self.zone)))
        elif self.banner.shown:
            self.banner.hide()
        self._enable_actions()

    # ------------------------------------------------------------------ actions

    def check_code(self, code: str) -> None:
        """A code typed or scanned here, checked at the chosen channel (Enter, *Check*)."""
        code = (code or "").strip()
        if self.runner is None:
            return
        if not code:
            self.message.error(_("Type or scan a code first."))
            return
        try:
            self.runner.scan(self.channel.get(), code)
        except Exception as exc:  # noqa: BLE001 - the operator reads why; the next scan works
            log.exception("check %s", self.channel.get())
            self.message.error(error_text(exc))
        self.code_entry.delete(0, "end")

    def _ask(self, **prompt: Any) -> None:
        if self.prompt is not None:
            self.prompt.reason_entry.focus_set()
            return
        self.prompt = ReasonPrompt(self, on_close=self._prompt_closed, **prompt).open()

    def _prompt_closed(self) -> None:
        self.prompt = None

    def ask_open(self) -> None:
        """*Open once*: a reason (and the people) for the chosen channel."""
        if self.runner is None or self.runner.emergency:
            return
        channel = self.channel.get()
        self._ask(title=_("Open channel {channel} once").format(channel=channel), action=_("Open the gate"),
                  text=_("The gate lets the people through once. The reason is kept in the audit log."),
                  ask_persons=True, on_ok=lambda reason, persons: self._open_once(channel, reason, persons))

    def _open_once(self, channel: str, reason: str, persons: int) -> str | None:
        try:
            self.runner.manual_open(channel, reason, persons)
        except SuiteError as exc:
            return exc.message
        return None

    def ask_release(self) -> None:
        """*Release all gates*: asks for a reason; the release itself is never refused."""
        if self.runner is None or self.runner.emergency:
            return
        self._ask(title=_("Release all gates?"), action=_("Release all gates"), danger=True,
                  text=_("Every gate of the venue opens and stays open, and scans are not checked, until an "
                         "administrator resets the emergency."), on_ok=self._release)

    def _release(self, reason: str, _persons: int) -> str | None:
        self.runner.start_emergency(reason, actor=self.actor)  # the gates first, then the record
        self._show_emergency()
        return None

    def ask_reset(self) -> None:
        """*Reset* on the banner: only an administrator's account may end the emergency."""
        self._ask(title=_("End the emergency?"), action=_("End the emergency"), required=False,
                  text=_("The gates lock again and scans are checked. Only a system administrator may do "
                         "this."), on_ok=self._reset)

    def _reset(self, reason: str, _persons: int) -> str | None:
        from suite.emergency import EmergencyService

        service, actor = EmergencyService.from_app(self.app), self.actor
        self.message.show(_("Resetting the emergency…"))
        self.context.run_in_thread(lambda: service.reset(actor, reason=reason), self._reset_done,
                                   self._reset_failed)
        return None

    def _reset_done(self, _state: Any) -> None:
        if self.winfo_exists() and self.runner is not None:
            self.runner.poll()  # the runner follows the venue's state now rather than at its next poll
            self._show_emergency()

    def _reset_failed(self, exc: BaseException) -> None:
        if self.winfo_exists():
            self.message.error(error_text(exc))

    def _on_map(self, event: tk.Event) -> None:
        """Shown: the code field takes the keys (a hand scanner types into it)."""
        if event.widget is self and self.prompt is None:
            self.code_entry.focus_set()

    # ------------------------------------------------------------------ teardown

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is not self:
            return
        if self._tick_id is not None:
            try:
                self.after_cancel(self._tick_id)
            except tk.TclError:
                pass
            self._tick_id = None
        if self.app.extras.get(EVENTS_KEY) == self.on_device_event:
            self.app.extras.pop(EVENTS_KEY, None)
        release_variables(self)


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``checkin.attendant``."""
    return AttendantTab(parent, context)


__all__ = ["AttendantTab", "POLL_MS", "WEDGE_SOURCE", "build_tab"]
