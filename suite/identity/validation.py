"""Checking and normalising what administrators type: usernames, card UIDs, languages, codes."""

from __future__ import annotations

import re
import unicodedata

from suite.errors import InvalidInput
from suite.i18n import SUPPORTED, _
from suite.identity.actor import SYSTEM_USERNAME

MAX_USERNAME = 64
MAX_NAME = 200
_ROLE_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")
_SEPARATORS = str.maketrans("", "", " :-")


def login_name(raw: str) -> str:
    """The stored form of a username: NFKC, trimmed, lower-case (never raises)."""
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def username(raw: str) -> str:
    name = login_name(raw)
    if not name or len(name) > MAX_USERNAME or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise InvalidInput(_("A username needs 1 to {n} characters, without spaces.").format(n=MAX_USERNAME))
    if name == SYSTEM_USERNAME or name.startswith(SYSTEM_USERNAME + ":"):
        raise InvalidInput(_("The username {name} is reserved.").format(name=name))
    return name


def card_uid(raw: str) -> str:
    """Upper-case hex without separators: ``04:a2:b3:c4`` -> ``04A2B3C4``."""
    uid = (raw or "").translate(_SEPARATORS).upper()
    if not (8 <= len(uid) <= 32 and len(uid) % 2 == 0 and all(ch in "0123456789ABCDEF" for ch in uid)):
        raise InvalidInput(_("A card UID is 4 to 16 bytes in hexadecimal, e.g. 04A2B3C4."))
    return uid


def language(raw: str) -> str:
    lang = (raw or "").replace("-", "_")
    if lang not in SUPPORTED:
        raise InvalidInput(_("Language must be one of: {names}.").format(names=", ".join(SUPPORTED)))
    return lang


def display_name(raw: str) -> str:
    name = (raw or "").strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(_("A name can have at most {n} characters.").format(n=MAX_NAME))
    return name


def role_code(raw: str) -> str:
    code = (raw or "").strip()
    if not _ROLE_CODE.fullmatch(code):
        raise InvalidInput(_("A role code has 2 to 64 lower-case letters, digits or '_', "
                             "starting with a letter."))
    return code
