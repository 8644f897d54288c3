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
    app = ctx.app()
    venue = app.places.add_venue(ctx.actor(), code=args.code, name=args.name, kind=args.kind)
    return {"id": str(venue.id), "code": venue.code, "name": venue.name, "kind": venue.kind}


def list_venues(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    return [{"code": v.code, "name": v.name, "kind": v.kind, "active": v.active, "id": str(v.id)}
            for v in ctx.app().places.venues()]


def add_terminal(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    app = ctx.app()
    terminal = app.places.add_terminal(ctx.actor(), venue_code=args.venue_code, code=args.code, name=args.name)
    return {"id": str(terminal.id), "venue": terminal.venue_code, "code": terminal.code, "name": terminal.name}


def list_terminals(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    return [{"venue": t.venue_code, "code": t.code, "name": t.name, "active": t.active, "id": str(t.id)}
            for t in ctx.app().places.terminals(args.venue)]
