"""The seat map's picture (``plugins.tickets.ui.seatmap``): ``SeatMapPainter`` holds a seat map,
the seats' states and the selection, and keeps the canvas items that show them. It reads no
mouse or keys: ``SeatMapCanvas`` (``seatmap_canvas``) adds those.

One canvas item per cell (a rectangle); labels, marks and ticks only on the seats that have
them, kept in cell -> item dictionaries with the ``Look`` last painted, so a state or selection
change reconfigures that cell's items and nothing else. ``redraw`` draws everything again (a new
map or a new size).
"""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from suite.i18n import _
from suite.ui.theme import PALETTE

from plugins.tickets.models.places import LOCKED_KINDS
from plugins.tickets.ui.seatmap_geometry import (MAX_CELL, Cell, Geometry, Rect, cell_at_point, cell_rect,
                                                 cells_in_rect, fit_grid, mark_box, rect_centre, stage_bar)
from plugins.tickets.ui.seatmap_look import (HATCH, MARK, NO_ZONE, SELECTABLE_STATES, STAGE, STATES, TICK, Look,
                                             editor_seat_look, empty_cell_look, safe_colour, sale_seat_look, star)
from plugins.tickets.ui.seatmap_text import describe_cell


class SeatMapPainter(tk.Canvas):
    """A seat map on a canvas, its states and its selection, without input handling.

    ``mode``: ``"sale"`` (seats only, in their states) or ``"editor"`` (every cell of the
    grid). ``on_select(keys)``: the selection after a change the operator made; keys are seat
    ids (sale) or ``(row, column)`` cells (editor), in grid order. ``on_hover(text)``: the
    description of the seat under the pointer (or the keyboard cursor), ``""`` when it leaves.
    ``price_of(seat) -> fen | None``: the price shown there.
    """

    def __init__(self, parent: tk.Misc, *, mode: str = "sale",
                 on_select: Callable[[list[Any]], Any] | None = None,
                 on_hover: Callable[[str], Any] | None = None,
                 price_of: Callable[[dict[str, Any]], int | None] | None = None,
                 stage_text: str | None = None, max_cell: int = MAX_CELL, **kw: Any) -> None:
        kw.setdefault("background", PALETTE.surface)
        kw.setdefault("highlightthickness", 0)
        kw.setdefault("takefocus", 1)
        kw.setdefault("cursor", "hand2")
        super().__init__(parent, **kw)
        if mode not in ("sale", "editor"):
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.on_select = on_select
        self.on_hover = on_hover
        self.price_of = price_of
        self.stage_text = stage_text if stage_text is not None else _("Screen")
        self.max_cell = max_cell
        self.family = tkfont.nametofont("TkDefaultFont", self).actual("family")
        self.seat_map: dict[str, Any] | None = None
        self.rows = self.columns = 0
        self.states: dict[str, str] = {}
        self.zone_colours: dict[str, str] = {}
        self.zone_names: dict[str, str] = {}
        self._by_cell: dict[Cell, dict[str, Any]] = {}
        self._by_id: dict[str, dict[str, Any]] = {}
        self._selected: set[Cell] = set()
        self._items: dict[Cell, int] = {}          # the cell's rectangle
        self._labels: dict[Cell, int] = {}         # the seat label (big seats only)
        self._marks: dict[Cell, list[int]] = {}    # the kind's mark (special seats only)
        self._ticks: dict[Cell, int] = {}          # the selection tick (selected seats only)
        self._painted: dict[Cell, Look] = {}
        self.geometry: Geometry | None = None
        self.repaints = 0                          # items reconfigured since the last full draw
        self.draws = 0                             # full draws
        self._hover: Cell | None = None            # the cell with the hover outline
        self._cursor: Cell | None = None           # the keyboard's cursor
        self._keyboard = False                     # the cursor shows once the arrows were used
        self._tk_call = self.tk.call

    # ------------------------------------------------------------------ data

    def set_map(self, seat_map: dict[str, Any] | None, states: Mapping[str, str] | None = None, *,
                keep_selection: bool = False) -> None:
        """Show ``seat_map`` (``None``: nothing); ``states``: seat id -> state (sale mode)."""
        previous = set(self._selected) if keep_selection else set()
        self.seat_map = seat_map
        self.rows = int(seat_map["rows"]) if seat_map else 0
        self.columns = int(seat_map["columns"]) if seat_map else 0
        zones = seat_map.get("zones", []) if seat_map else []
        self.zone_colours = {z["code"]: safe_colour(z.get("colour")) for z in zones}
        self.zone_names = {z["code"]: z.get("name") or z["code"] for z in zones}
        seats = seat_map.get("seats", []) if seat_map else []
        self._by_cell = {(int(s["row"]), int(s["col"])): s for s in seats}
        self._by_id = {str(s["id"]): s for s in seats}
        self.states = dict(states or {})
        self._selected = {c for c in previous if self._selectable(c)}
        if self.mode == "sale":
            self._selected |= {c for c, s in self._by_cell.items() if self.states.get(str(s["id"])) == "mine"}
        self._cursor = self._cursor if self._cursor in self._cells_shown() else None
        self.redraw()

    def seat_at(self, cell: Cell) -> dict[str, Any] | None:
        return self._by_cell.get(cell)

    def seat(self, seat_id: str) -> dict[str, Any] | None:
        return self._by_id.get(seat_id)

    def cell_of(self, seat_id: str) -> Cell | None:
        seat = self._by_id.get(seat_id)
        return (int(seat["row"]), int(seat["col"])) if seat else None

    def state_of(self, seat_id: str) -> str:
        """The state shown for the seat: its kind's lock wins over whatever ``set_states`` said."""
        seat = self._by_id.get(seat_id)
        if seat is None:
            return "locked"
        if seat.get("kind") in LOCKED_KINDS:
            return "locked"
        state = self.states.get(seat_id, "free")
        return state if state in STATES else "locked"

    def set_states(self, mapping: Mapping[str, str], *, replace: bool = False) -> int:
        """Seat states (seat id -> free|held|mine|sold|locked) changed; repaint only those seats.

        ``replace``: ``mapping`` is the whole picture (seats it leaves out are free). A seat
        becoming ``mine`` joins the selection; a selected seat becoming held, sold or locked
        leaves it (and ``on_select`` hears of that). Returns the number of seats repainted."""
        if replace:
            changed = {sid: mapping.get(sid, "free") for sid in set(self.states) | set(mapping)}
        else:
            changed = dict(mapping)
        cells: list[Cell] = []
        for seat_id, state in changed.items():
            before = self.state_of(seat_id)
            if state == "free":
                self.states.pop(seat_id, None)
            else:
                self.states[seat_id] = state
            after = self.state_of(seat_id)
            cell = self.cell_of(seat_id)
            if cell is None or after == before:
                continue
            cells.append(cell)
            if after == "mine" and self.mode == "sale":
                self._selected.add(cell)
        dropped = [c for c in cells if c in self._selected and not self._selectable(c)]
        self._selected.difference_update(dropped)
        repainted = sum(1 for cell in cells if self._repaint(cell))
        if dropped:
            self._notify()
        return repainted

    def describe(self, cell: Cell) -> str:
        """"Row 5 Seat 12 · VIP · ¥80.00": what the information line says about ``cell``."""
        seat = self._by_cell.get(cell)
        if seat is None or self.mode == "editor":
            return describe_cell(cell, seat, self.zone_names)
        state = self.state_of(str(seat["id"]))
        price = self.price_of(seat) if self.price_of is not None and state in SELECTABLE_STATES else None
        return describe_cell(cell, seat, self.zone_names, state=state, price=price)

    # ------------------------------------------------------------------ selection

    @property
    def selected_cells(self) -> list[Cell]:
        return sorted(self._selected)

    @property
    def selected_ids(self) -> list[str]:
        return [str(self._by_cell[c]["id"]) for c in sorted(self._selected) if c in self._by_cell]

    def selection(self) -> list[Any]:
        """The selection as ``on_select`` gives it: seat ids (sale) or cells (editor)."""
        return self.selected_ids if self.mode == "sale" else self.selected_cells

    def _selectable(self, cell: Cell) -> bool:
        if self.mode == "editor":
            return 0 <= cell[0] < self.rows and 0 <= cell[1] < self.columns
        seat = self._by_cell.get(cell)
        return seat is not None and self.state_of(str(seat["id"])) in SELECTABLE_STATES

    def select(self, keys: Iterable[Any], *, notify: bool = False) -> None:
        """Make ``keys`` (seat ids or cells) the selection."""
        wanted: set[Cell] = set()
        for key in keys:
            cell = self.cell_of(key) if isinstance(key, str) else (int(key[0]), int(key[1]))
            if cell is not None and self._selectable(cell):
                wanted.add(cell)
        self._change_selection(wanted, notify=notify)

    def clear_selection(self, *, notify: bool = False) -> None:
        self._change_selection(set(), notify=notify)

    def toggle(self, cell: Cell, *, notify: bool = True) -> bool:
        """Select or unselect ``cell``; False when it cannot be selected (sold, held...)."""
        if not self._selectable(cell):
            return False
        self._change_selection(self._selected ^ {cell}, notify=notify)
        return True

    def _change_selection(self, wanted: set[Cell], *, notify: bool) -> None:
        before = self._selected
        if wanted == before:
            return
        self._selected = set(wanted)
        for cell in before ^ wanted:
            self._repaint(cell)
        if notify:
            self._notify()

    def _notify(self) -> None:
        if self.on_select is not None:
            self.on_select(self.selection())

    # ------------------------------------------------------------------ geometry

    def _cells_shown(self) -> Iterable[Cell]:
        if self.mode == "editor":
            return ((r, c) for r in range(self.rows) for c in range(self.columns))
        return self._by_cell.keys()

    def _layout(self, width: int, height: int) -> Geometry:
        longest = max([len(str(s.get("row_label", ""))) for s in self._by_cell.values()] or [1])
        return fit_grid(width, height, self.rows, self.columns, longest, self.max_cell)

    def rect(self, cell: Cell) -> Rect:
        g = self.geometry
        assert g is not None
        return cell_rect(g, cell)

    def cell_center(self, cell: Cell) -> tuple[int, int]:
        """Canvas pixel coordinates of the middle of ``cell`` (for clicks in tests)."""
        return rect_centre(self.rect(cell))

    def cell_at(self, x: float, y: float) -> Cell | None:
        g = self.geometry
        if g is None or not self.rows:
            return None
        return cell_at_point(g, self.rows, self.columns, x, y)

    def cells_in(self, x1: float, y1: float, x2: float, y2: float) -> list[Cell]:
        """Cells the rectangle (canvas coordinates) touches: from the cell under one corner to
        the cell under the other."""
        g = self.geometry
        if g is None:
            return []
        return cells_in_rect(g, self.rows, self.columns, x1, y1, x2, y2)

    # ------------------------------------------------------------------ drawing

    def _look(self, cell: Cell) -> Look:
        seat = self._by_cell.get(cell)
        selected = cell in self._selected
        if seat is None:  # an empty cell (editor)
            return empty_cell_look(selected)
        zone = self.zone_colours.get(seat.get("zone") or "", NO_ZONE)
        if self.mode == "editor":
            return editor_seat_look(seat.get("kind"), zone, selected)
        return sale_seat_look(self.state_of(str(seat["id"])), zone, selected)

    def redraw(self) -> None:
        """Draw everything again (a new map or a new size). State changes never come here."""
        self.delete("all")
        self._items.clear()
        self._labels.clear()
        self._marks.clear()
        self._ticks.clear()
        self._painted.clear()
        self.repaints = 0
        width, height = self.winfo_width(), self.winfo_height()
        if width <= 1 or height <= 1:
            self.geometry = None   # not on screen yet: drawn at the first <Configure>
            return
        self.draws += 1
        if not self.seat_map or not self.rows or not self.columns:
            self.geometry = None
            self.create_text(width / 2, height / 2, text=_("No seat map"), fill=PALETTE.muted,
                             font=(self.family, -14), tags=("placeholder",))
            return
        g = self.geometry = self._layout(width, height)
        self._draw_stage(g)
        call, w = self._tk_call, self._w
        label_font = (self.family, -max(8, int(g.cell * 0.42)))
        for cell in self._cells_shown():
            look = self._look(cell)
            x1, y1, x2, y2 = cell_rect(g, cell)
            tag = "seat" if cell in self._by_cell else "empty"
            item = int(call(w, "create", "rectangle", x1, y1, x2, y2, "-fill", look.fill, "-outline",
                            look.outline, "-width", look.width, "-tags", tag))
            self._items[cell] = item
            self._painted[cell] = look
            seat = self._by_cell.get(cell)
            if seat is None:
                continue
            if g.labels:
                self._labels[cell] = int(call(w, "create", "text", (x1 + x2) / 2, y1 + (y2 - y1) * 0.56,
                                              "-text", str(seat.get("seat_label", "")), "-fill", look.text,
                                              "-font", label_font, "-tags", "label"))
            if seat.get("kind", "normal") != "normal":
                self._draw_mark(cell, seat["kind"], look.mark)
            if look.tick:
                self._draw_tick(cell)
        self._draw_row_labels(g)
        self.create_rectangle(0, 0, 0, 0, outline=PALETTE.text, width=2, state="hidden", tags=("hover",))
        self.create_rectangle(0, 0, 0, 0, outline=PALETTE.accent_pressed, width=2, dash=(3, 2),
                              state="hidden", tags=("cursor",))
        self.create_rectangle(0, 0, 0, 0, outline=PALETTE.accent, width=1, dash=(4, 3), state="hidden",
                              tags=("band",))
        if self._hover is not None:
            self._show_hover(self._hover)
        if self._cursor is not None:
            self._place_cursor(self._cursor, hover=False)

    def _draw_stage(self, g: Geometry) -> None:
        left, top, right, bottom, bar_h = stage_bar(g, self.columns)
        self.create_polygon(left, top, right, top, right - bar_h * 0.6, bottom, left + bar_h * 0.6, bottom,
                            fill=STAGE, outline="", tags=("stage",))
        self.create_text((left + right) / 2, (top + bottom) / 2, text=self.stage_text, fill=PALETTE.muted,
                         font=(self.family, -int(max(9, min(13, bar_h * 0.75)))), tags=("stage",))

    def _draw_row_labels(self, g: Geometry) -> None:
        rows: dict[int, str] = {}
        for (r, _c), seat in self._by_cell.items():
            rows.setdefault(r, str(seat.get("row_label", "")))
        font = (self.family, -g.font_px)
        right = g.x0 + g.cell * self.columns
        call, w = self._tk_call, self._w
        for r, label in rows.items():
            y = g.y0 + (r + 0.5) * g.cell
            call(w, "create", "text", g.x0 - 6, y, "-text", label, "-anchor", "e", "-fill", PALETTE.muted,
                 "-font", font, "-tags", "rowlabel")
            call(w, "create", "text", right + 6, y, "-text", label, "-anchor", "w", "-fill", PALETTE.muted,
                 "-font", font, "-tags", "rowlabel")

    def _mark_box(self, cell: Cell) -> tuple[float, float, float]:
        """Centre and half-size of a mark: the middle of a small seat, a corner of a big one."""
        assert self.geometry is not None
        return mark_box(self.geometry, self.rect(cell))

    def _draw_mark(self, cell: Cell, kind: str, visible: bool) -> None:
        cx, cy, half = self._mark_box(cell)
        state = "normal" if visible else "hidden"
        items: list[int] = []
        if kind == "vip":
            items.append(self.create_polygon(*star(cx, cy, half), fill=MARK, outline="", state=state, tags=("mark",)))
        elif kind == "wheelchair":
            items.append(self.create_text(cx, cy, text="\u267f", fill=MARK, state=state, tags=("mark",),
                                          font=(self.family, -max(7, int(half * 2.2)))))
        elif kind in LOCKED_KINDS:
            x1, y1, x2, y2 = self.rect(cell)
            items.append(self.create_line(x1 + 1, y2 - 1, x2 - 1, y1 + 1, fill=HATCH, width=1, state=state,
                                          tags=("mark",)))
            if x2 - x1 >= 10:
                mid_x, mid_y = (x1 + x2) / 2, (y1 + y2) / 2
                items.append(self.create_line(x1 + 1, mid_y, mid_x, y1 + 1, fill=HATCH, width=1, state=state,
                                              tags=("mark",)))
                items.append(self.create_line(mid_x, y2 - 1, x2 - 1, mid_y, fill=HATCH, width=1, state=state,
                                              tags=("mark",)))
        if items:
            self._marks[cell] = items

    def _draw_tick(self, cell: Cell) -> None:
        cx, cy, half = self._mark_box(cell)
        width = max(1, round(half * 0.35))
        self._ticks[cell] = self.create_line(cx - half * 0.8, cy, cx - half * 0.2, cy + half * 0.6,
                                             cx + half * 0.85, cy - half * 0.6, fill=TICK, width=width,
                                             capstyle="round", joinstyle="round", tags=("tick",))

    def _repaint(self, cell: Cell) -> bool:
        """Bring ``cell``'s items to its current look; False when nothing had to change."""
        item = self._items.get(cell)
        if item is None:
            return False
        look = self._look(cell)
        old = self._painted.get(cell)
        if look == old:
            return False
        call, w = self._tk_call, self._w
        if old is None or (look.fill, look.outline, look.width) != (old.fill, old.outline, old.width):
            call(w, "itemconfigure", item, "-fill", look.fill, "-outline", look.outline, "-width", look.width)
        if old is None or look.text != old.text:
            label = self._labels.get(cell)
            if label is not None:
                call(w, "itemconfigure", label, "-fill", look.text)
        if old is None or look.mark != old.mark:
            for mark in self._marks.get(cell, ()):
                call(w, "itemconfigure", mark, "-state", "normal" if look.mark else "hidden")
        if look.tick and cell not in self._ticks:
            self._draw_tick(cell)
            if self._cursor is not None:
                self.tag_raise("cursor")
            self.tag_raise("hover")
        elif not look.tick and cell in self._ticks:
            self.delete(self._ticks.pop(cell))
        self._painted[cell] = look
        self.repaints += 1
        return True

    def fill_of(self, key: str | Cell) -> str:
        """The fill colour the canvas holds for a seat id or a cell (tests read this)."""
        cell = self.cell_of(key) if isinstance(key, str) else key
        item = self._items.get(cell) if cell is not None else None
        return str(self.itemcget(item, "fill")) if item is not None else ""

    def item_of(self, key: str | Cell) -> int | None:
        cell = self.cell_of(key) if isinstance(key, str) else key
        return self._items.get(cell) if cell is not None else None

    def has_tick(self, key: str | Cell) -> bool:
        cell = self.cell_of(key) if isinstance(key, str) else key
        return cell in self._ticks

    # ------------------------------------------------------------------ hover outline and cursor

    def _show_hover(self, cell: Cell | None) -> None:
        """The dark outline on ``cell`` (None: hidden), and its description to ``on_hover``."""
        if cell is None or self.geometry is None or cell not in self._items:
            self.itemconfigure("hover", state="hidden")
            if self.on_hover is not None:
                self.on_hover("")
            return
        x1, y1, x2, y2 = self.rect(cell)
        self.coords("hover", x1 - 1, y1 - 1, x2 + 1, y2 + 1)
        self.itemconfigure("hover", state="normal")
        self.tag_raise("hover")
        if self.on_hover is not None:
            self.on_hover(self.describe(cell))

    def _place_cursor(self, cell: Cell, *, visible: bool = True, hover: bool = True) -> None:
        """The keyboard's cursor on ``cell``; shown only while the map has the focus."""
        if self.geometry is None:
            return
        x1, y1, x2, y2 = self.rect(cell)
        self.coords("cursor", x1 - 2, y1 - 2, x2 + 2, y2 + 2)
        shown = visible and self._keyboard and str(self.tk.call("focus")) == str(self)
        self.itemconfigure("cursor", state="normal" if shown else "hidden")
        self.tag_raise("cursor")
        if visible and hover and self.on_hover is not None:
            self.on_hover(self.describe(cell))

    @property
    def cursor_cell(self) -> Cell | None:
        return self._cursor


__all__ = ["SeatMapPainter"]
