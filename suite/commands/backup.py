"""venue-suite backup [--to DIR] ; venue-suite restore FILE"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    if verb == "backup":
        parser.add_argument("--to", help=_("folder for the backup (default: [backup] directory)"))
        parser.set_defaults(func=run_backup)
    else:
        parser.add_argument("file", help=_("a backup made by 'venue-suite backup'"))
        parser.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
        parser.set_defaults(func=run_restore)


def _directory(ctx: Any, override: str | None) -> Path:
    settings = ctx.settings
    return Path(override) if override else Path(settings.expand(settings.backup.directory))


def run_backup(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.audit.log import record
    from suite.backup import backup

    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "admin.backup")
    result = backup(app.engine, _directory(ctx, args.to), keep=ctx.settings.backup.keep)
    with app.uow() as uow:
        record(uow.session, kind="operation", action="backup.create", actor=actor.username,
               target=str(result.path), details={"size": result.size}, venue_id=app.venue_id, terminal_id=app.terminal_id)
        uow.commit()
    return {"path": str(result.path), "size": result.size, "backend": result.backend}


def run_restore(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.backup import restore
    from suite.errors import InvalidInput

    if not args.yes:
        import sys

        if not sys.stdin.isatty():
            raise InvalidInput(_("Restoring replaces the whole database: add --yes to confirm."))
        answer = input(_("Restoring replaces the whole database. Type 'yes' to go on: "))
        if answer.strip().lower() != "yes":
            raise InvalidInput(_("Restore cancelled."))
    app, actor = ctx.app(start_plugins=False), ctx.actor()
    app.identity.require(actor, "admin.backup")
    safety = restore(app.engine, Path(args.file), _directory(ctx, None))
    return {"restored": args.file, "previous_saved_as": str(safety.path)}
