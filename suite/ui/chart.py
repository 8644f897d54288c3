"""A daily totals bar chart drawn on a ``tk.Canvas``: bars, a value axis, day labels."""

from __future__ import annotations

import datetime as dt
import math
import tkinter as tk
from collections.abc import Callable, Sequence

from suite.ui.theme import PALETTE


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5, 5 x 10^n) giving about ``ticks`` intervals over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


class DailyChart(tk.Canvas):
    """``set_data([(day, value), ...], fmt)``; redraws itself when resized."""

    def __init__(self, parent: tk.Misc, *, height: int = 150) -> None:
        super().__init__(parent, height=height, background=PALETTE.surface, highlightthickness=1,
                         highlightbackground=PALETTE.border, borderwidth=0)
        self.data: list[tuple[dt.date, int]] = []
        self.title = ""
        self.empty_text = ""
        self._fmt: Callable[[float], str] = lambda v: f"{v:,.0f}"
        self.bars: list[int] = []
        self.bind("<Configure>", lambda e: self.redraw())

    def set_data(self, data: Sequence[tuple[dt.date, int]], *, fmt: Callable[[float], str] | None = None,
                 title: str = "", empty_text: str = "") -> None:
        self.data = list(data)
        self.title = title
        self.empty_text = empty_text
        if fmt is not None:
            self._fmt = fmt
        self.redraw()

    def clear(self, text: str = "") -> None:
        self.set_data([], empty_text=text)

    def redraw(self) -> None:
        self.delete("all")
        self.bars = []
        width, height = self.winfo_width(), self.winfo_height()
        if width < 40 or height < 40:
            return
        p = PALETTE
        if self.title:
            self.create_text(10, 6, text=self.title, anchor="nw", fill=p.text, font="VSBold")
        if not self.data:
            if self.empty_text:
                self.create_text(width / 2, height / 2, text=self.empty_text, fill=p.muted)
            return
        values = [v for _d, v in self.data]
        low, high = min(0, min(values)), max(0, max(values))
        if high == low:
            high = low + 1
        plot_height = height - 50
        step = nice_step(high - low, max(1, min(5, plot_height // 28)))
        top_value = math.ceil(high / step) * step
        bottom_value = math.floor(low / step) * step
        labels = [bottom_value + i * step for i in range(int(round((top_value - bottom_value) / step)) + 1)]
        label_width = max(self._text_width(self._fmt(v)) for v in labels) + 14
        left, right, top, bottom = label_width, width - 10, (34 if self.title else 14), height - 22
        if right - left < 20 or bottom - top < 20:
            return

        def y_of(value: float) -> float:
            return bottom - (value - bottom_value) / (top_value - bottom_value) * (bottom - top)

        for value in labels:
            y = y_of(value)
            self.create_line(left, y, right, y, fill=p.status if value else p.border_strong)
            self.create_text(left - 6, y, text=self._fmt(value), anchor="e", fill=p.muted, font="VSSmall")
        n = len(self.data)
        slot = (right - left) / n
        bar = max(1.0, slot * 0.72)
        zero = y_of(0)
        label_every = max(1, math.ceil(n / max(1, int((right - left) // 60))))
        for i, (day, value) in enumerate(self.data):
            x0 = left + i * slot + (slot - bar) / 2
            colour = p.accent if value >= 0 else p.danger
            self.bars.append(self.create_rectangle(x0, min(zero, y_of(value)), x0 + bar, max(zero, y_of(value)),
                                                   fill=colour, outline=""))
            if i % label_every == 0:
                self.create_text(x0 + bar / 2, bottom + 4, text=day.strftime("%m-%d"), anchor="n", fill=p.muted,
                                 font="VSSmall")
        self.create_line(left, top - 4, left, bottom, fill=p.border_strong)

    def _text_width(self, text: str) -> int:
        import tkinter.font as tkfont

        return tkfont.nametofont("VSSmall", self).measure(text)


__all__ = ["DailyChart", "nice_step"]
