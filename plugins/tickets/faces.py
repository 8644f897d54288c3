"""Ticket faces (T8): what a printed ticket looks like, as data.

A face is a JSON list of elements printed top to bottom on 58 or 80 mm paper (see
docs/tickets-faces.md and ``plugins.tickets.face_layout``): static text, fields of the ticket
(``FIELDS``), the signed ticket code as a QR code, the face's logo, separators and blank lines;
every face ends with a cut. ``builtin-58`` and ``builtin-80`` are the built-in faces, used when
``[plugins.tickets] face`` is empty (the one for the ticket printer's paper).

The ticket data a face is filled from is a plain dict (``TICKET_KEYS``): names and numbers
as the sales service knows them, amounts in integer fen, times as aware datetimes. Rendering
turns a face and a ticket into a ``printers`` layout and its data (``FaceJob``);
``print_tickets`` sends them to the terminal's ticket printer, and ``preview`` draws one
through the virtual printer's interpreter, so the set-up screen and the docs show exactly what
the printer would print.

The parts, each on the ones before it; this module re-exports them:

===================================  ==========================================================
``plugins.tickets.face_layout``      ``Face``, the elements and their settings, checking a
                                     layout, a logo and the paper (``check_layout``,
                                     ``as_face``), the built-in faces (``builtin_face``)
``plugins.tickets.face_render``      the ticket data (``TICKET_KEYS``), ``render_face`` into a
                                     ``FaceJob``, previews (``sample_ticket``, ``preview_png``)
``plugins.tickets.face_templates``   ``FacesService``: a venue's own faces (add, edit, list,
                                     get), render and preview
``plugins.tickets.face_printing``    ``print_tickets`` on the ticket printer, ``open_device``,
                                     ``ticket_printer_id``, ``NoTicketPrinter``
===================================  ==========================================================
"""

from __future__ import annotations

from plugins.tickets.face_layout import (
    ALIGNS, BUILTIN_PREFIX, FIELDS, KINDS, MAX_ELEMENTS, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, MAX_TEXT, QR_LEVELS, SIZES,
    UNLABELLED, Face, as_face, builtin_face, builtin_paper, check_element, check_image, check_layout, check_paper,
)
from plugins.tickets.face_printing import (
    PRINTER_KIND, NoTicketPrinter, open_device, print_tickets, printer_ids, ticket_printer_id,
)
from plugins.tickets.face_render import (
    ALIASES, LAYOUT_ID, TICKET_KEYS, FaceJob, logo_picture, preview_job, preview_png, render_face, sample_ticket,
    ticket_values,
)
from plugins.tickets.face_templates import FacesService, face_of_row

__all__ = ["ALIASES", "ALIGNS", "BUILTIN_PREFIX", "FIELDS", "Face", "FaceJob", "FacesService", "KINDS", "LAYOUT_ID",
           "MAX_ELEMENTS", "MAX_IMAGE_BYTES", "MAX_IMAGE_SIDE", "MAX_TEXT", "NoTicketPrinter", "PRINTER_KIND",
           "QR_LEVELS", "SIZES", "TICKET_KEYS", "UNLABELLED", "as_face", "builtin_face", "builtin_paper",
           "check_element", "check_image", "check_layout", "check_paper", "face_of_row", "logo_picture", "open_device",
           "preview_job", "preview_png", "print_tickets", "printer_ids", "render_face", "sample_ticket",
           "ticket_printer_id", "ticket_values"]
