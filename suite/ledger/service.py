"""Moving money: accounts, balanced entries, idempotent replay and reversals.

Every function works on the caller's ``Session`` (its unit of work commits). Writes run in a
SAVEPOINT, so a refused movement (floor breached, key already taken) leaves the caller's
session usable and nothing of the movement behind.

Balances change only through ``UPDATE ... SET balance = balance + :delta`` in sorted account
order, never read-modify-write, and the floor is the database's CHECK constraint: correct
with any number of concurrent writers on PostgreSQL and SQLite.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from suite.db.base import utcnow
from suite.db.ids import uuid7
from suite.errors import InvalidInput
from suite.i18n import _
from suite.ledger.check import LedgerCheck, LedgerProblem, check
from suite.ledger.errors import (AccountNotFound, AlreadyReversed, EntryNotFound, FloorBreached,
                                 IdempotencyConflict, UnbalancedEntry, UnitMismatch)
from suite.ledger.models import Account, Entry, Line
from suite.ledger.money import format_amount
from suite.ledger.payload import LineSpec, PostResult, payload_digest
from suite.ledger.writer import Breach, KeyTaken, MissingAccount, write_entry

REVERSAL_KIND = "reversal"
MAX_KEY_LENGTH = 128
MAX_AMOUNT = 2**63 - 1

_accounts = Account.__table__
_entries = Entry.__table__
_lines = Line.__table__

# Statements are built once: building and cache-keying a statement costs more than running it.
_BALANCE = select(_accounts.c.balance).where(_accounts.c.id == bindparam("b_id"))
_ACCOUNT_INFO = select(_accounts.c.balance, _accounts.c.floor, _accounts.c.unit, _accounts.c.name,
                       _accounts.c.owner_type, _accounts.c.owner_id, _accounts.c.kind).where(
    _accounts.c.id == bindparam("b_id"))
_ENTRY_BY_KEY = select(_entries.c.id, _entries.c.payload_hash).where(_entries.c.idempotency_key == bindparam("b_key"))
_ENTRY = select(_entries.c.id, _entries.c.reverses_id).where(_entries.c.id == bindparam("b_id"))
_REVERSED_BY = select(_entries.c.id).where(_entries.c.reverses_id == bindparam("b_id"))
_LINES_OF = (select(_lines.c.account_id, _lines.c.amount, _lines.c.unit, _lines.c.balance_after)
             .where(_lines.c.entry_id == bindparam("b_id")).order_by(_lines.c.position))


# ---------------------------------------------------------------- validation


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_uuid(value: object, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidInput(_("{what} is not a valid id: {value!r}").format(what=what, value=value))


def _require_text(value: object, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidInput(_("{field} is required, as text of at most {n} characters.").format(
            field=field, n=max_length))
    return value


def _check_context(memo: object, actor: object) -> None:
    if not isinstance(memo, str):
        raise InvalidInput(_("The memo must be text."))
    if not isinstance(actor, str) or len(actor) > 128:
        raise InvalidInput(_("The actor must be text of at most {n} characters.").format(n=128))


def _validated_lines(lines: Sequence[LineSpec]) -> list[LineSpec]:
    if isinstance(lines, (str, bytes)) or len(lines) < 2:
        raise InvalidInput(_("A movement needs at least two lines."))
    specs: list[LineSpec] = []
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, LineSpec):
            raise InvalidInput(_("Line {n} is not a ledger line.").format(n=number))
        amount = line.amount
        if not _is_int(amount):
            raise InvalidInput(_("Line {n}: the amount {amount!r} is not a whole number of minor units, "
                                 "points or counts.").format(n=number, amount=amount))
        if amount == 0:
            raise InvalidInput(_("Line {n}: the amount is zero.").format(n=number))
        if abs(amount) > MAX_AMOUNT:
            raise InvalidInput(_("Line {n}: the amount is too large.").format(n=number))
        if line.unit is not None and not isinstance(line.unit, str):
            raise InvalidInput(_("Line {n}: the unit must be text.").format(n=number))
        specs.append(LineSpec(_as_uuid(line.account_id, _("Line {n} account").format(n=number)),
                              int(amount), line.unit))
    return specs


# ---------------------------------------------------------------- accounts


def open_account(session: Session, *, owner_type: str, owner_id: str, kind: str, unit: str, name: str = "",
                 floor: int | None = 0, venue_id: uuid.UUID | None = None,
                 terminal_id: uuid.UUID | None = None) -> Account:
    """The account for (owner_type, owner_id, kind, unit), created with balance 0 if missing.

    ``floor`` is the lowest balance allowed (0: no overdraft; ``None``: no floor, for counter
    accounts such as a venue's revenue). An existing account is returned unchanged.
    """
    _require_text(owner_type, "owner_type", 32)
    _require_text(owner_id, "owner_id", 64)
    _require_text(kind, "kind", 32)
    _require_text(unit, "unit", 16)
    if not isinstance(name, str) or len(name) > 200:
        raise InvalidInput(_("The account name must be text of at most {n} characters.").format(n=200))
    if floor is not None and not _is_int(floor):
        raise InvalidInput(_("The floor of an account must be a whole number or none."))
    if floor is not None and floor > 0:
        raise InvalidInput(_("A new account starts at 0, so its floor cannot be above 0."))
    query = select(Account).where(Account.owner_type == owner_type, Account.owner_id == owner_id,
                                  Account.kind == kind, Account.unit == unit)
    found = session.scalars(query).one_or_none()
    if found is not None:
        return found
    account = Account(owner_type=owner_type, owner_id=owner_id, kind=kind, unit=unit, name=name or "",
                      floor=floor, balance=0, venue_id=venue_id, terminal_id=terminal_id)
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        # opened by a concurrent unit of work between our look-up and insert
        return session.scalars(query).one()
    return account


def get_account(session: Session, account_id: uuid.UUID) -> Account:
    account = session.get(Account, _as_uuid(account_id, _("Account")))
    if account is None:
        raise _account_not_found(account_id)
    return account


def balance(session: Session, account_id: uuid.UUID) -> int:
    """The account's balance as the database holds it now (in this unit of work)."""
    account_id = _as_uuid(account_id, _("Account"))
    value = session.execute(_BALANCE, {"b_id": account_id}).scalar_one_or_none()
    if value is None:
        raise _account_not_found(account_id)
    return int(value)


def _account_not_found(account_id: uuid.UUID) -> AccountNotFound:
    return AccountNotFound(_("Account {id} does not exist.").format(id=account_id), account_id=account_id)


# ---------------------------------------------------------------- posting


def post(session: Session, *, idempotency_key: str, kind: str, lines: Sequence[LineSpec], memo: str = "",
         actor: str = "", venue_id: uuid.UUID | None = None, terminal_id: uuid.UUID | None = None) -> PostResult:
    """Record one balanced movement and update the balances, exactly once per idempotency key.

    The same key with the same kind and lines returns the first result with ``replayed=True``
    and changes nothing; the same key with anything else raises ``IdempotencyConflict``.
    Raises ``UnbalancedEntry``, ``UnitMismatch``, ``AccountNotFound``, ``FloorBreached`` or
    ``InvalidInput``; after any of them the session is usable and nothing was written.
    """
    _require_text(idempotency_key, "idempotency_key", MAX_KEY_LENGTH)
    _require_text(kind, "kind", 64)
    _check_context(memo, actor)
    specs = _validated_lines(lines)
    digest = payload_digest(kind, specs)
    return _post(session, key=idempotency_key, kind=kind, specs=specs, digest=digest, memo=memo, actor=actor,
                 venue_id=venue_id, terminal_id=terminal_id, reverses_id=None)


def reverse(session: Session, *, entry_id: uuid.UUID, idempotency_key: str, memo: str = "", actor: str = "",
            venue_id: uuid.UUID | None = None, terminal_id: uuid.UUID | None = None) -> PostResult:
    """Undo an entry with a new entry of negated lines (entries are never edited).

    An entry is reversed at most once (``AlreadyReversed``); a reversal is not itself reversed.
    Idempotent by key like ``post``.
    """
    _require_text(idempotency_key, "idempotency_key", MAX_KEY_LENGTH)
    _check_context(memo, actor)
    entry_id = _as_uuid(entry_id, _("Entry"))
    original = session.execute(_ENTRY, {"b_id": entry_id}).one_or_none()
    if original is None:
        raise EntryNotFound(_("Entry {id} does not exist.").format(id=entry_id), entry_id=entry_id)
    if original.reverses_id is not None:
        raise InvalidInput(_("Entry {id} is itself a reversal and cannot be reversed; record a new movement "
                             "instead.").format(id=entry_id), entry_id=entry_id)
    rows = session.execute(_LINES_OF, {"b_id": entry_id}).all()
    specs = [LineSpec(row.account_id, -int(row.amount), row.unit) for row in rows]
    digest = payload_digest(REVERSAL_KIND, specs, reverses_id=entry_id)
    existing = session.execute(_ENTRY_BY_KEY, {"b_key": idempotency_key}).one_or_none()
    if existing is not None:
        return _replay(session, existing, idempotency_key, digest)
    reversed_by = session.execute(_REVERSED_BY, {"b_id": entry_id}).scalar()
    if reversed_by is not None:
        raise _already_reversed(entry_id, reversed_by)
    return _post(session, key=idempotency_key, kind=REVERSAL_KIND, specs=specs, digest=digest, memo=memo,
                 actor=actor, venue_id=venue_id, terminal_id=terminal_id, reverses_id=entry_id)


def _already_reversed(entry_id: uuid.UUID, reversed_by: uuid.UUID | None) -> AlreadyReversed:
    return AlreadyReversed(_("Entry {id} has already been reversed; it cannot be reversed twice.").format(
        id=entry_id), entry_id=entry_id, reversed_by=reversed_by)


def _replay(session: Session, existing: Any, key: str, digest: str) -> PostResult:
    if existing.payload_hash != digest:
        raise IdempotencyConflict(
            _("The operation key {key} was already used for a different movement; nothing was changed. "
              "Start the operation again.").format(key=key), idempotency_key=key, entry_id=existing.id)
    rows = session.execute(_LINES_OF, {"b_id": existing.id}).all()
    return PostResult(existing.id, True, {row.account_id: int(row.balance_after) for row in rows})


def _post(session: Session, *, key: str, kind: str, specs: list[LineSpec], digest: str, memo: str, actor: str,
          venue_id: uuid.UUID | None, terminal_id: uuid.UUID | None, reverses_id: uuid.UUID | None) -> PostResult:
    deltas: dict[uuid.UUID, int] = {}
    for spec in specs:
        deltas[spec.account_id] = deltas.get(spec.account_id, 0) + spec.amount
    venue_id = None if venue_id is None else _as_uuid(venue_id, _("Venue"))
    terminal_id = None if terminal_id is None else _as_uuid(terminal_id, _("Terminal"))
    entry_id = uuid7()
    now = utcnow()
    try:
        # the unique key is the idempotency check: no look-up first, so no race between the two
        balances = write_entry(
            session, entry_id=entry_id, now=now, key=key, kind=kind,
            lines=[(spec.account_id, spec.amount) for spec in specs], deltas=deltas, digest=digest, memo=memo or "",
            actor=actor or "", venue_id=venue_id, terminal_id=terminal_id, reverses_id=reverses_id,
            check_units=lambda units: _check_balanced(session, specs, units))
    except KeyTaken:
        # posted before, or by a concurrent unit of work that committed first (on PostgreSQL our
        # INSERT waited for it); with the savepoint rolled back the session reads it
        existing = session.execute(_ENTRY_BY_KEY, {"b_key": key}).one_or_none()
        if existing is not None:
            return _replay(session, existing, key, digest)
        if reverses_id is not None:
            raise _already_reversed(reverses_id, None) from None
        raise
    except Breach as breach:
        raise _floor_breached(session, breach.account_id, deltas[breach.account_id]) from None
    except MissingAccount as missing:
        raise _account_not_found(missing.account_id) from None
    _refresh_loaded_accounts(session, balances, now)
    return PostResult(entry_id, False, balances)


def _check_balanced(session: Session, specs: list[LineSpec], units: dict[uuid.UUID, str]) -> None:
    totals: dict[str, int] = {}
    for number, spec in enumerate(specs, start=1):
        unit = units[spec.account_id]
        if spec.unit is not None and spec.unit != unit:
            raise UnitMismatch(_("Line {n} is in {unit} but account {name} holds {account_unit}.").format(
                n=number, unit=spec.unit, name=_account_label(session, spec.account_id), account_unit=unit),
                account_id=spec.account_id)
        totals[unit] = totals.get(unit, 0) + spec.amount
    for unit, total in sorted(totals.items()):
        if total != 0:
            raise UnbalancedEntry(_("The movement does not balance: its lines in {unit} add up to {total} "
                                    "instead of zero.").format(unit=unit, total=format_amount(total, unit)),
                                  unit=unit, total=total)


def _account_label(session: Session, account_id: uuid.UUID) -> str:
    row = session.execute(_ACCOUNT_INFO, {"b_id": account_id}).one()
    return str(row.name or f"{row.owner_type} {row.owner_id} {row.kind}")


def _floor_breached(session: Session, account_id: uuid.UUID, delta: int) -> FloorBreached:
    row = session.execute(_ACCOUNT_INFO, {"b_id": account_id}).one()
    current, floor, unit = int(row.balance), row.floor, row.unit
    message = _("Insufficient balance in {name}: balance {balance}, needed {needed}.").format(
        name=row.name or f"{row.owner_type} {row.owner_id} {row.kind}", balance=format_amount(current, unit),
        needed=format_amount(abs(delta), unit))
    if floor is not None and floor != 0:
        message += " " + _("The balance may not go below {floor}.").format(floor=format_amount(int(floor), unit))
    return FloorBreached(message, account_id=account_id, balance=current, floor=floor, delta=delta)


def _refresh_loaded_accounts(session: Session, balances: dict[uuid.UUID, int], now: Any) -> None:
    """Keep ``Account`` objects already loaded in this session in step with the database."""
    identity_map = session.identity_map
    if not identity_map:
        return
    for account_id, new_balance in balances.items():
        loaded = identity_map.get(session.identity_key(Account, account_id))
        if loaded is not None:
            set_committed_value(loaded, "balance", new_balance)
            set_committed_value(loaded, "updated_at", now)


__all__ = ["LedgerCheck", "LedgerProblem", "LineSpec", "PostResult", "REVERSAL_KIND", "balance", "check", "get_account",
           "open_account", "payload_digest", "post", "reverse"]
