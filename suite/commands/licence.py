"""venue-suite license keygen|issue (vendor) and install|show (administrator)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    keygen = sub.add_parser("keygen", help=_("vendor: make the signing key (kept in the keyring); prints the public key"))
    keygen.add_argument("--force", action="store_true", help=_("replace an existing signing key"))
    keygen.set_defaults(func=keygen_cmd)
    issue = sub.add_parser("issue", help=_("vendor: sign a licence with the key in the keyring"))
    issue.add_argument("--chain", required=True, help=_("chain id"))
    issue.add_argument("--licensee", required=True)
    issue.add_argument("--features", required=True, help=_("comma-separated plugin features"))
    issue.add_argument("--max-terminals", type=int, required=True)
    issue.add_argument("--max-cards", type=int, required=True, help=_("activated card limit"))
    issue.add_argument("--expires", required=True, help="YYYY-MM-DD")
    issue.add_argument("--issued", help="YYYY-MM-DD")
    issue.add_argument("--grace-days", type=int, default=30)
    issue.add_argument("--out", help=_("file to write (default: standard output)"))
    issue.set_defaults(func=issue_cmd)
    install = sub.add_parser("install", help=_("administrator: install a licence file ('-' for standard input)"))
    install.add_argument("file")
    install.set_defaults(func=install_cmd)
    show = sub.add_parser("show", help=_("show the licence in force and its state"))
    show.add_argument("--all", action="store_true", help=_("also list every licence ever installed"))
    show.set_defaults(func=show_cmd)


def _date(value: str | None, what: str) -> dt.date | None:
    from suite.errors import InvalidInput

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("{what}: expected a date as YYYY-MM-DD, got {value!r}.").format(what=what, value=value)) from None


def _secrets(ctx: Any) -> Any:
    from suite.bootstrap import open_secrets

    return open_secrets(ctx.settings)


def keygen_cmd(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.licensing.service import LicenceService

    public = LicenceService.keygen(_secrets(ctx), force=args.force)
    return {"public_key": public, "hint": _("Add it to [licensing] public_keys on every terminal.")}


def issue_cmd(ctx: Any, args: argparse.Namespace) -> dict[str, Any] | None:
    from suite.licensing.service import LicenceService

    text = LicenceService.issue_with_keyring(
        _secrets(ctx), chain_id=args.chain, licensee=args.licensee,
        features=[f.strip() for f in args.features.split(",") if f.strip()],
        max_terminals=args.max_terminals, max_activated_cards=args.max_cards,
        expires=_date(args.expires, "--expires"), issued=_date(args.issued, "--issued"), grace_days=args.grace_days)
    if args.out:
        Path(args.out).write_text(text)
        return {"written": args.out}
    if args.json:
        return {"licence": text}
    sys.stdout.write(text)
    return None


def licence_dict(licence: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else list(v) if isinstance(v, tuple) else v)
            for k, v in licence.as_dict().items()}


def install_cmd(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.errors import InvalidInput

    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "admin.licence")
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(_("Cannot read the licence file {path}: {reason}").format(path=args.file, reason=exc)) from None
    licence = app.licences.install(text, actor.username)
    app.plugins.refresh()
    return {"installed": licence_dict(licence), "status": app.licences.status().message}


def show_cmd(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    app = ctx.app()
    status = app.licences.status()
    result: dict[str, Any] = {"state": str(status.state), "message": status.message, "days_left": status.days_left,
                              "licence": licence_dict(status.licence) if status.licence else None}
    if args.all:
        result["history"] = [{"licence_id": i.licence_id, "chain_id": i.chain_id,
                              "installed_at": i.installed_at.isoformat(timespec="seconds"),
                              "installed_by": i.installed_by, "active": i.active} for i in app.licences.installed()]
    return result
