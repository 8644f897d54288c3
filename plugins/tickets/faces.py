"""Ticket faces (T8): what a printed ticket looks like, as data.

A face is a JSON list of elements printed top to bottom on 58 or 80 mm paper (see
docs/tickets-faces.md):

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

The ticket data a face is filled from is a plain dict (``TICKET_KEYS``): names and numbers
as the sales service knows them, amounts in integer fen, times as aware datetimes. Rendering
turns a face and a ticket into a ``printers`` layout and its data (``FaceJob``);
``print_tickets`` sends them to the terminal's ticket printer, and ``preview`` draws one
through the virtual printer's interpreter, so the set-up screen and the docs show exactly what
the printer would print.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field as dc_field
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image as PILImage
from PIL import ImageOps
from PIL import UnidentifiedImageError
from sqlalchemy import select

from printers import elements as el
from printers.elements import money
from printers.settings import PaperSettings
from suite.errors import Conflict, InvalidInput, SuiteError
from suite.i18n import N_, _, ngettext
from suite.identity.actor import Actor
from suite.inputs import text as clean_text

from plugins.tickets.core import TicketsCore
from plugins.tickets.models import FaceTemplate
from plugins.tickets.models.counter import PAPER_WIDTHS

PRINTER_KIND = "escpos-printer"
LAYOUT_ID = "ticket_face"
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

# The ticket data dict: key -> (required, what it holds). ``print_tickets`` and ``render`` take it.
TICKET_KEYS: dict[str, tuple[bool, str]] = {
    "serial": (True, "the ticket's short number (Ticket.serial)"),
    "code": (True, "the signed ticket code (Ticket.code): the QR code's content"),
    "venue": (False, "the venue's name"),
    "hall": (False, "the hall's name"),
    "programme": (False, "the programme's title"),
    "grade": (False, "the programme's grade (film grade), '' when none"),
    "starts_at": (False, "the session's start, an aware datetime (or ISO 8601 text); printed in venue time"),
    "row": (False, "the seat's row label ('' for a package or a standing ticket)"),
    "seat": (False, "the seat's label in its row"),
    "zone": (False, "the seat's zone name"),
    "ticket_type": (False, "the ticket type's name"),
    "price": (False, "what was paid for this ticket, integer fen"),
    "admits": (False, "people admitted (group tickets and packages), default 1"),
    "order_number": (False, "the order's number"),
    "cashier": (False, "the cashier's display name"),
    "terminal": (False, "the terminal's code"),
    "notice": (False, "a line of small print for this ticket (house rules, pickup note)"),
    "printed_at": (False, "when it is printed, an aware datetime (default: now)"),
    "reprint": (False, "true on a reprint: the REPRINT mark prints (print_tickets sets it)"),
}

# keys of the sales service's ticket dict taken in place of the face's own: hall_name over hall (its
# code there), order for order_number
ALIASES = {"hall": "hall_name", "order_number": "order"}


class NoTicketPrinter(SuiteError):
    code = "no_ticket_printer"


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


@dataclass
class FaceJob:
    """What the printers' render pipeline takes: ``render_job(job.layout, job.data, paper)``
    or ``printer.print_layout(job.layout, job.data)``."""

    layout: el.Layout
    data: dict[str, Any] = dc_field(default_factory=dict)
    paper: int = 80


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


def _paper(value: Any) -> int:
    if value not in PAPER_WIDTHS or isinstance(value, bool):
        raise InvalidInput(_("The paper must be 58 or 80 mm."))
    return int(value)


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
    paper = _paper(paper)
    return Face(code=f"{BUILTIN_PREFIX}{paper}", name=_("Built-in {mm} mm face").format(mm=paper), paper=paper,
                elements=check_layout(_builtin_layout(paper), has_image=False), builtin=True)


def _builtin_code(code: str) -> int | None:
    for paper in PAPER_WIDTHS:
        if code == f"{BUILTIN_PREFIX}{paper}":
            return paper
    return None


def face_of_row(row: FaceTemplate) -> Face:
    image = base64.b64decode(row.image) if row.image else b""
    return Face(code=row.code, name=row.name, paper=row.paper,
                elements=check_layout(json.loads(row.layout), has_image=bool(image)), image=image)


# ---------------------------------------------------------------- filling a face


def _local(value: Any, zone: ZoneInfo, what: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(_("The ticket's {what} is not a date and time: {value!r}.").format(
                what=what, value=value)) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InvalidInput(_("The ticket's {what} must be a date and time with its time zone.").format(what=what))
    return value.astimezone(zone)


def _plain(value: Any) -> str:
    return "" if value is None else str(value).strip()


def ticket_values(ticket: Mapping[str, Any], zone: ZoneInfo, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The ticket data dict as the printed values of every field ("" = not on this ticket)."""
    if not isinstance(ticket, Mapping):
        raise InvalidInput(_("A ticket to print is a dict of its data."))
    missing = [key for key, (required, _what) in TICKET_KEYS.items() if required and not _plain(ticket.get(key))]
    if missing:
        raise InvalidInput(_("The ticket {serial} cannot be printed without: {keys}.").format(
            serial=_plain(ticket.get("serial")) or "?", keys=", ".join(missing)))
    values = {name: "" for name in FIELDS}
    for key in ("venue", "hall", "programme", "grade", "row", "seat", "zone", "ticket_type", "serial",
                "order_number", "cashier", "terminal", "notice"):
        values[key] = _plain(ticket.get(key))
    for key, alias in ALIASES.items():          # the sales service's own ticket dict prints as it is
        values[key] = _plain(ticket.get(alias)) or values[key]
    starts = _local(ticket.get("starts_at"), zone, "starts_at")
    if starts is not None:
        values.update(session=starts.strftime("%Y-%m-%d %H:%M"), session_date=starts.strftime("%Y-%m-%d"),
                      session_time=starts.strftime("%H:%M"))
    if values["row"] and values["seat"]:
        values["row_seat"] = _("Row {row} Seat {seat}").format(row=values["row"], seat=values["seat"])
    else:
        values["row_seat"] = values["seat"]
    price = ticket.get("price")
    if price is not None:
        if isinstance(price, bool) or not isinstance(price, int):
            raise InvalidInput(_("The ticket's price must be whole fen, not {value!r}.").format(value=price))
        values["price"] = money(price)
    admits = 1 if ticket.get("admits") is None else ticket.get("admits")
    if isinstance(admits, bool) or not isinstance(admits, int) or admits < 1:
        raise InvalidInput(_("The ticket's admits must be a whole number of at least 1."))
    values["admits"] = str(admits) if admits > 1 else ""
    printed = _local(ticket.get("printed_at"), zone, "printed_at") or (now or dt.datetime.now(dt.timezone.utc)
                                                                       ).astimezone(zone)
    values["printed_at"] = printed.strftime("%Y-%m-%d %H:%M:%S")
    values["reprint"] = _("REPRINT") if ticket.get("reprint") else ""
    values["code"] = _plain(ticket.get("code"))
    return values


def _escape(text: str) -> str:
    """Static text as a ``str.format`` template that prints itself."""
    return text.replace("{", "{{").replace("}", "}}")


def logo_picture(png: bytes) -> PILImage.Image:
    """The logo on white, in grey levels (transparent parts print as paper)."""
    with PILImage.open(io.BytesIO(png)) as picture:
        picture = picture.convert("RGBA")
    paper = PILImage.new("RGBA", picture.size, (255, 255, 255, 255))
    return PILImage.alpha_composite(paper, picture).convert("L")


def render_face(face: Face, ticket: Mapping[str, Any], zone: ZoneInfo, *,
                now: dt.datetime | None = None) -> FaceJob:
    """``face`` filled with ``ticket``: a ``printers`` layout (ending with a cut) and its data."""
    data = ticket_values(ticket, zone, now=now)
    parts: list[el.Element] = []
    for element in face.elements:
        kind = element["kind"]
        if kind == "text":
            width, height = SIZES[element["size"]]
            # a built-in face's text is a message (translated when printed); a face's own is the user's
            parts.append(el.Text(element["text"] if face.builtin else _escape(element["text"]), bold=element["bold"],
                                 width=width, height=height, align=element["align"]))
        elif kind == "field":
            name, label = element["field"], element["label"]
            width, height = SIZES[element["size"]]
            value = "{" + name + "}"
            caption = FIELDS[name] if label is True else _escape(label) if label else ""
            if caption and width == 1:
                parts.append(el.Row(caption, value, bold=element["bold"], height=height, when=name))
            else:
                if caption:
                    parts.append(el.Text(caption, when=name))
                parts.append(el.Text(value, bold=element["bold"], width=width, height=height, align=element["align"],
                                     when=name))
        elif kind == "qr":
            parts.append(el.Qr("{code}", size=element["size"], ec=element["ec"], align=element["align"]))
        elif kind == "image":
            parts.append(el.Image("logo", align=element["align"]))
        elif kind == "line":
            parts.append(el.Separator(element["char"]))
        elif kind == "feed":
            parts.append(el.Feed(element["lines"]))
    parts.append(el.Cut())
    if face.image:
        data["logo"] = logo_picture(face.image)
    return FaceJob(el.Layout(LAYOUT_ID, tuple(parts)), data, face.paper)


def sample_ticket(chinese: bool = False) -> dict[str, Any]:
    """A plausible ticket (for previews and the docs), with a genuinely signed sample code."""
    from plugins.tickets.codes import TicketClaims, TicketSigner

    starts = dt.datetime(2026, 11, 22, 11, 30, tzinfo=dt.timezone.utc)   # 19:30 in Shanghai
    claims = TicketClaims(serial="T2611220042", venue="CINEMA-01", session="S1930", hall="H3", row="F", seat="12",
                          ticket_type="ADULT", category="adult", admits=1, starts=int(starts.timestamp()),
                          ends=int(starts.timestamp()) + 8400)
    return {
        "serial": claims.serial, "code": TicketSigner(bytes(range(32))).sign(claims),
        "venue": "星光影城 万达店" if chinese else "Starlight Cinema Riverside",
        "hall": "3号厅 IMAX" if chinese else "Hall 3 IMAX",
        "programme": "流浪地球2" if chinese else "The Wandering Earth 2",
        "grade": "B", "starts_at": starts, "row": "F", "seat": "12", "zone": "中区" if chinese else "Centre",
        "ticket_type": "成人" if chinese else "Adult", "price": 4500, "admits": 1,
        "order_number": "O-20261122-0017", "cashier": "王芳" if chinese else "Alice", "terminal": "BOX-03",
        "notice": "开场 20 分钟后不再入场" if chinese else "No entry 20 minutes after the start",
        "printed_at": dt.datetime(2026, 11, 22, 10, 58, 12, tzinfo=dt.timezone.utc),
    }


def preview_job(face: Face, sample: Mapping[str, Any] | None = None, *, zone: ZoneInfo | None = None,
                chinese: str = "gb18030") -> Any:
    """``face`` filled with ``sample`` (default: ``sample_ticket()``), rendered for its paper and
    interpreted by the virtual printer: its ``PrintedJob`` (``image``, ``transcript``, ``errors``)."""
    from printers.render import render_job
    from printers.virtual.interpreter import CommandParser
    from printers.virtual.page import Page

    paper = PaperSettings(face.paper, chinese)
    job = render_face(face, sample if sample is not None else sample_ticket(), zone or ZoneInfo("Asia/Shanghai"))
    raw = render_job(job.layout, job.data, paper)
    parser, page = CommandParser(), Page(paper.dots)
    for command in parser.feed(raw) + parser.finish():
        page.apply(command)
    return page.finish()


def preview_png(face: Face, sample: Mapping[str, Any] | None = None, *, zone: ZoneInfo | None = None,
                framed: bool = True) -> bytes:
    """The printed ticket as PNG bytes: exactly the printer's dots, or (``framed``) the ticket
    as it comes out: white paper with its unprinted edges, the feed before the cut trimmed, on a
    grey desk with a shadow."""
    printed = preview_job(face, sample, zone=zone)
    paper = printed.image.convert("RGB")
    if framed:
        inked = ImageOps.invert(printed.image.convert("L")).getbbox()
        bottom = min(paper.height, (inked[3] if inked else 0) + 36)
        edge, margin, shadow = 16, 24, 4
        ticket = PILImage.new("RGB", (paper.width + 2 * edge, bottom + edge), (255, 255, 255))
        ticket.paste(paper.crop((0, 0, paper.width, bottom)), (edge, edge))
        desk = PILImage.new("RGB", (ticket.width + 2 * margin, ticket.height + 2 * margin), (226, 229, 233))
        desk.paste((184, 188, 194), (margin + shadow, margin + shadow, margin + shadow + ticket.width,
                                     margin + shadow + ticket.height))
        desk.paste(ticket, (margin, margin))
        paper = desk
    out = io.BytesIO()
    paper.save(out, format="PNG", optimize=True)
    return out.getvalue()


# ---------------------------------------------------------------- the service


class FacesService(TicketsCore):
    """Face templates: add, edit, list, get (``tickets.setup``; reading: ``tickets.view``),
    render and preview."""

    def add_face(self, actor: Actor, *, code: str, name: str, layout: Any, paper: int = 80,
                 image: bytes | str | None = None) -> dict[str, Any]:
        self._begin(actor, "tickets.setup", admin=True)
        code = clean_text(code, _("The face code"), 32)
        if _builtin_code(code) is not None or code.startswith(BUILTIN_PREFIX):
            raise Conflict(_("The face code {code} is reserved for the built-in faces.").format(code=code))
        name = clean_text(name, _("The face name"), 100)
        paper = _paper(paper)
        png = check_image(image)
        elements = check_layout(layout, has_image=bool(png))
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(FaceTemplate.id).where(FaceTemplate.code == code)) is not None:
                raise Conflict(_("The face {code} exists already.").format(code=code))
            row = FaceTemplate(code=code, name=name, paper=paper, layout=json.dumps(elements, ensure_ascii=False),
                               image=base64.b64encode(png).decode("ascii") if png else "",
                               venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(row)
            self._audit(session, actor, "tickets.face.create", code,
                        {"name": name, "paper": paper, "elements": len(elements), "image_bytes": len(png)})
            uow.commit()
            return face_of_row(row).as_dict()

    def edit_face(self, actor: Actor, code: str, *, name: str | None = None, layout: Any = None,
                  paper: int | None = None, image: bytes | str | None = None) -> dict[str, Any]:
        """Change what is given; ``image=b""`` (or ``""``) removes the logo."""
        self._begin(actor, "tickets.setup", admin=True)
        if _builtin_code(code) is not None:
            raise Conflict(_("The built-in face {code} cannot be changed: add a face of your own.").format(code=code))
        with self._uow() as uow:
            session = uow.session
            row = self._by_code(session, FaceTemplate, code, _("ticket face"), lock=True)
            changes: dict[str, Any] = {}
            if name is not None:
                row.name = changes["name"] = clean_text(name, _("The face name"), 100)
            if paper is not None:
                row.paper = changes["paper"] = _paper(paper)
            if image is not None:
                png = check_image(image)
                row.image = base64.b64encode(png).decode("ascii") if png else ""
                changes["image_bytes"] = len(png)
            current = json.loads(row.layout) if layout is None else layout
            elements = check_layout(current, has_image=bool(row.image))
            if layout is not None:
                changes["elements"] = len(elements)
            row.layout = json.dumps(elements, ensure_ascii=False)
            self._audit(session, actor, "tickets.face.edit", code, changes)
            uow.commit()
            return face_of_row(row).as_dict()

    def list_faces(self, actor: Actor) -> list[dict[str, Any]]:
        """The built-in faces, then the venue's own by code (without the image bytes)."""
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            rows = uow.session.scalars(select(FaceTemplate).order_by(FaceTemplate.code)).all()
            faces = [builtin_face(p) for p in PAPER_WIDTHS] + [face_of_row(r) for r in rows]
        chosen = self.settings.face
        return [{**f.as_dict(with_image=False), "elements": len(f.elements),
                 "in_use": f.code == chosen or (not chosen and f.builtin)} for f in faces]

    def get_face(self, actor: Actor, code: str) -> dict[str, Any]:
        self._begin(actor, "tickets.view", admin=True)
        return self.face(code).as_dict()

    def face(self, code: str) -> Face:
        """The face ``code`` (built-in or stored), without a permission check: printing uses it."""
        paper = _builtin_code(code)
        if paper is not None:
            return builtin_face(paper)
        with self._uow.read() as uow:
            return face_of_row(self._by_code(uow.session, FaceTemplate, code, _("ticket face")))

    def render(self, face: Face | Mapping[str, Any], ticket: Mapping[str, Any]) -> FaceJob:
        """``face`` filled with ``ticket``, times in the venue's zone."""
        return render_face(as_face(face), ticket, self.settings.zone, now=self.now())

    def preview(self, face: Face | Mapping[str, Any], sample: Mapping[str, Any] | None = None, *,
                framed: bool = True) -> bytes:
        """PNG bytes of ``face`` printed with ``sample`` (default: ``sample_ticket()``)."""
        return preview_png(as_face(face), sample, zone=self.settings.zone, framed=framed)


def as_face(face: Face | Mapping[str, Any]) -> Face:
    """A ``Face`` from itself or from ``get_face``'s dict (or a draft being edited: checked here)."""
    if isinstance(face, Face):
        return face
    if not isinstance(face, Mapping):
        raise InvalidInput(_("A face is a Face or a dict with its paper and layout."))
    png = check_image(face.get("image"))
    return Face(code=str(face.get("code") or "draft"), name=str(face.get("name") or ""),
                paper=_paper(face.get("paper", 80)), elements=check_layout(face.get("layout"), has_image=bool(png)),
                image=png, builtin=bool(face.get("builtin")))


# ---------------------------------------------------------------- printing


def printer_ids(app: Any) -> list[str]:
    """The terminal's ``escpos-printer`` devices, in configuration order."""
    return [str(device_id) for device_id, table in (app.settings.devices or {}).items()
            if isinstance(table, Mapping) and table.get("kind") == PRINTER_KIND]


@contextlib.contextmanager
def open_device(app: Any, device_id: str) -> Iterator[Any]:
    """The printer ``device_id`` from the device host (the desktop suite started it), or, where
    no device host runs (the command line), opened from the configuration for this job."""
    devices = app.extras.get("devices") if isinstance(getattr(app, "extras", None), dict) else None
    if devices is not None:
        yield devices.device(device_id)
        return
    from printers.device import open_printer
    from suite.device_host import DeviceConfig

    options = dict(app.settings.devices[device_id])
    options.pop("kind", None)
    options.setdefault("data_dir", str(app.settings.data_dir))
    printer = open_printer(DeviceConfig(device_id, PRINTER_KIND, options), lambda _event: None)
    try:
        yield printer
    finally:
        printer.stop()


def ticket_printer_id(app: Any, preferred: Sequence[str] = ()) -> str:
    """The first configured of ``preferred`` (device ids, "" skipped), else the terminal's first
    ESC/POS printer; ``NoTicketPrinter`` when it has none."""
    configured = printer_ids(app)
    for device_id in preferred:
        if device_id:
            if device_id not in configured:
                raise NoTicketPrinter(_("The printer {id} named in [plugins.tickets] is not an ESC/POS printer "
                                        "of this terminal ([devices.{id}]).").format(id=device_id))
            return device_id
    if not configured:
        raise NoTicketPrinter(_("No ticket printer is configured for this terminal, so no ticket was printed."))
    return configured[0]


def _paper_of(printer: Any) -> PaperSettings:
    settings = getattr(printer, "settings", None)
    paper = getattr(settings, "paper", None)
    return paper if isinstance(paper, PaperSettings) else PaperSettings()


def print_tickets(app: Any, tickets_data: Sequence[Mapping[str, Any]], reprint: bool = False, *,
                  face: Face | None = None) -> dict[str, Any]:
    """Print each ticket (one job, one cut each) on the ticket printer (``[plugins.tickets]
    ticket_printer``, else the terminal's first ESC/POS printer) with the configured face (the
    built-in one for that printer's paper when ``face`` is empty). ``reprint`` prints the
    REPRINT mark. Returns ``{"printer", "face", "printed": [serials]}``.

    Every ticket is rendered before anything is sent, so bad data prints nothing. When the
    printer fails (out of paper, offline, unreachable) the ticket it failed on and every ticket
    after it wait in the printer's reprint queue, and the printer's ``PrinterError`` (translated)
    says so: ``details`` hold ``printed`` (serials), ``queued`` ({serial: job number}) and
    ``job_ids``. Printing never touches the sale; the caller counts ``Ticket.printed``."""
    from plugins.tickets.settings import settings_of

    settings = settings_of(app)
    tickets = list(tickets_data)
    if not tickets:
        raise InvalidInput(_("There is no ticket to print."))
    device_id = ticket_printer_id(app, (settings.ticket_printer,))
    with open_device(app, device_id) as printer:
        paper = _paper_of(printer)
        if face is None:
            if settings.face:
                face = FacesService.from_app(app).face(settings.face)
            else:
                face = builtin_face(paper.paper_mm)
        from printers.render import render_job

        now = dt.datetime.now(dt.timezone.utc)
        jobs = []
        for ticket in tickets:
            job = render_face(face, {**ticket, "reprint": bool(reprint or ticket.get("reprint"))}, settings.zone,
                              now=now)
            jobs.append((str(ticket["serial"]), render_job(job.layout, job.data, paper)))
        printed: list[str] = []
        for index, (serial, raw) in enumerate(jobs):
            try:
                printer.print_bytes(raw, LAYOUT_ID)
            except SuiteError as exc:
                raise _not_printed(printer, exc, jobs, index, printed) from None
            printed.append(serial)
    return {"printer": device_id, "face": face.code, "printed": printed}


def _not_printed(printer: Any, exc: SuiteError, jobs: list[tuple[str, bytes]], index: int,
                 printed: list[str]) -> SuiteError:
    """The printer's error, saying which tickets printed and where the others wait."""
    first = exc.details.get("job_id") if isinstance(exc.details, Mapping) else None
    if not isinstance(first, int):
        return exc            # not queued (no printer queue behind it): the error says why
    queued = {jobs[index][0]: first}
    reason = exc.message
    with contextlib.suppress(Exception):
        reason = printer.queue.get(first)[0].error
    for serial, raw in jobs[index + 1:]:
        queued[serial] = printer.queue.add(raw, LAYOUT_ID, reason)
    parts = [exc.message]
    more = len(jobs) - index - 1
    if more:
        parts.append(ngettext("{count} more ticket was not sent and waits in the reprint queue as number {jobs}.",
                              "{count} more tickets were not sent and wait in the reprint queue as numbers {jobs}.",
                              more).format(count=more, jobs=", ".join(str(queued[s]) for s, _raw in jobs[index + 1:])))
    if len(jobs) > 1:
        parts.append(_("Tickets printed: {printed} of {total}.").format(printed=len(printed), total=len(jobs)))
    error = type(exc)(" ".join(parts), job_id=first, job_ids=list(queued.values()), printed=list(printed),
                      queued=queued)
    return error


__all__ = ["BUILTIN_PREFIX", "FIELDS", "Face", "FaceJob", "FacesService", "KINDS", "LAYOUT_ID", "NoTicketPrinter",
           "SIZES", "TICKET_KEYS", "as_face", "builtin_face", "check_layout", "open_device", "preview_job",
           "preview_png", "print_tickets", "printer_ids", "render_face", "sample_ticket", "ticket_printer_id",
           "ticket_values"]
