"""What a ticket face is (T8, docs/tickets-faces.md): its elements, checked and completed with
their defaults, its logo, its paper, and the two built-in faces.

A face is a JSON list of elements printed top to bottom on 58 or 80 mm paper:

- ``{"kind": "text", "text": "...", "size": "normal", "bold": false, "align": "left"}``: static text;
- ``{"kind": "field", "field": "seat", "label": true, ...}``: a value of the ticket (``FIELDS``),
  with its translated label on the left and the value on the right, or the value alone
  (``"label": false``), or a label of one's own (``"label": "座位"``); a field with no value
  on this ticket (a package has no seat) prints nothing;
- ``{"kind": "qr", "size": 6, "ec": "M", "align": "center"}``: the signed ticket code (the gate reads it);
- ``{"kind": "image", "align": "center"}``: the face's logo (a PNG stored with it);
- ``{"kind": "line", "char": "-"}``: a separator across the paper; ``{"kind": "feed", "lines": 1}``.

``size`` is ``normal``, ``tall`` (double height), ``wide`` (double width) or ``big`` (both).
Every face ends with a cut. ``builtin-58`` and ``builtin-80`` are the built-in faces, used when
``[plugins.tickets] face`` is empty (the one for the ticket printer's paper).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from suite.errors import InvalidInput
from suite.i18n import N_, _

from plugins.tickets.models.counter import PAPER_WIDTHS

BUILTIN_PREFIX = "builtin-"
MAX_ELEMENTS = 60
MAX_TEXT = 200
MAX_IMAGE_BYTES = 256 * 1024
MAX_IMAGE_SIDE = 2000  # pixels; the printer scales a wider logo down to the paper

KINDS = ("text", "field", "qr", "image", "line", "feed")
ALIGNS = ("left", "center", "right")
SIZES: dict[str, tuple[int, int]] = {"normal": (1, 1), "tall": (1, 2), "wide": (2, 1), "big": (2, 2)}
QR_LEVELS = ("L", "M", "Q", "H")

# field name -> its label (translated when the ticket is printed)
FIELDS: dict[str, str] = {
    "venue": N_("Venue"),
    "hall": N_("Hall"),
    "programme": N_("Programme"),
    "grade": N_("Grade"),
    "session": N_("Session"),
    "session_date": N_("Date"),
    "session_time": N_("Time"),
    "row": N_("Row"),
    "seat": N_("Seat"),
    "row_seat": N_("Seat"),
    "zone": N_("Zone"),
    "ticket_type": N_("Ticket type"),
    "price": N_("Price"),
    "admits": N_("Admits"),
    "serial": N_("Ticket No."),
    "order_number": N_("Order No."),
    "cashier": N_("Cashier"),
    "terminal": N_("Terminal"),
    "printed_at": N_("Printed at"),
    "reprint": N_("Reprint"),
    "notice": N_("Notice"),
}
# fields printed without their label unless the face asks for it
UNLABELLED = frozenset({"venue", "programme", "reprint", "notice"})


@dataclass(frozen=True)
class Face:
    """A face ready to render: its elements checked and completed with their defaults."""

    code: str
    name: str
    paper: int
    elements: tuple[dict[str, Any], ...]
    image: bytes = b""  # the logo, PNG
    builtin: bool = False

    def as_dict(self, *, with_image: bool = True) -> dict[str, Any]:
        found: dict[str, Any] = {"code": self.code, "name": self.name, "paper": self.paper,
                                 "layout": [dict(e) for e in self.elements], "builtin": self.builtin,
                                 "has_image": bool(self.image)}
        if with_image:
            found["image"] = base64.b64encode(self.image).decode("ascii") if self.image else ""
        return found


# ---------------------------------------------------------------- checking a face


def _problem(index: int, message: str) -> InvalidInput:
    return InvalidInput(_("Element {n}: {problem}").format(n=index, problem=message), element=index)


def _choice(index: int, value: Any, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise _problem(index, _("{what} must be one of: {choices}.").format(what=what, choices=", ".join(choices)))
    return str(value)


def _flag(index: int, value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise _problem(index, _("{what} must be true or false.").format(what=what))
    return value


def _number(index: int, value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _problem(index, _("{what} must be a whole number from {low} to {high}.").format(
            what=what, low=low, high=high))
    return value


def _words(index: int, value: Any, what: str, *, required: bool = True) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT or (required and not value.strip()):
        raise _problem(index, _("{what} is required, as text of at most {n} characters.").format(
            what=what, n=MAX_TEXT))
    return value


# kind -> {setting: default}; "text" and "field" have no default for their main setting
_SETTINGS: dict[str, dict[str, Any]] = {
    "text": {"text": None, "size": "normal", "bold": False, "align": "left"},
    "field": {"field": None, "label": None, "size": "normal", "bold": False, "align": "left"},
    "qr": {"size": 6, "ec": "M", "align": "center"},
    "image": {"align": "center"},
    "line": {"char": "-"},
    "feed": {"lines": 1},
}


def check_element(index: int, raw: Any) -> dict[str, Any]:
    """One element with every setting checked and the missing ones filled with their defaults."""
    if not isinstance(raw, Mapping):
        raise _problem(index, _("an element is an object with a kind, like {example}.").format(
            example='{"kind": "text", "text": "..."}'))
    kind = raw.get("kind")
    if kind not in KINDS:
        raise _problem(index, _("unknown kind {kind!r}; the kinds are: {kinds}.").format(
            kind=kind, kinds=", ".join(KINDS)))
    settings = _SETTINGS[kind]
    unknown = sorted(str(k) for k in raw if k != "kind" and k not in settings)
    if unknown:
        raise _problem(index, _("unknown setting {key!r} for a {kind} element; it takes: {keys}.").format(
            key=unknown[0], kind=kind, keys=", ".join(settings)))
    value = {**settings, **{k: v for k, v in raw.items() if k != "kind"}}
    element: dict[str, Any] = {"kind": kind}
    if kind == "text":
        element["text"] = _words(index, value["text"], _("The text"))
    if kind == "field":
        name = value["field"]
        if name not in FIELDS:
            raise _problem(index, _("unknown field {name!r}; the fields are: {names}.").format(
                name=name, names=", ".join(FIELDS)))
        element["field"] = name
        label = value["label"]
        if label is None:
            label = name not in UNLABELLED
        if not isinstance(label, bool):
            label = _words(index, label, _("The label"))
        element["label"] = label
    if kind in ("text", "field"):
        element["size"] = _choice(index, value["size"], tuple(SIZES), _("The size"))
        element["bold"] = _flag(index, value["bold"], _("Bold"))
    if kind == "qr":
        element["size"] = _number(index, value["size"], _("The QR module size"), 1, 16)
        element["ec"] = _choice(index, value["ec"], QR_LEVELS, _("The error correction level"))
    if "align" in settings:
        element["align"] = _choice(index, value["align"], ALIGNS, _("The alignment"))
    if kind == "line":
        char = value["char"]
        if not isinstance(char, str) or len(char) != 1 or not char.isprintable() or char == " " or not char.isascii():
            raise _problem(index, _("the line is drawn with one printable ASCII character, like - or =."))
        element["char"] = char
    if kind == "feed":
        element["lines"] = _number(index, value["lines"], _("The number of blank lines"), 1, 10)
    return element


def check_layout(layout: Any, *, has_image: bool) -> tuple[dict[str, Any], ...]:
    """A face's elements (a list, or its JSON text), checked; ``InvalidInput`` names the element."""
    if isinstance(layout, (str, bytes)):
        try:
            layout = json.loads(layout)
        except ValueError as exc:
            raise InvalidInput(_("The layout is not valid JSON: {reason}").format(reason=exc)) from None
    if not isinstance(layout, (list, tuple)) or not layout:
        raise InvalidInput(_("The layout must be a non-empty list of elements."))
    if len(layout) > MAX_ELEMENTS:
        raise InvalidInput(_("A face has at most {n} elements.").format(n=MAX_ELEMENTS))
    elements = tuple(check_element(i, raw) for i, raw in enumerate(layout, start=1))
    if not any(e["kind"] == "qr" for e in elements):
        raise InvalidInput(_("A ticket face needs a QR code element: the gates read the ticket's code from it."))
    if not has_image and any(e["kind"] == "image" for e in elements):
        raise InvalidInput(_("The face prints its logo (an image element) but has no image."))
    return elements


def check_image(image: bytes | str | None) -> bytes:
    """A logo as PNG bytes (given as bytes or base64 text); b"" for none."""
    if image is None or image in (b"", ""):
        return b""
    if isinstance(image, str):
        try:
            image = base64.b64decode(image.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(_("The image is not base64 text of a PNG picture.")) from None
    if not isinstance(image, (bytes, bytearray)):
        raise InvalidInput(_("The image is not base64 text of a PNG picture."))
    if len(image) > MAX_IMAGE_BYTES:
        raise InvalidInput(_("The image is too large: at most {kb} kB.").format(kb=MAX_IMAGE_BYTES // 1024))
    try:
        with PILImage.open(io.BytesIO(image)) as picture:
            kind, size = picture.format, picture.size
            picture.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(_("The image is not a PNG picture.")) from None
    if kind != "PNG":
        raise InvalidInput(_("The image is not a PNG picture."))
    if max(size) > MAX_IMAGE_SIDE or min(size) < 1:
        raise InvalidInput(_("The image is too large: at most {px} pixels a side.").format(px=MAX_IMAGE_SIDE))
    return bytes(image)


def check_paper(value: Any) -> int:
    """A face's paper width in mm: 58 or 80."""
    if value not in PAPER_WIDTHS or isinstance(value, bool):
        raise InvalidInput(_("The paper must be 58 or 80 mm."))
    return int(value)


def as_face(face: Face | Mapping[str, Any]) -> Face:
    """A ``Face`` from itself or from ``get_face``'s dict (or a draft being edited: checked here)."""
    if isinstance(face, Face):
        return face
    if not isinstance(face, Mapping):
        raise InvalidInput(_("A face is a Face or a dict with its paper and layout."))
    png = check_image(face.get("image"))
    return Face(code=str(face.get("code") or "draft"), name=str(face.get("name") or ""),
                paper=check_paper(face.get("paper", 80)),
                elements=check_layout(face.get("layout"), has_image=bool(png)),
                image=png, builtin=bool(face.get("builtin")))


# ---------------------------------------------------------------- the built-in faces


def _builtin_layout(paper: int) -> list[dict[str, Any]]:
    narrow = paper == 58
    return [
        {"kind": "field", "field": "venue", "bold": True, "align": "center", "size": "tall"},
        {"kind": "line", "char": "="},
        {"kind": "field", "field": "programme", "bold": True, "align": "center", "size": "tall" if narrow else "big"},
        {"kind": "line"},
        {"kind": "field", "field": "session", "bold": True},
        {"kind": "field", "field": "hall"},
        {"kind": "field", "field": "row_seat", "bold": True, "size": "tall"},
        {"kind": "field", "field": "zone"},
        {"kind": "field", "field": "ticket_type"},
        {"kind": "field", "field": "admits"},
        {"kind": "field", "field": "price"},
        {"kind": "field", "field": "serial"},
        {"kind": "field", "field": "order_number"},
        {"kind": "feed"},
        {"kind": "qr", "size": 5 if narrow else 6},
        {"kind": "text", "text": N_("Show this code at the gate"), "align": "center"},
        {"kind": "field", "field": "notice", "align": "center"},
        {"kind": "field", "field": "reprint", "bold": True, "align": "center", "size": "big"},
        {"kind": "line"},
        {"kind": "field", "field": "cashier"},
        {"kind": "field", "field": "printed_at"},
    ]


def builtin_face(paper: int) -> Face:
    """The built-in face for ``paper`` mm (``builtin-58``, ``builtin-80``)."""
    paper = check_paper(paper)
    return Face(code=f"{BUILTIN_PREFIX}{paper}", name=_("Built-in {mm} mm face").format(mm=paper), paper=paper,
                elements=check_layout(_builtin_layout(paper), has_image=False), builtin=True)


def builtin_paper(code: str) -> int | None:
    """The paper of the built-in face ``code``; ``None`` when ``code`` is not a built-in face."""
    for paper in PAPER_WIDTHS:
        if code == f"{BUILTIN_PREFIX}{paper}":
            return paper
    return None


__all__ = ["ALIGNS", "BUILTIN_PREFIX", "FIELDS", "Face", "KINDS", "MAX_ELEMENTS", "MAX_IMAGE_BYTES", "MAX_IMAGE_SIDE",
           "MAX_TEXT", "QR_LEVELS", "SIZES", "UNLABELLED", "as_face", "builtin_face", "builtin_paper", "check_element",
           "check_image", "check_layout", "check_paper"]
