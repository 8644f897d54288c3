"""The reports tab (``core.reports``): pick a report, fill its filters, see rows, totals, a
chart, and export to xlsx or CSV in the background.

The filter form is built from the spec's parameters; its texts go through ``parse_params``
(so the form and ``venue-suite report run --param`` accept the same input). A run happens
off the Tk thread: the table (a ``VirtualTable``) asks for pages of ``ReportRun.page`` while
the count, the totals and the chart's figures (daily totals, or one point per row for a chart
with a category) are computed one after the other in another thread; each result comes back
through the event pump as soon as it is ready, so the first rows show before a million rows
are counted. Exports run ``ExportJob``; its progress callbacks arrive on a worker thread and
are handed to the Tk thread through the pump.
"""

from __future__ import annotations

import datetime as dt
import logging
import tkinter as tk
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.reporting.spec import ChartKind, ColumnKind, Param, ParamKind
from suite.ui.chart import DailyChart
from suite.ui.widgets import ColumnDef, MessageBar, PageLoader, VirtualTable, error_text, release_variables

log = logging.getLogger(__name__)

RANGE = ".."
NUMERIC = (ColumnKind.INT, ColumnKind.MONEY, ColumnKind.COUNT)
PAGE_SIZE = 200


@dataclass(frozen=True)
class ExportState:
    """A copy of an export's progress, made on the worker thread (the job may reuse its object)."""

    rows_done: int
    total: int | None
    finished: bool
    cancelled: bool
    error: BaseException | str | None


class ParamField:
    """The widgets of one parameter and how to read them back as ``parse_params`` text."""

    def __init__(self, form: "FilterForm", param: Param, row: int, column: int, span: int = 1) -> None:
        self.param = param
        self.form = form
        parent = form
        label = _(param.label) if param.label else param.name
        ttk.Label(parent, text=label).grid(row=row, column=column, sticky="w", padx=(0, 6), pady=3)
        box = ttk.Frame(parent)
        box.grid(row=row, column=column + 1, columnspan=span, sticky="w", padx=(0, 16), pady=3)
        self.box = box
        self.read: Callable[[], str] = lambda: ""
        kind = ParamKind(param.kind)
        default = "" if param.default is None else str(param.default)
        if kind is ParamKind.DATE_RANGE:
            self.first, self.last = ttk.Entry(box, width=11), ttk.Entry(box, width=11)
            self.first.pack(side="left")
            ttk.Label(box, text="–").pack(side="left", padx=3)
            self.last.pack(side="left")
            ttk.Button(box, text=_("Today"), command=self.today).pack(side="left", padx=(6, 0))
            ttk.Button(box, text=_("This month"), command=self.this_month).pack(side="left", padx=(4, 0))
            self.read = self._read_range
        elif kind is ParamKind.NUMBER_RANGE:
            self.first, self.last = ttk.Entry(box, width=12), ttk.Entry(box, width=12)
            self.first.pack(side="left")
            ttk.Label(box, text="–").pack(side="left", padx=3)
            self.last.pack(side="left")
            self.read = self._read_range
        elif kind is ParamKind.DATE:
            self.entry = ttk.Entry(box, width=11)
            self.entry.pack(side="left")
            ttk.Button(box, text=_("Today"), command=lambda: self._set(self.entry, dt.date.today().isoformat())
                       ).pack(side="left", padx=(6, 0))
            self.read = lambda: self.entry.get()
        elif kind is ParamKind.CHOICE:
            self.values = [value for value, _label in param.choices]
            self.combo = ttk.Combobox(box, state="readonly", width=16,
                                      values=[_(label) for _value, label in param.choices])
            self.combo.pack(side="left")
            if default in self.values:
                self.combo.current(self.values.index(default))
            self.read = lambda: self.values[self.combo.current()] if self.combo.current() >= 0 else ""
        elif kind is ParamKind.VENUE_SCOPE:
            choices = param.choices or (("local", "This venue"), ("chain", "Every venue"))
            if not form.chain_allowed:  # a venue role sees its own venue only
                choices, default = tuple(c for c in choices if c[0] != "chain"), "local"
            self.var = tk.StringVar(box, value=default or choices[-1][0])
            for value, title in choices:
                ttk.Radiobutton(box, text=_(title), value=value, variable=self.var).pack(side="left", padx=(0, 8))
            self.read = lambda: self.var.get()
        elif kind is ParamKind.USER:
            self.combo = ttk.Combobox(box, width=14, values=form.usernames())
            self.combo.pack(side="left")
            self.read = lambda: self.combo.get()
        else:  # TEXT, INT
            self.entry = ttk.Entry(box, width=8 if kind is ParamKind.INT else 14)
            self.entry.pack(side="left")
            if default and kind is not ParamKind.DATE_RANGE:
                self.entry.insert(0, default)
            self.read = lambda: self.entry.get()

    @staticmethod
    def _set(entry: ttk.Entry, text: str) -> None:
        entry.delete(0, "end")
        entry.insert(0, text)

    def set_range(self, first: str, last: str) -> None:
        self._set(self.first, first)
        self._set(self.last, last)

    def today(self) -> None:
        day = dt.date.today().isoformat()
        self.set_range(day, day)

    def this_month(self) -> None:
        today = dt.date.today()
        self.set_range(today.replace(day=1).isoformat(), today.isoformat())

    def _read_range(self) -> str:
        first, last = self.first.get().strip(), self.last.get().strip()
        if first and last:
            return f"{first}{RANGE}{last}"
        return first or last


class FilterForm(ttk.Frame):
    """A grid of ``ParamField``: wide ones (ranges) on a row of their own, others three a row."""

    def __init__(self, parent: tk.Misc, params: tuple[Param, ...], usernames: Callable[[], list[str]],
                 chain_allowed: bool = True) -> None:
        super().__init__(parent)
        self._usernames = usernames
        self.chain_allowed = chain_allowed
        self.fields: dict[str, ParamField] = {}
        row, column = 0, 0
        wide = (ParamKind.DATE_RANGE, ParamKind.NUMBER_RANGE)
        for param in params:
            if ParamKind(param.kind) in wide:
                if column:
                    row, column = row + 1, 0
                self.fields[param.name] = ParamField(self, param, row, 0, span=5)
                row += 1
                continue
            self.fields[param.name] = ParamField(self, param, row, column)
            column += 2
            if column >= 6:
                row, column = row + 1, 0

        self.bind("<Destroy>", self._on_destroy, add="+")

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            for f in self.fields.values():
                release_variables(f)

    def usernames(self) -> list[str]:
        return self._usernames()

    def raw(self) -> dict[str, str]:
        return {name: f.read().strip() for name, f in self.fields.items()}


class ReportsTab(ttk.Frame):
    def __init__(self, parent: tk.Misc, context: Any) -> None:
        super().__init__(parent, padding=(8, 8, 8, 4))
        self.context = context
        self.app = context.app
        self.actor = context.actor
        self.reports: list[Any] = []
        self.report: Any = None
        self.form: FilterForm | None = None
        self.run: Any = None
        self.generation = 0
        self.loader: PageLoader | None = None
        self.count: int | None = None
        self.totals: dict[str, int] | None = None
        self.daily: list[tuple[dt.date, int]] | None = None
        self.points: list[tuple[Any, int]] | None = None  # a category chart's (category, figure)
        self.job: Any = None
        self.export_state: ExportState | None = None
        self.first_rows_at: float | None = None
        self._usernames: list[str] | None = None
        self._build()
        self.load_reports()
        self.bind("<Destroy>", self._on_destroy, add="+")

    # -- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        self.columnconfigure(1, weight=1)
        self.rowconfigure(0, weight=1)
        side = ttk.Frame(self)
        side.grid(row=0, column=0, sticky="nsw", padx=(0, 10))
        ttk.Label(side, text=_("Reports"), style="Large.TLabel").pack(side="top", anchor="w", pady=(0, 4))
        self.report_list = ttk.Treeview(side, show="tree", selectmode="browse", height=8)
        self.report_list.column("#0", width=180)
        self.report_list.pack(side="top", fill="y", expand=True)
        self.report_list.bind("<<TreeviewSelect>>", lambda e: self._on_pick())

        main = ttk.Frame(self)
        main.grid(row=0, column=1, sticky="nsew")
        main.columnconfigure(0, weight=1)
        main.rowconfigure(3, weight=1)
        self.main = main
        head = ttk.Frame(main)
        head.grid(row=0, column=0, sticky="ew")
        self.title_label = ttk.Label(head, text="", style="Title.TLabel")
        self.title_label.pack(side="left")
        self.csv_button = ttk.Button(head, text=_("Export CSV"), command=lambda: self.export("csv"))
        self.csv_button.pack(side="right")
        self.xlsx_button = ttk.Button(head, text=_("Export Excel"), command=lambda: self.export("xlsx"))
        self.xlsx_button.pack(side="right", padx=(0, 6))
        self.run_button = ttk.Button(head, text=_("Run"), style="Accent.TButton", command=self.run_report)
        self.run_button.pack(side="right", padx=(0, 10))
        self.description = ttk.Label(main, text="", style="Muted.TLabel", font="VSSmall", wraplength=760,
                                     justify="left")
        self.description.grid(row=1, column=0, sticky="w")
        self.form_holder = ttk.Frame(main)
        self.form_holder.grid(row=2, column=0, sticky="ew", pady=(4, 6))

        panes = ttk.Panedwindow(main, orient="vertical")
        panes.grid(row=3, column=0, sticky="nsew")
        self.table = VirtualTable(panes, [], page_size=PAGE_SIZE, compact=True)
        self.chart = DailyChart(panes, height=130)
        panes.add(self.table, weight=3)
        panes.add(self.chart, weight=1)

        footer = ttk.Frame(main)
        footer.grid(row=4, column=0, sticky="ew", pady=(4, 0))
        self.count_label = ttk.Label(footer, text="", style="VSBold.TLabel")
        self.count_label.pack(side="left")
        self.totals_label = ttk.Label(footer, text="", style="VSBold.TLabel")
        self.totals_label.pack(side="left", padx=(16, 0))
        self.cancel_button = ttk.Button(footer, text=_("Cancel export"), style="Danger.TButton",
                                        command=self.cancel_export)
        self.progress_label = ttk.Label(footer, text="", style="Muted.TLabel")
        self.progress = ttk.Progressbar(footer, mode="determinate", length=180)
        self.message = MessageBar(main, collapse=True)
        self.message.grid(row=5, column=0, sticky="ew", pady=(4, 0))
        self._set_export_buttons(False)

    # -- choosing a report ---------------------------------------------------------------

    def load_reports(self) -> None:
        from suite.reporting.runner import available_reports

        self.reports = self.message.attempt(lambda: available_reports(self.app, self.actor)) or []
        if self.reports is True:
            self.reports = []
        self.report_list.delete(*self.report_list.get_children())
        for report in self.reports:
            self.report_list.insert("", "end", iid=report.id, text=report.title)
        if self.reports:
            self.select_report(self.reports[0].id)
        else:
            self.message.show(_("No report is available to you."))

    def report_ids(self) -> list[str]:
        return [r.id for r in self.reports]

    def select_report(self, report_id: str) -> None:
        self.report_list.selection_set(report_id)
        self.report_list.focus(report_id)
        self._on_pick()

    def _on_pick(self) -> None:
        chosen = self.report_list.selection()
        report = next((r for r in self.reports if chosen and r.id == chosen[0]), None)
        if report is None or report is self.report:
            return
        self.report = report
        self._stop_run()
        spec = report.spec
        self.title_label.configure(text=report.title)
        self.description.configure(text=_(spec.description) if spec.description else "")
        if self.form is not None:
            self.form.destroy()
        from suite.reporting.runner import CHAIN_PERMISSION

        self.form = FilterForm(self.form_holder, spec.params, self._user_choices,
                               chain_allowed=self.actor.has_permission(CHAIN_PERMISSION))
        self.form.pack(side="left", fill="x")
        for f in self.form.fields.values():
            for child in f.box.winfo_children():
                if isinstance(child, (ttk.Entry, ttk.Combobox)):
                    child.bind("<Return>", lambda e: self.run_report())
        self.table.set_columns(self._columns(spec.columns))
        self.table.reset()
        self.chart.clear()
        self.totals_label.configure(text="")
        self.count_label.configure(text="")
        self.message.clear()

    def _user_choices(self) -> list[str]:
        if self._usernames is None:
            self._usernames = []
            if self.actor.has_permission("admin.users"):
                try:
                    self._usernames = [u.username for u in self.app.identity.list_users(self.actor)]
                except Exception:  # noqa: BLE001 - a nicety: the field stays free text
                    log.exception("cannot list users for the report form")
        return self._usernames

    @staticmethod
    def _columns(columns: Any) -> list[ColumnDef]:
        return [ColumnDef(c.name, _(c.label), max(4, c.width), "e" if ColumnKind(c.kind) in NUMERIC else "w")
                for c in columns]

    # -- running -------------------------------------------------------------------------

    def run_report(self, raw: dict[str, str] | None = None) -> bool:
        """Check the filters and start the run; False (with the reason shown) if they are wrong."""
        from suite.reporting.runner import ReportRun, parse_params

        if self.report is None or self.form is None:
            return False
        report = self.report
        raw = raw if raw is not None else self.form.raw()
        try:
            params = parse_params(report.spec, raw)
        except Exception as exc:  # noqa: BLE001 - InvalidInput, shown in the operator's language
            self.message.error(error_text(exc))
            return False
        self._stop_run()
        self.generation += 1
        generation = self.generation
        self.message.show(_("Running…"))
        self.count_label.configure(text=_("counting…"))
        self.table.reset()
        self.chart.clear(_("computing…"))
        self.totals_label.configure(text="")
        app, actor = self.app, self.actor
        self.context.run_in_thread(lambda: ReportRun(app, actor, report.id, params),
                                   lambda run: self._started(generation, run),
                                   lambda exc: self._failed(generation, exc))
        return True

    def _current(self, generation: int) -> bool:
        return generation == self.generation and self.winfo_exists()

    def _started(self, generation: int, run: Any) -> None:
        from suite.reporting.runner import format_cell

        if not self._current(generation):
            return
        self.run = run
        columns = list(run.columns)
        self.table.set_columns(self._columns(columns))
        self.loader = PageLoader(self.context.pump, run.page, lambda page, rows: self._page(generation, page, rows),
                                 lambda exc: self._failed(generation, exc), PAGE_SIZE)

        def format_row(row: tuple[Any, ...]) -> list[str]:
            return [format_cell(column, value) for column, value in zip(columns, row)]

        self.table.reset(request=self.loader.want, format_row=format_row)
        self._set_export_buttons(run.can_export)

        def figures() -> None:
            # one after the other, each handed over as soon as it is known
            for name, compute in (("count", run.count), ("totals", run.totals), ("daily", run.daily_totals),
                                  ("points", run.category_points)):
                if not self._still(generation):
                    return
                try:
                    value = compute()
                except BaseException as exc:  # noqa: BLE001 - shown on the Tk thread
                    self.context.pump.call_soon(self._failed, generation, exc)
                    return
                self.context.pump.call_soon(self._figure, generation, name, value)

        self.context.run_in_thread(figures)

    def _still(self, generation: int) -> bool:
        return generation == self.generation  # read from a worker: an int compare, no Tk

    def _page(self, generation: int, page: int, rows: list[tuple[Any, ...]]) -> None:
        if not self._current(generation):
            return
        self.table.deliver(page, rows)
        if self.first_rows_at is None:
            import time

            self.first_rows_at = time.perf_counter()
        if self.count is None and not self.table.exact:
            self.count_label.configure(text=_("{n}+ rows, counting…").format(n=f"{self.table.total:,}"))
        elif self.count is None:
            self._show_count(self.table.total)
        if self.message.text == _("Running…"):
            self.message.clear()

    def _figure(self, generation: int, name: str, value: Any) -> None:
        if not self._current(generation):
            return
        if name == "count":
            self.count = int(value)
            self.table.set_total(self.count, exact=True)
            self._show_count(self.count)
        elif name == "totals":
            self.totals = dict(value)
            self._show_totals()
        elif name == "daily":
            self.daily = list(value)
            self._show_chart()
        elif name == "points":
            self.points = list(value)
            self._show_chart()

    def _show_count(self, n: int) -> None:
        self.count_label.configure(text=_("{n} rows").format(n=f"{n:,}"))

    def _show_totals(self) -> None:
        from suite.reporting.runner import format_cell

        if not self.totals or self.run is None:
            self.totals_label.configure(text="")
            return
        columns = {c.name: c for c in self.run.columns}
        parts = [f"{_(columns[name].label)}: {format_cell(columns[name], value)}"
                 for name, value in self.totals.items() if name in columns]
        self.totals_label.configure(text=_("Totals") + ": " + " · ".join(parts))

    def _show_chart(self) -> None:
        from suite.reporting.runner import format_cell

        spec = self.run.spec if self.run is not None else None
        if spec is None or spec.chart is None:
            self.chart.clear(_("This report has no chart."))
            return
        chart = spec.chart
        columns = {c.name: c for c in self.run.columns}
        value_column = columns.get(chart.value)
        fmt = None
        if value_column is not None and ColumnKind(value_column.kind) is ColumnKind.MONEY and \
                getattr(chart, "aggregate", "sum") != "count":
            fmt = lambda v: format_cell(value_column, int(v))  # noqa: E731
        title = _(chart.title) if chart.title else ""
        data: list[tuple[Any, int]] = self.daily or []
        if chart.category is not None:
            if self.points is None:
                return  # the points are on their way
            category = columns.get(chart.category)
            data = [("" if c is None else format_cell(category, c) if category else str(c), v)
                    for c, v in self.points]
            if self.count is not None and self.count > len(data):
                title += " · " + _("Only the first {n} rows are charted.").format(n=f"{len(data):,}")
        self.chart.set_data(data, fmt=fmt, title=title, empty_text=_("No rows in this period."),
                            line=chart.kind == ChartKind.LINE)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if not self._current(generation):
            return
        self.count_label.configure(text="")
        self.chart.clear()
        self.message.error(error_text(exc))

    def _stop_run(self) -> None:
        self.generation += 1
        if self.loader is not None:
            self.loader.stop()
            self.loader = None
        self.run = None
        self.count = self.totals = self.daily = self.points = None
        self.first_rows_at = None
        self._set_export_buttons(False)

    def shown_rows(self) -> list[tuple[str, ...]]:
        return self.table.shown_rows()

    # -- export --------------------------------------------------------------------------

    def _set_export_buttons(self, enabled: bool) -> None:
        busy = self.job is not None
        for button in (self.xlsx_button, self.csv_button):
            button.state(["!disabled"] if enabled and not busy else ["disabled"])

    def export(self, fmt: str, path: str | Path | None = None) -> bool:
        """Export the current run to ``path`` (asked for when None) in the background."""
        from suite.reporting.jobs import ExportJob

        if self.run is None or self.job is not None:
            return False
        if path is None:
            from tkinter import filedialog

            suffix = ".xlsx" if fmt == "xlsx" else ".csv"
            chosen = filedialog.asksaveasfilename(parent=self, defaultextension=suffix,
                                                  initialfile=f"{self.run.report_id}{suffix}",
                                                  filetypes=[(fmt.upper(), f"*{suffix}")])
            if not chosen:
                return False
            path = chosen
        call_soon = self.context.pump.caller
        tab = weakref.ref(self)  # the job's thread must not keep the tab (a widget) alive

        def on_progress(progress: Any) -> None:  # on the job's worker thread: copy, hand over
            state = ExportState(int(getattr(progress, "rows_done", 0) or 0), getattr(progress, "total", None),
                                bool(getattr(progress, "finished", False)), bool(getattr(progress, "cancelled", False)),
                                getattr(progress, "error", None))
            call_soon(_progress_to, tab, job_ref, state)

        job_ref: list[Any] = []
        try:
            job = ExportJob(self.run, Path(path), fmt, on_progress)
        except Exception as exc:  # noqa: BLE001 - a bad format or path, shown
            self.message.error(error_text(exc))
            return False
        job_ref.append(job)
        self.job = job
        self.export_path = Path(path)
        self.export_state = None
        self._set_export_buttons(False)
        self.progress.configure(value=0, maximum=max(1, self.count or 1))
        self.progress_label.configure(text=_("Exporting…"))
        self.cancel_button.state(["!disabled"])
        self.cancel_button.pack(side="right")
        self.progress_label.pack(side="right", padx=(6, 8))
        self.progress.pack(side="right")
        self.message.show(_("Exporting to {path}…").format(path=path))
        job.start()
        return True

    def _on_progress(self, job_ref: list[Any], state: ExportState) -> None:
        if not job_ref or job_ref[0] is not self.job or not self.winfo_exists():
            return
        self.export_state = state
        total = state.total if state.total else (self.count or 0)
        if total:
            self.progress.configure(maximum=max(1, total), value=min(state.rows_done, total))
            self.progress_label.configure(text=_("{done} of {total} rows").format(
                done=f"{state.rows_done:,}", total=f"{total:,}"))
        else:
            self.progress_label.configure(text=_("{done} rows").format(done=f"{state.rows_done:,}"))
        if state.finished or state.cancelled or state.error:
            self._export_done(state)

    def _export_done(self, state: ExportState) -> None:
        self.job = None
        self.cancel_button.pack_forget()
        self.progress.pack_forget()
        self.progress_label.pack_forget()
        self._set_export_buttons(self.run is not None and self.run.can_export)
        if state.error:
            self.message.error(error_text(state.error) if isinstance(state.error, BaseException) else str(state.error))
        elif state.cancelled:
            self.message.show(_("Export cancelled; no file was kept."))
        else:
            self.message.ok(_("Exported {n} rows to {path}.").format(n=f"{state.rows_done:,}", path=self.export_path))

    def cancel_export(self) -> None:
        if self.job is not None:
            self.cancel_button.state(["disabled"])
            self.progress_label.configure(text=_("Cancelling…"))
            self.job.cancel()

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            if self.job is not None:
                self.job.cancel()
            if self.loader is not None:
                self.loader.stop()


def _progress_to(tab: "weakref.ref[ReportsTab]", job_ref: list[Any], state: ExportState) -> None:
    target = tab()
    if target is not None:
        target._on_progress(job_ref, state)


def build(parent: tk.Misc, context: Any) -> ReportsTab:
    return ReportsTab(parent, context)
