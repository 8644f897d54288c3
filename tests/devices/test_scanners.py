"""The serial scanner driver on a pty pair: the test writes what a scanner would send on the
device end; the driver reads the other end through pyserial."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devices.scanners import SerialScanner, open_serial_scanner
from gates.simulator.pty import PtyPair
from suite.device_host import DeviceConfig, DeviceError
from suite.events import ScanEvent


class Line:
    """A scanner on the device end of a pty, and what the driver posted."""

    def __init__(self, pair: PtyPair) -> None:
        self.pair = pair
        self.events: queue.Queue[Any] = queue.Queue()
        self.scanner: SerialScanner | None = None

    def open(self, **options: Any) -> SerialScanner:
        config = DeviceConfig("scanner-1", "serial-scanner", {"port": self.pair.port, "timeout_ms": 60,
                                                               "note_hold_s": 5.0, **options})
        self.scanner = open_serial_scanner(config, self.events.put)
        self.scanner.start()
        return self.scanner

    def send(self, *chunks: bytes, gap: float = 0.0) -> None:
        for chunk in chunks:
            os.write(self.pair.device_fd, chunk)
            if gap:
                time.sleep(gap)

    def scans(self, wait: float = 0.3) -> list[str]:
        time.sleep(wait)
        found = []
        while not self.events.empty():
            event = self.events.get_nowait()
            assert isinstance(event, ScanEvent) and event.source == "scanner-1"
            found.append(event.data)
        return found


@pytest.fixture
def line() -> Iterator[Line]:
    with PtyPair() as pair:
        the_line = Line(pair)
        yield the_line
        if the_line.scanner is not None:
            the_line.scanner.stop()


def test_a_code_ending_in_cr_is_one_scan(line: Line) -> None:
    scanner = line.open()
    line.send(b"ABC123\r")
    assert line.scans() == ["ABC123"]
    assert scanner.health() == (True, "") and scanner.alive()


def test_a_code_split_across_writes_is_one_scan(line: Line) -> None:
    line.open()
    line.send(b"TICK", b"ET-20", b"26\r", gap=0.015)
    line.send(b"NEXT\rLAST\r")
    assert line.scans() == ["TICKET-2026", "NEXT", "LAST"]


@pytest.mark.parametrize(("suffix", "end"), [("CRLF", b"\r\n"), ("LF", b"\n")])
def test_crlf_and_lf_suffixes(line: Line, suffix: str, end: bytes) -> None:
    line.open(suffix=suffix)
    line.send(b"QR-1" + end, b"QR-2" + end)
    assert line.scans() == ["QR-1", "QR-2"]


def test_without_a_suffix_the_pause_ends_the_code(line: Line) -> None:
    line.open(suffix="none")
    line.send(b"QR-", b"77", gap=0.01)
    assert line.scans() == ["QR-77"]


def test_a_cut_short_code_is_dropped_with_a_note(line: Line) -> None:
    scanner = line.open()
    line.send(b"ABC12")
    assert line.scans() == []
    ok, note = scanner.health()
    assert not ok and "cut short" in note and scanner.rejected == 1
    line.send(b"GOOD-1\r")
    assert line.scans() == ["GOOD-1"]
    assert scanner.health() == (True, "")  # the next good code clears the note


def test_garbage_bytes_never_become_a_scan(line: Line) -> None:
    scanner = line.open()
    line.send(b"\x00\x1b[2J\x07\r")
    assert line.scans() == []
    assert "control characters" in scanner.health()[1]
    line.send(b"\xff\xfeAB\r")
    assert line.scans() == []
    assert "not ascii text" in scanner.health()[1]
    assert scanner.rejected == 2 and scanner.scans == 0


def test_a_wrong_suffix_setting_is_noticed(line: Line) -> None:
    scanner = line.open(suffix="LF")
    line.send(b"ABC\r\n")  # a CRLF scanner on an LF setting: the CR is inside the code
    assert line.scans() == []
    assert "suffix" in scanner.health()[1]


def test_charset(line: Line) -> None:
    line.open(charset="gb18030")
    line.send("票号-0042\r".encode("gb18030"))
    assert line.scans() == ["票号-0042"]


def test_bad_settings_and_ports_are_clear_errors() -> None:
    post = lambda event: None  # noqa: E731
    with pytest.raises(DeviceError, match="suffix must be CR, LF, CRLF or none"):
        open_serial_scanner(DeviceConfig("s", "serial-scanner", {"port": "loop://", "suffix": "TAB"}), post)
    with pytest.raises(DeviceError, match="unknown charset"):
        open_serial_scanner(DeviceConfig("s", "serial-scanner", {"port": "loop://", "charset": "klingon"}), post)
    scanner = open_serial_scanner(DeviceConfig("s", "serial-scanner", {"port": "/dev/no-such-scanner"}), post)
    with pytest.raises(DeviceError, match="cannot open /dev/no-such-scanner"):
        scanner.start()
    assert scanner.health()[0] is False
    with pytest.raises(DeviceError, match="port is missing"):
        open_serial_scanner(DeviceConfig("s", "serial-scanner", {}), post).start()
