"""What is sold (T2, T3, T4): programmes, sessions with their sales state, ticket types, price
plans (a price per zone and ticket type), offers (time slot, film grade, buy N get M), packages
granting several entries, and combos of a ticket with goods. Money is integer fen."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite.db.base import BusinessRow, UTCDateTime

from plugins.tickets.models.base import TicketsBase, one_of

PROGRAMME_KINDS = ("film", "play", "concert", "show", "other")
SESSION_STATES = ("presale", "on_sale", "stopped")
TICKET_CATEGORIES = ("adult", "child", "senior", "student", "group", "distributor", "staff", "complimentary")
OFFER_KINDS = ("time_slot", "film_grade", "buy_n_get_m")
ANY_ZONE = "*"


class Programme(BusinessRow, TicketsBase):
    """A film, play or concert; ``grade`` is its grade or quality (A, B, 3D, IMAX...)."""

    __tablename__ = "tickets_programmes"
    __table_args__ = (CheckConstraint(one_of("kind", PROGRAMME_KINDS), name="kind"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="film")
    grade: Mapped[str] = mapped_column(String(16), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)


class TicketType(BusinessRow, TicketsBase):
    """Adult, child, senior, student, group, distributor, staff, complimentary..."""

    __tablename__ = "tickets_ticket_types"
    __table_args__ = (CheckConstraint(one_of("category", TICKET_CATEGORIES), name="category"),
                      CheckConstraint("min_quantity >= 1", name="min_quantity"))

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16), default="adult")
    min_quantity: Mapped[int] = mapped_column(Integer, default=1)  # group tickets: 10
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PricePlan(BusinessRow, TicketsBase):
    __tablename__ = "tickets_price_plans"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Price(BusinessRow, TicketsBase):
    """The price of a ticket type in a zone (``zone_code`` ``*``: every zone without its own)."""

    __tablename__ = "tickets_prices"
    __table_args__ = (UniqueConstraint("plan_id", "zone_code", "ticket_type_id"),
                      CheckConstraint("price >= 0", name="price"))

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_price_plans.id"), index=True)
    zone_code: Mapped[str] = mapped_column(String(32), default=ANY_ZONE)
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_ticket_types.id"))
    price: Mapped[int] = mapped_column(BigInteger)


class ShowSession(BusinessRow, TicketsBase):
    """A performance or screening: hall, seat-map template, price plan, times and sales state."""

    __tablename__ = "tickets_sessions"
    __table_args__ = (CheckConstraint(one_of("state", SESSION_STATES), name="state"),
                      CheckConstraint("ends_at > starts_at", name="times"))

    code: Mapped[str] = mapped_column(String(32), unique=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_programmes.id"), index=True)
    hall_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_halls.id"))
    seat_map_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_seat_maps.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_price_plans.id"))
    venue_code: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True), index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default="presale")


class OfferRule(BusinessRow, TicketsBase):
    """A box-office offer (T4). ``time_slot``/``film_grade`` keep ``multiplier_bp`` of the price
    (5000-9000) in a local time slot (``start``-``end``, ``weekdays``) or for ``grades``;
    ``buy_n_get_m``: of every ``buy_n + get_m`` tickets of the listed types in one order, the
    ``get_m`` cheapest are free. Lists are comma-separated; empty = all."""

    __tablename__ = "tickets_offers"
    __table_args__ = (CheckConstraint(one_of("kind", OFFER_KINDS), name="kind"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    multiplier_bp: Mapped[int] = mapped_column(Integer, default=10000)
    combinable: Mapped[bool] = mapped_column(Boolean, default=False)
    start: Mapped[str] = mapped_column(String(5), default="")
    end: Mapped[str] = mapped_column(String(5), default="")
    weekdays: Mapped[str] = mapped_column(String(20), default="")
    grades: Mapped[str] = mapped_column(Text, default="")
    ticket_types: Mapped[str] = mapped_column(Text, default="")
    buy_n: Mapped[int] = mapped_column(Integer, default=0)
    get_m: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[dt.date | None] = mapped_column(Date, default=None)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Package(BusinessRow, TicketsBase):
    """A package granting ``entries`` admissions to the listed programmes or venues (empty = any),
    valid ``valid_days`` from sale."""

    __tablename__ = "tickets_packages"
    __table_args__ = (CheckConstraint("entries >= 1", name="entries"), CheckConstraint("price >= 0", name="price"))

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)
    programmes: Mapped[str] = mapped_column(Text, default="")
    venues: Mapped[str] = mapped_column(Text, default="")
    valid_days: Mapped[int] = mapped_column(Integer, default=365)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Combo(BusinessRow, TicketsBase):
    """A ticket plus goods (popcorn and a drink) at one price; ``goods`` is what the counter hands over."""

    __tablename__ = "tickets_combos"
    __table_args__ = (CheckConstraint("price >= 0", name="price"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_ticket_types.id"))
    goods: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(BigInteger)
    goods_value: Mapped[int] = mapped_column(BigInteger, default=0)  # the goods' share of the price
    active: Mapped[bool] = mapped_column(Boolean, default=True)
