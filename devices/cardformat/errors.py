"""What can go wrong with a purse card, each with a message fit for the screen.

All are ``DeviceError`` (a ``SuiteError``): the UI shows ``message``, the CLI prints it and
exits non-zero, and ``code`` is a stable machine-readable name. ``CardRemoved`` is the reader
layer's own error (``devices.reader.CardRemovedError``): a card that left the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.reader import CardRemovedError as CardRemoved
from suite.device_host import DeviceError
from suite.i18n import _

if TYPE_CHECKING:
    from devices.cardformat.purse import PurseState


class CardFormatError(DeviceError):
    """Base of the card format's errors."""

    code = "card_format"


class BlankCard(CardFormatError):
    code = "card_blank"

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or _("This card is blank: issue it first."), **details)


class ForeignCard(CardFormatError):
    code = "card_foreign"

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or _("This card does not belong to this system."), **details)


class TamperedCard(CardFormatError):
    code = "card_tampered"

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or _("The card's data fails its check: it has been altered."), **details)


class AlreadyIssued(CardFormatError):
    code = "card_already_issued"

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or _("This card is already issued: erase it before issuing it again."),
                         **details)


class CounterExhausted(CardFormatError):
    code = "card_counter_exhausted"

    def __init__(self, message: str | None = None, **details: object) -> None:
        super().__init__(message or _("This card has used up its transaction counter: replace it."), **details)


class StaleCardState(CardFormatError):
    """The card changed since the caller read it (the new value does not follow from it)."""

    code = "card_stale"


class TornWriteRecovered(CardFormatError):
    """Information, not a failure: the last write on the card did not complete, and the state
    before it is the card's state. ``state`` holds it. ``read(card, strict=True)`` raises this;
    a plain ``read`` returns the state with ``recovered`` set instead."""

    code = "card_torn_write"

    def __init__(self, state: "PurseState", message: str | None = None) -> None:
        super().__init__(message or _("The card was removed during its last write; its previous state "
                                      "is intact and is used."), counter=state.counter, value=state.value)
        self.state = state


class OperationRefused(CardFormatError):
    """The card refused a read, write or value operation after a successful authentication:
    its access bits are not the ones the format wrote. ``BlockCard`` adapters raise it; the
    format turns it into ``TamperedCard`` (or ``ForeignCard`` when issuing)."""

    code = "card_refused"


__all__ = ["AlreadyIssued", "BlankCard", "CardFormatError", "CardRemoved", "CounterExhausted", "ForeignCard",
           "OperationRefused", "StaleCardState", "TamperedCard", "TornWriteRecovered"]
