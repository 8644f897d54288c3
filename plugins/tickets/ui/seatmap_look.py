"""How the seat map looks (``plugins.tickets.ui.seatmap``): the colours of the seat states, the
text colour for a fill, the VIP star, and ``Look``, the paint of one cell, chosen by pure
functions from the cell's seat, state and selection. The words are in ``seatmap_text``.

Nothing here touches Tk: the canvas (``seatmap_painter``) and the legend (``seatmap_view``)
draw with what these give.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, NamedTuple

from suite.ui.theme import PALETTE

from plugins.tickets.models.places import LOCKED_KINDS

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
MARK = "#ffffff"          # the white of the kinds' marks (VIP star, wheelchair)

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


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


SELECTED_LOOK = Look(MINE, "", 0, True, False, "#ffffff")   # a selected seat: deep blue, ticked


def empty_cell_look(selected: bool) -> Look:
    """A cell without a seat (editor mode): a faint outline, pale blue when selected."""
    if selected:
        return Look(EMPTY_SELECTED, MINE, 2, False, False, PALETTE.text)
    return Look("", EMPTY_OUTLINE, 1, False, False, PALETTE.text)


def editor_seat_look(kind: str | None, zone_colour: str, selected: bool) -> Look:
    """A seat in editor mode: its zone's colour (locked kinds grey), whatever sells there."""
    if selected:
        return SELECTED_LOOK
    if kind in LOCKED_KINDS:
        return Look(LOCKED, "", 0, False, True, PALETTE.text)
    return Look(zone_colour, "", 0, False, True, text_colour(zone_colour))


def sale_seat_look(state: str, zone_colour: str, selected: bool) -> Look:
    """A seat in sale mode: the colour of its ``state`` (free: its zone's), ticked when selected."""
    if state == "mine":
        if selected:
            return SELECTED_LOOK
        return Look(MINE_SOFT, "", 0, False, True, PALETTE.text)
    if selected:
        return SELECTED_LOOK
    if state == "held":
        return Look(HELD, "", 0, False, True, PALETTE.text)
    if state == "sold":
        return Look(SOLD, "", 0, False, True, "#ffffff")
    if state == "locked":
        return Look(LOCKED, "", 0, False, True, PALETTE.text)
    return Look(zone_colour, "", 0, False, True, text_colour(zone_colour))


__all__ = ["EMPTY_OUTLINE", "EMPTY_SELECTED", "HATCH", "HELD", "LOCKED", "MARK", "MINE", "MINE_SOFT", "NO_ZONE",
           "SELECTABLE_STATES", "SELECTED_LOOK", "SOLD", "STAGE", "STATES", "TICK", "Look", "editor_seat_look",
           "empty_cell_look", "safe_colour", "sale_seat_look", "star", "text_colour"]
