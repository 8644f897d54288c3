"""Box office set-up on SQLite and PostgreSQL: the schema, halls and seat maps (aisles, zones,
locked seats, renumbering), programmes, ticket types, prices and sessions."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from plugins.tickets.models import TicketsBase
from plugins.tickets.setup import SetupService, row_label
from suite.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.plugins.tickets_fixtures import actor, service, small_cinema, tickets_schema


@pytest.fixture
def setup(engine) -> SetupService:
    return service(SetupService, tickets_schema(engine))


def test_the_branch_matches_the_models(engine) -> None:
    tickets_schema(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), TicketsBase.metadata)
    assert [d for d in diffs if "tickets_" in repr(d)] == []


def test_row_labels() -> None:
    assert [row_label(i, "letters") for i in (0, 25, 26, 27, 701)] == ["A", "Z", "AA", "AB", "ZZ"]
    assert row_label(9, "numbers") == "10"


def test_a_seat_map_with_aisles_zones_locks_and_numbers(setup) -> None:
    a = actor()
    setup.add_hall(a, code="H1", name="Hall 1")
    with pytest.raises(Conflict):
        setup.add_hall(a, code="H1", name="again")
    created = setup.create_seat_map(a, hall="H1", name="Concert", rows=3, columns=6, row_style="letters")
    assert len(created["seats"]) == 18 and created["seats"][0]["row_label"] == "A"
    # an aisle down column 2 and a curve (front corners): numbers close up along each row
    edited = setup.edit_seats(a, hall="H1", name="Concert", remove=[(r, 2) for r in range(3)] + [(0, 0), (0, 5)])
    row_a = [s for s in edited["seats"] if s["row"] == 0]
    assert [(s["col"], s["seat_label"]) for s in row_a] == [(1, "1"), (3, "2"), (4, "3")]
    setup.add_zone(a, hall="H1", name="Concert", code="VIP", zone_name="VIP")
    painted = setup.edit_seats(a, hall="H1", name="Concert", zone="VIP", zone_cells=[(2, 0), (2, 1)],
                               kind="locked_press", kind_cells=[(1, 0)])
    zones = {(s["row"], s["col"]): (s["zone"], s["kind"]) for s in painted["seats"]}
    assert zones[(2, 0)] == ("VIP", "normal") and zones[(1, 0)] == ("STD", "locked_press")
    renumbered = setup.renumber(a, hall="H1", name="Concert", row_style="numbers", first_seat=1, right_to_left=True)
    row_1 = sorted((s for s in renumbered["seats"] if s["row"] == 0), key=lambda s: s["col"])
    assert [s["seat_label"] for s in row_1] == ["3", "2", "1"] and row_1[0]["row_label"] == "1"
    with pytest.raises(InvalidInput):
        setup.edit_seats(a, hall="H1", name="Concert", add=[(5, 0)])  # outside the grid
    with pytest.raises(InvalidInput):
        setup.edit_seats(a, hall="H1", name="Concert", kind="broken", kind_cells=[(0, 1)])
    with pytest.raises(NotFound):
        setup.seat_map(a, hall="H1", name="Nope")


def test_sessions_prices_and_permissions(setup) -> None:
    a = actor()
    info = small_cinema(setup)
    assert (info["capacity"], info["sold"], info["state"]) == (40, 0, "on_sale")
    assert {(p["zone"], p["ticket_type"], p["price"]) for p in setup.prices(a, plan="STD")} == {
        ("*", "ADULT", 5000), ("*", "CHILD", 3000), ("VIP", "ADULT", 8000)}
    assert setup.set_session_state(a, "S1", "stopped")["state"] == "stopped"
    with pytest.raises(InvalidInput):
        setup.set_session_state(a, "S1", "sold_out")
    assert [s["code"] for s in setup.list_sessions(a)] == ["S1"]
    cashier = actor("tickets.view", "tickets.sell")
    with pytest.raises(PermissionDenied):
        setup.add_programme(cashier, code="X", title="X")
    assert [t["code"] for t in setup.list_ticket_types(cashier)] == ["ADULT", "CHILD"]


def test_halls_programmes_and_ticket_types_are_edited_and_audited(setup) -> None:
    from sqlalchemy import select

    from suite.audit.models import AuditEvent

    a = actor()
    small_cinema(setup)
    assert setup.edit(a, "hall", "H1", name="Hall One")["name"] == "Hall One"
    assert setup.edit(a, "programme", "FILM1", title="The River (IMAX)", grade="IMAX")["grade"] == "IMAX"
    setup.edit(a, "tickettype", "CHILD", active=False, min_quantity=2)
    types = {t["code"]: t for t in setup.list_ticket_types(a)}
    assert types["CHILD"]["active"] is False and types["CHILD"]["min_quantity"] == 2
    assert [h["name"] for h in setup.list_halls(a)] == ["Hall One"]
    for bad in ({"venue_code": "X"}, {}, {"kind": "opera"}):
        with pytest.raises(InvalidInput):
            setup.edit(a, "programme", "FILM1", **bad)
    with setup._uow.read() as unit:
        actions = set(unit.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("%.edit"))))
    assert {"tickets.hall.edit", "tickets.programme.edit", "tickets.tickettype.edit"} <= actions


def test_a_session_moves_until_a_ticket_is_sold_and_changes_plan(setup, engine, secret_store) -> None:
    import datetime as dt

    from plugins.tickets.sales import SalesService
    from suite.errors import Conflict

    a = actor()
    info = small_cinema(setup)
    start = dt.datetime.fromisoformat(info["starts_at"])
    moved = setup.edit_session(a, "S1", starts_at=start + dt.timedelta(hours=1))
    assert dt.datetime.fromisoformat(moved["ends_at"]) - dt.datetime.fromisoformat(moved["starts_at"]) == \
        dt.timedelta(minutes=110)  # the length is kept
    setup.add_price_plan(a, code="LATE", name="Late prices")
    assert setup.edit_session(a, "S1", plan="LATE")["plan"] == "LATE"
    setup.set_price(a, plan="LATE", ticket_type="ADULT", price=4000)
    sales = service(SalesService, setup._uow, secrets=secret_store)
    seat = setup.seat_map(a, hall="H1", name="Standard")["seats"][0]["id"]
    sales.sell(a, session_code="S1", lines=[{"seat_id": seat, "ticket_type": "ADULT"}],
               payments=[{"method": "cash", "amount": 4000}], key="late-1")
    with pytest.raises(Conflict, match="tickets sold"):
        setup.edit_session(a, "S1", starts_at=start)
    with pytest.raises(InvalidInput):
        setup.edit_session(a, "S1")
