"""The wire to the printer: a python-escpos ``Network``, ``Serial``, ``Usb`` or ``File`` object,
opened and closed here, with the status queries and the sending the driver needs.

Status goes through python-escpos's ``query_status`` (what ``is_online()`` and
``paper_status()`` call: ``DLE EOT 1`` / ``DLE EOT 4``, one byte back) so that "no answer" can
be told from "offline": ``is_online()`` reports both as offline, ``paper_status()`` a silent
printer as full of paper. The answer byte is read with python-escpos's masks.
"""

from __future__ import annotations

import enum
import logging
import select
import socket
from dataclasses import dataclass

from escpos.constants import (RT_MASK_LOWPAPER, RT_MASK_NOPAPER, RT_MASK_ONLINE, RT_STATUS_ONLINE,
                              RT_STATUS_PAPER)
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import File, Network, Serial, Usb

from printers.render import PaperProfile
from printers.settings import PrinterSettings

log = logging.getLogger(__name__)

# bits 1 and 4 are always 1, bits 0 and 7 always 0 in every DLE EOT answer (ESC/POS reference)
STATUS_FIXED_MASK = 0x93
STATUS_FIXED_BITS = 0x12


class Paper(enum.Enum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"


@dataclass(frozen=True)
class Status:
    online: bool
    paper: Paper


class LinkLost(Exception):
    """The printer cannot be reached or does not answer (the reason is the message)."""


class SerialPrinter(Serial):  # type: ignore[misc]
    """python-escpos reads a status answer with ``read(16)``, and pyserial waits the whole
    timeout for bytes that never come after the one status byte: read what is there."""

    def _read(self) -> bytes:
        first: bytes = self.device.read(1)
        return first + self.device.read(self.device.in_waiting) if first else first


class Link:
    """One python-escpos printer object and its connection."""

    def __init__(self, settings: PrinterSettings) -> None:
        self.settings = settings
        self._escpos: Escpos | None = None

    @property
    def is_open(self) -> bool:
        return self._escpos is not None

    def open(self) -> None:
        self.close()
        printer = self._create()
        try:
            printer.open()
        except (EscposError, OSError, ValueError) as exc:
            printer._device = False
            raise LinkLost(str(exc).strip().replace("\n", " ")) from None
        if isinstance(printer.device, socket.socket):
            # a status query is 3 bytes waiting for a 1-byte answer: do not let Nagle hold it
            printer.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._escpos = printer

    def _create(self) -> Escpos:
        s = self.settings
        profile = PaperProfile(s.paper)
        if s.transport == "network":
            return Network(s.host, port=s.port, timeout=s.timeout, profile=profile)
        if s.transport == "serial":
            return SerialPrinter(devfile=s.device, baudrate=s.baudrate, timeout=s.timeout, xonxoff=s.flow == "xonxoff",
                          dsrdtr=s.flow == "dsrdtr", profile=profile)
        if s.transport == "usb":
            return Usb(s.usb_vendor, s.usb_product, timeout=int(s.timeout * 1000), profile=profile)
        return File(s.path, profile=profile)

    def close(self) -> None:
        printer, self._escpos = self._escpos, None
        if printer is not None:
            try:
                printer.close()
            except (EscposError, OSError) as exc:
                log.debug("closing printer %s: %s", self.settings.device_id, exc)
            printer._device = False   # python-escpos would reopen on its next access, even from __del__

    def _printer(self) -> Escpos:
        if self._escpos is None:
            raise LinkLost("not connected")
        return self._escpos

    def _drain(self) -> None:
        """Throw away a late answer to an earlier query, so it is not taken for the next one."""
        device = self._printer().device
        if isinstance(device, socket.socket):
            # a socket with a timeout waits even with MSG_DONTWAIT: ask select first
            while select.select([device], [], [], 0)[0]:
                if not device.recv(64):
                    raise LinkLost("the printer closed the connection")
        elif hasattr(device, "reset_input_buffer"):
            device.reset_input_buffer()

    def _query(self, command: bytes) -> int:
        try:
            self._drain()
            answer = self._printer().query_status(command)
        except (OSError, EscposError) as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from None
        if not answer:
            raise LinkLost("no answer to a status query")
        byte = answer[-1]
        if byte & STATUS_FIXED_MASK != STATUS_FIXED_BITS:
            raise LinkLost(f"status answer 0x{byte:02X} is not an ESC/POS status byte")
        return byte

    def status(self) -> Status:
        online = not self._query(RT_STATUS_ONLINE) & RT_MASK_ONLINE
        paper_byte = self._query(RT_STATUS_PAPER)
        if paper_byte & RT_MASK_NOPAPER == RT_MASK_NOPAPER:
            paper = Paper.OUT
        elif paper_byte & RT_MASK_LOWPAPER == RT_MASK_LOWPAPER:
            paper = Paper.NEAR_END
        else:
            paper = Paper.OK
        return Status(online, paper)

    def send(self, data: bytes) -> None:
        try:
            self._printer()._raw(data)
            device = self._printer().device
            if hasattr(device, "flush"):
                device.flush()
        except (OSError, EscposError) as exc:
            raise LinkLost(str(exc) or type(exc).__name__) from None
