"""Bringing the roles up to date with the permissions plugins declare (run at every start).

A permission's ``default_roles`` are granted once, when the permission is first seen (or
when one of those roles is first created); a later start never re-grants what an
administrator revoked and never removes what one granted.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.declarations import Permission
from suite.identity.actor import SYSTEM_USERNAME
from suite.identity.models import PermissionRecord, Role, RolePermission
from suite.identity.roles import DEFAULT_ROLES, SYSTEM_ADMIN
from suite.identity.views import RoleSyncReport


def _merge(permissions: Iterable[Permission]) -> dict[str, tuple[str, tuple[str, ...]]]:
    merged: dict[str, tuple[str, tuple[str, ...]]] = {}
    for permission in permissions:
        title, roles = merged.get(permission.id, (permission.title, ()))
        merged[permission.id] = (permission.title or title, tuple(dict.fromkeys((*roles, *permission.default_roles))))
    return merged


def sync_roles(session: Session, permissions: Iterable[Permission]) -> RoleSyncReport:
    declared = _merge(permissions)
    roles = {role.code: role for role in session.scalars(select(Role))}
    created: list[str] = []
    for default in DEFAULT_ROLES:
        if default.code not in roles:
            new_role = Role(code=default.code, name=default.name, scope=default.scope, builtin=True)
            session.add(new_role)
            roles[default.code] = new_role
            created.append(default.code)
    session.flush()

    known = {record_.code: record_ for record_ in session.scalars(select(PermissionRecord))}
    grants = {(role_id, code) for role_id, code in session.execute(
        select(RolePermission.role_id, RolePermission.permission))}
    new_permissions: list[str] = []
    granted: list[tuple[str, str]] = []
    unknown: set[str] = set()
    for code, (title, default_roles) in sorted(declared.items()):
        first_seen = code not in known
        if first_seen:
            session.add(PermissionRecord(code=code, title=title))
            new_permissions.append(code)
        elif known[code].title != title:
            known[code].title = title
        for role_code in default_roles:
            role = roles.get(role_code)
            if role is None:
                unknown.add(role_code)
                continue
            if role_code == SYSTEM_ADMIN or not (first_seen or role_code in created):
                continue
            if (role.id, code) not in grants:
                session.add(RolePermission(role_id=role.id, permission=code))
                grants.add((role.id, code))
                granted.append((role_code, code))
    report = RoleSyncReport(created_roles=tuple(created), new_permissions=tuple(new_permissions),
                            granted=tuple(granted), unknown_roles=tuple(sorted(unknown)))
    if report.changed:
        record(session, kind="operation", action="roles.sync", actor=SYSTEM_USERNAME, target="",
               details={"created_roles": report.created_roles, "new_permissions": report.new_permissions,
                        "granted": [f"{r}:{p}" for r, p in report.granted]})
    session.flush()
    return report
