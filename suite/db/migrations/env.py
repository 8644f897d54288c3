"""Alembic environment: the engine comes from ``suite.db.migrate`` through config attributes."""

from __future__ import annotations

from alembic import context

from suite.db.base import Base

engine = context.config.attributes["engine"]
# autogenerate compares against this; a plugin's revision passes its own MetaData
target_metadata = context.config.attributes.get("target_metadata", Base.metadata)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
