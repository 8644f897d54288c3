"""The host's own places: venues and terminals (the chain is the database itself)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite.db.base import Base, BusinessRow


class Venue(BusinessRow, Base):
    __tablename__ = "venues"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="venue")  # head_office, cinema, theatre, ktv, park
    active: Mapped[bool] = mapped_column(default=True)


class Terminal(BusinessRow, Base):
    __tablename__ = "terminals"
    __table_args__ = (UniqueConstraint("venue_ref", "code"),)

    venue_ref: Mapped[uuid.UUID] = mapped_column(ForeignKey("venues.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
