"""venue-suite venue add|list ; venue-suite terminal add|list"""

from __future__ import annotations

import argparse
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    if verb == "venue":
        add = sub.add_parser("add", help=_("add a venue"))
        add.add_argument("code")
        add.add_argument("--name", default="")
        add.add_argument("--kind", default="venue")
        add.set_defaults(func=add_venue)
        sub.add_parser("list", help=_("list venues")).set_defaults(func=list_venues)
    else:
        add = sub.add_parser("add", help=_("register a terminal (counted against the licence)"))
        add.add_argument("venue_code")
        add.add_argument("code")
        add.add_argument("--name", default="")
        add.set_defaults(func=add_terminal)
        lst = sub.add_parser("list", help=_("list terminals"))
        lst.add_argument("--venue")
        lst.set_defaults(func=list_terminals)


def add_venue(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite import places

    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "admin.settings")
    with app.uow() as uow:
        venue = places.add_venue(uow.session, code=args.code, name=args.name, kind=args.kind, actor=actor.username)
        uow.commit()
        return {"id": str(venue.id), "code": venue.code, "name": venue.name, "kind": venue.kind}


def list_venues(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from suite import places

    app = ctx.app()
    with app.uow.read() as uow:
        return [{"code": v.code, "name": v.name, "kind": v.kind, "active": v.active, "id": str(v.id)}
                for v in places.list_venues(uow.session)]


def terminal_limit(app: Any) -> int | None:
    """The licence's terminal count; with no licence installed a chain may run one terminal."""
    licence = app.licences.current()
    return licence.max_terminals if licence is not None else 1


def add_terminal(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite import places

    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "admin.settings")
    with app.uow() as uow:
        terminal = places.add_terminal(uow.session, venue_code=args.venue_code, code=args.code, name=args.name,
                                       actor=actor.username, max_terminals=terminal_limit(app))
        uow.commit()
        return {"id": str(terminal.id), "venue": args.venue_code.upper(), "code": terminal.code, "name": terminal.name}


def list_terminals(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from suite import places

    app = ctx.app()
    with app.uow.read() as uow:
        return [{"venue": v.code, "code": t.code, "name": t.name, "active": t.active, "id": str(t.id)}
                for v, t in places.list_terminals(uow.session, args.venue)]
