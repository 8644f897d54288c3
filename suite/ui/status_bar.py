"""The status bar: operator, shift, venue, terminal, online state, devices, pending uploads.

Fields change only through events on the pump: ``StatusUpdate(field, value)`` (a plugin
opening a shift, the sync module counting uploads, the heartbeat below) and
``DeviceHealth(device_id, ok, message)``. A field a plugin invents gets its own label after
the host's. ``Heartbeat`` pings the database from a thread every few seconds and posts
``StatusUpdate("online", True/False)``; the Tk thread never waits for the network.
"""

from __future__ import annotations

import threading
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from suite.events import DeviceHealth, StatusUpdate
from suite.i18n import _

NONE = "—"
HOST_FIELDS = ("operator", "shift", "venue", "terminal", "online", "devices", "pending_uploads")


def _titles() -> dict[str, str]:
    return {"operator": _("Operator"), "shift": _("Shift"), "venue": _("Venue"), "terminal": _("Terminal"),
            "online": _("Database"), "devices": _("Devices"), "pending_uploads": _("Pending uploads")}


class StatusBar(ttk.Frame):
    def __init__(self, parent: tk.Misc, *, operator: str, venue: str, terminal: str) -> None:
        super().__init__(parent, style="Status.TFrame")
        self.values: dict[str, Any] = {"operator": operator, "shift": NONE, "venue": venue or NONE,
                                       "terminal": terminal or NONE, "online": None, "devices": {},
                                       "pending_uploads": 0}
        self.labels: dict[str, ttk.Label] = {}
        for name in HOST_FIELDS:
            self._add_label(name)
        self._render_all()

    def _add_label(self, name: str) -> ttk.Label:
        if self.labels:
            ttk.Separator(self, orient="vertical").pack(side="left", fill="y", pady=4)
        label = ttk.Label(self, style="Status.TLabel")
        label.pack(side="left")
        self.labels[name] = label
        return label

    # -- events --------------------------------------------------------------------------

    def on_status(self, event: StatusUpdate) -> None:
        if event.field == "devices":
            return  # built from DeviceHealth events only
        self.values[event.field] = event.value
        if event.field not in self.labels:
            self._add_label(event.field)
        self._render(event.field)

    def on_device(self, event: DeviceHealth) -> None:
        devices: dict[str, tuple[bool, str]] = self.values["devices"]
        devices[event.device_id] = (event.ok, event.message)
        self._render("devices")

    # -- text ----------------------------------------------------------------------------

    def text(self, name: str) -> str:
        return str(self.labels[name].cget("text"))

    def _render_all(self) -> None:
        for name in self.labels:
            self._render(name)

    def _render(self, name: str) -> None:
        titles = _titles()
        value = self.values.get(name)
        style = "Status.TLabel"
        if name == "online":
            if value is None:
                shown = "…"
            elif value:
                shown, style = _("online"), "StatusOk.TLabel"
            else:
                shown, style = _("offline"), "StatusBad.TLabel"
        elif name == "devices":
            devices: dict[str, tuple[bool, str]] = value or {}
            fault = _("fault")
            bad = [f"{device}: {message or fault}" for device, (ok, message) in sorted(devices.items()) if not ok]
            if not devices:
                shown = NONE
            elif bad:
                shown, style = "; ".join(bad), "StatusBad.TLabel"
            else:
                shown, style = _("all OK ({n})").format(n=len(devices)), "StatusOk.TLabel"
        elif name == "pending_uploads":
            count = int(value or 0)
            shown = str(count)
            if count:
                style = "StatusBad.TLabel"
        else:
            shown = NONE if value in (None, "") else str(value)
        self.labels[name].configure(text=f"{titles.get(name, name)}: {shown}", style=style)


class Heartbeat:
    """Posts ``StatusUpdate("online", ok)`` every ``interval`` seconds from a daemon thread."""

    def __init__(self, ping: Callable[[], bool], post: Callable[[object], None], interval: float = 5.0) -> None:
        self._ping = ping
        self._post = post
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="db-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        last: bool | None = None
        while not self._stop.is_set():
            ok = self._ping()
            if self._stop.is_set():
                return
            if ok is not last:
                self._post(StatusUpdate("online", ok))
                last = ok
            self._stop.wait(self.interval)


__all__ = ["Heartbeat", "StatusBar"]
