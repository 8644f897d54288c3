"""What plugins' command-line verbs share: typed amounts in yuan (never through floats) and the
operator a verb acts as (``--user``, or the console's system actor)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import re
from typing import Any

from suite.errors import InvalidInput
from suite.i18n import _

_YUAN = re.compile(r"^(\d{1,10})(?:\.(\d{1,2}))?$")


def yuan_to_fen(text: str) -> int:
    """``"100"``, ``"100.5"``, ``"100.05"`` -> 10000, 10050, 10005 (no floats)."""
    match = _YUAN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(_("{value!r} is not an amount in yuan (like 100 or 99.50).").format(value=text))
    return int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))


def yuan_argument(value: str) -> int:
    """An argparse ``type``: yuan text to fen, a usage error otherwise."""
    try:
        return yuan_to_fen(value)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


def date_argument(value: str) -> dt.date:
    """An argparse ``type``: a date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(_("{value!r} is not a date (YYYY-MM-DD).").format(value=value)) from exc


def verb_actor(app: Any, args: argparse.Namespace) -> Any:
    """The operator a verb acts as: the ``--user`` the host logged in, else the console."""
    from suite.identity.actor import Actor

    if getattr(args, "user", None):
        return app.identity.actor_for(args.user, venue_id=app.venue_id, terminal_id=app.terminal_id)
    return Actor.system(f"console:{getpass.getuser()}", venue_id=app.venue_id, terminal_id=app.terminal_id)


__all__ = ["date_argument", "verb_actor", "yuan_argument", "yuan_to_fen"]
