"""The seat map on screen: ``SeatMapCanvas`` draws a seat map as ``SetupService.seat_map``
returns it, and ``SeatMapView`` adds the legend and an information line under it.

Two modes:

* ``"sale"``: seats only; each seat shows its state for a session (free in its zone's colour,
  held by another counter amber, held by this counter or selected blue with a tick, sold dark
  grey, locked grey and hatched). A click toggles a free seat's selection, a drag selects a
  rectangle; ``on_select(seat_ids)`` hears every change made by the operator.
* ``"editor"``: every cell of the grid, empty cells as faint outlines; any cell can be selected
  (``on_select(cells)`` with ``(row, column)`` pairs) for the set-up tab to edit.

Speed (a hall of 2,000 seats): one canvas item per seat (a rectangle), marks only on special
seats, seat labels only when the seats are big enough to read them. ``set_states`` changes the
colours of the seats whose state changed, in place; nothing else is redrawn. A resize refits
the map once the window stopped moving (debounced). Hit-testing is arithmetic on the grid,
never a search of the canvas.
"""

from __future__ import annotations

import math
import re
import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from tkinter import ttk
from typing import Any, NamedTuple

from suite.i18n import N_, _, ngettext
from suite.ui.theme import PALETTE

from plugins.tickets.models.places import LOCKED_KINDS

Cell = tuple[int, int]

STATES = ("free", "held", "mine", "sold", "locked")
SELECTABLE_STATES = ("free", "mine")

# colours of the states (free seats take their zone's colour)
HELD = "#f0a030"          # amber: held by another counter
MINE = "#0b4fc4"          # deep blue: held by this counter or selected here (with a tick)
MINE_SOFT = "#9dbff5"     # held by this counter but taken out of the selection (being released)
SOLD = "#4a535e"          # dark grey
LOCKED = "#c9ced6"        # grey, hatched
HATCH = "#8d97a3"
NO_ZONE = "#9aa4b0"
EMPTY_OUTLINE = "#dfe4ea"  # editor: a cell without a seat
EMPTY_SELECTED = "#cfe0fc"
STAGE = "#e3e8ee"
TICK = "#ffffff"

LABEL_MIN_CELL = 20       # px: seat labels are drawn from this seat size up
MAX_CELL = 44             # px: a small map does not grow beyond this
RESIZE_DELAY_MS = 80      # refit this long after the last resize
DRAG_THRESHOLD = 4        # px of movement before a press becomes a drag

KIND_TITLES = {
    "normal": N_("Normal"),
    "wheelchair": N_("Wheelchair"),
    "vip": N_("VIP"),
    "locked_press": N_("Locked for press"),
    "locked_security": N_("Locked for security"),
    "locked": N_("Locked"),
}
STATE_TITLES = {
    "free": N_("Free"),
    "held": N_("Held by another counter"),
    "mine": N_("Held here"),
    "sold": N_("Sold"),
    "locked": N_("Not for sale"),
}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def kind_title(kind: str) -> str:
    return _(KIND_TITLES.get(kind, kind))


def state_title(state: str) -> str:
    return _(STATE_TITLES.get(state, state))


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def safe_colour(colour: Any, default: str = NO_ZONE) -> str:
    return colour if isinstance(colour, str) and _COLOUR.match(colour) else default


@lru_cache(maxsize=256)
def text_colour(fill: str) -> str:
    """Dark or white text, whichever reads better on ``fill`` (#RRGGBB)."""
    if not _COLOUR.match(fill or ""):
        return PALETTE.text
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return PALETTE.text if 0.299 * r + 0.587 * g + 0.114 * b > 165 else "#ffffff"


def star(cx: float, cy: float, radius: float) -> list[float]:
    """The points of a five-pointed star (the VIP mark)."""
    points: list[float] = []
    for n in range(10):
        r = radius if n % 2 == 0 else radius * 0.45
        angle = math.pi / 2 + n * math.pi / 5
        points += [cx + r * math.cos(angle), cy - r * math.sin(angle)]
    return points


class Look(NamedTuple):
    """How one cell is painted; compared with the last one so unchanged cells are left alone."""

    fill: str
    outline: str
    width: int
    tick: bool          # the selection tick
    mark: bool          # the kind's mark (VIP star, wheelchair, hatching)
    text: str           # the label's colour


class Geometry(NamedTuple):
    width: int
    height: int
    x0: float
    y0: float
    cell: float
    gap: float
    labels: bool
    font_px: int


class SeatMapCanvas(tk.Canvas):
    """A seat map on a canvas; see the module's documentation.

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
        self._hover: Cell | None = None
        self._cursor: Cell | None = None
        self._keyboard = False                     # the cursor shows once the arrows were used
        self._press: tuple[int, int] | None = None
        self._dragging = False
        self._resize_after: str | None = None
        self._tk_call = self.tk.call
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
        pad = 6
        rows, cols = max(1, self.rows), max(1, self.columns)
        longest = max([len(str(s.get("row_label", ""))) for s in self._by_cell.values()] or [1])
        # a first guess of the cell for the size of the row labels, then the real one
        cell = 20.0
        for _round in range(2):
            font_px = int(max(9, min(14, cell * 0.55)))
            label_w = max(18, font_px * 0.65 * max(1, longest) + 10)
            stage_h = max(18, min(34, cell * 1.1))
            cell = min((width - 2 * pad - 2 * label_w) / cols, (height - 2 * pad - stage_h) / rows,
                       float(self.max_cell))
            cell = max(cell, 3.0)
        grid_w, grid_h = cell * cols, cell * rows
        x0 = (width - grid_w) / 2
        y0 = max(pad + stage_h, (height - grid_h + stage_h) / 2)
        gap = max(1.0, round(cell * 0.14))
        return Geometry(width, height, x0, y0, cell, gap, cell >= LABEL_MIN_CELL, font_px)

    def rect(self, cell: Cell) -> tuple[int, int, int, int]:
        g = self.geometry
        assert g is not None
        r, c = cell
        half = g.gap / 2
        x1, y1 = g.x0 + c * g.cell, g.y0 + r * g.cell
        return (round(x1 + half), round(y1 + half), round(x1 + g.cell - half), round(y1 + g.cell - half))

    def cell_center(self, cell: Cell) -> tuple[int, int]:
        """Canvas pixel coordinates of the middle of ``cell`` (for clicks in tests)."""
        x1, y1, x2, y2 = self.rect(cell)
        return (x1 + x2) // 2, (y1 + y2) // 2

    def cell_at(self, x: float, y: float) -> Cell | None:
        g = self.geometry
        if g is None or not self.rows:
            return None
        c = int((x - g.x0) // g.cell)
        r = int((y - g.y0) // g.cell)
        if 0 <= r < self.rows and 0 <= c < self.columns:
            return (r, c)
        return None

    def cells_in(self, x1: float, y1: float, x2: float, y2: float) -> list[Cell]:
        """Cells the rectangle (canvas coordinates) touches: from the cell under one corner to
        the cell under the other."""
        g = self.geometry
        if g is None:
            return []
        left, right = sorted((x1, x2))
        top, bottom = sorted((y1, y2))
        c1 = max(0, math.floor((left - g.x0) / g.cell))
        c2 = min(self.columns - 1, math.floor((right - g.x0) / g.cell))
        r1 = max(0, math.floor((top - g.y0) / g.cell))
        r2 = min(self.rows - 1, math.floor((bottom - g.y0) / g.cell))
        return [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    # ------------------------------------------------------------------ drawing

    def _look(self, cell: Cell) -> Look:
        seat = self._by_cell.get(cell)
        selected = cell in self._selected
        if seat is None:  # an empty cell (editor)
            if selected:
                return Look(EMPTY_SELECTED, MINE, 2, False, False, PALETTE.text)
            return Look("", EMPTY_OUTLINE, 1, False, False, PALETTE.text)
        zone = self.zone_colours.get(seat.get("zone") or "", NO_ZONE)
        if self.mode == "editor":
            if selected:
                return Look(MINE, "", 0, True, False, "#ffffff")
            if seat.get("kind") in LOCKED_KINDS:
                return Look(LOCKED, "", 0, False, True, PALETTE.text)
            return Look(zone, "", 0, False, True, text_colour(zone))
        state = self.state_of(str(seat["id"]))
        if state == "mine":
            if selected:
                return Look(MINE, "", 0, True, False, "#ffffff")
            return Look(MINE_SOFT, "", 0, False, True, PALETTE.text)
        if selected:
            return Look(MINE, "", 0, True, False, "#ffffff")
        if state == "held":
            return Look(HELD, "", 0, False, True, PALETTE.text)
        if state == "sold":
            return Look(SOLD, "", 0, False, True, "#ffffff")
        if state == "locked":
            return Look(LOCKED, "", 0, False, True, PALETTE.text)
        return Look(zone, "", 0, False, True, text_colour(zone))

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
            x1, y1, x2, y2 = self.rect(cell)
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
        grid_w = g.cell * self.columns
        bar_h = max(10.0, min(20.0, g.cell * 0.7))
        bottom = g.y0 - max(6.0, g.cell * 0.5)
        top = bottom - bar_h
        inset = grid_w * 0.08
        left, right = g.x0 + inset, g.x0 + grid_w - inset
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
        x1, y1, x2, y2 = self.rect(cell)
        size = x2 - x1
        assert self.geometry is not None
        if self.geometry.labels:
            half = size * 0.16
            return x2 - half - size * 0.08, y1 + half + size * 0.08, half
        return (x1 + x2) / 2, (y1 + y2) / 2, size * 0.34

    def _draw_mark(self, cell: Cell, kind: str, visible: bool) -> None:
        cx, cy, half = self._mark_box(cell)
        state = "normal" if visible else "hidden"
        items: list[int] = []
        if kind == "vip":
            items.append(self.create_polygon(*star(cx, cy, half), fill="#ffffff", outline="", state=state, tags=("mark",)))
        elif kind == "wheelchair":
            items.append(self.create_text(cx, cy, text="\u267f", fill="#ffffff", state=state, tags=("mark",),
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

    # ------------------------------------------------------------------ describing

    def describe(self, cell: Cell) -> str:
        """"Row 5 Seat 12 · VIP · ¥80.00": what the information line says about ``cell``."""
        seat = self._by_cell.get(cell)
        if seat is None:
            return _("Empty cell (row {row}, column {column})").format(row=cell[0] + 1, column=cell[1] + 1)
        parts = [_("Row {row} Seat {seat}").format(row=seat.get("row_label", ""), seat=seat.get("seat_label", ""))]
        zone = seat.get("zone") or ""
        if zone:
            parts.append(self.zone_names.get(zone, zone))
        kind = seat.get("kind", "normal")
        if kind != "normal" and kind_title(kind) not in parts:
            parts.append(kind_title(kind))
        if self.mode == "editor":
            parts.append(_("cell ({row}, {column})").format(row=cell[0] + 1, column=cell[1] + 1))
            return " · ".join(parts)
        state = self.state_of(str(seat["id"]))
        if state not in ("free", "locked") or (state == "locked" and kind not in LOCKED_KINDS):
            parts.append(state_title(state))
        if self.price_of is not None and state in SELECTABLE_STATES:
            price = self.price_of(seat)
            if price is not None:
                parts.append(yuan(price))
        return " · ".join(parts)

    # ------------------------------------------------------------------ events

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

    def _show_hover(self, cell: Cell | None) -> None:
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

    # -- keyboard

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

    def _toggle_cursor(self) -> None:
        if self._cursor is not None:
            self.toggle(self._cursor)

    @property
    def cursor_cell(self) -> Cell | None:
        return self._cursor

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self and self._resize_after is not None:
            try:
                self.after_cancel(self._resize_after)
            except tk.TclError:
                pass
            self._resize_after = None


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
                legend.create_polygon(*star(x1 + 7, y1 + 7.5, 5.5), fill="#ffffff", outline="")
            elif kind == "wheelchair":
                legend.create_text(x1 + 7, y1 + 7, text="\u267f", fill="#ffffff", font=(family, -12))
            legend.create_text(x2 + 6, y1 + size / 2, text=text, anchor="w", fill=PALETTE.text, font=font)
            x += need
        wanted = y + line_h
        if int(legend.cget("height")) != wanted:
            legend.configure(height=wanted)


__all__ = ["HELD", "LOCKED", "MINE", "MINE_SOFT", "SOLD", "STATES", "SeatMapCanvas", "SeatMapView", "kind_title",
           "state_title", "yuan"]
