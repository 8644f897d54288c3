"""venue-suite report list|run"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from typing import Any

from suite.i18n import _

DEFAULT_LIMIT = 50


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("list", help=_("list the reports you may run, with their parameters")).set_defaults(func=list_reports)
    run = sub.add_parser("run", help=_("run a report: print its first rows, count and totals, or export it"))
    run.add_argument("name", help=_("report id, as 'report list' shows it"))
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help=_("a parameter, e.g. period=2026-11-01..2026-11-30; repeat for several"))
    run.add_argument("--xlsx", metavar="FILE", help=_("export every row to this Excel file"))
    run.add_argument("--csv", metavar="FILE", help=_("export every row to this CSV file (UTF-8)"))
    run.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=_("rows to print (default 50)"))
    run.add_argument("--offset", type=int, default=0, help=_("rows to skip before printing"))
    run.set_defaults(func=run_report)


def _param_text(param: Any) -> str:
    text = f"{param.name}: {_(param.label)} ({param.kind})" if param.label else f"{param.name} ({param.kind})"
    if param.required:
        text += " " + _("required")
    if param.choices:
        text += " [" + "|".join(v for v, _label in param.choices) + "]"
    if param.default is not None:
        text += " " + _("default {value}").format(value=param.default)
    return text


def _param_dict(param: Any) -> dict[str, Any]:
    return {"name": param.name, "label": _(param.label) if param.label else param.name, "kind": str(param.kind),
            "required": param.required, "default": param.default,
            "choices": [{"value": v, "label": _(label)} for v, label in param.choices],
            "help": _(param.help) if param.help else ""}


def list_reports(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from suite.reporting.runner import available_reports

    app, actor = ctx.app(), ctx.actor()
    app.identity.require(actor, "reports.view")
    found = []
    for report in available_reports(app, actor):
        params = report.spec.params
        found.append({"id": report.id, "title": report.title, "plugin": report.plugin_id,
                      "params": [_param_dict(p) for p in params] if args.json
                      else "; ".join(_param_text(p) for p in params)})
    return found


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, uuid.UUID)):
        return str(value)
    return value


class _StderrProgress:
    """A line on a terminal's stderr that counts the rows exported (nothing when piped)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        if self.shown:
            print(f"\r{self.label}: {done:,}", end="", file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.shown:
            print(file=sys.stderr)


def run_report(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.reporting.export import export_csv, export_xlsx
    from suite.reporting.formats import format_cell
    from suite.reporting.params import split_assignments
    from suite.reporting.runner import ReportRun

    app, actor = ctx.app(), ctx.actor()
    run = ReportRun(app, actor, args.name, split_assignments(args.param))
    if args.xlsx or args.csv:
        run.require_export()
        exported = []
        for path, export in ((args.xlsx, export_xlsx), (args.csv, export_csv)):
            if not path:
                continue
            shown = _StderrProgress(str(path))
            result = export(run, path, progress=shown)
            shown.end()
            exported.append({"path": str(result.path), "format": result.format, "rows": result.rows,
                             "sheets": result.sheets})
        return {"report": run.report_id, "title": run.title, "exported": exported}
    if args.limit < 0 or args.offset < 0:
        from suite.errors import InvalidInput

        raise InvalidInput(_("--limit and --offset cannot be negative."))
    columns = run.columns
    rows = run.page(args.offset, args.limit) if args.limit else []
    count = run.count()
    sums = run.totals()
    by_name = {c.name: c for c in columns}
    if args.json:
        return {"report": run.report_id, "title": run.title, "count": count,
                "params": {k: _json_value(v) if not isinstance(v, tuple) else [_json_value(x) for x in v]
                           for k, v in run.params.items()},
                "columns": [{"name": c.name, "label": _(c.label), "kind": str(c.kind)} for c in columns],
                "rows": [{c.name: _json_value(v) for c, v in zip(columns, row)} for row in rows],
                "totals": sums}
    table = [{_(c.label): format_cell(c, v) for c, v in zip(columns, row)} for row in rows]
    payload: dict[str, Any] = {_("report"): f"{run.report_id} ({run.title})", _("rows"): table or _("(none)"),
                               _("count"): f"{count:,}"}
    if count > len(rows):
        payload[_("shown")] = _("{first}-{last} of {count}; --limit and --offset show others").format(
            first=args.offset + 1 if rows else 0, last=args.offset + len(rows), count=count)
    for name, total in sums.items():
        payload[_("total {label}").format(label=_(by_name[name].label))] = format_cell(by_name[name], total)
    return payload
