"""Keyboard-wedge scanners: told apart from people typing by the rhythm of the keys.

A wedge scanner types its code as keystrokes, a few milliseconds apart, usually ending with
Return; a person needs 80 ms or more per key. ``KeyboardWedge`` sits first in the key bindings
of every widget that takes the focus under its scope and holds printable keys back for a
moment: when at least ``min_length`` of them came less than ``max_gap_ms`` apart and a
terminator follows as quickly, they were a scan: it posts ``ScanEvent(source, text)`` and the
keys never reach the widget. Otherwise it replays them to the widget (``event_generate``, so the
widget's own bindings, validation and traces see ordinary keystrokes) no later than
``hold_ms`` after the last one: typing passes through untouched, only delayed by that much.

Tk thread only. Key times come from the X server (``event.time``), so a busy Tk loop that
delivers a burst late does not turn typing into a scan or the other way round.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass

from suite.events import ScanEvent

CONTROL, ALT = 0x0004, 0x0008
MODIFIER_KEYS = {"Shift_L", "Shift_R", "Caps_Lock", "ISO_Level3_Shift", "Mode_switch"}


@dataclass(frozen=True)
class _Key:
    widget: tk.Misc
    keysym: str
    char: str
    state: int
    time_ms: int


class KeyboardWedge:
    def __init__(self, scope: tk.Misc, post: Callable[[object], None], *, source: str = "wedge",
                 min_length: int = 6, max_gap_ms: int = 30, hold_ms: int = 80,
                 terminators: tuple[str, ...] = ("Return", "KP_Enter")) -> None:
        self._scope = scope
        self._post = post
        self.source = source
        self.min_length = min_length
        self.max_gap_ms = max_gap_ms
        self.hold_ms = max(hold_ms, max_gap_ms + 10)
        self.terminators = terminators
        self.tag = f"VenueSuiteWedge{id(self)}"
        self._held: list[_Key] = []
        self._timer: str | None = None
        self._replaying = False
        self._tagged: list[tk.Misc] = []
        self._saved_focus_script = ""
        self.scans = 0

    # ------------------------------------------------------------- attach / detach

    def attach(self) -> "KeyboardWedge":
        self._scope.bind_class(self.tag, "<KeyPress>", self._on_key)
        self._saved_focus_script = str(self._scope.tk.call("bind", "all", "<FocusIn>"))
        self._scope.bind_all("<FocusIn>", self._on_focus, add="+")
        focused = self._scope.focus_get()
        if focused is not None:
            self._tag(focused)
        return self

    def detach(self) -> None:
        self._flush()
        self._scope.tk.call("bind", "all", "<FocusIn>", self._saved_focus_script)
        for widget in self._tagged:
            try:
                widget.bindtags(tuple(t for t in widget.bindtags() if t != self.tag))
            except tk.TclError:
                pass  # destroyed meanwhile
        self._tagged.clear()
        self._scope.unbind_class(self.tag, "<KeyPress>")

    def _on_focus(self, event: tk.Event) -> None:
        widget = event.widget
        if isinstance(widget, tk.Misc):
            self._tag(widget)

    def _in_scope(self, widget: tk.Misc) -> bool:
        scope = str(self._scope)
        path = str(widget)
        return scope == "." or path == scope or path.startswith(scope + ".")

    def _tag(self, widget: tk.Misc) -> None:
        if not self._in_scope(widget):
            return
        tags = widget.bindtags()
        if self.tag not in tags:
            widget.bindtags((self.tag, *tags))
            self._tagged.append(widget)

    # ------------------------------------------------------------- keys

    def _on_key(self, event: tk.Event) -> str | None:
        if self._replaying:
            return None
        stamp = int(event.time) if event.time else int(time.monotonic() * 1000)
        keysym = event.keysym
        modified = bool(event.state & (CONTROL | ALT))
        if keysym in MODIFIER_KEYS:
            return None
        if keysym in self.terminators and not modified:
            if self._is_scan(stamp):
                text = "".join(key.char for key in self._held)
                self._held.clear()
                self._cancel_timer()
                self.scans += 1
                self._post(ScanEvent(self.source, text))
                return "break"
            self._flush()
            return None
        char = event.char
        if not modified and len(char) == 1 and char.isprintable():
            if self._held and stamp - self._held[-1].time_ms > self.max_gap_ms:
                self._flush()
            self._held.append(_Key(event.widget, keysym, char, int(event.state), stamp))
            self._restart_timer()
            return "break"
        self._flush()  # BackSpace, arrows, shortcuts: what came before goes first
        return None

    def _is_scan(self, terminator_ms: int) -> bool:
        if len(self._held) < self.min_length:
            return False
        times = [key.time_ms for key in self._held] + [terminator_ms]
        return all(0 <= later - earlier <= self.max_gap_ms for earlier, later in zip(times, times[1:]))

    def _restart_timer(self) -> None:
        self._cancel_timer()
        self._timer = self._scope.after(self.hold_ms, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            try:
                self._scope.after_cancel(self._timer)
            except tk.TclError:
                pass
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self._held and self.terminators:
            self._flush()
        elif self._held:
            self._finish_unterminated()

    def _finish_unterminated(self) -> None:
        """With no terminator configured, a fast burst followed by a pause is a scan."""
        if len(self._held) >= self.min_length and self._is_scan(self._held[-1].time_ms):
            text = "".join(key.char for key in self._held)
            self._held.clear()
            self.scans += 1
            self._post(ScanEvent(self.source, text))
        else:
            self._flush()

    def _flush(self) -> None:
        """Give the held keys to their widget, in order, as ordinary keystrokes."""
        self._cancel_timer()
        held, self._held = self._held, []
        self._replaying = True
        try:
            for key in held:
                try:
                    key.widget.event_generate("<KeyPress>", keysym=key.keysym, state=key.state)
                except tk.TclError:
                    break  # the widget is gone: so is what was typed into it
        finally:
            self._replaying = False
