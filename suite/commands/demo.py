"""venue-suite demo: fill this database with demo data (and open the suite when it can)."""

from __future__ import annotations

import argparse
from typing import Any

from suite.i18n import _


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(func=run_demo)


def run_demo(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.db.engine import describe
    from suite.demo import DEMO_USERS, seed

    app = ctx.app()
    done = seed(app)
    status = app.licences.status()
    return {
        "database": describe(app.engine),
        "set_up": done or [_("nothing new: the demo data was already there")],
        "licence": status.message,
        "plugins": [f"{p.id} ({p.state})" for p in app.plugins.plugins()],
        "log_in_as": [f"{u} / {p}" for u, p, _n, _r in DEMO_USERS],
        "try": ["venue-suite --config " + " ".join(ctx.settings.sources[1:2]) + " ledger check",
                "venue-suite --config " + " ".join(ctx.settings.sources[1:2]) + " audit verify"],
    }
