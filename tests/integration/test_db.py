from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text

from suite.db.core_models import Venue
from suite.db.engine import create_database_engine
from suite.db.ids import uuid7
from suite.errors import ConfigError, DatabaseUnavailable


def test_uuid7_is_time_ordered_and_version_7() -> None:
    ids = [uuid7() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)


def test_unit_of_work_rolls_back_unless_committed(uow_factory) -> None:
    with uow_factory() as uow:
        uow.session.add(Venue(code="A", name="A"))
        uow.session.flush()
    with uow_factory() as uow:
        uow.session.add(Venue(code="B", name="B"))
        uow.commit()
    with uow_factory.read() as uow:
        codes = list(uow.session.scalars(select(Venue.code)))
    assert codes == ["B"]


def test_unit_of_work_rolls_back_on_error(uow_factory) -> None:
    with pytest.raises(RuntimeError):
        with uow_factory() as uow:
            uow.session.add(Venue(code="C", name="C"))
            uow.session.flush()
            raise RuntimeError("crash mid-operation")
    with uow_factory.read() as uow:
        assert uow.session.scalar(select(Venue).where(Venue.code == "C")) is None


def test_business_rows_carry_ids_places_and_aware_times(uow_factory) -> None:
    place = uuid7()
    with uow_factory() as uow:
        venue = Venue(code="D", name="D", venue_id=place)
        uow.session.add(venue)
        uow.commit()
    with uow_factory.read() as uow:
        loaded = uow.session.scalar(select(Venue).where(Venue.code == "D"))
        assert loaded is not None
        assert loaded.id.version == 7
        assert loaded.venue_id == place
        assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset().total_seconds() == 0


def test_sqlite_is_durable_wal_with_foreign_keys(tmp_path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()


def test_unreachable_postgres_names_url_without_password() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        create_database_engine("postgresql+psycopg://suite:s3cret@127.0.0.1:1/venue")
    message = str(caught.value)
    assert "s3cret" not in message
    assert "127.0.0.1:1/venue" in message
    assert caught.value.exit_code == 2


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        create_database_engine("not a url")
