"""The purse card format on MIFARE Classic 1K: per-card diversified keys, a documented block
layout, two MAC-protected record slots that survive a card pulled mid-write.

    fmt = CardFormat.from_secrets(secret_store)
    state = fmt.personalise(card, card_number="8800000001", card_type=1, expires=date(2027, 12, 31))
    state = fmt.write(card, new_value=state.value - 500, amount=-500, terminal="HQ/T01", time=now)
    state = fmt.read(card)

``card`` is a reader's ``devices.reader.Card`` or any ``BlockCard`` (``devices.cardformat.card``);
docs/card-format.md has the layout.
"""

from __future__ import annotations

from devices.cardformat.card import BlockCard, ReaderBlockCard
from devices.cardformat.errors import (
    AlreadyIssued, BlankCard, CardFormatError, CardRemoved, CounterExhausted, ForeignCard, OperationRefused,
    StaleCardState, TamperedCard, TornWriteRecovered,
)
from devices.cardformat.keys import MAC_KEY_SECRET, MASTER_KEY_SECRET
from devices.cardformat.purse import CardFormat, LastTransaction, PurseState

__all__ = [
    "AlreadyIssued", "BlankCard", "BlockCard", "CardFormat", "CardFormatError", "CardRemoved", "CounterExhausted",
    "ForeignCard", "LastTransaction", "MAC_KEY_SECRET", "MASTER_KEY_SECRET", "OperationRefused", "PurseState",
    "ReaderBlockCard", "StaleCardState", "TamperedCard", "TornWriteRecovered",
]
