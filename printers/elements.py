"""The pieces a print layout is made of, and how placeholders are filled from a data dict.

A layout is data: a ``Layout`` holds a tuple of elements (``Text``, ``Row``, ``Rows``,
``Separator``, ``Qr``, ``Barcode``, ``Image``, ``Feed``, ``Cut``). Texts are templates in
``str.format`` syntax filled from the job's data dict; ``{amount:money}`` shows integer minor
units as ``12.50``. Human labels are marked with ``N_()`` where the layout is written and
translated when the job is rendered, so a layout prints in the operator's language. An element
with ``when="key"`` prints only when ``data[key]`` is present and not empty.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

from suite.errors import InvalidInput
from suite.i18n import _

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    """One paragraph, wrapped to the paper width."""

    text: str
    bold: bool = False
    width: int = 1          # 1 or 2: double width
    height: int = 1         # 1 or 2: double height
    align: Align = "left"
    when: str | None = None


@dataclass(frozen=True)
class Row:
    """A label on the left and a value (an amount) right-aligned on the same line."""

    left: str
    right: str
    bold: bool = False
    height: int = 1
    when: str | None = None


@dataclass(frozen=True)
class Rows:
    """One ``Row`` per entry of the list ``data[items]``; each entry (a dict) adds its own keys."""

    items: str
    left: str
    right: str
    when: str | None = None


@dataclass(frozen=True)
class Separator:
    char: str = "-"
    when: str | None = None


@dataclass(frozen=True)
class Qr:
    """A QR code of ``data`` (a template); ``size`` is the module size in dots, reduced when the
    code would not fit the paper with its quiet zone."""

    data: str
    size: int = 6
    ec: Literal["L", "M", "Q", "H"] = "M"
    align: Align = "center"
    when: str | None = None


@dataclass(frozen=True)
class Barcode:
    data: str
    kind: str = "CODE128"
    height: int = 64
    module: int = 2
    when: str | None = None


@dataclass(frozen=True)
class Image:
    """A picture (a logo): ``source`` names a data key holding a file path or a PIL image."""

    source: str
    align: Align = "center"
    when: str | None = None


@dataclass(frozen=True)
class Feed:
    lines: int = 1
    when: str | None = None


@dataclass(frozen=True)
class Cut:
    partial: bool = False
    when: str | None = None


Element = Union[Text, Row, Rows, Separator, Qr, Barcode, Image, Feed, Cut]


@dataclass(frozen=True)
class Layout:
    id: str
    elements: tuple[Element, ...]


def money(minor: Any) -> str:
    """``1250`` -> ``"12.50"``; amounts are integers in minor units (fen, cents)."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise ValueError(minor)
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole:,}.{cents:02d}"


class _Filler(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "money":
            return money(value)
        return super().format_field(value, format_spec)


def fill(template: str, data: Mapping[str, Any], layout_id: str) -> str:
    """Translate ``template`` and fill its placeholders; a missing or wrong value is a clear error."""
    try:
        return _Filler().vformat(_(template), (), data)
    except KeyError as exc:
        raise InvalidInput(_("Print layout {layout}: the data has no value for {key}.").format(
            layout=layout_id, key=exc.args[0])) from None
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise InvalidInput(_("Print layout {layout}: cannot fill {template!r}: {reason}").format(
            layout=layout_id, template=template, reason=exc)) from None


def applies(element: Element, data: Mapping[str, Any]) -> bool:
    return element.when is None or data.get(element.when) not in (None, "", [], ())
