"""Filling a ticket face (T8, docs/tickets-faces.md): a face and a ticket's data become a
``printers`` layout and its data (``FaceJob``), and a preview drawn by the virtual printer's
interpreter, so the set-up screen and the docs show exactly what the printer would print.

The ticket data a face is filled from is a plain dict (``TICKET_KEYS``): names and numbers as
the sales service knows them, amounts in integer fen, times as aware datetimes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field as dc_field
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image as PILImage
from PIL import ImageOps

from printers import elements as el
from printers.elements import money
from printers.settings import PaperSettings
from suite.errors import InvalidInput
from suite.i18n import _

from plugins.tickets.face_layout import FIELDS, SIZES, Face

LAYOUT_ID = "ticket_face"

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


@dataclass
class FaceJob:
    """What the printers' render pipeline takes: ``render_job(job.layout, job.data, paper)``
    or ``printer.print_layout(job.layout, job.data)``."""

    layout: el.Layout
    data: dict[str, Any] = dc_field(default_factory=dict)
    paper: int = 80


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


# ---------------------------------------------------------------- previews


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


__all__ = ["ALIASES", "FaceJob", "LAYOUT_ID", "TICKET_KEYS", "logo_picture", "preview_job", "preview_png",
           "render_face", "sample_ticket", "ticket_values"]
