"""venue-suite secret set|delete NAME (values are read from standard input or a prompt)"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    put = sub.add_parser("set", help=_("store a secret (value from standard input, or a prompt)"))
    put.add_argument("name")
    put.set_defaults(func=set_secret)
    delete = sub.add_parser("delete", help=_("remove a secret"))
    delete.add_argument("name")
    delete.set_defaults(func=delete_secret)


def _store(ctx: Any) -> Any:
    from suite.bootstrap import open_secrets

    return open_secrets(ctx.settings)


def set_secret(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.errors import InvalidInput

    value = getpass.getpass(_("Value for {name}: ").format(name=args.name)) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not value:
        raise InvalidInput(_("An empty secret was not stored."))
    _store(ctx).set(args.name, value)
    return {"stored": args.name}


def delete_secret(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    _store(ctx).delete(args.name)
    return {"deleted": args.name}
