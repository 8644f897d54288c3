"""Translation of user-visible text (gettext, 简体中文 and English).

Messages are written in English in the code and wrapped in ``_()``; the catalogue for
``zh_CN`` lives in ``suite/locale``. The active language is process-wide state kept here
and set from configuration, the login screen or ``VENUE_SUITE_LANG``.
"""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

DOMAIN = "venue_suite"
LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("en", "zh_CN")

_language = os.environ.get("VENUE_SUITE_LANG", "en")


def normalise(language: str) -> str:
    lang = language.replace("-", "_").split(".")[0]
    if lang.lower().startswith("zh"):
        return "zh_CN"
    return "en"


def set_language(language: str) -> None:
    global _language
    _language = normalise(language)


def current_language() -> str:
    return normalise(_language)


@lru_cache(maxsize=8)
def _catalogue(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def _(message: str) -> str:
    """Translate ``message`` into the current language."""
    return _catalogue(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogue(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message
