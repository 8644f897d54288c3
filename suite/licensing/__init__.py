"""Signed licences and the feature checks every service makes (H3). See docs/licensing.md."""

from __future__ import annotations

from suite.licensing.licence import (
    FEATURE_ID_RE,
    Licence,
    generate_keypair,
    issue,
    key_id,
    parse_and_verify,
    public_key_b64,
)
from suite.licensing.service import (
    SIGNING_KEY_SECRET,
    InstalledLicenceInfo,
    LicenceService,
    LicenceState,
    LicenceStatus,
    Purpose,
    refusal,
    status_of,
)

__all__ = [
    "FEATURE_ID_RE",
    "SIGNING_KEY_SECRET",
    "InstalledLicenceInfo",
    "Licence",
    "LicenceService",
    "LicenceState",
    "LicenceStatus",
    "Purpose",
    "generate_keypair",
    "issue",
    "key_id",
    "parse_and_verify",
    "public_key_b64",
    "refusal",
    "status_of",
]
