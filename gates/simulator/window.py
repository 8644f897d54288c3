"""A small Tk window showing a simulated turnstile, for the demo (``gate simulate --window``).

It reads ``TurnstileSimulator.snapshot()`` every 100 ms with ``after()`` and its buttons only
schedule work on the simulator's own thread, so the window never waits for the device and the
device never touches Tk.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from gates.simulator.turnstile import TurnstileSimulator
from suite.i18n import _

MODE_COLOURS = {"locked": "#b71c1c", "open once": "#2e7d32", "free": "#1565c0", "fire": "#e65100"}
LED_COLOURS = {"off": "#424242", "green": "#00c853", "red": "#d50000", "amber": "#ffab00", "blue": "#2962ff"}


class TurnstileWindow:
    def __init__(self, master: tk.Misc, sim: TurnstileSimulator, title: str = "") -> None:
        self.sim = sim
        self.top = tk.Toplevel(master) if not isinstance(master, tk.Tk) else master
        self.top.title(title or _("Turnstile simulator"))
        frame = ttk.Frame(self.top, padding=10)
        frame.pack(fill="both", expand=True)
        self.link = ttk.Label(frame, text="")
        self.link.grid(row=0, column=0, columnspan=4, sticky="w")
        self.lanes: dict[str, tk.Label] = {}
        self.counts: dict[str, ttk.Label] = {}
        for column, direction in enumerate(("A", "B")):
            lane = tk.Label(frame, text=direction, width=14, height=3, fg="white", font=("TkDefaultFont", 14, "bold"))
            lane.grid(row=1, column=column * 2, columnspan=2, padx=4, pady=6)
            self.lanes[direction] = lane
            count = ttk.Label(frame, text="")
            count.grid(row=2, column=column * 2, columnspan=2)
            self.counts[direction] = count
            ttk.Button(frame, text=_("Walk through {direction}").format(direction=direction),
                       command=lambda d=direction: sim.walk_through(d)).grid(row=3, column=column * 2, columnspan=2)
        self.led = tk.Label(frame, text=_("reader light"), width=14, fg="white")
        self.led.grid(row=4, column=0, columnspan=2, pady=6)
        self.alarms = ttk.Label(frame, text="")
        self.alarms.grid(row=4, column=2, columnspan=2)
        self.fire = tk.BooleanVar(value=False)
        self.tamper = tk.BooleanVar(value=False)
        ttk.Checkbutton(frame, text=_("Fire alarm"), variable=self.fire,
                        command=lambda: sim.set_fire_alarm(self.fire.get())).grid(row=5, column=0, columnspan=2, sticky="w")
        ttk.Checkbutton(frame, text=_("Tamper switch open"), variable=self.tamper,
                        command=lambda: sim.set_tamper(self.tamper.get())).grid(row=5, column=2, columnspan=2, sticky="w")
        self.nobody = tk.BooleanVar(value=sim.pass_after_ms is None)
        ttk.Checkbutton(frame, text=_("Nobody walks through after an open"), variable=self.nobody,
                        command=self._set_script).grid(row=6, column=0, columnspan=4, sticky="w")
        self.code = tk.StringVar(value="04A1B2C3")
        ttk.Entry(frame, textvariable=self.code, width=28).grid(row=7, column=0, columnspan=2, pady=6)
        ttk.Button(frame, text=_("Present card"), command=self._card).grid(row=7, column=2)
        ttk.Button(frame, text=_("Show QR code"), command=lambda: sim.present_qr(self.code.get())).grid(row=7, column=3)
        self._pass_after = sim.pass_after_ms or 800
        self._job: str | None = None
        self.refresh()

    def _set_script(self) -> None:
        self.sim.pass_after_ms = None if self.nobody.get() else self._pass_after

    def _card(self) -> None:
        try:
            self.sim.present_card(self.code.get().replace(" ", ""))
        except ValueError:
            self.alarms.configure(text=_("A card UID is written in hexadecimal, like 04A1B2C3."))

    def refresh(self) -> None:
        state: dict[str, Any] = self.sim.snapshot()
        self.link.configure(text=_("Secure channel up") if state["secure"] else _("Waiting for the control panel"))
        for direction, lane in self.lanes.items():
            mode = state["mode"][direction]
            lane.configure(text=f"{direction}: {mode}", bg=MODE_COLOURS.get(mode, "#616161"))
            self.counts[direction].configure(text=_("passed {passed}, forced {forced}").format(
                passed=state["passed"][direction], forced=state["forced"][direction]))
        self.led.configure(bg=LED_COLOURS.get(state["led"], "#424242"))
        flags = [_("FIRE ALARM")] if state["fire_alarm"] else []
        flags += [_("TAMPER")] if state["tamper"] else []
        self.alarms.configure(text="  ".join(flags) or _("beeps: {count}").format(count=state["beeps"]))
        self._job = self.top.after(100, self.refresh)

    def close(self) -> None:
        if self._job is not None:
            try:
                self.top.after_cancel(self._job)
            except tk.TclError:
                pass  # the window is already gone
            self._job = None
