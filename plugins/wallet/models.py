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
                        Text)
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
    # comma-separated venue codes; empty = accepted at every venue of the chain
    accepted_venues: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def accepted_at(self, venue_code: str | None) -> bool:
        codes = [c.strip() for c in self.accepted_venues.split(",") if c.strip()]
        return not codes or (venue_code is not None and venue_code in codes)


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
    # transaction counter of the purse on the card (offline purse, W6: later)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)


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
