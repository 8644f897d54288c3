"""Building blocks of the check-in tests: the schema, services on it, signed ticket codes and a
gate with its list."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import plugins.checkin as checkin_plugin
from plugins.checkin.service import CheckinService
from plugins.checkin.settings import CheckinSettings
from plugins.checkin.setup import SetupService
from plugins.tickets.codes import TicketClaims, TicketSigner
from suite.db.migrate import upgrade
from suite.db.uow import UnitOfWorkFactory
from suite.identity.actor import Actor
from suite.identity.service import IdentityService

VENUE = "CINEMA-01"
SEED = bytes(range(32))
SIGNER = TicketSigner(SEED)
ALL_CHECKIN = frozenset(p.id for p in checkin_plugin.PERMISSIONS)
NOW = dt.datetime(2026, 11, 22, 11, 0, tzinfo=dt.timezone.utc)  # 19:00 in Shanghai


def checkin_schema(engine: Any) -> UnitOfWorkFactory:
    """The check-in branch with the box office's and the wallet's (revocations, cards)."""
    import plugins.tickets as tickets_plugin
    import plugins.wallet as wallet_plugin

    upgrade(engine, [checkin_plugin.MIGRATIONS, tickets_plugin.MIGRATIONS, wallet_plugin.MIGRATIONS],
            ("plugins.checkin.models", "plugins.tickets.models", "plugins.wallet.models"))
    return UnitOfWorkFactory(engine)


def actor(*permissions: str, name: str = "attendant") -> Actor:
    return Actor(user_id=uuid.uuid4(), username=name, display_name=name,
                 permissions=frozenset(permissions or ALL_CHECKIN))


class Clock:
    """A settable clock for the services."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def services(uow: UnitOfWorkFactory, clock: Clock | None = None, *, wallet: Any = None,
             terminal_code: str = "G01", **settings: Any) -> tuple[SetupService, CheckinService]:
    config = CheckinSettings(ticket_public_keys=(SIGNER.public_key,), **settings)
    common = dict(venue_code=VENUE, terminal_code=terminal_code, settings=config, clock=clock or Clock())
    identity = IdentityService(uow)
    return SetupService(uow, identity, **common), CheckinService(uow, identity, wallet=wallet, **common)


def ticket(serial: str, *, starts: dt.datetime = NOW + dt.timedelta(minutes=10), minutes: int = 120,
           admits: int = 1, ticket_type: str = "ADULT", session: str = "S1", hall: str = "H1",
           venue: str = VENUE, signer: TicketSigner = SIGNER) -> str:
    """A signed ticket code (a session ticket, or a package when ``session`` starts 'package:')."""
    claims = TicketClaims(serial=serial, venue=venue, session=session, hall=hall, row="A", seat="1",
                          ticket_type=ticket_type, category="adult", admits=admits,
                          starts=int(starts.timestamp()), ends=int((starts + dt.timedelta(minutes=minutes)).timestamp()))
    return signer.sign(claims)


def entrance(setup: SetupService, *, code: str = "MAIN", channels: tuple[str, ...] = ("L1",), **values: Any) -> None:
    """A list and its entry channels (gate ``gate-<channel>``, side A)."""
    setup.add_list(actor(), code=code, name=f"Entrance {code}", **values)
    for channel in channels:
        setup.add_channel(actor(), code=channel, name=f"Lane {channel}", list_code=code, gate=f"gate-{channel}")
