"""venue-suite role list|add|grant|revoke"""

from __future__ import annotations

import argparse
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("list", help=_("list roles with their permissions")).set_defaults(func=list_roles)
    sub.add_parser("permissions", help=_("list every permission the host and plugins declare")).set_defaults(func=list_permissions)
    add = sub.add_parser("add", help=_("create a role"))
    add.add_argument("code")
    add.add_argument("--name", default="")
    add.add_argument("--scope", choices=["chain", "venue"], default="venue")
    add.set_defaults(func=add_role)
    for action in ("grant", "revoke"):
        p = sub.add_parser(action, help=_("give a permission to a role") if action == "grant" else _("take a permission from a role"))
        p.add_argument("role")
        p.add_argument("permission")
        p.set_defaults(func=change_permission, grant=action == "grant")


def list_roles(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    app, actor = ctx.app(), ctx.actor()
    return [{"code": r.code, "name": r.name, "scope": r.scope, "builtin": r.builtin,
             "permissions": sorted(r.permissions)} for r in app.identity.list_roles(actor)]


def list_permissions(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    app = ctx.app()
    return [{"id": p.id, "title": _(p.title), "default_roles": ", ".join(p.default_roles)}
            for p in app.plugins.permissions()]


def add_role(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    app, actor = ctx.app(), ctx.actor()
    app.identity.create_role(actor, args.code, args.name or args.code, args.scope)
    return {"created": args.code, "scope": args.scope}


def change_permission(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.errors import InvalidInput

    app, actor = ctx.app(), ctx.actor()
    known = {p.id for p in app.plugins.permissions()}
    if args.permission not in known:
        raise InvalidInput(_("Unknown permission {name!r}: see 'venue-suite role permissions'.").format(name=args.permission))
    if args.grant:
        app.identity.grant(actor, args.role, args.permission)
    else:
        app.identity.revoke(actor, args.role, args.permission)
    return {"role": args.role, "permission": args.permission, "granted": args.grant}
