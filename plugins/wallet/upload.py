"""Uploading what a wallet terminal did offline (W6): each queued consume once, by its
idempotency key, with forks and over-spends reported and blacklisted; then the clone alerts
(``drain``). The rules are in docs/wallet-purse.md.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.audit.log import record
from suite.errors import SuiteError
from suite.identity.actor import Actor
from suite.ledger import LineSpec
from suite.ledger.models import Entry

from plugins.wallet.core import CARD_COUNTS, CARD_POINTS, CNY, COUNT, GIFT, MAIN, POINTS, balances_of
from plugins.wallet.models import Card, CardEvent, CardType, PurseRecord
from plugins.wallet.pricing import SaleContext, SaleItem, price_sale
from plugins.wallet.purse import PurseService
from plugins.wallet.purse_checks import database_down, note_seen, record_at, terminal_label
from plugins.wallet.services import card_terms
from plugins.wallet.spool import OfflineSpool, QueuedConsume


def _offline_actor(entry: QueuedConsume, actor: Actor) -> Actor:
    """The operator who took the payment, for the event and the ledger (no permissions)."""
    return Actor(user_id=None, username=entry.operator or actor.username, display_name=entry.operator,
                 permissions=frozenset(), venue_id=actor.venue_id, terminal_id=actor.terminal_id)


def _offline_replayed(session: Session, card: Card, key: str) -> tuple[bool, uuid.UUID | None]:
    entry_id = session.scalar(select(Entry.id).where(Entry.idempotency_key == key))
    if entry_id is not None:
        return True, entry_id
    event = session.scalar(select(CardEvent.id).where(
        CardEvent.card_id == card.id, CardEvent.offline.is_(True),
        CardEvent.details.contains(json.dumps({"key": key}, ensure_ascii=False)[1:-1], autoescape=True)))
    return event is not None, None


def upload_entry(service: PurseService, actor: Actor, entry: QueuedConsume) -> dict[str, Any]:
    """Post one queued consume (idempotent by its key: a replay changes nothing). Returns what
    happened: ``posted``/``replayed``, ``covered`` and ``shortfall``, and ``conflict`` (a fork)."""
    outcome: dict[str, Any] = {"key": entry.key, "card_no": entry.card_no, "counter": entry.counter_after,
                               "charged": entry.charged, "replayed": False, "conflict": None, "shortfall": 0}
    with service._uow() as uow:
        session = uow.session
        card = service._card(session, entry.card_no, lock=True)
        card_type = session.get_one(CardType, card.type_id)
        replayed, entry_id = _offline_replayed(session, card, entry.key)
        if replayed:
            if record_at(session, card.id, entry.counter_after) is None:
                _record(service, session, actor, card, entry, entry_id)
                uow.commit()
            outcome.update(replayed=True, covered=None)
            return outcome
        who = _offline_actor(entry, actor)
        known = record_at(session, card.id, entry.counter_after)
        if known is not None and known.fingerprint != entry.fingerprint_after:
            outcome["conflict"] = {"reason": "fork", "counter": entry.counter_after,
                                   "fingerprint": entry.fingerprint_after, "known_fingerprint": known.fingerprint,
                                   "known_terminal": known.terminal_code, "terminal": entry.terminal}
        balances = balances_of(session, card.card_no)
        if entry.kind == "count":
            covered = min(entry.charged, balances["counts"])
            lines = [LineSpec(service._card_account(session, card.card_no, CARD_COUNTS).id, -covered),
                     LineSpec(service._venue_account(session, "counts.used", COUNT).id, covered)] if covered else []
            paid: dict[str, Any] = {"counts": covered}
        else:
            covered, lines, paid = _money_lines(service, session, card, card_type, entry, balances)
        outcome["covered"] = covered
        outcome["shortfall"] = entry.charged - covered
        if lines:
            entry_id = service._post(session, who, card, key=entry.key, kind="wallet.consume", lines=lines).entry_id
        service._event(session, who, card, "consume", amount=-covered, unit=COUNT if entry.kind == "count" else CNY,
                       entry_id=entry_id, device=entry.device, offline=True, at=entry.at, key=entry.key,
                       list_price=entry.amount, charged=entry.charged, shortfall=outcome["shortfall"],
                       counter=entry.counter_after, offline_terminal=entry.terminal, **paid)
        if known is None:
            _record(service, session, actor, card, entry, entry_id)
        elif outcome["conflict"] is None and known.entry_id is None:
            known.entry_id = entry_id
        note_seen(card, entry.counter_after, entry.fingerprint_after)
        if outcome["conflict"] is not None:
            details = {k: v for k, v in outcome["conflict"].items() if k != "reason"}
            service._blacklist(session, actor, card, "fork", {"uid": entry.uid, "key": entry.key, **details})
        if outcome["shortfall"]:
            service._blacklist(session, actor, card, "shortfall", {
                "uid": entry.uid, "key": entry.key, "charged": entry.charged, "covered": covered,
                "uncovered": outcome["shortfall"], "counter": entry.counter_after, "offline_terminal": entry.terminal})
        uow.commit()
    outcome["entry_id"] = str(entry_id) if entry_id else None
    return outcome


def _record(service: PurseService, session: Session, actor: Actor, card: Card, entry: QueuedConsume,
            entry_id: uuid.UUID | None) -> None:
    session.add(PurseRecord(card_id=card.id, counter=entry.counter_after, fingerprint=entry.fingerprint_after,
                            value_after=entry.value_after, amount=entry.value_after - entry.value_before,
                            terminal_code=terminal_label(entry.venue, entry.terminal, offline=True), at=entry.at, source="offline",
                            entry_id=entry_id, venue_id=actor.venue_id, terminal_id=actor.terminal_id))
    session.flush()
    note_seen(card, entry.counter_after, entry.fingerprint_after)


def _money_lines(service: PurseService, session: Session, card: Card, card_type: CardType, entry: QueuedConsume,
                 balances: dict[str, int]) -> tuple[int, list[LineSpec], dict[str, Any]]:
    """The chip paid ``charged`` fen (the discount was taken offline): split it between the gift
    and main wallets by the card type's rules and balances, earn points on main; when the
    balances cannot cover it all, what they cover."""
    terms = dataclasses.replace(card_terms(card_type, balances, [entry.category]), tier_discount_bp=0)
    local = entry.at.astimezone(service.settings.zone).replace(tzinfo=None)
    context = SaleContext(at=local, venue=entry.venue, merchant=service.settings.merchant or None)

    def quote(total: int) -> Any:
        return price_sale([SaleItem(sku=entry.category, category=entry.category, unit_price=total)], terms, context)

    priced = quote(entry.charged)
    covered = entry.charged
    if not priced.ok:
        covered = entry.charged - priced.shortfall
        priced = quote(covered) if covered > 0 else None
    if priced is None:
        return 0, [], {"paid_main": 0, "paid_gift": 0, "points_earned": 0}
    lines: list[LineSpec] = []

    def move(source: Any, target: Any, value: int) -> None:
        if value:
            lines.extend((LineSpec(source.id, -value), LineSpec(target.id, value)))

    move(service._card_account(session, card.card_no, MAIN), service._venue_account(session, "revenue"),
         priced.paid_main)
    move(service._card_account(session, card.card_no, GIFT), service._venue_account(session, "revenue.gift"),
         priced.paid_gift)
    move(service._chain_account(session, "points.issued", POINTS), service._card_account(session, card.card_no,
                                                                                       CARD_POINTS),
         priced.points_earned)
    return covered, lines, {"paid_main": priced.paid_main, "paid_gift": priced.paid_gift,
                            "points_earned": priced.points_earned}


def upload_alert(service: PurseService, actor: Actor, alert: dict[str, Any]) -> dict[str, Any]:
    """A clone, rollback or fork caught offline: the card blacklisted and a security record."""
    with service._uow() as uow:
        session = uow.session
        card = session.scalars(select(Card).where(Card.card_no == alert["card_no"]).with_for_update()).one_or_none()
        details = {"uid": alert["uid"], "detected_at": alert["at"], "detected_by": alert["operator"], "offline": True,
                   **{k: v for k, v in alert["details"].items() if k not in ("amount", "unit", "at", "device")}}
        if card is not None:
            service._blacklist(session, actor, card, alert["reason"], details)
        else:
            record(session, kind="security", action="wallet.clone_detected", actor=actor.username,
                   target=alert["card_no"], details={"reason": alert["reason"], **details},
                   venue_id=actor.venue_id, terminal_id=actor.terminal_id)
        uow.commit()
    return {"card_no": alert["card_no"], "reason": alert["reason"]}


def drain(service: PurseService, spool: OfflineSpool, actor: Actor, *, refresh: bool = True) -> dict[str, Any]:
    """Upload the spool in order: each queued consume posted idempotently then taken off the
    queue (a crash in between replays harmlessly), the offline detections reported, the cache
    refreshed. Forks and over-spends are in ``conflicts``/``shortfalls`` (and the security
    log); an entry the server refuses stays queued and is listed in ``held``. A database that
    goes away stops the drain; what is left stays queued."""
    service._begin(actor, "wallet.consume")
    report: dict[str, Any] = {"posted": 0, "replayed": 0, "conflicts": [], "shortfalls": [], "alerts": [],
                              "held": [], "left": 0}
    for entry in spool.entries():
        try:
            outcome = upload_entry(service, actor, entry)
        except SuiteError as exc:
            if database_down(exc):
                raise
            report["held"].append({"key": entry.key, "card_no": entry.card_no, **exc.as_dict()})
            continue
        spool.dequeue(entry.key)
        report["replayed" if outcome["replayed"] else "posted"] += 1
        if outcome["conflict"] is not None:
            report["conflicts"].append({"key": entry.key, "card_no": entry.card_no, **outcome["conflict"]})
        if outcome["shortfall"]:
            report["shortfalls"].append({"key": entry.key, "card_no": entry.card_no, "charged": entry.charged,
                                         "covered": outcome["covered"], "uncovered": outcome["shortfall"]})
    for alert in spool.alerts():
        report["alerts"].append(upload_alert(service, actor, alert))
        spool.alert_reported(alert["seq"], alert["card_no"])
    if refresh:
        with service._uow.read() as uow:
            report["refreshed"] = spool.refresh(uow.session)
    report["left"] = spool.totals()["entries"]
    return report


# ---------------------------------------------------------------- the terminal


__all__ = ["drain", "upload_alert", "upload_entry"]
