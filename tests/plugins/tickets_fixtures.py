"""Building blocks of the box-office tests: the schema, services on it, and a small cinema."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import plugins.tickets as tickets_plugin
from suite.db.migrate import upgrade
from suite.db.uow import UnitOfWorkFactory
from suite.identity.actor import Actor
from suite.identity.service import IdentityService

MIGRATIONS = [tickets_plugin.MIGRATIONS]
MODELS = ("plugins.tickets.models",)
ALL_TICKETS = frozenset(p.id for p in tickets_plugin.PERMISSIONS)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def tickets_schema(engine: Any, *, with_wallet: bool = False) -> UnitOfWorkFactory:
    """The box office's branch (and the wallet's, for card payments) on the host's schema."""
    import plugins.wallet as wallet_plugin

    extra = ([wallet_plugin.MIGRATIONS], ("plugins.wallet.models",)) if with_wallet else ([], ())
    upgrade(engine, [*MIGRATIONS, *extra[0]], (*MODELS, *extra[1]))
    return UnitOfWorkFactory(engine)


def actor(*permissions: str, name: str = "cashier") -> Actor:
    return Actor(user_id=uuid.uuid4(), username=name, display_name=name,
                 permissions=frozenset(permissions or ALL_TICKETS))


def service(kind: type, uow: UnitOfWorkFactory, **kwargs: Any) -> Any:
    return kind(uow, IdentityService(uow), venue_code=kwargs.pop("venue_code", "CINEMA-01"),
                terminal_code=kwargs.pop("terminal_code", "T01"), **kwargs)


def small_cinema(setup: Any, *, rows: int = 5, columns: int = 8, code: str = "S1",
                 starts_at: dt.datetime | None = None) -> dict[str, Any]:
    """Hall 1 (5 x 8, a VIP back row), adult 50.00 / child 30.00 (VIP adult 80.00), a film, one session."""
    a = actor()
    setup.add_hall(a, code="H1", name="Hall 1")
    setup.create_seat_map(a, hall="H1", name="Standard", rows=rows, columns=columns)
    setup.add_zone(a, hall="H1", name="Standard", code="VIP", zone_name="VIP", colour="#d4a017")
    setup.edit_seats(a, hall="H1", name="Standard", zone="VIP",
                     zone_cells=[(rows - 1, c) for c in range(columns)])
    setup.add_programme(a, code="FILM1", title="The River", kind="film", grade="B", duration_minutes=110)
    setup.add_ticket_type(a, code="ADULT", name="Adult")
    setup.add_ticket_type(a, code="CHILD", name="Child", category="child")
    setup.add_price_plan(a, code="STD", name="Standard prices")
    setup.set_price(a, plan="STD", ticket_type="ADULT", price=5000)
    setup.set_price(a, plan="STD", ticket_type="CHILD", price=3000)
    setup.set_price(a, plan="STD", ticket_type="ADULT", price=8000, zone="VIP")
    start = starts_at or dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    return setup.add_session(a, code=code, programme="FILM1", hall="H1", seat_map="Standard", plan="STD",
                             starts_at=start, state="on_sale")
