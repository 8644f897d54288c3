"""Redemption codes as text (T6, docs/tickets-partners.md): a code and a phone number as stored
and searched, the key of redeeming a code, a code's payment shared out over its tickets, and a
redeemed ticket as the data a ticket face prints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from suite.errors import InvalidInput
from suite.i18n import _

# a code as stored (``normalise_code``): 4 to 64 capitals and digits
CODE_PATTERN = re.compile(r"^[A-Z0-9]{4,64}$")


def normalise_code(value: str) -> str:
    """A code as stored: spaces and dashes dropped, letters in capitals (``ab-12 34`` -> ``AB1234``)."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def normalise_phone(value: str) -> str:
    """A phone as stored and searched: digits only, a leading 86 (China) dropped from 13 digits."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def check_code(value: str) -> str:
    """``value`` as a code to store; ``InvalidInput`` when it cannot be one."""
    code = normalise_code(value)
    if not CODE_PATTERN.match(code):
        raise InvalidInput(_("A redemption code is 4 to 64 letters and digits, not {value!r}.").format(value=value))
    return code


def check_phone(value: str) -> str:
    """``value`` as a phone to store ("" stays ""); ``InvalidInput`` when it is not a phone number."""
    phone = normalise_phone(value)
    if value and not 5 <= len(phone) <= 20:
        raise InvalidInput(_("{value!r} is not a phone number.").format(value=value))
    return phone


def redemption_key(code: str) -> str:
    """The idempotency key of redeeming ``code``: one code, one order, whoever retries."""
    return f"redeem:{normalise_code(code)}"


def shares(total: int, parts: int) -> list[int]:
    """``total`` fen in ``parts`` whole shares, the first ones a fen more (``100, 3`` -> 34, 33, 33)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def face_data(ticket: Mapping[str, Any], *, notice: str = "") -> dict[str, Any]:
    """A ticket as the sales service returns it -> the data a ticket face prints
    (``plugins.tickets.faces.TICKET_KEYS``)."""
    return {"serial": ticket["serial"], "code": ticket["code"], "venue": ticket.get("venue", ""),
            "hall": ticket.get("hall_name") or ticket.get("hall", ""), "programme": ticket.get("programme", ""),
            "grade": ticket.get("grade", ""), "starts_at": ticket.get("starts_at"), "row": ticket.get("row", ""),
            "seat": ticket.get("seat", ""), "zone": ticket.get("zone", ""),
            "ticket_type": ticket.get("ticket_type", ""),
            "price": ticket.get("price"), "admits": ticket.get("admits", 1), "order_number": ticket.get("order", ""),
            "cashier": ticket.get("cashier", ""), "notice": notice}


__all__ = ["CODE_PATTERN", "check_code", "check_phone", "face_data", "normalise_code", "normalise_phone",
           "redemption_key", "shares"]
