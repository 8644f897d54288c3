"""Card settlement (W8): what each venue took and served for the chain's cards, which periods
are settled, and marking a period settled (docs/wallet-settlement.md).

Every figure comes from the card events (``wallet_card_events``): a top-up's ``paid`` and
``bonus``, a consume's ``charged`` and how it was paid, a refund's ``main`` and ``deposit``,
an issue's deposit. Days are the venue's local days (``[plugins.wallet] timezone``): a period
of local dates becomes UTC bounds here, and each event's local day is computed in Python, so
SQLite and PostgreSQL give the same answer. Money is integer fen, counts are integers.

``SettlementService`` marks a venue's unsettled events of a period settled (one unit of work,
a ``wallet_settlements`` row, an audit record), summarises a period settled vs unsettled, and
lists the settlements. ``configure_settle``/``run_settle`` are the ``settlement`` verb.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.errors import Conflict, InvalidInput
from suite.i18n import N_, _
from suite.identity.actor import Actor
from suite.inputs import local_date
from suite.reporting.filters import day_bounds, plugin_table

from plugins.wallet.core import WalletCore, _text
from plugins.wallet.settings import parse_settings
from plugins.wallet.models import Card, CardEvent, CardType, Settlement, SettlementPrice

UTC = dt.timezone.utc
SETTLE_PERMISSION = "wallet.settle"
VIEW_PERMISSION = "wallet.view"
CHUNK = 500  # ids per IN (...) list
SETTLED_CHOICES = ("all", "settled", "unsettled")
FULL_RATE_BP = 10000


# ---------------------------------------------------------------- the venue's time zone

def report_zone(ctx: Any) -> ZoneInfo:
    """The venue's zone for a report: the site's ``[plugins.wallet] timezone`` from the report's
    context, or the wallet's default (Asia/Shanghai) when the report runs without a site."""
    return parse_settings(plugin_table(ctx, "wallet")).zone






def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up to a whole number (both >= 0; no floats)."""
    return (2 * numerator + denominator) // (2 * denominator)


# ---------------------------------------------------------------- card events as figures


@dataclass(frozen=True)
class EventRow:
    """One card event as settlement reads it (``details`` parsed, ``day`` in the venue's zone)."""

    id: uuid.UUID
    at: dt.datetime
    day: dt.date
    action: str
    actor: str
    venue: str
    merchant: str
    terminal: str
    device: str
    offline: bool
    amount: int
    unit: str
    settlement_id: uuid.UUID | None
    card_id: uuid.UUID
    card_no: str
    details: dict[str, Any]

    @property
    def settled(self) -> bool:
        return self.settlement_id is not None

    def detail(self, name: str, default: int = 0) -> int:
        value = self.details.get(name, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    @property
    def free(self) -> bool:
        return bool(self.details.get("free"))

    # what the event moved, by kind of event (0 for the others)

    @property
    def paid(self) -> int:
        """Money paid for a top-up (value and count cards)."""
        return self.detail("paid", self.amount if self.unit == "CNY" else 0) if self.action == "topup" else 0

    @property
    def charged(self) -> int:
        """What a value card's consume cost after discounts (main + gift + points; 0 when free)."""
        if self.action != "consume" or self.unit == "count" or self.free:
            return 0
        return self.detail("charged", -self.amount)

    @property
    def counts_used(self) -> int:
        if self.action != "consume" or self.unit != "count":
            return 0
        return self.detail("counts", -self.amount)

    @property
    def refunded(self) -> int:
        """Money paid back on a return (main balance and deposit)."""
        if self.action != "refund":
            return 0
        return self.detail("main") + self.detail("deposit") if "main" in self.details else -self.amount

    @property
    def deposit(self) -> int:
        """A deposit taken when the card was issued."""
        return self.amount if self.action == "issue" and self.unit == "CNY" else 0


@dataclass
class Figures:
    """Totals of a set of card events (fen; counts as integers)."""

    events: int = 0
    topups: int = 0
    recharge: int = 0       # money paid for top-ups
    bonus: int = 0          # gift money granted with them
    topup_counts: int = 0   # counts sold
    consumes: int = 0
    charged: int = 0        # value-card consumption after discounts
    paid_main: int = 0
    paid_gift: int = 0
    paid_points: int = 0
    counts_used: int = 0
    refunds: int = 0
    refunded: int = 0       # main balance and deposit paid back
    deposits: int = 0       # deposits taken at issue

    def add(self, event: EventRow) -> None:
        self.events += 1
        if event.action == "topup":
            self.topups += 1
            self.recharge += event.paid
            self.bonus += event.detail("bonus")
            self.topup_counts += event.detail("counts", event.amount if event.unit == "count" else 0)
        elif event.action == "consume":
            self.consumes += 1
            self.charged += event.charged
            self.counts_used += event.counts_used
            if event.unit != "count" and not event.free:
                self.paid_main += event.detail("paid_main")
                self.paid_gift += event.detail("paid_gift")
                self.paid_points += event.detail("paid_points")
        elif event.action == "refund":
            self.refunds += 1
            self.refunded += event.refunded
        elif event.action == "issue":
            self.deposits += event.deposit

    def extend(self, events: Iterable[EventRow]) -> "Figures":
        for event in events:
            self.add(event)
        return self

    @property
    def net_cash(self) -> int:
        """What the drawers should hold more: top-ups and deposits in, refunds out."""
        return self.recharge + self.deposits - self.refunded

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "net_cash": self.net_cash}


FIGURE_NAMES = tuple(f.name for f in fields(Figures)) + ("net_cash",)


def _details(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def event_query(zone: dt.tzinfo, *, days: tuple[dt.date, dt.date] | None = None, venue: str | None = None,
                terminal: str | None = None, operator: str | None = None, merchant: str | None = None,
                actions: Sequence[str] | None = None, settled: str | None = None,
                settlement_id: uuid.UUID | None = None, where: Sequence[ColumnElement[bool]] = ()) -> Any:
    """The card events matching the filters, oldest first (a ``Select`` of plain columns)."""
    e, c = CardEvent.__table__.c, Card.__table__.c
    query = (select(e.id, e.at, e.action, e.actor, e.venue_code, e.merchant, e.terminal_code, e.device, e.offline,
                    e.amount, e.unit, e.settlement_id, e.card_id, c.card_no, e.details)
             .join_from(CardEvent.__table__, Card.__table__, c.id == e.card_id)
             .order_by(e.at, e.id))
    if days is not None:
        start, end = day_bounds(days, zone)
        query = query.where(e.at >= start, e.at < end)
    if venue:
        query = query.where(e.venue_code == venue)
    if terminal:
        query = query.where(e.terminal_code == terminal)
    if operator:
        query = query.where(e.actor == operator)
    if merchant:
        query = query.where(e.merchant == merchant)
    if actions:
        query = query.where(e.action.in_(tuple(actions)))
    if settled == "settled":
        query = query.where(e.settlement_id.is_not(None))
    elif settled == "unsettled":
        query = query.where(e.settlement_id.is_(None))
    if settlement_id is not None:
        query = query.where(e.settlement_id == settlement_id)
    for clause in where:
        query = query.where(clause)
    return query


def load_events(session: Session, zone: dt.tzinfo, **filters: Any) -> Iterator[EventRow]:
    """``event_query`` streamed as ``EventRow`` (never loaded whole)."""
    result = session.execute(event_query(zone, **filters).execution_options(yield_per=2000, stream_results=True))
    try:
        for (event_id, at, action, actor, venue, merchant, terminal, device, offline, amount, unit, settlement_id,
             card_id, card_no, details) in result:
            yield EventRow(id=event_id, at=at, day=at.astimezone(zone).date(), action=action, actor=actor or "",
                           venue=venue or "", merchant=merchant or "", terminal=terminal or "",
                           device=device or "", offline=bool(offline), amount=int(amount or 0), unit=unit or "",
                           settlement_id=settlement_id, card_id=card_id, card_no=card_no,
                           details=_details(details))
    finally:
        result.close()


# ---------------------------------------------------------------- what the chain owes a venue


@dataclass
class VenueSettlement:
    """What the chain owes a venue for serving its cards: value cards' consumption at the
    type's ``rate_bp`` for the venue (rounded half up once per card type), count cards' counts
    at its ``unit_price``."""

    consumption: dict[uuid.UUID | None, int] = field(default_factory=dict)  # card type -> charged
    counts: dict[uuid.UUID | None, int] = field(default_factory=dict)       # card type -> counts used

    def add(self, type_id: uuid.UUID | None, event: EventRow) -> None:
        if event.charged:
            self.consumption[type_id] = self.consumption.get(type_id, 0) + event.charged
        if event.counts_used:
            self.counts[type_id] = self.counts.get(type_id, 0) + event.counts_used

    def due(self, venue: str, prices: dict[tuple[uuid.UUID, str], SettlementPrice]) -> int:
        total = 0
        for type_id, charged in self.consumption.items():
            price = prices.get((type_id, venue)) if type_id is not None else None
            rate = FULL_RATE_BP if price is None else price.rate_bp
            total += round_half_up(charged * rate, FULL_RATE_BP)
        for type_id, counts in self.counts.items():
            price = prices.get((type_id, venue)) if type_id is not None else None
            total += counts * (0 if price is None else price.unit_price)
        return total


class CardTypes:
    """Which card type a card had when an event happened: the type named by its latest issue
    before the event (a recycled card may be issued again as another type), else its type now."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_code = {code: type_id for type_id, code in session.execute(select(CardType.id, CardType.code))}
        self.prices = {(p.type_id, p.venue_code): p for p in session.scalars(select(SettlementPrice))}
        self.current: dict[uuid.UUID, uuid.UUID] = {}
        self.issues: dict[uuid.UUID, list[tuple[dt.datetime, uuid.UUID | None]]] = {}

    def load(self, card_ids: Iterable[uuid.UUID]) -> None:
        wanted = [card_id for card_id in set(card_ids) if card_id not in self.current]
        e = CardEvent.__table__.c
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            for card_id, type_id in self.session.execute(select(Card.id, Card.type_id).where(Card.id.in_(chunk))):
                self.current[card_id] = type_id
                self.issues.setdefault(card_id, [])
            for card_id, at, details in self.session.execute(
                    select(e.card_id, e.at, e.details).where(e.card_id.in_(chunk), e.action == "issue")
                    .order_by(e.at, e.id)):
                code = _details(details).get("type")
                self.issues.setdefault(card_id, []).append((at, self.by_code.get(code) if code else None))

    def type_at(self, card_id: uuid.UUID, at: dt.datetime) -> uuid.UUID | None:
        if card_id not in self.current:
            self.load([card_id])
        found = None
        for issued_at, type_id in self.issues.get(card_id, []):
            if issued_at > at:
                break
            found = type_id
        return found or self.current.get(card_id)


def settlement_due(session: Session, events: Sequence[EventRow]) -> dict[str, int]:
    """Per venue: what the chain owes it for the consumption in ``events`` (``VenueSettlement``)."""
    spent = [e for e in events if e.charged or e.counts_used]
    types = CardTypes(session)
    types.load(e.card_id for e in spent)
    per_venue: dict[str, VenueSettlement] = {}
    for event in spent:
        per_venue.setdefault(event.venue, VenueSettlement()).add(types.type_at(event.card_id, event.at), event)
    return {venue: owed.due(venue, types.prices) for venue, owed in per_venue.items()}


# ---------------------------------------------------------------- the use cases


_day = local_date


def _period(date_from: object, date_to: object) -> tuple[dt.date, dt.date]:
    first, last = _day(date_from, _("The first day")), _day(date_to, _("The last day"))
    if first > last:
        raise InvalidInput(_("The period starts after it ends ({first} > {last}).").format(
            first=first.isoformat(), last=last.isoformat()))
    return first, last


def settlement_dict(row: Settlement) -> dict[str, Any]:
    return {"id": str(row.id), "venue": row.venue_code, "date_from": row.date_from.isoformat(),
            "date_to": row.date_to.isoformat(), "settled_at": row.settled_at.isoformat(),
            "settled_by": row.settled_by, "events": row.events, "recharge": row.recharge_total,
            "consumption": row.consume_total, "note": row.note}


class SettlementService(WalletCore):
    """Settlement of card events per venue and period (see ``WalletCore`` for the arguments;
    ``settings.zone`` cuts the days)."""

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def _venue(self, venue_code: object) -> str:
        return _text(venue_code, _("The venue code"), 32)

    # ------------------------------------------------------------ reading

    def summary(self, actor: Actor, venue_code: str, date_from: object, date_to: object) -> dict[str, Any]:
        """The period's figures settled and unsettled, per terminal, and what the chain owes
        the venue for the unsettled part; the settlements that cover any of its days."""
        self._begin(actor, VIEW_PERMISSION, admin=True)
        venue = self._venue(venue_code)
        first, last = _period(date_from, date_to)
        with self._uow.read() as uow:
            session = uow.session
            events = list(load_events(session, self.zone, days=(first, last), venue=venue))
            settled = Figures().extend(e for e in events if e.settled)
            unsettled = Figures().extend(e for e in events if not e.settled)
            terminals: dict[str, tuple[Figures, list[int]]] = {}
            for event in events:
                figures, states = terminals.setdefault(event.terminal, (Figures(), [0, 0]))
                figures.add(event)
                states[0 if event.settled else 1] += 1
            due = {
                "settled": settlement_due(session, [e for e in events if e.settled]).get(venue, 0),
                "unsettled": settlement_due(session, [e for e in events if not e.settled]).get(venue, 0),
            }
            covering = [settlement_dict(s) for s in session.scalars(select(Settlement).where(
                Settlement.venue_code == venue, Settlement.date_from <= last, Settlement.date_to >= first)
                .order_by(Settlement.date_from))]
        states = []
        for name, figures in (("settled", settled), ("unsettled", unsettled)):
            states.append({"state": name, **figures.as_dict(), "settlement": due[name],
                           "net": figures.net_cash - due[name]})
        return {
            "venue": venue, "date_from": first.isoformat(), "date_to": last.isoformat(),
            "timezone": self.settings.timezone,
            "states": states,
            "terminals": [{"terminal": terminal, **figures.as_dict(), "settled_events": counted[0],
                           "unsettled_events": counted[1]}
                          for terminal, (figures, counted) in sorted(terminals.items())],
            "settlements": covering,
        }

    def list_settlements(self, actor: Actor, venue_code: str | None = None) -> list[dict[str, Any]]:
        """Every settlement (of one venue when given), the latest period first."""
        self._begin(actor, VIEW_PERMISSION, admin=True)
        query = select(Settlement).order_by(Settlement.date_to.desc(), Settlement.venue_code)
        if venue_code:
            query = query.where(Settlement.venue_code == self._venue(venue_code))
        with self._uow.read() as uow:
            return [settlement_dict(s) for s in uow.session.scalars(query)]

    def venues(self, actor: Actor) -> list[str]:
        """The venue codes card events were made at (and this terminal's), sorted."""
        self._begin(actor, VIEW_PERMISSION, admin=True)
        with self._uow.read() as uow:
            found = set(uow.session.scalars(select(CardEvent.venue_code).distinct()))
        return sorted({code for code in found if code} | {self.venue_code})

    # ------------------------------------------------------------ marking

    def mark_settled(self, actor: Actor, venue_code: str, date_from: object, date_to: object,
                     note: str = "") -> dict[str, Any]:
        """Mark every unsettled card event of ``venue_code`` in the local days ``date_from`` ..
        ``date_to`` settled: one ``wallet_settlements`` row with the totals, the events pointing
        at it and an audit record (``wallet.settle``), in one unit of work.

        Refused (nothing written): a period not over yet (it ends today or later), one that
        overlaps an earlier settlement of the venue (``Conflict``), one with nothing to settle."""
        self._begin(actor, SETTLE_PERMISSION, admin=True)
        venue = self._venue(venue_code)
        first, last = _period(date_from, date_to)
        note = _text(note, _("The note"), 1000, required=False)
        today = self._today()
        if last >= today:
            raise InvalidInput(_("The period must be over before it is settled: it ends on {last}, and today is "
                                 "{today} at venue {venue}.").format(last=last.isoformat(), today=today.isoformat(),
                                                                     venue=venue))
        with self._uow() as uow:
            session = uow.session
            self._lock_venue(session, venue)
            earlier = session.scalars(select(Settlement).where(
                Settlement.venue_code == venue, Settlement.date_from <= last, Settlement.date_to >= first)
                .order_by(Settlement.date_from)).first()
            if earlier is not None:
                raise Conflict(_("Venue {venue} is already settled from {first} to {last}: the period {a} to {b} "
                                 "overlaps it.").format(venue=venue, first=earlier.date_from.isoformat(),
                                                        last=earlier.date_to.isoformat(), a=first.isoformat(),
                                                        b=last.isoformat()),
                               venue=venue, settlement=str(earlier.id))
            events = list(load_events(session, self.zone, days=(first, last), venue=venue, settled="unsettled"))
            if not events:
                raise InvalidInput(_("Nothing to settle: venue {venue} has no unsettled card events from {a} to "
                                     "{b}.").format(venue=venue, a=first.isoformat(), b=last.isoformat()),
                                   venue=venue)
            figures = Figures().extend(events)
            due = settlement_due(session, events).get(venue, 0)
            now = self._clock()
            row = Settlement(venue_code=venue, date_from=first, date_to=last, settled_at=now,
                             settled_by=actor.username, events=figures.events, recharge_total=figures.recharge,
                             consume_total=figures.charged, note=note, venue_id=actor.venue_id,
                             terminal_id=actor.terminal_id)
            session.add(row)
            session.flush()
            ids = [e.id for e in events]
            table = CardEvent.__table__
            for start in range(0, len(ids), CHUNK):
                session.execute(update(table).where(table.c.id.in_(ids[start:start + CHUNK]),
                                                    table.c.settlement_id.is_(None))
                                .values(settlement_id=row.id, updated_at=now))
            result = {**settlement_dict(row), **{k: v for k, v in figures.as_dict().items() if k != "events"},
                      "settlement": due, "net": figures.net_cash - due}
            record(session, kind="operation", action="wallet.settle", actor=actor.username, target=venue,
                   details={"settlement": str(row.id), "date_from": first.isoformat(), "date_to": last.isoformat(),
                            "events": figures.events, "recharge": figures.recharge, "consumption": figures.charged,
                            "settlement_due": due, "note": note},
                   venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            uow.commit()
        return result

    @staticmethod
    def _lock_venue(session: Session, venue: str) -> None:
        """Two settlements of one venue at once must not both pass the overlap check: on
        PostgreSQL a transaction-scoped advisory lock per venue (SQLite's write transaction
        already holds the database)."""
        if session.get_bind().dialect.name == "postgresql":
            key = zlib.crc32(f"wallet.settle:{venue}".encode())
            session.execute(select(func.pg_advisory_xact_lock(key)))


# ---------------------------------------------------------------- the ``settlement`` verb


def _date_range(text: str) -> tuple[dt.date, dt.date]:
    """``--period``: local days as the reports take them (``InvalidInput`` when it is not)."""
    from suite.reporting.params import parse_value
    from suite.reporting.spec import Param, ParamKind

    return parse_value(Param("period", N_("Period"), ParamKind.DATE_RANGE), text)


def configure_settle(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="settlement_action", metavar="ACTION")
    period_help = _("local days: FIRST..LAST (2026-11-01..2026-11-30), one day, a month (2026-11) or yesterday")
    venue_help = _("venue code (default: this terminal's venue)")
    mark = sub.add_parser("mark", help=_("mark a venue's card events of a period settled"))
    mark.add_argument("--venue", help=venue_help)
    mark.add_argument("--period", required=True, help=period_help)
    mark.add_argument("--note", default="", help=_("a note kept with the settlement"))
    mark.set_defaults(settlement_verb="mark")
    summary = sub.add_parser("summary", help=_("a venue's period: settled and unsettled figures, per terminal"))
    summary.add_argument("--venue", help=venue_help)
    summary.add_argument("--period", required=True, help=period_help)
    summary.set_defaults(settlement_verb="summary")
    listing = sub.add_parser("list", help=_("settled periods, the latest first"))
    listing.add_argument("--venue", help=_("only this venue's"))
    listing.set_defaults(settlement_verb="list")


def _actor(app: Any, args: argparse.Namespace) -> Actor:
    if getattr(args, "user", None):  # the host logged this user in before calling run
        return app.identity.actor_for(args.user, venue_id=app.venue_id, terminal_id=app.terminal_id)
    import getpass

    return Actor.system(f"console:{getpass.getuser()}", venue_id=app.venue_id, terminal_id=app.terminal_id)


def run_settle(app: Any, args: argparse.Namespace) -> Any:
    """``venue-suite settlement mark|summary|list``: plain data (``--json``: amounts in fen)."""
    action = getattr(args, "settlement_verb", None)
    if action is None:
        raise InvalidInput(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(
            verb=getattr(args, "verb", "settlement")))
    service = SettlementService.from_app(app)
    actor = _actor(app, args)
    venue = getattr(args, "venue", None) or service.venue_code
    if action == "mark":
        first, last = _date_range(args.period)
        return service.mark_settled(actor, venue, first, last, note=args.note)
    if action == "summary":
        first, last = _date_range(args.period)
        return service.summary(actor, venue, first, last)
    return service.list_settlements(actor, getattr(args, "venue", None))


__all__ = ["EventRow", "Figures", "FIGURE_NAMES", "SETTLED_CHOICES", "SettlementService", "configure_settle",
           "day_bounds", "event_query", "load_events", "round_half_up", "run_settle",
           "report_zone", "settlement_due"]
