"""Errors a user can cause: each carries a message fit for the screen in the user's language.

Raise them with an already translated message: ``raise PermissionDenied(_("...").format(...))``.
The CLI prints ``str(error)`` and exits with ``exit_code``; the UI shows it in a dialog.
"""

from __future__ import annotations


class SuiteError(Exception):
    """Base of all domain errors; ``code`` is a stable machine-readable name."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, object]:
        plain = (str, int, float, bool, list, dict, type(None))
        details = {k: v if isinstance(v, plain) else str(v) for k, v in self.details.items()}
        return {"error": self.code, "message": self.message, **details}


class ConfigError(SuiteError):
    code = "config"
    exit_code = 2


class DatabaseUnavailable(SuiteError):
    code = "database_unavailable"
    exit_code = 2


class NotFound(SuiteError):
    code = "not_found"


class Conflict(SuiteError):
    code = "conflict"


class InvalidInput(SuiteError):
    code = "invalid_input"


class AuthenticationFailed(SuiteError):
    code = "authentication_failed"


class AccountLocked(AuthenticationFailed):
    code = "account_locked"


class PermissionDenied(SuiteError):
    code = "permission_denied"


class LicenceError(SuiteError):
    code = "licence"


class FeatureNotLicensed(LicenceError):
    code = "feature_not_licensed"


class SecretMissing(SuiteError):
    code = "secret_missing"
    exit_code = 2
