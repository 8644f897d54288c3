"""The report contract: typed parameters, typed columns, rows produced lazily.

A plugin declares ``ReportDecl(id, title, spec="module:attribute", permission=...)``; the
reference points at a ``ReportSpec``. A SQL-backed report gives ``query``: a function returning a
SQLAlchemy ``Select`` whose result columns are the report's columns, in order. The runner then
streams it for export, pages it (``LIMIT``/``OFFSET``) for the table view, counts it, and
aggregates it per day (or reads its first rows) for the chart, all in the database. A report
that is not SQL gives ``rows`` instead (an iterator of tuples); paging then walks the iterator.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from suite.identity.actor import Actor


class ParamKind(StrEnum):
    DATE = "date"                # a single day (dt.date)
    DATE_RANGE = "date_range"    # (from, to) inclusive days (tuple[dt.date, dt.date])
    TEXT = "text"
    INT = "int"
    CHOICE = "choice"            # one of ``choices`` (value, label)
    NUMBER_RANGE = "number_range"  # (first, last) card or ticket numbers, as strings
    USER = "user"                # a username (salesperson, operator)
    VENUE_SCOPE = "venue_scope"  # "local" (this venue) or "chain" (every venue)


class ColumnKind(StrEnum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"       # integer minor units, shown as 12.34
    COUNT = "count"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: ParamKind
    required: bool = False
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: ColumnKind = ColumnKind.TEXT
    total: bool = False   # summed in the totals row
    width: int = 14       # characters, for the table and the sheet
    # MONEY columns only: the parameter naming the unit the rows are in (e.g. "unit"). When a
    # run's value of it is not a currency (points, counts) the column is shown as COUNT instead;
    # ``ReportRun.columns`` gives the columns as they apply to a run.
    unit_param: str | None = None


class ChartAggregate(StrEnum):
    SUM = "sum"                    # SUM(value) per day
    SUM_POSITIVE = "sum_positive"  # SUM(value) of the rows where value > 0 (money moved, in a journal)
    COUNT = "count"                # rows per day (``value`` names the column counted, non-null)


class ChartKind(StrEnum):
    BAR = "bar"
    LINE = "line"


#: the most rows a category chart plots (the first ones): a day of one-minute steps fits, 25 hours included
MAX_CHART_POINTS = 1_500


@dataclass(frozen=True)
class ChartSpec:
    """A chart of the report's rows; ``day``, ``value`` and ``category`` are column names.

    Without ``category``, a daily totals chart: the rows of each local day of ``day`` (a DATE
    or DATETIME column; a datetime counts on the local day it falls on) become one figure as
    ``aggregate`` says.

    With ``category``, one point per row in row order: x is the row's ``category`` value, y its
    ``value`` (empty counts as 0); ``day`` is not used and ``aggregate`` stays ``SUM``. Only the
    first ``MAX_CHART_POINTS`` rows are charted.
    """

    day: str = ""
    value: str = ""
    title: str = ""
    aggregate: ChartAggregate = ChartAggregate.SUM
    kind: ChartKind = ChartKind.BAR
    category: str | None = None

    def __post_init__(self) -> None:
        if not self.value:
            raise ValueError("a chart needs a value column")
        if self.category is None and not self.day:
            raise ValueError("a chart needs a day column or a category column")
        if self.category is not None and ChartAggregate(self.aggregate) is not ChartAggregate.SUM:
            raise ValueError("a category chart plots each row's value: its aggregate is SUM")


@dataclass(frozen=True)
class ReportContext:
    session: "Session"
    actor: "Actor"
    venue_id: uuid.UUID | None
    today: dt.date
    # the site's settings (``suite.config.Settings``), for reports that need their plugin's
    # table, e.g. a venue's time zone; None when a report runs without an application
    settings: Any = None


@dataclass(frozen=True)
class ReportSpec:
    id: str
    title: str
    columns: tuple[Column, ...]
    params: tuple[Param, ...] = ()
    query: Callable[[ReportContext, Mapping[str, Any]], "Select[Any]"] | None = None
    rows: Callable[[ReportContext, Mapping[str, Any]], Iterator[tuple[Any, ...]]] | None = None
    chart: ChartSpec | None = None
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def column_index(spec: ReportSpec, name: str) -> int:
    """The position of column ``name`` in ``spec.columns`` (``KeyError`` when there is none)."""
    for index, column in enumerate(spec.columns):
        if column.name == name:
            return index
    raise KeyError(name)
