"""venue-suite plugins list|enable|disable"""

from __future__ import annotations

import argparse
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("list", help=_("every plugin with its version, feature and state")).set_defaults(func=list_plugins)
    for action in ("enable", "disable"):
        p = sub.add_parser(action, help=_("enable a plugin") if action == "enable" else _("disable a plugin"))
        p.add_argument("plugin_id")
        p.set_defaults(func=toggle, enable=action == "enable")


def list_plugins(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    app = ctx.app()
    return [{"id": p.id, "name": p.name, "version": p.version, "feature": p.feature, "state": str(p.state),
             "error": p.error, "commands": [c.name for c in p.manifest.cli_commands] if p.manifest else [],
             "tabs": [t.id for t in p.manifest.tabs] if p.manifest else []}
            for p in app.plugins.plugins()]


def toggle(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "admin.plugins")
    if args.enable:
        app.plugins.enable(args.plugin_id, actor.username)
    else:
        app.plugins.disable(args.plugin_id, actor.username)
    info = next(p for p in app.plugins.plugins() if p.id == args.plugin_id)
    return {"id": info.id, "state": str(info.state)}
