"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

A backup is written next to its final name and renamed only once it is complete and checked,
so a crash never leaves a half backup that looks whole. A restore first saves the current
database beside the backups, so a wrong restore can itself be undone.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from suite.errors import InvalidInput, SuiteError
from suite.i18n import _


class BackupError(SuiteError):
    code = "backup"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    backend: str


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError(_("An in-memory database cannot be backed up."))
    return Path(url.database)


def _check_sqlite_file(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(_("{path} is not a readable SQLite database: {reason}").format(path=path, reason=exc)) from None
    if result is None or result[0] != "ok":
        raise InvalidInput(_("{path} is damaged: {reason}").format(path=path, reason=result[0] if result else "?"))
    if "alembic_version" not in tables:
        raise InvalidInput(_("{path} is not a Venue Suite database.").format(path=path))


def _copy_sqlite(source: str, destination: Path) -> None:
    """Copy a live database page by page with SQLite's online backup API (WAL included)."""
    src = sqlite3.connect(source, uri=source.startswith("file:"))
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_tool(name: str) -> str:
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[-3]))
    found = versions[-1] if versions else shutil.which(name)
    if not found:
        raise BackupError(_("{tool} is not installed (Debian package postgresql-client).").format(tool=name))
    return found


def _pg_env(url: URL) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--dbname", url.database or ""]
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        reason = (proc.stderr or proc.stdout).strip().splitlines()
        raise BackupError(_("{tool} failed: {reason}").format(tool=Path(cmd[0]).name, reason=reason[-1] if reason else proc.returncode))


def backup(engine: Engine, directory: Path, keep: int = 0) -> BackupResult:
    directory.mkdir(parents=True, exist_ok=True)
    url = engine.url
    if engine.dialect.name == "sqlite":
        source = _sqlite_path(url)
        final = directory / f"{source.stem}-{_stamp()}.sqlite3"
        partial = final.with_suffix(".partial")
        _copy_sqlite(str(source), partial)
        _check_sqlite_file(partial)
        os.replace(partial, final)
        backend = "sqlite"
    else:
        final = directory / f"{url.database}-{_stamp()}.pgdump"
        partial = final.with_suffix(".partial")
        args, env = _pg_env(url)
        _run([_pg_tool("pg_dump"), "--format=custom", "--file", str(partial), *args], env)
        os.replace(partial, final)
        backend = "postgresql"
    if keep > 0:
        _rotate(directory, final, keep)
    return BackupResult(path=final, size=final.stat().st_size, backend=backend)


def _rotate(directory: Path, newest: Path, keep: int) -> None:
    stem = newest.name.rsplit("-", 1)[0]
    backups = sorted(directory.glob(f"{stem}-*{newest.suffix}"))
    for old in backups[:-keep]:
        old.unlink(missing_ok=True)


def restore(engine: Engine, source: Path, directory: Path) -> BackupResult:
    """Replace the database's contents with ``source``; the current contents are saved first."""
    if not source.is_file():
        raise InvalidInput(_("Backup file {path} not found.").format(path=source))
    if engine.dialect.name == "sqlite":
        _check_sqlite_file(source)
        safety = backup(engine, directory)
        engine.dispose()
        live = _sqlite_path(engine.url)
        _copy_sqlite(f"file:{source}?mode=ro", live)
        _check_sqlite_file(live)
        return safety
    safety = backup(engine, directory)
    engine.dispose()
    args, env = _pg_env(engine.url)
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          *args, str(source)], env)
    return safety
