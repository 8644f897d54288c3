"""The ledger's pure parts: payload fingerprints and amount formatting."""

from __future__ import annotations

import uuid

from suite.ledger import LineSpec, format_amount, payload_digest

A, B = uuid.UUID(int=1), uuid.UUID(int=2)


def test_digest_ignores_line_order_but_not_content() -> None:
    base = payload_digest("wallet.topup", [LineSpec(A, -100), LineSpec(B, 100)])
    assert base == payload_digest("wallet.topup", [LineSpec(B, 100), LineSpec(A, -100)])
    assert len(base) == 64 and int(base, 16) >= 0
    assert base != payload_digest("wallet.refund", [LineSpec(A, -100), LineSpec(B, 100)])
    assert base != payload_digest("wallet.topup", [LineSpec(A, -101), LineSpec(B, 101)])
    assert base != payload_digest("wallet.topup", [LineSpec(A, 100), LineSpec(B, -100)])
    assert base != payload_digest("wallet.topup", [LineSpec(A, -100), LineSpec(B, 100)], reverses_id=A)


def test_amounts_are_shown_for_a_cashier() -> None:
    assert format_amount(1200, "CNY") == "12.00 CNY"
    assert format_amount(5, "USD") == "0.05 USD"
    assert format_amount(-150, "CNY") == "-1.50 CNY"
    assert format_amount(3, "count") == "3 count"
    assert format_amount(-20, "points") == "-20 points"
