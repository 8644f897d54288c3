"""Users, roles, their permissions and assignments, and the permissions plugins declared.

All are chain-wide business rows that terminals download; ``venue_id``/``terminal_id`` say
where a row was made, as everywhere. So a role assignment's own venue is ``venue_ref`` (null:
every venue), like ``Terminal.venue_ref``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from suite.db import core_models  # noqa: F401  (venues, which user_roles refers to)
from suite.db.base import Base, BusinessRow


class User(BusinessRow, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("language IN ('zh_CN', 'en')", name="language"),
                      CheckConstraint("failed_logins >= 0", name="failed_logins"))

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="zh_CN")
    # the operator card's UID, upper-case hex
    operator_card_uid: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Role(BusinessRow, Base):
    __tablename__ = "roles"
    __table_args__ = (CheckConstraint("scope IN ('chain', 'venue')", name="scope"),)

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(8))
    builtin: Mapped[bool] = mapped_column(default=False)


class RolePermission(BusinessRow, Base):
    __tablename__ = "role_permissions"
    __table_args__ = (UniqueConstraint("role_id", "permission"),)

    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))
    permission: Mapped[str] = mapped_column(String(128))


class UserRole(BusinessRow, Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role_id", "venue_ref"),
        # NULLs differ from each other in a unique constraint: one chain-wide assignment only
        Index("uq_user_roles_chain_wide", "user_id", "role_id", unique=True,
              sqlite_where=text("venue_ref IS NULL"), postgresql_where=text("venue_ref IS NULL")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))
    venue_ref: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("venues.id"), default=None)


class PermissionRecord(BusinessRow, Base):
    """A permission some plugin declared; its default grants were applied when first seen,
    so an administrator's later revocation is not undone at the next start."""

    __tablename__ = "permissions"

    code: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(200))
