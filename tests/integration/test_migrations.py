"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from suite.db.base import Base
from suite.db.migrate import current_revisions, head_revisions, import_models, pending, upgrade


def test_migrated_schema_matches_models(engine) -> None:
    import_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []


def test_upgrade_is_idempotent_and_reports_heads(engine) -> None:
    assert not pending(engine)
    assert current_revisions(engine) == head_revisions(engine) == ["0002_host_gate_emergency"]
    assert upgrade(engine) == ["0002_host_gate_emergency"]
    tables = set(inspect(engine).get_table_names())
    assert {"ledger_accounts", "ledger_entries", "ledger_lines", "users", "roles", "audit_events",
            "licences", "plugin_state", "venues", "terminals", "gate_emergencies"} <= tables
