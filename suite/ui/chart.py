"""A report's chart drawn on a ``tk.Canvas``: bars or a line, a value axis, and the labels of
the points (days, or the category texts of a chart with one point per row)."""

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


Point = tuple[dt.date | str, int]


class DailyChart(tk.Canvas):
    """``set_data([(day or label, value), ...], fmt, line=...)``; redraws itself when resized.

    ``bars`` holds the bars drawn; a line chart has ``line`` (the line item, absent with one
    point) and ``points``, the (x, y) of every point."""

    def __init__(self, parent: tk.Misc, *, height: int = 150) -> None:
        super().__init__(parent, height=height, background=PALETTE.surface, highlightthickness=1,
                         highlightbackground=PALETTE.border, borderwidth=0)
        self.data: list[Point] = []
        self.title = ""
        self.empty_text = ""
        self.as_line = False
        self._fmt: Callable[[float], str] = lambda v: f"{v:,.0f}"
        self.bars: list[int] = []
        self.line: int | None = None
        self.points: list[tuple[float, float]] = []
        self.bind("<Configure>", lambda e: self.redraw())

    def set_data(self, data: Sequence[Point], *, fmt: Callable[[float], str] | None = None,
                 title: str = "", empty_text: str = "", line: bool = False) -> None:
        self.data = list(data)
        self.title = title
        self.empty_text = empty_text
        self.as_line = line
        if fmt is not None:
            self._fmt = fmt
        self.redraw()

    def clear(self, text: str = "") -> None:
        self.set_data([], empty_text=text)

    def redraw(self) -> None:
        self.delete("all")
        self.bars = []
        self.line = None
        self.points = []
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
        for i, (key, value) in enumerate(self.data):
            x = left + (i + 0.5) * slot
            if self.as_line:
                self.points.append((x, y_of(value)))
            else:
                colour = p.accent if value >= 0 else p.danger
                self.bars.append(self.create_rectangle(x - bar / 2, min(zero, y_of(value)), x + bar / 2,
                                                       max(zero, y_of(value)), fill=colour, outline=""))
            if i % label_every == 0:
                text = key.strftime("%m-%d") if isinstance(key, dt.date) else self._fit(key, slot * label_every - 6)
                self.create_text(x, bottom + 4, text=text, anchor="n", fill=p.muted, font="VSSmall")
        if len(self.points) > 1:
            self.line = self.create_line(*(c for point in self.points for c in point), fill=p.accent, width=2)
        if self.points and (slot >= 8 or len(self.points) == 1):
            for x, y in self.points:
                self.create_oval(x - 2.5, y - 2.5, x + 2.5, y + 2.5, fill=p.accent, outline="")
        self.create_line(left, top - 4, left, bottom, fill=p.border_strong)

    def _fit(self, text: str, width: float) -> str:
        """``text``, cut with an ellipsis to at most ``width`` pixels."""
        if self._text_width(text) <= width:
            return text
        while text and self._text_width(text + "…") > width:
            text = text[:-1]
        return text + "…" if text else ""

    def _text_width(self, text: str) -> int:
        import tkinter.font as tkfont

        return tkfont.nametofont("VSSmall", self).measure(text)


__all__ = ["DailyChart", "nice_step"]
