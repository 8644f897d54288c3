"""Showing amounts kept as integers: minor units of a currency, or plain points and counts."""

from __future__ import annotations


def is_currency(unit: str) -> bool:
    """ISO 4217 codes (CNY, USD...) are money in minor units; anything else is a plain count."""
    return len(unit) == 3 and unit.isalpha() and unit.isupper()


def format_amount(amount: int, unit: str) -> str:
    """``1234, "CNY"`` -> ``"12.34 CNY"``; ``120, "points"`` -> ``"120 points"``."""
    if is_currency(unit):
        sign = "-" if amount < 0 else ""
        whole, cents = divmod(abs(amount), 100)
        return f"{sign}{whole}.{cents:02d} {unit}"
    return f"{amount} {unit}"


__all__ = ["format_amount", "is_currency"]
