"""Card wallet use cases: issue, top-up, consume, loss, replace, renew, refund, recycle, query
and history (card types and discount rules are in ``plugins.wallet.cardtypes``).

Every balance is a ledger account (``suite.ledger``); every movement is one balanced journal
entry posted with an idempotency key inside the same unit of work as the card's event row
and the audit record, so either all of an operation exists or none of it. Permissions are
checked with ``identity.require`` before the unit of work opens (docs/wallet.md).

Money is integer fen, counts and points are integers: never floats.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from contextlib import nullcontext
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.ledger import LineSpec, balance
from suite.ledger.models import Entry

from plugins.wallet.cardtypes import CardTypeAdmin
from plugins.wallet.core import (
    CARD_ACCOUNTS, CARD_COUNTS, CARD_POINTS, CNY, COUNT, DEPOSIT, GIFT, MAIN, POINTS, CardRefused,
    InsufficientBalance, _key, _text, _whole, _Within, balances_of,
)
from plugins.wallet.models import Card, CardEvent, CardType, codes
from plugins.wallet.pricing import CardTerms, Quote, SaleContext, SaleItem, price_sale

DEFAULT_CATEGORY = "general"


def yuan(fen: int) -> str:
    """Fen as yuan text for messages: 1234 -> "12.34" (no floats)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def card_terms(card_type: CardType, balances: dict[str, int], item_categories: Sequence[str]) -> CardTerms:
    """What the card's type allows and holds, for ``pricing.price_sale``. A type that names no
    gift categories or merchants lets the gift wallet pay for everything."""
    gift_categories, gift_merchants = codes(card_type.gift_categories), codes(card_type.gift_merchants)
    if not gift_categories and not gift_merchants:
        gift_categories = frozenset(item_categories)
    return CardTerms(tier_discount_bp=card_type.discount_bp, gift_allowed_categories=gift_categories,
                     gift_allowed_merchants=gift_merchants, points_rate=card_type.points_per_yuan,
                     main_balance=balances["main"], gift_balance=balances["gift"],
                     points_balance=balances["points"], pay_gift_first=card_type.pay_gift_first,
                     redeem_points_per_unit=card_type.redeem_points_per_unit,
                     redeem_fen_per_unit=card_type.redeem_fen_per_unit, redeem_cap_bp=card_type.redeem_cap_bp)


def sale_items(amount: int, items: Sequence[SaleItem | dict[str, Any]] | None, category: str) -> list[SaleItem]:
    """The sale's lines: ``items`` (``SaleItem`` or dicts of its fields), or one line of
    ``amount`` fen in ``category``."""
    if items:
        try:
            return [item if isinstance(item, SaleItem) else SaleItem(**item) for item in items]
        except (TypeError, ValueError) as exc:
            raise InvalidInput(_("A sale line is not valid: {detail}").format(detail=str(exc))) from exc
    if amount <= 0:
        raise InvalidInput(_("The amount must be more than 0."))
    return [SaleItem(sku=category, category=category, unit_price=amount)]


def wallet_balances(wallets: dict[tuple[str, str], tuple[Any, int]]) -> dict[str, int]:
    """``WalletCore._wallets`` as the balances the use cases return."""
    return {"main": wallets[MAIN][1], "gift": wallets[GIFT][1], "points": wallets[CARD_POINTS][1],
            "counts": wallets[CARD_COUNTS][1], "deposit": wallets[DEPOSIT][1]}


def quote_dict(quote: Quote) -> dict[str, Any]:
    return {"list_price": quote.list_total, "discount": quote.discount_total, "charged": quote.total,
            "paid_main": quote.paid_main, "paid_gift": quote.paid_gift, "paid_points": quote.paid_points,
            "points_redeemed": quote.points_redeemed, "points_earned": quote.points_earned,
            "lines": [{"sku": line.sku, "category": line.category, "quantity": line.quantity,
                       "list_price": line.list_price, "total": line.total,
                       "paid_main": line.paid_main, "paid_gift": line.paid_gift, "paid_points": line.paid_points,
                       "discounts": [dataclasses.asdict(d) for d in line.discounts]} for line in quote.lines]}


class WalletService(CardTypeAdmin):
    """The wallet's use cases on one database (see ``WalletCore`` for the arguments)."""

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
            uid = _text(uid, _("The card UID"), 64).upper()
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
            card.expires_on = self._today() + dt.timedelta(days=days)
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

    def consume(self, actor: Actor, *, card_no: str, key: str, amount: int = 0, counts: int = 0,
                items: Sequence[SaleItem | dict[str, Any]] | None = None, redeem_points: int = 0,
                category: str = DEFAULT_CATEGORY, device: str = "", within: Session | None = None,
                net: bool = False) -> dict[str, Any]:
        """Debit a card, one journal entry per key.

        Value cards: ``amount`` fen at list price in ``category`` (or ``items``: sale lines)
        goes through the discount engine (``pricing.price_sale``: per item, time slot and film
        grade, tier, in that order, at the venue's local time), then is paid by points (if
        ``redeem_points`` and the type allows), the gift wallet where it may pay and the main
        wallet, in the type's order; points are earned on what main paid. Count cards:
        ``counts``. Free cards pay nothing (the event is kept, no entry). ``within``: run inside
        the caller's open session (a ticket sale paid by card), which commits or rolls back.
        ``net``: the amount is already discounted (the box office priced it with the card's
        tier): no tier or rule discount here, only the paying order and points."""
        with self._movement(actor, "wallet.consume", card_no, key, amount, counts, spending=True,
                            within=within) as (uow, card, card_type, m):
            session, key = uow.session, m.key
            if m.replayed:
                result = self._replayed_result(session, card, key)
            elif card_type.kind == "count":
                if m.amount or items:
                    raise CardRefused(_("Card {card} holds counts, not money.").format(card=card_no))
                result = self._consume_counts(session, actor, card, key, m.counts, device)
            else:
                if m.counts:
                    raise CardRefused(_("Card {card} holds money, not counts.").format(card=card_no))
                lines = sale_items(m.amount, items, _text(category, _("The category"), 32))
                result = self._consume_money(session, actor, card, card_type, key, lines,
                                             _whole(redeem_points, _("The points to redeem")), device, net)
            uow.commit()
        if "balances" not in result:  # a replay: read what the card holds now
            result["balances"] = self._balances_now(card_no)
        return {"card_no": card_no, **result}

    def quote(self, actor: Actor, *, card_no: str, amount: int = 0,
              items: Sequence[SaleItem | dict[str, Any]] | None = None, redeem_points: int = 0,
              category: str = DEFAULT_CATEGORY) -> dict[str, Any]:
        """What a consume would charge and how it would be paid, without paying (the panel shows
        it before the operator confirms)."""
        self._begin(actor, "wallet.view")
        with self._uow.read() as uow:
            session = uow.session
            card = self._card(session, card_no)
            card_type = session.get_one(CardType, card.type_id)
            quote = self._price(session, card, card_type, sale_items(amount, items, category), redeem_points)
        return {"card_no": card_no, "ok": quote.ok, "shortfall": quote.shortfall, **quote_dict(quote)}

    def _price(self, session: Session, card: Card, card_type: CardType, items: list[SaleItem],
               redeem_points: int, balances: dict[str, int] | None = None, net: bool = False) -> Quote:
        terms = card_terms(card_type, balances or balances_of(session, card.card_no), [i.category for i in items])
        if net:
            terms = dataclasses.replace(terms, tier_discount_bp=0)
        context = SaleContext(at=self._local_now(), venue=self.venue_code, merchant=self.settings.merchant or None)
        rules = [] if net else self._rules_now(session)
        return price_sale(items, terms, context, rules, redeem_points=redeem_points)

    def _consume_money(self, session: Session, actor: Actor, card: Card, card_type: CardType, key: str,
                       items: list[SaleItem], redeem_points: int, device: str, net: bool = False) -> dict[str, Any]:
        wallets = self._wallets(session, card.card_no)
        before = wallet_balances(wallets)
        quote = self._price(session, card, card_type, items, redeem_points, before, net)
        paid = quote_dict(quote)
        if card_type.category == "free":  # a free card pays nothing: the event is kept, no entry
            free = {**paid, "charged": 0, "paid_main": 0, "paid_gift": 0, "paid_points": 0, "points_redeemed": 0,
                    "points_earned": 0}
            self._event(session, actor, card, "consume", amount=0, unit=CNY, device=device, free=True, key=key,
                        **{k: v for k, v in free.items() if k != "lines"})
            return {"entry_id": None, "replayed": False, "counts": 0, **free, "balances": before}
        if not quote.ok:
            raise InsufficientBalance(_("Insufficient balance on card {card}: {short} short.").format(
                card=card.card_no, short=yuan(quote.shortfall)), card=card.card_no, shortfall=quote.shortfall)
        if quote.total <= 0:
            raise InvalidInput(_("Nothing to pay after the discount."))
        lines: list[LineSpec] = []

        def move(source: Any, target: Any, value: int) -> None:
            if value:
                lines.extend((LineSpec(source, -value), LineSpec(target, value)))

        move(wallets[MAIN][0], self._venue_id(session, "revenue"), quote.paid_main)
        move(wallets[GIFT][0], self._venue_id(session, "revenue.gift"), quote.paid_gift)
        move(self._chain_id(session, "promotions", CNY), self._venue_id(session, "revenue.points"), quote.paid_points)
        net_points = quote.points_earned - quote.points_redeemed
        if net_points > 0:
            move(self._chain_id(session, "points.issued", POINTS), wallets[CARD_POINTS][0], net_points)
        else:
            move(wallets[CARD_POINTS][0], self._chain_id(session, "points.redeemed", POINTS), -net_points)
        result = self._post(session, actor, card, key=key, kind="wallet.consume", lines=lines)
        after = {**before, "main": before["main"] - quote.paid_main, "gift": before["gift"] - quote.paid_gift,
                 "points": before["points"] + net_points}
        self._event(session, actor, card, "consume", amount=-(quote.paid_main + quote.paid_gift), unit=CNY,
                    entry_id=result.entry_id, device=device, remaining=after["main"] + after["gift"], **paid)
        return {"entry_id": str(result.entry_id), "replayed": False, "counts": 0, **paid, "balances": after}

    def _consume_counts(self, session: Session, actor: Actor, card: Card, key: str, counts: int,
                        device: str) -> dict[str, Any]:
        if counts <= 0:
            raise InvalidInput(_("The count must be more than 0."))
        wallets = self._wallets(session, card.card_no)
        before = wallet_balances(wallets)
        lines = [LineSpec(wallets[CARD_COUNTS][0], -counts), LineSpec(self._venue_id(session, "counts.used", COUNT),
                                                                      counts)]
        result = self._post(session, actor, card, key=key, kind="wallet.consume", lines=lines)
        after = {**before, "counts": before["counts"] - counts}
        self._event(session, actor, card, "consume", amount=-counts, unit=COUNT, entry_id=result.entry_id,
                    device=device, counts=counts, remaining=after["counts"])
        return {"entry_id": str(result.entry_id), "replayed": False, "counts": counts, "list_price": 0,
                "discount": 0, "charged": 0, "paid_main": 0, "paid_gift": 0, "paid_points": 0,
                "points_redeemed": 0, "points_earned": 0, "lines": [], "balances": after}

    def credit_back(self, actor: Actor, *, card_no: str, key: str, amount: int, reason: str = "",
                    within: Session | None = None) -> dict[str, Any]:
        """Pay money back onto a card's main wallet (a refunded sale that the card paid): one
        entry from the venue's revenue; the card may be blocked or expired (it is its money)."""
        self._begin(actor, "wallet.consume")
        key, amount = _key(key), _whole(amount, _("The amount"), minimum=1)
        reason = _text(reason, _("The reason"), 500, required=False)
        with nullcontext(_Within(within)) if within is not None else self._uow() as uow:
            session = uow.session
            card = self._card(session, card_no, lock=True)
            wallets = self._wallets(session, card_no)
            lines = [LineSpec(self._venue_id(session, "revenue"), -amount), LineSpec(wallets[MAIN][0], amount)]
            result = self._post(session, actor, card, key=key, kind="wallet.credit", lines=lines)
            if not result.replayed:
                self._event(session, actor, card, "credit", amount=amount, unit=CNY, entry_id=result.entry_id,
                            remaining=wallets[MAIN][1] + wallets[GIFT][1] + amount, reason=reason)
            uow.commit()
        return {"card_no": card_no, "entry_id": str(result.entry_id), "replayed": result.replayed, "amount": amount}

    def _replayed_result(self, session: Session, card: Card, key: str) -> dict[str, Any]:
        """The first result of a consume already posted under ``key`` (nothing is posted again)."""
        entry_id = session.scalar(select(Entry.id).where(Entry.idempotency_key == key))
        event = session.scalars(select(CardEvent).where(CardEvent.entry_id == entry_id)).first()
        if event is None or event.card_id != card.id or event.action != "consume":
            raise Conflict(_("The idempotency key {key} was used for another operation.").format(key=key), key=key)
        details = json.loads(event.details or "{}")
        return {"entry_id": str(entry_id), "replayed": True, "counts": details.get("counts", 0),
                **{k: details.get(k, 0) for k in ("list_price", "discount", "charged", "paid_main", "paid_gift",
                                                  "paid_points", "points_redeemed", "points_earned")},
                "lines": details.get("lines", [])}

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
            new_uid = _text(new_uid, _("The card UID"), 64).upper()
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

    def query(self, actor: Actor, card_no: str, *, _checked: bool = False) -> dict[str, Any]:
        """Number, holder, type, status, validity and every balance of a card."""
        if not _checked:
            self._begin(actor, "wallet.view")
        with self._uow.read() as uow:
            return self._card_dict(uow.session, self._card(uow.session, card_no))

    def find_card(self, actor: Actor, *, uid: str) -> dict[str, Any]:
        """``query`` for the card whose chip has this UID (hex, any case): a card on the reader."""
        self._begin(actor, "wallet.view")
        uid = _text(uid, _("The card UID"), 64).upper()
        with self._uow.read() as uow:
            card = uow.session.scalars(select(Card).where(Card.uid == uid)).one_or_none()
            if card is None:
                raise NotFound(_("No card is issued with the chip {uid}.").format(uid=uid), uid=uid)
            return self._card_dict(uow.session, card)

    def _card_dict(self, session: Session, card: Card) -> dict[str, Any]:
        card_type = session.get_one(CardType, card.type_id)
        status = card.status
        if status == "active" and card.expires_on is not None and card.expires_on < self._today():
            status = "expired"
        return {"card_no": card.card_no, "uid": card.uid, "type": card_type.code, "type_name": card_type.name,
                "kind": card_type.kind, "category": card_type.category, "status": status,
                "holder_name": card.holder_name, "holder_phone": card.holder_phone,
                "issued_at": card.issued_at.isoformat() if card.issued_at else None,
                "expires_on": card.expires_on.isoformat() if card.expires_on else None,
                "discount_bp": card_type.discount_bp, "offline_cap": card_type.offline_cap,
                "counter": card.counter, "balances": balances_of(session, card.card_no)}

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



__all__ = ["CardRefused", "InsufficientBalance", "WalletService", "card_terms", "quote_dict", "sale_items"]
