"""venue-suite init: database, first administrator, venue and terminal."""

from __future__ import annotations

import argparse
from typing import Any

from suite.commands.prompts import new_password
from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--admin", default="admin", help=_("username of the first administrator"))
    parser.add_argument("--admin-name", default="", help=_("display name of the administrator"))
    parser.add_argument("--venue-name", default="", help=_("name of this terminal's venue"))
    parser.add_argument("--venue-kind", default="head_office")
    parser.add_argument("--terminal-name", default="")
    parser.set_defaults(func=run_init)


def run_init(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from suite import places
    from suite.db.core_models import Terminal, Venue
    from suite.identity.actor import Actor
    from suite.identity.models import User

    app = ctx.app(upgrade=True)
    settings = app.settings
    actor = Actor.system("init")
    created: list[str] = []
    with app.uow() as uow:
        session = uow.session
        venue = session.scalar(select(Venue).where(Venue.code == settings.terminal.venue_code.upper()))
        if venue is None:
            venue = places.add_venue(session, code=settings.terminal.venue_code,
                                     name=args.venue_name or settings.terminal.venue_code,
                                     kind=args.venue_kind, actor=actor.username)
            created.append(f"venue {venue.code}")
        terminal = session.scalar(select(Terminal).where(Terminal.venue_ref == venue.id,
                                                         Terminal.code == settings.terminal.terminal_code.upper()))
        if terminal is None:
            terminal = places.add_terminal(session, venue_code=venue.code, code=settings.terminal.terminal_code,
                                           name=args.terminal_name, actor=actor.username, max_terminals=None)
            created.append(f"terminal {terminal.code}")
        users = session.scalar(select(func.count()).select_from(User)) or 0
        uow.commit()
        venue_id, terminal_id = venue.id, terminal.id
    app.venue_id, app.terminal_id = venue_id, terminal_id
    app.identity.sync_roles(app.plugins.permissions())
    if users == 0:
        app.identity.create_user(actor, username=args.admin, password=new_password(args.admin, "VENUE_SUITE_ADMIN_PASSWORD"),
                                 display_name=args.admin_name or args.admin, language=settings.suite.language,
                                 roles=("system_admin",))
        created.append(f"administrator {args.admin}")
    from suite.db.engine import describe

    return {"database": describe(app.engine), "venue": settings.terminal.venue_code.upper(),
            "terminal": settings.terminal.terminal_code.upper(), "created": created}
