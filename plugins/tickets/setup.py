"""Setting up the box office (T1-T3): halls and seat maps (generate a grid, remove seats for
aisles and curves, paint zones, lock seats, renumber), programmes, ticket types, price plans,
sessions and their sales state. Permission ``tickets.setup`` (reading: ``tickets.view``)."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import text, whole

from plugins.tickets.core import TicketsCore
from plugins.tickets.models import (
    ANY_ZONE, SEAT_KINDS, Hall, Price, PricePlan, Programme, Seat, SeatClaim, SeatMap, ShowSession, TicketType, Zone,
)
from plugins.tickets.models.catalogue import PROGRAMME_KINDS, SESSION_STATES, TICKET_CATEGORIES

MAX_GRID = 200  # rows or columns of a seat map
Cell = tuple[int, int]


def _choice(value: object, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise InvalidInput(_("{what} must be one of: {choices}.").format(what=what, choices=", ".join(choices)))
    return str(value)


def row_label(index: int, style: str) -> str:
    """Row ``index`` (0-based) as printed: 1, 2, 3... or A, B, ... Z, AA, AB..."""
    if style == "numbers":
        return str(index + 1)
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return letters


def _cells(cells: Iterable[Sequence[int]]) -> list[Cell]:
    found = []
    for cell in cells:
        if len(cell) != 2:
            raise InvalidInput(_("A seat cell is a (row, column) pair."))
        found.append((whole(cell[0], _("The row"), maximum=MAX_GRID - 1),
                      whole(cell[1], _("The column"), maximum=MAX_GRID - 1)))
    return found


def seat_map_dict(session: Session, seat_map: SeatMap) -> dict[str, Any]:
    """Everything a screen needs to draw the map: zones and seats by grid cell."""
    zones = session.scalars(select(Zone).where(Zone.seat_map_id == seat_map.id).order_by(Zone.code)).all()
    zone_codes = {z.id: z.code for z in zones}
    seats = session.scalars(select(Seat).where(Seat.seat_map_id == seat_map.id)
                            .order_by(Seat.grid_row, Seat.grid_col)).all()
    hall = session.get_one(Hall, seat_map.hall_id)
    return {"id": str(seat_map.id), "hall": hall.code, "name": seat_map.name, "rows": seat_map.rows,
            "columns": seat_map.columns,
            "zones": [{"code": z.code, "name": z.name, "colour": z.colour} for z in zones],
            "seats": [{"id": str(s.id), "row": s.grid_row, "col": s.grid_col, "row_label": s.row_label,
                       "seat_label": s.seat_label, "zone": zone_codes.get(s.zone_id, "") if s.zone_id else "",
                       "kind": s.kind} for s in seats]}


class SetupService(TicketsCore):
    """Halls, seat maps, programmes, ticket types, prices and sessions."""

    # ------------------------------------------------------------ halls and seat maps (T1)

    def add_hall(self, actor: Actor, *, code: str, name: str, venue_code: str | None = None) -> dict[str, Any]:
        self._begin(actor, "tickets.setup", admin=True)
        values = {"code": text(code, _("The hall code"), 32), "name": text(name, _("The hall name"), 100),
                  "venue_code": text(venue_code or self.venue_code, _("The venue code"), 32)}
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(Hall.id).where(Hall.venue_code == values["venue_code"],
                                                    Hall.code == values["code"])) is not None:
                raise Conflict(_("The hall {code} exists already.").format(code=values["code"]))
            session.add(Hall(**values, venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            self._audit(session, actor, "tickets.hall.create", values["code"], values)
            uow.commit()
        return values

    def _hall(self, session: Session, code: str) -> Hall:
        hall = session.scalars(select(Hall).where(Hall.code == code, Hall.venue_code == self.venue_code)).one_or_none()
        if hall is None:
            hall = session.scalars(select(Hall).where(Hall.code == code)).first()
        if hall is None:
            raise NotFound(_("There is no hall {code}.").format(code=code), code=code)
        return hall

    def _seat_map(self, session: Session, hall_code: str, name: str, *, lock: bool = False) -> SeatMap:
        hall = self._hall(session, hall_code)
        query = select(SeatMap).where(SeatMap.hall_id == hall.id, SeatMap.name == name)
        if lock:
            query = query.with_for_update()
        found = session.scalars(query).one_or_none()
        if found is None:
            raise NotFound(_("Hall {hall} has no seat map {name}.").format(hall=hall_code, name=name))
        return found

    def create_seat_map(self, actor: Actor, *, hall: str, name: str, rows: int, columns: int,
                        zone: str = "STD", zone_name: str = "", colour: str = "#4c9be8",
                        row_style: str = "numbers") -> dict[str, Any]:
        """A new template: a full ``rows`` x ``columns`` grid of normal seats in one zone, rows
        labelled 1, 2, 3 (or A, B, C), seats numbered from 1 in each row."""
        self._begin(actor, "tickets.setup", admin=True)
        rows = whole(rows, _("The number of rows"), minimum=1, maximum=MAX_GRID)
        columns = whole(columns, _("The number of columns"), minimum=1, maximum=MAX_GRID)
        _choice(row_style, ("numbers", "letters"), _("The row style"))
        name = text(name, _("The seat map name"), 100)
        with self._uow() as uow:
            session = uow.session
            hall_row = self._hall(session, hall)
            if session.scalar(select(SeatMap.id).where(SeatMap.hall_id == hall_row.id, SeatMap.name == name)):
                raise Conflict(_("Hall {hall} has a seat map {name} already.").format(hall=hall, name=name))
            where = {"venue_id": actor.venue_id, "terminal_id": actor.terminal_id}
            seat_map = SeatMap(hall_id=hall_row.id, name=name, rows=rows, columns=columns, **where)
            session.add(seat_map)
            session.flush()
            zone_row = Zone(seat_map_id=seat_map.id, code=text(zone, _("The zone code"), 32),
                            name=zone_name or zone, colour=colour, **where)
            session.add(zone_row)
            session.flush()
            session.add_all(Seat(seat_map_id=seat_map.id, zone_id=zone_row.id, grid_row=r, grid_col=c,
                                 row_label=row_label(r, row_style), seat_label=str(c + 1), **where)
                            for r in range(rows) for c in range(columns))
            self._audit(session, actor, "tickets.seatmap.create", f"{hall}/{name}",
                        {"rows": rows, "columns": columns})
            uow.commit()
        return self.seat_map(actor, hall=hall, name=name)

    def seat_map(self, actor: Actor, *, hall: str, name: str) -> dict[str, Any]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            return seat_map_dict(uow.session, self._seat_map(uow.session, hall, name))

    def seat_maps(self, actor: Actor, *, hall: str) -> list[dict[str, Any]]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            hall_row = self._hall(uow.session, hall)
            maps = uow.session.scalars(select(SeatMap).where(SeatMap.hall_id == hall_row.id).order_by(SeatMap.name))
            return [{"name": m.name, "rows": m.rows, "columns": m.columns, "active": m.active,
                     "seats": uow.session.scalar(select(func.count()).select_from(Seat)
                                                 .where(Seat.seat_map_id == m.id))} for m in maps]

    def _editing(self, actor: Actor, hall: str, name: str) -> Any:
        self._begin(actor, "tickets.setup", admin=True)
        return self._uow()

    def _unused(self, session: Session, seat_map: SeatMap) -> None:
        """A template a session already sells from keeps its seats (tickets point at them)."""
        sold = session.scalar(select(func.count()).select_from(SeatClaim).join(
            ShowSession, ShowSession.id == SeatClaim.session_id).where(ShowSession.seat_map_id == seat_map.id))
        if sold:
            raise Conflict(_("Seat map {name} has seats held or sold: copy it to change its seats.").format(
                name=seat_map.name))

    def edit_seats(self, actor: Actor, *, hall: str, name: str, remove: Iterable[Sequence[int]] = (),
                   add: Iterable[Sequence[int]] = (), zone: str | None = None,
                   zone_cells: Iterable[Sequence[int]] = (), kind: str | None = None,
                   kind_cells: Iterable[Sequence[int]] = ()) -> dict[str, Any]:
        """One edit of the map, all or nothing: remove seats (aisles, curves), add seats back on
        empty cells, paint cells into ``zone``, set the ``kind`` of cells (lock for press...)."""
        remove_cells, add_cells = _cells(remove), _cells(add)
        zone_list, kind_list = _cells(zone_cells), _cells(kind_cells)
        if kind is not None:
            _choice(kind, SEAT_KINDS, _("The seat kind"))
        with self._editing(actor, hall, name) as uow:
            session = uow.session
            seat_map = self._seat_map(session, hall, name, lock=True)
            if remove_cells or add_cells:
                self._unused(session, seat_map)
            for r, c in add_cells + zone_list + kind_list:
                if r >= seat_map.rows or c >= seat_map.columns:
                    raise InvalidInput(_("Cell ({row}, {col}) is outside the {rows} x {cols} grid.").format(
                        row=r, col=c, rows=seat_map.rows, cols=seat_map.columns))
            seats = {(s.grid_row, s.grid_col): s for s in session.scalars(
                select(Seat).where(Seat.seat_map_id == seat_map.id))}
            for cell in remove_cells:
                if cell in seats:
                    session.delete(seats.pop(cell))
            session.flush()
            default_zone = session.scalars(select(Zone).where(Zone.seat_map_id == seat_map.id)
                                           .order_by(Zone.created_at)).first()
            for r, c in add_cells:
                if (r, c) not in seats:
                    seat = Seat(seat_map_id=seat_map.id, zone_id=default_zone.id if default_zone else None,
                                grid_row=r, grid_col=c, row_label=f"?{r}", seat_label=f"?{c}",
                                venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                    session.add(seat)
                    seats[(r, c)] = seat
            if zone is not None and zone_list:
                zone_row = session.scalars(select(Zone).where(Zone.seat_map_id == seat_map.id,
                                                              Zone.code == zone)).one_or_none()
                if zone_row is None:
                    raise NotFound(_("Seat map {name} has no zone {zone}.").format(name=name, zone=zone))
                for cell in zone_list:
                    if cell in seats:
                        seats[cell].zone_id = zone_row.id
            if kind is not None:
                for cell in kind_list:
                    if cell in seats:
                        seats[cell].kind = kind
            session.flush()
            if add_cells or remove_cells:
                self._renumber(session, seat_map, "keep", 1, False)
            self._audit(session, actor, "tickets.seatmap.edit", f"{hall}/{name}",
                        {"removed": len(remove_cells), "added": len(add_cells), "zone": zone,
                         "zoned": len(zone_list), "kind": kind, "kinded": len(kind_list)})
            uow.commit()
        return self.seat_map(actor, hall=hall, name=name)

    def add_zone(self, actor: Actor, *, hall: str, name: str, code: str, zone_name: str,
                 colour: str = "#e8a44c") -> dict[str, Any]:
        with self._editing(actor, hall, name) as uow:
            session = uow.session
            seat_map = self._seat_map(session, hall, name)
            code = text(code, _("The zone code"), 32)
            if session.scalar(select(Zone.id).where(Zone.seat_map_id == seat_map.id, Zone.code == code)):
                raise Conflict(_("Seat map {name} has a zone {zone} already.").format(name=name, zone=code))
            if not (isinstance(colour, str) and len(colour) == 7 and colour.startswith("#")):
                raise InvalidInput(_("A colour is written #RRGGBB."))
            session.add(Zone(seat_map_id=seat_map.id, code=code, name=text(zone_name, _("The zone name"), 100),
                             colour=colour, venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            self._audit(session, actor, "tickets.zone.create", f"{hall}/{name}/{code}", {"colour": colour})
            uow.commit()
        return self.seat_map(actor, hall=hall, name=name)

    def renumber(self, actor: Actor, *, hall: str, name: str, row_style: str = "numbers", first_seat: int = 1,
                 right_to_left: bool = False) -> dict[str, Any]:
        """Rows labelled from the front (1, 2... or A, B...), skipping empty rows; seats numbered
        from ``first_seat`` along each row, skipping aisles, from the left (or the right)."""
        _choice(row_style, ("numbers", "letters"), _("The row style"))
        first_seat = whole(first_seat, _("The first seat number"), minimum=0, maximum=9999)
        with self._editing(actor, hall, name) as uow:
            session = uow.session
            seat_map = self._seat_map(session, hall, name, lock=True)
            self._renumber(session, seat_map, row_style, first_seat, right_to_left)
            self._audit(session, actor, "tickets.seatmap.renumber", f"{hall}/{name}",
                        {"row_style": row_style, "first_seat": first_seat, "right_to_left": right_to_left})
            uow.commit()
        return self.seat_map(actor, hall=hall, name=name)

    @staticmethod
    def _renumber(session: Session, seat_map: SeatMap, row_style: str, first_seat: int, right_to_left: bool) -> None:
        seats = session.scalars(select(Seat).where(Seat.seat_map_id == seat_map.id)).all()
        by_row: dict[int, list[Seat]] = {}
        for seat in seats:
            by_row.setdefault(seat.grid_row, []).append(seat)
        if row_style == "keep":  # labels of whole rows stay; new cells take their row's label
            style = "letters" if any(s.row_label.isalpha() for s in seats) else "numbers"
        else:
            style = row_style
        # two passes through temporary labels: the (map, row, seat) labels are unique
        for seat in seats:
            seat.row_label, seat.seat_label = f"~{seat.grid_row}", f"~{seat.grid_col}"
        session.flush()
        for index, grid_row in enumerate(sorted(by_row)):
            row = sorted(by_row[grid_row], key=lambda s: s.grid_col, reverse=right_to_left)
            for number, seat in enumerate(row, start=first_seat):
                seat.row_label, seat.seat_label = row_label(index, style), str(number)
        session.flush()

    # ------------------------------------------------------------ programmes, types, prices (T2, T3)

    def add_programme(self, actor: Actor, *, code: str, title: str, kind: str = "film", grade: str = "",
                      duration_minutes: int = 0) -> dict[str, Any]:
        self._begin(actor, "tickets.setup", admin=True)
        values = {"code": text(code, _("The programme code"), 32), "title": text(title, _("The title"), 200),
                  "kind": _choice(kind, PROGRAMME_KINDS, _("The kind")),
                  "grade": text(grade, _("The grade"), 16, required=False),
                  "duration_minutes": whole(duration_minutes, _("The duration"), maximum=24 * 60)}
        return self._add(actor, Programme, values, "tickets.programme.create", _("The programme {code} exists already."))

    def add_ticket_type(self, actor: Actor, *, code: str, name: str, category: str = "adult",
                        min_quantity: int = 1) -> dict[str, Any]:
        self._begin(actor, "tickets.setup", admin=True)
        values = {"code": text(code, _("The ticket type code"), 32), "name": text(name, _("The name"), 100),
                  "category": _choice(category, TICKET_CATEGORIES, _("The category")),
                  "min_quantity": whole(min_quantity, _("The minimum quantity"), minimum=1, maximum=10000)}
        return self._add(actor, TicketType, values, "tickets.tickettype.create",
                         _("The ticket type {code} exists already."))

    def add_price_plan(self, actor: Actor, *, code: str, name: str) -> dict[str, Any]:
        self._begin(actor, "tickets.setup", admin=True)
        values = {"code": text(code, _("The price plan code"), 32), "name": text(name, _("The name"), 100)}
        return self._add(actor, PricePlan, values, "tickets.priceplan.create",
                         _("The price plan {code} exists already."))

    def _add(self, actor: Actor, model: Any, values: dict[str, Any], action: str, exists: str) -> dict[str, Any]:
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(model.id).where(model.code == values["code"])) is not None:
                raise Conflict(exists.format(code=values["code"]), code=values["code"])
            session.add(model(**values, venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            self._audit(session, actor, action, values["code"], values)
            uow.commit()
        return values

    def edit(self, actor: Actor, what: str, code: str, **changes: Any) -> dict[str, Any]:
        """Change a hall (``name``), a programme (``title``, ``kind``, ``grade``,
        ``duration_minutes``) or a ticket type (``name``, ``category``, ``min_quantity``,
        ``active``); codes stay. Audited with the values before and after."""
        self._begin(actor, "tickets.setup", admin=True)
        checks: dict[str, dict[str, Any]] = {
            "hall": {"name": lambda v: text(v, _("The hall name"), 100)},
            "programme": {"title": lambda v: text(v, _("The title"), 200),
                          "kind": lambda v: _choice(v, PROGRAMME_KINDS, _("The kind")),
                          "grade": lambda v: text(v, _("The grade"), 16, required=False),
                          "duration_minutes": lambda v: whole(v, _("The duration"), maximum=24 * 60)},
            "tickettype": {"name": lambda v: text(v, _("The name"), 100),
                           "category": lambda v: _choice(v, TICKET_CATEGORIES, _("The category")),
                           "min_quantity": lambda v: whole(v, _("The minimum quantity"), minimum=1, maximum=10000),
                           "active": lambda v: bool(v)}}
        models = {"hall": (Hall, _("hall")), "programme": (Programme, _("programme")),
                  "tickettype": (TicketType, _("ticket type"))}
        allowed = checks[what]
        unknown = sorted(set(changes) - set(allowed))
        if unknown or not changes:
            raise InvalidInput(_("Nothing to change, or not a field: {fields}.").format(fields=", ".join(unknown)))
        checked = {field: allowed[field](value) for field, value in changes.items()}
        model, title = models[what]
        with self._uow() as uow:
            row = (self._hall(uow.session, code) if what == "hall"
                   else self._by_code(uow.session, model, code, title, lock=True))
            before = {field: getattr(row, field) for field in checked}
            for field, value in checked.items():
                setattr(row, field, value)
            self._audit(uow.session, actor, f"tickets.{what}.edit", code, {"before": before, "after": checked})
            uow.commit()
        return {"code": code, **checked}

    def set_price(self, actor: Actor, *, plan: str, ticket_type: str, price: int,
                  zone: str = ANY_ZONE) -> dict[str, Any]:
        """The price of ``ticket_type`` in ``zone`` (``*``: every zone without its own price)."""
        self._begin(actor, "tickets.setup", admin=True)
        price = whole(price, _("The price"))
        zone = text(zone, _("The zone code"), 32)
        with self._uow() as uow:
            session = uow.session
            plan_row = self._by_code(session, PricePlan, plan, _("price plan"))
            type_row = self._by_code(session, TicketType, ticket_type, _("ticket type"))
            row = session.scalars(select(Price).where(Price.plan_id == plan_row.id, Price.zone_code == zone,
                                                      Price.ticket_type_id == type_row.id)).one_or_none()
            if row is None:
                row = Price(plan_id=plan_row.id, zone_code=zone, ticket_type_id=type_row.id, price=price,
                            venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                session.add(row)
            row.price = price
            result = {"plan": plan, "zone": zone, "ticket_type": ticket_type, "price": price}
            self._audit(session, actor, "tickets.price.set", plan, result)
            uow.commit()
        return result

    def prices(self, actor: Actor, *, plan: str) -> list[dict[str, Any]]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            session = uow.session
            plan_row = self._by_code(session, PricePlan, plan, _("price plan"))
            rows = session.execute(select(Price.zone_code, TicketType.code, Price.price)
                                   .join(TicketType, TicketType.id == Price.ticket_type_id)
                                   .where(Price.plan_id == plan_row.id).order_by(Price.zone_code, TicketType.code))
            return [{"zone": z, "ticket_type": t, "price": p} for z, t, p in rows]

    def list_ticket_types(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            return [{"code": t.code, "name": t.name, "category": t.category, "min_quantity": t.min_quantity,
                     "active": t.active} for t in uow.session.scalars(select(TicketType).order_by(TicketType.code))]

    def list_programmes(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            return [{"code": p.code, "title": p.title, "kind": p.kind, "grade": p.grade,
                     "duration_minutes": p.duration_minutes}
                    for p in uow.session.scalars(select(Programme).order_by(Programme.code))]

    def list_halls(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            return [{"code": h.code, "name": h.name, "venue": h.venue_code}
                    for h in uow.session.scalars(select(Hall).order_by(Hall.venue_code, Hall.code))]

    # ------------------------------------------------------------ sessions (T2)

    def add_session(self, actor: Actor, *, code: str, programme: str, hall: str, seat_map: str, plan: str,
                    starts_at: dt.datetime, ends_at: dt.datetime | None = None,
                    state: str = "presale") -> dict[str, Any]:
        """A session of ``programme`` in ``hall`` from the ``seat_map`` template at ``plan``'s
        prices; ``ends_at`` defaults to the start plus the programme's duration."""
        self._begin(actor, "tickets.setup", admin=True)
        code = text(code, _("The session code"), 32)
        _choice(state, SESSION_STATES, _("The sales state"))
        if not isinstance(starts_at, dt.datetime) or starts_at.tzinfo is None:
            raise InvalidInput(_("The start must be a date and time with its time zone."))
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(ShowSession.id).where(ShowSession.code == code)) is not None:
                raise Conflict(_("The session {code} exists already.").format(code=code), code=code)
            programme_row = self._by_code(session, Programme, programme, _("programme"))
            map_row = self._seat_map(session, hall, seat_map)
            plan_row = self._by_code(session, PricePlan, plan, _("price plan"))
            end = ends_at or starts_at + dt.timedelta(minutes=programme_row.duration_minutes or 120)
            if end <= starts_at:
                raise InvalidInput(_("A session must end after it starts."))
            hall_row = session.get_one(Hall, map_row.hall_id)
            row = ShowSession(code=code, programme_id=programme_row.id, hall_id=hall_row.id, seat_map_id=map_row.id,
                              plan_id=plan_row.id, venue_code=hall_row.venue_code, starts_at=starts_at, ends_at=end,
                              state=state, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(row)
            session.flush()
            self._audit(session, actor, "tickets.session.create", code,
                        {"programme": programme, "hall": hall, "seat_map": seat_map, "plan": plan,
                         "starts_at": starts_at.isoformat(), "state": state})
            uow.commit()
        return self.session_info(actor, code)

    def set_session_state(self, actor: Actor, code: str, state: str) -> dict[str, Any]:
        self._begin(actor, "tickets.setup", admin=True)
        _choice(state, SESSION_STATES, _("The sales state"))
        with self._uow() as uow:
            row = self._by_code(uow.session, ShowSession, code, _("session"), lock=True)
            before, row.state = row.state, state
            self._audit(uow.session, actor, "tickets.session.state", code, {"from": before, "to": state})
            uow.commit()
        return self.session_info(actor, code)

    def edit_session(self, actor: Actor, code: str, *, plan: str | None = None,
                     starts_at: dt.datetime | None = None, ends_at: dt.datetime | None = None) -> dict[str, Any]:
        """Another price plan (for the tickets sold from now on), or other times while no ticket
        is sold (a sold ticket's signed code carries the times). Audited."""
        self._begin(actor, "tickets.setup", admin=True)
        if plan is None and starts_at is None and ends_at is None:
            raise InvalidInput(_("Nothing to change."))
        for moment in (starts_at, ends_at):
            if moment is not None and (not isinstance(moment, dt.datetime) or moment.tzinfo is None):
                raise InvalidInput(_("The start must be a date and time with its time zone."))
        with self._uow() as uow:
            session = uow.session
            row = self._by_code(session, ShowSession, code, _("session"), lock=True)
            before = {"plan": session.get_one(PricePlan, row.plan_id).code, "starts_at": row.starts_at.isoformat(),
                      "ends_at": row.ends_at.isoformat()}
            if plan is not None:
                row.plan_id = self._by_code(session, PricePlan, plan, _("price plan")).id
            if starts_at is not None or ends_at is not None:
                sold = session.scalar(select(func.count()).select_from(SeatClaim).where(
                    SeatClaim.session_id == row.id, SeatClaim.kind == "sold"))
                if sold:
                    raise Conflict(_("Session {session} has tickets sold: its times cannot change (the tickets "
                                     "carry them); stop its sales and add another session.").format(session=code))
                length = row.ends_at - row.starts_at
                row.starts_at = starts_at or row.starts_at
                row.ends_at = ends_at or (row.starts_at + length)
                if row.ends_at <= row.starts_at:
                    raise InvalidInput(_("A session must end after it starts."))
            self._audit(session, actor, "tickets.session.edit", code,
                        {"before": before, "plan": plan, "starts_at": starts_at, "ends_at": ends_at})
            uow.commit()
        return self.session_info(actor, code)

    def session_info(self, actor: Actor, code: str) -> dict[str, Any]:
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            return session_dict(uow.session, self._by_code(uow.session, ShowSession, code, _("session")))

    def list_sessions(self, actor: Actor, *, day: dt.date | None = None) -> list[dict[str, Any]]:
        """Sessions in start order; ``day``: only those starting that local day."""
        self._begin(actor, "tickets.view", admin=True)
        query = select(ShowSession).order_by(ShowSession.starts_at, ShowSession.code)
        if day is not None:
            zone = self.settings.zone
            first = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
            query = query.where(ShowSession.starts_at >= first,
                                ShowSession.starts_at < first + dt.timedelta(days=1))
        with self._uow.read() as uow:
            return [session_dict(uow.session, row) for row in uow.session.scalars(query)]

    def delete_unused_holds(self, actor: Actor) -> int:
        """Drop expired seat holds (they are ignored anyway; this keeps the table small)."""
        self._begin(actor, "tickets.setup", admin=True)
        with self._uow() as uow:
            result = uow.session.execute(delete(SeatClaim).where(SeatClaim.kind == "hold",
                                                                 SeatClaim.expires_at < self.now()))
            uow.commit()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


def session_dict(session: Session, row: ShowSession) -> dict[str, Any]:
    programme = session.get_one(Programme, row.programme_id)
    hall = session.get_one(Hall, row.hall_id)
    seat_map = session.get_one(SeatMap, row.seat_map_id)
    plan = session.get_one(PricePlan, row.plan_id)
    capacity = session.scalar(select(func.count()).select_from(Seat).where(Seat.seat_map_id == seat_map.id))
    sold = session.scalar(select(func.count()).select_from(SeatClaim).where(
        SeatClaim.session_id == row.id, SeatClaim.kind == "sold"))
    return {"code": row.code, "programme": programme.code, "title": programme.title, "grade": programme.grade,
            "hall": hall.code, "venue": row.venue_code, "seat_map": seat_map.name, "plan": plan.code,
            "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat(), "state": row.state,
            "capacity": int(capacity or 0), "sold": int(sold or 0)}


__all__ = ["SetupService", "row_label", "seat_map_dict", "session_dict"]
