"""The check-in tables (prefix ``checkin_``): lists, channels, plain codes, what each credential
has used on a list, and every scan with its decision (docs/checkin.md).

Entries name their list and channel by code, not by key: a gate that was offline uploads them
as they were decided, and reports group by the codes people see.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from suite.db.base import NAMING, Base, BusinessRow, UTCDateTime

ENTRY_MODES = ("single", "multiple", "per_day")
DIRECTIONS = ("in", "out")
ENTRY_STATES = ("refused", "pending", "admitted", "partial", "annulled")
CODE_STATES = ("valid", "blocked")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CheckinBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = dict(Base.type_annotation_map)


class CheckinList(BusinessRow, CheckinBase):
    """An entrance or area: who may pass (selectors are comma-separated codes, ``*`` any, empty
    none), when, and how often."""

    __tablename__ = "checkin_lists"
    __table_args__ = (
        CheckConstraint(_in("entries", ENTRY_MODES), name="entries"),
        CheckConstraint("per_day >= 1", name="per_day"),
        CheckConstraint("opens_before_min >= 0 AND closes_after_min >= 0", name="window"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    venue_code: Mapped[str] = mapped_column(String(32))
    ticket_types: Mapped[str] = mapped_column(Text, default="*")
    halls: Mapped[str] = mapped_column(Text, default="*")
    sessions: Mapped[str] = mapped_column(Text, default="*")
    card_types: Mapped[str] = mapped_column(Text, default="")
    plain_codes: Mapped[bool] = mapped_column(Boolean, default=True)
    staff: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_before_min: Mapped[int] = mapped_column(Integer, default=30)
    closes_after_min: Mapped[int] = mapped_column(Integer, default=0)
    daily_open: Mapped[str] = mapped_column(String(5), default="")
    daily_close: Mapped[str] = mapped_column(String(5), default="")
    entries: Mapped[str] = mapped_column(String(8), default="single")
    per_day: Mapped[int] = mapped_column(Integer, default=1)
    exit_tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    anti_passback: Mapped[bool] = mapped_column(Boolean, default=False)
    reentry: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CheckinChannel(BusinessRow, CheckinBase):
    """A gate lane (or a hand scanner) under a list: which turnstile, which way."""

    __tablename__ = "checkin_channels"
    __table_args__ = (
        CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        CheckConstraint(_in("side", ("A", "B")), name="side"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    list_code: Mapped[str] = mapped_column(String(32), index=True)
    gate: Mapped[str] = mapped_column(String(64), default="")  # [devices.<id>] of the turnstile
    direction: Mapped[str] = mapped_column(String(3), default="in")
    side: Mapped[str] = mapped_column(String(1), default="A")  # the turnstile's direction it opens
    staff: Mapped[bool] = mapped_column(Boolean, default=False)  # staff cards only
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CheckinCode(BusinessRow, CheckinBase):
    """A plain code (barcode on a voucher, a list of guests): admits people on some lists."""

    __tablename__ = "checkin_codes"
    __table_args__ = (CheckConstraint(_in("state", CODE_STATES), name="state"),
                      CheckConstraint("admits >= 1", name="admits"))

    code: Mapped[str] = mapped_column(String(64), unique=True)
    lists: Mapped[str] = mapped_column(Text, default="*")
    admits: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    state: Mapped[str] = mapped_column(String(8), default="valid")
    note: Mapped[str] = mapped_column(Text, default="")


class CheckinUsage(CheckinBase):
    """What one credential has used on one list; locked while a scan of it is decided."""

    __tablename__ = "checkin_usage"
    __table_args__ = (CheckConstraint("admitted >= 0 AND reserved >= 0 AND exited >= 0 AND inside >= 0",
                                      name="counts"),)

    list_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    credential: Mapped[str] = mapped_column(String(96), primary_key=True)
    admitted: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)  # authorised, not passed yet
    exited: Mapped[int] = mapped_column(Integer, default=0)
    inside: Mapped[int] = mapped_column(Integer, default=0)
    day: Mapped[dt.date | None] = mapped_column(Date, default=None)  # venue-local day of day_admitted
    day_admitted: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    last_channel: Mapped[str] = mapped_column(String(32), default="")


class CheckinEntry(BusinessRow, CheckinBase):
    """One scan and what came of it: refused, or people authorised and how many passed."""

    __tablename__ = "checkin_entries"
    __table_args__ = (
        CheckConstraint(_in("state", ENTRY_STATES), name="state"),
        CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        CheckConstraint("passed >= 0 AND passed <= authorised", name="passed"),
        Index("ix_checkin_entries_list_decided", "list_code", "decided_at"),
        Index("ix_checkin_entries_credential", "credential"),
    )

    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    list_code: Mapped[str] = mapped_column(String(32))
    channel_code: Mapped[str] = mapped_column(String(32), index=True)
    venue_code: Mapped[str] = mapped_column(String(32), default="")
    direction: Mapped[str] = mapped_column(String(3), default="in")
    kind: Mapped[str] = mapped_column(String(8))  # ticket | card | code | manual | free
    credential: Mapped[str] = mapped_column(String(96), default="")
    label: Mapped[str] = mapped_column(String(96), default="")
    reason: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(10))
    authorised: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    session_ref: Mapped[str] = mapped_column(String(64), default="")
    ticket_type: Mapped[str] = mapped_column(String(32), default="")
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    terminal_code: Mapped[str] = mapped_column(String(32), default="")
    operator: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckinConflict(BusinessRow, CheckinBase):
    """An offline admission the central rules would have refused (one ticket at two gates)."""

    __tablename__ = "checkin_conflicts"

    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    list_code: Mapped[str] = mapped_column(String(32))
    channel_code: Mapped[str] = mapped_column(String(32))
    credential: Mapped[str] = mapped_column(String(96))
    label: Mapped[str] = mapped_column(String(96), default="")
    reason: Mapped[str] = mapped_column(String(16))
    passed: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))
    terminal_code: Mapped[str] = mapped_column(String(32), default="")
    details: Mapped[str] = mapped_column(Text, default="")


__all__ = ["CODE_STATES", "DIRECTIONS", "ENTRY_MODES", "ENTRY_STATES", "CheckinBase", "CheckinChannel", "CheckinCode",
           "CheckinConflict", "CheckinEntry", "CheckinList", "CheckinUsage"]
