"""The box office's ledger accounts (docs/tickets-partners.md): the venue's and the chain's
(``cash``, ``tickets.revenue``, ``vouchers``, ``promotions``; no floor), a distributor's prepaid
account (floor 0: the database refuses any movement that would take it below zero), a
redemption partner's account (no floor), the kinds of the entries that move partners' money,
and paying a partner's order back at the counter. Amounts are fen; ``yuan`` writes them as
messages show them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.identity.actor import Actor
from suite.ledger import LineSpec, open_account, post

from plugins.tickets.models import Distributor, Order, Payment, RedemptionCode

CNY = "CNY"
OWNER_TYPE = "distributor"
PREPAID = "prepaid"
KIND_TOPUP = "tickets.distributor.topup"
KIND_SALE = "tickets.distributor.sale"
KIND_REBATE = "tickets.distributor.rebate"
KIND_REFUND = "tickets.distributor.refund"
KIND_REDEMPTION_REFUND = "tickets.redemption.refund"
PARTNER_OWNER = "partner"      # a redemption partner's account: what it owes the venue
PARTNER_KIND = "redemption"


def yuan(fen: int) -> str:
    """``12345`` -> ``123.45`` (the plain figure messages show)."""
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def ledger_account(session: Session, owner_type: str, owner_id: str, kind: str) -> uuid.UUID:
    """The venue's or the chain's account ``kind`` in CNY (no floor), opened on first use."""
    return open_account(session, owner_type=owner_type, owner_id=owner_id, kind=kind, unit=CNY, floor=None,
                        name=f"{owner_type} {owner_id} {kind}").id


def prepaid_account(session: Session, distributor: Distributor) -> uuid.UUID:
    """The distributor's prepaid account (floor 0), opened on first use."""
    return open_account(session, owner_type=OWNER_TYPE, owner_id=distributor.code, kind=PREPAID, unit=CNY,
                        floor=0, name=f"distributor {distributor.code} prepaid").id


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
        account = prepaid_account(session, dist)
        kind = KIND_REFUND
    else:
        code = session.scalars(select(RedemptionCode).where(RedemptionCode.order_id == order.id)).first()
        owner = (code.partner if code is not None else "") or "venue"
        account = partner_account(session, owner)
        kind = KIND_REDEMPTION_REFUND
    revenue = ledger_account(session, "venue", order.venue_code, "tickets.revenue")
    entry = post(session, idempotency_key=f"{key}:{method}", kind=kind, memo=order.number,
                 lines=[LineSpec(revenue, -share), LineSpec(account, share)], actor=actor.username,
                 venue_id=actor.venue_id, terminal_id=actor.terminal_id)
    session.add(Payment(order_id=order.id, method=method, amount=-share, reference=reference, entry_id=entry.entry_id,
                        shift_id=shift_id, venue_id=actor.venue_id, terminal_id=actor.terminal_id))
    return share


__all__ = ["CNY", "KIND_REBATE", "KIND_REDEMPTION_REFUND", "KIND_REFUND", "KIND_SALE", "KIND_TOPUP", "OWNER_TYPE",
           "PARTNER_KIND", "PARTNER_OWNER", "PREPAID", "ledger_account", "partner_account", "pay_back_partner",
           "prepaid_account", "yuan"]
