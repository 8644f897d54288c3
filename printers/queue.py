"""Jobs that did not print wait here, on disk, until someone reprints or drops them.

One small SQLite file per printer (``<queue_dir>/reprint-queue.sqlite3``). Each job is kept as
the bytes that were to be sent, with its layout id, when it was made and why it failed; every
change is one transaction (``synchronous=FULL``), so a crash or a restart loses nothing and a
job is never half written. Connections are opened per call: the queue is touched once per
failed job, and any thread (the UI, the device host, the CLI) may use it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from suite.errors import NotFound
from suite.i18n import _

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    layout_id TEXT NOT NULL,
    created TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    data BLOB NOT NULL
)
"""


@dataclass(frozen=True)
class QueuedJob:
    id: int
    layout_id: str
    created: str        # ISO 8601, UTC
    error: str          # why the last attempt failed, in the language of that moment
    attempts: int
    size: int           # bytes

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "layout": self.layout_id, "created": self.created, "attempts": self.attempts,
                "bytes": self.size, "error": self.error}


class ReprintQueue:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "reprint-queue.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as conn:
            conn.execute(SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            conn.execute("PRAGMA synchronous=FULL")
            with conn:            # one transaction: committed on success, rolled back on error
                yield conn

    def add(self, data: bytes, layout_id: str, error: str) -> int:
        created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self._connection() as conn:
            cursor = conn.execute("INSERT INTO jobs (layout_id, created, error, data) VALUES (?, ?, ?, ?)",
                                  (layout_id, created, error, data))
            return int(cursor.lastrowid or 0)

    def jobs(self) -> list[QueuedJob]:
        with self._connection() as conn:
            rows = conn.execute("SELECT id, layout_id, created, error, attempts, length(data) FROM jobs "
                                "ORDER BY id").fetchall()
        return [QueuedJob(*row) for row in rows]

    def __len__(self) -> int:
        with self._connection() as conn:
            return int(conn.execute("SELECT count(*) FROM jobs").fetchone()[0])

    def get(self, job_id: int) -> tuple[QueuedJob, bytes]:
        with self._connection() as conn:
            row = conn.execute("SELECT id, layout_id, created, error, attempts, data FROM jobs WHERE id = ?",
                               (job_id,)).fetchone()
        if row is None:
            raise NotFound(_("No job {job} in the reprint queue.").format(job=job_id))
        data = bytes(row[5])
        return QueuedJob(*row[:5], size=len(data)), data

    def failed_again(self, job_id: int, error: str) -> None:
        with self._connection() as conn:
            conn.execute("UPDATE jobs SET attempts = attempts + 1, error = ? WHERE id = ?", (error, job_id))

    def remove(self, job_id: int) -> None:
        with self._connection() as conn:
            if conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount == 0:
                raise NotFound(_("No job {job} in the reprint queue.").format(job=job_id))
