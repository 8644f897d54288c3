"""What the seat map says (``plugins.tickets.ui.seatmap``): the titles of seat kinds and seat
states, prices in yuan, and the description of a cell on the information line
("Row 5 Seat 12 · VIP · ¥80.00"). Pure functions, no Tk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from suite.i18n import N_, _

from plugins.tickets.models.places import LOCKED_KINDS
from plugins.tickets.ui.seatmap_geometry import Cell

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


def kind_title(kind: str) -> str:
    return _(KIND_TITLES.get(kind, kind))


def state_title(state: str) -> str:
    return _(STATE_TITLES.get(state, state))


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def describe_cell(cell: Cell, seat: Mapping[str, Any] | None, zone_names: Mapping[str, str], *,
                  state: str | None = None, price: int | None = None) -> str:
    """What the information line says about ``cell`` and its ``seat`` (None: an empty cell).

    ``state``: the seat's state in sale mode, said unless free or its kind's lock; None in
    editor mode, which says the cell's position instead. ``price`` (fen): shown when given."""
    if seat is None:
        return _("Empty cell (row {row}, column {column})").format(row=cell[0] + 1, column=cell[1] + 1)
    parts = [_("Row {row} Seat {seat}").format(row=seat.get("row_label", ""), seat=seat.get("seat_label", ""))]
    zone = seat.get("zone") or ""
    if zone:
        parts.append(zone_names.get(zone, zone))
    kind = seat.get("kind", "normal")
    if kind != "normal" and kind_title(kind) not in parts:
        parts.append(kind_title(kind))
    if state is None:
        parts.append(_("cell ({row}, {column})").format(row=cell[0] + 1, column=cell[1] + 1))
        return " · ".join(parts)
    if state not in ("free", "locked") or (state == "locked" and kind not in LOCKED_KINDS):
        parts.append(state_title(state))
    if price is not None:
        parts.append(yuan(price))
    return " · ".join(parts)


__all__ = ["KIND_TITLES", "STATE_TITLES", "describe_cell", "kind_title", "state_title", "yuan"]
