"""Engine factory: SQLite (WAL, foreign keys, durable commits) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from suite.errors import ConfigError, DatabaseUnavailable
from suite.i18n import _


def safe_url(url: str) -> str:
    """The URL with any password hidden, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 opens implicit transactions lazily; take over so BEGIN IMMEDIATE works.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a commit that returned survives power loss; money must not be lost.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock at BEGIN, so two transactions never deadlock upgrading a read
    # lock; read-only units of work (reports) begin DEFERRED and never block the writers.
    options = conn.get_execution_options()
    # durable=False (``UnitOfWorkFactory.relaxed``): this commit may skip the fsync; the next
    # durable commit writes it to disk with its own (WAL keeps the order)
    synchronous = "FULL" if options.get("durable", True) else "NORMAL"
    if conn.info.get("synchronous") != synchronous:
        conn.exec_driver_sql(f"PRAGMA synchronous={synchronous}")
        conn.info["synchronous"] = synchronous
    mode = options.get("sqlite_begin", "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def create_database_engine(url: str, *, password: str | None = None, echo: bool = False,
                           pool_size: int = 5) -> Engine:
    """Build an engine and check it can connect; ``DatabaseUnavailable`` names the URL safely."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(_("[database] url: not a database URL: {url!r}").format(url=safe_url(url))) from None
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    elif parsed.drivername.startswith("postgresql"):
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if password is not None and parsed.password is None:
            parsed = parsed.set(password=password)
        engine = create_engine(parsed, echo=echo, pool_size=pool_size, max_overflow=pool_size,
                               pool_pre_ping=True, connect_args={"connect_timeout": 5})
    else:
        raise ConfigError(_("[database] url: unsupported database {name!r}").format(name=parsed.drivername))
    check_connection(engine)
    return engine


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(_("Cannot reach the database {url}: {reason}").format(
            url=describe(engine), reason=reason)) from None


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def describe(engine: Engine) -> str:
    """The engine's URL with its password hidden."""
    return safe_url(engine.url.render_as_string(hide_password=False))
