"""Logging in by password or operator card, with lockout, every outcome in the security log.

A wrong password never says whether the user exists (an unknown name costs the same hash
check). The ``threshold``-th failure in a row locks the account for ``duration``; while
locked even the right password is refused. The counter, the lock and the audit event commit
together before the error is raised.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.db.uow import UnitOfWorkFactory
from suite.errors import AccountLocked, AuthenticationFailed, InvalidInput
from suite.i18n import _
from suite.identity import validation
from suite.identity.actor import Actor
from suite.identity.models import User
from suite.identity.passwords import hash_password, needs_rehash, verify_password
from suite.identity.queries import find_user, permissions_of

PASSWORD = "password"
CARD = "card"


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 10
    duration: dt.timedelta = dt.timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.duration <= dt.timedelta(0):
            raise ValueError("lockout threshold and duration must be positive")


def wrong_credentials() -> AuthenticationFailed:
    return AuthenticationFailed(_("Wrong username or password"))


def locked(until: dt.datetime) -> AccountLocked:
    local = until.astimezone().strftime("%Y-%m-%d %H:%M")
    return AccountLocked(_("Too many failed logins: this account is locked until {time}.").format(time=local),
                         locked_until=until.isoformat())


def build_actor(session: Session, user: User, venue_id: uuid.UUID | None,
                terminal_id: uuid.UUID | None) -> Actor:
    return Actor(user_id=user.id, username=user.username, display_name=user.display_name or user.username,
                 permissions=permissions_of(session, user.id, venue_id), venue_id=venue_id,
                 terminal_id=terminal_id, language=user.language)


@dataclass
class _Attempt:
    session: Session
    method: str
    venue_id: uuid.UUID | None
    terminal_id: uuid.UUID | None

    def log(self, action: str, actor: str, target: str, **details: Any) -> None:
        record(self.session, kind="security", action=action, actor=actor or "?", target=target,
               details={"method": self.method, **details}, venue_id=self.venue_id, terminal_id=self.terminal_id)


class Login:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, policy: LockoutPolicy,
                 clock: Callable[[], dt.datetime], hasher: PasswordHasher) -> None:
        self._uow = uow_factory
        self._policy = policy
        self._clock = clock
        self._hasher = hasher
        self._dummy_hash: str | None = None

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = hash_password("not-a-real-password", hasher=self._hasher)
        return self._dummy_hash

    def with_password(self, username: str, password: str, *, venue_id: uuid.UUID | None = None,
                      terminal_id: uuid.UUID | None = None) -> Actor:
        name = validation.login_name(username)
        with self._uow() as uow:
            attempt = _Attempt(uow.session, PASSWORD, venue_id, terminal_id)
            user = find_user(uow.session, name, lock=True) if name else None
            if user is None:
                verify_password(self._dummy(), password, hasher=self._hasher)
                attempt.log("login.failed", name, name, reason="unknown_user")
                outcome: Actor | AuthenticationFailed = wrong_credentials()
            else:
                outcome = self._settle(attempt, user, lambda: verify_password(
                    user.password_hash, password, hasher=self._hasher), password)
            uow.commit()
        if isinstance(outcome, AuthenticationFailed):
            raise outcome
        return outcome

    def with_card(self, card_uid: str, *, venue_id: uuid.UUID | None = None,
                  terminal_id: uuid.UUID | None = None) -> Actor:
        try:
            uid = validation.card_uid(card_uid)
        except InvalidInput:
            uid = ""
        with self._uow() as uow:
            attempt = _Attempt(uow.session, CARD, venue_id, terminal_id)
            user = uow.session.scalars(select(User).where(User.operator_card_uid == uid).with_for_update()
                                       ).one_or_none() if uid else None
            if user is None:
                attempt.log("login.failed", "?", uid or str(card_uid)[:64], reason="unknown_card")
                outcome: Actor | AuthenticationFailed = AuthenticationFailed(
                    _("This card is not an operator card."))
            else:
                outcome = self._settle(attempt, user, lambda: True, None)
            uow.commit()
        if isinstance(outcome, AuthenticationFailed):
            raise outcome
        return outcome

    def _settle(self, attempt: _Attempt, user: User, check: Callable[[], bool],
                password: str | None) -> Actor | AuthenticationFailed:
        now = self._clock()
        if user.locked_until is not None:
            if user.locked_until > now:
                attempt.log("login.failed", user.username, user.username, reason="locked",
                            locked_until=user.locked_until)
                return locked(user.locked_until)
            user.locked_until, user.failed_logins = None, 0  # the lock ran out: a fresh start
        if not check():
            user.failed_logins += 1
            attempt.log("login.failed", user.username, user.username, reason="wrong_password",
                        failed_logins=user.failed_logins)
            if user.failed_logins >= self._policy.threshold:
                user.locked_until = now + self._policy.duration
                attempt.log("account.locked", user.username, user.username, failed_logins=user.failed_logins,
                            locked_until=user.locked_until)
                return locked(user.locked_until)
            return wrong_credentials()
        if not user.active:
            attempt.log("login.failed", user.username, user.username, reason="disabled")
            return AuthenticationFailed(_("This account is disabled. Ask an administrator."))
        user.failed_logins, user.last_login_at = 0, now
        if password is not None and needs_rehash(user.password_hash, hasher=self._hasher):
            user.password_hash = hash_password(password, hasher=self._hasher)
        attempt.log("login.succeeded", user.username, user.username)
        return build_actor(attempt.session, user, attempt.venue_id, attempt.terminal_id)
