"""The ledger's domain errors; each message is fit for a cashier's screen."""

from __future__ import annotations

from suite.errors import Conflict, InvalidInput, NotFound, SuiteError


class FloorBreached(SuiteError):
    """The movement would take an account below its floor (insufficient balance)."""

    code = "floor_breached"


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for a different movement."""

    code = "idempotency_conflict"


class UnbalancedEntry(InvalidInput):
    """The lines of an entry do not sum to zero for some unit."""

    code = "unbalanced_entry"


class UnitMismatch(InvalidInput):
    """A line's unit is not its account's unit."""

    code = "unit_mismatch"


class AlreadyReversed(Conflict):
    code = "already_reversed"


class AccountNotFound(NotFound):
    code = "account_not_found"


class EntryNotFound(NotFound):
    code = "entry_not_found"


__all__ = ["AccountNotFound", "AlreadyReversed", "EntryNotFound", "FloorBreached", "IdempotencyConflict",
           "UnbalancedEntry", "UnitMismatch"]
