"""What every box-office use case shares: its errors, the database, the operator's checks, the
terminal it runs on and the venue's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.db.base import utcnow
from suite.db.uow import UnitOfWorkFactory
from suite.errors import NotFound, SuiteError
from suite.i18n import _
from suite.identity.actor import Actor

from plugins.tickets.settings import TicketSettings

PLUGIN_ID = "tickets"


class SaleRefused(SuiteError):
    """The sale cannot go ahead: a seat taken, a session not on sale, a hold expired..."""

    code = "sale_refused"


class SeatTaken(SaleRefused):
    code = "seat_taken"


class TicketsCore:
    """The box office's database, operator checks and clock.

    ``plugins``: the application's ``PluginHost`` (unlicensed or disabled refuses); ``None`` in
    tests without a host. ``venue_code``/``terminal_code``: this counter."""

    def __init__(self, uow_factory: UnitOfWorkFactory, identity: Any, *, venue_code: str = "HQ",
                 terminal_code: str = "", plugins: Any = None, settings: TicketSettings | None = None,
                 secrets: Any = None, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._uow = uow_factory
        self._identity = identity
        self._plugins = plugins
        self.venue_code = venue_code
        self.terminal_code = terminal_code
        self.settings = settings or TicketSettings()
        self.secrets = secrets
        self._clock = clock

    @classmethod
    def from_app(cls, app: Any) -> Any:
        from plugins.tickets.settings import settings_of

        return cls(app.uow, app.identity, venue_code=app.settings.terminal.venue_code,
                   terminal_code=app.settings.terminal.terminal_code, plugins=app.plugins,
                   settings=settings_of(app), secrets=app.secrets)

    def _begin(self, actor: Actor, permission: str, *, admin: bool = False) -> None:
        if self._plugins is not None:
            from suite.licensing.service import Purpose

            self._plugins.require_active(PLUGIN_ID, Purpose.ADMIN if admin else Purpose.SALE)
        self._identity.require(actor, permission)

    def now(self) -> dt.datetime:
        return self._clock()

    def local_now(self) -> dt.datetime:
        """The venue's wall-clock time (naive): offers' time slots and the shift's day use it."""
        return self._clock().astimezone(self.settings.zone).replace(tzinfo=None)

    def _audit(self, session: Session, actor: Actor, action: str, target: str, details: dict[str, Any],
               *, kind: str = "operation") -> None:
        record(session, kind=kind, action=action, actor=actor.username, target=target, details=details,
               venue_id=actor.venue_id, terminal_id=actor.terminal_id)

    @staticmethod
    def _by_code(session: Session, model: Any, code: str, what: str, *, lock: bool = False) -> Any:
        query = select(model).where(model.code == code)
        if lock:
            query = query.with_for_update()
        found = session.scalars(query).one_or_none()
        if found is None:
            raise NotFound(_("There is no {what} {code}.").format(what=what, code=code), code=code)
        return found


__all__ = ["PLUGIN_ID", "SaleRefused", "SeatTaken", "TicketsCore"]
