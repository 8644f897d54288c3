"""venue-suite audit verify|list"""

from __future__ import annotations

import argparse
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("verify", help=_("check the hash chain: finds edited, deleted or reordered rows")).set_defaults(func=verify)
    lst = sub.add_parser("list", help=_("show the newest events"))
    lst.add_argument("--kind", choices=["operation", "security"])
    lst.add_argument("--limit", type=int, default=50)
    lst.set_defaults(func=list_events)


def verify(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.commands.prompts import check_failed

    result = ctx.app().audit.verify(ctx.actor())
    problems = [{"seq": p.seq, "problem": p.problem, "message": p.message} for p in result.problems]
    if not result.ok:
        message = _("The audit log has been tampered with: {n} problems.").format(n=len(problems))
        raise check_failed("audit_tampered", "\n".join([message, *(str(p["message"]) for p in problems)]), problems)
    return {"ok": True, "checked": result.checked}


def list_events(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    return [{"seq": e.seq, "at": e.at.isoformat(timespec="seconds"), "kind": e.kind, "action": e.action,
             "actor": e.actor, "target": e.target}
            for e in ctx.app().audit.events(ctx.actor(), kind=args.kind, limit=args.limit)]
