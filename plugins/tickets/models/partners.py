"""Distributors (T7) and redemption codes (T6).

A distributor's prepaid account is a ledger account (owner ``distributor``); its contract is
a discount per ticket category and a booking mode: ``rebate`` (full price taken, the discount
paid back when the booking is approved) or ``net`` (the discounted price taken and approved at
once)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite.db.base import BusinessRow, UTCDateTime

from plugins.tickets.models.base import TicketsBase, one_of

BOOKING_MODES = ("rebate", "net")
BOOKING_STATES = ("pending", "approved", "rejected")
CODE_STATES = ("open", "redeemed", "void")
CODE_SOURCES = ("issued", "imported")


class Distributor(BusinessRow, TicketsBase):
    __tablename__ = "tickets_distributors"
    __table_args__ = (CheckConstraint(one_of("mode", BOOKING_MODES), name="mode"),
                      CheckConstraint("warn_below >= 0", name="warn_below"))

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(8), default="net")
    warn_below: Mapped[int] = mapped_column(BigInteger, default=0)  # fen: warn when the balance falls below
    contact: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DistributorDiscount(BusinessRow, TicketsBase):
    __tablename__ = "tickets_distributor_discounts"
    __table_args__ = (UniqueConstraint("distributor_id", "category"),
                      CheckConstraint("discount_bp >= 0 AND discount_bp <= 10000", name="discount_bp"))

    distributor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_distributors.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))  # a ticket category, or "*" for every one
    discount_bp: Mapped[int] = mapped_column(Integer)


class Booking(BusinessRow, TicketsBase):
    """A distributor's order in the review queue."""

    __tablename__ = "tickets_bookings"
    __table_args__ = (CheckConstraint(one_of("state", BOOKING_STATES), name="state"),
                      CheckConstraint(one_of("mode", BOOKING_MODES), name="mode"))

    distributor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_distributors.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_orders.id"), unique=True)
    mode: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    gross: Mapped[int] = mapped_column(BigInteger)  # list price of the tickets
    charged: Mapped[int] = mapped_column(BigInteger)  # taken from the account at booking
    rebate: Mapped[int] = mapped_column(BigInteger, default=0)  # paid back on approval (rebate mode)
    reviewed_by: Mapped[str] = mapped_column(String(128), default="")
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class RedemptionCode(BusinessRow, TicketsBase):
    """A code exchanged for tickets at the counter or a kiosk: issued here or imported from a
    third party's orders (``external_order``)."""

    __tablename__ = "tickets_redemption_codes"
    __table_args__ = (CheckConstraint(one_of("state", CODE_STATES), name="state"),
                      CheckConstraint(one_of("source", CODE_SOURCES), name="source"),
                      CheckConstraint("quantity >= 1", name="quantity"))

    code: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="issued")
    external_order: Mapped[str] = mapped_column(String(64), default="", index=True)
    partner: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_sessions.id"), default=None)
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_ticket_types.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)  # what the partner collected, fen
    state: Mapped[str] = mapped_column(String(16), default="open")
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_orders.id"), default=None)
