"""Where things sit on the seat map (``plugins.tickets.ui.seatmap``): fitting the grid to the
widget, a cell's rectangle, and hit-testing (the cell under a point, the cells under a dragged
rectangle), all arithmetic on the grid, never a search of the canvas.

Pure functions of a ``Geometry`` (what ``fit_grid`` chose for a widget size) and the grid's
size; nothing here touches Tk.
"""

from __future__ import annotations

import math
from typing import NamedTuple

Cell = tuple[int, int]
Rect = tuple[int, int, int, int]

LABEL_MIN_CELL = 20       # px: seat labels are drawn from this seat size up
MAX_CELL = 44             # px: a small map does not grow beyond this
PAD = 6                   # px around the map


class Geometry(NamedTuple):
    width: int
    height: int
    x0: float
    y0: float
    cell: float
    gap: float
    labels: bool
    font_px: int


def fit_grid(width: int, height: int, rows: int, columns: int, longest_row_label: int,
             max_cell: float = MAX_CELL) -> Geometry:
    """The largest cell (at most ``max_cell``) with which ``rows`` x ``columns`` cells, the row
    labels at both sides (``longest_row_label`` characters) and the stage bar above fit in
    ``width`` x ``height``; the grid centred."""
    rows, cols = max(1, rows), max(1, columns)
    # a first guess of the cell for the size of the row labels, then the real one
    cell = 20.0
    for _round in range(2):
        font_px = int(max(9, min(14, cell * 0.55)))
        label_w = max(18, font_px * 0.65 * max(1, longest_row_label) + 10)
        stage_h = max(18, min(34, cell * 1.1))
        cell = min((width - 2 * PAD - 2 * label_w) / cols, (height - 2 * PAD - stage_h) / rows,
                   float(max_cell))
        cell = max(cell, 3.0)
    grid_w, grid_h = cell * cols, cell * rows
    x0 = (width - grid_w) / 2
    y0 = max(PAD + stage_h, (height - grid_h + stage_h) / 2)
    gap = max(1.0, round(cell * 0.14))
    return Geometry(width, height, x0, y0, cell, gap, cell >= LABEL_MIN_CELL, font_px)


def cell_rect(g: Geometry, cell: Cell) -> Rect:
    """The seat's rectangle in canvas pixels: the cell less half the gap on every side."""
    r, c = cell
    half = g.gap / 2
    x1, y1 = g.x0 + c * g.cell, g.y0 + r * g.cell
    return (round(x1 + half), round(y1 + half), round(x1 + g.cell - half), round(y1 + g.cell - half))


def rect_centre(rect: Rect) -> tuple[int, int]:
    x1, y1, x2, y2 = rect
    return (x1 + x2) // 2, (y1 + y2) // 2


def cell_at_point(g: Geometry, rows: int, columns: int, x: float, y: float) -> Cell | None:
    """The cell under canvas point ``(x, y)``; None outside the grid."""
    c = int((x - g.x0) // g.cell)
    r = int((y - g.y0) // g.cell)
    if 0 <= r < rows and 0 <= c < columns:
        return (r, c)
    return None


def cells_in_rect(g: Geometry, rows: int, columns: int, x1: float, y1: float, x2: float,
                  y2: float) -> list[Cell]:
    """Cells the rectangle (canvas coordinates) touches: from the cell under one corner to the
    cell under the other, clipped to the grid; in grid order."""
    left, right = sorted((x1, x2))
    top, bottom = sorted((y1, y2))
    c1 = max(0, math.floor((left - g.x0) / g.cell))
    c2 = min(columns - 1, math.floor((right - g.x0) / g.cell))
    r1 = max(0, math.floor((top - g.y0) / g.cell))
    r2 = min(rows - 1, math.floor((bottom - g.y0) / g.cell))
    return [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def mark_box(g: Geometry, rect: Rect) -> tuple[float, float, float]:
    """Centre and half-size of a seat's mark or tick: the middle of a small seat, the top right
    corner of one big enough for its label."""
    x1, y1, x2, y2 = rect
    size = x2 - x1
    if g.labels:
        half = size * 0.16
        return x2 - half - size * 0.08, y1 + half + size * 0.08, half
    return (x1 + x2) / 2, (y1 + y2) / 2, size * 0.34


def stage_bar(g: Geometry, columns: int) -> tuple[float, float, float, float, float]:
    """``(left, top, right, bottom, height)`` of the screen (or stage) bar above the grid."""
    grid_w = g.cell * columns
    bar_h = max(10.0, min(20.0, g.cell * 0.7))
    bottom = g.y0 - max(6.0, g.cell * 0.5)
    top = bottom - bar_h
    inset = grid_w * 0.08
    return g.x0 + inset, top, g.x0 + grid_w - inset, bottom, bar_h


__all__ = ["LABEL_MIN_CELL", "MAX_CELL", "Cell", "Geometry", "Rect", "cell_at_point", "cell_rect", "cells_in_rect",
           "fit_grid", "mark_box", "rect_centre", "stage_bar"]
