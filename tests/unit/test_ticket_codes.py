"""Ticket codes: signed by the box office, checked offline with the public key only."""

from __future__ import annotations

import datetime as dt
import os

from plugins.tickets.codes import TicketClaims, TicketSigner, TicketVerifier

START = int(dt.datetime(2026, 11, 22, 11, 0, tzinfo=dt.timezone.utc).timestamp())
CLAIMS = TicketClaims(serial="T0000001", venue="CINEMA-01", session="S1", hall="H1", row="5", seat="12",
                      ticket_type="ADULT", category="adult", admits=1, starts=START, ends=START + 7200)


def test_a_genuine_code_verifies_and_round_trips() -> None:
    signer = TicketSigner(os.urandom(32))
    code = signer.sign(CLAIMS)
    verdict = TicketVerifier([signer.public_key]).verify(code)
    assert verdict.ok and verdict.claims == CLAIMS
    assert verdict.as_dict()["seat"] == "12"


def test_forged_altered_foreign_and_refunded_codes_fail() -> None:
    signer = TicketSigner(os.urandom(32))
    verifier = TicketVerifier([signer.public_key])
    code = signer.sign(CLAIMS)
    prefix, payload, signature = code.split(".")
    other = TicketSigner(os.urandom(32)).sign(CLAIMS)
    altered = TicketClaims(**{**CLAIMS.__dict__, "admits": 5})
    swapped = f"{prefix}.{TicketSigner(os.urandom(32)).sign(altered).split('.')[1]}.{signature}"
    # the second-last character carries six bits of the signature (the last one only two)
    tampered = code[:-2] + ("B" if code[-2] != "B" else "C") + code[-1]
    for bad in (other, swapped, "VT1.abc.def", "hello", "", tampered, f"VT2.{payload}.{signature}"):
        assert verifier.verify(bad).reason == "forged", bad
    assert verifier.verify(code, revoked={"T0000001"}).reason == "refunded"
    after = dt.datetime.fromtimestamp(START + 7201, dt.timezone.utc)
    assert verifier.verify(code, now=after).reason == "expired"
    # a second key (rotation) is accepted alongside the first
    assert TicketVerifier([TicketSigner(os.urandom(32)).public_key, signer.public_key]).verify(code).ok
