"""The ledger: accounts, balanced journal entries, idempotency. The one place money moves.

Plugins move money only through ``post``/``reverse`` inside their unit of work::

    cash = open_account(s, owner_type="venue", owner_id=code, kind="cash", unit="CNY", floor=None)
    wallet = open_account(s, owner_type="card", owner_id=card_no, kind="wallet.main", unit="CNY")
    post(s, idempotency_key=key, kind="wallet.topup",
         lines=[LineSpec(cash.id, -10000), LineSpec(wallet.id, 10000)])
"""

from __future__ import annotations

from suite.ledger.check import LedgerCheck, LedgerProblem, check
from suite.ledger.errors import (AccountNotFound, AlreadyReversed, EntryNotFound, FloorBreached,
                                 IdempotencyConflict, UnbalancedEntry, UnitMismatch)
from suite.ledger.money import format_amount, is_currency
from suite.ledger.payload import LineSpec, PostResult, payload_digest
from suite.ledger.service import REVERSAL_KIND, balance, get_account, open_account, post, reverse

__all__ = ["AccountNotFound", "AlreadyReversed", "EntryNotFound", "FloorBreached", "IdempotencyConflict",
           "LedgerCheck", "LedgerProblem", "LineSpec", "PostResult", "REVERSAL_KIND", "UnbalancedEntry",
           "UnitMismatch", "balance", "check", "format_amount", "get_account", "is_currency", "open_account",
           "payload_digest", "post", "reverse"]
