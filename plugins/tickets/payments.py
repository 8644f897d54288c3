"""The money of an order at the counter (T5): the tenders that pay it, what a refund or a void
pays back and which way, and cash vouchers.

A cash tender is one ledger entry (the venue's cash drawer to ``tickets.revenue``); a card
tender is a wallet consume inside the same unit of work (``WalletService.consume(within=...)``);
a voucher tender uses a ``Voucher`` (its value leaves the chain's ``vouchers`` account). Money
paid back goes first to the distributor's or redemption partner's account the order was paid
from (``plugins.tickets.accounts.pay_back_partner``), then onto the cards that paid, then out of
the cash drawer.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text, whole
from suite.ledger import LineSpec, post

from plugins.tickets.accounts import ledger_account, pay_back_partner, yuan
from plugins.tickets.core import SaleRefused
from plugins.tickets.models import Order, Payment, Voucher
from plugins.tickets.quoting import SalePricing
from plugins.tickets.shifts import open_shift_id

TENDERS = ("cash", "wallet", "voucher")


def checked_tenders(payments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The order's payments checked: a known method, a card number or voucher code where one is
    needed, a whole amount of at least one fen."""
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


class OrderPayments(SalePricing):
    """Paying an order (cash, a member card, a voucher), paying it back, cash vouchers."""

    def _shift_id(self, session: Session, actor: Actor) -> uuid.UUID | None:
        """The cashier's open shift at this terminal (its payments count in the shift's close)."""
        return open_shift_id(session, actor.username, self.terminal_code)

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
                code=voucher.code, value=yuan(voucher.value)))
        voucher.state, voucher.order_id, voucher.used_at = "used", order.id, self.now()
        return post(session, idempotency_key=key, kind="tickets.voucher", memo=order.number,
                    lines=[LineSpec(self._account(session, "chain", "chain", "vouchers"), -voucher.value),
                           LineSpec(self._account(session, "venue", order.venue_code, "tickets.revenue"),
                                    voucher.value)],
                    actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id).entry_id

    @staticmethod
    def _account(session: Session, owner_type: str, owner_id: str, kind: str) -> uuid.UUID:
        return ledger_account(session, owner_type, owner_id, kind)

    def _pay_back(self, session: Session, actor: Actor, order: Order, amount: int, key: str) -> None:
        """``amount`` back by the order's own tenders: a distributor's or partner's account, cards,
        then cash (vouchers too)."""
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


__all__ = ["OrderPayments", "TENDERS", "checked_tenders"]
