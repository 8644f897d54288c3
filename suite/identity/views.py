"""What the identity service hands out: plain values, never rows (no password hashes)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class RoleAssignment:
    role_code: str
    venue_id: uuid.UUID | None  # None: every venue

    def __str__(self) -> str:
        return self.role_code if self.venue_id is None else f"{self.role_code}@{self.venue_id}"


@dataclass(frozen=True)
class UserInfo:
    id: uuid.UUID
    username: str
    display_name: str
    language: str
    active: bool
    operator_card_uid: str | None
    failed_logins: int
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    roles: tuple[RoleAssignment, ...]


@dataclass(frozen=True)
class RoleInfo:
    code: str
    name: str  # translated for built-in roles
    scope: str
    builtin: bool
    permissions: tuple[str, ...]  # ("*",) for the system administrator


@dataclass(frozen=True)
class PermissionInfo:
    code: str
    title: str


@dataclass(frozen=True)
class RoleSyncReport:
    """What ``sync_roles`` changed; ``unknown_roles`` are codes in ``default_roles`` that name
    no role (a plugin's typo, or a role an administrator has not created)."""

    created_roles: tuple[str, ...]
    new_permissions: tuple[str, ...]
    granted: tuple[tuple[str, str], ...]
    unknown_roles: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.created_roles or self.new_permissions or self.granted)
