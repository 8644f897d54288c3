"""Users, roles, permissions, password hashing, lockout and operator cards (feature H4)."""

from __future__ import annotations

from suite.identity.actor import ALL_PERMISSIONS, Actor
from suite.identity.service import ADMIN_ROLES, ADMIN_USERS, IdentityService
from suite.identity.views import PermissionInfo, RoleAssignment, RoleInfo, RoleSyncReport, UserInfo

__all__ = ["ADMIN_ROLES", "ADMIN_USERS", "ALL_PERMISSIONS", "Actor", "IdentityService", "PermissionInfo",
           "RoleAssignment", "RoleInfo", "RoleSyncReport", "UserInfo"]
