"""The seat map with its legend and information line (``plugins.tickets.ui.seatmap``):
``SeatMapView`` frames a ``SeatMapCanvas``, draws the legend (the zones, then the states and marks
the map uses) and says what the pointer is on, otherwise what is selected.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Mapping
from tkinter import ttk
from typing import Any

from suite.i18n import _, ngettext
from suite.ui.theme import PALETTE

from plugins.tickets.models.places import LOCKED_KINDS
from plugins.tickets.ui.seatmap_canvas import SeatMapCanvas
from plugins.tickets.ui.seatmap_look import (EMPTY_OUTLINE, HATCH, HELD, LOCKED, MARK, MINE, NO_ZONE, SOLD, TICK,
                                             safe_colour, star)
from plugins.tickets.ui.seatmap_text import kind_title, state_title, yuan


class SeatMapView(ttk.Frame):
    """The canvas with a legend (zones, states, marks) and an information line under it: the
    seat under the pointer, otherwise the selection. Keyword arguments go to the canvas."""

    def __init__(self, parent: tk.Misc, *, mode: str = "sale",
                 on_select: Callable[[list[Any]], Any] | None = None, **kw: Any) -> None:
        super().__init__(parent, style="Card.TFrame", padding=1)
        self._user_on_select = on_select
        self.canvas = SeatMapCanvas(self, mode=mode, on_select=self._selected, on_hover=self._hovered, **kw)
        self.canvas.grid(row=0, column=0, sticky="nsew")
        self.legend = tk.Canvas(self, height=26, background=PALETTE.surface, highlightthickness=0)
        self.legend.grid(row=1, column=0, sticky="ew", padx=8)
        self.info = ttk.Label(self, style="SurfaceMuted.TLabel", anchor="w", padding=(10, 2, 10, 6))
        self.info.grid(row=2, column=0, sticky="ew")
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        self.hover_text = ""
        self.legend.bind("<Configure>", lambda e: self.draw_legend(), add="+")
        self._show_info()

    @property
    def mode(self) -> str:
        return self.canvas.mode

    def set_map(self, seat_map: dict[str, Any] | None, states: Mapping[str, str] | None = None, *,
                keep_selection: bool = False) -> None:
        self.canvas.set_map(seat_map, states, keep_selection=keep_selection)
        self.draw_legend()
        self._show_info()

    def set_states(self, mapping: Mapping[str, str], *, replace: bool = False) -> int:
        count = self.canvas.set_states(mapping, replace=replace)
        self._show_info()
        return count

    def _selected(self, keys: list[Any]) -> None:
        self._show_info()
        if self._user_on_select is not None:
            self._user_on_select(keys)

    def _hovered(self, text: str) -> None:
        self.hover_text = text
        self._show_info()

    def selection_text(self) -> str:
        canvas = self.canvas
        n = len(canvas.selected_cells)
        if canvas.mode == "editor":
            if not canvas.seat_map:
                return ""
            size = _("{rows} rows × {columns} columns · {seats} seats").format(
                rows=canvas.rows, columns=canvas.columns, seats=f"{len(canvas.seat_map.get('seats', [])):,}")
            if not n:
                return f"{size} · " + _("click or drag over cells to select them")
            return f"{size} · " + ngettext("{n} cell selected", "{n} cells selected", n).format(n=n)
        if not n:
            return _("Click a free seat to select it; drag to select a block.") if canvas.seat_map else ""
        total = None
        if canvas.price_of is not None:
            prices = [canvas.price_of(canvas.seat_at(c) or {}) for c in canvas.selected_cells]
            if all(p is not None for p in prices):
                total = sum(int(p) for p in prices if p is not None)
        text = ngettext("{n} seat selected", "{n} seats selected", n).format(n=n)
        return f"{text} · {yuan(total)}" if total is not None else text

    def _show_info(self) -> None:
        self.info.configure(text=self.hover_text or self.selection_text())

    def legend_entries(self) -> list[tuple[str, str, str]]:
        """(kind of swatch, colour, text) for the legend."""
        canvas = self.canvas
        entries: list[tuple[str, str, str]] = []
        seat_map = canvas.seat_map or {}
        for zone in seat_map.get("zones", []):
            entries.append(("box", safe_colour(zone.get("colour")), zone.get("name") or zone["code"]))
        kinds = {s.get("kind", "normal") for s in seat_map.get("seats", [])}
        if canvas.mode == "sale":
            entries += [("box", HELD, state_title("held")), ("tick", MINE, _("Selected")),
                        ("box", SOLD, state_title("sold"))]
        else:
            entries += [("tick", MINE, _("Selected")), ("empty", EMPTY_OUTLINE, _("No seat"))]
        if kinds & set(LOCKED_KINDS) or canvas.mode == "sale":
            entries.append(("hatch", LOCKED, state_title("locked")))
        if "vip" in kinds:
            entries.append(("star", NO_ZONE, kind_title("vip")))
        if "wheelchair" in kinds:
            entries.append(("wheelchair", NO_ZONE, kind_title("wheelchair")))
        return entries

    def draw_legend(self) -> None:
        legend = self.legend
        legend.delete("all")
        if not self.canvas.seat_map:
            legend.configure(height=1)
            return
        family = self.canvas.family
        width = max(200, legend.winfo_width())
        x, y, line_h, size = 4, 6, 22, 14
        font = (family, -12)
        for kind, colour, text in self.legend_entries():
            text_w = legend.tk.call("font", "measure", font, text)
            need = size + 6 + int(text_w) + 16
            if x + need > width and x > 4:
                x, y = 4, y + line_h
            x1, y1, x2, y2 = x, y, x + size, y + size
            if kind == "empty":
                legend.create_rectangle(x1, y1, x2, y2, outline=PALETTE.border_strong, fill="")
            else:
                legend.create_rectangle(x1, y1, x2, y2, outline="", fill=colour)
            if kind == "tick":
                legend.create_line(x1 + 3, y1 + 7, x1 + 6, y1 + 10, x2 - 3, y1 + 4, fill=TICK, width=2)
            elif kind == "hatch":
                legend.create_line(x1 + 1, y2 - 1, x2 - 1, y1 + 1, fill=HATCH)
                legend.create_line(x1 + 1, y1 + 7, x1 + 7, y1 + 1, fill=HATCH)
                legend.create_line(x1 + 7, y2 - 1, x2 - 1, y1 + 7, fill=HATCH)
            elif kind == "star":
                legend.create_polygon(*star(x1 + 7, y1 + 7.5, 5.5), fill=MARK, outline="")
            elif kind == "wheelchair":
                legend.create_text(x1 + 7, y1 + 7, text="\u267f", fill=MARK, font=(family, -12))
            legend.create_text(x2 + 6, y1 + size / 2, text=text, anchor="w", fill=PALETTE.text, font=font)
            x += need
        wanted = y + line_h
        if int(legend.cget("height")) != wanted:
            legend.configure(height=wanted)



__all__ = ["SeatMapView"]
