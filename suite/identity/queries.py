"""Reads the identity service shares: lookups that raise ``NotFound``, effective permissions."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from suite.errors import NotFound
from suite.i18n import _
from suite.identity.actor import ALL_PERMISSIONS
from suite.identity.models import PermissionRecord, Role, RolePermission, User, UserRole
from suite.identity.roles import SYSTEM_ADMIN
from suite.identity.views import RoleAssignment, RoleInfo, UserInfo


def find_user(session: Session, username: str, *, lock: bool = False) -> User | None:
    query = select(User).where(User.username == username)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def user_by_name(session: Session, username: str, *, lock: bool = False) -> User:
    user = find_user(session, username, lock=lock)
    if user is None:
        raise NotFound(_("There is no user {name}.").format(name=username))
    return user


def role_by_code(session: Session, code: str) -> Role:
    role = session.scalars(select(Role).where(Role.code == code)).one_or_none()
    if role is None:
        raise NotFound(_("There is no role {code}.").format(code=code))
    return role


def role_permissions(session: Session, role: Role) -> frozenset[str]:
    if role.code == SYSTEM_ADMIN:
        return frozenset({ALL_PERMISSIONS})
    return frozenset(session.scalars(select(RolePermission.permission).where(RolePermission.role_id == role.id)))


def permissions_of(session: Session, user_id: uuid.UUID, venue_id: uuid.UUID | None) -> frozenset[str]:
    """The union over the user's roles that hold here: assignments without a venue, and those
    for ``venue_id``. The system administrator's role holds every permission."""
    applies: ColumnElement[bool] = UserRole.venue_ref.is_(None)
    if venue_id is not None:
        applies = or_(applies, UserRole.venue_ref == venue_id)
    roles = list(session.execute(select(Role.id, Role.code).join(UserRole, UserRole.role_id == Role.id)
                                 .where(UserRole.user_id == user_id, applies)))
    if any(code == SYSTEM_ADMIN for _id, code in roles):
        return frozenset({ALL_PERMISSIONS})
    if not roles:
        return frozenset()
    return frozenset(session.scalars(select(RolePermission.permission).where(
        RolePermission.role_id.in_([role_id for role_id, _code in roles]))))


def active_admin_ids(session: Session) -> set[uuid.UUID]:
    """Active users holding the system administrator role everywhere."""
    return set(session.scalars(
        select(User.id).join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)
        .where(Role.code == SYSTEM_ADMIN, UserRole.venue_ref.is_(None), User.active.is_(True))))


def permission_title(session: Session, permission: str) -> str:
    if permission == ALL_PERMISSIONS:
        return _("All permissions")
    title = session.scalar(select(PermissionRecord.title).where(PermissionRecord.code == permission))
    return _(title) if title else permission


def assignments_of(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[RoleAssignment, ...]]:
    found: dict[uuid.UUID, list[RoleAssignment]] = {uid: [] for uid in user_ids}
    rows = session.execute(select(UserRole.user_id, Role.code, UserRole.venue_ref)
                           .join(Role, Role.id == UserRole.role_id)
                           .where(UserRole.user_id.in_(user_ids)).order_by(Role.code))
    for user_id, code, venue in rows:
        found[user_id].append(RoleAssignment(code, venue))
    return {uid: tuple(items) for uid, items in found.items()}


def user_info(user: User, roles: tuple[RoleAssignment, ...]) -> UserInfo:
    return UserInfo(id=user.id, username=user.username, display_name=user.display_name, language=user.language,
                    active=user.active, operator_card_uid=user.operator_card_uid, failed_logins=user.failed_logins,
                    locked_until=user.locked_until, last_login_at=user.last_login_at, roles=roles)


def role_info(session: Session, role: Role) -> RoleInfo:
    return RoleInfo(code=role.code, name=_(role.name) if role.builtin else role.name, scope=role.scope,
                    builtin=role.builtin, permissions=tuple(sorted(role_permissions(session, role))))
