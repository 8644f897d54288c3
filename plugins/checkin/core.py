"""What every check-in use case shares: the database, the operator's checks, the terminal and
the venue's clock."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.errors import SuiteError
from suite.identity.actor import Actor
from suite.plugin_service import PluginService

from plugins.checkin.settings import CheckinSettings, parse_settings

PLUGIN_ID = "checkin"
_changes = [0]  # lists and channels changed by this process (gates reload their rules at once)


def generation() -> int:
    return _changes[0]


def rules_changed() -> None:
    _changes[0] += 1


class CheckinRefused(SuiteError):
    """A check-in operation cannot go ahead (a closed entry, a channel with no gate...)."""

    code = "checkin_refused"


class CheckinCore(PluginService[CheckinSettings]):
    """What every check-in use case shares (``PluginService``)."""

    plugin_id = PLUGIN_ID
    parse_settings = staticmethod(parse_settings)

    def _audit(self, session: Session, actor: Actor, action: str, target: str, details: dict[str, Any],
               *, kind: str = "operation") -> None:
        record(session, kind=kind, action=action, actor=actor.username, target=target, details=details,
               venue_id=actor.venue_id, terminal_id=actor.terminal_id)


__all__ = ["PLUGIN_ID", "CheckinCore", "CheckinRefused", "generation", "rules_changed"]
