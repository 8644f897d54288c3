"""What every check-in use case shares: the database, the operator's checks, the terminal and
the venue's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.db.base import utcnow
from suite.db.uow import UnitOfWorkFactory
from suite.errors import SuiteError
from suite.identity.actor import Actor

from plugins.checkin.settings import CheckinSettings

PLUGIN_ID = "checkin"
_changes = [0]  # lists and channels changed by this process (gates reload their rules at once)


def generation() -> int:
    return _changes[0]


def rules_changed() -> None:
    _changes[0] += 1


class CheckinRefused(SuiteError):
    """A check-in operation cannot go ahead (a closed entry, a channel with no gate...)."""

    code = "checkin_refused"


class CheckinCore:
    """``plugins``: the application's ``PluginHost`` (None in tests without one)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, identity: Any, *, venue_code: str = "HQ",
                 terminal_code: str = "", plugins: Any = None, settings: CheckinSettings | None = None,
                 secrets: Any = None, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._uow = uow_factory
        self._identity = identity
        self._plugins = plugins
        self.venue_code = venue_code
        self.terminal_code = terminal_code
        self.settings = settings or CheckinSettings()
        self.secrets = secrets
        self._clock = clock

    @classmethod
    def from_app(cls, app: Any, **kwargs: Any) -> Any:
        from plugins.checkin.settings import settings_of

        return cls(app.uow, app.identity, venue_code=app.settings.terminal.venue_code,
                   terminal_code=app.settings.terminal.terminal_code, plugins=app.plugins,
                   settings=settings_of(app), secrets=app.secrets, **kwargs)

    def _begin(self, actor: Actor, permission: str, *, admin: bool = False) -> None:
        if self._plugins is not None:
            from suite.licensing.service import Purpose

            self._plugins.require_active(PLUGIN_ID, Purpose.ADMIN if admin else Purpose.SALE)
        self._identity.require(actor, permission)

    def now(self) -> dt.datetime:
        return self._clock()

    def _audit(self, session: Session, actor: Actor, action: str, target: str, details: dict[str, Any],
               *, kind: str = "operation") -> None:
        record(session, kind=kind, action=action, actor=actor.username, target=target, details=details,
               venue_id=actor.venue_id, terminal_id=actor.terminal_id)


__all__ = ["PLUGIN_ID", "CheckinCore", "CheckinRefused", "generation", "rules_changed"]
