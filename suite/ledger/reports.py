"""The ledger journal as a report: one row per journal line, with its entry and account.

The lines are read in their primary-key order (entry id, position); entry ids are UUIDv7, so
that is time order, and a period becomes a range scan of that key before the exact test on
the entry's time. Amounts are in one unit per run (the ``unit`` parameter, the suite's
currency by default): totals across units would mean nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, literal, select

from suite.i18n import N_
from suite.ledger.models import Account, Entry, Line
from suite.reporting.common import period, venue_scope
from suite.reporting.filters import day_bounds, key_range, uuid_text, venue_clause
from suite.reporting.spec import (ChartAggregate, ChartSpec, Column, ColumnKind, Param, ParamKind, ReportContext,
                                  ReportSpec)

_lines = Line.__table__
_entries = Entry.__table__
_accounts = Account.__table__

DEFAULT_UNIT = "CNY"


def owner_clause(owner: str) -> Any:
    """``card:C1`` (type and id) or ``C1`` (the id alone) -> a condition on the account."""
    owner_type, sep, owner_id = owner.partition(":")
    if sep and owner_type and owner_id:
        return (_accounts.c.owner_type == owner_type.strip()) & (_accounts.c.owner_id == owner_id.strip())
    return _accounts.c.owner_id == owner.strip()


def _query(ctx: ReportContext, params: Mapping[str, Any]) -> Select[Any]:
    owner = _accounts.c.owner_type + literal(":") + _accounts.c.owner_id
    query = (select(_entries.c.created_at.label("time"), uuid_text(_lines.c.entry_id).label("entry"), _entries.c.kind,
                    _entries.c.idempotency_key.label("key"), owner.label("owner"),
                    _accounts.c.kind.label("account_kind"), _lines.c.unit, _lines.c.amount, _lines.c.balance_after,
                    _entries.c.memo, _entries.c.actor)
             .select_from(_lines.join(_entries, _entries.c.id == _lines.c.entry_id)
                          .join(_accounts, _accounts.c.id == _lines.c.account_id))
             .where(_lines.c.unit == (params.get("unit") or DEFAULT_UNIT))
             .order_by(_lines.c.entry_id, _lines.c.position))
    if params.get("period"):
        start, end = day_bounds(params["period"])
        query = query.where(key_range(_lines.c.entry_id, start, end), _entries.c.created_at >= start,
                            _entries.c.created_at < end)
    if params.get("owner"):
        query = query.where(owner_clause(params["owner"]))
    if params.get("kind"):
        query = query.where(_entries.c.kind == params["kind"])
    return query.where(venue_clause(ctx, params.get("scope"), _entries.c.venue_id))


JOURNAL = ReportSpec(
    id="core.ledger_journal",
    title=N_("Ledger journal"),
    description=N_("Every line of every journal entry in one unit, oldest first; each entry's lines sum to zero."),
    columns=(
        Column("time", N_("Time"), ColumnKind.DATETIME, width=17),
        Column("entry", N_("Entry"), width=36),
        Column("kind", N_("Movement"), width=16),
        Column("key", N_("Operation key"), width=24),
        Column("owner", N_("Account owner"), width=20),
        Column("account_kind", N_("Account"), width=14),
        Column("unit", N_("Unit"), width=7),
        Column("amount", N_("Amount"), ColumnKind.MONEY, total=True, width=14, unit_param="unit"),
        Column("balance_after", N_("Balance after"), ColumnKind.MONEY, width=14, unit_param="unit"),
        Column("memo", N_("Memo"), width=24),
        Column("actor", N_("Operator"), width=14),
    ),
    params=(
        period(),
        Param("owner", N_("Account owner"), ParamKind.TEXT,
              help=N_("type:id (card:10001, venue:HQ) or the id alone; empty for every account")),
        Param("kind", N_("Movement"), ParamKind.TEXT, help=N_("entry kind, e.g. wallet.topup; empty for all")),
        Param("unit", N_("Unit"), ParamKind.TEXT, default=DEFAULT_UNIT,
              help=N_("currency (CNY) or points, counts...")),
        venue_scope(),
    ),
    query=_query,
    # every entry balances, so the positive lines of a day are the money that moved that day
    chart=ChartSpec(day="time", value="amount", title=N_("Money moved per day"),
                    aggregate=ChartAggregate.SUM_POSITIVE),
)

__all__ = ["JOURNAL", "owner_clause"]
