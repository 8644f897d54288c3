"""venue-suite printer print-test | queue list|reprint|drop | virtual start|state

``print-test`` prints a sample of a layout on a configured printer (``--device``) or on one
given by ``--host``/``--port`` or ``--serial``; ``queue`` settles the reprint queue of a
configured printer; ``virtual start`` runs the virtual ESC/POS printer in the foreground and
``virtual state`` changes a running one's paper and online state.
"""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path
from typing import Any

from suite.i18n import _

KIND = "escpos-printer"
LAYOUT_IDS = ("receipt", "ticket", "topup_slip", "rental_slip", "shift_report")


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    test = sub.add_parser("print-test", help=_("print a sample receipt, ticket or slip"))
    test.add_argument("--device", help=_("a configured printer ([devices.<id>]); default: the only one"))
    test.add_argument("--host", help=_("a network printer's address instead of a configured one"))
    test.add_argument("--port", type=int, default=9100, help=_("its TCP port (default 9100)"))
    test.add_argument("--serial", help=_("a serial printer's device (e.g. /dev/ttyUSB0) instead"))
    test.add_argument("--paper", type=int, choices=(58, 80), default=80, help=_("paper width in mm"))
    test.add_argument("--chinese", choices=("gb18030", "raster"), default="gb18030",
                      help=_("how Chinese text is sent"))
    test.add_argument("--layout", choices=LAYOUT_IDS, default="ticket")
    test.add_argument("--sample-language", choices=("en", "zh"), default="zh", help=_("language of the sample data"))
    test.set_defaults(func=print_test)

    queue = sub.add_parser("queue", help=_("jobs that did not print: list, reprint, drop"))
    queue_sub = queue.add_subparsers(dest="queue_action", metavar="ACTION")
    for name, func, help_text in (("list", queue_list, _("list the waiting jobs")),
                                  ("reprint", queue_reprint, _("print a waiting job again")),
                                  ("drop", queue_drop, _("remove a waiting job without printing it"))):
        action = queue_sub.add_parser(name, help=help_text)
        action.add_argument("--device", help=_("a configured printer; default: the only one"))
        if name != "list":
            action.add_argument("job", type=int, help=_("the job number shown by 'queue list'"))
        action.set_defaults(func=func)

    virtual = sub.add_parser("virtual", help=_("the virtual ESC/POS printer"))
    virtual_sub = virtual.add_subparsers(dest="virtual_action", metavar="ACTION")
    start = virtual_sub.add_parser("start", help=_("run a virtual printer until Ctrl-C"))
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=int, default=9100)
    start.add_argument("--pty", action="store_true", help=_("also serve a pseudo-terminal (a serial printer)"))
    start.add_argument("--paper", type=int, choices=(58, 80), default=80, help=_("paper width in mm"))
    start.add_argument("--out", default="virtual-printer", help=_("folder for job-NNNN.png/.txt/.bin"))
    _state_options(start)
    start.add_argument("--paper-out-after", type=int, help=_("the roll runs out after this many jobs"))
    start.set_defaults(func=virtual_start)
    state = virtual_sub.add_parser("state", help=_("change a running virtual printer's state"))
    state.add_argument("--out", default="virtual-printer", help=_("the folder the virtual printer was started with"))
    _state_options(state)
    state.set_defaults(func=virtual_state)


def _state_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--paper-state", choices=("ok", "near_end", "out"), help=_("paper sensor"))
    online = parser.add_mutually_exclusive_group()
    online.add_argument("--offline", dest="online", action="store_false", default=None)
    online.add_argument("--online", dest="online", action="store_true")


def _configured(ctx: Any, device_id: str | None) -> Any:
    from suite.device_host import DeviceConfig
    from suite.errors import ConfigError

    tables = {name: dict(table) for name, table in ctx.settings.devices.items() if table.get("kind") == KIND}
    if device_id is None and len(tables) == 1:
        device_id = next(iter(tables))
    if device_id is None and not tables:
        raise ConfigError(_('No ESC/POS printer is configured: add [devices.<id>] with kind = "escpos-printer", '
                            "or give --host or --serial."))
    if device_id is None:
        raise ConfigError(_("Several printers are configured ({ids}): choose one with --device.").format(
            ids=", ".join(sorted(tables))))
    if device_id not in tables:
        raise ConfigError(_("No ESC/POS printer {id!r} in the configuration; configured: {ids}.").format(
            id=device_id, ids=", ".join(sorted(tables)) or "-"))
    options = tables[device_id]
    options.pop("kind")
    options.setdefault("data_dir", str(ctx.settings.data_dir))
    return DeviceConfig(device_id, KIND, options)


def _open(ctx: Any, device_id: str | None) -> Any:
    from printers.device import open_printer

    return open_printer(_configured(ctx, device_id), lambda _event: None)


def print_test(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    from printers.device import Printer, open_printer
    from printers.layouts import BUILTIN_LAYOUTS
    from printers.queue import ReprintQueue
    from printers.samples import sample_data
    from printers.settings import printer_settings
    from suite.device_host import DeviceConfig

    if args.host or args.serial:
        options: dict[str, Any] = {"paper": args.paper, "chinese": args.chinese,
                                   "queue_dir": tempfile.mkdtemp(prefix="venue-suite-print-test-")}
        options.update({"transport": "serial", "device": args.serial} if args.serial else
                       {"transport": "network", "host": args.host, "port": args.port})
        settings = printer_settings(DeviceConfig("print-test", KIND, options))
        printer = Printer(settings, ReprintQueue(settings.queue_dir))
    else:
        printer = open_printer(_configured(ctx, args.device), lambda _event: None)
    started = time.perf_counter()
    try:
        printer.print_layout(BUILTIN_LAYOUTS[args.layout], sample_data(args.layout, args.sample_language == "zh"))
        ok, message = printer.health()
    finally:
        printer.stop()
    return {"printer": printer.device_id, "layout": args.layout, "ms": round((time.perf_counter() - started) * 1000, 1),
            "health": message or ("ok" if ok else "")}


def queue_list(ctx: Any, args: argparse.Namespace) -> list[dict[str, object]]:
    return [job.as_dict() for job in _open(ctx, args.device).queued()]


def queue_reprint(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    printer = _open(ctx, args.device)
    try:
        printer.reprint(args.job)
    finally:
        printer.stop()
    return {"reprinted": args.job, "waiting": len(printer.queue)}


def queue_drop(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    printer = _open(ctx, args.device)
    printer.drop(args.job)
    return {"dropped": args.job, "waiting": len(printer.queue)}


def virtual_start(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from printers.virtual import PrinterState, VirtualPrinter
    from printers.virtual.state import write_state

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_state(out / "state.json", online=args.online is not False, paper=args.paper_state or "ok")
    state = PrinterState(out / "state.json", online=args.online is not False, paper=args.paper_state or "ok",
                         paper_out_after=args.paper_out_after)
    try:
        printer = VirtualPrinter(out, paper_mm=args.paper, host=args.host, port=args.port, state=state).start()
    except OSError as exc:
        from suite.errors import InvalidInput

        raise InvalidInput(_("Cannot listen on {host}:{port}: {reason}").format(
            host=args.host, port=args.port, reason=exc.strerror or exc)) from None
    where = [f"{printer.host}:{printer.port}"]
    if args.pty:
        where.append(printer.serve_pty())
    print(_("Virtual {mm} mm printer on {where}; jobs go to {out}. Ctrl-C stops it.").format(
        mm=args.paper, where=", ".join(where), out=out.resolve()), flush=True)
    def interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupted)     # stop cleanly when killed too
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        printer.stop()
    return {"jobs": len(printer.jobs), "folder": str(out.resolve())}


def virtual_state(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from printers.virtual.state import write_state

    out = Path(args.out)
    if not out.is_dir():
        from suite.errors import InvalidInput

        raise InvalidInput(_("{path} is not a virtual printer's folder.").format(path=out))
    return write_state(out / "state.json", online=args.online, paper=args.paper_state)
