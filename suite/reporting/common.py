"""Parameters most reports share, so every report names and explains them the same way."""

from __future__ import annotations

from suite.i18n import N_
from suite.reporting.filters import CHAIN
from suite.reporting.spec import Param, ParamKind


def period(name: str = "period", *, required: bool = False, default: str | None = None) -> Param:
    return Param(name, N_("Period"), ParamKind.DATE_RANGE, required=required, default=default,
                 help=N_("FIRST..LAST (2026-11-01..2026-11-30), one day, a month (2026-11), today or yesterday"))


def venue_scope(name: str = "scope", *, default: str = CHAIN) -> Param:
    return Param(name, N_("Venues"), ParamKind.VENUE_SCOPE, default=default,
                 choices=(("local", N_("This venue")), ("chain", N_("Every venue"))),
                 help=N_("local: this venue only; chain: every venue"))


__all__ = ["period", "venue_scope"]
