"""The zh_CN catalogue is complete: every message extracted from the code has a translation
that keeps the message's format placeholders, and switching the language at run time works."""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest

import suite.i18n as i18n
import suite.i18n_build as i18n_build

LANGUAGE = "zh_CN"


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue() -> Iterator[None]:
    """Compile the .mo when it is missing or older than the .po (e.g. on a fresh checkout)."""
    po = i18n_build.po_path(LANGUAGE)
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        i18n_build.compile_all()
        i18n._catalogue.cache_clear()
    yield


def placeholders(text: str) -> set[str]:
    """The ``{...}`` fields of a format string, with their conversion and format spec."""
    found = set()
    for _literal, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        found.add(field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return found


def test_every_message_is_translated() -> None:
    missing = list(i18n_build.untranslated(LANGUAGE))
    assert not missing, f"{len(missing)} message(s) lack a {LANGUAGE} translation:\n" + "\n".join(
        f"  {m!r}" for m in missing)


def test_translations_keep_the_placeholders() -> None:
    catalog = i18n_build.read_catalog(LANGUAGE)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        try:
            expected = placeholders(ids[0])
        except ValueError:          # not a format string: nothing to keep
            continue
        for translation in strings:
            if not translation:
                continue
            try:
                got = placeholders(translation)
            except ValueError as exc:
                problems.append(f"{ids[0]!r} -> {translation!r}: not a valid format string ({exc})")
                continue
            if got != expected:
                problems.append(f"{ids[0]!r} -> {translation!r}: expected {sorted(expected)}, "
                                f"got {sorted(got)}")
    assert not problems, "\n".join(problems)


def test_plural_messages_share_placeholders() -> None:
    """A translation's single form serves both msgid and msgid_plural, so they must agree."""
    catalog = i18n_build.read_catalog(LANGUAGE)
    for message in catalog:
        if message.id and not isinstance(message.id, str):
            assert placeholders(message.id[0]) == placeholders(message.id[1]), message.id


def test_switching_language() -> None:
    previous = i18n.current_language()
    try:
        i18n.set_language(LANGUAGE)
        assert i18n._("Wrong username or password") == "用户名或密码错误"
        assert "整数" in i18n._("a whole number")
        assert "锁定" in i18n._("Too many failed logins: this account is locked until {time}.")
        text = i18n.ngettext("The licence allows {limit} terminal; {count} would be too many.",
                             "The licence allows {limit} terminals; {count} would be too many.", 3)
        assert "许可证" in text and "{limit}" in text and "{count}" in text
        i18n.set_language("en")
        assert i18n._("Wrong username or password") == "Wrong username or password"
    finally:
        i18n.set_language(previous)
