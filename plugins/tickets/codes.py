"""Signed ticket codes (T5): what the QR code on a ticket holds, verifiable by a gate with no
database, only the chain's public key and the list of revoked serials.

A code is ``VT1.<payload>.<signature>``: the payload is compact JSON (base64url, no padding) of
what a gate needs to decide (serial, venue, session, hall, seat, ticket type and category,
people admitted, the session's start and end as Unix seconds); the signature is Ed25519 over the
text ``VT1.<payload>``. The private key lives in the keyring (``[plugins.tickets]
signing_key_secret``) as a 32-byte seed; ``venue-suite ticket key`` prints the public key
gates are given. A wrong signature, a bad format or an unknown key is ``forged``; a revoked
serial (refunded, voided, exchanged) is ``refunded``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PREFIX = "VT1"
SEED_SIZE = 32

# reasons a code does not admit (gates add their own: too early, wrong entrance...)
VALID = "valid"
FORGED = "forged"
REFUNDED = "refunded"
EXPIRED = "expired"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TicketClaims:
    """What a ticket code says."""

    serial: str
    venue: str
    session: str
    hall: str
    row: str
    seat: str
    ticket_type: str
    category: str
    admits: int
    starts: int  # Unix seconds
    ends: int

    def to_json(self) -> bytes:
        body = {"s": self.serial, "v": self.venue, "x": self.session, "h": self.hall, "r": self.row, "n": self.seat,
                "k": self.ticket_type, "c": self.category, "a": self.admits, "t": self.starts, "e": self.ends}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "TicketClaims":
        body = json.loads(data.decode("utf-8"))
        if not isinstance(body, dict):
            raise ValueError("not an object")
        claims = cls(serial=str(body["s"]), venue=str(body["v"]), session=str(body["x"]), hall=str(body["h"]),
                     row=str(body["r"]), seat=str(body["n"]), ticket_type=str(body["k"]), category=str(body["c"]),
                     admits=int(body["a"]), starts=int(body["t"]), ends=int(body["e"]))
        if claims.admits < 1 or not claims.serial:
            raise ValueError("bad claims")
        return claims

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.starts, dt.timezone.utc)

    @property
    def ends_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.ends, dt.timezone.utc)


@dataclass(frozen=True)
class Verdict:
    reason: str  # VALID, FORGED, REFUNDED or EXPIRED
    claims: TicketClaims | None = None

    @property
    def ok(self) -> bool:
        return self.reason == VALID

    def as_dict(self) -> dict[str, Any]:
        claims = self.claims
        return {"ok": self.ok, "reason": self.reason,
                **({} if claims is None else {
                    "serial": claims.serial, "venue": claims.venue, "session": claims.session, "hall": claims.hall,
                    "row": claims.row, "seat": claims.seat, "ticket_type": claims.ticket_type,
                    "category": claims.category, "admits": claims.admits, "starts_at": claims.starts_at.isoformat(),
                    "ends_at": claims.ends_at.isoformat()})}


class TicketSigner:
    """Signs codes with the chain's private key (the box office's side)."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_SIZE:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    @classmethod
    def from_secrets(cls, store: Any, secret_name: str) -> "TicketSigner":
        return cls(store.get_or_create_key(secret_name, SEED_SIZE))

    @property
    def public_key(self) -> str:
        """The raw 32-byte public key, base64 (what gates are configured with)."""
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def sign(self, claims: TicketClaims) -> str:
        signed = f"{PREFIX}.{_b64(claims.to_json())}"
        return f"{signed}.{_b64(self._key.sign(signed.encode('ascii')))}"


class TicketVerifier:
    """Checks codes with public keys only (the gate's side; several keys while one is rotated)."""

    def __init__(self, public_keys: Iterable[str]) -> None:
        self._keys = [Ed25519PublicKey.from_public_bytes(base64.b64decode(k)) for k in public_keys]

    def claims(self, code: str) -> TicketClaims | None:
        """The claims of a genuine code, or None (forged, altered, malformed)."""
        parts = code.strip().split(".") if isinstance(code, str) else []
        if len(parts) != 3 or parts[0] != PREFIX:
            return None
        try:
            signature, payload = _unb64(parts[2]), _unb64(parts[1])
        except (binascii.Error, ValueError):
            return None
        signed = f"{parts[0]}.{parts[1]}".encode("ascii")
        for key in self._keys:
            try:
                key.verify(signature, signed)
            except InvalidSignature:
                continue
            try:
                return TicketClaims.from_json(payload)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                return None
        return None

    def verify(self, code: str, *, revoked: Collection[str] | Mapping[str, Any] = (),
               now: dt.datetime | None = None) -> Verdict:
        """``forged``, ``refunded`` (serial revoked), ``expired`` (the session is over) or ``valid``."""
        claims = self.claims(code)
        if claims is None:
            return Verdict(FORGED)
        if claims.serial in revoked:
            return Verdict(REFUNDED, claims)
        if now is not None and now.timestamp() > claims.ends:
            return Verdict(EXPIRED, claims)
        return Verdict(VALID, claims)


__all__ = ["EXPIRED", "FORGED", "PREFIX", "REFUNDED", "VALID", "TicketClaims", "TicketSigner", "TicketVerifier",
           "Verdict"]
