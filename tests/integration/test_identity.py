"""Users, roles, login, lockout, operator cards and permission checks on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from suite.audit import AuditEvent, verify
from suite.db.core_models import Venue
from suite.declarations import Permission
from suite.errors import AccountLocked, AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from suite.identity import ALL_PERMISSIONS, Actor, IdentityService
from suite.identity.models import Role, RolePermission, User
from suite.identity.passwords import OWASP_MINIMUM, Argon2Parameters, make_hasher
from suite.identity.roles import DEFAULT_ROLES

PASSWORD = "s3cret-pass"
PERMISSIONS = (
    Permission("admin.users", "Manage users", ("system_admin",)),
    Permission("admin.roles", "Manage roles", ("system_admin",)),
    Permission("wallet.topup", "Top up cards", ("operator", "salesperson")),
    Permission("report.view", "View reports", ("statistician", "local_statistician", "manager")),
    Permission("gate.open", "Open a gate once", ("gate_attendant", "manager")),
)
FAST = make_hasher(OWASP_MINIMUM)  # the OWASP minimum: compliant, and quick enough for tests


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def identity(uow_factory, clock: Clock) -> IdentityService:
    service = IdentityService(uow_factory, lockout_threshold=10, lockout_minutes=30, clock=clock, hasher=FAST)
    service.sync_roles(PERMISSIONS)
    return service


@pytest.fixture
def admin() -> Actor:
    return Actor.system("tests")


def _events(uow_factory, action: str | None = None) -> list[dict[str, Any]]:
    with uow_factory.read() as uow:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if action:
            query = query.where(AuditEvent.action == action)
        return [{"kind": e.kind, "action": e.action, "actor": e.actor, "target": e.target, **e.details_dict}
                for e in uow.session.scalars(query)]


def _user(uow_factory, username: str) -> dict[str, Any]:
    with uow_factory.read() as uow:
        user = uow.session.scalars(select(User).where(User.username == username)).one()
        return {"failed_logins": user.failed_logins, "locked_until": user.locked_until,
                "last_login_at": user.last_login_at, "password_hash": user.password_hash}


def _venue(uow_factory, code: str):
    with uow_factory() as uow:
        venue = Venue(code=code, name=code)
        uow.session.add(venue)
        uow.commit()
        return venue.id


# -- login --------------------------------------------------------------------------------

def test_good_login_returns_the_users_permissions(identity, admin, uow_factory, clock) -> None:
    identity.create_user(admin, username="Alice", password=PASSWORD, display_name="爱丽丝", language="en",
                         roles=["salesperson"])
    actor = identity.authenticate(" alice ", PASSWORD)
    assert (actor.username, actor.display_name, actor.language, actor.is_system) == ("alice", "爱丽丝", "en", False)
    assert actor.user_id is not None
    assert actor.has("wallet.topup") and not actor.has("admin.users") and not actor.has("report.view")
    assert _user(uow_factory, "alice")["last_login_at"] == clock.now
    assert [(e["kind"], e["target"], e["method"]) for e in _events(uow_factory, "login.succeeded")] == [
        ("security", "alice", "password")]


def test_wrong_password_does_not_say_which_part_was_wrong(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="alice", password=PASSWORD)
    with pytest.raises(AuthenticationFailed) as wrong_password:
        identity.authenticate("alice", "not-the-password")
    with pytest.raises(AuthenticationFailed) as unknown_user:
        identity.authenticate("nobody", PASSWORD)
    assert str(wrong_password.value) == str(unknown_user.value) == "Wrong username or password"
    assert type(wrong_password.value) is type(unknown_user.value) is AuthenticationFailed
    assert _user(uow_factory, "alice")["failed_logins"] == 1
    failures = _events(uow_factory, "login.failed")
    assert [(e["target"], e["reason"]) for e in failures] == [("alice", "wrong_password"), ("nobody", "unknown_user")]


def test_tenth_failure_locks_for_thirty_minutes(identity, admin, uow_factory, clock) -> None:
    identity.create_user(admin, username="bob", password=PASSWORD)
    for attempt in range(1, 10):
        with pytest.raises(AuthenticationFailed) as caught:
            identity.authenticate("bob", f"wrong-{attempt}")
        assert not isinstance(caught.value, AccountLocked)
    with pytest.raises(AccountLocked) as tenth:
        identity.authenticate("bob", "wrong-10")
    unlock = clock.now + dt.timedelta(minutes=30)
    assert _user(uow_factory, "bob")["locked_until"] == unlock
    assert unlock.astimezone().strftime("%Y-%m-%d %H:%M") in str(tenth.value)
    assert tenth.value.details["locked_until"] == unlock.isoformat()

    with pytest.raises(AccountLocked):  # the 11th attempt, with the right password
        identity.authenticate("bob", PASSWORD)
    clock.advance(minutes=29, seconds=59)
    with pytest.raises(AccountLocked):
        identity.authenticate("bob", PASSWORD)
    clock.advance(seconds=2)
    assert identity.authenticate("bob", PASSWORD).username == "bob"
    assert _user(uow_factory, "bob")["failed_logins"] == 0
    assert len(_events(uow_factory, "account.locked")) == 1
    reasons = [e["reason"] for e in _events(uow_factory, "login.failed")]
    assert reasons == ["wrong_password"] * 10 + ["locked", "locked"]


def test_an_expired_lock_gives_a_fresh_count(identity, admin, uow_factory, clock) -> None:
    identity.create_user(admin, username="bea", password=PASSWORD)
    for _ in range(10):
        with pytest.raises(AuthenticationFailed):
            identity.authenticate("bea", "wrong-password")
    clock.advance(minutes=31)
    with pytest.raises(AuthenticationFailed) as caught:
        identity.authenticate("bea", "wrong-password")
    assert not isinstance(caught.value, AccountLocked)
    assert _user(uow_factory, "bea")["failed_logins"] == 1


def test_success_resets_the_failure_count(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="carol", password=PASSWORD)
    for _ in range(9):
        with pytest.raises(AuthenticationFailed):
            identity.authenticate("carol", "wrong-password")
    identity.authenticate("carol", PASSWORD)
    assert _user(uow_factory, "carol")["failed_logins"] == 0
    with pytest.raises(AuthenticationFailed) as caught:
        identity.authenticate("carol", "wrong-password")
    assert not isinstance(caught.value, AccountLocked)


def test_admin_unlock_and_new_password_lift_a_lock(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="dan", password=PASSWORD)
    for _ in range(10):
        with pytest.raises(AuthenticationFailed):
            identity.authenticate("dan", "wrong-password")
    identity.unlock(admin, "dan")
    assert identity.authenticate("dan", PASSWORD).username == "dan"
    for _ in range(10):
        with pytest.raises(AuthenticationFailed):
            identity.authenticate("dan", "wrong-password")
    identity.set_password(admin, "dan", "brand-new-pass")
    assert identity.authenticate("dan", "brand-new-pass").username == "dan"
    with pytest.raises(AuthenticationFailed):
        identity.authenticate("dan", PASSWORD)


def test_disabled_user_is_refused(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="erin", password=PASSWORD)
    identity.set_active(admin, "erin", False)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        identity.authenticate("erin", PASSWORD)
    with pytest.raises(AuthenticationFailed) as wrong:
        identity.authenticate("erin", "wrong-password")
    assert str(wrong.value) == "Wrong username or password"  # no hint without the password
    with pytest.raises(AuthenticationFailed, match="disabled"):
        identity.actor_for("erin")
    identity.set_active(admin, "erin", True)
    assert identity.authenticate("erin", PASSWORD).username == "erin"
    assert [e["action"] for e in _events(uow_factory) if e["kind"] == "operation" and e["target"] == "erin"] == [
        "user.create", "user.disable", "user.enable"]


def test_operator_card_login(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="frank", password=PASSWORD, roles=["operator"])
    identity.create_user(admin, username="gina", password=PASSWORD)
    identity.bind_card(admin, "frank", "04:a2:b3:c4")
    actor = identity.authenticate_card("04A2B3C4")
    assert actor.username == "frank" and actor.has("wallet.topup")
    with pytest.raises(Conflict):
        identity.bind_card(admin, "gina", "04a2b3c4")
    with pytest.raises(InvalidInput):
        identity.bind_card(admin, "gina", "not-hex!")
    with pytest.raises(AuthenticationFailed, match="not an operator card"):
        identity.authenticate_card("DEADBEEF")
    identity.bind_card(admin, "frank", None)
    with pytest.raises(AuthenticationFailed):
        identity.authenticate_card("04A2B3C4")
    assert [(e["target"], e["method"]) for e in _events(uow_factory, "login.succeeded")] == [("frank", "card")]
    assert [e["reason"] for e in _events(uow_factory, "login.failed")] == ["unknown_card", "unknown_card"]


def test_locked_account_refuses_its_card_too(identity, admin) -> None:
    identity.create_user(admin, username="hank", password=PASSWORD)
    identity.bind_card(admin, "hank", "11223344")
    for _ in range(10):
        with pytest.raises(AuthenticationFailed):
            identity.authenticate("hank", "wrong-password")
    with pytest.raises(AccountLocked):
        identity.authenticate_card("11223344")


def test_login_upgrades_an_outdated_hash(identity, admin, uow_factory, clock) -> None:
    identity.create_user(admin, username="ivy", password=PASSWORD)
    assert "t=2," in _user(uow_factory, "ivy")["password_hash"]
    stronger = IdentityService(uow_factory, clock=clock, hasher=make_hasher(Argon2Parameters(3, 19456, 1)))
    stronger.authenticate("ivy", PASSWORD)
    assert "t=3," in _user(uow_factory, "ivy")["password_hash"]
    assert stronger.authenticate("ivy", PASSWORD).username == "ivy"


def test_stored_hash_is_argon2id_at_or_above_owasp(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="jack", password=PASSWORD)
    stored = _user(uow_factory, "jack")["password_hash"]
    found = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
    assert found is not None
    m, t, p = map(int, found.groups())
    assert m >= 19456 and t >= 2 and p >= 1
    assert PASSWORD not in stored


def test_change_own_password_checks_the_old_one(identity, admin) -> None:
    identity.create_user(admin, username="kate", password=PASSWORD)
    kate = identity.authenticate("kate", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        identity.change_password(kate, "wrong-old-pass", "another-pass-1")
    identity.change_password(kate, PASSWORD, "another-pass-1")
    assert identity.authenticate("kate", "another-pass-1").username == "kate"


# -- users --------------------------------------------------------------------------------

@pytest.mark.parametrize("password,fragment", [("short1", "at least 8"), ("zzzzzzzzzz", "repeated")])
def test_policy_rejects_weak_passwords(identity, admin, uow_factory, password: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        identity.create_user(admin, username="weak", password=password)
    assert fragment in str(caught.value)
    with uow_factory.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 0


def test_duplicate_username_is_a_conflict(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="alice", password=PASSWORD)
    with pytest.raises(Conflict, match="alice"):
        identity.create_user(admin, username="ALICE", password="other-pass-1")
    with uow_factory.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("username", ["", "two words", "system", "x" * 65])
def test_bad_usernames_are_refused(identity, admin, username: str) -> None:
    with pytest.raises(InvalidInput):
        identity.create_user(admin, username=username, password=PASSWORD)


def test_unknown_role_is_not_found(identity, admin, uow_factory) -> None:
    with pytest.raises(NotFound):
        identity.create_user(admin, username="lena", password=PASSWORD, roles=["no_such_role"])
    with uow_factory.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 0


def test_admin_operations_are_audited(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="mia", password=PASSWORD, roles=["salesperson"])
    identity.assign_role(admin, "mia", "statistician")
    identity.revoke_role(admin, "mia", "salesperson")
    identity.create_role(admin, "night_shift", "Night shift", "venue")
    identity.grant(admin, "night_shift", "gate.open")
    identity.revoke(admin, "night_shift", "gate.open")
    operations = [(e["action"], e["actor"], e["target"]) for e in _events(uow_factory) if e["kind"] == "operation"]
    assert operations[-6:] == [("user.create", "system", "mia"), ("user.role.assign", "system", "mia"),
                               ("user.role.revoke", "system", "mia"), ("role.create", "system", "night_shift"),
                               ("role.grant", "system", "night_shift"), ("role.revoke", "system", "night_shift")]
    assert all(PASSWORD not in str(e) for e in _events(uow_factory))
    with uow_factory.read() as uow:
        assert verify(uow.session).ok


def test_list_users_and_roles(identity, admin) -> None:
    identity.create_user(admin, username="nina", password=PASSWORD, roles=["salesperson", "statistician"])
    users = identity.list_users(admin)
    assert [(u.username, sorted(r.role_code for r in u.roles)) for u in users] == [
        ("nina", ["salesperson", "statistician"])]
    roles = {r.code: r for r in identity.list_roles(admin)}
    assert set(roles) == {r.code for r in DEFAULT_ROLES}
    assert roles["system_admin"].permissions == (ALL_PERMISSIONS,)
    assert roles["system_admin"].name == "System administrator" and roles["system_admin"].scope == "chain"
    assert roles["salesperson"].permissions == ("wallet.topup",) and roles["salesperson"].scope == "venue"
    assert {p.code for p in identity.list_permissions(admin)} == {p.id for p in PERMISSIONS}


# -- permissions --------------------------------------------------------------------------

def test_permission_denied_is_logged_even_when_the_callers_work_rolls_back(identity, admin, uow_factory,
                                                                            engine) -> None:
    identity.create_user(admin, username="olga", password=PASSWORD, roles=["salesperson"])
    olga = identity.authenticate("olga", PASSWORD)
    with pytest.raises(PermissionDenied) as caught:
        with uow_factory() as uow:
            uow.session.add(Venue(code="NEW", name="New venue"))
            if engine.dialect.name == "postgresql":  # SQLite has one writer: only stage the work there
                uow.session.flush()
            identity.require(olga, "admin.users")
            uow.commit()
    assert str(caught.value) == "You do not have permission: Manage users"
    with uow_factory.read() as uow:
        assert uow.session.scalar(select(Venue).where(Venue.code == "NEW")) is None
    denied = _events(uow_factory, "permission.denied")
    assert [(e["kind"], e["actor"], e["target"]) for e in denied] == [("security", "olga", "admin.users")]
    identity.require(olga, "wallet.topup")  # held: no error, no event
    assert len(_events(uow_factory, "permission.denied")) == 1


def test_admin_operations_need_their_permission(identity, admin, uow_factory) -> None:
    identity.create_user(admin, username="paul", password=PASSWORD, roles=["salesperson"])
    paul = identity.authenticate("paul", PASSWORD)
    with pytest.raises(PermissionDenied):
        identity.create_user(paul, username="intruder", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        identity.grant(paul, "salesperson", "admin.users")
    with pytest.raises(PermissionDenied):
        identity.list_users(paul)
    with uow_factory.read() as uow:
        assert uow.session.scalar(select(User).where(User.username == "intruder")) is None
    assert [e["target"] for e in _events(uow_factory, "permission.denied")] == [
        "admin.users", "admin.roles", "admin.users"]


def test_nobody_hands_out_permissions_they_lack(identity, admin, uow_factory) -> None:
    identity.create_role(admin, "user_admin", "User administrator", "chain")
    identity.grant(admin, "user_admin", "admin.users")
    identity.create_user(admin, username="quinn", password=PASSWORD, roles=["user_admin"])
    identity.create_user(admin, username="rita", password=PASSWORD)
    quinn = identity.authenticate("quinn", PASSWORD)
    with pytest.raises(PermissionDenied):
        identity.assign_role(quinn, "rita", "system_admin")
    with pytest.raises(PermissionDenied, match="Top up cards"):
        identity.assign_role(quinn, "rita", "salesperson")
    assert identity.assign_role(quinn, "rita", "user_admin") is True
    assert identity.assign_role(quinn, "rita", "user_admin") is False
    assert [e["target"] for e in _events(uow_factory, "permission.denied")] == [ALL_PERMISSIONS, "wallet.topup"]


def test_venue_roles_hold_in_their_venue_only(identity, admin, uow_factory) -> None:
    north, south = _venue(uow_factory, "NORTH"), _venue(uow_factory, "SOUTH")
    identity.create_user(admin, username="sam", password=PASSWORD, roles=["manager"], venue_id=north)
    identity.assign_role(admin, "sam", "salesperson")  # every venue
    assert identity.authenticate("sam", PASSWORD, venue_id=north).has("gate.open")
    at_south = identity.authenticate("sam", PASSWORD, venue_id=south)
    assert not at_south.has("gate.open") and at_south.has("wallet.topup")
    assert not identity.actor_for("sam").has("gate.open")
    with pytest.raises(InvalidInput):
        identity.assign_role(admin, "sam", "statistician", venue_id=north)  # a chain role
    assert identity.revoke_role(admin, "sam", "manager", venue_id=north) is True
    assert not identity.actor_for("sam", venue_id=north).has("gate.open")


def test_rows_remember_where_they_were_made(identity, uow_factory) -> None:
    north = _venue(uow_factory, "NORTH")
    at_north = Actor.system("tests", venue_id=north)
    identity.create_user(at_north, username="walt", password=PASSWORD, roles=["manager"], venue_id=north)
    with uow_factory.read() as uow:
        user = uow.session.scalars(select(User).where(User.username == "walt")).one()
        assert user.venue_id == north
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
        assert event.venue_id == north and event.details_dict["venue_id"] == str(north)


def test_system_admin_holds_permissions_no_plugin_has_declared_yet(identity, admin) -> None:
    identity.create_user(admin, username="tom", password=PASSWORD, roles=["system_admin"])
    tom = identity.authenticate("tom", PASSWORD)
    assert tom.has("admin.users") and tom.has("some.future.permission")
    with pytest.raises(InvalidInput):
        identity.revoke(admin, "system_admin", "admin.users")


def test_the_last_system_admin_stays(identity, admin) -> None:
    identity.create_user(admin, username="uma", password=PASSWORD, roles=["system_admin"])
    with pytest.raises(Conflict):
        identity.set_active(admin, "uma", False)
    with pytest.raises(Conflict):
        identity.revoke_role(admin, "uma", "system_admin")
    identity.create_user(admin, username="vic", password=PASSWORD, roles=["system_admin"])
    identity.set_active(admin, "uma", False)
    with pytest.raises(Conflict):
        identity.revoke_role(admin, "vic", "system_admin")


# -- roles at start-up ----------------------------------------------------------------------

def _grants(uow_factory) -> set[tuple[str, str]]:
    with uow_factory.read() as uow:
        return {(role, permission) for role, permission in uow.session.execute(
            select(Role.code, RolePermission.permission).join(RolePermission, RolePermission.role_id == Role.id))}


def test_sync_roles_is_idempotent_and_respects_the_administrator(identity, admin, uow_factory) -> None:
    first = _grants(uow_factory)
    assert ("salesperson", "wallet.topup") in first and ("manager", "gate.open") in first
    assert not any(role == "system_admin" for role, _p in first)  # holds everything implicitly
    with uow_factory.read() as uow:
        assert {r.code for r in uow.session.scalars(select(Role))} == {r.code for r in DEFAULT_ROLES}

    again = identity.sync_roles(PERMISSIONS)
    assert not again.changed and _grants(uow_factory) == first

    identity.grant(admin, "salesperson", "report.view")  # added by an administrator
    identity.revoke(admin, "operator", "wallet.topup")    # taken away by an administrator
    later = identity.sync_roles([*PERMISSIONS, Permission("rental.out", "Rent out", ("rental_clerk", "nobody"))])
    grants = _grants(uow_factory)
    assert ("salesperson", "report.view") in grants
    assert ("operator", "wallet.topup") not in grants
    assert ("rental_clerk", "rental.out") in grants
    assert later.new_permissions == ("rental.out",) and later.unknown_roles == ("nobody",)
    assert len(_events(uow_factory, "roles.sync")) == 2


def test_actor_checks() -> None:
    clerk = Actor(user_id=None, username="x", display_name="X", permissions=frozenset({"wallet.topup"}))
    assert clerk.has("wallet.topup") and clerk.has_permission("wallet.topup") and not clerk.has("admin.users")
    assert Actor.system().has("anything.at.all") and Actor.system().username == "system"
    assert Actor(None, "y", "Y", frozenset({ALL_PERMISSIONS})).has("admin.users")
