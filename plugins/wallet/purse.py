"""The purse on the chip and the account on the server, together (W6, H7).

The chip (``devices.cardformat``) mirrors the card's spendable money: main + gift in fen for a
value card, the counts for a count card. Online the server is the authority: an operation
with the card on the reader first commits its ledger entry, then writes the purse to the new
total (counter + 1) and records that state (``PurseRecord``). A tap compares the chip with the
server, catches clones, restored dumps and forks by the purse counter and fingerprint, and
writes the difference when the server has accounted for every write the chip has seen.

    purse = PurseService.from_app(app)                 # or PurseService(uow, identity, card_format=...)
    purse.init_card(actor, reader_card, card_no="8800000001", type_code="GOLD")
    purse.consume_on_reader(actor, reader_card, key=key, amount=3000)
    purse.sync_on_tap(actor, reader_card)
    purse.rebuild_from_card(actor, "8800000001", purse.card_format.read(reader_card))

The rules (when a chip is "in step", what is a clone, what the rebuild posts) are in
docs/wallet-purse.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from devices.cardformat import (
    AlreadyIssued, CardFormat, CardRemoved, ForeignCard, PurseState, StaleCardState, TamperedCard,
)
from suite.audit.log import record
from suite.errors import Conflict, DatabaseUnavailable, InvalidInput, NotFound, SuiteError
from suite.i18n import _
from suite.identity.actor import Actor
from suite.ledger import LineSpec

from plugins.wallet.core import (
    CARD_COUNTS, CNY, COUNT, GIFT, MAIN, CardRefused, InsufficientBalance, _key, _text, balances_of,
)
from plugins.wallet.models import Card, CardType, PurseRecord
from plugins.wallet.pricing import SaleItem
from plugins.wallet.purse_checks import (
    CARD_NUMBER_DIGITS, CHECKPOINTS, DETECTIONS, SOURCES, TapCheck, chip_uid, clone_refusal, database_down, detect,
    in_step, note_seen, purse_total, record_at, state_dict, terminal_label, type_number, written_online,
)
from plugins.wallet.purse_reader import reader_card
from plugins.wallet.services import DEFAULT_CATEGORY, WalletService, yuan

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- the service


class PurseService(WalletService):
    """The wallet's use cases plus those that need the chip on a reader (see the module doc).

    ``card_format``: the chain's ``CardFormat`` (keys from the keyring); other arguments as
    ``WalletCore``."""

    def __init__(self, uow_factory: Any, identity: Any, *, card_format: CardFormat, **kwargs: Any) -> None:
        super().__init__(uow_factory, identity, **kwargs)
        self.card_format = card_format
        self.label = terminal_label(self.venue_code, self.terminal_code)

    @classmethod
    def from_app(cls, app: Any, **kwargs: Any) -> "PurseService":
        """``card_format``: the chain's card keys from the keyring unless given."""
        if "card_format" not in kwargs:
            kwargs["card_format"] = CardFormat.from_secrets(app.secrets)
        return super().from_app(app, **kwargs)

    # ------------------------------------------------------------ reading and checking

    def read_card(self, actor: Actor, card: Any) -> PurseState:
        """The chip's verified state. A chip that fails its check (``TamperedCard``) or opens
        with none of our keys (``ForeignCard``) is refused; if its UID belongs to a card of
        ours, that card is blacklisted. Either way a security record is written."""
        try:
            return self.card_format.read(card)
        except (TamperedCard, ForeignCard) as exc:
            self._unreadable(actor, chip_uid(card), exc)
            raise

    def _unreadable(self, actor: Actor, uid: str, exc: SuiteError) -> None:
        try:
            with self._uow() as uow:
                session = uow.session
                card = session.scalars(select(Card).where(Card.uid == uid).with_for_update()).one_or_none()
                if card is not None:
                    self._blacklist(session, actor, card, "tampered", {"uid": uid, "error": exc.code})
                else:
                    record(session, kind="security", action="wallet.foreign_chip", actor=actor.username, target=uid,
                           details={"uid": uid, "error": exc.code, "terminal": self.terminal_code},
                           venue_id=actor.venue_id, terminal_id=actor.terminal_id)
                uow.commit()
        except (SQLAlchemyError, DatabaseUnavailable):  # the refusal matters more than its record
            log.exception("could not record the unreadable chip %s", uid)

    def _blacklist(self, session: Session, actor: Actor, card: Card, detected: str, details: dict[str, Any]) -> None:
        """Status ``lost``, a ``block`` event with the reason, and a security record."""
        if card.status != "lost":
            card.status = "lost"
            self._event(session, actor, card, "block", reason=detected, **details)
        action = "wallet.offline_shortfall" if detected == "shortfall" else "wallet.clone_detected"
        record(session, kind="security", action=action, actor=actor.username, target=card.card_no,
               details={"reason": detected, "venue": self.venue_code, "terminal": self.terminal_code, **details},
               venue_id=actor.venue_id, terminal_id=actor.terminal_id)

    def _verify(self, actor: Actor, state: PurseState) -> TapCheck:
        """Check a chip against the server (clone, rollback, fork), note what was seen, and say
        whether the chip is in step. A detection is committed before the refusal is raised."""
        with self._uow() as uow:
            session = uow.session
            card = self._chip_card(session, state.card_number)
            if card.status == "lost":
                raise CardRefused(_("Card {card} is blacklisted (reported lost).").format(card=card.card_no),
                                  card=card.card_no, reason="blacklisted")
            uid = state.uid_hex
            other = None
            if card.uid is None:  # first time this card is seen on a chip: bind the chip's UID
                other = session.scalar(select(Card.card_no).where(Card.uid == uid, Card.id != card.id))
                if other is None:
                    card.uid = uid
            detected = detect(session, card, uid=uid, counter=state.counter, fingerprint=state.fingerprint)
            if detected is None and other is not None:  # the chip is registered to another card
                detected = ("clone", {"uid": uid, "registered_to": other})
            if detected is not None:
                reason, details = detected
                self._blacklist(session, actor, card, reason, details)
                recorded = self._commit_quietly(uow)
                raise clone_refusal(card.card_no, reason, recorded=recorded)
            card_type = session.get_one(CardType, card.type_id)
            total = purse_total(balances_of(session, card.card_no), card_type.kind)
            known = record_at(session, card.id, state.counter)
            has_records = session.scalar(select(PurseRecord.id).where(PurseRecord.card_id == card.id).limit(1))
            if has_records is None or (known is None and (state.value == total or written_online(state))
                                       and in_step(session, card.id, state.counter - 1)):
                # first sight of this chip, or one write the server has no record of while every
                # earlier one is accounted for, made online (its entry was committed first) or
                # leaving the chip equal to the server: from here on the chip is accounted for
                self._add_record(session, actor, card, state, source="sync", amount=0)
                synced = True
            else:
                synced = known is not None and in_step(session, card.id, state.counter)
            note_seen(card, state.counter, state.fingerprint)
            uow.commit()
            return TapCheck(card.card_no, card_type.kind, total, synced)

    @staticmethod
    def _commit_quietly(uow: Any) -> bool:
        try:
            uow.commit()
        except (SQLAlchemyError, DatabaseUnavailable):
            log.exception("could not record a purse detection")
            return False
        return True

    @staticmethod
    def _chip_card(session: Session, card_no: str) -> Card:
        card = session.scalars(select(Card).where(Card.card_no == card_no).with_for_update()).one_or_none()
        if card is None:
            raise NotFound(_("The card on the reader ({card}) is not registered in this database.").format(
                card=card_no), card=card_no)
        return card

    def _add_record(self, session: Session, actor: Actor, card: Card, state: PurseState, *, source: str,
                    amount: int, entry_id: uuid.UUID | None = None) -> PurseRecord:
        row = PurseRecord(card_id=card.id, counter=state.counter, fingerprint=state.fingerprint,
                          value_after=state.value, amount=amount, terminal_code=self.label, at=self._clock(),
                          source=source, entry_id=entry_id, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
        session.add(row)
        session.flush()
        return row

    # ------------------------------------------------------------ writing the chip

    def _write(self, card: Any, state: PurseState, new_value: int) -> tuple[PurseState | None, str]:
        """Write the purse; ``(None, notice)`` when the card left or changed under us (the next
        tap settles it)."""
        try:
            written = self.card_format.write(card, new_value=new_value, amount=new_value - state.value,
                                             terminal=self.label, time=self._clock())
        except CardRemoved:
            return None, _("The card left the reader before its purse was updated: the operation stands; "
                           "tap the card again to update it.")
        except StaleCardState:
            return None, _("The card changed while it was being updated: tap it again.")
        return written, ""

    def _after_write(self, actor: Actor, card_no: str, written: PurseState, *, source: str, amount: int,
                     entry_id: uuid.UUID | None) -> bool:
        """Record the state just written. A database that went away is not an error here: the
        chip holds the state and the next tap accounts for it."""
        try:
            with self._uow() as uow:
                session = uow.session
                card = self._chip_card(session, card_no)
                known = record_at(session, card.id, written.counter)
                if known is not None and known.fingerprint != written.fingerprint:
                    reason, details = "fork", {"counter": written.counter, "fingerprint": written.fingerprint,
                                               "known_fingerprint": known.fingerprint}
                    self._blacklist(session, actor, card, reason, details)
                    uow.commit()
                    raise clone_refusal(card_no, reason)
                if known is None:
                    self._add_record(session, actor, card, written, source=source, amount=amount, entry_id=entry_id)
                note_seen(card, written.counter, written.fingerprint)
                uow.commit()
        except (SQLAlchemyError, DatabaseUnavailable):
            log.exception("could not record the purse state of card %s", card_no)
            return False
        return True

    def _purse_result(self, state: PurseState, written: PurseState | None, *, in_step_: bool, notice: str = "",
                      recorded: bool = True) -> dict[str, Any]:
        final = written or state
        return {**state_dict(final), "written": written is not None, "in_step": in_step_,
                "change": (written.value - state.value) if written else 0, "recorded": recorded,
                "notice": notice or state.notice()}

    # ------------------------------------------------------------ use cases

    def sync_on_tap(self, actor: Actor, card: Any) -> dict[str, Any]:
        """A card presented: check it, and when the server has accounted for every write on it,
        write the difference between the chip and the server's total (source ``sync``)."""
        self._begin(actor, "wallet.view")
        state = self.read_card(actor, card)
        check = self._verify(actor, state)
        written, notice, recorded = None, "", True
        if check.in_step and state.value != check.total:
            written, notice = self._write(card, state, check.total)
            if written is not None:
                recorded = self._after_write(actor, check.card_no, written, source="sync",
                                             amount=written.value - state.value, entry_id=None)
        elif not check.in_step:
            notice = _("Card {card} carries payments this server has not received yet (offline terminals): "
                       "its purse is updated once they are uploaded.").format(card=check.card_no)
        result = self.query(actor, check.card_no, _checked=True)
        result["purse"] = self._purse_result(state, written, in_step_=check.in_step, notice=notice, recorded=recorded)
        return result

    def consume_on_reader(self, actor: Actor, card: Any, *, key: str, amount: int = 0, counts: int = 0,
                          items: Sequence[SaleItem | dict[str, Any]] | None = None, redeem_points: int = 0,
                          category: str = DEFAULT_CATEGORY, device: str = "") -> dict[str, Any]:
        """``consume`` with the card on the reader: the entry first, then the purse written to the
        server's new total (or, on a chip with payments still in offline spools, moved by this
        payment alone)."""
        self._begin(actor, "wallet.consume")
        key = _key(key)
        state = self.read_card(actor, card)
        check = self._verify(actor, state)
        if not check.in_step:
            self._chip_covers(actor, check, state, amount=amount, counts=counts, items=items,
                              redeem_points=redeem_points, category=category)
        result = self.consume(actor, card_no=check.card_no, key=key, amount=amount, counts=counts, items=items,
                              redeem_points=redeem_points, category=category, device=device)
        change = -result["counts"] if check.kind == "count" else -(result["paid_main"] + result["paid_gift"])
        result["purse"] = self._write_after(actor, card, state, check, result, change)
        return result

    def top_up_on_reader(self, actor: Actor, card: Any, *, key: str, amount: int = 0,
                         counts: int = 0) -> dict[str, Any]:
        """``top_up`` with the card on the reader, then the purse written like a consume."""
        self._begin(actor, "wallet.topup")
        key = _key(key)
        state = self.read_card(actor, card)
        check = self._verify(actor, state)
        result = self.top_up(actor, card_no=check.card_no, key=key, amount=amount, counts=counts)
        change = result["counts"] if check.kind == "count" else result["amount"] + result["bonus"]
        result["purse"] = self._write_after(actor, card, state, check, result, change)
        return result

    def _chip_covers(self, actor: Actor, check: TapCheck, state: PurseState, *, amount: int, counts: int,
                     items: Any, redeem_points: int, category: str) -> None:
        """A chip with payments not yet uploaded holds less than the server: it must cover this one."""
        if check.kind == "count":
            needed = counts
        else:
            quote = self.quote(actor, card_no=check.card_no, amount=amount, items=items,
                               redeem_points=redeem_points, category=category)
            needed = quote["paid_main"] + quote["paid_gift"]
        if needed > state.value:
            shown = str if check.kind == "count" else yuan
            raise InsufficientBalance(_("Card {card} holds {value} on its chip after payments not yet uploaded; "
                                        "it cannot pay {needed}.").format(card=check.card_no, value=shown(state.value),
                                                                          needed=shown(needed)),
                                      card=check.card_no, shortfall=needed - state.value)

    def _write_after(self, actor: Actor, card: Any, state: PurseState, check: TapCheck, result: dict[str, Any],
                     change: int) -> dict[str, Any]:
        entry_id = uuid.UUID(result["entry_id"]) if result.get("entry_id") else None
        if check.in_step:
            target = purse_total(result["balances"], check.kind)
        else:
            if result.get("replayed") and self._already_written(check.card_no, entry_id, state, change, actor):
                return self._purse_result(state, None, in_step_=False)
            target = state.value + change
        if target == state.value:
            return self._purse_result(state, None, in_step_=check.in_step)
        if target < 0:
            return self._purse_result(state, None, in_step_=check.in_step, notice=_(
                "The chip cannot go below zero: tap the card again once offline payments are uploaded."))
        written, notice = self._write(card, state, target)
        recorded = True
        if written is not None:
            recorded = self._after_write(actor, check.card_no, written, source="online",
                                         amount=written.value - state.value, entry_id=entry_id)
        return self._purse_result(state, written, in_step_=check.in_step, notice=notice, recorded=recorded)

    def _already_written(self, card_no: str, entry_id: uuid.UUID | None, state: PurseState, change: int,
                         actor: Actor) -> bool:
        """A retried operation (same key) on a chip that is not in step: its purse write landed if
        a record points at the entry, or if the chip's last write is ours with this change (then
        it is recorded now)."""
        with self._uow() as uow:
            session = uow.session
            card = self._chip_card(session, card_no)
            if entry_id is not None and session.scalar(select(PurseRecord.id).where(
                    PurseRecord.card_id == card.id, PurseRecord.entry_id == entry_id)) is not None:
                return True
            if (state.last.terminal == self.label and state.last.amount == change
                    and record_at(session, card.id, state.counter) is None):
                self._add_record(session, actor, card, state, source="online", amount=change, entry_id=entry_id)
                note_seen(card, state.counter, state.fingerprint)
                uow.commit()
                return True
        return False

    # ------------------------------------------------------------ personalise (W3)

    def init_card(self, actor: Actor, card: Any, *, card_no: str, type_code: str, holder_name: str | None = None,
                  holder_phone: str = "", validity_days: int | None = None, key: str | None = None) -> dict[str, Any]:
        """Write the purse format on a blank chip and register the card as ``blank`` with the
        chip's UID; with ``holder_name`` the card is also issued (``issue``). Running it again
        on the same chip and number completes an interrupted personalisation."""
        self._begin(actor, "wallet.issue")
        card_no = _text(card_no, _("The card number"), CARD_NUMBER_DIGITS)
        if not card_no.isdigit():
            raise InvalidInput(_("A card number written on a chip is 1 to 16 digits; got {card}.").format(
                card=card_no), card=card_no)
        uid = chip_uid(card)
        with self._uow() as uow:
            session = uow.session
            card_type = self._type(session, type_code)
            holder = session.scalars(select(Card).where(Card.uid == uid)).one_or_none()
            if holder is not None and holder.card_no != card_no:
                raise Conflict(_("The chip {uid} is already registered as card {card}.").format(
                    uid=uid, card=holder.card_no), uid=uid, card=holder.card_no)
            row = session.scalars(select(Card).where(Card.card_no == card_no).with_for_update()).one_or_none()
            if row is not None and row.uid not in (None, uid):
                raise Conflict(_("Card {card} is registered with another chip ({uid}).").format(
                    card=card_no, uid=row.uid), card=card_no)
            if row is None:
                row = Card(card_no=card_no, type_id=card_type.id, status="blank", venue_id=actor.venue_id,
                           terminal_id=actor.terminal_id)
                session.add(row)
            if row.status in ("blank", "recycled"):
                row.type_id = card_type.id
            row.uid = uid
            session.flush()
            kind = session.get_one(CardType, row.type_id).kind
            initial = purse_total(balances_of(session, card_no), kind)
            expires = row.expires_on or self._today() + dt.timedelta(days=card_type.validity_days)
            uow.commit()
        try:
            state = self.card_format.personalise(card, card_number=card_no, card_type=type_number(card_type.code),
                                                 expires=expires, initial_value=initial, terminal=self.label,
                                                 time=self._clock())
        except AlreadyIssued:
            state = self.card_format.read(card)
            if state.card_number != card_no:
                raise Conflict(_("This chip already holds card {other}.").format(other=state.card_number),
                               card=state.card_number) from None
        with self._uow() as uow:
            session = uow.session
            row = self._chip_card(session, card_no)
            if record_at(session, row.id, state.counter) is None:
                self._add_record(session, actor, row, state, source="issue", amount=state.value)
                note_seen(row, state.counter, state.fingerprint)
                self._event(session, actor, row, "init", uid=uid, counter=state.counter, value=state.value,
                            expires=state.expires.isoformat())
            uow.commit()
        if holder_name is not None:
            self.issue(actor, card_no=card_no, type_code=type_code, key=key or uuid.uuid4().hex, uid=uid,
                       holder_name=holder_name, holder_phone=holder_phone, validity_days=validity_days)
        result = self.query(actor, card_no, _checked=True)
        result["purse"] = self._purse_result(state, None, in_step_=True)
        return result

    # ------------------------------------------------------------ rebuild from the card (H7)

    def rebuild_from_card(self, actor: Actor, card_no: str, purse_state: PurseState, *,
                          key: str | None = None) -> dict[str, Any]:
        """A card whose server state was lost (a database restored from an older backup): when
        the chip's verified counter is higher than the server's, one ``wallet.rebuild`` entry
        brings the card's wallets to the purse value (gift kept, main takes the difference; a
        count card's counts), against the chain's ``recovery`` account. Needs ``wallet.recover``."""
        self._begin(actor, "wallet.recover")
        if purse_state.card_number != card_no:
            raise InvalidInput(_("The chip holds card {other}, not {card}.").format(
                other=purse_state.card_number, card=card_no), card=card_no)
        key = _key(key or f"wallet.rebuild:{card_no}:{purse_state.counter}:{purse_state.fingerprint[:16]}")
        with self._uow() as uow:
            session = uow.session
            card = self._chip_card(session, card_no)
            if card.uid and card.uid != purse_state.uid_hex:
                raise CardRefused(_("The chip {uid} is not card {card}'s chip.").format(
                    uid=purse_state.uid_hex, card=card_no), card=card_no, reason="clone")
            if self._replayed(session, key):
                raise Conflict(_("Card {card} was already rebuilt from this chip state.").format(card=card_no),
                               card=card_no)
            if purse_state.counter <= card.counter:
                raise Conflict(_("The server already knows counter {known} of card {card}; the chip shows {counter}: "
                                 "nothing to rebuild.").format(known=card.counter, card=card_no,
                                                               counter=purse_state.counter), card=card_no)
            kind = session.get_one(CardType, card.type_id).kind
            before = balances_of(session, card_no)
            known_counter = card.counter
            lines: list[LineSpec] = []
            moves: dict[str, int] = {}

            def move(which: tuple[str, str], delta: int) -> None:
                if delta:
                    kind_, unit = which
                    lines.extend((LineSpec(self._card_account(session, card_no, which).id, delta),
                                  LineSpec(self._chain_account(session, "recovery", unit).id, -delta)))
                    moves[kind_] = delta

            value = purse_state.value
            if kind == "count":
                move(CARD_COUNTS, value - before["counts"])
            else:
                gift = min(before["gift"], value)
                move(GIFT, gift - before["gift"])
                move(MAIN, value - gift - before["main"])
            entry_id = None
            if lines:
                entry_id = self._post(session, actor, card, key=key, kind="wallet.rebuild", lines=lines).entry_id
            self._add_record(session, actor, card, purse_state, source="sync",
                             amount=value - purse_total(before, kind), entry_id=entry_id)
            note_seen(card, purse_state.counter, purse_state.fingerprint)
            self._event(session, actor, card, "rebuild", amount=value - purse_total(before, kind),
                        unit=COUNT if kind == "count" else CNY, entry_id=entry_id, counter=purse_state.counter,
                        known_counter=known_counter, moved=moves, purse_value=value, uid=purse_state.uid_hex)
            uow.commit()
        result = self.query(actor, card_no, _checked=True)
        result.update({"rebuilt": moves, "entry_id": str(entry_id) if entry_id else None,
                       "purse": state_dict(purse_state)})
        return result


__all__ = ["CHECKPOINTS", "DETECTIONS", "PurseService", "SOURCES", "TapCheck", "chip_uid", "clone_refusal",
           "database_down", "detect", "in_step", "note_seen", "written_online", "purse_total", "reader_card", "record_at", "state_dict",
           "terminal_label", "type_number"]
