"""The card wallet's tables (prefix ``wallet_``): card types, cards and each card's event history.

Balances are *not* here: every wallet of a card (main, gift, points, counts, deposit) is a
ledger account (``suite.ledger``) owned by ``("card", card_no)``; see docs/wallet.md.

The tables live in the plugin's own ``MetaData`` (same naming convention as the host's), so
importing this module never changes the host's ``Base.metadata``; the plugin's Alembic branch
(``plugins/wallet/migrations``) creates them.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, MetaData, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from suite.db.base import NAMING, Base, BusinessRow, UTCDateTime

KINDS = ("value", "count")
CATEGORIES = ("authorisation", "operator", "charge", "stored_value", "free")
STATUSES = ("blank", "active", "lost", "returned", "expired", "recycled")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class WalletBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = dict(Base.type_annotation_map)


class CardType(BusinessRow, WalletBase):
    """A card type / member tier (gold, silver, group ticket...). Rates are basis points."""

    __tablename__ = "wallet_card_types"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        CheckConstraint("discount_bp >= 0 AND discount_bp <= 10000", name="discount_bp"),
        CheckConstraint("bonus_bp >= 0", name="bonus_bp"),
        CheckConstraint("validity_days > 0", name="validity_days"),
        CheckConstraint("deposit >= 0", name="deposit"),
        CheckConstraint("points_per_yuan >= 0", name="points_per_yuan"),
        CheckConstraint("min_count_topup >= 1", name="min_count_topup"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="value")
    category: Mapped[str] = mapped_column(String(16), default="stored_value")
    # tier discount taken off the price: 1000 = 10% off
    discount_bp: Mapped[int] = mapped_column(Integer, default=0)
    # top-up bonus credited to the gift wallet: 1000 = +10%
    bonus_bp: Mapped[int] = mapped_column(Integer, default=0)
    validity_days: Mapped[int] = mapped_column(Integer, default=365)
    deposit: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    points_per_yuan: Mapped[int] = mapped_column(Integer, default=0)
    min_count_topup: Mapped[int] = mapped_column(Integer, default=1)  # 10 for group tickets
    # where the card may pay (comma-separated codes; empty = everywhere): the POS's venue,
    # merchant and terminal group must each be listed (card permission matches the POS's)
    accepted_venues: Mapped[str] = mapped_column(Text, default="")
    accepted_merchants: Mapped[str] = mapped_column(Text, default="")
    accepted_terminal_groups: Mapped[str] = mapped_column(Text, default="")
    # where the gift wallet may pay: these item categories or merchants (both empty = everywhere)
    gift_categories: Mapped[str] = mapped_column(Text, default="")
    gift_merchants: Mapped[str] = mapped_column(Text, default="")
    pay_gift_first: Mapped[bool] = mapped_column(Boolean, default=True)
    # points redemption: redeem_points_per_unit points pay redeem_fen_per_unit fen, for at most
    # redeem_cap_bp of a sale (0 points per unit: no redemption)
    redeem_points_per_unit: Mapped[int] = mapped_column(Integer, default=0)
    redeem_fen_per_unit: Mapped[int] = mapped_column(Integer, default=0)
    redeem_cap_bp: Mapped[int] = mapped_column(Integer, default=10000)
    # what one card may spend while the terminal cannot reach the database (fen; counts for
    # count cards); 0 = never offline
    offline_cap: Mapped[int] = mapped_column(BigInteger, default=10000)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def accepted_at(self, venue_code: str | None, merchant: str = "", terminal_group: str = "") -> bool:
        return (_listed(self.accepted_venues, venue_code) and _listed(self.accepted_merchants, merchant)
                and _listed(self.accepted_terminal_groups, terminal_group))


def codes(text: str) -> frozenset[str]:
    """A comma-separated list of codes as a set."""
    return frozenset(c.strip() for c in text.split(",") if c.strip())


def _listed(allowed: str, code: str | None) -> bool:
    """An empty list admits everything; otherwise the code must be in it."""
    listed = codes(allowed)
    return not listed or (bool(code) and code in listed)


class SettlementPrice(BusinessRow, WalletBase):
    """What the chain settles with a venue for a card type used there (W1): ``unit_price`` fen
    per count used (count cards); ``rate_bp`` of the money consumed (value cards, 10000 = all)."""

    __tablename__ = "wallet_settlement_prices"
    __table_args__ = (UniqueConstraint("type_id", "venue_code"),
                      CheckConstraint("unit_price >= 0", name="unit_price"),
                      CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate_bp"))

    type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wallet_card_types.id"))
    venue_code: Mapped[str] = mapped_column(String(32))
    unit_price: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_bp: Mapped[int] = mapped_column(Integer, default=10000)


class DiscountRuleRow(BusinessRow, WalletBase):
    """A time-slot or film-grade discount rule (``plugins.wallet.pricing.DiscountRule``).
    Lists are comma-separated; times ``HH:MM``; weekdays 0 (Monday) to 6; validity from
    the first to the last day, in the venue's local time."""

    __tablename__ = "wallet_discount_rules"
    __table_args__ = (CheckConstraint("kind IN ('time_slot', 'film_grade')", name="kind"),
                      CheckConstraint("multiplier_bp >= 5000 AND multiplier_bp <= 9000", name="multiplier_bp"))

    rule_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    multiplier_bp: Mapped[int] = mapped_column(Integer)
    combinable: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[dt.date | None] = mapped_column(Date, default=None)  # first day
    valid_until: Mapped[dt.date | None] = mapped_column(Date, default=None)  # last day
    venues: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[str] = mapped_column(String(5), default="")
    end: Mapped[str] = mapped_column(String(5), default="")
    weekdays: Mapped[str] = mapped_column(String(20), default="")
    film_grades: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Card(BusinessRow, WalletBase):
    """One physical or virtual card; its balances are ledger accounts owned by ``card_no``."""

    __tablename__ = "wallet_cards"
    __table_args__ = (CheckConstraint(_in("status", STATUSES), name="status"),
                      CheckConstraint("counter >= 0", name="counter"))

    card_no: Mapped[str] = mapped_column(String(32), unique=True)
    uid: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wallet_card_types.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="blank")
    holder_name: Mapped[str] = mapped_column(String(100), default="")
    holder_phone: Mapped[str] = mapped_column(String(32), default="")
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # the current holder's history starts here (a recycled card reissued keeps older events)
    holder_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    # the highest purse counter seen on the chip and that state's fingerprint (W6)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    purse_fingerprint: Mapped[str] = mapped_column(String(64), default="")


class CardEvent(BusinessRow, WalletBase):
    """What happened to a card: issue, top-up, consume, block... (the customer's history)."""

    __tablename__ = "wallet_card_events"
    __table_args__ = (Index("ix_wallet_card_events_card_at", "card_id", "at"),)

    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wallet_cards.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128), default="")
    venue_code: Mapped[str] = mapped_column(String(32), default="")
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # fen or counts, signed for the card
    unit: Mapped[str] = mapped_column(String(16), default="")
    entry_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    details: Mapped[str] = mapped_column(Text, default="")
    # where: the POS's merchant, terminal code and device (reader) for settlement (W8)
    merchant: Mapped[str] = mapped_column(String(32), default="")
    terminal_code: Mapped[str] = mapped_column(String(32), default="")
    device: Mapped[str] = mapped_column(String(64), default="")
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    settlement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("wallet_settlements.id"), default=None,
                                                            index=True)


class PurseRecord(BusinessRow, WalletBase):
    """Each purse state seen on a card's chip (W6): counter, fingerprint and value after the
    write. One row per (card, counter): the same counter with another fingerprint is a fork."""

    __tablename__ = "wallet_purse_records"
    __table_args__ = (UniqueConstraint("card_id", "counter"),)

    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wallet_cards.id"))
    counter: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(64))
    value_after: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    terminal_code: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16), default="online")  # online | offline | sync | issue
    entry_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class Settlement(BusinessRow, WalletBase):
    """A period marked settled (W8): the card events of ``venue_code`` from ``date_from`` to
    ``date_to`` (inclusive, venue local dates) point at it; totals as they were at marking."""

    __tablename__ = "wallet_settlements"
    __table_args__ = (CheckConstraint("date_to >= date_from", name="period"),)

    venue_code: Mapped[str] = mapped_column(String(32))
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    settled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))
    settled_by: Mapped[str] = mapped_column(String(128))
    events: Mapped[int] = mapped_column(Integer, default=0)
    recharge_total: Mapped[int] = mapped_column(BigInteger, default=0)
    consume_total: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
