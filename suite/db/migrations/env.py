"""Alembic environment: the engine comes from ``suite.db.migrate`` through config attributes."""

from __future__ import annotations

from alembic import context

from suite.db.base import Base

engine = context.config.attributes["engine"]
# autogenerate compares against this; a plugin's revision passes its own MetaData
target_metadata = context.config.attributes.get("target_metadata", Base.metadata)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate compares only the tables of the metadata it was given: a plugin's revision
    must not drop the host's tables (or another plugin's)."""
    return not (type_ == "table" and reflected and compare_to is None)

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # batch migrations rebuild a table (copy, drop, rename); with foreign keys enforced the
        # drop of a referenced table fails, so they are off for the run and checked after it
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # outside a transaction
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
    connection.commit()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
