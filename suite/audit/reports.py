"""The audit log as a report: operation and security events, filtered and charted per day."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, case, select

from suite.audit.models import AuditEvent
from suite.db.core_models import Venue
from suite.i18n import N_, _
from suite.reporting.common import period, venue_scope
from suite.reporting.filters import day_bounds, venue_clause
from suite.reporting.spec import (ChartAggregate, ChartSpec, Column, ColumnKind, Param, ParamKind, ReportContext,
                                  ReportSpec)

_events = AuditEvent.__table__
_venues = Venue.__table__

KIND_ALL = "all"


def _query(ctx: ReportContext, params: Mapping[str, Any]) -> Select[Any]:
    kind_label = case({"operation": _("operation"), "security": _("security")}, value=_events.c.kind,
                      else_=_events.c.kind)
    query = (select(_events.c.seq, _events.c.at.label("time"), kind_label.label("kind"), _events.c.action,
                    _events.c.actor, _events.c.target, _venues.c.code.label("venue"))
             .select_from(_events.outerjoin(_venues, _venues.c.id == _events.c.venue_id))
             .order_by(_events.c.seq))
    if params.get("period"):
        start, end = day_bounds(params["period"])
        query = query.where(_events.c.at >= start, _events.c.at < end)
    kind = params.get("kind") or KIND_ALL
    if kind != KIND_ALL:
        query = query.where(_events.c.kind == kind)
    if params.get("actor"):
        query = query.where(_events.c.actor == params["actor"])
    return query.where(venue_clause(ctx, params.get("scope"), _events.c.venue_id))


AUDIT_LOG = ReportSpec(
    id="core.audit_log",
    title=N_("Audit log"),
    description=N_("Operation and security events, oldest first."),
    columns=(
        Column("seq", N_("No."), ColumnKind.INT, width=8),
        Column("time", N_("Time"), ColumnKind.DATETIME, width=17),
        Column("kind", N_("Log"), width=10),
        Column("action", N_("Action"), width=24),
        Column("actor", N_("Operator"), width=16),
        Column("target", N_("Target"), width=30),
        Column("venue", N_("Venue"), width=10),
    ),
    params=(
        period(),
        Param("kind", N_("Log"), ParamKind.CHOICE, default=KIND_ALL,
              choices=((KIND_ALL, N_("All")), ("operation", N_("Operation log")), ("security", N_("Security log")))),
        Param("actor", N_("Operator"), ParamKind.USER, help=N_("user name; empty for everyone")),
        venue_scope(),
    ),
    query=_query,
    chart=ChartSpec(day="time", value="seq", title=N_("Events per day"), aggregate=ChartAggregate.COUNT),
)

__all__ = ["AUDIT_LOG"]
