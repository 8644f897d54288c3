"""A terminal's own SQLite file (stdlib ``sqlite3``), for what must outlive a database that is
out of reach: the wallet's offline spool, a gate's offline copy. WAL with ``synchronous=FULL``
(a commit that returned survives power loss), one connection shared by the threads under a
lock, the schema created once and versioned by ``PRAGMA user_version``."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from suite.errors import InvalidInput
from suite.i18n import N_, _


class LocalFile:
    """Subclasses set ``SCHEMA`` (statements separated by ``;``), ``SCHEMA_VERSION`` and
    ``WHAT`` (how the file is named in messages)."""

    SCHEMA = ""
    SCHEMA_VERSION = 1
    WHAT = N_("local file")

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=10)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > self.SCHEMA_VERSION:
                raise InvalidInput(_("The {what} {path} was written by a newer version (schema {found}, this one "
                                     "knows {known}).").format(what=_(self.WHAT), path=self.path, found=version,
                                                              known=self.SCHEMA_VERSION))
            if version == 0:
                with self.transaction() as db:
                    for statement in self.SCHEMA.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA user_version = {self.SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, params).fetchone()
            return row


__all__ = ["LocalFile"]
