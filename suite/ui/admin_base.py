"""What every administration panel shares: the context, a message bar, small form helpers."""

from __future__ import annotations

import datetime as dt
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from suite.ui.widgets import MessageBar

NONE = "—"


def when(value: dt.datetime | None) -> str:
    if value is None:
        return NONE
    if value.tzinfo is not None:
        value = value.astimezone()
    return value.strftime("%Y-%m-%d %H:%M:%S")


class Panel(ttk.Frame):
    """A sub-tab of the administration tab. ``refresh()`` reloads what it shows."""

    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent, padding=(10, 10, 10, 6))
        self.context = context
        self.app = context.app
        self.actor = context.actor
        self.message = MessageBar(self)
        self.message.pack(side="bottom", fill="x", pady=(6, 0))

    def refresh(self) -> None:  # pragma: no cover - every panel overrides it
        pass

    def attempt(self, action: Callable[[], Any], success: str | Callable[[Any], str] | None = None,
                *, refresh: bool = True) -> Any:
        """Run a service call; show its refusal, or ``success`` and reload the panel."""
        result = self.message.attempt(action, success)
        if result is not None and refresh:
            kind, text = self.message.kind, self.message.text
            self.refresh()
            self.message.show(text, kind)  # a refresh must not hide the outcome
        return result


def field(parent: tk.Misc, row: int, column: int, label: str, widget: tk.Misc, *, span: int = 1) -> tk.Misc:
    """``label`` beside ``widget``, in a grid of (label, widget) pairs."""
    ttk.Label(parent, text=label).grid(row=row, column=column, sticky="w", padx=(0, 6), pady=3)
    widget.grid(row=row, column=column + 1, columnspan=span, sticky="ew", padx=(0, 12), pady=3)
    return widget


def button_row(parent: tk.Misc, row: int, column: int, buttons: list[tuple[str, Callable[[], Any]]], *,
               span: int = 2, accent_first: bool = False) -> list[ttk.Button]:
    frame = ttk.Frame(parent)
    frame.grid(row=row, column=column, columnspan=span, sticky="w", pady=3)
    made = []
    for n, (text, command) in enumerate(buttons):
        style = "Accent.TButton" if accent_first and n == 0 else "TButton"
        button = ttk.Button(frame, text=text, command=command, style=style)
        button.pack(side="left", padx=(0, 6))
        made.append(button)
    return made
