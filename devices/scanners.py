"""Serial barcode/QR scanners: text followed by a suffix, one ``ScanEvent`` per code.

``[devices.<id>] kind = "serial-scanner"`` options (all but ``port`` optional):

``port``        ``/dev/ttyACM0``, ``/dev/pts/N`` or a pyserial URL (``socket://host:port``)
``baudrate``    9600
``suffix``      what ends a code: ``CR`` (default), ``LF``, ``CRLF`` or ``none`` (a code ends
                when the line goes quiet for ``timeout_ms``)
``timeout_ms``  silence inside a code after which what arrived is a cut-short code, 100
``charset``     ``ascii`` (default), ``utf-8``, ``gb18030``, ``latin-1``...
``max_length``  longest code accepted, 4096 bytes

Bad input loses nothing that was good and never becomes a scan: a code cut short (no suffix
before the timeout), bytes that are not text in the charset, or control characters inside a
code are dropped with a note in ``health()`` (not ok, for ``note_hold_s`` seconds or until the
next good code) and in the log, so the operator knows to scan again.
"""

from __future__ import annotations

import codecs
import logging
import threading
import time
import serial

from devices.serial_link import SerialReader
from suite.device_host import DeviceConfig, DeviceError, Post
from suite.events import ScanEvent
from suite.i18n import _

log = logging.getLogger(__name__)

SUFFIXES = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "none": b""}


class SerialScanner(SerialReader):
    def __init__(self, config: DeviceConfig, post: Post) -> None:
        self.device_id = config.id
        self._post = post
        self._port_name = str(config.get("port", ""))
        self._baudrate = int(config.get("baudrate", 9600))
        suffix = str(config.get("suffix", "CR")).lower()
        if suffix not in SUFFIXES:
            raise DeviceError(_("Scanner {id}: suffix must be CR, LF, CRLF or none, not {value!r}.").format(
                id=config.id, value=config.get("suffix")))
        self._suffix = SUFFIXES[suffix]
        self._charset = str(config.get("charset", "ascii"))
        try:
            codecs.lookup(self._charset)
        except LookupError:
            raise DeviceError(_("Scanner {id}: unknown charset {value!r}.").format(
                id=config.id, value=self._charset)) from None
        timeout_ms = config.get("timeout_ms", 100)
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms < 5:
            raise DeviceError(_("Scanner {id}: timeout_ms must be a whole number of at least 5, not {value!r}.").format(
                id=config.id, value=timeout_ms))
        self._timeout = timeout_ms / 1000
        self._max_length = int(config.get("max_length", 4096))
        self._note_hold = float(config.get("note_hold_s", 10.0))
        self._port: serial.SerialBase | None = None
        self._failure = ""
        self._note = ""
        self._note_until = 0.0
        self.scans = 0
        self.rejected = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- Device

    def start(self) -> None:
        self._open_line(timeout=min(0.02, self._timeout / 2), what=_("Scanner {id}").format(id=self.device_id),
                        thread_name=f"scanner-{self.device_id}")

    def stop(self) -> None:
        self._close_line()

    def health(self) -> tuple[bool, str]:
        problem = self._line_problem(_("Scanner {id}").format(id=self.device_id))
        if problem:
            return False, problem
        if self._note and time.monotonic() < self._note_until:
            return False, self._note
        return True, ""

    # ------------------------------------------------------------- reading

    def _run(self) -> None:
        buffer = bytearray()
        last_byte = time.monotonic()
        while not self._stop.is_set():
            port = self._port
            if port is None:
                return
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                self._failure = str(exc)
                log.warning("scanner %s: serial line failed: %s", self.device_id, exc)
                return
            now = time.monotonic()
            if data:
                last_byte = now
                buffer.extend(data)
                if self._suffix:
                    self._split(buffer)
                if len(buffer) > self._max_length:
                    self._reject(_("Scanner {id}: a code longer than {limit} bytes was dropped.").format(
                        id=self.device_id, limit=self._max_length), bytes(buffer))
                    buffer.clear()
            elif buffer and now - last_byte > self._timeout:
                if self._suffix:
                    self._reject(_("Scanner {id}: a code was cut short ({count} bytes without the end mark) and "
                                   "dropped; scan it again.").format(id=self.device_id, count=len(buffer)),
                                 bytes(buffer))
                else:
                    self._frame(bytes(buffer))
                buffer.clear()

    def _split(self, buffer: bytearray) -> None:
        while True:
            end = buffer.find(self._suffix)
            if end < 0:
                return
            frame = bytes(buffer[:end])
            del buffer[:end + len(self._suffix)]
            self._frame(frame)

    def _frame(self, frame: bytes) -> None:
        if not frame:
            return  # a lone end mark (a scanner sending CR LF to a CR configuration)
        try:
            text = frame.decode(self._charset)
        except UnicodeDecodeError:
            self._reject(_("Scanner {id}: a code that is not {charset} text was dropped; check the scanner's "
                           "character set.").format(id=self.device_id, charset=self._charset), frame)
            return
        if not text.isprintable():
            self._reject(_("Scanner {id}: a code with control characters was dropped (garbled line or wrong "
                           "suffix setting).").format(id=self.device_id), frame)
            return
        self.scans += 1
        self._note = ""
        self._post(ScanEvent(self.device_id, text))

    def _reject(self, message: str, raw: bytes) -> None:
        self.rejected += 1
        log.warning("%s [%s]", message, raw[:64].hex(" "))
        self._note = message
        self._note_until = time.monotonic() + self._note_hold


def open_serial_scanner(config: DeviceConfig, post: Post) -> SerialScanner:
    """Factory of ``serial-scanner`` devices."""
    return SerialScanner(config, post)
