"""Verifying the ledger's invariants from the stored rows alone.

Every entry has at least two lines that sum to zero per unit, every line is in its account's
unit, every balance equals the sum of its account's lines and respects its floor, and (when
``verify_hashes``) every entry's lines still match the payload hash recorded when it was posted.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from suite.i18n import _
from suite.ledger.models import Account, Entry, Line
from suite.ledger.money import format_amount
from suite.ledger.payload import LineSpec, payload_digest

_accounts = Account.__table__
_entries = Entry.__table__
_lines = Line.__table__


@dataclass(frozen=True, slots=True)
class LedgerProblem:
    """One broken invariant; ``str()`` is the message."""

    code: str
    message: str
    entry_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    ok: bool
    entries_checked: int
    accounts_checked: int
    problems: list[LedgerProblem] = field(default_factory=list)


def check(session: Session, *, verify_hashes: bool = True) -> LedgerCheck:
    problems: list[LedgerProblem] = []
    problems += _unbalanced_entries(session)
    problems += _short_entries(session)
    problems += _unit_mismatches(session)
    problems += _wrong_balances(session)
    problems += _below_floor(session)
    if verify_hashes:
        problems += _hash_mismatches(session)
    entries = session.execute(select(func.count()).select_from(_entries)).scalar_one()
    accounts = session.execute(select(func.count()).select_from(_accounts)).scalar_one()
    return LedgerCheck(not problems, int(entries), int(accounts), problems)


def _unbalanced_entries(session: Session) -> list[LedgerProblem]:
    total = func.sum(_lines.c.amount)
    rows = session.execute(select(_lines.c.entry_id, _lines.c.unit, total.label("total"))
                           .group_by(_lines.c.entry_id, _lines.c.unit).having(total != 0)
                           .order_by(_lines.c.entry_id)).all()
    return [LedgerProblem("unbalanced_entry", _("Entry {entry}: its lines in {unit} add up to {total} instead of "
                                                "zero.").format(entry=row.entry_id, unit=row.unit,
                                                                total=format_amount(int(row.total), row.unit)),
                          entry_id=row.entry_id) for row in rows]


def _short_entries(session: Session) -> list[LedgerProblem]:
    count = func.count(_lines.c.position)
    rows = session.execute(select(_entries.c.id, count.label("n"))
                           .select_from(_entries.outerjoin(_lines, _lines.c.entry_id == _entries.c.id))
                           .group_by(_entries.c.id).having(count < 2).order_by(_entries.c.id)).all()
    return [LedgerProblem("short_entry", _("Entry {entry} has {n} line(s); a movement needs at least two.").format(
        entry=row.id, n=row.n), entry_id=row.id) for row in rows]


def _unit_mismatches(session: Session) -> list[LedgerProblem]:
    rows = session.execute(select(_lines.c.entry_id, _lines.c.account_id, _lines.c.unit,
                                  _accounts.c.unit.label("account_unit"))
                           .join(_accounts, _accounts.c.id == _lines.c.account_id)
                           .where(_lines.c.unit != _accounts.c.unit).order_by(_lines.c.entry_id)).all()
    return [LedgerProblem("unit_mismatch", _("Entry {entry}: a line is in {unit} but account {account} holds "
                                             "{account_unit}.").format(entry=row.entry_id, unit=row.unit,
                                                                       account=row.account_id,
                                                                       account_unit=row.account_unit),
                          entry_id=row.entry_id, account_id=row.account_id) for row in rows]


def _wrong_balances(session: Session) -> list[LedgerProblem]:
    sums = (select(_lines.c.account_id, func.sum(_lines.c.amount).label("total"))
            .group_by(_lines.c.account_id).subquery())
    expected = func.coalesce(sums.c.total, 0)
    rows = session.execute(select(_accounts.c.id, _accounts.c.name, _accounts.c.unit, _accounts.c.balance,
                                  expected.label("expected"))
                           .select_from(_accounts.outerjoin(sums, sums.c.account_id == _accounts.c.id))
                           .where(_accounts.c.balance != expected).order_by(_accounts.c.id)).all()
    return [LedgerProblem("wrong_balance", _("Account {account} ({name}): balance {balance} but its lines add up to "
                                             "{expected}.").format(
        account=row.id, name=row.name, balance=format_amount(int(row.balance), row.unit),
        expected=format_amount(int(row.expected), row.unit)), account_id=row.id) for row in rows]


def _below_floor(session: Session) -> list[LedgerProblem]:
    rows = session.execute(select(_accounts.c.id, _accounts.c.name, _accounts.c.unit, _accounts.c.balance,
                                  _accounts.c.floor)
                           .where(and_(_accounts.c.floor.is_not(None), _accounts.c.balance < _accounts.c.floor))
                           .order_by(_accounts.c.id)).all()
    return [LedgerProblem("below_floor", _("Account {account} ({name}): balance {balance} is below its floor "
                                           "{floor}.").format(
        account=row.id, name=row.name, balance=format_amount(int(row.balance), row.unit),
        floor=format_amount(int(row.floor), row.unit)), account_id=row.id) for row in rows]


def _hash_mismatches(session: Session) -> list[LedgerProblem]:
    statement = (select(_entries.c.id, _entries.c.kind, _entries.c.reverses_id, _entries.c.payload_hash,
                        _lines.c.account_id, _lines.c.amount)
                 .join(_lines, _lines.c.entry_id == _entries.c.id)
                 .order_by(_entries.c.id, _lines.c.position)
                 .execution_options(yield_per=2000))
    problems: list[LedgerProblem] = []
    for entry_id, rows in itertools.groupby(session.execute(statement), key=lambda row: row.id):
        group = list(rows)
        first = group[0]
        digest = payload_digest(first.kind, [LineSpec(row.account_id, int(row.amount)) for row in group],
                                reverses_id=first.reverses_id)
        if digest != first.payload_hash:
            problems.append(LedgerProblem("payload_changed", _(
                "Entry {entry}: its lines were changed after it was posted (payload hash mismatch).").format(
                entry=entry_id), entry_id=entry_id))
    return problems


__all__ = ["LedgerCheck", "LedgerProblem", "check"]
