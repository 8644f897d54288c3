"""Password hashing (Argon2id) and the password policy.

Parameters never go below OWASP's minimum for Argon2id (19 MiB memory, 2 iterations, 1 lane);
the default is RFC 9106's low-memory profile (64 MiB, 3 iterations, 4 lanes). Each hash
carries its own parameters, so raising them later only needs ``needs_rehash`` at login.
Passwords are NFKC-normalised first: full-width digits from a Chinese input method and their
ASCII twins are the same password.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from suite.errors import InvalidInput
from suite.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 256


@dataclass(frozen=True, order=True)
class Argon2Parameters:
    time_cost: int
    memory_cost: int  # KiB
    parallelism: int

    def meets(self, minimum: Argon2Parameters) -> bool:
        return (self.time_cost >= minimum.time_cost and self.memory_cost >= minimum.memory_cost
                and self.parallelism >= minimum.parallelism)


OWASP_MINIMUM = Argon2Parameters(time_cost=2, memory_cost=19456, parallelism=1)
DEFAULT_PARAMETERS = Argon2Parameters(time_cost=3, memory_cost=65536, parallelism=4)


def make_hasher(parameters: Argon2Parameters = DEFAULT_PARAMETERS) -> PasswordHasher:
    """An Argon2id hasher; refuses parameters weaker than OWASP's minimum."""
    if not parameters.meets(OWASP_MINIMUM):
        raise ValueError(f"Argon2 parameters {parameters} are below the OWASP minimum {OWASP_MINIMUM}")
    return PasswordHasher(time_cost=parameters.time_cost, memory_cost=parameters.memory_cost,
                          parallelism=parameters.parallelism, hash_len=32, salt_len=16, type=Type.ID)


@lru_cache(maxsize=1)
def default_hasher() -> PasswordHasher:
    return make_hasher(DEFAULT_PARAMETERS)


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str, *, hasher: PasswordHasher | None = None) -> str:
    return (hasher or default_hasher()).hash(_normalise(password))


def verify_password(password_hash: str, password: str, *, hasher: PasswordHasher | None = None) -> bool:
    """True when ``password`` matches; False for a wrong password or an unreadable hash."""
    try:
        return (hasher or default_hasher()).verify(password_hash, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, hasher: PasswordHasher | None = None) -> bool:
    try:
        return (hasher or default_hasher()).check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def parameters_of(password_hash: str) -> Argon2Parameters:
    found = extract_parameters(password_hash)
    return Argon2Parameters(found.time_cost, found.memory_cost, found.parallelism)


def check_password_policy(password: str, *, username: str = "") -> None:
    """Raise ``InvalidInput`` saying what is wrong with a new password."""
    text = _normalise(password)
    if len(text) < MIN_LENGTH:
        raise InvalidInput(_("A password needs at least {n} characters.").format(n=MIN_LENGTH))
    if len(text) > MAX_LENGTH:
        raise InvalidInput(_("A password can have at most {n} characters.").format(n=MAX_LENGTH))
    if len(set(text)) == 1:
        raise InvalidInput(_("A password cannot be one character repeated."))
    if username and text.casefold() == _normalise(username).casefold():
        raise InvalidInput(_("A password cannot be the same as the username."))
