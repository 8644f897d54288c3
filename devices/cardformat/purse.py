"""Issue, read and write the purse on a MIFARE Classic 1K (layout in ``layout``).

A write is two steps: (1) the new record goes into the slot that does *not* hold the current
state, with counter + 1, the value it expects and a MAC; (2) the value block is decremented
(key A) or incremented (key B). A read takes the valid record with the highest counter whose
value equals the value block. If the card left between (1) and (2), the newest record expects a
value the block does not hold, while the other record (counter - 1) does: that older record is
the card's state, ``recovered`` says so, and the next write overwrites the unfinished slot.
Anything else that does not add up is ``TamperedCard`` (docs/card-format.md has the table).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from suite.errors import InvalidInput
from suite.i18n import _
from suite.secrets import SecretStore

from devices.cardformat.access import (
    PURSE_SECTOR_ACCESS, SLOT_SECTOR_ACCESS, TRANSPORT_KEY, TRANSPORT_TRAILER, purse_trailer,
)
from devices.cardformat.card import BlockCard, ReaderBlockCard
from devices.cardformat.errors import (
    AlreadyIssued, BlankCard, CardFormatError, CounterExhausted, ForeignCard, OperationRefused, StaleCardState,
    TamperedCard, TornWriteRecovered,
)
from devices.cardformat.keys import KEY_SIZE, MAC_KEY_SECRET, MASTER_KEY_SECRET, SectorKeys, check_key, sector_keys
from devices.cardformat.layout import (
    EMPTY_RECORD, IDENTITY_BLOCK, MAX_COUNTER, MAX_VALUE, PURSE_SECTOR, SLOT_BLOCKS, SLOT_NAMES, SLOT_SECTORS,
    VALUE_BLOCK, Identity, Record, decode_identity, decode_record, decode_value_block, encode_identity,
    encode_record, encode_value_block, fingerprint, record_body, split_blocks, stored_time,
)
from devices.reader import Card

Step = Callable[[str], None]


@dataclass(frozen=True)
class LastTransaction:
    terminal: str
    time: dt.datetime
    amount: int


@dataclass(frozen=True)
class PurseState:
    """What the card says. ``counter`` and ``fingerprint`` are for the server: a counter that
    repeats with another fingerprint, or goes back, is a clone or a restored dump."""

    card_number: str
    card_type: int
    expires: dt.date
    value: int
    counter: int
    last: LastTransaction
    slot: str
    uid: bytes = b""
    fingerprint: str = ""
    recovered: bool = False

    @property
    def uid_hex(self) -> str:
        return self.uid.hex().upper()

    def notice(self) -> str:
        """A message for the operator when the read recovered from an unfinished write."""
        return TornWriteRecovered(self).message if self.recovered else ""


@dataclass(frozen=True)
class _Snapshot:
    state: PurseState
    identity_block: bytes
    value_block_ok: bool


class _Session:
    """Authenticates a sector only when the card is not already in it with that key."""

    def __init__(self, card: BlockCard, master_key: bytes) -> None:
        self.card = card
        self.uid = bytes(card.uid)
        self._master = master_key
        self._current: tuple[int, str] | None = None

    def keys(self, sector: int) -> SectorKeys:
        return sector_keys(self._master, self.uid, sector)

    def open(self, sector: int, key_type: str, key: bytes | None = None) -> bool:
        if key is None and self._current == (sector, key_type):
            return True
        self._current = None
        accepted = self.card.authenticate(sector * 4, key_type, key or self.keys(sector).key(key_type))
        if accepted and key is None:
            self._current = (sector, key_type)
        return accepted


def block_card(card: BlockCard | Card) -> BlockCard:
    """A reader's ``Card`` wrapped as a ``BlockCard``; anything else as it is."""
    return ReaderBlockCard(card) if isinstance(card, Card) else card


@contextmanager
def _refusal_means(error: type[CardFormatError]) -> Iterator[None]:
    """A refused operation on a sector our key opened: the access bits are not ours."""
    try:
        yield
    except OperationRefused as exc:
        raise error() from exc


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _nothing(step: str) -> None:
    return None


class CardFormat:
    """The purse format, holding the chain's card master key and MAC key (neither goes on a card)."""

    def __init__(self, master_key: bytes, mac_key: bytes) -> None:
        self._master = check_key(master_key, _("card master key"))
        self._mac = check_key(mac_key, _("card MAC key"))
        if self._master == self._mac:
            raise InvalidInput(_("The card master key and the card MAC key must differ."))

    @classmethod
    def from_secrets(cls, store: SecretStore) -> "CardFormat":
        """Keys from the keyring (``card-master-key``, ``card-mac-key``), created on first use."""
        return cls(store.get_or_create_key(MASTER_KEY_SECRET, KEY_SIZE),
                   store.get_or_create_key(MAC_KEY_SECRET, KEY_SIZE))

    # -- issuing -------------------------------------------------------------------------------

    def personalise(self, card: BlockCard | Card, *, card_number: str, card_type: int, expires: dt.date,
                    initial_value: int = 0, terminal: str = "", time: dt.datetime | None = None,
                    on_step: Step = _nothing) -> PurseState:
        """Turn a blank card (transport keys and access bits) into a purse. The purse sector is
        keyed last, so a card pulled half way still reads as blank and can be issued again."""
        identity_block = encode_identity(Identity(card_number, card_type, expires))
        if not 0 <= initial_value <= MAX_VALUE:
            raise InvalidInput(_("A purse value is from 0 to {max}; got {value}.").format(
                max=MAX_VALUE, value=initial_value))
        session = _Session(block_card(card), self._master)
        first = Record(0, initial_value, initial_value, stored_time(time or _now()), terminal)
        slot_a = encode_record(first, mac_key=self._mac, uid=session.uid, identity_block=identity_block, slot=0)
        plan = [
            (SLOT_SECTORS[0], split_blocks(slot_a), SLOT_SECTOR_ACCESS),
            (SLOT_SECTORS[1], split_blocks(EMPTY_RECORD), SLOT_SECTOR_ACCESS),
            (PURSE_SECTOR, [identity_block, encode_value_block(initial_value, VALUE_BLOCK), bytes(16)],
             PURSE_SECTOR_ACCESS),
        ]
        with _refusal_means(ForeignCard):
            if session.open(PURSE_SECTOR, "A"):
                raise AlreadyIssued()
            for sector, blocks, access in plan:
                keys = session.keys(sector)
                if not (session.open(sector, "A", TRANSPORT_KEY) or session.open(sector, "B")):
                    raise ForeignCard()
                for offset, data in enumerate(blocks):
                    session.card.write_block(sector * 4 + offset, data)
                session.card.write_block(sector * 4 + 3, purse_trailer(keys.key_a, access, keys.key_b))
                on_step(f"sector {sector}")
        return self.read(session.card)

    def erase(self, card: BlockCard | Card, *, on_step: Step = _nothing) -> None:
        """Put the purse sectors back to the transport configuration (a blank card)."""
        session = _Session(block_card(card), self._master)
        with _refusal_means(ForeignCard):
            for sector in (PURSE_SECTOR, *SLOT_SECTORS):
                if session.open(sector, "B"):
                    for offset in range(3):
                        session.card.write_block(sector * 4 + offset, bytes(16))
                    session.card.write_block(sector * 4 + 3, TRANSPORT_TRAILER)
                elif not session.open(sector, "A", TRANSPORT_KEY):
                    raise ForeignCard()
                on_step(f"sector {sector}")

    # -- reading -------------------------------------------------------------------------------

    def read(self, card: BlockCard | Card, *, strict: bool = False) -> PurseState:
        """The card's verified state. ``strict``: raise ``TornWriteRecovered`` (holding the state)
        instead of returning a state with ``recovered`` set."""
        with _refusal_means(TamperedCard):
            state = self._snapshot(_Session(block_card(card), self._master)).state
        if strict and state.recovered:
            raise TornWriteRecovered(state)
        return state

    def _snapshot(self, session: _Session) -> _Snapshot:
        card = session.card
        if not session.open(PURSE_SECTOR, "A"):
            raise BlankCard() if session.open(PURSE_SECTOR, "A", TRANSPORT_KEY) else ForeignCard()
        identity_block = card.read_block(IDENTITY_BLOCK)
        value_on_card = decode_value_block(card.read_block(VALUE_BLOCK), VALUE_BLOCK)
        identity = decode_identity(identity_block)
        if identity is None:
            raise TamperedCard()
        raw_slots = []
        for sector, blocks in zip(SLOT_SECTORS, SLOT_BLOCKS):
            self._open_or_tampered(session, sector, "A")
            raw_slots.append(b"".join(card.read_block(block) for block in blocks))
        return self._decide(session.uid, identity_block, identity, value_on_card, raw_slots)

    def _decide(self, uid: bytes, identity_block: bytes, identity: Identity, value_on_card: int | None,
                raw_slots: list[bytes]) -> _Snapshot:
        """Which record is the card's state (the table in docs/card-format.md)."""
        valid: list[tuple[Record, int]] = []
        damaged = False
        for index, raw in enumerate(raw_slots):
            if raw == EMPTY_RECORD:
                continue
            record = decode_record(raw, mac_key=self._mac, uid=uid, identity_block=identity_block, slot=index)
            if record is None:
                damaged = True
            else:
                valid.append((record, index))
        valid.sort(key=lambda pair: pair[0].counter, reverse=True)
        if not valid:
            raise TamperedCard()
        if len(valid) == 2 and valid[0][0].counter != valid[1][0].counter + 1:
            raise TamperedCard()
        newest, newest_slot = valid[0]
        if value_on_card == newest.value:
            chosen, slot, recovered = newest, newest_slot, damaged
        elif len(valid) == 2 and value_on_card in (None, valid[1][0].value):
            (chosen, slot), recovered = valid[1], True
        else:
            raise TamperedCard()
        state = PurseState(
            card_number=identity.card_number, card_type=identity.card_type, expires=identity.expires,
            value=chosen.value, counter=chosen.counter,
            last=LastTransaction(chosen.terminal, chosen.time, chosen.amount), slot=SLOT_NAMES[slot], uid=uid,
            fingerprint=fingerprint(uid, identity_block, record_body(chosen)), recovered=recovered)
        return _Snapshot(state, identity_block, value_on_card is not None)

    # -- writing -------------------------------------------------------------------------------

    def write(self, card: BlockCard | Card, *, new_value: int, amount: int, terminal: str, time: dt.datetime,
              on_step: Step = _nothing) -> PurseState:
        """Debit (``amount`` < 0) or credit (``amount`` > 0) the purse: ``new_value`` must be the
        card's value plus ``amount``, else ``StaleCardState`` (the card changed since it was read).

        If the card leaves during the write (``CardRemoved``), the next read shows which state
        it holds: the old counter, or the old counter + 1 when the write landed."""
        session = _Session(block_card(card), self._master)
        with _refusal_means(TamperedCard):
            snapshot = self._snapshot(session)
            state = snapshot.state
            if new_value < 0:
                raise InvalidInput(_("The purse holds {value}; it cannot pay {amount}.").format(
                    value=state.value, amount=-amount))
            if new_value > MAX_VALUE:
                raise InvalidInput(_("A purse value is from 0 to {max}; got {value}.").format(
                    max=MAX_VALUE, value=new_value))
            if new_value != state.value + amount:
                raise StaleCardState(_("The card holds {value}, not {expected}: read the card again.").format(
                    value=state.value, expected=new_value - amount))
            if state.counter >= MAX_COUNTER:
                raise CounterExhausted()
            target = 1 - SLOT_NAMES.index(state.slot)
            record = Record(state.counter + 1, new_value, amount, stored_time(time), terminal)
            data = encode_record(record, mac_key=self._mac, uid=session.uid,
                                 identity_block=snapshot.identity_block, slot=target)
            self._apply(session, snapshot, target, data, amount, on_step)
        return replace(state, value=new_value, counter=record.counter,
                       last=LastTransaction(terminal, record.time, amount), slot=SLOT_NAMES[target], recovered=False,
                       fingerprint=fingerprint(session.uid, snapshot.identity_block, record_body(record)))

    def _apply(self, session: _Session, snapshot: _Snapshot, target: int, record: bytes, amount: int,
               on_step: Step) -> None:
        card = session.card
        if not snapshot.value_block_ok:  # a value operation was torn: put back the value of the state
            self._open_or_tampered(session, PURSE_SECTOR, "B")
            card.write_block(VALUE_BLOCK, encode_value_block(snapshot.state.value, VALUE_BLOCK))
            on_step("restore")
        self._open_or_tampered(session, SLOT_SECTORS[target], "A")
        for block, chunk in zip(SLOT_BLOCKS[target], split_blocks(record)):
            card.write_block(block, chunk)
        on_step("record")
        if amount < 0:
            self._open_or_tampered(session, PURSE_SECTOR, "A")
            card.decrement(VALUE_BLOCK, -amount)
        elif amount > 0:
            self._open_or_tampered(session, PURSE_SECTOR, "B")
            card.increment(VALUE_BLOCK, amount)
        on_step("value")

    @staticmethod
    def _open_or_tampered(session: _Session, sector: int, key_type: str) -> None:
        if not session.open(sector, key_type):
            raise TamperedCard()
