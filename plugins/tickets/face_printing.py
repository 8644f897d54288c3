"""Printing tickets on the terminal's ticket printer (T8, docs/tickets-faces.md): the ESC/POS
printer to use, opened from the device host or from the configuration, each ticket rendered with
the configured face and sent as one job with one cut; when the printer fails, the tickets not
printed wait in its reprint queue.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from printers.settings import PaperSettings
from suite.errors import InvalidInput, SuiteError
from suite.i18n import _, ngettext

from plugins.tickets.face_layout import Face, builtin_face
from plugins.tickets.face_render import LAYOUT_ID, render_face
from plugins.tickets.face_templates import FacesService

PRINTER_KIND = "escpos-printer"


class NoTicketPrinter(SuiteError):
    code = "no_ticket_printer"


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


__all__ = ["NoTicketPrinter", "PRINTER_KIND", "open_device", "print_tickets", "printer_ids", "ticket_printer_id"]
