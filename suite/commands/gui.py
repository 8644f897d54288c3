"""venue-suite gui: open the desktop suite at the login screen."""

from __future__ import annotations

import argparse
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", default="1024x768", help=_("window size, WIDTHxHEIGHT (at least 1024x768)"))
    parser.set_defaults(func=run_gui)


def parse_size(text: str) -> tuple[int, int]:
    from suite.errors import InvalidInput

    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise InvalidInput(_("--size: expected WIDTHxHEIGHT like 1280x800, not {value!r}.").format(value=text))
    return int(width), int(height)


def check_display() -> None:
    """Tk needs an X display; say so plainly instead of failing deep inside tkinter."""
    import os
    import tkinter

    from suite.errors import SuiteError

    try:
        probe = tkinter.Tcl()
        probe.eval("package require Tk")
        probe.eval("destroy .")
    except tkinter.TclError as exc:
        error = SuiteError(_("Cannot open the window: {reason}. Start it on the terminal's desktop "
                             "(DISPLAY={display}).").format(reason=exc, display=os.environ.get("DISPLAY", "")))
        error.code, error.exit_code = "no_display", 2
        raise error from None


def run_gui(ctx: Any, args: argparse.Namespace) -> None:
    from suite.ui.app import run

    size = parse_size(args.size)
    check_display()
    app = ctx.app()
    run(app, size=size)
    return None
