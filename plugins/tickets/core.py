"""What every box-office use case shares: its errors, the database, the operator's checks, the
terminal it runs on and the venue's clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.errors import NotFound, SuiteError
from suite.i18n import _
from suite.identity.actor import Actor
from suite.plugin_service import PluginService

from plugins.tickets.settings import TicketSettings, parse_settings

PLUGIN_ID = "tickets"


class SaleRefused(SuiteError):
    """The sale cannot go ahead: a seat taken, a session not on sale, a hold expired..."""

    code = "sale_refused"


class SeatTaken(SaleRefused):
    code = "seat_taken"


class TicketsCore(PluginService[TicketSettings]):
    """The box office's database, operator checks and clock (``PluginService``)."""

    plugin_id = PLUGIN_ID
    parse_settings = staticmethod(parse_settings)

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
