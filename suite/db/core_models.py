"""The host's own places: venues and terminals (the chain is the database itself), and each
venue's gate emergency state."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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


class GateEmergency(BusinessRow, Base):
    """A venue's gate emergency (G5): every gate free, validation suspended. One row per venue,
    updated in place; the history is in the audit log (``gates.emergency.on``/``.off``)."""

    __tablename__ = "gate_emergencies"

    venue_code: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(default=False)
    since: Mapped[dt.datetime | None] = mapped_column(default=None)
    source: Mapped[str] = mapped_column(String(16), default="")  # operator, fire_alarm, cli
    gate: Mapped[str] = mapped_column(String(64), default="")  # the gate whose fire alarm started it
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128), default="")
    reset_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    reset_by: Mapped[str] = mapped_column(String(128), default="")
