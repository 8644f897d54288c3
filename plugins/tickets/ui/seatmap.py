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

The parts, next to this module:

* ``seatmap_look``: the state colours, ``Look`` (how one cell is painted) and the pure
  functions choosing it;
* ``seatmap_text``: the titles of seat kinds and states, prices in yuan, and the description of
  a cell on the information line;
* ``seatmap_geometry``: ``Geometry``, fitting the grid to the widget, cell rectangles and
  hit-testing, pure arithmetic;
* ``seatmap_painter``: ``SeatMapPainter``, the map's data, states and selection and the canvas
  items showing them;
* ``seatmap_canvas``: ``SeatMapCanvas``, the painter answering clicks, drags, the pointer, the
  keys and resizes;
* ``seatmap_view``: ``SeatMapView``, the canvas with its legend and information line.

Everything is importable from here.
"""

from __future__ import annotations

from plugins.tickets.ui.seatmap_canvas import DRAG_THRESHOLD, RESIZE_DELAY_MS, SeatMapCanvas
from plugins.tickets.ui.seatmap_geometry import LABEL_MIN_CELL, MAX_CELL, Cell, Geometry
from plugins.tickets.ui.seatmap_look import (EMPTY_OUTLINE, EMPTY_SELECTED, HATCH, HELD, LOCKED, MINE, MINE_SOFT,
                                             NO_ZONE, SELECTABLE_STATES, SOLD, STAGE, STATES, TICK, Look, safe_colour,
                                             star, text_colour)
from plugins.tickets.ui.seatmap_painter import SeatMapPainter
from plugins.tickets.ui.seatmap_text import KIND_TITLES, STATE_TITLES, kind_title, state_title, yuan
from plugins.tickets.ui.seatmap_view import SeatMapView

__all__ = ["DRAG_THRESHOLD", "EMPTY_OUTLINE", "EMPTY_SELECTED", "HATCH", "HELD", "KIND_TITLES", "LABEL_MIN_CELL",
           "LOCKED", "MAX_CELL", "MINE", "MINE_SOFT", "NO_ZONE", "RESIZE_DELAY_MS", "SELECTABLE_STATES", "SOLD",
           "STAGE", "STATES", "STATE_TITLES", "TICK", "Cell", "Geometry", "Look", "SeatMapCanvas", "SeatMapPainter",
           "SeatMapView", "kind_title", "safe_colour", "star", "state_title", "text_colour", "yuan"]
