"""Distributors (T7): contracts with a discount per ticket category, a prepaid account in the
ledger, bookings in two modes, the review queue and reconciliation (docs/tickets-partners.md).

A distributor's prepaid account is the ledger account (``distributor``, CODE, ``prepaid``,
CNY) with floor 0: the database itself refuses any movement that would take it below zero, so
a booking the account cannot pay is refused whole (order, tickets, seats, nothing stays).

Money moves so (every entry balances; amounts in fen):

=============================  ===================================  ==============================
what                           lines                                entry kind
=============================  ===================================  ==============================
top-up                         venue cash -x, prepaid +x            ``tickets.distributor.topup``
booking (both modes)           prepaid -charged, revenue +charged   ``tickets.distributor.sale``
approval in ``rebate`` mode    revenue -rebate, prepaid +rebate     ``tickets.distributor.rebate``
rejection                      the booking's entry reversed         ``reversal``
refund at the counter          revenue -x, prepaid +x               ``tickets.distributor.refund``
=============================  ===================================  ==============================

Prices: the counter's price for the session comes first (the price plan's list price and the
box office's offers, no member tier), then the contract's discount for the ticket's category
(or ``*``) is taken off it, rounded down to the fen. ``net`` mode charges the discounted price
and the booking is approved at once; ``rebate`` mode charges the counter's price, the booking
waits in the review queue, and approval pays the discount back (the tickets' prices become the
discounted ones); a rejection gives the whole charge back, revokes the tickets and frees their
seats.

``PartnerSales`` is what distributors and redemption codes share: an order placed on the
sales service's own steps (seats claimed, tickets signed) without a counter tender, the best
available seats of a session, and revoking tickets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import N_, _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text, whole
from suite.ledger import REVERSAL_KIND, FloorBreached, LineSpec, balance, open_account, post, reverse
from suite.ledger.models import Entry, Line
from suite.reporting.common import period
from suite.reporting.filters import local_midnight
from suite.reporting.spec import Column, ColumnKind, Param, ParamKind, ReportContext, ReportSpec

from plugins.tickets.codes import TicketSigner
from plugins.tickets.core import SaleRefused
from plugins.tickets.models import (
    LOCKED_KINDS, Booking, Distributor, DistributorDiscount, Order, Payment, RedemptionCode, Revocation, Seat,
    SeatClaim, ShowSession, Ticket, TicketType, Zone,
)
from plugins.tickets.models.catalogue import TICKET_CATEGORIES
from plugins.tickets.models.partners import BOOKING_MODES
from plugins.tickets.sales import CNY, PricedLine, SalesService, _order_number

ANY_CATEGORY = "*"
OWNER_TYPE = "distributor"
PREPAID = "prepaid"
KIND_TOPUP = "tickets.distributor.topup"
KIND_SALE = "tickets.distributor.sale"
KIND_REBATE = "tickets.distributor.rebate"
KIND_REFUND = "tickets.distributor.refund"
KIND_REDEMPTION_REFUND = "tickets.redemption.refund"
PARTNER_OWNER = "partner"      # a redemption partner's account: what it owes the venue
PARTNER_KIND = "redemption"
MAX_TICKETS = 500  # one booking or one code at most

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

MODE_TITLES = {"net": N_("net price, approved at once"), "rebate": N_("full price, rebate on approval")}
STATE_TITLES = {"pending": N_("pending"), "approved": N_("approved"), "rejected": N_("rejected")}


def yuan(fen: int) -> str:
    """``12345`` -> ``123.45`` (the plain figure messages show)."""
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def discount_of(price: int, discount_bp: int) -> int:
    """The contract discount on one ticket: ``discount_bp`` of its price, rounded down to the fen."""
    return price * discount_bp // 10000


def proportional(weights: Sequence[int], total: int) -> list[int]:
    """``total`` fen shared out in proportion to ``weights``, whole fen, adding up exactly (the
    largest remainders get the odd fen)."""
    whole_sum = sum(weights)
    if not weights:
        return []
    if whole_sum <= 0:
        return [total] + [0] * (len(weights) - 1)
    shares = [total * w // whole_sum for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole_sum), i))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares




def _net(booking: Booking) -> int:
    """What the distributor pays for the booking in the end."""
    if booking.state == "rejected":
        return 0
    if booking.state == "approved" and booking.mode == "rebate":
        return booking.charged - booking.rebate
    return booking.charged


class PartnerSales(SalesService):
    """Orders placed for a partner: the sales service's seat claims, pricing and signed tickets,
    with the payment recorded by the subclass (a distributor's account, a redemption code)."""

    def _best_seats(self, session: Session, show: ShowSession, count: int, *, zone: str | None = None) -> list[Seat]:
        """``count`` free seats of the session, side by side in one row when possible, as near the
        middle of the hall as possible; wheelchair places only when nothing else is left.
        ``zone``: only seats of that zone (code). ``SaleRefused`` when too few are free."""
        count = whole(count, _("The number of tickets"), minimum=1, maximum=MAX_TICKETS)
        seats = session.scalars(select(Seat).where(Seat.seat_map_id == show.seat_map_id)).all()
        if not seats:
            raise SaleRefused(_("Session {session} has no seats.").format(session=show.code), reason="sold_out")
        now = self.now()
        taken = set(session.scalars(select(SeatClaim.seat_id).where(
            SeatClaim.session_id == show.id,
            (SeatClaim.kind == "sold") | (SeatClaim.expires_at > now))))
        zone_id = None
        if zone:
            zone_id = session.scalar(select(Zone.id).where(Zone.seat_map_id == show.seat_map_id, Zone.code == zone))
            if zone_id is None:
                raise InvalidInput(_("Session {session}'s hall has no zone {zone}.").format(session=show.code,
                                                                                           zone=zone))
        # the middle of the hall, doubled so it stays a whole number
        mid_row = min(s.grid_row for s in seats) + max(s.grid_row for s in seats)
        mid_col = min(s.grid_col for s in seats) + max(s.grid_col for s in seats)
        free = [s for s in seats if s.kind not in LOCKED_KINDS and s.id not in taken
                and (zone_id is None or s.zone_id == zone_id)]
        if len(free) < count:
            raise SaleRefused(_("Only {n} seats are free in session {session}.").format(n=len(free), session=show.code),
                              reason="sold_out", free=len(free))

        def distance(row: int, doubled_col: int) -> int:
            return (2 * row - mid_row) ** 2 + (doubled_col - mid_col) ** 2

        for pool in ([s for s in free if s.kind != "wheelchair"], free):
            best: tuple[int, list[Seat]] | None = None
            by_row: dict[int, list[Seat]] = {}
            for seat in sorted(pool, key=lambda s: (s.grid_row, s.grid_col)):
                by_row.setdefault(seat.grid_row, []).append(seat)
            for row, row_seats in by_row.items():
                run: list[Seat] = []
                for seat in row_seats + [None]:  # type: ignore[list-item]
                    if seat is not None and run and seat.grid_col == run[-1].grid_col + 1:
                        run.append(seat)
                        continue
                    for start in range(0, len(run) - count + 1):
                        block = run[start:start + count]
                        score = distance(row, block[0].grid_col + block[-1].grid_col)
                        if best is None or score < best[0]:
                            best = (score, block)
                    run = [seat] if seat is not None else []
            if best is not None:
                return best[1]
        # no block side by side anywhere: the free seats nearest the middle
        return sorted(free, key=lambda s: (s.kind == "wheelchair", distance(s.grid_row, 2 * s.grid_col),
                                           s.grid_row, s.grid_col))[:count]

    def _place_order(self, session: Session, actor: Actor, *, show: ShowSession, priced: list[PricedLine], key: str,
                     channel: str, signer: TicketSigner, customer_source: str, phone: str = "",
                     distributor_id: uuid.UUID | None = None) -> tuple[Order, list[Ticket], uuid.UUID | None]:
        """The order, its signed tickets and their sold seat claims (no payment yet)."""
        shift_id = self._shift_id(session, actor)
        order = Order(number=_order_number(self.terminal_code), idempotency_key=key, state="paid", channel=channel,
                      customer_source=customer_source[:32], customer_phone=phone[:32], distributor_id=distributor_id,
                      cashier=actor.username, shift_id=shift_id, venue_code=show.venue_code,
                      terminal_code=self.terminal_code, list_total=sum(p.list_price for p in priced),
                      total=sum(p.price for p in priced), paid_at=self.now(), venue_id=actor.venue_id,
                      terminal_id=actor.terminal_id)
        session.add(order)
        session.flush()
        tickets = self._issue(session, order, show, priced, signer)
        self._claim(session, show, [p.seat for p in priced if p.seat is not None], kind="sold", token="",
                    expires_at=None, tickets={t.seat_id: t.id for t in tickets if t.seat_id is not None})
        return order, tickets, shift_id

    def _revoke(self, session: Session, actor: Actor, tickets: Sequence[Ticket], state: str) -> None:
        """Tickets no longer admit: their state, the revocation list, their seats free again."""
        now = self.now()
        for ticket in tickets:
            ticket.state = state
            session.add(Revocation(serial=ticket.serial, reason=state, revoked_at=now, venue_id=actor.venue_id,
                                   terminal_id=actor.terminal_id))
        session.execute(delete(SeatClaim).where(SeatClaim.ticket_id.in_([t.id for t in tickets])))

    def _lines_for(self, session: Session, show: ShowSession, *, lines: Sequence[Mapping[str, Any]] | None,
                   ticket_type: str | None, quantity: int | None, zone: str | None) -> list[dict[str, Any]]:
        """Order lines: the seats chosen (``lines`` of {seat_id, ticket_type}), or ``quantity``
        best available seats of ``ticket_type``."""
        if lines:
            if len(lines) > MAX_TICKETS:
                raise InvalidInput(_("One order holds at most {n} tickets.").format(n=MAX_TICKETS))
            return [{"seat_id": line.get("seat_id"), "ticket_type": line.get("ticket_type") or ticket_type}
                    for line in lines]
        if not ticket_type or quantity is None:
            raise InvalidInput(_("Choose the seats, or give the ticket type and the number of tickets."))
        seats = self._best_seats(session, show, quantity, zone=zone)
        return [{"seat_id": str(seat.id), "ticket_type": ticket_type} for seat in seats]


class DistributorService(PartnerSales):
    """Distributors, their contracts and prepaid accounts, bookings, the review queue and
    reconciliation."""

    # ------------------------------------------------------------ contracts

    @staticmethod
    def _distributor(session: Session, code: str, *, lock: bool = False) -> Distributor:
        query = select(Distributor).where(Distributor.code == code)
        if lock:
            query = query.with_for_update()
        found = session.scalars(query).one_or_none()
        if found is None:
            raise NotFound(_("There is no distributor {code}.").format(code=code), code=code)
        return found

    @staticmethod
    def _prepaid(session: Session, distributor: Distributor) -> uuid.UUID:
        return open_account(session, owner_type=OWNER_TYPE, owner_id=distributor.code, kind=PREPAID, unit=CNY,
                            floor=0, name=f"distributor {distributor.code} prepaid").id

    @staticmethod
    def _mode(mode: str) -> str:
        if mode not in BOOKING_MODES:
            raise InvalidInput(_("The booking mode is one of: {choices}.").format(choices=", ".join(BOOKING_MODES)))
        return mode

    def add_distributor(self, actor: Actor, *, code: str, name: str, mode: str = "net", warn_below: int = 0,
                        contact: str = "", discounts: Mapping[str, int] | None = None) -> dict[str, Any]:
        """A distributor with its contract (``discounts``: category or ``*`` -> basis points) and
        its prepaid account (balance 0). Permission ``tickets.distributors``; audited."""
        self._begin(actor, "tickets.distributors", admin=True)
        code = text(code, _("The distributor code"), 32)
        if not _CODE.match(code):
            raise InvalidInput(_("A distributor code is letters, digits, '.', '_' or '-' (at most 32)."))
        values = {"code": code, "name": text(name, _("The name"), 100), "mode": self._mode(mode),
                  "warn_below": whole(warn_below, _("The warning level")),
                  "contact": text(contact, _("The contact"), 100, required=False)}
        checked = {self._category(c): self._bp(bp) for c, bp in (discounts or {}).items()}
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(Distributor.id).where(Distributor.code == code)) is not None:
                raise Conflict(_("Distributor {code} exists already.").format(code=code))
            distributor = Distributor(**values, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(distributor)
            session.flush()
            for category, bp in checked.items():
                session.add(DistributorDiscount(distributor_id=distributor.id, category=category, discount_bp=bp,
                                                venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            self._prepaid(session, distributor)
            self._audit(session, actor, "tickets.distributor.add", code, {**values, "discounts": checked})
            uow.commit()
            return self._distributor_dict(session, distributor)

    def edit_distributor(self, actor: Actor, code: str, *, name: str | None = None, mode: str | None = None,
                         warn_below: int | None = None, contact: str | None = None,
                         active: bool | None = None) -> dict[str, Any]:
        """Change a distributor's contract terms (not its code). Pending bookings keep the mode
        they were made in. Permission ``tickets.distributors``; audited."""
        self._begin(actor, "tickets.distributors", admin=True)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = text(name, _("The name"), 100)
        if mode is not None:
            changes["mode"] = self._mode(mode)
        if warn_below is not None:
            changes["warn_below"] = whole(warn_below, _("The warning level"))
        if contact is not None:
            changes["contact"] = text(contact, _("The contact"), 100, required=False)
        if active is not None:
            changes["active"] = bool(active)
        if not changes:
            raise InvalidInput(_("Nothing to change."))
        with self._uow() as uow:
            distributor = self._distributor(uow.session, code, lock=True)
            before = {k: getattr(distributor, k) for k in changes}
            for field, value in changes.items():
                setattr(distributor, field, value)
            self._audit(uow.session, actor, "tickets.distributor.edit", code, {"before": before, "after": changes})
            uow.commit()
            return self._distributor_dict(uow.session, distributor)

    @staticmethod
    def _category(category: str) -> str:
        if category != ANY_CATEGORY and category not in TICKET_CATEGORIES:
            raise InvalidInput(_("A discount is for a ticket category ({choices}) or * for every one.").format(
                choices=", ".join(TICKET_CATEGORIES)))
        return category

    @staticmethod
    def _bp(value: int) -> int:
        return whole(value, _("The discount in basis points"), maximum=10000)

    def set_discount(self, actor: Actor, code: str, *, category: str, discount_bp: int | None) -> dict[str, Any]:
        """The contract's discount for a ticket category (``*``: every category without its own),
        in basis points (1500 = 15 % off); ``None`` removes it. Permission
        ``tickets.distributors``; audited."""
        self._begin(actor, "tickets.distributors", admin=True)
        category = self._category(category)
        bp = None if discount_bp is None else self._bp(discount_bp)
        with self._uow() as uow:
            session = uow.session
            distributor = self._distributor(session, code, lock=True)
            row = session.scalars(select(DistributorDiscount).where(
                DistributorDiscount.distributor_id == distributor.id,
                DistributorDiscount.category == category)).one_or_none()
            before = row.discount_bp if row is not None else None
            if bp is None:
                if row is None:
                    raise NotFound(_("Distributor {code} has no discount for {category}.").format(
                        code=code, category=category))
                session.delete(row)
            elif row is None:
                session.add(DistributorDiscount(distributor_id=distributor.id, category=category, discount_bp=bp,
                                                venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            else:
                row.discount_bp = bp
            session.flush()
            self._audit(session, actor, "tickets.distributor.discount", code,
                        {"category": category, "before": before, "after": bp})
            uow.commit()
            return self._distributor_dict(session, distributor)

    def list_distributors(self, actor: Actor, *, include_inactive: bool = False) -> list[dict[str, Any]]:
        """Every distributor with its contract and prepaid balance. Permission ``tickets.view``."""
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            query = select(Distributor).order_by(Distributor.code)
            if not include_inactive:
                query = query.where(Distributor.active.is_(True))
            return [self._distributor_dict(uow.session, d) for d in uow.session.scalars(query)]

    def get_distributor(self, actor: Actor, code: str) -> dict[str, Any]:
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            return self._distributor_dict(uow.session, self._distributor(uow.session, code))

    def _balance_of(self, session: Session, distributor: Distributor) -> int:
        from suite.ledger.models import Account

        found = session.scalar(select(Account.balance).where(
            Account.owner_type == OWNER_TYPE, Account.owner_id == distributor.code, Account.kind == PREPAID,
            Account.unit == CNY))
        return int(found or 0)

    def _distributor_dict(self, session: Session, distributor: Distributor) -> dict[str, Any]:
        discounts = {d.category: d.discount_bp for d in session.scalars(select(DistributorDiscount).where(
            DistributorDiscount.distributor_id == distributor.id).order_by(DistributorDiscount.category))}
        current = self._balance_of(session, distributor)
        return {"code": distributor.code, "name": distributor.name, "mode": distributor.mode,
                "mode_title": _(MODE_TITLES[distributor.mode]),
                "warn_below": distributor.warn_below, "contact": distributor.contact, "active": distributor.active,
                "discounts": discounts, "balance": current, "low": current < distributor.warn_below}

    @staticmethod
    def _discounts(session: Session, distributor: Distributor) -> dict[str, int]:
        return {d.category: d.discount_bp for d in session.scalars(select(DistributorDiscount).where(
            DistributorDiscount.distributor_id == distributor.id))}

    # ------------------------------------------------------------ the prepaid account

    def top_up(self, actor: Actor, code: str, *, amount: int, key: str, memo: str = "") -> dict[str, Any]:
        """Money the distributor paid in, from this venue's cash to its prepaid account. The same
        ``key`` again changes nothing. Permission ``tickets.distributors``; audited."""
        self._begin(actor, "tickets.distributors")
        amount = whole(amount, _("The amount"), minimum=1)
        key = idempotency_key(key)
        memo = text(memo, _("The memo"), 200, required=False)
        with self._uow() as uow:
            session = uow.session
            distributor = self._distributor(session, code)
            prepaid = self._prepaid(session, distributor)
            cash = self._account(session, "venue", self.venue_code, "cash")
            result = post(session, idempotency_key=f"distributor-topup:{key}", kind=KIND_TOPUP,
                          memo=memo or distributor.code, lines=[LineSpec(cash, -amount), LineSpec(prepaid, amount)],
                          actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            if not result.replayed:
                self._audit(session, actor, "tickets.distributor.topup", code,
                            {"amount": amount, "memo": memo, "entry": str(result.entry_id)})
            uow.commit()
            current = balance(session, prepaid)
            return {"distributor": code, "amount": amount, "balance": current, "replayed": result.replayed,
                    "entry_id": str(result.entry_id), **self._warning(distributor, current)}

    @staticmethod
    def _warning(distributor: Distributor, current: int) -> dict[str, Any]:
        if current >= distributor.warn_below:
            return {"low": False, "warning": ""}
        return {"low": True, "warning": _(
            "The prepaid balance of distributor {name} is {balance}, below its warning level of {level}: "
            "ask for a top-up.").format(name=distributor.name, balance=yuan(current),
                                        level=yuan(distributor.warn_below))}

    # ------------------------------------------------------------ bookings

    def book(self, actor: Actor, *, distributor: str, session_code: str, key: str,
             lines: Sequence[Mapping[str, Any]] | None = None, ticket_type: str | None = None,
             quantity: int | None = None, zone: str | None = None, note: str = "") -> dict[str, Any]:
        """A distributor orders seats of a session, paid from its prepaid account: the seats of
        ``lines`` ({seat_id, ticket_type}), or ``quantity`` best available seats of
        ``ticket_type`` (in ``zone``). ``net`` mode takes the discounted price and the booking
        is approved at once; ``rebate`` mode takes the list price and the booking waits for
        review. Refused whole (``SaleRefused``, reason ``distributor_balance``) when the account
        cannot pay. The result has ``warning`` when the balance falls below the warning level.
        Permission ``tickets.sell``; audited; the same ``key`` again returns the first booking."""
        self._begin(actor, "tickets.sell")
        key = idempotency_key(key)
        note = text(note, _("The note"), 500, required=False)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            existing = session.scalars(select(Order).where(Order.idempotency_key == key)).one_or_none()
            if existing is not None:
                return self._booking_result(session, existing, replayed=True)
            dist = self._distributor(session, distributor)
            if not dist.active:
                raise SaleRefused(_("Distributor {name} is not active.").format(name=dist.name), reason="inactive")
            show = self._session(session, session_code)
            self._sellable(show)
            wanted = self._lines_for(session, show, lines=lines, ticket_type=ticket_type, quantity=quantity,
                                     zone=zone)
            priced = self._price_lines(session, show, wanted)
            rates = self._discounts(session, dist)
            contract: list[PricedLine] = []
            rebate = 0
            for line in priced:  # the counter's price for the session (its offers), then the contract
                bp = rates.get(line.ticket_type.category, rates.get(ANY_CATEGORY, 0))
                off = discount_of(line.price, bp)
                given = {"kind": "distributor", "distributor": dist.code, "discount_bp": bp, "amount": off}
                if dist.mode == "net":
                    contract.append(dataclasses.replace(line, price=line.price - off,
                                                        discounts=(*line.discounts, given) if off else line.discounts))
                else:
                    contract.append(line)
                    rebate += off
            gross = sum(p.list_price for p in contract)
            charged = sum(p.price for p in contract)
            order, tickets, shift_id = self._place_order(
                session, actor, show=show, priced=contract, key=key, channel="distributor", signer=signer,
                customer_source="distributor", distributor_id=dist.id)
            prepaid = self._prepaid(session, dist)
            entry_id = None
            current = balance(session, prepaid)
            if charged:
                revenue = self._account(session, "venue", order.venue_code, "tickets.revenue")
                try:
                    result = post(session, idempotency_key=f"{key}:distributor", kind=KIND_SALE, memo=order.number,
                                  lines=[LineSpec(prepaid, -charged), LineSpec(revenue, charged)],
                                  actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                except FloorBreached as exc:
                    raise SaleRefused(_(
                        "Distributor {name}'s prepaid account holds {balance}, not enough for this booking of "
                        "{amount}: nothing was booked. Top the account up first.").format(
                        name=dist.name, balance=yuan(exc.details.get("balance", current)), amount=yuan(charged)),
                        reason="distributor_balance", balance=exc.details.get("balance", current),
                        needed=charged) from None
                entry_id, current = result.entry_id, result.balances[prepaid]
            session.add(Payment(order_id=order.id, method="distributor", amount=charged, reference=dist.code,
                                entry_id=entry_id, shift_id=shift_id, venue_id=actor.venue_id,
                                terminal_id=actor.terminal_id))
            approved = dist.mode == "net"
            booking = Booking(distributor_id=dist.id, order_id=order.id, mode=dist.mode,
                              state="approved" if approved else "pending", gross=gross, charged=charged,
                              rebate=rebate, reviewed_by="" if not approved else actor.username,
                              reviewed_at=self.now() if approved else None, note=note, venue_id=actor.venue_id,
                              terminal_id=actor.terminal_id)
            session.add(booking)
            session.flush()
            self._audit(session, actor, "tickets.distributor.book", order.number,
                        {"distributor": dist.code, "session": show.code, "mode": dist.mode, "gross": gross,
                         "charged": charged, "rebate": rebate, "tickets": [t.serial for t in tickets],
                         "balance": current})
            uow.commit()
            return {**self._booking_result(session, order), **self._warning(dist, current), "balance": current}

    def _booking_result(self, session: Session, order: Order, *, replayed: bool = False) -> dict[str, Any]:
        booking = session.scalars(select(Booking).where(Booking.order_id == order.id)).one_or_none()
        if booking is None:
            raise Conflict(_("Order {order} is not a distributor booking.").format(order=order.number))
        dist = session.get_one(Distributor, booking.distributor_id)
        result = {**self._order_dict(session, order, replayed=replayed),
                  "booking": self._booking_dict(session, booking)}
        if replayed:
            current = self._balance_of(session, dist)
            result.update(balance=current, **self._warning(dist, current))
        return result

    def _booking_dict(self, session: Session, booking: Booking) -> dict[str, Any]:
        order = session.get_one(Order, booking.order_id)
        dist = session.get_one(Distributor, booking.distributor_id)
        first = session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.created_at)
                                .limit(1)).first()
        show = session.get(ShowSession, first.session_id) if first is not None and first.session_id else None
        count = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.order_id == order.id))
        return {"order": order.number, "distributor": dist.code, "distributor_name": dist.name, "mode": booking.mode,
                "state": booking.state, "state_title": _(STATE_TITLES[booking.state]),
                "session": show.code if show else "", "tickets": int(count or 0),
                "gross": booking.gross, "charged": booking.charged, "rebate": booking.rebate,
                "net": _net(booking),
                "booked_at": booking.created_at.isoformat() if booking.created_at else None,
                "booked_by": order.cashier, "reviewed_by": booking.reviewed_by,
                "reviewed_at": booking.reviewed_at.isoformat() if booking.reviewed_at else None, "note": booking.note}

    # ------------------------------------------------------------ review

    def queue(self, actor: Actor, *, distributor: str | None = None, state: str = "pending") -> list[dict[str, Any]]:
        """Bookings waiting for review (``state``: pending, approved, rejected or ``all``), oldest
        first. Permission ``tickets.review``."""
        self._begin(actor, "tickets.review")
        with self._uow.read() as uow:
            session = uow.session
            query = select(Booking).order_by(Booking.created_at, Booking.id)
            if state != "all":
                if state not in STATE_TITLES:
                    raise InvalidInput(_("The state is one of: {choices}.").format(
                        choices=", ".join((*STATE_TITLES, "all"))))
                query = query.where(Booking.state == state)
            if distributor:
                query = query.where(Booking.distributor_id == self._distributor(session, distributor).id)
            return [self._booking_dict(session, b) for b in session.scalars(query)]

    def _booking_of(self, session: Session, order_number: str) -> tuple[Booking, Order, Distributor]:
        order = self._by_number(session, order_number)
        booking = session.scalars(select(Booking).where(Booking.order_id == order.id).with_for_update()).one_or_none()
        if booking is None:
            raise NotFound(_("Order {order} is not a distributor booking.").format(order=order_number))
        return booking, order, session.get_one(Distributor, booking.distributor_id)

    def approve(self, actor: Actor, order_number: str, *, note: str = "") -> dict[str, Any]:
        """Approve a pending booking. In ``rebate`` mode the discount goes back to the prepaid
        account and the tickets' prices become the contract's. Approving an approved booking
        again changes nothing. Permission ``tickets.review``; audited."""
        self._begin(actor, "tickets.review")
        note = text(note, _("The note"), 500, required=False)
        with self._uow() as uow:
            session = uow.session
            booking, order, dist = self._booking_of(session, order_number)
            if booking.state == "approved":
                return {**self._booking_dict(session, booking), "replayed": True}
            if booking.state != "pending":
                raise Conflict(_("Booking {order} was {state} already.").format(
                    order=order_number, state=_(STATE_TITLES[booking.state])))
            self._untouched(session, order)
            prepaid = self._prepaid(session, dist)
            if booking.mode == "rebate" and booking.rebate:
                revenue = self._account(session, "venue", order.venue_code, "tickets.revenue")
                result = post(session, idempotency_key=f"booking:{booking.id}:rebate", kind=KIND_REBATE,
                              memo=order.number, lines=[LineSpec(revenue, -booking.rebate),
                                                        LineSpec(prepaid, booking.rebate)],
                              actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                self._reprice(session, order, dist, booking.rebate)
                order.total -= booking.rebate
                session.add(Payment(order_id=order.id, method="distributor", amount=-booking.rebate,
                                    reference=dist.code, entry_id=result.entry_id,
                                    shift_id=self._shift_id(session, actor),
                                    venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            booking.state, booking.reviewed_by, booking.reviewed_at = "approved", actor.username, self.now()
            if note:
                booking.note = f"{booking.note}\n{note}".strip()
            session.flush()
            self._audit(session, actor, "tickets.distributor.approve", order.number,
                        {"distributor": dist.code, "rebate": booking.rebate if booking.mode == "rebate" else 0,
                         "note": note})
            uow.commit()
            current = balance(session, prepaid)
            return {**self._booking_dict(session, booking), "replayed": False, "balance": current,
                    **self._warning(dist, current)}

    @staticmethod
    def _untouched(session: Session, order: Order) -> None:
        """A booking is reviewed whole: not once some of its tickets were refunded or exchanged."""
        changed = session.scalar(select(Ticket.serial).where(Ticket.order_id == order.id, Ticket.state != "valid"))
        if changed is not None:
            raise Conflict(_("Ticket {serial} of booking {order} was refunded or exchanged: the booking can no "
                             "longer be reviewed.").format(serial=changed, order=order.number))

    def _reprice(self, session: Session, order: Order, dist: Distributor, rebate: int) -> None:
        """The tickets of an approved ``rebate`` booking at the contract's prices: ``rebate`` (the
        booking's, at the terms it was made on) taken off them, per ticket as the contract gives
        it, or, had the contract changed since, shared out in proportion to their prices."""
        rates = self._discounts(session, dist)
        tickets = session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.created_at,
                                                                                            Ticket.id)).all()
        rates_of = [rates.get(session.get_one(TicketType, t.ticket_type_id).category, rates.get(ANY_CATEGORY, 0))
                    for t in tickets]
        offs = [discount_of(t.price, bp) for t, bp in zip(tickets, rates_of)]
        if sum(offs) != rebate:
            offs = proportional([t.price for t in tickets], rebate)
        for ticket, bp, off in zip(tickets, rates_of, offs):
            if not off:
                continue
            ticket.price -= off
            given = [*json.loads(ticket.discounts or "[]"),
                     {"kind": "distributor", "distributor": dist.code, "discount_bp": bp, "amount": off}]
            ticket.discounts = json.dumps(given, ensure_ascii=False)

    def reject(self, actor: Actor, order_number: str, *, note: str = "") -> dict[str, Any]:
        """Reject a pending booking: the charge goes back to the prepaid account (the booking's
        entry reversed), the tickets are revoked and their seats are free again. Rejecting a
        rejected booking again changes nothing. Permission ``tickets.review``; audited."""
        self._begin(actor, "tickets.review")
        note = text(note, _("The note"), 500, required=False)
        with self._uow() as uow:
            session = uow.session
            booking, order, dist = self._booking_of(session, order_number)
            if booking.state == "rejected":
                return {**self._booking_dict(session, booking), "replayed": True}
            if booking.state != "pending":
                raise Conflict(_("Booking {order} was {state} already.").format(
                    order=order_number, state=_(STATE_TITLES[booking.state])))
            self._untouched(session, order)
            prepaid = self._prepaid(session, dist)
            charge = session.scalars(select(Payment).where(Payment.order_id == order.id,
                                                           Payment.method == "distributor",
                                                           Payment.amount > 0)).first()
            shift_id = self._shift_id(session, actor)
            if charge is not None and charge.entry_id is not None:
                back = reverse(session, entry_id=charge.entry_id, idempotency_key=f"booking:{booking.id}:reject",
                               memo=order.number, actor=actor.username, venue_id=actor.venue_id,
                               terminal_id=actor.terminal_id)
                session.add(Payment(order_id=order.id, method="distributor", amount=-charge.amount,
                                    reference=dist.code, entry_id=back.entry_id, shift_id=shift_id,
                                    venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            tickets = session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.state == "valid")
                                      .with_for_update()).all()
            self._revoke(session, actor, tickets, "voided")
            order.state = "voided"
            booking.state, booking.reviewed_by, booking.reviewed_at = "rejected", actor.username, self.now()
            if note:
                booking.note = f"{booking.note}\n{note}".strip()
            session.flush()
            self._audit(session, actor, "tickets.distributor.reject", order.number,
                        {"distributor": dist.code, "returned": booking.charged,
                         "tickets": [t.serial for t in tickets], "note": note})
            uow.commit()
            current = balance(session, prepaid)
            return {**self._booking_dict(session, booking), "replayed": False, "balance": current,
                    **self._warning(dist, current)}

    # ------------------------------------------------------------ reconciliation

    def reconcile(self, actor: Actor, *, distributor: str, first: dt.date, last: dt.date) -> dict[str, Any]:
        """One distributor over local days ``first`` .. ``last``: its bookings (by state), the
        money (gross, charged, rebates, charges returned, top-ups) and the prepaid balance at the
        start and the end, which ``balance_start + topups - charged + rebates + returned``
        equals. Permission ``tickets.distributors``."""
        self._begin(actor, "tickets.distributors")
        if last < first:
            raise InvalidInput(_("The period ends before it starts."))
        with self._uow.read() as uow:
            session = uow.session
            dist = self._distributor(session, distributor)
            figures = reconciliation(session, dist, first, last, self.settings.zone)
            start, end = local_midnight(first, self.settings.zone), local_midnight(
                last + dt.timedelta(days=1), self.settings.zone)
            bookings = session.scalars(select(Booking).where(Booking.distributor_id == dist.id,
                                                             Booking.created_at >= start, Booking.created_at < end)
                                       .order_by(Booking.created_at, Booking.id)).all()
            return {"distributor": dist.code, "name": dist.name, "first": first.isoformat(), "last": last.isoformat(),
                    **figures, "bookings_detail": [self._booking_dict(session, b) for b in bookings]}


# ---------------------------------------------------------------- refunds at the counter


def partner_account(session: Session, partner: str) -> uuid.UUID:
    """The redemption partner's account (no floor): negative while the partner owes the venue
    what it collected for codes redeemed here."""
    return open_account(session, owner_type=PARTNER_OWNER, owner_id=partner, kind=PARTNER_KIND, unit=CNY,
                        floor=None, name=f"partner {partner} redemption").id


def pay_back_partner(session: Session, actor: Actor, order: Order, amount: int, key: str,
                     shift_id: uuid.UUID | None = None) -> int:
    """Refunding or voiding tickets of a distributor or redemption order: up to ``amount`` goes
    back where it came from, the distributor's prepaid account (``tickets.distributor.refund``)
    or the partner's redemption account (``tickets.redemption.refund``), never the cash drawer.
    Returns the amount it took care of (what the order's partner payments still cover), for the
    sales service to pay the rest its own way."""
    payments = session.scalars(select(Payment).where(Payment.order_id == order.id,
                                                     Payment.method.in_(("distributor", "redemption")))).all()
    if not payments or amount <= 0:
        return 0
    method = payments[0].method
    left = sum(p.amount for p in payments if p.method == method)
    share = min(amount, max(left, 0))
    if not share:
        return 0
    reference = next((p.reference for p in payments if p.amount > 0), payments[0].reference)
    if method == "distributor":
        dist = session.scalars(select(Distributor).where(Distributor.code == reference)).one()
        account = DistributorService._prepaid(session, dist)
        kind = KIND_REFUND
    else:
        code = session.scalars(select(RedemptionCode).where(RedemptionCode.order_id == order.id)).first()
        owner = (code.partner if code is not None else "") or "venue"
        account = partner_account(session, owner)
        kind = KIND_REDEMPTION_REFUND
    revenue = SalesService._account(session, "venue", order.venue_code, "tickets.revenue")
    entry = post(session, idempotency_key=f"{key}:{method}", kind=kind, memo=order.number,
                 lines=[LineSpec(revenue, -share), LineSpec(account, share)], actor=actor.username,
                 venue_id=actor.venue_id, terminal_id=actor.terminal_id)
    session.add(Payment(order_id=order.id, method=method, amount=-share, reference=reference, entry_id=entry.entry_id,
                        shift_id=shift_id, venue_id=actor.venue_id, terminal_id=actor.terminal_id))
    return share


# ---------------------------------------------------------------- reconciliation figures


def reconciliation(session: Session, dist: Distributor, first: dt.date | None, last: dt.date | None,
                   zone: dt.tzinfo) -> dict[str, int]:
    """The figures of one distributor over local days ``first`` .. ``last`` (``None``: from the
    beginning / up to now): bookings made (count, by state, tickets, gross), money from the
    prepaid account's journal lines, and the balance at the start and the end."""
    start = local_midnight(first, zone) if first else None
    end = local_midnight(last + dt.timedelta(days=1), zone) if last else None
    from suite.ledger.models import Account

    account_id = session.scalar(select(Account.id).where(Account.owner_type == OWNER_TYPE,
                                                         Account.owner_id == dist.code, Account.kind == PREPAID,
                                                         Account.unit == CNY))
    money = {"topups": 0, "charged": 0, "rebates": 0, "returned": 0, "other": 0}
    opening = 0
    if account_id is not None:
        query = (select(Entry.kind, Entry.created_at, Line.amount).join(Entry, Line.entry_id == Entry.id)
                 .where(Line.account_id == account_id))
        if end is not None:
            query = query.where(Entry.created_at < end)
        for kind, at, amount in session.execute(query):
            if start is not None and at < start:
                opening += amount
            elif kind == KIND_TOPUP:
                money["topups"] += amount
            elif kind == KIND_SALE:
                money["charged"] -= amount
            elif kind == KIND_REBATE:
                money["rebates"] += amount
            elif kind in (REVERSAL_KIND, KIND_REFUND):
                money["returned"] += amount
            else:
                money["other"] += amount
    closing = opening + money["topups"] - money["charged"] + money["rebates"] + money["returned"] + money["other"]
    query = select(Booking.state, func.count(), func.coalesce(func.sum(Booking.gross), 0)).where(
        Booking.distributor_id == dist.id)
    if start is not None:
        query = query.where(Booking.created_at >= start)
    if end is not None:
        query = query.where(Booking.created_at < end)
    states = {state: (int(n), int(gross)) for state, n, gross in session.execute(query.group_by(Booking.state))}
    ticket_query = select(func.count()).select_from(Ticket).join(Booking, Booking.order_id == Ticket.order_id).where(
        Booking.distributor_id == dist.id)
    if start is not None:
        ticket_query = ticket_query.where(Booking.created_at >= start)
    if end is not None:
        ticket_query = ticket_query.where(Booking.created_at < end)
    return {"bookings": sum(n for n, _g in states.values()),
            "pending": states.get("pending", (0, 0))[0], "approved": states.get("approved", (0, 0))[0],
            "rejected": states.get("rejected", (0, 0))[0], "tickets": int(session.scalar(ticket_query) or 0),
            "gross": sum(g for _n, g in states.values()), **money, "balance_start": opening, "balance_end": closing}


# ---------------------------------------------------------------- the report


def _report_zone(ctx: ReportContext) -> Any:
    from plugins.tickets.settings import parse_settings

    settings = getattr(ctx, "settings", None)
    return parse_settings(settings.plugins.get("tickets") if settings is not None else None).zone


def _reconciliation_rows(ctx: ReportContext, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    first, last = params.get("period") or (None, None)
    query = select(Distributor).order_by(Distributor.code)
    if params.get("distributor"):
        query = query.where(Distributor.code == params["distributor"])
    zone = _report_zone(ctx)
    for dist in ctx.session.scalars(query).all():
        f = reconciliation(ctx.session, dist, first, last, zone)
        yield (dist.code, dist.name, dist.mode, f["bookings"], f["pending"], f["tickets"], f["gross"], f["charged"],
               f["rebates"], f["returned"], f["topups"], f["balance_start"], f["balance_end"])


MONEY, COUNT = ColumnKind.MONEY, ColumnKind.COUNT

RECONCILIATION = ReportSpec(
    id="tickets.distributor_reconciliation",
    title=N_("Distributor reconciliation"),
    description=N_("Per distributor and period: bookings, tickets, list price, charged to the prepaid account, "
                   "rebates paid back, charges returned on rejection, top-ups, and the balance at the start and "
                   "the end."),
    columns=(
        Column("code", N_("Distributor"), width=10),
        Column("name", N_("Name"), width=18),
        Column("mode", N_("Mode"), width=8),
        Column("bookings", N_("Bookings"), COUNT, total=True, width=9),
        Column("pending", N_("Pending"), COUNT, total=True, width=8),
        Column("tickets", N_("Tickets"), COUNT, total=True, width=8),
        Column("gross", N_("List price"), MONEY, total=True),
        Column("charged", N_("Charged"), MONEY, total=True),
        Column("rebates", N_("Rebates"), MONEY, total=True),
        Column("returned", N_("Charges returned"), MONEY, total=True),
        Column("topups", N_("Topped up"), MONEY, total=True),
        Column("balance_start", N_("Balance at start"), MONEY, total=True),
        Column("balance_end", N_("Balance at end"), MONEY, total=True),
    ),
    params=(period(default="today"),
            Param("distributor", N_("Distributor"), ParamKind.TEXT, help=N_("distributor code; empty: every one"))),
    rows=_reconciliation_rows,
)


__all__ = ["ANY_CATEGORY", "DistributorService", "PartnerSales", "RECONCILIATION", "discount_of", "partner_account",
           "pay_back_partner",
           "reconciliation"]
