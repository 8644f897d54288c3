"""What both export formats share: the result, the source of rows, temporary files,
progress and cancellation, and the chart's figures (daily totals or one point per row)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.errors import InvalidInput, SuiteError
from suite.i18n import _
from suite.reporting.formats import LocalClock, parse_stored
from suite.reporting.spec import MAX_CHART_POINTS, ChartAggregate, ChartSpec, Column, ReportSpec

if TYPE_CHECKING:
    from suite.reporting.runner import ReportRun


EXCEL_MAX_ROWS = 1_048_576  # rows in one Excel sheet, the header included
PROGRESS_EVERY = 5000
CHECK_EVERY = 500
DEFAULT_BATCH = 5000



class ExportFailed(SuiteError):
    """The file could not be written (disk full, no permission...)."""

    code = "export_failed"


def _failed(path: Path, exc: OSError) -> ExportFailed:
    return ExportFailed(_("Cannot write the export to {path}: {reason}").format(
        path=path, reason=exc.strerror or exc), path=str(path))


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    sheets: int
    cancelled: bool
    format: str = "xlsx"


@dataclass
class _Source:
    report_id: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Iterator[Sequence[Any]]
    params: list[tuple[str, str]]
    chart: ChartSpec | None
    actor: str


def _described(params: Mapping[str, Any] | Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return [(str(k), "" if v is None else str(v)) for k, v in params.items()]
    return [(str(k), str(v)) for k, v in params]


def _source(source: "ReportRun | ReportSpec", rows: Iterable[Sequence[Any]] | None,
            params: Mapping[str, Any] | Sequence[tuple[str, str]] | None, batch: int) -> _Source:
    from suite.reporting.runner import ReportRun

    if isinstance(source, ReportRun):
        source.require_export()
        actor = source.actor.display_name or source.actor.username
        return _Source(source.report_id, source.title, _(source.spec.description) if source.spec.description else "",
                       source.columns, iter(rows) if rows is not None else source.iter_rows(batch, light=True),
                       source.describe_params() if params is None else _described(params), source.spec.chart, actor)
    if isinstance(source, ReportSpec):
        if rows is None:
            raise TypeError("exporting a ReportSpec needs its rows")
        return _Source(source.id, _(source.title), _(source.description) if source.description else "",
                       source.columns, iter(rows), _described(params), source.chart, "")
    raise TypeError(f"cannot export {type(source).__name__}")


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")


def _check_target(path: Path) -> None:
    try:
        is_dir, parent_ok = path.is_dir(), path.parent.is_dir()
    except OSError as exc:
        raise _failed(path, exc) from exc
    if is_dir:
        raise InvalidInput(_("Cannot write the export to {path}: it is a folder.").format(path=path))
    if not parent_ok:
        raise InvalidInput(_("Cannot write the export to {path}: the folder {folder} does not exist.").format(
            path=path, folder=path.parent))


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _close_rows(rows: Iterator[Any]) -> None:
    close = getattr(rows, "close", None)
    if close is not None:
        close()


class _Progress:
    """Calls ``progress`` with a growing count and asks ``cancelled`` now and then."""

    def __init__(self, progress: Callable[[int], None] | None, cancelled: Callable[[], bool] | None) -> None:
        self._progress = progress
        self._cancelled = cancelled
        self.last = -1

    def tick(self, done: int) -> bool:
        """Call every CHECK_EVERY rows; True when the export is to stop."""
        if self._progress is not None and done - max(self.last, 0) >= PROGRESS_EVERY:
            self.report(done)
        return self._cancelled is not None and bool(self._cancelled())

    def report(self, done: int) -> None:
        if self._progress is not None and done > self.last:
            self.last = done
            self._progress(done)


# ---------------------------------------------------------------- chart data


class _Daily:
    """Daily figures of the chart, accumulated while the rows stream by."""

    def __init__(self, chart: ChartSpec | None, columns: Sequence[Column], clock: LocalClock) -> None:
        self.per_day: dict[dt.date, int] = {}
        self.active = False
        if chart is None or chart.category is not None:
            return
        try:
            names = [c.name for c in columns]
            self.day_index, self.value_index = names.index(chart.day), names.index(chart.value)
        except ValueError:
            return
        self.active = True
        self.aggregate = ChartAggregate(chart.aggregate)
        self.clock = clock

    def add(self, row: Sequence[Any]) -> None:
        day = row[self.day_index]
        if day is None:
            return
        if type(day) is str:
            day = parse_stored(day)
        if isinstance(day, dt.datetime):
            day = self.clock.naive(day).date()
        value = row[self.value_index]
        if self.aggregate is ChartAggregate.COUNT:
            add = 0 if value is None else 1
        elif value is None or (self.aggregate is ChartAggregate.SUM_POSITIVE and value <= 0):
            return
        else:
            add = int(value)
        self.per_day[day] = self.per_day.get(day, 0) + add

    def items(self) -> list[tuple[dt.date, int]]:
        return sorted(self.per_day.items())


class _Categories:
    """A category chart's points, ``(category, value)`` of the first ``limit`` rows in row order,
    kept while the rows stream by; the rows after them are only counted."""

    def __init__(self, chart: ChartSpec | None, columns: Sequence[Column], limit: int = MAX_CHART_POINTS) -> None:
        self.points: list[tuple[Any, Any]] = []
        self.rows = 0
        self.limit = limit
        self.active = False
        if chart is None or chart.category is None:
            return
        try:
            names = [c.name for c in columns]
            self.category_index, self.value_index = names.index(chart.category), names.index(chart.value)
        except ValueError:
            return
        self.active = True

    def add(self, row: Sequence[Any]) -> None:
        self.rows += 1
        if len(self.points) < self.limit:
            value = row[self.value_index]
            self.points.append((row[self.category_index], 0 if value is None else value))

    @property
    def truncated(self) -> bool:
        return self.rows > len(self.points)
