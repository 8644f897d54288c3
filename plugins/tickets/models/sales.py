"""Orders, tickets, seat claims and payments (T5).

``tickets_seat_claims`` has one row per (session, seat) that is held or sold: its primary key
is the pair, so two terminals can never hold or sell the same seat (the second INSERT fails in
the database, whatever the timing). A hold has an expiry; a sale has none; a refund or void
deletes the claim and the seat is free again."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from suite.db.base import BusinessRow, UTCDateTime

from plugins.tickets.models.base import TicketsBase, one_of

ORDER_STATES = ("open", "paid", "refunded", "voided", "partly_refunded")
ORDER_CHANNELS = ("counter", "distributor", "kiosk", "redemption", "online")
TICKET_STATES = ("valid", "refunded", "voided", "exchanged")
TICKET_KINDS = ("seat", "package", "combo")
CLAIM_KINDS = ("hold", "sold")
PAYMENT_METHODS = ("cash", "wallet", "voucher", "distributor", "redemption")


class Order(BusinessRow, TicketsBase):
    __tablename__ = "tickets_orders"
    __table_args__ = (CheckConstraint(one_of("state", ORDER_STATES), name="state"),
                      CheckConstraint(one_of("channel", ORDER_CHANNELS), name="channel"))

    number: Mapped[str] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    channel: Mapped[str] = mapped_column(String(16), default="counter")
    customer_source: Mapped[str] = mapped_column(String(32), default="walk_in")
    customer_phone: Mapped[str] = mapped_column(String(32), default="")
    distributor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_distributors.id"), default=None)
    cashier: Mapped[str] = mapped_column(String(128))
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_shifts.id"), default=None, index=True)
    venue_code: Mapped[str] = mapped_column(String(32))
    terminal_code: Mapped[str] = mapped_column(String(32), default="")
    list_total: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None, index=True)


class Ticket(BusinessRow, TicketsBase):
    """One admission (or a package of several). ``code`` is the Ed25519-signed text printed in
    the QR code; ``serial`` is its short number for people and the revocation list."""

    __tablename__ = "tickets_tickets"
    __table_args__ = (CheckConstraint(one_of("state", TICKET_STATES), name="state"),
                      CheckConstraint(one_of("kind", TICKET_KINDS), name="kind"),
                      CheckConstraint("price >= 0 AND list_price >= 0", name="price"))

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_orders.id"), index=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="seat")
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_sessions.id"), default=None,
                                                         index=True)
    seat_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_seats.id"), default=None)
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_ticket_types.id"))
    package_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_packages.id"), default=None)
    combo_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_combos.id"), default=None)
    admits: Mapped[int] = mapped_column(Integer, default=1)  # group tickets and packages: more than 1
    list_price: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    discounts: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the offers applied
    state: Mapped[str] = mapped_column(String(16), default="valid")
    code: Mapped[str] = mapped_column(Text, default="")
    printed: Mapped[int] = mapped_column(Integer, default=0)
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)  # exchange


class SeatClaim(TicketsBase):
    """A seat held or sold for a session. Not a business row: its key IS the (session, seat)."""

    __tablename__ = "tickets_seat_claims"
    __table_args__ = (CheckConstraint(one_of("kind", CLAIM_KINDS), name="kind"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_sessions.id"), primary_key=True)
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_seats.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    hold_token: Mapped[str] = mapped_column(String(64), default="", index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_tickets.id"), default=None)
    terminal_code: Mapped[str] = mapped_column(String(32), default="")


class Payment(BusinessRow, TicketsBase):
    """One tender of an order: cash, a wallet card, a voucher, a distributor's account...
    ``amount`` is negative for money paid back (refund)."""

    __tablename__ = "tickets_payments"
    __table_args__ = (CheckConstraint(one_of("method", PAYMENT_METHODS), name="method"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets_orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(64), default="")  # card number, voucher code...
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_shifts.id"), default=None, index=True)


class Revocation(BusinessRow, TicketsBase):
    """A ticket code that no longer admits (refunded, voided, exchanged): the list offline gates
    download with their blacklist."""

    __tablename__ = "tickets_revocations"

    serial: Mapped[str] = mapped_column(String(32), unique=True)
    reason: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True), index=True)


VOUCHER_STATES = ("open", "used", "void")


class Voucher(BusinessRow, TicketsBase):
    """A cash voucher (代金券) worth ``value`` fen toward a box-office order, used once. Sold or
    given away by the venue; its value waits in the chain's ``vouchers`` account until used."""

    __tablename__ = "tickets_vouchers"
    __table_args__ = (CheckConstraint(one_of("state", VOUCHER_STATES), name="state"),
                      CheckConstraint("value > 0", name="value"))

    code: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    state: Mapped[str] = mapped_column(String(8), default="open")
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets_orders.id"), default=None)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
