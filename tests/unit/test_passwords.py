"""Argon2id parameters and the password policy."""

from __future__ import annotations

import re

import pytest

from suite.errors import InvalidInput
from suite.identity.passwords import (DEFAULT_PARAMETERS, OWASP_MINIMUM, Argon2Parameters, check_password_policy,
                                      hash_password, make_hasher, needs_rehash, parameters_of, verify_password)

PHC = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


def _params(encoded: str) -> tuple[int, int, int]:
    found = PHC.match(encoded)
    assert found, encoded
    m, t, p = (int(x) for x in found.groups())
    return m, t, p


@pytest.fixture(scope="module")
def fast():
    return make_hasher(OWASP_MINIMUM)


def test_default_hash_is_argon2id_at_or_above_owasp_minimum() -> None:
    m, t, p = _params(hash_password("correct horse"))
    assert m >= 19456 and t >= 2 and p >= 1
    assert (m, t, p) == (DEFAULT_PARAMETERS.memory_cost, DEFAULT_PARAMETERS.time_cost, DEFAULT_PARAMETERS.parallelism)


def test_fast_test_hasher_still_meets_owasp_minimum(fast) -> None:
    encoded = hash_password("correct horse", hasher=fast)
    assert _params(encoded) == (19456, 2, 1)
    assert parameters_of(encoded) == OWASP_MINIMUM


@pytest.mark.parametrize("weak", [
    Argon2Parameters(time_cost=1, memory_cost=19456, parallelism=1),
    Argon2Parameters(time_cost=2, memory_cost=19455, parallelism=1),
    Argon2Parameters(time_cost=2, memory_cost=65536, parallelism=0),
])
def test_parameters_below_owasp_are_refused(weak: Argon2Parameters) -> None:
    with pytest.raises(ValueError):
        make_hasher(weak)


def test_verify_accepts_the_right_password_only(fast) -> None:
    encoded = hash_password("correct horse", hasher=fast)
    assert verify_password(encoded, "correct horse", hasher=fast)
    assert not verify_password(encoded, "correct horsf", hasher=fast)
    assert not verify_password("not a hash", "correct horse", hasher=fast)
    assert hash_password("correct horse", hasher=fast) != encoded  # salted


def test_full_width_input_is_the_same_password(fast) -> None:
    encoded = hash_password("pass1234", hasher=fast)
    assert verify_password(encoded, "ｐａｓｓ１２３４", hasher=fast)


def test_needs_rehash_when_parameters_rise(fast) -> None:
    encoded = hash_password("correct horse", hasher=fast)
    assert not needs_rehash(encoded, hasher=fast)
    assert needs_rehash(encoded, hasher=make_hasher(Argon2Parameters(3, 19456, 1)))
    assert needs_rehash("garbage", hasher=fast)


@pytest.mark.parametrize("password,fragment", [
    ("short1", "at least 8"),
    ("", "at least 8"),
    ("aaaaaaaaaa", "repeated"),
    ("１１１１１１１１", "repeated"),
    ("x" * 257, "at most 256"),
])
def test_policy_rejects_with_a_clear_message(password: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_password_policy(password)
    assert fragment in str(caught.value)


def test_policy_rejects_the_username_and_accepts_a_fair_password() -> None:
    with pytest.raises(InvalidInput, match="username"):
        check_password_policy("Cashier01", username="cashier01")
    check_password_policy("收银员密码2024", username="cashier01")
    check_password_policy("abababab")
