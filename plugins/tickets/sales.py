"""Selling at the counter (T5): seat holds, the sale (seats, prices, payments, signed codes),
refund, void, exchange, reprint and verification.

No seat is ever sold twice: ``tickets_seat_claims`` has one row per (session, seat) and the
sale INSERTs its claims, so of two terminals racing for a seat the database lets exactly one
commit (the other gets ``SeatTaken`` and its whole order rolls back). A hold is the same row
with an expiry; expired holds are swept by whoever claims the seat next.

Money: a cash tender is one ledger entry (the venue's cash drawer to ``tickets.revenue``); a card
tender is a wallet consume inside the same unit of work (``WalletService.consume(within=...)``);
a voucher tender uses a ``Voucher`` (its value leaves the chain's ``vouchers`` account). A sale
is all or nothing, and its key makes a retry return the first order.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suite.db.ids import uuid7
from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text, whole
from suite.ledger import LineSpec, open_account, post

from plugins.tickets.codes import TicketClaims, TicketSigner, TicketVerifier
from plugins.tickets.core import SaleRefused, SeatTaken, TicketsCore
from plugins.tickets.offers import apply_offers
from plugins.wallet.pricing import BP, apply_multiplier
from plugins.tickets.shifts import open_shift_id
from plugins.tickets.models import (
    ANY_ZONE, LOCKED_KINDS, Combo, Hall, Order, Package, Payment, Price, Programme, Revocation, Seat, SeatClaim,
    ShowSession, Ticket, TicketType, Voucher, Zone,
)

CNY = "CNY"
TENDERS = ("cash", "wallet", "voucher")


@dataclass(frozen=True)
class PricedLine:
    """One ticket of an order, priced."""

    seat: Seat | None
    zone: str
    ticket_type: TicketType
    list_price: int
    price: int
    discounts: tuple[dict[str, Any], ...] = ()
    admits: int = 1
    kind: str = "seat"  # seat | combo (a seat with goods) | package (entries, no seat)
    product_id: uuid.UUID | None = None  # the combo or package


def _serial() -> str:
    return f"{secrets.randbelow(10**12):012d}"


def _order_number(terminal: str) -> str:
    return f"{terminal or 'T'}-{secrets.token_hex(4).upper()}"


class SalesService(TicketsCore):
    """Holds, sales, refunds, voids, exchanges, reprints and verification."""

    # ------------------------------------------------------------ reading

    def _session(self, session: Session, code: str, *, lock: bool = False) -> ShowSession:
        return self._by_code(session, ShowSession, code, _("session"), lock=lock)

    def seat_states(self, actor: Actor, session_code: str, *, hold_token: str = "") -> dict[str, Any]:
        """Every seat of the session's map: ``free``, ``held``, ``mine`` (held with ``hold_token``),
        ``sold`` or ``locked``."""
        self._begin(actor, "tickets.view")
        now = self.now()
        with self._uow.read() as uow:
            session = uow.session
            show = self._session(session, session_code)
            seats = session.execute(select(Seat.id, Seat.kind).where(Seat.seat_map_id == show.seat_map_id)).all()
            states = {str(seat_id): ("locked" if kind in LOCKED_KINDS else "free") for seat_id, kind in seats}
            for claim in session.scalars(select(SeatClaim).where(SeatClaim.session_id == show.id)):
                if claim.kind == "sold":
                    states[str(claim.seat_id)] = "sold"
                elif claim.expires_at is not None and claim.expires_at > now:
                    states[str(claim.seat_id)] = "mine" if hold_token and claim.hold_token == hold_token else "held"
            return {"session": show.code, "states": states}

    def seat_ids(self, actor: Actor, session_code: str, labels: Sequence[str]) -> list[str]:
        """Seat ids from printed labels ``ROW-SEAT`` (``5-12``) of the session's map."""
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            show = self._session(uow.session, session_code)
            found = {(r, n): str(i) for i, r, n in uow.session.execute(
                select(Seat.id, Seat.row_label, Seat.seat_label).where(Seat.seat_map_id == show.seat_map_id))}
        ids = []
        for label in labels:
            row, _dash, seat = label.strip().rpartition("-")
            if (row, seat) not in found:
                raise InvalidInput(_("Session {session} has no seat {label} (write ROW-SEAT, like 5-12).").format(
                    session=session_code, label=label))
            ids.append(found[(row, seat)])
        return ids

    # ------------------------------------------------------------ holds

    def hold(self, actor: Actor, *, session_code: str, seat_ids: Sequence[str], token: str) -> dict[str, Any]:
        """Hold seats for ``hold_minutes`` for this terminal (``token``): a hold by someone else,
        a sold seat or a locked seat is refused (``SeatTaken``), all or nothing."""
        self._begin(actor, "tickets.sell")
        token = text(token, _("The hold token"), 64)
        expires = self.now() + dt.timedelta(minutes=self.settings.hold_minutes or 10)
        with self._uow() as uow:
            session = uow.session
            show = self._session(session, session_code)
            self._sellable(show)
            seats = self._seats(session, show, seat_ids)
            self._claim(session, show, seats, kind="hold", token=token, expires_at=expires)
            uow.commit()
        return {"session": session_code, "held": [str(s.id) for s in seats], "expires_at": expires.isoformat()}

    def release(self, actor: Actor, *, session_code: str, token: str, seat_ids: Sequence[str] | None = None) -> int:
        """Let go of this terminal's holds (all, or the given seats)."""
        self._begin(actor, "tickets.sell")
        with self._uow() as uow:
            show = self._session(uow.session, session_code)
            query = delete(SeatClaim).where(SeatClaim.session_id == show.id, SeatClaim.kind == "hold",
                                            SeatClaim.hold_token == token)
            if seat_ids is not None:
                query = query.where(SeatClaim.seat_id.in_([uuid.UUID(str(s)) for s in seat_ids]))
            released = uow.session.execute(query).rowcount or 0  # type: ignore[attr-defined]
            uow.commit()
        return int(released)

    def _sellable(self, show: ShowSession) -> None:
        if show.state == "stopped":
            raise SaleRefused(_("Sales of session {session} are stopped.").format(session=show.code),
                              reason="stopped")
        if show.ends_at <= self.now():
            raise SaleRefused(_("Session {session} is over.").format(session=show.code), reason="over")

    def _seats(self, session: Session, show: ShowSession, seat_ids: Iterable[str]) -> list[Seat]:
        wanted: list[uuid.UUID] = []
        for seat_id in seat_ids:
            try:
                wanted.append(seat_id if isinstance(seat_id, uuid.UUID) else uuid.UUID(str(seat_id)))
            except ValueError as exc:
                raise InvalidInput(_("{value!r} is not a seat.").format(value=seat_id)) from exc
        if not wanted or len(set(wanted)) != len(wanted):
            raise InvalidInput(_("Choose each seat once."))
        seats = session.scalars(select(Seat).where(Seat.id.in_(wanted), Seat.seat_map_id == show.seat_map_id)).all()
        if len(seats) != len(wanted):
            raise InvalidInput(_("A seat chosen is not in session {session}'s hall.").format(session=show.code))
        locked = [s for s in seats if s.kind in LOCKED_KINDS]
        if locked:
            raise SeatTaken(_("Seat {seat} is locked and not for sale.").format(seat=_label(locked[0])),
                            seats=[str(s.id) for s in locked])
        return sorted(seats, key=lambda s: (s.grid_row, s.grid_col))

    def _not_taken(self, session: Session, show: ShowSession, lines: Sequence[Mapping[str, Any]], token: str) -> None:
        """Refuse at once a sale whose seats someone else holds or bought (the claim's INSERT
        stays the real guard: this only spares a doomed order its pricing and signing)."""
        try:
            ids = [uuid.UUID(str(line["seat_id"])) for line in lines]
        except (KeyError, ValueError):
            return  # the full check reports it
        now = self.now()
        claims = session.execute(select(SeatClaim.seat_id, SeatClaim.kind, SeatClaim.hold_token, SeatClaim.expires_at)
                                 .where(SeatClaim.session_id == show.id, SeatClaim.seat_id.in_(ids))).all()
        taken = [seat_id for seat_id, kind, holder, expires in claims
                 if kind == "sold" or (expires is not None and expires > now and not (token and holder == token))]
        if taken:
            seats = session.scalars(select(Seat).where(Seat.id.in_(taken))).all()
            raise SeatTaken(_("Already taken: {seats}.").format(seats=", ".join(_label(s) for s in seats)),
                            seats=[str(i) for i in taken])

    def _claim(self, session: Session, show: ShowSession, seats: list[Seat], *, kind: str, token: str,
               expires_at: dt.datetime | None, tickets: Mapping[uuid.UUID, uuid.UUID] | None = None) -> None:
        """Claim the seats: sweep expired holds and this terminal's own, refuse the rest if any is
        taken, then INSERT; the primary key (session, seat) settles any race."""
        ids = [s.id for s in seats]
        now = self.now()
        session.execute(delete(SeatClaim).where(
            SeatClaim.session_id == show.id, SeatClaim.seat_id.in_(ids), SeatClaim.kind == "hold",
            (SeatClaim.expires_at <= now) | ((SeatClaim.hold_token == token) & (SeatClaim.hold_token != ""))))
        taken = set(session.scalars(select(SeatClaim.seat_id).where(SeatClaim.session_id == show.id,
                                                                    SeatClaim.seat_id.in_(ids))))
        if taken:
            names = ", ".join(_label(s) for s in seats if s.id in taken)
            raise SeatTaken(_("Already taken: {seats}.").format(seats=names), seats=[str(i) for i in taken])
        rows = [{"session_id": show.id, "seat_id": s.id, "kind": kind, "hold_token": token if kind == "hold" else "",
                 "expires_at": expires_at, "ticket_id": (tickets or {}).get(s.id),
                 "terminal_code": self.terminal_code} for s in seats]
        try:
            with session.begin_nested():
                session.execute(insert(SeatClaim), rows)
        except IntegrityError as exc:
            raise SeatTaken(_("A seat was taken by another terminal a moment ago: choose again."),
                            seats=[str(i) for i in ids]) from exc

    # ------------------------------------------------------------ pricing

    def _price_lines(self, session: Session, show: ShowSession, lines: Sequence[Mapping[str, Any]],
                     card_no: str = "") -> list[PricedLine]:
        """List prices from the session's plan (the zone's price, else the plan's ``*`` price),
        then the box office's offers (``plugins.tickets.pricing`` when present)."""
        types = {t.code: t for t in session.scalars(select(TicketType))}
        prices = {(p.zone_code, p.ticket_type_id): p.price
                  for p in session.scalars(select(Price).where(Price.plan_id == show.plan_id))}
        zones = {z.id: z.code for z in session.scalars(select(Zone).where(Zone.seat_map_id == show.seat_map_id))}
        seats = {s.id: s for s in self._seats(session, show, [line["seat_id"] for line in lines])}
        tier = self._tier(session, card_no)
        combos = {c.code: c for c in session.scalars(select(Combo).where(Combo.active.is_(True)))}
        priced: list[PricedLine] = []
        for line in lines:
            seat = seats[uuid.UUID(str(line["seat_id"]))]
            zone = zones.get(seat.zone_id, ANY_ZONE) if seat.zone_id else ANY_ZONE
            if line.get("combo"):  # the combo is the deal: no offers, the member tier applies
                combo = combos.get(str(line["combo"]))
                if combo is None:
                    raise InvalidInput(_("There is no combo {code} on sale.").format(code=line["combo"]))
                kept = apply_multiplier(combo.price, BP - tier)
                priced.append(PricedLine(seat, zone, session.get_one(TicketType, combo.ticket_type_id), combo.price,
                                         kept, ({"kind": "combo", "label": combo.code, "goods": combo.goods,
                                                 "amount": combo.price - kept},), kind="combo",
                                         product_id=combo.id))
                continue
            code = str(line.get("ticket_type") or "")
            ticket_type = types.get(code)
            if ticket_type is None or not ticket_type.active:
                raise InvalidInput(_("There is no ticket type {code} on sale.").format(code=code))
            price = prices.get((zone, ticket_type.id), prices.get((ANY_ZONE, ticket_type.id)))
            if price is None:
                raise SaleRefused(_("No price for {type} in zone {zone}.").format(type=ticket_type.name, zone=zone),
                                  reason="no_price")
            priced.append(PricedLine(seat, zone, ticket_type, price, price))
        plain = [p for p in priced if p.kind == "seat"]
        for ticket_type in {p.ticket_type.code: p.ticket_type for p in plain}.values():
            count = sum(1 for p in plain if p.ticket_type.code == ticket_type.code)
            if count < ticket_type.min_quantity:
                raise SaleRefused(_("{type} tickets are sold {n} or more at a time.").format(
                    type=ticket_type.name, n=ticket_type.min_quantity), reason="group_minimum")
        offered = iter(self._offers(session, show, plain, tier))
        return [next(offered) if p.kind == "seat" else p for p in priced]

    @staticmethod
    def _tier(session: Session, card_no: str) -> int:
        """The member tier discount (bp off) of the card that pays, 0 without one (T4)."""
        if not card_no:
            return 0
        from plugins.wallet.models import Card, CardType

        found = session.execute(select(CardType.discount_bp).join(Card, Card.type_id == CardType.id)
                                .where(Card.card_no == card_no)).scalar()
        return int(found or 0)

    def _offers(self, session: Session, show: ShowSession, priced: list[PricedLine],
                tier_discount_bp: int = 0) -> list[PricedLine]:
        """The box office's offers and the paying card's member tier (docs/tickets-pricing.md)."""
        return apply_offers(session, show, priced, zone=self.settings.zone, tier_discount_bp=tier_discount_bp)

    def quote(self, actor: Actor, *, session_code: str, lines: Sequence[Mapping[str, Any]],
              card_no: str = "") -> dict[str, Any]:
        """What the order would cost, line by line, without selling (``card_no``: the member
        card that will pay, for its tier discount)."""
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            show = self._session(uow.session, session_code)
            priced = self._price_lines(uow.session, show, lines, card_no)
            return {"session": session_code, "total": sum(p.price for p in priced),
                    "list_total": sum(p.list_price for p in priced), "lines": [_line_dict(p) for p in priced]}

    # ------------------------------------------------------------ selling

    def sell(self, actor: Actor, *, session_code: str, lines: Sequence[Mapping[str, Any]],
             payments: Sequence[Mapping[str, Any]], key: str, hold_token: str = "", channel: str = "counter",
             customer_source: str = "walk_in", phone: str = "") -> dict[str, Any]:
        """Sell the seats of ``lines`` ({seat_id, ticket_type}) paid by ``payments`` ({method:
        cash|wallet|voucher, amount fen, reference: card number or voucher code}) adding up to the
        total. When a card pays, its member tier discount is part of the prices (quote with the
        same ``card_no``). All or nothing; the same ``key`` again returns the first order."""
        self._begin(actor, "tickets.sell")
        key = idempotency_key(key)
        if not lines:
            raise InvalidInput(_("An order needs at least one ticket."))
        tenders = _tenders(payments)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            existing = session.scalars(select(Order).where(Order.idempotency_key == key)).one_or_none()
            if existing is not None:
                return self._order_dict(session, existing, replayed=True)
            show = self._session(session, session_code)
            self._sellable(show)
            self._not_taken(session, show, lines, hold_token)  # cheap, before pricing and signing
            card = next((t["reference"] for t in tenders if t["method"] == "wallet"), "")
            priced = self._price_lines(session, show, lines, card)  # the paying card's tier applies
            total = sum(p.price for p in priced)
            if sum(t["amount"] for t in tenders) != total:
                raise InvalidInput(_("The payments add up to {paid}, the order to {total}.").format(
                    paid=_yuan(sum(t["amount"] for t in tenders)), total=_yuan(total)))
            now = self.now()
            shift_id = self._shift_id(session, actor)
            order = Order(number=_order_number(self.terminal_code), idempotency_key=key, state="paid", channel=channel,
                          customer_source=text(customer_source, _("The customer source"), 32),
                          customer_phone=text(phone, _("The phone"), 32, required=False), cashier=actor.username,
                          shift_id=shift_id, venue_code=show.venue_code, terminal_code=self.terminal_code,
                          list_total=sum(p.list_price for p in priced), total=total, paid_at=now,
                          venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(order)
            session.flush()
            tickets = self._issue(session, order, show, priced, signer)
            self._claim(session, show, [p.seat for p in priced if p.seat is not None], kind="sold", token=hold_token,
                        expires_at=None, tickets={t.seat_id: t.id for t in tickets if t.seat_id is not None})
            self._pay(session, actor, order, tenders, shift_id, key)
            self._audit(session, actor, "tickets.sell", order.number,
                        {"session": show.code, "total": total, "tickets": [t.serial for t in tickets],
                         "payments": [{k: t[k] for k in ("method", "amount", "reference")} for t in tenders]})
            result = self._order_dict(session, order)  # before the commit: no second transaction
            uow.commit()
            return result

    def sell_packages(self, actor: Actor, *, package: str, payments: Sequence[Mapping[str, Any]], key: str,
                      quantity: int = 1) -> dict[str, Any]:
        """Sell ``quantity`` packages (T3): each is one ticket admitting the package's ``entries``
        to its programmes or venues, valid ``valid_days`` from now, with no seat; its code names
        ``package:<code>`` where a seat ticket names its session. The paying card's tier applies;
        offers do not (the package is the deal)."""
        self._begin(actor, "tickets.sell")
        key = idempotency_key(key)
        quantity = whole(quantity, _("The quantity"), minimum=1, maximum=100)
        tenders = _tenders(payments)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            existing = session.scalars(select(Order).where(Order.idempotency_key == key)).one_or_none()
            if existing is not None:
                return self._order_dict(session, existing, replayed=True)
            row = session.scalars(select(Package).where(Package.code == package, Package.active.is_(True))).one_or_none()
            if row is None:
                raise InvalidInput(_("There is no package {code} on sale.").format(code=package))
            holder = session.scalars(select(TicketType).where(TicketType.active.is_(True), TicketType.category == "adult")
                                     .order_by(TicketType.code)).first()
            if holder is None:
                raise SaleRefused(_("A package is sold as an adult ticket: add an adult ticket type first."),
                                  reason="no_type")
            card = next((t["reference"] for t in tenders if t["method"] == "wallet"), "")
            price = apply_multiplier(row.price, BP - self._tier(session, card))
            total = price * quantity
            if sum(t["amount"] for t in tenders) != total:
                raise InvalidInput(_("The payments add up to {paid}, the order to {total}.").format(
                    paid=_yuan(sum(t["amount"] for t in tenders)), total=_yuan(total)))
            now = self.now()
            shift_id = self._shift_id(session, actor)
            order = Order(number=_order_number(self.terminal_code), idempotency_key=key, state="paid",
                          cashier=actor.username, shift_id=shift_id, venue_code=self.venue_code,
                          terminal_code=self.terminal_code, list_total=row.price * quantity, total=total, paid_at=now,
                          venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(order)
            session.flush()
            ends = now + dt.timedelta(days=row.valid_days)
            for _n in range(quantity):
                serial = _serial()
                claims = TicketClaims(serial=serial, venue=self.venue_code, session=f"package:{row.code}", hall="",
                                      row="", seat="", ticket_type=holder.code, category=holder.category,
                                      admits=row.entries, starts=int(now.timestamp()), ends=int(ends.timestamp()))
                session.add(Ticket(id=uuid7(), order_id=order.id, serial=serial, kind="package", package_id=row.id,
                                   ticket_type_id=holder.id, admits=row.entries, list_price=row.price, price=price,
                                   discounts=json.dumps([{"kind": "package", "label": row.code,
                                                          "amount": row.price - price}]),
                                   state="valid", code=signer.sign(claims), printed=1, venue_id=actor.venue_id,
                                   terminal_id=actor.terminal_id))
            session.flush()
            self._pay(session, actor, order, tenders, shift_id, key)
            self._audit(session, actor, "tickets.sell", order.number,
                        {"package": row.code, "quantity": quantity, "total": total})
            result = self._order_dict(session, order)
            uow.commit()
            return result

    def _signer(self) -> TicketSigner:
        if self.secrets is None:
            raise InvalidInput(_("Ticket codes cannot be signed: no keyring is configured."))
        return TicketSigner.from_secrets(self.secrets, self.settings.signing_key_secret)

    def public_key(self) -> str:
        """The public key gates verify ticket codes with."""
        return self._signer().public_key

    def _shift_id(self, session: Session, actor: Actor) -> uuid.UUID | None:
        """The cashier's open shift at this terminal (its payments count in the shift's close)."""
        return open_shift_id(session, actor.username, self.terminal_code)

    def _issue(self, session: Session, order: Order, show: ShowSession, priced: list[PricedLine],
               signer: TicketSigner) -> list[Ticket]:
        hall = session.get_one(Hall, show.hall_id)
        tickets: list[Ticket] = []
        for line in priced:
            serial = _serial()
            claims = TicketClaims(serial=serial, venue=show.venue_code, session=show.code, hall=hall.code,
                                  row=line.seat.row_label if line.seat else "", seat=line.seat.seat_label if line.seat
                                  else "", ticket_type=line.ticket_type.code, category=line.ticket_type.category,
                                  admits=line.admits, starts=int(show.starts_at.timestamp()),
                                  ends=int(show.ends_at.timestamp()))
            ticket = Ticket(id=uuid7(), order_id=order.id, serial=serial, kind=line.kind, session_id=show.id,
                            seat_id=line.seat.id if line.seat else None, ticket_type_id=line.ticket_type.id,
                            combo_id=line.product_id if line.kind == "combo" else None,
                            admits=line.admits, list_price=line.list_price, price=line.price,
                            discounts=json.dumps(list(line.discounts), ensure_ascii=False), state="valid",
                            code=signer.sign(claims), printed=1, venue_id=order.venue_id,
                            terminal_id=order.terminal_id)
            session.add(ticket)
            tickets.append(ticket)
        session.flush()
        return tickets

    def _pay(self, session: Session, actor: Actor, order: Order, tenders: list[dict[str, Any]],
             shift_id: uuid.UUID | None, key_prefix: str) -> None:
        for index, tender in enumerate(tenders):
            key = f"{key_prefix}:{tender['method']}:{index}"
            entry_id = None
            if tender["method"] == "cash":
                entry_id = post(session, idempotency_key=key, kind="tickets.sale", memo=order.number,
                                lines=[LineSpec(self._account(session, "venue", order.venue_code, "cash"),
                                                -tender["amount"]),
                                       LineSpec(self._account(session, "venue", order.venue_code, "tickets.revenue"),
                                                tender["amount"])],
                                actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id).entry_id
            elif tender["method"] == "wallet":
                paid = self._wallet().consume(actor, card_no=tender["reference"], key=key, amount=tender["amount"],
                                              category="ticket", within=session, net=True)
                entry_id = uuid.UUID(paid["entry_id"]) if paid.get("entry_id") else None
            else:
                entry_id = self._use_voucher(session, actor, order, tender, key)
            session.add(Payment(order_id=order.id, method=tender["method"], amount=tender["amount"],
                                reference=tender["reference"], entry_id=entry_id, shift_id=shift_id,
                                venue_id=actor.venue_id, terminal_id=actor.terminal_id))

    def _wallet(self) -> Any:
        from plugins.wallet.services import WalletService

        return WalletService(self._uow, self._identity, venue_code=self.venue_code, terminal_code=self.terminal_code,
                             plugins=self._plugins, clock=self._clock)

    def _use_voucher(self, session: Session, actor: Actor, order: Order, tender: Mapping[str, Any],
                     key: str) -> uuid.UUID:
        voucher = session.scalars(select(Voucher).where(Voucher.code == tender["reference"])
                                  .with_for_update()).one_or_none()
        today = self.local_now().date()
        if voucher is None or voucher.state != "open":
            raise SaleRefused(_("Voucher {code} cannot be used (unknown or used already).").format(
                code=tender["reference"]), reason="voucher")
        if voucher.valid_until is not None and voucher.valid_until < today:
            raise SaleRefused(_("Voucher {code} expired on {date}.").format(
                code=voucher.code, date=voucher.valid_until.isoformat()), reason="voucher_expired")
        if tender["amount"] != voucher.value:
            raise InvalidInput(_("Voucher {code} pays exactly {value}.").format(
                code=voucher.code, value=_yuan(voucher.value)))
        voucher.state, voucher.order_id, voucher.used_at = "used", order.id, self.now()
        return post(session, idempotency_key=key, kind="tickets.voucher", memo=order.number,
                    lines=[LineSpec(self._account(session, "chain", "chain", "vouchers"), -voucher.value),
                           LineSpec(self._account(session, "venue", order.venue_code, "tickets.revenue"),
                                    voucher.value)],
                    actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id).entry_id

    @staticmethod
    def _account(session: Session, owner_type: str, owner_id: str, kind: str) -> uuid.UUID:
        return open_account(session, owner_type=owner_type, owner_id=owner_id, kind=kind, unit=CNY, floor=None,
                            name=f"{owner_type} {owner_id} {kind}").id

    # ------------------------------------------------------------ after the sale

    def refund(self, actor: Actor, *, serials: Sequence[str], key: str, reason: str = "") -> dict[str, Any]:
        """Refund tickets of one order: their seats are free again, their codes revoked, the money
        goes back the way it came (cash from the drawer, card tenders onto the card, vouchers as
        cash). Permission ``tickets.refund``; audited."""
        return self._undo(actor, serials=serials, key=key, reason=reason, permission="tickets.refund",
                          state="refunded")

    def void(self, actor: Actor, *, order_number: str, key: str, reason: str = "") -> dict[str, Any]:
        """Void a whole order (a mistake at the counter), the same way as a refund of every
        ticket. Permission ``tickets.void``; audited."""
        self._begin(actor, "tickets.void")
        with self._uow.read() as uow:
            order = self._by_number(uow.session, order_number)
            serials = list(uow.session.scalars(select(Ticket.serial).where(Ticket.order_id == order.id,
                                                                          Ticket.state == "valid")))
        if not serials:
            raise Conflict(_("Order {order} has no valid tickets left.").format(order=order_number))
        return self._undo(actor, serials=serials, key=key, reason=reason, permission="tickets.void", state="voided")

    def _undo(self, actor: Actor, *, serials: Sequence[str], key: str, reason: str, permission: str,
              state: str) -> dict[str, Any]:
        self._begin(actor, permission)
        key = idempotency_key(key)
        reason = text(reason, _("The reason"), 500, required=False)
        with self._uow() as uow:
            session = uow.session
            tickets = session.scalars(select(Ticket).where(Ticket.serial.in_(list(serials))).with_for_update()).all()
            if len(tickets) != len(set(serials)):
                raise NotFound(_("Some of these tickets do not exist: {serials}.").format(serials=", ".join(serials)))
            orders = {t.order_id for t in tickets}
            if len(orders) != 1:
                raise InvalidInput(_("Refund the tickets of one order at a time."))
            order = session.get_one(Order, orders.pop())
            if session.scalar(select(Payment.id).where(Payment.order_id == order.id,
                                                       Payment.reference == f"undo:{key}")) is not None:
                return {"order": order.number, "replayed": True, "state": order.state}
            not_valid = [t.serial for t in tickets if t.state != "valid"]
            if not_valid:
                raise Conflict(_("Ticket {serial} is not valid any more.").format(serial=not_valid[0]))
            amount = sum(t.price for t in tickets)
            now = self.now()
            for ticket in tickets:
                ticket.state = state
                session.add(Revocation(serial=ticket.serial, reason=state, revoked_at=now,
                                       venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            session.execute(delete(SeatClaim).where(SeatClaim.ticket_id.in_([t.id for t in tickets])))
            self._pay_back(session, actor, order, amount, key)
            left = session.scalar(select(Ticket.id).where(Ticket.order_id == order.id, Ticket.state == "valid"))
            order.state = ("partly_refunded" if left is not None else ("voided" if state == "voided" else "refunded"))
            self._audit(session, actor, f"tickets.{'void' if state == 'voided' else 'refund'}", order.number,
                        {"tickets": [t.serial for t in tickets], "amount": amount, "reason": reason})
            uow.commit()
            return {"order": order.number, "replayed": False, "state": order.state, "amount": amount,
                    "tickets": [t.serial for t in tickets]}

    def _pay_back(self, session: Session, actor: Actor, order: Order, amount: int, key: str) -> None:
        """``amount`` back by the order's own tenders: a distributor's or partner's account, cards,
        then cash (vouchers too)."""
        from plugins.tickets.distributors import pay_back_partner  # distributors imports this module

        amount -= pay_back_partner(session, actor, order, amount, key, self._shift_id(session, actor))
        paid = session.scalars(select(Payment).where(Payment.order_id == order.id)).all()
        by_card: dict[str, int] = {}
        for payment in paid:
            if payment.method == "wallet":
                by_card[payment.reference] = by_card.get(payment.reference, 0) + payment.amount
        shift_id = self._shift_id(session, actor)
        left = amount
        for index, (card_no, available) in enumerate(sorted(by_card.items())):
            share = min(left, max(available, 0))
            if share:
                self._wallet().credit_back(actor, card_no=card_no, key=f"{key}:card:{index}", amount=share,
                                           reason=order.number, within=session)
                session.add(Payment(order_id=order.id, method="wallet", amount=-share, reference=card_no,
                                    shift_id=shift_id, venue_id=actor.venue_id, terminal_id=actor.terminal_id))
                left -= share
        if left:
            post(session, idempotency_key=f"{key}:cash", kind="tickets.refund", memo=order.number,
                 lines=[LineSpec(self._account(session, "venue", order.venue_code, "tickets.revenue"), -left),
                        LineSpec(self._account(session, "venue", order.venue_code, "cash"), left)],
                 actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(Payment(order_id=order.id, method="cash", amount=-left, reference="", shift_id=shift_id,
                                venue_id=actor.venue_id, terminal_id=actor.terminal_id))
        session.add(Payment(order_id=order.id, method="cash", amount=0, reference=f"undo:{key}", shift_id=shift_id,
                            venue_id=actor.venue_id, terminal_id=actor.terminal_id))

    def exchange(self, actor: Actor, *, serial: str, session_code: str, seat_id: str, key: str,
                 ticket_type: str | None = None) -> dict[str, Any]:
        """Exchange a ticket for a seat of the same or another session at the same price or
        dearer (the difference paid in cash); the old code is revoked. Permission
        ``tickets.exchange``; audited."""
        self._begin(actor, "tickets.exchange")
        key = idempotency_key(key)
        signer = self._signer()
        with self._uow() as uow:
            session = uow.session
            old = session.scalars(select(Ticket).where(Ticket.serial == serial).with_for_update()).one_or_none()
            if old is None:
                raise NotFound(_("There is no ticket {serial}.").format(serial=serial))
            if old.state != "valid":
                raise Conflict(_("Ticket {serial} is not valid any more.").format(serial=serial))
            order = session.get_one(Order, old.order_id)
            show = self._session(session, session_code, lock=True)
            self._sellable(show)
            type_code = ticket_type or session.get_one(TicketType, old.ticket_type_id).code
            line = self._price_lines(session, show, [{"seat_id": seat_id, "ticket_type": type_code}])[0]
            difference = line.price - old.price
            if difference < 0:
                raise SaleRefused(_("An exchange cannot be for a cheaper ticket: refund it instead."),
                                  reason="cheaper")
            new = self._issue(session, order, show, [line], signer)[0]
            old.state, old.replaced_by = "exchanged", new.id
            session.add(Revocation(serial=old.serial, reason="exchanged", revoked_at=self.now(),
                                   venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            session.execute(delete(SeatClaim).where(SeatClaim.ticket_id == old.id))
            self._claim(session, show, [line.seat] if line.seat else [], kind="sold", token="", expires_at=None,
                        tickets={line.seat.id: new.id} if line.seat else None)
            if difference:
                self._pay(session, actor, order, [{"method": "cash", "amount": difference, "reference": ""}],
                          self._shift_id(session, actor), key)
            order.total += difference
            self._audit(session, actor, "tickets.exchange", order.number,
                        {"old": old.serial, "new": new.serial, "session": show.code, "difference": difference})
            uow.commit()
            return {"order": order.number, "old": old.serial, "new": self._ticket_dict(session, new),
                    "difference": difference}

    def reprint(self, actor: Actor, *, serials: Sequence[str], reason: str = "") -> list[dict[str, Any]]:
        """The tickets' print data again (marked as a reprint); permission ``tickets.reprint``; audited."""
        self._begin(actor, "tickets.reprint")
        with self._uow() as uow:
            session = uow.session
            tickets = session.scalars(select(Ticket).where(Ticket.serial.in_(list(serials)))).all()
            if len(tickets) != len(set(serials)):
                raise NotFound(_("Some of these tickets do not exist: {serials}.").format(serials=", ".join(serials)))
            for ticket in tickets:
                if ticket.state != "valid":
                    raise Conflict(_("Ticket {serial} is not valid any more.").format(serial=ticket.serial))
                ticket.printed += 1
            self._audit(session, actor, "tickets.reprint", ",".join(sorted(serials)),
                        {"reason": text(reason, _("The reason"), 500, required=False)})
            uow.commit()
            return [{**self._ticket_dict(session, t), "reprint": True} for t in tickets]

    # ------------------------------------------------------------ verification

    def revoked(self, actor: Actor, *, since: dt.datetime | None = None) -> list[str]:
        """Serials whose codes no longer admit (what an offline gate downloads)."""
        self._begin(actor, "tickets.verify")
        with self._uow.read() as uow:
            query = select(Revocation.serial)
            if since is not None:
                query = query.where(Revocation.revoked_at >= since)
            return list(uow.session.scalars(query.order_by(Revocation.revoked_at)))

    def verify(self, actor: Actor, code: str) -> dict[str, Any]:
        """Check a code as a gate would, with the revocation list of this database."""
        verifier = TicketVerifier([self.public_key()])
        claims = verifier.claims(code)
        revoked: set[str] = set()
        if claims is not None:
            self._begin(actor, "tickets.verify")
            with self._uow.read() as uow:
                revoked = set(uow.session.scalars(select(Revocation.serial).where(
                    Revocation.serial == claims.serial)))
        else:
            self._begin(actor, "tickets.verify")
        return verifier.verify(code, revoked=revoked, now=self.now()).as_dict()

    # ------------------------------------------------------------ vouchers

    def issue_voucher(self, actor: Actor, *, value: int, key: str, code: str | None = None,
                      valid_until: dt.date | None = None, paid: bool = True) -> dict[str, Any]:
        """A cash voucher worth ``value``: sold for cash (``paid``: the drawer takes it) or given
        away (promotion). Permission ``tickets.sell``."""
        self._begin(actor, "tickets.sell")
        value = whole(value, _("The value"), minimum=1)
        key = idempotency_key(key)
        code = text(code or secrets.token_hex(6).upper(), _("The voucher code"), 64)
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(Voucher.id).where(Voucher.code == code)) is not None:
                raise Conflict(_("Voucher {code} exists already.").format(code=code))
            source = (self._account(session, "venue", self.venue_code, "cash") if paid
                      else self._account(session, "chain", "chain", "promotions"))
            post(session, idempotency_key=key, kind="tickets.voucher.issue", memo=code,
                 lines=[LineSpec(source, -value), LineSpec(self._account(session, "chain", "chain", "vouchers"), value)],
                 actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(Voucher(code=code, value=value, valid_until=valid_until, venue_id=actor.venue_id,
                                terminal_id=actor.terminal_id))
            self._audit(session, actor, "tickets.voucher.issue", code, {"value": value, "paid": paid})
            uow.commit()
        return {"code": code, "value": value, "valid_until": valid_until.isoformat() if valid_until else None}

    # ------------------------------------------------------------ views

    def order(self, actor: Actor, number: str) -> dict[str, Any]:
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            return self._order_dict(uow.session, self._by_number(uow.session, number))

    @staticmethod
    def _by_number(session: Session, number: str) -> Order:
        order = session.scalars(select(Order).where(Order.number == number)).one_or_none()
        if order is None:
            raise NotFound(_("There is no order {order}.").format(order=number))
        return order

    def _order_dict(self, session: Session, order: Order, *, replayed: bool = False) -> dict[str, Any]:
        memo: dict[tuple[type, Any], Any] = {(Order, order.id): order}
        tickets = session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.created_at)).all()
        payments = session.scalars(select(Payment).where(Payment.order_id == order.id, Payment.amount != 0)).all()
        return {"order": order.number, "state": order.state, "replayed": replayed, "total": order.total,
                "list_total": order.list_total, "cashier": order.cashier, "channel": order.channel,
                "paid_at": order.paid_at.isoformat() if order.paid_at else None,
                "tickets": [self._ticket_dict(session, t, memo) for t in tickets],
                "payments": [{"method": p.method, "amount": p.amount, "reference": p.reference} for p in payments]}

    def _ticket_dict(self, session: Session, ticket: Ticket,
                     memo: dict[tuple[type, Any], Any] | None = None) -> dict[str, Any]:
        """What a ticket face prints (docs/tickets-faces.md lists the keys). ``memo`` keeps the
        rows tickets of one order share (session, programme, hall, type...)."""
        memo = {} if memo is None else memo

        def get(model: type, key: Any) -> Any:
            if key is None:
                return None
            if (model, key) not in memo:
                memo[(model, key)] = session.get(model, key)
            return memo[(model, key)]

        show = get(ShowSession, ticket.session_id)
        programme = get(Programme, show.programme_id) if show else None
        hall = get(Hall, show.hall_id) if show else None
        seat = session.get(Seat, ticket.seat_id) if ticket.seat_id else None
        zone = get(Zone, seat.zone_id) if seat else None
        ticket_type = get(TicketType, ticket.ticket_type_id)
        order = get(Order, ticket.order_id)
        combo = get(Combo, ticket.combo_id)
        package = get(Package, ticket.package_id)
        local = show.starts_at.astimezone(self.settings.zone) if show else None
        return {"serial": ticket.serial, "state": ticket.state, "code": ticket.code, "order": order.number,
                "venue": show.venue_code if show else order.venue_code, "hall": hall.code if hall else "",
                "hall_name": hall.name if hall else "", "session": show.code if show else "",
                "programme": programme.title if programme else "", "grade": programme.grade if programme else "",
                "starts_at": show.starts_at.isoformat() if show else None,
                "date": local.strftime("%Y-%m-%d") if local else "", "time": local.strftime("%H:%M") if local else "",
                "row": seat.row_label if seat else "", "seat": seat.seat_label if seat else "",
                "zone": zone.name if zone else "", "ticket_type": ticket_type.name,
                "category": ticket_type.category, "admits": ticket.admits, "list_price": ticket.list_price,
                "price": ticket.price, "cashier": order.cashier, "printed": ticket.printed,
                "notice": combo.goods if combo else (package.name if package else "")}


def _label(seat: Seat) -> str:
    return _("row {row} seat {seat}").format(row=seat.row_label, seat=seat.seat_label)


def _yuan(fen: int) -> str:
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _line_dict(line: PricedLine) -> dict[str, Any]:
    return {"seat_id": str(line.seat.id) if line.seat else None,
            "row": line.seat.row_label if line.seat else "", "seat": line.seat.seat_label if line.seat else "",
            "zone": line.zone, "ticket_type": line.ticket_type.code, "list_price": line.list_price,
            "price": line.price, "discounts": list(line.discounts)}


def _tenders(payments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not payments:
        raise InvalidInput(_("Say how the order is paid."))
    tenders = []
    for payment in payments:
        method = payment.get("method")
        if method not in TENDERS:
            raise InvalidInput(_("A payment is one of: {choices}.").format(choices=", ".join(TENDERS)))
        reference = str(payment.get("reference") or "")
        if method in ("wallet", "voucher") and not reference:
            raise InvalidInput(_("A card or voucher payment needs the card number or voucher code."))
        tenders.append({"method": method, "amount": whole(payment.get("amount"), _("The amount paid"), minimum=1),
                        "reference": reference})
    return tenders


__all__ = ["PricedLine", "SalesService"]
