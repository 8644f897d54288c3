"""The posting hot path, run on the driver connection of the caller's transaction.

Through SQLAlchemy's execution machinery each of a post's statements costs several times what
the database spends on it, so they go straight to the DB-API cursor, inside the session's own
transaction, with values converted by the very type processors SQLAlchemy uses (rows are
stored exactly as the ORM stores them).

A post is four statements and raises nothing on the database side in normal use:

1. ``INSERT`` the entry ``ON CONFLICT DO NOTHING RETURNING id``: no row back means the key (or
   the reversed entry) is taken, and nothing was written;
2. per account, in id order (so two posts never deadlock), ``UPDATE ... SET balance = balance
   + delta WHERE id = ? AND (floor IS NULL OR balance + delta >= floor) RETURNING``: no row back
   means a floor (or a missing account);
3. one ``INSERT`` of every line.

When step 2 or the unit check refuses, the deltas already applied are taken back and the entry
deleted, under the row locks this transaction already holds, so the caller's unit of work is
left exactly as it was. The CHECK constraint on the balance stays as the backstop: if this
logic were ever wrong the database would still refuse the balance.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from suite.db.base import UTCDateTime

_INSERT_ENTRY = ("INSERT INTO ledger_entries (id, venue_id, terminal_id, created_at, updated_at, idempotency_key, "
                 "kind, memo, payload_hash, reverses_id, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT DO NOTHING RETURNING id")
_APPLY = ("UPDATE ledger_accounts SET balance = balance + ?, updated_at = ? "
          "WHERE id = ? AND (floor IS NULL OR balance + ? >= floor) RETURNING balance, unit")
_TAKE_BACK = "UPDATE ledger_accounts SET balance = balance - ? WHERE id = ?"
_DELETE_ENTRY = "DELETE FROM ledger_entries WHERE id = ?"
_ACCOUNT_EXISTS = "SELECT 1 FROM ledger_accounts WHERE id = ?"
_INSERT_LINES = "INSERT INTO ledger_lines (entry_id, account_id, unit, amount, position, balance_after) VALUES "
_LINE_VALUES = "(?, ?, ?, ?, ?, ?)"


class KeyTaken(Exception):
    """The idempotency key (or the reversed entry) is already used."""


class Breach(Exception):
    def __init__(self, account_id: uuid.UUID) -> None:
        super().__init__(account_id)
        self.account_id = account_id


class MissingAccount(Exception):
    def __init__(self, account_id: uuid.UUID) -> None:
        super().__init__(account_id)
        self.account_id = account_id


def _identity(value: Any) -> Any:
    return value


@dataclass
class _Driver:
    placeholder: str
    to_db_uuid: Callable[[uuid.UUID | None], Any]
    to_db_time: Callable[[dt.datetime], Any]
    _sql: dict[str, str] = field(default_factory=dict)

    def sql(self, statement: str) -> str:
        made = self._sql.get(statement)
        if made is None:
            made = self._sql[statement] = statement.replace("?", self.placeholder)
        return made

    def insert_lines(self, count: int) -> str:
        return self.sql(_INSERT_LINES + ", ".join([_LINE_VALUES] * count))


_drivers: dict[int, _Driver] = {}


def _driver(dialect: Dialect) -> _Driver:
    driver = _drivers.get(id(dialect))
    if driver is None:
        def bind(type_: Any) -> Callable[[Any], Any]:
            return type_.dialect_impl(dialect).bind_processor(dialect) or _identity

        placeholder = "%s" if dialect.paramstyle in ("format", "pyformat") else "?"
        driver = _drivers[id(dialect)] = _Driver(placeholder, bind(Uuid()), bind(UTCDateTime()))
    return driver


def write_entry(session: Session, *, entry_id: uuid.UUID, now: dt.datetime, key: str, kind: str,
                lines: list[tuple[uuid.UUID, int]], deltas: dict[uuid.UUID, int], digest: str, memo: str,
                actor: str, venue_id: uuid.UUID | None, terminal_id: uuid.UUID | None,
                reverses_id: uuid.UUID | None,
                check_units: Callable[[dict[uuid.UUID, str]], None]) -> dict[uuid.UUID, int]:
    """Insert the entry, apply the deltas in account order, insert the lines; all or nothing.

    Raises ``KeyTaken``, ``Breach``, ``MissingAccount`` or whatever ``check_units`` raises; in
    every case the transaction holds nothing of this post.
    """
    if session.new or session.deleted:
        session.flush()
    connection = session.connection()
    driver = _driver(connection.dialect)
    db_uuid = driver.to_db_uuid
    stamp = driver.to_db_time(now)
    db_entry = db_uuid(entry_id)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(driver.sql(_INSERT_ENTRY), (
            db_entry, db_uuid(venue_id), db_uuid(terminal_id), stamp, stamp, key, kind, memo, digest,
            db_uuid(reverses_id), actor))
        if cursor.fetchone() is None:
            raise KeyTaken()
        balances: dict[uuid.UUID, int] = {}
        units: dict[uuid.UUID, str] = {}
        try:
            for account_id in sorted(deltas):
                delta = deltas[account_id]
                cursor.execute(driver.sql(_APPLY), (delta, stamp, db_uuid(account_id), delta))
                row = cursor.fetchone()
                if row is None:
                    cursor.execute(driver.sql(_ACCOUNT_EXISTS), (db_uuid(account_id),))
                    exists = cursor.fetchone() is not None
                    raise Breach(account_id) if exists else MissingAccount(account_id)
                balances[account_id], units[account_id] = int(row[0]), row[1]
            check_units(units)
        except BaseException:
            for account_id in balances:
                cursor.execute(driver.sql(_TAKE_BACK), (deltas[account_id], db_uuid(account_id)))
            cursor.execute(driver.sql(_DELETE_ENTRY), (db_entry,))
            raise
        values: list[Any] = []
        for position, (account_id, amount) in enumerate(lines):
            values += (db_entry, db_uuid(account_id), units[account_id], amount, position, balances[account_id])
        cursor.execute(driver.insert_lines(len(lines)), values)
    finally:
        cursor.close()
    return balances
