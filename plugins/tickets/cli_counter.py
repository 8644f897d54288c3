"""The ``shift`` and ``face`` verbs of the box office.

``venue-suite shift open --float 500.00`` | ``close --cash 1234.50 [--count voucher=90] [--note ...]
[--print]`` | ``current`` | ``report [SHIFT_ID] [--print]``; ``venue-suite face add CODE NAME
--layout face.json [--paper 58] [--image logo.png]`` | ``edit CODE ...`` | ``list`` | ``show CODE``
| ``preview CODE --out FILE.png``. Amounts are typed in yuan with at most two decimals and
converted to integer fen here (never through floats); results are plain data the host prints
as text or, with ``--json``, as JSON (amounts in fen). The shift belongs to the operator given
with ``--user`` (the console's system operator without it) at this terminal.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from suite.errors import InvalidInput
from suite.plugin_cli import verb_actor, yuan_argument, yuan_to_fen
from suite.i18n import N_, _

SHIFT_HELP = N_("cashier's shifts: open with a float, close with the count, current, report")
FACE_HELP = N_("ticket face templates: add, edit, list, show, preview")

_amount = yuan_argument


def _method_count(value: str) -> tuple[str, int]:
    """``METHOD=YUAN``: what was counted for one payment method."""
    method, sep, amount = value.partition("=")
    if not sep or not method.strip():
        raise argparse.ArgumentTypeError(_("{value!r} is not METHOD=AMOUNT (like voucher=90.00).").format(value=value))
    return method.strip(), _amount(amount)


def configure_shift(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="shift_action", metavar="ACTION")
    opened = sub.add_parser("open", help=_("open a shift at this terminal with the float in the drawer"))
    opened.add_argument("--float", type=_amount, default=0, dest="opening_float",
                        help=_("the opening float, in yuan (default 0)"))
    opened.set_defaults(counter_action="shift.open")
    close = sub.add_parser("close", help=_("close the shift with what was counted"))
    close.add_argument("--cash", type=_amount, required=True, help=_("cash counted in the drawer, float included, "
                                                                     "in yuan"))
    close.add_argument("--count", type=_method_count, action="append", default=[], metavar="METHOD=YUAN",
                       help=_("another payment method counted by hand, e.g. voucher=90.00 (repeatable)"))
    close.add_argument("--note", default="", help=_("a note for the report (why the till is over or short)"))
    close.add_argument("--print", action="store_true", dest="print_report",
                       help=_("print the shift report on the receipt printer"))
    close.set_defaults(counter_action="shift.close")
    sub.add_parser("current", help=_("this operator's open shift here and what is expected so far")).set_defaults(
        counter_action="shift.current")
    report = sub.add_parser("report", help=_("the cashier's report of a shift (default: the current or last one)"))
    report.add_argument("shift_id", nargs="?", help=_("the shift's id"))
    report.add_argument("--print", action="store_true", dest="print_report",
                        help=_("print the shift report on the receipt printer"))
    report.set_defaults(counter_action="shift.report")


def configure_face(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="face_action", metavar="ACTION")
    add = sub.add_parser("add", help=_("add a ticket face from a JSON layout"))
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--layout", required=True, type=Path, help=_("the layout: a JSON file (docs/tickets-faces.md)"))
    add.add_argument("--paper", type=int, choices=(58, 80), default=80, help=_("paper width in mm"))
    add.add_argument("--image", type=Path, help=_("a logo, a PNG file"))
    add.set_defaults(counter_action="face.add")
    edit = sub.add_parser("edit", help=_("change a ticket face"))
    edit.add_argument("code")
    edit.add_argument("--name")
    edit.add_argument("--layout", type=Path, help=_("the layout: a JSON file (docs/tickets-faces.md)"))
    edit.add_argument("--paper", type=int, choices=(58, 80), help=_("paper width in mm"))
    logo = edit.add_mutually_exclusive_group()
    logo.add_argument("--image", type=Path, help=_("a logo, a PNG file"))
    logo.add_argument("--no-image", action="store_true", help=_("remove the logo"))
    edit.set_defaults(counter_action="face.edit")
    sub.add_parser("list", help=_("list the ticket faces")).set_defaults(counter_action="face.list")
    show = sub.add_parser("show", help=_("a ticket face's layout"))
    show.add_argument("code")
    show.set_defaults(counter_action="face.show")
    preview = sub.add_parser("preview", help=_("draw a ticket face with sample data into a PNG file"))
    preview.add_argument("code")
    preview.add_argument("--out", required=True, type=Path, help=_("the PNG file to write"))
    preview.add_argument("--sample-language", choices=("en", "zh"), default="en",
                         help=_("language of the sample data"))
    preview.add_argument("--bare", action="store_true", help=_("only the printed dots, without the paper's frame"))
    preview.set_defaults(counter_action="face.preview")


_actor = verb_actor


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(_("Cannot read the {what} file {path}: {reason}").format(
            what=what, path=path, reason=exc.strerror or exc)) from None


def _layout(path: Path | None) -> Any:
    return None if path is None else _read(path, _("layout")).decode("utf-8", "replace")


def run(app: Any, args: argparse.Namespace) -> Any:
    action = getattr(args, "counter_action", None)
    if action is None:
        raise InvalidInput(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(verb=args.verb))
    actor = _actor(app, args)
    if action.startswith("shift."):
        return _shift(app, args, actor, action)
    return _face(app, args, actor, action)


def _shift(app: Any, args: argparse.Namespace, actor: Any, action: str) -> Any:
    from plugins.tickets.shifts import ShiftService, print_shift_report

    service = ShiftService.from_app(app)
    if action == "shift.open":
        return service.open(actor, args.opening_float)
    if action == "shift.current":
        return service.current(actor) or {"shift": None, "message": _("No shift is open for {cashier} here.").format(
            cashier=actor.username)}
    if action == "shift.close":
        counted = {"cash": args.cash}
        for method, amount in args.count:
            if method in counted:
                raise InvalidInput(_("{method} is counted twice.").format(method=method))
            counted[method] = amount
        closed = service.close(actor, counted, note=args.note)
        if not args.print_report:
            return closed
        report = service.report(actor, closed["id"])
        return {**closed, "printed": print_shift_report(app, report)}
    report = service.report(actor, args.shift_id)
    if args.print_report:
        report["printed"] = print_shift_report(app, report)
    return report


def _face(app: Any, args: argparse.Namespace, actor: Any, action: str) -> Any:
    from plugins.tickets.faces import FacesService, sample_ticket

    service = FacesService.from_app(app)
    if action == "face.add":
        image = _read(args.image, _("image")) if args.image else None
        return _shown(service.add_face(actor, code=args.code, name=args.name, paper=args.paper,
                                       layout=_layout(args.layout), image=image))
    if action == "face.edit":
        image = b"" if args.no_image else _read(args.image, _("image")) if args.image else None
        return _shown(service.edit_face(actor, args.code, name=args.name, paper=args.paper,
                                        layout=_layout(args.layout), image=image))
    if action == "face.list":
        return service.list_faces(actor)
    face = service.get_face(actor, args.code)
    if action == "face.show":
        return _shown(face)
    png = service.preview(face, sample_ticket(chinese=args.sample_language == "zh"), framed=not args.bare)
    try:
        args.out.write_bytes(png)
    except OSError as exc:
        raise InvalidInput(_("Cannot write {path}: {reason}").format(path=args.out,
                                                                    reason=exc.strerror or exc)) from None
    return {"face": face["code"], "paper": face["paper"], "out": str(args.out), "bytes": len(png)}


def _shown(face: dict[str, Any]) -> dict[str, Any]:
    """A face for the terminal: the logo's size instead of its base64 text."""
    image = face.pop("image", "")
    return {**face, "image_bytes": len(image) * 3 // 4 - image.count("=") if image else 0}


__all__ = ["FACE_HELP", "SHIFT_HELP", "configure_face", "configure_shift", "run", "yuan_to_fen"]
