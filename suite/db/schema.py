"""Which modules hold the host's tables, and creating the schema through migrations."""

from __future__ import annotations

import importlib

from sqlalchemy import Engine

CORE_MODEL_MODULES = (
    "suite.db.core_models",
    "suite.ledger.models",
    "suite.identity.models",
    "suite.audit.models",
    "suite.licensing.models",
    "suite.plugin_state",
)


def import_core_models() -> None:
    for name in CORE_MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def create_schema(engine: Engine) -> None:
    """Bring a database to the newest schema (the same path as ``venue-suite db upgrade``)."""
    from suite.db.migrate import upgrade

    upgrade(engine)
