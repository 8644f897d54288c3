"""What every wallet use case shares: errors, units, input checks, and ``WalletCore`` (the
database, the operator's permissions, the card's accounts, its events and its usability).

Every balance is a ledger account (``suite.ledger``); every movement is one balanced journal
entry posted with an idempotency key inside the same unit of work as the card's event row
and the audit record. Money is integer fen, counts and points are integers: never floats.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.db.ids import uuid7
from suite.db.uow import UnitOfWorkFactory
from suite.errors import NotFound, SuiteError
from suite.i18n import _
from suite.identity.actor import Actor
from suite.plugin_service import PluginService
from suite.inputs import idempotency_key, text, whole
from suite.ledger import FloorBreached, LineSpec, PostResult, open_account, post
from suite.ledger.models import Account, Entry

from plugins.wallet.models import Card, CardEvent, CardType, DiscountRuleRow
from plugins.wallet.settings import WalletSettings, parse_settings

PLUGIN_ID = "wallet"
CNY = "CNY"
POINTS = "points"
COUNT = "count"

# card accounts: (kind, unit)
MAIN = ("wallet.main", CNY)
GIFT = ("wallet.gift", CNY)
CARD_POINTS = ("points", POINTS)
CARD_COUNTS = ("counts", COUNT)
DEPOSIT = ("deposit", CNY)
CARD_ACCOUNTS = (MAIN, GIFT, CARD_POINTS, CARD_COUNTS, DEPOSIT)
_INSERT_EVENT = insert(CardEvent.__table__)  # the card's history row: on the path of every movement
_RULES_VERSION = select(func.count(DiscountRuleRow.id), func.max(DiscountRuleRow.updated_at))
_ACCOUNT_ID = select(Account.id).where(Account.owner_type == bindparam("o"), Account.owner_id == bindparam("i"),
                                       Account.kind == bindparam("k"), Account.unit == bindparam("u"))
_CARD_WALLETS = select(Account.kind, Account.unit, Account.id, Account.balance).where(
    Account.owner_type == "card", Account.owner_id == bindparam("card"))
_ENTRY_BY_KEY = select(Entry.__table__.c.id).where(Entry.__table__.c.idempotency_key == bindparam("key"))
# staff cards (W2) open the POS or authorise an operation; they never hold money
STAFF_CATEGORIES = ("authorisation", "operator")


class CardRefused(SuiteError):
    """The card cannot do this now (blacklisted, expired, not accepted here, wrong kind...)."""

    code = "card_refused"


class InsufficientBalance(SuiteError):
    code = "insufficient_balance"



_whole = whole
_text = text
_key = idempotency_key


@dataclass(frozen=True)
class _Movement:
    key: str
    amount: int
    counts: int
    replayed: bool = False  # the key was posted before: return the first result


class _Within:
    """The caller's unit of work seen from a movement: same session, the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def commit(self) -> None:
        return None


class WalletCore(PluginService[WalletSettings]):
    """The wallet's database, operator checks and per-card helpers.

    ``plugins``: the application's ``PluginHost`` (its state is checked first: unlicensed or
    disabled refuses); ``None`` in tests that run the service without a host.
    ``venue_code``/``terminal_code``: this POS (cash, revenue, card acceptance, settlement);
    ``settings``: the ``[plugins.wallet]`` table (merchant, terminal group, time zone...).
    """

    plugin_id = PLUGIN_ID
    parse_settings = staticmethod(parse_settings)

    def __init__(self, uow_factory: UnitOfWorkFactory, identity: Any, **kwargs: Any) -> None:
        super().__init__(uow_factory, identity, **kwargs)
        # ids of venue and chain accounts seen committed (accounts are never deleted)
        self._account_ids: dict[tuple[str, str, str, str], uuid.UUID] = {}
        self._rules: tuple[object, list[Any]] = (None, [])

    # ------------------------------------------------------------ helpers

    @contextmanager
    def _movement(self, actor: Actor, permission: str, card_no: str, key: str, amount: int, counts: int, *,
                  spending: bool = False, within: Session | None = None
                  ) -> Iterator[tuple[Any, Card, CardType, "_Movement"]]:
        """The opening every money or count movement on one card shares: permission, checked
        inputs, one unit of work with the card row locked, and the card's usability (not
        re-checked for a replayed key, which must return its first result). ``within``: the
        caller's open session (a ticket sale paid by card): its unit of work commits."""
        self._begin(actor, permission)
        checked = (_key(key), _whole(amount, _("The amount")), _whole(counts, _("The count"), maximum=1_000_000))
        with nullcontext(_Within(within)) if within is not None else self._uow() as uow:
            card = self._card(uow.session, card_no, lock=True)
            card_type = uow.session.get_one(CardType, card.type_id)
            movement = _Movement(*checked, replayed=self._replayed(uow.session, checked[0]))
            if not movement.replayed:
                self._usable(card, card_type, spending=spending)
            yield uow, card, card_type, movement

    def _local_now(self) -> dt.datetime:
        """The venue's wall-clock time (naive): time slots, expiry dates and daily close use it."""
        return self._clock().astimezone(self.settings.zone).replace(tzinfo=None)

    def _today(self) -> dt.date:
        return self._local_now().date()

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

    def _shared_id(self, session: Session, owner_type: str, owner_id: str, kind: str, unit: str) -> uuid.UUID:
        """A venue's or the chain's account id: from the cache, else looked up (and cached), else
        opened (cached once a later unit of work finds it: this one may still roll back)."""
        key = (owner_type, owner_id, kind, unit)
        found = self._account_ids.get(key)
        if found is None:
            found = session.execute(_ACCOUNT_ID, {"o": owner_type, "i": owner_id, "k": kind, "u": unit}).scalar()
            if found is None:
                return open_account(session, owner_type=owner_type, owner_id=owner_id, kind=kind, unit=unit,
                                    floor=None, name=f"{owner_type} {owner_id} {kind} {unit}").id
            self._account_ids[key] = found
        return found

    def _venue_id(self, session: Session, kind: str, unit: str = CNY) -> uuid.UUID:
        return self._shared_id(session, "venue", self.venue_code, kind, unit)

    def _chain_id(self, session: Session, kind: str, unit: str) -> uuid.UUID:
        return self._shared_id(session, "chain", "chain", kind, unit)

    def _wallets(self, session: Session, card_no: str) -> dict[tuple[str, str], tuple[uuid.UUID, int]]:
        """Every wallet of a card in one query: (kind, unit) -> (account id, balance); a wallet
        missing (a card issued before the wallet existed) is opened."""
        found = {(kind, unit): (account_id, int(value)) for kind, unit, account_id, value
                 in session.execute(_CARD_WALLETS, {"card": card_no})}
        for which in CARD_ACCOUNTS:
            if which not in found:
                found[which] = (self._card_account(session, card_no, which).id, 0)
        return found

    def _rules_now(self, session: Session) -> list[Any]:
        """The active discount rules, rebuilt only when the table changed (one small query)."""
        from plugins.wallet.cardtypes import active_rules

        version = tuple(session.execute(_RULES_VERSION).one())
        if self._rules[0] != version:
            self._rules = (version, active_rules(session))
        return self._rules[1]

    def _venue_account(self, session: Session, kind: str, unit: str = CNY) -> Account:
        return open_account(session, owner_type="venue", owner_id=self.venue_code, kind=kind, unit=unit,
                            floor=None, name=f"venue {self.venue_code} {kind}")

    @staticmethod
    def _chain_account(session: Session, kind: str, unit: str) -> Account:
        return open_account(session, owner_type="chain", owner_id="chain", kind=kind, unit=unit, floor=None,
                            name=f"chain {kind} {unit}")

    def _event(self, session: Session, actor: Actor, card: Card, action: str, *, amount: int = 0, unit: str = "",
               entry_id: uuid.UUID | None = None, device: str = "", offline: bool = False,
               at: dt.datetime | None = None, **details: Any) -> None:
        """The card's history row (where: venue, merchant, terminal, device) and its audit record.
        A movement's row also keeps what the card holds after it (``remaining``: main + gift in
        fen, or counts), for the customer's history."""
        if entry_id is not None and unit in (CNY, COUNT) and "remaining" not in details:
            after = balances_of(session, card.card_no)
            details["remaining"] = after["counts"] if unit == COUNT else after["main"] + after["gift"]
        elif details.get("remaining") is None:
            details.pop("remaining", None)
        now = self._clock()
        session.connection().execute(_INSERT_EVENT, {
            "id": uuid7(), "card_id": card.id, "at": at or now, "action": action, "actor": actor.username,
            "venue_code": self.venue_code, "merchant": self.settings.merchant, "terminal_code": self.terminal_code,
            "device": device, "offline": offline, "amount": amount, "unit": unit, "entry_id": entry_id,
            "details": json.dumps(details, sort_keys=True, ensure_ascii=False, default=str),
            "settlement_id": None, "venue_id": actor.venue_id, "terminal_id": actor.terminal_id,
            "created_at": now, "updated_at": now})
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
        """Refuse a card that may not move value here and now (translated reasons, each with a
        ``reason`` code). Where a card is accepted matters only for spending: a top-up is
        taken anywhere in the chain."""
        number = card.card_no
        if card.status == "lost":
            raise CardRefused(_("Card {card} is blacklisted (reported lost).").format(card=number),
                              card=number, reason="blacklisted")
        if card.status != "active":
            raise CardRefused(_("Card {card} is not active (status: {status}).").format(
                card=number, status=card.status), card=number, reason="not_active")
        if card.expires_on is not None and card.expires_on < self._today():
            raise CardRefused(_("Card {card} expired on {date}.").format(
                card=number, date=card.expires_on.isoformat()), card=number, reason="expired")
        if card_type.category in STAFF_CATEGORIES:
            raise CardRefused(_("Card {card} is a staff card ({category}): it carries no money.").format(
                card=number, category=card_type.category), card=number, reason="staff_card")
        if spending and not (card_type.accepted_at(self.venue_code, self.settings.merchant,
                                                   self.settings.terminal_group)
                             and self.settings.takes(card_type.code)):
            raise CardRefused(_("Card {card} is not accepted here (venue {venue}).").format(
                card=number, venue=self.venue_code), card=number, reason="not_accepted")

    @staticmethod
    def _replayed(session: Session, key: str) -> bool:
        return session.connection().execute(_ENTRY_BY_KEY, {"key": key}).first() is not None

    def _balances_now(self, card_no: str) -> dict[str, int]:
        with self._uow.read() as uow:
            return balances_of(uow.session, card_no)


def balances_of(session: Session, card_no: str) -> dict[str, int]:
    """Every wallet of a card: main, gift, points, counts, deposit."""
    rows = session.execute(select(Account.kind, Account.balance).where(
        Account.owner_type == "card", Account.owner_id == card_no)).all()
    found = {kind: int(value) for kind, value in rows}
    return {"main": found.get(MAIN[0], 0), "gift": found.get(GIFT[0], 0), "points": found.get(CARD_POINTS[0], 0),
            "counts": found.get(CARD_COUNTS[0], 0), "deposit": found.get(DEPOSIT[0], 0)}
