"""venue-suite ledger check|accounts|entries"""

from __future__ import annotations

import argparse
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("check", help=_("verify every entry balances and every balance equals its lines")).set_defaults(func=check)
    accounts = sub.add_parser("accounts", help=_("list accounts and balances"))
    accounts.add_argument("--owner-type")
    accounts.add_argument("--limit", type=int, default=200)
    accounts.set_defaults(func=list_accounts)
    entries = sub.add_parser("entries", help=_("list the newest journal entries"))
    entries.add_argument("--limit", type=int, default=50)
    entries.set_defaults(func=list_entries)


def check(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.ledger.service import check as ledger_check

    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "ledger.check")
    with app.uow.read() as uow:
        result = ledger_check(uow.session)
    payload = {"ok": result.ok, "entries_checked": result.entries_checked,
               "accounts_checked": result.accounts_checked,
               "problems": [problem_dict(p) for p in result.problems]}
    if not result.ok:
        from suite.commands.prompts import check_failed

        raise check_failed("ledger_check_failed", _("The ledger check found {n} problems.").format(
            n=len(result.problems)), payload["problems"])
    return payload


def problem_dict(problem: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    data = asdict(problem) if is_dataclass(problem) else {"message": str(problem)}
    return {k: (str(v) if v is not None and not isinstance(v, (int, str, bool)) else v) for k, v in data.items()}


def list_accounts(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from suite.ledger.models import Account

    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "ledger.view")
    query = select(Account).order_by(Account.owner_type, Account.owner_id, Account.kind).limit(args.limit)
    if args.owner_type:
        query = query.where(Account.owner_type == args.owner_type)
    with app.uow.read() as uow:
        return [{"id": str(a.id), "owner": f"{a.owner_type}:{a.owner_id}", "kind": a.kind, "unit": a.unit,
                 "balance": a.balance, "floor": a.floor} for a in uow.session.scalars(query)]


def list_entries(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from suite.ledger.models import JournalEntry

    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "ledger.view")
    query = select(JournalEntry).order_by(JournalEntry.id.desc()).limit(args.limit)
    with app.uow.read() as uow:
        return [{"id": str(e.id), "at": e.created_at.isoformat(timespec="seconds"), "kind": e.kind,
                 "key": e.idempotency_key, "memo": e.memo, "actor": e.actor,
                 "reverses": str(e.reverses_id) if e.reverses_id else None}
                for e in uow.session.scalars(query)]
