"""venue-suite db upgrade|current"""

from __future__ import annotations

import argparse
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("upgrade", help=_("bring the schema of the host and every plugin to the newest revision")).set_defaults(func=upgrade)
    sub.add_parser("current", help=_("show the applied and the newest revisions")).set_defaults(func=current)


def _engine_and_plugins(ctx: Any) -> tuple[Any, Any]:
    from suite.bootstrap import build_engine, host_verbs, open_secrets
    from suite.db.uow import UnitOfWorkFactory
    from suite.licensing.service import LicenceService
    from suite.plugins import PluginHost

    settings = ctx.settings
    engine = build_engine(settings, open_secrets(settings))
    uow = UnitOfWorkFactory(engine)
    plugins = PluginHost(uow, LicenceService(uow, trusted_public_keys=settings.licensing.public_keys),
                         reserved_cli_names=host_verbs())
    plugins.load(settings.plugins)
    return engine, plugins


def upgrade(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.bootstrap import upgrade_schema

    engine, plugins = _engine_and_plugins(ctx)
    try:
        return {"revisions": upgrade_schema(engine, plugins)}
    finally:
        engine.dispose()


def current(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.bootstrap import plugin_migrations
    from suite.db.migrate import current_revisions, head_revisions

    engine, plugins = _engine_and_plugins(ctx)
    try:
        locations, _modules = plugin_migrations(plugins)
        applied, heads = current_revisions(engine), head_revisions(engine, locations)
        return {"applied": applied, "heads": heads, "up_to_date": applied == heads}
    finally:
        engine.dispose()
