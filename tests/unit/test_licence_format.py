"""The licence text format: signing, verifying, and every way a text can be wrong."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from suite.errors import ConfigError, LicenceError
from suite.licensing import LicenceState, generate_keypair, issue, key_id, parse_and_verify, status_of
from suite.licensing.licence import BEGIN, END, LINE_WIDTH, load_private_key

PRIVATE, PUBLIC = generate_keypair()
OTHER_PRIVATE, OTHER_PUBLIC = generate_keypair()


def make(private: str = PRIVATE, **overrides: object) -> str:
    fields: dict[str, object] = dict(
        licence_id="LIC-1", chain_id="CHAIN-A", licensee="星光影城 Starlight Cinemas",
        features=["wallet", "tickets"], max_terminals=12, max_activated_cards=50_000,
        issued=dt.date(2026, 1, 1), expires=dt.date(2026, 12, 31), grace_days=30)
    fields.update(overrides)
    return issue(private, **fields)  # type: ignore[arg-type]


def body_lines(text: str) -> list[str]:
    lines = text.strip().splitlines()
    return lines[1:-1]


def test_round_trip_keeps_every_field() -> None:
    licence = parse_and_verify(make(), [PUBLIC])
    assert licence.licence_id == "LIC-1"
    assert licence.chain_id == "CHAIN-A"
    assert licence.licensee == "星光影城 Starlight Cinemas"
    assert licence.features == ("tickets", "wallet")
    assert (licence.max_terminals, licence.max_activated_cards) == (12, 50_000)
    assert (licence.issued, licence.expires, licence.grace_days) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31), 30)
    assert licence.key_id == key_id(PUBLIC)
    assert licence.has_feature("wallet") and not licence.has_feature("rental")
    assert licence.grace_until == dt.date(2027, 1, 30)


def test_text_is_armoured_base64_wrapped_at_64_with_canonical_json() -> None:
    text = make()
    lines = text.strip().splitlines()
    assert lines[0] == BEGIN and lines[-1] == END
    assert all(0 < len(line) <= LINE_WIDTH for line in lines[1:-1])
    joined = "".join(lines[1:-1])
    payload = base64.b64decode(joined[:-88])
    data = json.loads(payload)
    assert payload == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert data["v"] == 1 and data["kid"] == key_id(PUBLIC) and data["features"] == ["tickets", "wallet"]
    assert len(base64.b64decode(joined[-88:])) == 64


def test_survives_email_rewrapping_indentation_and_crlf() -> None:
    text = make()
    body = "".join(body_lines(text))
    rewrapped = "\r\n".join(["Dear customer, your licence:", "", "   " + BEGIN,
                             *("   " + body[i:i + 40] for i in range(0, len(body), 40)),
                             "   " + END, "", "Regards"])
    assert parse_and_verify(rewrapped, [PUBLIC]).licence_id == "LIC-1"


def test_any_of_several_trusted_keys_verifies() -> None:
    assert parse_and_verify(make(OTHER_PRIVATE), [PUBLIC, OTHER_PUBLIC]).key_id == key_id(OTHER_PUBLIC)


def test_tampered_payload_is_refused_as_altered() -> None:
    text = make()
    joined = "".join(body_lines(text))
    payload, signature = joined[:-88], joined[-88:]
    data = json.loads(base64.b64decode(payload))
    data["features"] = ["rental", "tickets", "wallet"]
    forged_payload = base64.b64encode(json.dumps(data, sort_keys=True, separators=(",", ":"),
                                                 ensure_ascii=False).encode()).decode()
    forged = "\n".join([BEGIN, forged_payload, signature, END])
    with pytest.raises(LicenceError, match="altered since it was signed"):
        parse_and_verify(forged, [PUBLIC])


def test_tampered_signature_is_refused() -> None:
    lines = make().strip().splitlines()
    sig_line = lines[-3]
    lines[-3] = ("A" if sig_line[0] != "A" else "B") + sig_line[1:]
    with pytest.raises(LicenceError, match="altered"):
        parse_and_verify("\n".join(lines), [PUBLIC])


def test_unknown_key_is_refused_naming_its_key_id() -> None:
    with pytest.raises(LicenceError, match=f"does not trust .*{key_id(OTHER_PUBLIC)}"):
        parse_and_verify(make(OTHER_PRIVATE), [PUBLIC])


@pytest.mark.parametrize("text, message", [
    ("", "not a Venue Suite licence"),
    ("hello, this is a letter", "not a Venue Suite licence"),
    (f"{BEGIN}\nAAAA\n", "truncated"),
    (f"{BEGIN}\nAAAA\n{END}\n", "truncated"),
    (f"{BEGIN}\n{'!' * 200}\n{END}\n", "not valid base64"),
])
def test_garbage_and_truncation_have_clear_messages(text: str, message: str) -> None:
    with pytest.raises(LicenceError, match=message):
        parse_and_verify(text, [PUBLIC])


def test_text_cut_in_the_middle_is_refused() -> None:
    lines = make().strip().splitlines()
    with pytest.raises(LicenceError, match="truncated"):
        parse_and_verify("\n".join(lines[:3]), [PUBLIC])
    with pytest.raises(LicenceError):
        parse_and_verify("\n".join([*lines[:2], *lines[3:]]), [PUBLIC])


def test_no_trusted_key_is_an_error_and_a_bad_trusted_key_a_config_error() -> None:
    with pytest.raises(LicenceError, match="public_keys"):
        parse_and_verify(make(), [])
    with pytest.raises(ConfigError, match="not a base64 Ed25519 public key"):
        parse_and_verify(make(), ["not-a-key"])


@pytest.mark.parametrize("overrides, message", [
    ({"expires": dt.date(2025, 1, 1)}, "expires is before issued"),
    ({"features": ["Wallet Plus"]}, "not a valid feature id"),
    ({"max_terminals": 0}, "max_terminals"),
    ({"grace_days": -1}, "grace_days"),
    ({"chain_id": " "}, "chain_id is empty"),
])
def test_issue_refuses_invalid_fields(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(LicenceError, match=message):
        make(**overrides)


def test_private_key_may_be_pem() -> None:
    pem = load_private_key(PRIVATE).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()).decode()
    assert parse_and_verify(make(pem), [PUBLIC]).key_id == key_id(PUBLIC)
    with pytest.raises(LicenceError, match="not a valid Ed25519 private key"):
        make("bm90IGEga2V5")


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_changed_character_is_refused_or_changes_nothing(data: st.DataObject) -> None:
    text = make()
    joined = "".join(body_lines(text))
    pos = data.draw(st.integers(0, len(joined) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
    char = data.draw(st.sampled_from([c for c in alphabet if c != joined[pos]]))
    changed = joined[:pos] + char + joined[pos + 1:]
    try:
        licence = parse_and_verify(f"{BEGIN}\n{changed}\n{END}\n", [PUBLIC])
    except LicenceError:
        return
    # only a change in base64 padding bits can decode to the same bytes
    assert licence == parse_and_verify(text, [PUBLIC])


def test_states_over_time() -> None:
    licence = parse_and_verify(make(expires=dt.date(2026, 6, 30), grace_days=10), [PUBLIC])
    assert status_of(None, dt.date(2026, 1, 1)).state is LicenceState.MISSING
    valid = status_of(licence, dt.date(2026, 6, 30))
    assert (valid.state, valid.days_left) == (LicenceState.VALID, 1)
    first_grace = status_of(licence, dt.date(2026, 7, 1))
    assert (first_grace.state, first_grace.days_left) == (LicenceState.GRACE, 10)
    assert first_grace.message == "The licence expired on 2026-06-30; 10 days of grace left."
    last_grace = status_of(licence, dt.date(2026, 7, 10))
    assert (last_grace.state, last_grace.days_left) == (LicenceState.GRACE, 1)
    assert "1 day of grace left" in last_grace.message
    expired = status_of(licence, dt.date(2026, 7, 11))
    assert (expired.state, expired.days_left) == (LicenceState.EXPIRED, 0)
    assert "2026-06-30" in expired.message and "refused" in expired.message


def test_docs_describe_the_format_states_and_purposes() -> None:
    from pathlib import Path

    from suite.licensing import Purpose
    from suite.licensing.licence import SIGNING_CONTEXT

    doc = (Path(__file__).resolve().parents[2] / "docs" / "licensing.md").read_text(encoding="utf-8")
    assert BEGIN in doc and END in doc
    assert SIGNING_CONTEXT.decode().replace("\n", "\\n") in doc
    for state in LicenceState:
        assert f"| `{state.value}` |" in doc, f"state {state.value} not documented"
    for purpose in Purpose:
        assert f"`Purpose.{purpose.name}`" in doc, f"purpose {purpose.name} not documented"
