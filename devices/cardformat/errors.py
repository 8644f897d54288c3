"""What can go wrong with a purse card, each with a message fit for the screen.

All are ``DeviceError`` (a ``SuiteError``): the UI shows ``message``, the CLI prints it and
exits non-zero, and ``code`` is a stable machine-readable name. ``CardRemoved`` is the reader
layer's own error when the driver provides one (``devices.reader``); a block card that raises
something else for a card that left the field should raise this one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


try:  # the reader layer's own error, so callers catch one class whichever layer saw it
    from devices.reader import CardRemoved as CardRemoved  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - until the reader layer provides it
    class CardRemoved(DeviceError):  # type: ignore[no-redef]
        code = "card_removed"

        def __init__(self, message: str | None = None, **details: object) -> None:
            super().__init__(message or _("The card was removed from the reader."), **details)
