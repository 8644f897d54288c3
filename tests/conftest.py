"""Shared test set-up: a file keyring in a temporary folder, SQLite files and a real
PostgreSQL server started here (never skipped: if it cannot start, the tests fail)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_KEYRING_HOME = tempfile.mkdtemp(prefix="venue-suite-keyring-")
os.environ["XDG_DATA_HOME"] = _KEYRING_HOME
os.environ["VENUE_SUITE_KEYRING__BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
os.environ.setdefault("VENUE_SUITE_LANG", "en")

from tests.pgserver import PostgresServer  # noqa: E402


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'suite.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def engine(db_url: str):
    from suite.db.engine import create_database_engine
    from suite.db.schema import create_schema

    eng = create_database_engine(db_url)
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def uow_factory(engine):
    from suite.db.uow import UnitOfWorkFactory

    return UnitOfWorkFactory(engine)


@pytest.fixture
def secret_store():
    from suite.secrets import SecretStore

    return SecretStore.from_settings(f"venue-suite-test-{uuid.uuid4().hex[:8]}",
                                     "keyrings.alt.file.PlaintextKeyring")
