"""The seat map widget (``plugins.tickets.ui.seatmap``): ``SeatMapCanvas`` is a
``SeatMapPainter`` (``seatmap_painter``) that answers the operator: a click toggles a cell, a drag
selects a rectangle (the band), the pointer shows the hover outline, the arrows move the
keyboard's cursor, Space and Enter toggle its cell, Esc clears the selection, and a resize
refits the map once the window stopped moving (debounced).
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import Any

from plugins.tickets.ui.seatmap_geometry import MAX_CELL, Cell
from plugins.tickets.ui.seatmap_painter import SeatMapPainter

RESIZE_DELAY_MS = 80      # refit this long after the last resize
DRAG_THRESHOLD = 4        # px of movement before a press becomes a drag


class SeatMapCanvas(SeatMapPainter):
    """A seat map on a canvas; see ``plugins.tickets.ui.seatmap``.

    ``on_select(keys)``: the selection after a change made by the operator (click, drag,
    keys); keys are seat ids (sale) or ``(row, column)`` cells (editor), in grid order.
    ``on_hover(text)``: the description of the seat under the pointer (or the keyboard
    cursor), ``""`` when it leaves. ``price_of(seat) -> fen | None``: the price shown there.
    """

    def __init__(self, parent: tk.Misc, *, mode: str = "sale",
                 on_select: Callable[[list[Any]], Any] | None = None,
                 on_hover: Callable[[str], Any] | None = None,
                 price_of: Callable[[dict[str, Any]], int | None] | None = None,
                 stage_text: str | None = None, max_cell: int = MAX_CELL, **kw: Any) -> None:
        super().__init__(parent, mode=mode, on_select=on_select, on_hover=on_hover, price_of=price_of,
                         stage_text=stage_text, max_cell=max_cell, **kw)
        self._press: tuple[int, int] | None = None
        self._dragging = False
        self._resize_after: str | None = None
        self.bind("<Configure>", self._on_configure, add="+")
        self.bind("<ButtonPress-1>", self._on_press)
        self.bind("<B1-Motion>", self._on_drag)
        self.bind("<ButtonRelease-1>", self._on_release)
        self.bind("<Motion>", self._on_motion)
        self.bind("<Leave>", self._on_leave)
        for key, step in (("<Left>", (0, -1)), ("<Right>", (0, 1)), ("<Up>", (-1, 0)), ("<Down>", (1, 0))):
            self.bind(key, lambda e, s=step: self.move_cursor(*s) or "break")
        self.bind("<space>", lambda e: self._toggle_cursor() or "break")
        self.bind("<Return>", lambda e: self._toggle_cursor() or "break")
        self.bind("<KP_Enter>", lambda e: self._toggle_cursor() or "break")
        self.bind("<Escape>", lambda e: self.clear_selection(notify=True) or "break")
        self.bind("<FocusIn>", lambda e: self._cursor is not None and self._place_cursor(self._cursor, hover=False))
        self.bind("<FocusOut>", lambda e: self.itemconfigure("cursor", state="hidden"))
        self.bind("<Destroy>", self._on_destroy, add="+")

    # ------------------------------------------------------------------ size

    def _on_configure(self, event: tk.Event) -> None:
        if self._resize_after is not None:
            self.after_cancel(self._resize_after)
            self._resize_after = None
        if self.geometry is None and self.seat_map is not None and event.width > 1 and event.height > 1:
            self._fit()   # the first size it gets: draw now (only later resizes wait)
            return
        self._resize_after = self.after(RESIZE_DELAY_MS, self._fit)

    def _fit(self) -> None:
        self._resize_after = None
        g = self.geometry
        width, height = self.winfo_width(), self.winfo_height()
        if g is not None and (g.width, g.height) == (width, height):
            return
        if self.seat_map is None and g is None and self.draws and self.find_withtag("placeholder"):
            self.coords("placeholder", width / 2, height / 2)
            return
        self.redraw()

    def fit_now(self) -> None:
        """Refit to the current size at once (instead of after the resize delay)."""
        if self._resize_after is not None:
            self.after_cancel(self._resize_after)
        self._fit()

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self and self._resize_after is not None:
            try:
                self.after_cancel(self._resize_after)
            except tk.TclError:
                pass
            self._resize_after = None

    # ------------------------------------------------------------------ mouse

    def _on_press(self, event: tk.Event) -> None:
        self.focus_set()
        self._keyboard = False
        self.itemconfigure("cursor", state="hidden")
        self._press = (event.x, event.y)
        self._dragging = False

    def _on_drag(self, event: tk.Event) -> None:
        if self._press is None:
            return
        x0, y0 = self._press
        if not self._dragging and abs(event.x - x0) + abs(event.y - y0) < DRAG_THRESHOLD:
            return
        self._dragging = True
        self.coords("band", x0, y0, event.x, event.y)
        self.itemconfigure("band", state="normal")
        self.tag_raise("band")

    def _on_release(self, event: tk.Event) -> None:
        if self._press is None:
            return
        x0, y0 = self._press
        self._press = None
        if self._dragging:
            self._dragging = False
            self.itemconfigure("band", state="hidden")
            self.drag_select(x0, y0, event.x, event.y)
            return
        cell = self.cell_at(event.x, event.y)
        if cell is not None:
            self._cursor = cell
            self._place_cursor(cell, visible=False)
            self.toggle(cell)

    def drag_select(self, x1: float, y1: float, x2: float, y2: float) -> list[Cell]:
        """The operator's rectangle: select every selectable cell in it, or unselect them all
        when all were selected already. Returns the cells concerned."""
        cells = [c for c in self.cells_in(x1, y1, x2, y2) if self._selectable(c)]
        if not cells:
            return []
        if all(c in self._selected for c in cells):
            self._change_selection(self._selected - set(cells), notify=True)
        else:
            self._change_selection(self._selected | set(cells), notify=True)
        return cells

    def _on_motion(self, event: tk.Event) -> None:
        if self._press is not None:
            return
        cell = self.cell_at(event.x, event.y)
        if cell is not None and self.mode == "sale" and cell not in self._by_cell:
            cell = None
        if cell != self._hover:
            self._hover = cell
            self._show_hover(cell)

    def _on_leave(self, event: tk.Event) -> None:
        if self._hover is not None:
            self._hover = None
            self._show_hover(None)

    # ------------------------------------------------------------------ keyboard

    def move_cursor(self, d_row: int, d_col: int) -> Cell | None:
        """Arrows: the cursor to the next cell with a seat (editor: the next cell)."""
        if not self.rows or self.geometry is None:
            return None
        self._keyboard = True
        if self._cursor is None:
            start = min(self._by_cell) if self._by_cell and self.mode == "sale" else (0, 0)
            self._cursor = start
            self._place_cursor(start)
            return start
        r, c = self._cursor
        while True:
            r, c = r + d_row, c + d_col
            if not (0 <= r < self.rows and 0 <= c < self.columns):
                return self._cursor
            if self.mode == "editor" or (r, c) in self._by_cell:
                break
        self._cursor = (r, c)
        self._place_cursor(self._cursor)
        return self._cursor

    def _toggle_cursor(self) -> None:
        if self._cursor is not None:
            self.toggle(self._cursor)


__all__ = ["DRAG_THRESHOLD", "RESIZE_DELAY_MS", "SeatMapCanvas"]
