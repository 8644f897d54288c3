"""The licence text: Ed25519-signed canonical JSON in an armour fit for e-mail and files.

::

    -----BEGIN VENUE SUITE LICENCE-----
    <base64 of the canonical JSON payload, wrapped at 64 columns>
    <base64 of the 64-byte Ed25519 signature, wrapped at 64 columns>
    -----END VENUE SUITE LICENCE-----

The signature covers ``SIGNING_CONTEXT + payload bytes`` exactly as transmitted. Since a
signature is always 88 base64 characters, a reader joins every line between the markers and
takes the last 88 as the signature, so re-wrapped or indented text still parses.
Keys are raw 32-byte Ed25519 keys in base64 (the format of ``[licensing] public_keys``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from suite.errors import ConfigError, LicenceError
from suite.i18n import _

BEGIN = "-----BEGIN VENUE SUITE LICENCE-----"
END = "-----END VENUE SUITE LICENCE-----"
LINE_WIDTH = 64
FORMAT_VERSION = 1
# domain separation: a licence signature can never be replayed as some other signed object
SIGNING_CONTEXT = b"venue-suite licence v1\n"
SIGNATURE_B64_LEN = 88  # base64 of 64 bytes
# a licence feature (and plugin) id: lower case, starts with a letter, at most 64 characters
FEATURE_ID_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Licence:
    licence_id: str
    chain_id: str
    licensee: str
    features: tuple[str, ...]
    max_terminals: int
    max_activated_cards: int
    issued: dt.date
    expires: dt.date
    grace_days: int
    # which vendor key signed it (see ``key_id``); set by ``issue`` and ``parse_and_verify``
    key_id: str = field(default="")

    def has_feature(self, feature: str) -> bool:
        return feature in self.features

    @property
    def grace_until(self) -> dt.date:
        """The last day of grace: after it the licence is expired."""
        return self.expires + dt.timedelta(days=self.grace_days)

    def as_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values (for ``license show --json``)."""
        return {
            "licence_id": self.licence_id,
            "chain_id": self.chain_id,
            "licensee": self.licensee,
            "features": list(self.features),
            "max_terminals": self.max_terminals,
            "max_activated_cards": self.max_activated_cards,
            "issued": self.issued.isoformat(),
            "expires": self.expires.isoformat(),
            "grace_days": self.grace_days,
            "key_id": self.key_id,
        }


# ---------------------------------------------------------------- keys

def generate_keypair() -> tuple[str, str]:
    """A new vendor key pair: ``(private_b64, public_b64)``, both raw 32-byte keys in base64."""
    private = Ed25519PrivateKey.generate()
    private_raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    return base64.b64encode(private_raw).decode(), public_key_b64(private)


def public_key_b64(private_key: Ed25519PrivateKey | str) -> str:
    """The base64 public key that goes with a private key."""
    private = load_private_key(private_key) if isinstance(private_key, str) else private_key
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(public_b64: str) -> str:
    """A short fingerprint of a public key (16 hex digits of its SHA-256), named in messages."""
    return hashlib.sha256(_b64_key(public_b64)).hexdigest()[:16]


def load_private_key(value: str) -> Ed25519PrivateKey:
    """A private key from base64 raw bytes or from an unencrypted PKCS#8 PEM text."""
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("not an Ed25519 key")
            return key
        return Ed25519PrivateKey.from_private_bytes(_b64_key(text))
    except (ValueError, TypeError) as exc:
        raise LicenceError(_("The licence signing key is not a valid Ed25519 private key ({reason}).").format(
            reason=exc)) from None


def load_public_key(value: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(_b64_key(value))
    except ValueError:
        raise ConfigError(_("[licensing] public_keys: {key!r} is not a base64 Ed25519 public key "
                            "(32 bytes).").format(key=value)) from None


def _b64_key(value: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


# ---------------------------------------------------------------- writing

def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _wrap(b64: str) -> list[str]:
    return [b64[i:i + LINE_WIDTH] for i in range(0, len(b64), LINE_WIDTH)]


def issue(private_key: Ed25519PrivateKey | str, *, chain_id: str, licensee: str,
          features: Iterable[str], max_terminals: int, max_activated_cards: int,
          expires: dt.date, issued: dt.date | None = None, grace_days: int = 30,
          licence_id: str | None = None) -> str:
    """Sign a licence and return its text. ``licence_id`` defaults to a new UUIDv7."""
    from suite.db.ids import uuid7

    private = load_private_key(private_key) if isinstance(private_key, str) else private_key
    licence = Licence(
        licence_id=licence_id or str(uuid7()),
        chain_id=chain_id,
        licensee=licensee,
        features=tuple(sorted(set(features))),
        max_terminals=max_terminals,
        max_activated_cards=max_activated_cards,
        issued=issued or dt.date.today(),
        expires=expires,
        grace_days=grace_days,
        key_id=key_id(public_key_b64(private)),
    )
    problems = _problems(licence)
    if problems:
        raise LicenceError(_("Cannot issue this licence: {problems}.").format(problems="; ".join(problems)))
    payload = {"v": FORMAT_VERSION, "kid": licence.key_id, **licence.as_dict()}
    del payload["key_id"]
    body = _canonical(payload)
    signature = private.sign(SIGNING_CONTEXT + body)
    lines = [BEGIN, *_wrap(base64.b64encode(body).decode()),
             *_wrap(base64.b64encode(signature).decode()), END]
    return "\n".join(lines) + "\n"


def _problems(licence: Licence) -> list[str]:
    problems = []
    for name in ("licence_id", "chain_id", "licensee"):
        if not getattr(licence, name).strip():
            problems.append(_("{field} is empty").format(field=name))
    for feature in licence.features:
        if not FEATURE_ID_RE.match(feature):
            problems.append(_("feature {feature!r} is not a valid feature id").format(feature=feature))
    if licence.max_terminals < 1:
        problems.append(_("max_terminals must be at least 1"))
    if licence.max_activated_cards < 0:
        problems.append(_("max_activated_cards must not be negative"))
    if licence.grace_days < 0:
        problems.append(_("grace_days must not be negative"))
    if licence.expires < licence.issued:
        problems.append(_("expires is before issued"))
    return problems


# ---------------------------------------------------------------- reading

def _armoured_body(text: str) -> str:
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    try:
        start = lines.index(BEGIN)
    except ValueError:
        raise LicenceError(_("This is not a Venue Suite licence: the line {marker} is missing.").format(
            marker=BEGIN)) from None
    try:
        end = lines.index(END, start + 1)
    except ValueError:
        raise LicenceError(_("The licence is truncated: the line {marker} is missing.").format(
            marker=END)) from None
    return "".join(lines[start + 1:end])


def _decode(body: str) -> tuple[bytes, bytes]:
    if len(body) <= SIGNATURE_B64_LEN:
        raise LicenceError(_("The licence is truncated: its signature or contents are missing."))
    payload_b64, signature_b64 = body[:-SIGNATURE_B64_LEN], body[-SIGNATURE_B64_LEN:]
    try:
        payload = base64.b64decode(payload_b64, validate=True)
        signature = base64.b64decode(signature_b64, validate=True)
    except binascii.Error:
        raise LicenceError(_("The licence is damaged: its text is not valid base64 "
                             "(was it cut or changed in transit?).")) from None
    if len(signature) != 64:
        raise LicenceError(_("The licence is damaged: its signature has the wrong length."))
    return payload, signature


def _claimed_key_id(payload: bytes) -> str | None:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    kid = data.get("kid") if isinstance(data, dict) else None
    return kid if isinstance(kid, str) else None


def parse_and_verify(text: str, trusted_public_keys: Iterable[str]) -> Licence:
    """Read a licence text and check its signature against the trusted vendor keys.

    Raises ``LicenceError`` with a message saying what is wrong: not a licence, truncated,
    damaged, signed by an untrusted key, altered since signing, or malformed contents.
    """
    keys = {}
    for k in trusted_public_keys:
        public = load_public_key(k)  # ConfigError for a malformed configured key
        keys[key_id(k)] = public
    if not keys:
        raise LicenceError(_("No licence key is trusted on this terminal: set [licensing] public_keys "
                             "to the vendor's public key."))
    payload, signature = _decode(_armoured_body(text))
    signed = SIGNING_CONTEXT + payload
    signer = None
    for kid, public in keys.items():
        try:
            public.verify(signature, signed)
        except InvalidSignature:
            continue
        signer = kid
        break
    if signer is None:
        claimed = _claimed_key_id(payload)
        if claimed in keys:
            raise LicenceError(_("The licence has been altered since it was signed: its signature "
                                 "does not match. Ask the vendor for the original text."))
        if claimed is not None:
            raise LicenceError(_("The licence was signed by a key this terminal does not trust "
                                 "(key id {kid}).").format(kid=claimed))
        raise LicenceError(_("The licence is damaged or altered: its signature does not match "
                             "any trusted key."))
    return _licence_from_payload(payload, signer)


def _licence_from_payload(payload: bytes, signer: str) -> Licence:
    def bad(reason: str) -> LicenceError:
        return LicenceError(_("The licence contents are invalid: {reason}.").format(reason=reason))

    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad(_("not JSON")) from None
    if not isinstance(data, dict):
        raise bad(_("not a JSON object"))
    if data.get("v") != FORMAT_VERSION:
        raise bad(_("format version {v!r} is not supported by this version of Venue Suite").format(
            v=data.get("v")))

    def get(name: str, kind: type) -> Any:
        value = data.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise bad(_("field {field!r} is missing or has the wrong type").format(field=name))
        return value

    def date(name: str) -> dt.date:
        try:
            return dt.date.fromisoformat(get(name, str))
        except ValueError:
            raise bad(_("field {field!r} is not a date").format(field=name)) from None

    features = get("features", list)
    if not all(isinstance(f, str) for f in features):
        raise bad(_("field {field!r} is missing or has the wrong type").format(field="features"))
    licence = Licence(
        licence_id=get("licence_id", str),
        chain_id=get("chain_id", str),
        licensee=get("licensee", str),
        features=tuple(features),
        max_terminals=get("max_terminals", int),
        max_activated_cards=get("max_activated_cards", int),
        issued=date("issued"),
        expires=date("expires"),
        grace_days=get("grace_days", int),
        key_id=signer,
    )
    problems = _problems(licence)
    if problems:
        raise bad("; ".join(problems))
    return licence
