"""Card wallet use cases: card types, issue, top-up, consume, loss, renew, refund, query, history.

Every balance is a ledger account (``suite.ledger``); every movement is one balanced journal
entry posted with an idempotency key inside the same unit of work as the card's event row
and the audit record, so either all of an operation exists or none of it. Permissions are
checked with ``identity.require`` before the unit of work opens (docs/wallet.md).

Money is integer fen, counts and points are integers: never floats.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.db.base import utcnow
from suite.db.uow import UnitOfWorkFactory
from suite.errors import Conflict, InvalidInput, NotFound, SuiteError
from suite.i18n import _
from suite.identity.actor import Actor
from suite.ledger import FloorBreached, LineSpec, PostResult, balance, open_account, post
from suite.ledger.models import Account, Entry

from plugins.wallet.models import CATEGORIES, KINDS, Card, CardEvent, CardType

PLUGIN_ID = "wallet"
CNY = "CNY"
POINTS = "points"
COUNT = "count"
MAX_AMOUNT = 10**12  # fen: 10 billion yuan, far above any real card movement

# card accounts: (kind, unit)
MAIN = ("wallet.main", CNY)
GIFT = ("wallet.gift", CNY)
CARD_POINTS = ("points", POINTS)
CARD_COUNTS = ("counts", COUNT)
DEPOSIT = ("deposit", CNY)
CARD_ACCOUNTS = (MAIN, GIFT, CARD_POINTS, CARD_COUNTS, DEPOSIT)


class CardRefused(SuiteError):
    """The card cannot do this now (blacklisted, expired, not accepted here, wrong kind...)."""

    code = "card_refused"


class InsufficientBalance(SuiteError):
    code = "insufficient_balance"


@dataclass(frozen=True)
class Price:
    """What the customer pays for a list price: the result of the discount rules."""

    list_price: int
    discount: int
    charge: int


def price_with_discounts(card_type: CardType, list_price: int, **context: Any) -> Price:
    """THE pricing call site: every consume asks here what the card pays.

    Today only the card type's tier discount (``discount_bp`` off; the price kept is rounded
    half up to the fen, as ``plugins/wallet/pricing.py`` rounds each step). The full engine
    (per item, time slot, film grade, combined in a stated order) goes in
    ``plugins/wallet/pricing.py`` and replaces the body of this function; ``context`` carries
    what it will need (venue, items, time).
    """
    charge = (list_price * (10000 - card_type.discount_bp) + 5000) // 10000
    return Price(list_price=list_price, discount=list_price - charge, charge=charge)


def _whole(value: object, what: str, *, minimum: int = 0, maximum: int = MAX_AMOUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(_("{what} must be a whole number from {low} to {high}.").format(
            what=what, low=minimum, high=maximum))
    return value


def _text(value: object, what: str, max_length: int, *, required: bool = True) -> str:
    if not isinstance(value, str) or len(value) > max_length or (required and not value.strip()):
        raise InvalidInput(_("{what} is required, as text of at most {n} characters.").format(
            what=what, n=max_length))
    return value.strip()


def _key(value: object) -> str:
    return _text(value, _("The idempotency key"), 100)


@dataclass(frozen=True)
class _Movement:
    key: str
    amount: int
    counts: int


class WalletService:
    """The wallet's use cases on one database.

    ``plugins``: the application's ``PluginHost`` (its state is checked first: unlicensed or
    disabled refuses); ``None`` in tests that run the service without a host.
    ``venue_code``: this terminal's venue (cash, revenue, and card acceptance).
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, identity: Any, *, venue_code: str = "HQ",
                 plugins: Any = None, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._uow = uow_factory
        self._identity = identity
        self._plugins = plugins
        self.venue_code = venue_code
        self._clock = clock

    @classmethod
    def from_app(cls, app: Any) -> "WalletService":
        return cls(app.uow, app.identity, venue_code=app.settings.terminal.venue_code, plugins=app.plugins)

    # ------------------------------------------------------------ helpers

    @contextmanager
    def _movement(self, actor: Actor, permission: str, card_no: str, key: str, amount: int, counts: int, *,
                  spending: bool = False) -> Iterator[tuple[Any, Card, CardType, "_Movement"]]:
        """The opening every money or count movement on one card shares: permission, checked
        inputs, one unit of work with the card row locked, and the card's usability (not
        re-checked for a replayed key, which must return its first result)."""
        self._begin(actor, permission)
        movement = _Movement(_key(key), _whole(amount, _("The amount")),
                             _whole(counts, _("The count"), maximum=1_000_000))
        with self._uow() as uow:
            card = self._card(uow.session, card_no, lock=True)
            card_type = uow.session.get_one(CardType, card.type_id)
            if not self._replayed(uow.session, movement.key):
                self._usable(card, card_type, spending=spending)
            yield uow, card, card_type, movement

    def _begin(self, actor: Actor, permission: str, *, admin: bool = False) -> None:
        if self._plugins is not None:
            from suite.licensing.service import Purpose

            self._plugins.require_active(PLUGIN_ID, Purpose.ADMIN if admin else Purpose.SALE)
        self._identity.require(actor, permission)

    def _today(self) -> dt.date:
        return self._clock().date()

    @staticmethod
    def _card(session: Session, card_no: str, *, lock: bool = False) -> Card:
        query = select(Card).where(Card.card_no == card_no)
        if lock:
            query = query.with_for_update()
        card = session.scalars(query).one_or_none()
        if card is None:
            raise NotFound(_("There is no card {card}.").format(card=card_no), card=card_no)
        return card

    @staticmethod
    def _type(session: Session, code: str) -> CardType:
        found = session.scalars(select(CardType).where(CardType.code == code)).one_or_none()
        if found is None:
            raise NotFound(_("There is no card type {code}.").format(code=code), code=code)
        return found

    @staticmethod
    def _card_account(session: Session, card_no: str, which: tuple[str, str]) -> Account:
        kind, unit = which
        return open_account(session, owner_type="card", owner_id=card_no, kind=kind, unit=unit, floor=0,
                            name=f"card {card_no} {kind}")

    def _venue_account(self, session: Session, kind: str, unit: str = CNY) -> Account:
        return open_account(session, owner_type="venue", owner_id=self.venue_code, kind=kind, unit=unit,
                            floor=None, name=f"venue {self.venue_code} {kind}")

    @staticmethod
    def _chain_account(session: Session, kind: str, unit: str) -> Account:
        return open_account(session, owner_type="chain", owner_id="chain", kind=kind, unit=unit, floor=None,
                            name=f"chain {kind} {unit}")

    def _event(self, session: Session, actor: Actor, card: Card, action: str, *, amount: int = 0, unit: str = "",
               entry_id: uuid.UUID | None = None, **details: Any) -> None:
        session.add(CardEvent(card_id=card.id, at=self._clock(), action=action, actor=actor.username,
                              venue_code=self.venue_code, amount=amount, unit=unit, entry_id=entry_id,
                              details=json.dumps(details, sort_keys=True, ensure_ascii=False, default=str),
                              venue_id=actor.venue_id, terminal_id=actor.terminal_id))
        session.flush()
        record(session, kind="operation", action=f"wallet.{action}", actor=actor.username, target=card.card_no,
               details={"amount": amount, "unit": unit, "entry": str(entry_id) if entry_id else None, **details},
               venue_id=actor.venue_id, terminal_id=actor.terminal_id)

    def _post(self, session: Session, actor: Actor, card: Card, *, key: str, kind: str,
              lines: list[LineSpec]) -> PostResult:
        try:
            return post(session, idempotency_key=key, kind=kind, lines=lines, actor=actor.username,
                        memo=card.card_no, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
        except FloorBreached as exc:
            raise InsufficientBalance(_("Insufficient balance on card {card}.").format(card=card.card_no),
                                      card=card.card_no) from exc

    def _usable(self, card: Card, card_type: CardType, *, spending: bool = False) -> None:
        """Refuse a card that may not move value here and now (translated reasons); where a
        card is accepted matters only for spending (a top-up is taken anywhere)."""
        if card.status == "lost":
            raise CardRefused(_("Card {card} is blacklisted (reported lost).").format(card=card.card_no),
                              card=card.card_no, reason="blacklisted")
        if card.status != "active":
            raise CardRefused(_("Card {card} is not active (status: {status}).").format(
                card=card.card_no, status=card.status), card=card.card_no, reason="not_active")
        if card.expires_on is not None and card.expires_on < self._today():
            raise CardRefused(_("Card {card} expired on {date}.").format(
                card=card.card_no, date=card.expires_on.isoformat()), card=card.card_no, reason="expired")
        if spending and not card_type.accepted_at(self.venue_code):
            raise CardRefused(_("Card {card} is not accepted at venue {venue}.").format(
                card=card.card_no, venue=self.venue_code), card=card.card_no, reason="not_accepted")

    @staticmethod
    def _replayed(session: Session, key: str) -> bool:
        return session.scalar(select(Entry.id).where(Entry.idempotency_key == key)) is not None

    # ------------------------------------------------------------ card types (W1, W2)

    def create_card_type(self, actor: Actor, *, code: str, name: str, kind: str = "value",
                         category: str = "stored_value", discount_bp: int = 0, bonus_bp: int = 0,
                         validity_days: int = 365, deposit: int = 0, points_per_yuan: int = 0,
                         min_count_topup: int = 1, accepted_venues: str = "") -> dict[str, Any]:
        self._begin(actor, "wallet.cardtypes", admin=True)
        code = _text(code, _("The card type code"), 32)
        name = _text(name, _("The card type name"), 100)
        if kind not in KINDS:
            raise InvalidInput(_("The kind must be one of: {choices}.").format(choices=", ".join(KINDS)))
        if category not in CATEGORIES:
            raise InvalidInput(_("The category must be one of: {choices}.").format(choices=", ".join(CATEGORIES)))
        values = dict(code=code, name=name, kind=kind, category=category,
                      discount_bp=_whole(discount_bp, _("The discount"), maximum=10000),
                      bonus_bp=_whole(bonus_bp, _("The top-up bonus"), maximum=100000),
                      validity_days=_whole(validity_days, _("The validity"), minimum=1, maximum=36500),
                      deposit=_whole(deposit, _("The deposit")),
                      points_per_yuan=_whole(points_per_yuan, _("The points rate"), maximum=10000),
                      min_count_topup=_whole(min_count_topup, _("The minimum count top-up"), minimum=1,
                                             maximum=100000),
                      accepted_venues=_text(accepted_venues, _("The accepted venues"), 2000, required=False))
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(CardType.id).where(CardType.code == code)) is not None:
                raise Conflict(_("The card type {code} exists already.").format(code=code), code=code)
            card_type = CardType(**values, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(card_type)
            session.flush()
            record(session, kind="operation", action="wallet.cardtype.create", actor=actor.username, target=code,
                   details=values, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            uow.commit()
            return _type_dict(card_type)

    def list_card_types(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "wallet.view", admin=True)
        with self._uow.read() as uow:
            return [_type_dict(t) for t in uow.session.scalars(select(CardType).order_by(CardType.code))]

    # ------------------------------------------------------------ lifecycle (W3)

    def issue(self, actor: Actor, *, card_no: str, type_code: str, key: str, uid: str | None = None,
              holder_name: str = "", holder_phone: str = "", validity_days: int | None = None) -> dict[str, Any]:
        """Sell a card: activate it, take its deposit (one entry), open its wallets."""
        self._begin(actor, "wallet.issue")
        card_no = _text(card_no, _("The card number"), 32)
        key = _key(key)
        holder_name = _text(holder_name, _("The holder's name"), 100, required=False)
        holder_phone = _text(holder_phone, _("The holder's phone"), 32, required=False)
        if uid is not None:
            uid = _text(uid, _("The card UID"), 64)
        with self._uow() as uow:
            session = uow.session
            card_type = self._type(session, type_code)
            if not card_type.active:
                raise CardRefused(_("The card type {code} is no longer sold.").format(code=type_code))
            days = card_type.validity_days if validity_days is None else _whole(
                validity_days, _("The validity"), minimum=1, maximum=36500)
            card = session.scalars(select(Card).where(Card.card_no == card_no).with_for_update()).one_or_none()
            if card is not None and card.status not in ("blank", "recycled"):
                raise Conflict(_("Card {card} is already issued (status: {status}).").format(
                    card=card_no, status=card.status), card=card_no)
            now = self._clock()
            if card is None:
                card = Card(card_no=card_no, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                session.add(card)
            if uid is not None:
                card.uid = uid
            card.type_id = card_type.id
            card.status = "active"
            card.holder_name, card.holder_phone = holder_name, holder_phone
            card.issued_at = now
            card.holder_since = now
            card.expires_on = now.date() + dt.timedelta(days=days)
            session.flush()
            accounts = {which: self._card_account(session, card_no, which) for which in CARD_ACCOUNTS}
            entry_id = None
            if card_type.deposit:
                cash = self._venue_account(session, "cash")
                result = self._post(session, actor, card, key=key, kind="wallet.deposit", lines=[
                    LineSpec(cash.id, -card_type.deposit), LineSpec(accounts[DEPOSIT].id, card_type.deposit)])
                entry_id = result.entry_id
            self._event(session, actor, card, "issue", amount=card_type.deposit, unit=CNY, entry_id=entry_id,
                        type=card_type.code, expires_on=card.expires_on.isoformat())
            uow.commit()
        return self.query(actor, card_no, _checked=True)

    def top_up(self, actor: Actor, *, card_no: str, key: str, amount: int = 0, counts: int = 0) -> dict[str, Any]:
        """Value cards: ``amount`` fen to main plus the tier bonus to gift. Count cards: ``counts``
        (at least the type's minimum) paid with ``amount`` (may be 0). One entry per call."""
        with self._movement(actor, "wallet.topup", card_no, key, amount, counts) as (uow, card, card_type, m):
            session, key, amount, counts = uow.session, m.key, m.amount, m.counts
            lines: list[LineSpec] = []
            bonus = 0
            if card_type.kind == "value":
                if counts:
                    raise CardRefused(_("Card {card} holds money, not counts.").format(card=card_no))
                if amount <= 0:
                    raise InvalidInput(_("The amount must be more than 0."))
                bonus = amount * card_type.bonus_bp // 10000
                lines += [LineSpec(self._venue_account(session, "cash").id, -amount),
                          LineSpec(self._card_account(session, card_no, MAIN).id, amount)]
                if bonus:
                    lines += [LineSpec(self._chain_account(session, "promotions", CNY).id, -bonus),
                              LineSpec(self._card_account(session, card_no, GIFT).id, bonus)]
            else:
                if counts < card_type.min_count_topup:
                    raise InvalidInput(_("Top up at least {n} counts on a card of type {code}.").format(
                        n=card_type.min_count_topup, code=card_type.code))
                lines += [LineSpec(self._chain_account(session, "counts.issued", COUNT).id, -counts),
                          LineSpec(self._card_account(session, card_no, CARD_COUNTS).id, counts)]
                if amount:
                    lines += [LineSpec(self._venue_account(session, "cash").id, -amount),
                              LineSpec(self._venue_account(session, "counts.sold").id, amount)]
            result = self._post(session, actor, card, key=key, kind="wallet.topup", lines=lines)
            if not result.replayed:
                self._event(session, actor, card, "topup", amount=amount if card_type.kind == "value" else counts,
                            unit=CNY if card_type.kind == "value" else COUNT, entry_id=result.entry_id,
                            paid=amount, bonus=bonus, counts=counts)
            uow.commit()
        return {"card_no": card_no, "entry_id": str(result.entry_id), "replayed": result.replayed,
                "amount": amount, "bonus": bonus, "counts": counts,
                "balances": self._balances_now(card_no)}

    def consume(self, actor: Actor, *, card_no: str, key: str, amount: int = 0, counts: int = 0) -> dict[str, Any]:
        """Debit a card: ``amount`` fen (list price; the discount rules decide the charge) from
        the main wallet, or ``counts`` from a count card. One journal entry per key."""
        with self._movement(actor, "wallet.consume", card_no, key, amount, counts,
                            spending=True) as (uow, card, card_type, m):
            session, key, amount, counts = uow.session, m.key, m.amount, m.counts
            price = Price(0, 0, 0)
            points = 0
            if card_type.kind == "value":
                if counts:
                    raise CardRefused(_("Card {card} holds money, not counts.").format(card=card_no))
                if amount <= 0:
                    raise InvalidInput(_("The amount must be more than 0."))
                price = price_with_discounts(card_type, amount, venue=self.venue_code)
                if price.charge <= 0:
                    raise InvalidInput(_("Nothing to pay after the discount."))
                lines = [LineSpec(self._card_account(session, card_no, MAIN).id, -price.charge),
                         LineSpec(self._venue_account(session, "revenue").id, price.charge)]
                points = price.charge // 100 * card_type.points_per_yuan
                if points:
                    lines += [LineSpec(self._chain_account(session, "points.issued", POINTS).id, -points),
                              LineSpec(self._card_account(session, card_no, CARD_POINTS).id, points)]
            else:
                if amount:
                    raise CardRefused(_("Card {card} holds counts, not money.").format(card=card_no))
                if counts <= 0:
                    raise InvalidInput(_("The count must be more than 0."))
                lines = [LineSpec(self._card_account(session, card_no, CARD_COUNTS).id, -counts),
                         LineSpec(self._venue_account(session, "counts.used", COUNT).id, counts)]
            result = self._post(session, actor, card, key=key, kind="wallet.consume", lines=lines)
            if not result.replayed:
                self._event(session, actor, card, "consume",
                            amount=-price.charge if card_type.kind == "value" else -counts,
                            unit=CNY if card_type.kind == "value" else COUNT, entry_id=result.entry_id,
                            list_price=price.list_price, discount=price.discount, points=points)
            uow.commit()
        return {"card_no": card_no, "entry_id": str(result.entry_id), "replayed": result.replayed,
                "list_price": price.list_price, "discount": price.discount, "charged": price.charge,
                "counts": counts, "points_earned": points, "balances": self._balances_now(card_no)}

    def block(self, actor: Actor, card_no: str, *, reason: str = "") -> dict[str, Any]:
        """Report a card lost: it is blacklisted until unblocked."""
        return self._set_status(actor, card_no, "wallet.loss", frm=("active",), to="lost", action="block",
                                reason=reason)

    def unblock(self, actor: Actor, card_no: str, *, reason: str = "") -> dict[str, Any]:
        return self._set_status(actor, card_no, "wallet.loss", frm=("lost",), to="active", action="unblock",
                                reason=reason)

    def _set_status(self, actor: Actor, card_no: str, permission: str, *, frm: tuple[str, ...], to: str,
                    action: str, reason: str) -> dict[str, Any]:
        self._begin(actor, permission)
        reason = _text(reason, _("The reason"), 500, required=False)
        with self._uow() as uow:
            session = uow.session
            card = self._card(session, card_no, lock=True)
            if card.status not in frm:
                raise CardRefused(_("Card {card} cannot be changed from status {status}.").format(
                    card=card_no, status=card.status), card=card_no)
            card.status = to
            self._event(session, actor, card, action, reason=reason)
            uow.commit()
        return self.query(actor, card_no, _checked=True)

    def replace(self, actor: Actor, card_no: str, *, new_card_no: str, key: str,
                new_uid: str | None = None) -> dict[str, Any]:
        """Replace a lost card: a new card of the same type, holder and validity receives every
        balance of the old one (main, gift, points, counts, deposit) in one entry; the old card
        stays blacklisted."""
        self._begin(actor, "wallet.loss")
        key = _key(key)
        new_card_no = _text(new_card_no, _("The card number"), 32)
        if new_uid is not None:
            new_uid = _text(new_uid, _("The card UID"), 64)
        if new_card_no == card_no:
            raise InvalidInput(_("The new card must have another number."))
        with self._uow() as uow:
            session = uow.session
            old = self._card(session, card_no, lock=True)
            if old.status != "lost":
                raise CardRefused(_("Only a card reported lost can be replaced (card {card}: {status}).").format(
                    card=card_no, status=old.status), card=card_no)
            new = session.scalars(select(Card).where(Card.card_no == new_card_no).with_for_update()).one_or_none()
            if new is not None and new.status not in ("blank", "recycled"):
                raise Conflict(_("Card {card} is already issued (status: {status}).").format(
                    card=new_card_no, status=new.status), card=new_card_no)
            if new is None:
                new = Card(card_no=new_card_no, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                session.add(new)
            now = self._clock()
            if new_uid is not None:
                new.uid = new_uid
            new.type_id, new.status = old.type_id, "active"
            new.holder_name, new.holder_phone = old.holder_name, old.holder_phone
            new.issued_at, new.holder_since, new.expires_on = now, now, old.expires_on
            session.flush()
            moved: dict[str, int] = {}
            lines: list[LineSpec] = []
            for which in CARD_ACCOUNTS:
                source = self._card_account(session, card_no, which)
                target = self._card_account(session, new_card_no, which)
                value = balance(session, source.id)
                moved[which[0]] = value
                if value:
                    lines += [LineSpec(source.id, -value), LineSpec(target.id, value)]
            entry_id = None
            if lines:
                entry_id = self._post(session, actor, old, key=key, kind="wallet.replace", lines=lines).entry_id
            self._event(session, actor, old, "replaced", entry_id=entry_id, new_card=new_card_no, moved=moved)
            self._event(session, actor, new, "replacement", entry_id=entry_id, old_card=card_no, moved=moved)
            uow.commit()
        return self.query(actor, new_card_no, _checked=True)

    def recycle(self, actor: Actor, card_no: str) -> dict[str, Any]:
        """Take back a returned card for reissue: ``returned`` -> ``recycled``. Its history is
        kept; the next holder's queries start at the reissue (``holder_since``)."""
        return self._set_status(actor, card_no, "wallet.issue", frm=("returned",), to="recycled", action="recycle",
                                reason="")

    def renew(self, actor: Actor, card_no: str, *, days: int | None = None) -> dict[str, Any]:
        """Extend the validity by ``days`` (default: the type's validity) from the later of
        today and the current expiry; an expired card becomes usable again."""
        self._begin(actor, "wallet.issue")
        with self._uow() as uow:
            session = uow.session
            card = self._card(session, card_no, lock=True)
            card_type = session.get_one(CardType, card.type_id)
            if card.status not in ("active", "expired"):
                raise CardRefused(_("Card {card} is not active (status: {status}).").format(
                    card=card_no, status=card.status), card=card_no)
            days = card_type.validity_days if days is None else _whole(days, _("The validity"), minimum=1,
                                                                         maximum=36500)
            start = max(self._today(), card.expires_on or self._today())
            card.expires_on = start + dt.timedelta(days=days)
            card.status = "active"
            self._event(session, actor, card, "renew", days=days, expires_on=card.expires_on.isoformat())
            uow.commit()
        return self.query(actor, card_no, _checked=True)

    def refund(self, actor: Actor, card_no: str, *, key: str) -> dict[str, Any]:
        """Return a card: pay back the main balance and the deposit, forfeit the gift balance
        (and points and counts); the card becomes ``returned``. One journal entry."""
        self._begin(actor, "wallet.refund")
        key = _key(key)
        with self._uow() as uow:
            session = uow.session
            card = self._card(session, card_no, lock=True)
            if card.status not in ("active", "lost", "expired"):
                raise CardRefused(_("Card {card} cannot be returned (status: {status}).").format(
                    card=card_no, status=card.status), card=card_no)
            held = {which: self._card_account(session, card_no, which) for which in CARD_ACCOUNTS}
            amounts = {which: balance(session, account.id) for which, account in held.items()}
            cash = self._venue_account(session, "cash")
            lines: list[LineSpec] = []
            for which, to_kind in ((MAIN, None), (DEPOSIT, None), (GIFT, "forfeiture"),
                                   (CARD_POINTS, "forfeiture"), (CARD_COUNTS, "forfeiture")):
                value = amounts[which]
                if value:
                    other = cash if to_kind is None else self._chain_account(session, to_kind, which[1])
                    lines += [LineSpec(held[which].id, -value), LineSpec(other.id, value)]
            entry_id = None
            if lines:
                entry_id = self._post(session, actor, card, key=key, kind="wallet.refund", lines=lines).entry_id
            card.status = "returned"
            paid = amounts[MAIN] + amounts[DEPOSIT]
            self._event(session, actor, card, "refund", amount=-paid, unit=CNY, entry_id=entry_id,
                        main=amounts[MAIN], deposit=amounts[DEPOSIT], gift_forfeited=amounts[GIFT],
                        points_forfeited=amounts[CARD_POINTS], counts_forfeited=amounts[CARD_COUNTS])
            uow.commit()
        return {"card_no": card_no, "refunded": paid, "main": amounts[MAIN], "deposit": amounts[DEPOSIT],
                "gift_forfeited": amounts[GIFT], "points_forfeited": amounts[CARD_POINTS],
                "counts_forfeited": amounts[CARD_COUNTS], "status": "returned"}

    # ------------------------------------------------------------ queries (W7)

    def _balances_now(self, card_no: str) -> dict[str, int]:
        with self._uow.read() as uow:
            return _balances(uow.session, card_no)

    def query(self, actor: Actor, card_no: str, *, _checked: bool = False) -> dict[str, Any]:
        """Number, holder, type, status, validity and every balance of a card."""
        if not _checked:
            self._begin(actor, "wallet.view")
        with self._uow.read() as uow:
            session = uow.session
            card = self._card(session, card_no)
            card_type = session.get_one(CardType, card.type_id)
            status = card.status
            if status == "active" and card.expires_on is not None and card.expires_on < self._today():
                status = "expired"
            return {"card_no": card.card_no, "uid": card.uid, "type": card_type.code, "type_name": card_type.name,
                    "kind": card_type.kind, "status": status, "holder_name": card.holder_name,
                    "holder_phone": card.holder_phone,
                    "issued_at": card.issued_at.isoformat() if card.issued_at else None,
                    "expires_on": card.expires_on.isoformat() if card.expires_on else None,
                    "balances": _balances(session, card_no)}

    def history(self, actor: Actor, card_no: str, *, all_holders: bool = False) -> list[dict[str, Any]]:
        """The card's events, oldest first; only the current holder's unless ``all_holders``."""
        self._begin(actor, "wallet.view")
        with self._uow.read() as uow:
            session = uow.session
            card = self._card(session, card_no)
            query = select(CardEvent).where(CardEvent.card_id == card.id)
            if card.holder_since is not None and not all_holders:
                query = query.where(CardEvent.at >= card.holder_since)
            events = session.scalars(query.order_by(CardEvent.at, CardEvent.id)).all()
            return [{"at": e.at.isoformat(), "action": e.action, "venue": e.venue_code, "amount": e.amount,
                     "unit": e.unit, "actor": e.actor, "entry_id": str(e.entry_id) if e.entry_id else None,
                     "details": json.loads(e.details or "{}")} for e in events]


def _balances(session: Session, card_no: str) -> dict[str, int]:
    rows = session.execute(select(Account.kind, Account.balance).where(
        Account.owner_type == "card", Account.owner_id == card_no)).all()
    found = {kind: int(value) for kind, value in rows}
    return {"main": found.get(MAIN[0], 0), "gift": found.get(GIFT[0], 0), "points": found.get(CARD_POINTS[0], 0),
            "counts": found.get(CARD_COUNTS[0], 0), "deposit": found.get(DEPOSIT[0], 0)}


def _type_dict(t: CardType) -> dict[str, Any]:
    return {"code": t.code, "name": t.name, "kind": t.kind, "category": t.category, "discount_bp": t.discount_bp,
            "bonus_bp": t.bonus_bp, "validity_days": t.validity_days, "deposit": t.deposit,
            "points_per_yuan": t.points_per_yuan, "min_count_topup": t.min_count_topup,
            "accepted_venues": t.accepted_venues, "active": t.active}


__all__ = ["CardRefused", "InsufficientBalance", "Price", "WalletService", "price_with_discounts"]
