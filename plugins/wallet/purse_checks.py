"""The purse checks: what the chip should hold, the chip's record label, and how a tap is
judged against the server's records (a clone, a restored dump, a fork; whether every write is
accounted for). Pure functions and small queries; ``PurseService`` (plugins.wallet.purse) uses
them, as do the offline terminal and the upload."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from devices.cardformat import PurseState
from suite.errors import DatabaseUnavailable
from suite.i18n import _

from plugins.wallet.core import CardRefused
from plugins.wallet.models import Card, PurseRecord

SOURCES = ("issue", "online", "offline", "sync")
# records after which every earlier write is accounted for: the chip equalled the server
CHECKPOINTS = ("issue", "sync")
# why a card is blacklisted by the purse checks
DETECTIONS = ("clone", "rollback", "fork", "tampered", "shortfall")
LABEL_BYTES = 16
CARD_NUMBER_DIGITS = 16
READER_KIND = "pcsc-reader"
OFFLINE_MARK = "*"


# ---------------------------------------------------------------- small pieces


def purse_total(balances: Mapping[str, int], kind: str) -> int:
    """What the chip should hold: main + gift (fen) for a value card, the counts for a count card."""
    return int(balances["counts"]) if kind == "count" else int(balances["main"]) + int(balances["gift"])


def terminal_label(venue_code: str, terminal_code: str, *, offline: bool = False) -> str:
    """``VENUE/TERMINAL`` cut to the 16 bytes the chip's record keeps; a write made offline
    ends with ``*`` (an online write is always in the ledger before it reaches the chip)."""
    text = f"{venue_code}/{terminal_code}" if terminal_code else venue_code
    room = LABEL_BYTES - len(OFFLINE_MARK) if offline else LABEL_BYTES
    label = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return label + OFFLINE_MARK if offline else label


def written_online(state: PurseState) -> bool:
    """The chip's last write was made by an online terminal, after its ledger entry."""
    return state.counter > 0 and not state.last.terminal.endswith(OFFLINE_MARK)


def type_number(code: str) -> int:
    """The card type number written on the chip (informational: the server goes by the card
    number): a code of digits below 65536 is itself, any other code its CRC-32's low 16 bits."""
    if code.isdigit() and int(code) < 65536:
        return int(code)
    return zlib.crc32(code.encode("utf-8")) & 0xFFFF


def chip_uid(card: Any) -> str:
    """The UID of a reader's card (or any ``BlockCard``) in upper-case hex."""
    uid_hex = getattr(card, "uid_hex", None)
    return uid_hex if isinstance(uid_hex, str) else bytes(card.uid).hex().upper()


def state_dict(state: PurseState) -> dict[str, Any]:
    return {"card_no": state.card_number, "uid": state.uid_hex, "value": state.value, "counter": state.counter,
            "fingerprint": state.fingerprint, "expires": state.expires.isoformat(), "recovered": state.recovered,
            "last": {"terminal": state.last.terminal, "time": state.last.time.isoformat(),
                     "amount": state.last.amount}}


def database_down(exc: BaseException) -> bool:
    """True for the errors that mean "the database cannot be reached" (as the status bar's
    ``App.database_online`` sees it), not for a refused or conflicting statement."""
    if isinstance(exc, (DatabaseUnavailable, OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def clone_refusal(card_no: str, detected: str, **details: Any) -> CardRefused:
    """The operator's message for a card blacklisted by the purse checks (``reason="clone"``)."""
    if detected == "rollback":
        text = _("Card {card} shows an older state than the one already used: it is a restored copy.")
    elif detected == "fork":
        text = _("Card {card} has been copied: two cards spent from the same state.")
    elif detected == "tampered":
        text = _("Card {card} has been altered.")
    elif detected == "shortfall":
        text = _("Card {card} spent more offline than its balance.")
    else:
        text = _("Card {card} is a copy made on another chip.")
    message = text.format(card=card_no) + " " + _("It is blacklisted: keep the card and call a manager.")
    return CardRefused(message, card=card_no, reason="clone", detected=detected, **details)


@dataclass(frozen=True)
class TapCheck:
    """What the server concluded from a chip: the card, its purse total, and whether every
    write up to the chip's counter is accounted for (only then may the chip be synced)."""

    card_no: str
    kind: str
    total: int
    in_step: bool


# ---------------------------------------------------------------- record queries


def record_at(session: Session, card_id: uuid.UUID, counter: int) -> PurseRecord | None:
    return session.scalars(select(PurseRecord).where(PurseRecord.card_id == card_id,
                                                     PurseRecord.counter == counter)).one_or_none()


def in_step(session: Session, card_id: uuid.UUID, upto: int) -> bool:
    """Every counter from the last checkpoint (issue or sync record) up to ``upto`` is recorded."""
    checkpoint = session.scalar(select(func.max(PurseRecord.counter)).where(
        PurseRecord.card_id == card_id, PurseRecord.source.in_(CHECKPOINTS), PurseRecord.counter <= upto))
    if checkpoint is None:
        return False
    recorded = session.scalar(select(func.count()).select_from(PurseRecord).where(
        PurseRecord.card_id == card_id, PurseRecord.counter > checkpoint, PurseRecord.counter <= upto))
    return int(recorded or 0) == upto - checkpoint


def note_seen(card: Card, counter: int, fingerprint: str) -> None:
    """``Card.counter`` is the highest counter seen, ``purse_fingerprint`` that state's."""
    if counter > card.counter or not card.purse_fingerprint:
        card.counter = max(card.counter, counter)
        card.purse_fingerprint = fingerprint


def detect(session: Session, card: Card, *, uid: str, counter: int, fingerprint: str) -> tuple[str, dict[str, Any]] | None:
    """A clone, a restored dump or a fork, by the UID, the counter and the fingerprint."""
    if card.uid and card.uid != uid:
        return "clone", {"uid": uid, "registered_uid": card.uid, "counter": counter}
    known = record_at(session, card.id, counter)
    if known is not None and known.fingerprint != fingerprint:
        return "fork", {"uid": uid, "counter": counter, "fingerprint": fingerprint,
                        "known_fingerprint": known.fingerprint, "known_terminal": known.terminal_code}
    if counter < card.counter:
        return "rollback", {"uid": uid, "counter": counter, "known_counter": card.counter}
    if counter == card.counter and card.purse_fingerprint and card.purse_fingerprint != fingerprint:
        return "fork", {"uid": uid, "counter": counter, "fingerprint": fingerprint,
                        "known_fingerprint": card.purse_fingerprint}
    return None


__all__ = ["CARD_NUMBER_DIGITS", "CHECKPOINTS", "DETECTIONS", "LABEL_BYTES", "OFFLINE_MARK", "READER_KIND",
           "SOURCES", "TapCheck", "chip_uid", "clone_refusal", "database_down", "detect", "in_step", "note_seen",
           "purse_total", "record_at", "state_dict", "terminal_label", "type_number", "written_online"]
