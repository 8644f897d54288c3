"""Identity use cases: users, roles, grants, login and permission checks (feature H4).

Administration needs ``admin.users`` (users and their role assignments) or ``admin.roles``
(roles and their grants); both ids are declared by the host's core plugin. Nobody can hand
out a permission they do not hold themselves, and the last active system administrator
cannot be disabled or demoted. Every change is an operation event in the audit log, written
in the same transaction; every login outcome and denied permission is a security event.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from argon2 import PasswordHasher
from sqlalchemy import CursorResult, Delete, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.db.base import utcnow
from suite.db.core_models import Venue
from suite.db.uow import UnitOfWorkFactory
from suite.declarations import Permission
from suite.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied, SuiteError
from suite.i18n import _
from suite.identity import queries, validation
from suite.identity.actor import Actor
from suite.identity.login import LockoutPolicy, Login, build_actor
from suite.identity.models import PermissionRecord, Role, RolePermission, User, UserRole
from suite.identity.passwords import check_password_policy, default_hasher, hash_password
from suite.identity.role_sync import sync_roles
from suite.identity.roles import SCOPES, SYSTEM_ADMIN, VENUE, scope_title
from suite.identity.views import PermissionInfo, RoleInfo, RoleSyncReport, UserInfo

ADMIN_USERS = "admin.users"
ADMIN_ROLES = "admin.roles"

log = logging.getLogger(__name__)


def _origin(actor: Actor) -> dict[str, uuid.UUID | None]:
    """Where a row is made (``BusinessRow.venue_id``/``terminal_id``): the actor's place."""
    return {"venue_id": actor.venue_id, "terminal_id": actor.terminal_id}


def _rowcount(session: Session, statement: Delete) -> int:
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


class _MissingPermission(Exception):
    """Found inside a transaction; denied (and audited) once the transaction is closed."""

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.permission = permission


class IdentityService:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, lockout_threshold: int = 10, lockout_minutes: int = 30,
                 clock: Callable[[], dt.datetime] = utcnow, hasher: PasswordHasher | None = None) -> None:
        self._uow = uow_factory
        self._hasher = hasher or default_hasher()
        self._login = Login(uow_factory, policy=LockoutPolicy(lockout_threshold, dt.timedelta(minutes=lockout_minutes)),
                            clock=clock, hasher=self._hasher)

    # -- permission checks -------------------------------------------------------------

    def require(self, actor: Actor, permission: str) -> None:
        """Return if ``actor`` holds ``permission``; otherwise write ``permission.denied`` to the
        security log in a transaction of its own (it stays when the caller's work rolls back)
        and raise ``PermissionDenied``. Call it before opening the caller's unit of work: on
        SQLite a thread holding a write transaction would wait for itself."""
        if not actor.has(permission):
            self._deny(actor, permission)

    def _deny(self, actor: Actor, permission: str) -> None:
        title = permission
        try:
            with self._uow() as uow:
                title = queries.permission_title(uow.session, permission)
                record(uow.session, kind="security", action="permission.denied", actor=actor.username,
                       target=permission, details={"title": title}, venue_id=actor.venue_id,
                       terminal_id=actor.terminal_id)
                uow.commit()
        except (SQLAlchemyError, SuiteError):  # the refusal matters more than its record
            log.exception("could not write permission.denied for %s / %s", actor.username, permission)
        raise PermissionDenied(_("You do not have permission: {title}").format(title=title), permission=permission)

    @contextmanager
    def _admin(self, actor: Actor, permission: str) -> Iterator[Session]:
        """A write transaction for an administrator holding ``permission``; commits when the
        block ends without error, and turns a ``_MissingPermission`` into an audited denial."""
        self.require(actor, permission)
        missing: str | None = None
        try:
            with self._uow() as uow:
                yield uow.session
                uow.commit()
        except _MissingPermission as exc:
            missing = exc.permission
        if missing is not None:
            self._deny(actor, missing)

    @staticmethod
    def _audit(session: Session, actor: Actor, action: str, target: str, **details: Any) -> None:
        record(session, kind="operation", action=action, actor=actor.username, target=target, details=details,
               venue_id=actor.venue_id, terminal_id=actor.terminal_id)

    @staticmethod
    def _check_can_give(session: Session, actor: Actor, role: Role) -> None:
        for permission in sorted(queries.role_permissions(session, role)):
            if not actor.has(permission):
                raise _MissingPermission(permission)

    # -- roles at start-up -------------------------------------------------------------

    def sync_roles(self, permissions: Iterable[Permission]) -> RoleSyncReport:
        """Create missing default roles and grant newly declared permissions to their default
        roles. Idempotent; run by the host at every start with every plugin's permissions."""
        declared = list(permissions)
        for attempt in range(3):
            try:
                with self._uow() as uow:
                    report = sync_roles(uow.session, declared)
                    uow.commit()
                return report
            except IntegrityError:  # another terminal synced at the same moment: look again
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- login -------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, *, venue_id: uuid.UUID | None = None,
                     terminal_id: uuid.UUID | None = None) -> Actor:
        return self._login.with_password(username, password, venue_id=venue_id, terminal_id=terminal_id)

    def authenticate_card(self, card_uid: str, *, venue_id: uuid.UUID | None = None,
                          terminal_id: uuid.UUID | None = None) -> Actor:
        return self._login.with_card(card_uid, venue_id=venue_id, terminal_id=terminal_id)

    def actor_for(self, username: str, *, venue_id: uuid.UUID | None = None,
                  terminal_id: uuid.UUID | None = None) -> Actor:
        """The actor for a user without a login (a trusted caller: session restore, tools)."""
        with self._uow.read() as uow:
            user = queries.user_by_name(uow.session, validation.login_name(username))
            if not user.active:
                raise AuthenticationFailed(_("This account is disabled. Ask an administrator."))
            return build_actor(uow.session, user, venue_id, terminal_id)

    def change_password(self, actor: Actor, old_password: str, new_password: str) -> None:
        """An operator changing their own password (the old one is checked like a login)."""
        if actor.user_id is None:
            raise InvalidInput(_("Only a user can change their own password."))
        check_password_policy(new_password, username=actor.username)
        self.authenticate(actor.username, old_password, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
        new_hash = hash_password(new_password, hasher=self._hasher)
        with self._uow() as uow:
            user = queries.user_by_name(uow.session, actor.username, lock=True)
            user.password_hash = new_hash
            self._audit(uow.session, actor, "user.password.change", user.username)
            uow.commit()

    # -- users -------------------------------------------------------------------------

    def create_user(self, actor: Actor, *, username: str, password: str, display_name: str = "",
                    language: str = "zh_CN", roles: Iterable[str] = (),
                    venue_id: uuid.UUID | None = None) -> UserInfo:
        self.require(actor, ADMIN_USERS)
        name = validation.username(username)
        check_password_policy(password, username=name)
        lang = validation.language(language)
        shown = validation.display_name(display_name) or name
        role_codes = tuple(dict.fromkeys(roles))
        password_hash = hash_password(password, hasher=self._hasher)  # slow: before the transaction
        try:
            with self._admin(actor, ADMIN_USERS) as session:
                if queries.find_user(session, name) is not None:
                    raise Conflict(_("A user named {name} already exists.").format(name=name))
                user = User(username=name, display_name=shown, password_hash=password_hash, language=lang,
                            **_origin(actor))
                session.add(user)
                session.flush()
                for code in role_codes:
                    self._assign(session, actor, user, queries.role_by_code(session, code), venue_id)
                self._audit(session, actor, "user.create", name, display_name=shown, language=lang,
                            roles=list(role_codes), venue_id=venue_id)
                info = queries.user_info(user, queries.assignments_of(session, [user.id])[user.id])
        except IntegrityError:
            raise Conflict(_("A user named {name} already exists.").format(name=name)) from None
        return info

    def set_password(self, actor: Actor, username: str, password: str) -> None:
        """An administrator setting a new password; it also lifts a lockout."""
        self.require(actor, ADMIN_USERS)
        name = validation.login_name(username)
        check_password_policy(password, username=name)
        password_hash = hash_password(password, hasher=self._hasher)
        with self._admin(actor, ADMIN_USERS) as session:
            user = queries.user_by_name(session, name, lock=True)
            user.password_hash, user.failed_logins, user.locked_until = password_hash, 0, None
            self._audit(session, actor, "user.password.set", user.username)

    def set_active(self, actor: Actor, username: str, active: bool) -> None:
        with self._admin(actor, ADMIN_USERS) as session:
            user = queries.user_by_name(session, validation.login_name(username), lock=True)
            if user.active == active:
                return
            if not active:
                self._keep_an_admin(session, user.id)
            user.active = active
            self._audit(session, actor, "user.enable" if active else "user.disable", user.username)

    def unlock(self, actor: Actor, username: str) -> None:
        with self._admin(actor, ADMIN_USERS) as session:
            user = queries.user_by_name(session, validation.login_name(username), lock=True)
            user.failed_logins, user.locked_until = 0, None
            self._audit(session, actor, "user.unlock", user.username)

    def bind_card(self, actor: Actor, username: str, card_uid: str | None) -> None:
        """Make ``card_uid`` the user's operator card; ``None`` unbinds it."""
        uid = validation.card_uid(card_uid) if card_uid is not None else None
        try:
            with self._admin(actor, ADMIN_USERS) as session:
                user = queries.user_by_name(session, validation.login_name(username), lock=True)
                if uid is not None:
                    holder = session.scalar(select(User.username).where(User.operator_card_uid == uid,
                                                                         User.id != user.id))
                    if holder is not None:
                        raise Conflict(_("This card is already the operator card of {user}.").format(user=holder))
                previous, user.operator_card_uid = user.operator_card_uid, uid
                self._audit(session, actor, "user.card.bind" if uid else "user.card.unbind", user.username,
                            card_uid=uid, previous=previous)
        except IntegrityError:
            raise Conflict(_("This card is already the operator card of another user.")) from None

    def assign_role(self, actor: Actor, username: str, role_code: str, venue_id: uuid.UUID | None = None) -> bool:
        """Give a role (in one venue, or everywhere); False when the user already had it."""
        with self._admin(actor, ADMIN_USERS) as session:
            user = queries.user_by_name(session, validation.login_name(username))
            added = self._assign(session, actor, user, queries.role_by_code(session, role_code), venue_id)
            if added:
                self._audit(session, actor, "user.role.assign", user.username, role=role_code, venue_id=venue_id)
        return added

    def revoke_role(self, actor: Actor, username: str, role_code: str, venue_id: uuid.UUID | None = None) -> bool:
        """Take a role away; False when the user did not have it (there)."""
        with self._admin(actor, ADMIN_USERS) as session:
            user = queries.user_by_name(session, validation.login_name(username))
            role = queries.role_by_code(session, role_code)
            if role.code == SYSTEM_ADMIN and venue_id is None:
                self._keep_an_admin(session, user.id)
            venue_match = UserRole.venue_ref.is_(None) if venue_id is None else UserRole.venue_ref == venue_id
            removed = _rowcount(session, delete(UserRole).where(
                UserRole.user_id == user.id, UserRole.role_id == role.id, venue_match))
            if removed:
                self._audit(session, actor, "user.role.revoke", user.username, role=role.code, venue_id=venue_id)
        return bool(removed)

    def _assign(self, session: Session, actor: Actor, user: User, role: Role, venue_id: uuid.UUID | None) -> bool:
        self._check_can_give(session, actor, role)
        if venue_id is not None:
            if role.scope != VENUE:
                raise InvalidInput(_("{role} is a {scope} role: assign it without a venue.").format(
                    role=role.code, scope=scope_title(role.scope)))
            if session.get(Venue, venue_id) is None:
                raise NotFound(_("There is no such venue."))
        venue_match = UserRole.venue_ref.is_(None) if venue_id is None else UserRole.venue_ref == venue_id
        exists = session.scalar(select(UserRole.id).where(UserRole.user_id == user.id, UserRole.role_id == role.id,
                                                          venue_match))
        if exists is not None:
            return False
        session.add(UserRole(user_id=user.id, role_id=role.id, venue_ref=venue_id, **_origin(actor)))
        session.flush()
        return True

    @staticmethod
    def _keep_an_admin(session: Session, leaving: uuid.UUID) -> None:
        admins = queries.active_admin_ids(session)
        if admins == {leaving}:
            raise Conflict(_("At least one active system administrator must remain."))

    def list_users(self, actor: Actor) -> list[UserInfo]:
        self.require(actor, ADMIN_USERS)
        with self._uow.read() as uow:
            users = list(uow.session.scalars(select(User).order_by(User.username)))
            roles = queries.assignments_of(uow.session, [u.id for u in users])
            return [queries.user_info(u, roles[u.id]) for u in users]

    # -- roles and grants --------------------------------------------------------------

    def create_role(self, actor: Actor, code: str, name: str, scope: str) -> RoleInfo:
        role_code = validation.role_code(code)
        shown = validation.display_name(name) or role_code
        if scope not in SCOPES:
            raise InvalidInput(_("A role's scope is one of: {names}.").format(names=", ".join(SCOPES)))
        try:
            with self._admin(actor, ADMIN_ROLES) as session:
                if session.scalar(select(Role.id).where(Role.code == role_code)) is not None:
                    raise Conflict(_("A role {code} already exists.").format(code=role_code))
                role = Role(code=role_code, name=shown, scope=scope, builtin=False, **_origin(actor))
                session.add(role)
                session.flush()
                self._audit(session, actor, "role.create", role_code, name=shown, scope=scope)
                info = queries.role_info(session, role)
        except IntegrityError:
            raise Conflict(_("A role {code} already exists.").format(code=role_code)) from None
        return info

    def grant(self, actor: Actor, role_code: str, permission: str) -> bool:
        """Grant ``permission`` (declared by some plugin) to a role; False if it had it."""
        with self._admin(actor, ADMIN_ROLES) as session:
            role = queries.role_by_code(session, role_code)
            if session.scalar(select(PermissionRecord.id).where(PermissionRecord.code == permission)) is None:
                raise InvalidInput(_("There is no permission {id}.").format(id=permission))
            if not actor.has(permission):
                raise _MissingPermission(permission)
            if role.code == SYSTEM_ADMIN or permission in queries.role_permissions(session, role):
                return False
            session.add(RolePermission(role_id=role.id, permission=permission, **_origin(actor)))
            self._audit(session, actor, "role.grant", role.code, permission=permission)
        return True

    def revoke(self, actor: Actor, role_code: str, permission: str) -> bool:
        """Take ``permission`` from a role; False if it did not have it."""
        with self._admin(actor, ADMIN_ROLES) as session:
            role = queries.role_by_code(session, role_code)
            if role.code == SYSTEM_ADMIN:
                raise InvalidInput(_("The system administrator always holds every permission."))
            removed = _rowcount(session, delete(RolePermission).where(
                RolePermission.role_id == role.id, RolePermission.permission == permission))
            if removed:
                self._audit(session, actor, "role.revoke", role.code, permission=permission)
        return bool(removed)

    def list_roles(self, actor: Actor) -> list[RoleInfo]:
        if not actor.has(ADMIN_USERS):
            self.require(actor, ADMIN_ROLES)
        with self._uow.read() as uow:
            return [queries.role_info(uow.session, role)
                    for role in uow.session.scalars(select(Role).order_by(Role.scope, Role.code))]

    def list_permissions(self, actor: Actor) -> list[PermissionInfo]:
        if not actor.has(ADMIN_USERS):
            self.require(actor, ADMIN_ROLES)
        with self._uow.read() as uow:
            return [PermissionInfo(p.code, _(p.title))
                    for p in uow.session.scalars(select(PermissionRecord).order_by(PermissionRecord.code))]
