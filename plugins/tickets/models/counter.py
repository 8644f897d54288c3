"""The counter: cashiers' shifts (T9) and ticket face templates (T8)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suite.db.base import BusinessRow, UTCDateTime

from plugins.tickets.models.base import TicketsBase, one_of

SHIFT_STATES = ("open", "closed")
PAPER_WIDTHS = (58, 80)


class Shift(BusinessRow, TicketsBase):
    """A cashier's shift at a terminal: the float it opened with; at close, what was counted per
    payment method against what was expected, and the difference (over positive, short negative)."""

    __tablename__ = "tickets_shifts"
    __table_args__ = (CheckConstraint(one_of("state", SHIFT_STATES), name="state"),
                      CheckConstraint("opening_float >= 0", name="opening_float"))

    cashier: Mapped[str] = mapped_column(String(128), index=True)
    venue_code: Mapped[str] = mapped_column(String(32))
    terminal_code: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))
    opening_float: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    expected: Mapped[str] = mapped_column(Text, default="{}")  # JSON: method -> fen
    counted: Mapped[str] = mapped_column(Text, default="{}")  # JSON: method -> fen
    over_short: Mapped[int] = mapped_column(BigInteger, default=0)


class FaceTemplate(BusinessRow, TicketsBase):
    """A ticket face: ``layout`` is JSON (text, data fields, QR code, image elements; see
    docs/tickets-faces.md) for ``paper`` mm (58 or 80)."""

    __tablename__ = "tickets_faces"
    __table_args__ = (CheckConstraint(one_of("paper", tuple(str(w) for w in PAPER_WIDTHS)).replace("'", ""),
                                      name="paper"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    paper: Mapped[int] = mapped_column(Integer, default=80)
    layout: Mapped[str] = mapped_column(Text, default="[]")
    image: Mapped[str] = mapped_column(Text, default="")  # a logo, base64 PNG
