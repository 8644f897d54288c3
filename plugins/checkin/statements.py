"""The statements of the scan path, built once per dialect (a gate decides in about a
millisecond: rebuilding and compiling SQLAlchemy constructs per scan would cost more than the
database work)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.sql import Executable

from plugins.checkin.models import CheckinEntry, CheckinUsage

_USAGE = CheckinUsage.__table__
_ENTRIES = CheckinEntry.__table__
_KEY = (_USAGE.c.list_code == bindparam("k_list"), _USAGE.c.credential == bindparam("k_credential"))


@dataclass(frozen=True)
class ScanStatements:
    usage: Executable
    usage_locked: Executable
    usage_insert: Executable
    usage_update: Executable
    entry_insert: Executable
    revoked: Executable


@functools.cache
def statements(dialect: str) -> ScanStatements:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    from plugins.tickets.models import Revocation

    usage = select(_USAGE).where(*_KEY)
    return ScanStatements(
        usage=usage,
        usage_locked=usage.with_for_update() if dialect == "postgresql" else usage,
        usage_insert=insert(_USAGE).on_conflict_do_nothing(),
        usage_update=update(_USAGE).where(*_KEY),
        entry_insert=insert(_ENTRIES).on_conflict_do_nothing(index_elements=["nonce"]).returning(_ENTRIES.c.id),
        revoked=select(Revocation.id).where(Revocation.serial == bindparam("serial")))


def lock_usage(connection: Connection, list_code: str, credential: str) -> Mapping[str, Any]:
    """The usage row of a credential on a list, locked for the transaction (made when new)."""
    found = statements(connection.dialect.name)
    key = {"k_list": list_code, "k_credential": credential}
    row = connection.execute(found.usage_locked, key).mappings().first()
    if row is None:
        connection.execute(found.usage_insert, {"list_code": list_code, "credential": credential, "admitted": 0,
                                                "reserved": 0, "exited": 0, "inside": 0, "day_admitted": 0,
                                                "last_channel": ""})
        row = connection.execute(found.usage_locked, key).mappings().one()
    return row


def save_usage(connection: Connection, list_code: str, credential: str, values: Mapping[str, Any]) -> None:
    connection.execute(statements(connection.dialect.name).usage_update,
                       {"k_list": list_code, "k_credential": credential, **values})


def insert_entry(connection: Connection, values: Mapping[str, Any]) -> bool:
    """False when an entry with this nonce exists already (a replay)."""
    return connection.execute(statements(connection.dialect.name).entry_insert, dict(values)).first() is not None


def is_revoked(connection: Connection, serial: str) -> bool:
    return connection.execute(statements(connection.dialect.name).revoked, {"serial": serial}).first() is not None


def relax_postgres(connection: Connection) -> None:
    """In a ``UnitOfWorkFactory.relaxed`` unit on PostgreSQL: commit without waiting for the
    disk (SQLite units get that from the engine)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


__all__ = ["ScanStatements", "insert_entry", "is_revoked", "lock_usage", "relax_postgres", "save_usage",
           "statements"]
