"""Users and their roles as a report (a few hundred rows: produced in Python)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select

from suite.db.core_models import Venue
from suite.i18n import N_
from suite.identity.models import Role, User, UserRole
from suite.reporting.spec import Column, ColumnKind, Param, ParamKind, ReportContext, ReportSpec

STATUS_ALL = "all"


def _rows(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    session = ctx.session
    venues: dict[Any, str] = {venue_id: code for venue_id, code in session.execute(select(Venue.id, Venue.code))}
    roles: dict[Any, list[str]] = {}
    for user_id, code, venue_ref in session.execute(
            select(UserRole.user_id, Role.code, UserRole.venue_ref).join(Role, Role.id == UserRole.role_id)
            .order_by(Role.code)):
        roles.setdefault(user_id, []).append(code if venue_ref is None else f"{code}@{venues.get(venue_ref, venue_ref)}")
    query = select(User.id, User.username, User.display_name, User.active, User.operator_card_uid,
                   User.last_login_at, User.locked_until).order_by(User.username)
    status = params.get("status") or STATUS_ALL
    if status != STATUS_ALL:
        query = query.where(User.active.is_(status == "active"))
    for user_id, username, name, active, card, last_login, locked in session.execute(query):
        yield (username, name, bool(active), ", ".join(roles.get(user_id, ())), card, last_login, locked)


USERS_ROLES = ReportSpec(
    id="core.users_roles",
    title=N_("Users and roles"),
    description=N_("Every user with their roles (role@venue for a role held at one venue only)."),
    columns=(
        Column("username", N_("User name"), width=16),
        Column("display_name", N_("Name"), width=20),
        Column("active", N_("Active"), ColumnKind.BOOL, width=8),
        Column("roles", N_("Roles"), width=36),
        Column("operator_card", N_("Operator card"), width=14),
        Column("last_login", N_("Last login"), ColumnKind.DATETIME, width=17),
        Column("locked_until", N_("Locked until"), ColumnKind.DATETIME, width=17),
    ),
    params=(
        Param("status", N_("Status"), ParamKind.CHOICE, default=STATUS_ALL,
              choices=((STATUS_ALL, N_("All")), ("active", N_("Active")), ("disabled", N_("Disabled")))),
    ),
    rows=_rows,
)

__all__ = ["USERS_ROLES"]
