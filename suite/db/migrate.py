"""Alembic migrations run from code: the host's branch plus one branch per plugin.

Each plugin ships its revisions in the folder named by its manifest's ``migrations``; its
first revision branches off a host revision (``down_revision = "0001_host"``) and carries
``branch_labels = ("<plugin id>",)``. (With ``depends_on`` instead, Alembic would record only
the plugin's head while the scripts have two, and the schema would always look behind.)
``upgrade`` takes every branch to its head (``venue-suite db upgrade``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from suite.db.schema import import_core_models

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CORE_VERSIONS = MIGRATIONS_DIR / "versions"


def _config(engine: Engine, plugin_locations: Sequence[str | Path]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    locations = [str(CORE_VERSIONS), *(str(p) for p in plugin_locations)]
    cfg.set_main_option("version_locations", __import__("os").pathsep.join(locations))
    cfg.attributes["engine"] = engine
    return cfg


def import_models(model_modules: Iterable[str] = ()) -> None:
    import_core_models()
    for name in model_modules:
        importlib.import_module(name)


def upgrade(engine: Engine, plugin_locations: Sequence[str | Path] = (),
            model_modules: Iterable[str] = (), target: str = "heads") -> list[str]:
    """Upgrade every branch; returns the revisions now applied."""
    import_models(model_modules)
    cfg = _config(engine, plugin_locations)
    command.upgrade(cfg, target)
    return current_revisions(engine)


def current_revisions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(MigrationContext.configure(conn).get_current_heads())


def head_revisions(engine: Engine, plugin_locations: Sequence[str | Path] = ()) -> list[str]:
    return sorted(ScriptDirectory.from_config(_config(engine, plugin_locations)).get_heads())


def pending(engine: Engine, plugin_locations: Sequence[str | Path] = ()) -> bool:
    return current_revisions(engine) != head_revisions(engine, plugin_locations)


def revision(engine: Engine, message: str, *, autogenerate: bool = True,
             branch_label: str | None = None, version_path: str | None = None,
             head: str = "head", target_metadata: object = None) -> None:
    """Write a new revision (developers' tool: ``python -m suite.db.migrate "message"``).
    A plugin's revision passes its ``version_path`` and its own ``target_metadata``."""
    import_models()
    cfg = _config(engine, [version_path] if version_path else [])
    if target_metadata is not None:
        cfg.attributes["target_metadata"] = target_metadata
    command.revision(cfg, message=message, autogenerate=autogenerate, branch_label=branch_label,
                     version_path=version_path, head=head)


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys
    import tempfile

    from suite.db.engine import create_database_engine

    with tempfile.TemporaryDirectory() as tmp:
        eng = create_database_engine(f"sqlite:///{tmp}/rev.db")
        upgrade(eng)
        revision(eng, sys.argv[1] if len(sys.argv) > 1 else "change")
