"""venue-suite user add|list|passwd|disable|enable|grant|revoke|card"""

from __future__ import annotations

import argparse
from typing import Any

from suite.commands.prompts import new_password
from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    add = sub.add_parser("add", help=_("create a user (password from $VENUE_SUITE_NEW_PASSWORD, stdin or a prompt)"))
    add.add_argument("username")
    add.add_argument("--name", default="")
    add.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    add.add_argument("--role", action="append", default=[], help=_("role code; repeat for several"))
    add.add_argument("--venue", help=_("venue code the roles apply to (default: chain-wide)"))
    add.set_defaults(func=add_user)
    sub.add_parser("list", help=_("list users")).set_defaults(func=list_users)
    passwd = sub.add_parser("passwd", help=_("set a user's password"))
    passwd.add_argument("username")
    passwd.set_defaults(func=set_password)
    for action, active in (("disable", False), ("enable", True)):
        p = sub.add_parser(action, help=_("disable a user") if not active else _("enable a user"))
        p.add_argument("username")
        p.set_defaults(func=set_active, active=active)
    for action in ("grant", "revoke"):
        p = sub.add_parser(action, help=_("give a role to a user") if action == "grant" else _("take a role from a user"))
        p.add_argument("username")
        p.add_argument("role")
        p.add_argument("--venue")
        p.set_defaults(func=change_role, grant=action == "grant")
    card = sub.add_parser("card", help=_("bind an operator card UID (hex) to a user; --clear to unbind"))
    card.add_argument("username")
    card.add_argument("uid", nargs="?")
    card.add_argument("--clear", action="store_true")
    card.set_defaults(func=bind_card)


def _venue_id(app: Any, code: str | None) -> Any:
    if not code:
        return None
    from suite.errors import NotFound

    for venue in app.places.venues():
        if venue.code == code.strip().upper():
            return venue.id
    raise NotFound(_("No venue with code {code}.").format(code=code))


def user_dict(user: Any, venue_codes: dict[Any, str]) -> dict[str, Any]:
    roles = [r.role_code if r.venue_id is None else f"{r.role_code}@{venue_codes.get(r.venue_id, r.venue_id)}"
             for r in user.roles]
    return {"username": user.username, "name": user.display_name, "language": user.language,
            "active": user.active, "roles": ", ".join(roles), "card": user.operator_card_uid,
            "locked_until": user.locked_until.isoformat(timespec="seconds") if user.locked_until else None}


def add_user(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    app, actor = ctx.app(), ctx.actor()
    app.identity.create_user(actor, username=args.username, password=new_password(args.username, "VENUE_SUITE_NEW_PASSWORD"),
                             display_name=args.name, language=args.language, roles=tuple(args.role),
                             venue_id=_venue_id(app, args.venue))
    return {"created": args.username, "roles": args.role}


def list_users(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    app, actor = ctx.app(), ctx.actor()
    users = app.identity.list_users(actor)
    codes = {v.id: v.code for v in app.places.venues()}
    return [user_dict(u, codes) for u in users]


def set_password(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    app, actor = ctx.app(), ctx.actor()
    app.identity.set_password(actor, args.username, new_password(args.username, "VENUE_SUITE_NEW_PASSWORD"))
    return {"password_set": args.username}


def set_active(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    app, actor = ctx.app(), ctx.actor()
    app.identity.set_active(actor, args.username, args.active)
    return {"username": args.username, "active": args.active}


def change_role(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    app, actor = ctx.app(), ctx.actor()
    venue_id = _venue_id(app, args.venue)
    if args.grant:
        app.identity.assign_role(actor, args.username, args.role, venue_id=venue_id)
    else:
        app.identity.revoke_role(actor, args.username, args.role, venue_id=venue_id)
    return {"username": args.username, "role": args.role, "granted": args.grant, "venue": args.venue}


def bind_card(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.errors import InvalidInput

    if not args.clear and not args.uid:
        raise InvalidInput(_("Give the card UID, or --clear to unbind."))
    app, actor = ctx.app(), ctx.actor()
    app.identity.bind_card(actor, args.username, None if args.clear else args.uid)
    return {"username": args.username, "card": None if args.clear else args.uid.upper()}
