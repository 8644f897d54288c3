"""Running reports: which ones an operator may see, typed parameters, and a ``ReportRun``
that counts, pages, streams, totals and charts a report in the database.

Every method of ``ReportRun`` opens its own read-only unit of work (``app.uow.read()``), so a
run made on the Tk thread can page there and stream an export from a worker thread at once;
on SQLite a read unit of work never blocks the writers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Select, Uuid, case, func, select, type_coerce
from sqlalchemy.types import NullType
from sqlalchemy.orm import Session

from suite.errors import InvalidInput, NotFound
from suite.i18n import _
from suite.ledger.money import is_currency
from suite.reporting.filters import UuidText, as_date, local_day
from suite.reporting.formats import format_cell, format_money, formatter, local_datetime
from suite.reporting.params import coerce_params, parse_params, split_assignments
from suite.reporting.spec import (MAX_CHART_POINTS, ChartAggregate, Column, ColumnKind, ReportContext, ReportSpec,
                                  column_index)

if TYPE_CHECKING:
    from suite.bootstrap import App
    from suite.declarations import ReportDecl
    from suite.identity.actor import Actor

log = logging.getLogger(__name__)

#: needed to see any report (besides the report's own permission), and to export one
VIEW_PERMISSION = "reports.view"
EXPORT_PERMISSION = "reports.export"
CHAIN_PERMISSION = "reports.chain"
DEFAULT_BATCH = 5000


@dataclass(frozen=True)
class AvailableReport:
    id: str
    title: str  # translated
    spec: ReportSpec
    plugin_id: str
    permission: str | None = None


def load_spec(decl: "ReportDecl") -> ReportSpec:
    from suite.plugins import PluginUnavailable, resolve_ref

    spec = resolve_ref(decl.spec)
    if not isinstance(spec, ReportSpec):
        raise PluginUnavailable(_("The report {id!r} points at {ref!r}, which is not a ReportSpec.").format(
            id=decl.id, ref=decl.spec))
    if spec.query is None and spec.rows is None:
        raise PluginUnavailable(_("The report {id!r} gives neither a query nor rows.").format(id=decl.id))
    return spec


def available_reports(app: "App", actor: "Actor") -> list[AvailableReport]:
    """Reports of active plugins that ``actor`` may run, in declaration order.

    A report whose spec cannot be loaded (a broken third-party plugin) is left out and logged.
    """
    if not actor.has_permission(VIEW_PERMISSION):
        return []
    found: list[AvailableReport] = []
    for decl in app.plugins.reports(actor):
        try:
            spec = load_spec(decl)
            owner = app.plugins.owner_of_report(decl.id)
        except Exception:  # noqa: BLE001 - one broken report must not hide the others
            log.exception("report %s cannot be loaded", decl.id)
            continue
        found.append(AvailableReport(decl.id, _(decl.title), spec, owner, decl.permission))
    return found


def _find_decl(app: "App", report_id: str) -> "ReportDecl":
    for manifest in app.plugins.manifests():
        for decl in manifest.reports:
            if decl.id == report_id:
                return decl
    known = sorted(d.id for m in app.plugins.manifests() for d in m.reports)
    raise NotFound(_("There is no report {id!r}; the reports are: {known}.").format(
        id=report_id, known=", ".join(known)), report=report_id)


def effective_columns(spec: ReportSpec, params: Mapping[str, Any]) -> tuple[Column, ...]:
    """The spec's columns as they apply to ``params``: a MONEY column whose ``unit_param`` is
    not a currency (points, counts) becomes a COUNT column."""
    columns = []
    for column in spec.columns:
        if column.kind is ColumnKind.MONEY and column.unit_param:
            unit = params.get(column.unit_param)
            if isinstance(unit, str) and unit and not is_currency(unit):
                column = dataclasses.replace(column, kind=ColumnKind.COUNT)
        columns.append(column)
    return tuple(columns)


def _light(query: Select[Any]) -> Select[Any]:
    """``query`` with its datetimes as the driver returns them and UUIDs as text: building
    ``datetime``/``UUID`` objects is most of the cost of reading a million rows in Python."""
    columns = []
    changed = False
    for column in query.selected_columns:
        kind = getattr(column.type, "impl_instance", column.type)
        name = getattr(column, "key", None) or getattr(column, "name", None)
        if isinstance(kind, DateTime):
            columns.append(type_coerce(column, NullType()).label(name))
            changed = True
        elif isinstance(kind, Uuid):
            columns.append(type_coerce(column, UuidText()).label(name))
            changed = True
        else:
            columns.append(column)
    return query.with_only_columns(*columns, maintain_column_froms=True) if changed else query


def _unordered(query: Select[Any]) -> Select[Any]:
    if getattr(query, "_limit_clause", None) is None and getattr(query, "_offset_clause", None) is None:
        return query.order_by(None)
    return query


class ReportRun:
    """One report with its parameters, for one actor.

    Construction checks the actor holds ``reports.view`` and the report's own permission and
    that the plugin declaring it may be used (licence), and types the parameters (text is
    parsed as ``parse_params`` does). Raises ``NotFound``, ``PermissionDenied``,
    ``PluginUnavailable``/``LicenceError`` or ``InvalidInput``.
    """

    def __init__(self, app: "App", actor: "Actor", report_id: str, params: Mapping[str, Any] | None = None) -> None:
        from suite.licensing import Purpose

        self.app = app
        self.actor = actor
        self.report_id = report_id
        self.decl = _find_decl(app, report_id)
        self.plugin_id = app.plugins.owner_of_report(report_id)
        app.plugins.require_active(self.plugin_id, Purpose.ADMIN)
        app.identity.require(actor, VIEW_PERMISSION)
        if self.decl.permission:
            app.identity.require(actor, self.decl.permission)
        self.spec: ReportSpec = load_spec(self.decl)
        self.today = dt.date.today()
        self.params: dict[str, Any] = coerce_params(self.spec, params or {}, today=self.today)
        self._limit_scope(params or {})
        self.columns: tuple[Column, ...] = effective_columns(self.spec, self.params)
        self.title: str = _(self.decl.title)

    def _limit_scope(self, given: Mapping[str, Any]) -> None:
        """Chain-wide figures need ``reports.chain`` (chain roles); a venue role's report
        defaults to its own venue and asking for the chain is refused (and audited)."""
        from suite.reporting.filters import CHAIN, LOCAL
        from suite.reporting.spec import ParamKind

        for param in self.spec.params:
            if param.kind != ParamKind.VENUE_SCOPE or self.params.get(param.name) != CHAIN:
                continue
            if param.name in given:
                self.app.identity.require(self.actor, CHAIN_PERMISSION)
            elif not self.actor.has_permission(CHAIN_PERMISSION):
                self.params[param.name] = LOCAL

    # ------------------------------------------------------------ helpers

    @property
    def can_export(self) -> bool:
        return self.actor.has_permission(EXPORT_PERMISSION)

    def require_export(self) -> None:
        """``PermissionDenied`` (and a security event) unless the actor may export reports."""
        self.app.identity.require(self.actor, EXPORT_PERMISSION)

    def context(self, session: Session) -> ReportContext:
        return ReportContext(session=session, actor=self.actor, venue_id=self.app.venue_id, today=self.today,
                             settings=getattr(self.app, "settings", None))

    def _query(self, session: Session) -> Select[Any]:
        assert self.spec.query is not None
        return self.spec.query(self.context(session), self.params)

    def _rows(self, session: Session) -> Iterator[Sequence[Any]]:
        assert self.spec.rows is not None
        return iter(self.spec.rows(self.context(session), self.params))

    def describe_params(self) -> list[tuple[str, str]]:
        """(translated label, value as text) of every parameter, for an export's header."""
        from suite.reporting.params import RANGE_SEPARATOR

        described = []
        for param in self.spec.params:
            value = self.params.get(param.name)
            if value is None:
                text = ""
            elif isinstance(value, tuple):
                text = RANGE_SEPARATOR.join(v.isoformat() if isinstance(v, dt.date) else str(v) for v in value)
            elif isinstance(value, dt.date):
                text = value.isoformat()
            else:
                text = str(value)
                labels = {v: _(label) for v, label in param.choices}
                text = labels.get(text, text)
            described.append((_(param.label) if param.label else param.name, text))
        return described

    # ------------------------------------------------------------ reading

    def count(self) -> int:
        """The number of rows (SQL ``COUNT`` over the report's query)."""
        with self.app.uow.read() as uow:
            if self.spec.query is None:
                return sum(1 for _row in self._rows(uow.session))
            query = _unordered(self._query(uow.session))
            return int(uow.session.execute(select(func.count()).select_from(query.subquery())).scalar_one())

    def page(self, offset: int, limit: int) -> list[tuple[Any, ...]]:
        """Rows ``offset`` .. ``offset + limit - 1`` (``LIMIT``/``OFFSET`` in the database)."""
        if offset < 0 or limit < 0:
            raise InvalidInput(_("The page must start at 0 or later and hold 0 rows or more."))
        with self.app.uow.read() as uow:
            if self.spec.query is None:
                return [tuple(row) for row in islice(self._rows(uow.session), offset, offset + limit)]
            query = self._query(uow.session).limit(limit).offset(offset)
            return [tuple(row) for row in uow.session.execute(query)]

    def iter_rows(self, batch: int = DEFAULT_BATCH, *, light: bool = False) -> Iterator[Sequence[Any]]:
        """Every row, streamed ``batch`` at a time (server-side cursor on PostgreSQL); nothing
        is loaded whole. Rows are sequences (SQLAlchemy rows or tuples). Closing the iterator
        early (``.close()``, or dropping it) ends the query and its unit of work.

        ``light``: datetime columns come as the driver returns them (on SQLite, UTC text
        ``YYYY-MM-DD HH:MM:SS.ffffff``) and UUIDs as text; the exports' formatters take both.
        """
        with self.app.uow.read() as uow:
            if self.spec.query is None:
                yield from self._rows(uow.session)
                return
            query = self._query(uow.session)
            if light:
                query = _light(query)
            result = uow.session.execute(query.execution_options(yield_per=batch, stream_results=True))
            try:
                for part in result.partitions(batch):
                    yield from part
            finally:
                result.close()

    def totals(self) -> dict[str, int]:
        """``SUM`` of every ``total=True`` column (0 when there are no rows)."""
        indexes = [i for i, c in enumerate(self.spec.columns) if c.total]
        if not indexes:
            return {}
        names = [self.spec.columns[i].name for i in indexes]
        with self.app.uow.read() as uow:
            if self.spec.query is None:
                sums = [0] * len(indexes)
                for row in self._rows(uow.session):
                    for n, i in enumerate(indexes):
                        if row[i] is not None:
                            sums[n] += row[i]
                return dict(zip(names, sums))
            sub = _unordered(self._query(uow.session)).subquery()
            cols = list(sub.c)
            row = uow.session.execute(select(*[func.coalesce(func.sum(cols[i]), 0) for i in indexes])).one()
            return {name: int(value) for name, value in zip(names, row)}

    def daily_totals(self) -> list[tuple[dt.date, int]]:
        """(local day, figure) per day that has rows, oldest first, for the spec's chart
        (``[]`` when the spec has none or charts by category). Grouped in the database on SQLite
        and PostgreSQL."""
        chart = self.spec.chart
        if chart is None or chart.category is not None:
            return []
        day_index, value_index = column_index(self.spec, chart.day), column_index(self.spec, chart.value)
        day_kind = self.spec.columns[day_index].kind
        aggregate = ChartAggregate(chart.aggregate)
        with self.app.uow.read() as uow:
            if self.spec.query is None:
                return python_daily_totals(self._rows(uow.session), day_index, value_index, aggregate)
            session = uow.session
            sub = _unordered(self._query(session)).subquery()
            cols = list(sub.c)
            day_col, value_col = cols[day_index], cols[value_index]
            if day_kind is ColumnKind.DATETIME:
                day_expr = local_day(day_col, session.get_bind().dialect.name)
            else:
                day_expr = day_col
            # group on a derived column, not the expression: PostgreSQL would not match an
            # expression holding bound parameters in GROUP BY to the one in the select list
            inner = select(day_expr.label("day"), value_col.label("value")).select_from(sub).subquery()
            if aggregate is ChartAggregate.COUNT:
                figure = func.count(inner.c.value)
            elif aggregate is ChartAggregate.SUM_POSITIVE:
                figure = func.coalesce(func.sum(case((inner.c.value > 0, inner.c.value), else_=0)), 0)
            else:
                figure = func.coalesce(func.sum(inner.c.value), 0)
            stmt = select(inner.c.day, figure).where(inner.c.day.is_not(None)).group_by(inner.c.day).order_by(
                inner.c.day)
            return [(as_date(day), int(value)) for day, value in session.execute(stmt)]  # type: ignore[misc]

    def category_points(self, limit: int = MAX_CHART_POINTS) -> list[tuple[Any, int]]:
        """(category, figure) of each of the first ``limit`` rows, in row order, for a chart with
        a ``category`` (``[]`` for any other chart). The category is the row's value; an empty
        figure is 0. The rows are read as ``page(0, limit)`` reads them."""
        chart = self.spec.chart
        if chart is None or chart.category is None:
            return []
        category_index, value_index = column_index(self.spec, chart.category), column_index(self.spec, chart.value)
        return [(row[category_index], 0 if row[value_index] is None else int(row[value_index]))
                for row in self.page(0, limit)]


def _day_of(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return local_datetime(value).date()
    return as_date(value)


def python_daily_totals(rows: Iterator[Sequence[Any]], day_index: int, value_index: int,
                        aggregate: ChartAggregate) -> list[tuple[dt.date, int]]:
    """``daily_totals`` for rows produced in Python (specs with ``rows``)."""
    per_day: dict[dt.date, int] = {}
    for row in rows:
        day, value = _day_of(row[day_index]), row[value_index]
        if day is None:
            continue
        if aggregate is ChartAggregate.COUNT:
            add = 0 if value is None else 1
        elif value is None or (aggregate is ChartAggregate.SUM_POSITIVE and value <= 0):
            add = 0
        else:
            add = int(value)
        per_day[day] = per_day.get(day, 0) + add
    return sorted(per_day.items())


__all__ = ["AvailableReport", "DEFAULT_BATCH", "EXPORT_PERMISSION", "ReportRun", "VIEW_PERMISSION",
           "available_reports", "coerce_params", "effective_columns", "format_cell", "format_money", "formatter",
           "load_spec", "parse_params", "python_daily_totals", "split_assignments"]
