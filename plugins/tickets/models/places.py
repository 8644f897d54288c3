"""Halls and their seat maps (T1): several templates per hall, zones, row and seat labels, seat
kinds, any shape (a seat is a cell of a grid; aisles and curves are cells without a seat)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite.db.base import BusinessRow

from plugins.tickets.models.base import TicketsBase, one_of

SEAT_KINDS = ("normal", "wheelchair", "vip", "locked_press", "locked_security", "locked")
LOCKED_KINDS = ("locked_press", "locked_security", "locked")  # never sold at the counter


class Hall(BusinessRow, TicketsBase):
    __tablename__ = "tickets_halls"
    __table_args__ = (UniqueConstraint("venue_code", "code"),)

    venue_code: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))


class SeatMap(BusinessRow, TicketsBase):
    """A seat-map template of a hall (the same hall set out for a concert or a film)."""

    __tablename__ = "tickets_seat_maps"
    __table_args__ = (UniqueConstraint("hall_id", "name"),
                      CheckConstraint("columns > 0 AND rows > 0", name="grid"))

    hall_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_halls.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Zone(BusinessRow, TicketsBase):
    """A price zone of a seat map (stalls, balcony, VIP box), with its colour on screen."""

    __tablename__ = "tickets_zones"
    __table_args__ = (UniqueConstraint("seat_map_id", "code"),)

    seat_map_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_seat_maps.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    colour: Mapped[str] = mapped_column(String(7), default="#4c9be8")


class Seat(BusinessRow, TicketsBase):
    """One seat: its grid cell (``grid_row``, ``grid_col``), its printed labels and its kind."""

    __tablename__ = "tickets_seats"
    __table_args__ = (UniqueConstraint("seat_map_id", "grid_row", "grid_col"),
                      UniqueConstraint("seat_map_id", "row_label", "seat_label"),
                      CheckConstraint(one_of("kind", SEAT_KINDS), name="kind"))

    seat_map_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_seat_maps.id"), index=True)
    zone_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_zones.id"), default=None)
    grid_row: Mapped[int] = mapped_column(Integer)
    grid_col: Mapped[int] = mapped_column(Integer)
    row_label: Mapped[str] = mapped_column(String(8))
    seat_label: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16), default="normal")
