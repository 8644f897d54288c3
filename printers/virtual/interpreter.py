"""ESC/POS bytes to commands: the parsing half of the virtual printer's interpreter.

``CommandParser.feed(data)`` returns every command complete in what arrived so far and keeps
an unfinished one for the next call, so a job may arrive in any number of pieces and a status
query (``DLE EOT n``) is answered as soon as it is complete. ``finish()`` turns what is left
into a "truncated" error. Nothing here raises on bad input: an unknown or impossible command
becomes an ``error`` command that names it and its offset, and parsing goes on after it.
"""

from __future__ import annotations

from dataclasses import dataclass

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
MAX_BLOCK = 4 * 1024 * 1024     # larger raster or 2D-code blocks are taken as garbage

# fixed-length commands: (prefix, second byte) -> (name, number of parameter bytes)
FIXED: dict[tuple[int, int], tuple[str, int]] = {
    (ESC, ord("@")): ("init", 0), (ESC, ord("!")): ("mode", 1), (ESC, ord("E")): ("bold", 1),
    (ESC, ord("G")): ("bold", 1), (ESC, ord("-")): ("underline", 1), (ESC, ord("a")): ("align", 1),
    (ESC, ord("d")): ("feed_lines", 1), (ESC, ord("J")): ("feed_dots", 1), (ESC, ord("t")): ("codepage", 1),
    (ESC, ord("M")): ("font", 1), (ESC, ord("2")): ("line_spacing", 0), (ESC, ord("3")): ("line_spacing", 1),
    (ESC, ord(" ")): ("ignored", 1), (ESC, ord("{")): ("ignored", 1), (ESC, ord("V")): ("ignored", 1),
    (ESC, ord("R")): ("ignored", 1), (ESC, ord("p")): ("ignored", 3), (ESC, ord("=")): ("ignored", 1),
    (ESC, ord("r")): ("ignored", 1), (ESC, ord("B")): ("ignored", 2),
    (GS, ord("!")): ("size", 1), (GS, ord("h")): ("barcode_height", 1), (GS, ord("w")): ("barcode_module", 1),
    (GS, ord("H")): ("barcode_hri", 1), (GS, ord("f")): ("ignored", 1), (GS, ord("B")): ("invert", 1),
    (GS, ord("L")): ("ignored", 2), (GS, ord("W")): ("ignored", 2), (GS, ord("a")): ("ignored", 1),
    (GS, ord("P")): ("ignored", 2), (GS, ord("I")): ("ignored", 1),
    (FS, ord("&")): ("chinese_on", 0), (FS, ord(".")): ("chinese_off", 0), (FS, ord("!")): ("kanji_mode", 1),
    (FS, ord("C")): ("ignored", 1), (FS, ord("S")): ("ignored", 2), (FS, ord("W")): ("ignored", 1),
    (DLE, 0x04): ("status", 1), (DLE, 0x05): ("ignored", 1),
}
PREFIX_NAMES = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[int, ...] = ()
    data: bytes = b""
    offset: int = 0          # where the command starts in the stream
    raw: bytes = b""
    message: str = ""        # for "error"


class _NeedMore(Exception):
    pass


def describe(raw: bytes) -> str:
    """``b"\\x1dv0"`` -> ``"GS v 0"``: how the ESC/POS manuals write a command."""
    words = [PREFIX_NAMES.get(raw[0], f"0x{raw[0]:02X}")] if raw else []
    for byte in raw[1:3]:
        words.append(chr(byte) if 0x21 <= byte < 0x7F else f"0x{byte:02X}")
    return " ".join(words)


class CommandParser:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offset = 0          # stream offset of _buffer[0]

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Command]:
        self._buffer += data
        commands: list[Command] = []
        position = 0
        while position < len(self._buffer):
            try:
                command, length = self._parse(position)
            except _NeedMore:
                break
            commands.append(command)
            position += length
        del self._buffer[:position]
        self._offset += position
        return commands

    def finish(self) -> list[Command]:
        """The stream ended: whatever is left is a truncated command."""
        if not self._buffer:
            return []
        raw = bytes(self._buffer)
        command = Command("error", offset=self._offset, raw=raw, message=(
            f"truncated command {describe(raw)} at offset {self._offset}: the stream ended after {len(raw)} "
            f"byte(s)"))
        self._offset += len(raw)
        self._buffer.clear()
        return [command]

    # -- one command at ``position`` ---------------------------------------------------------
    def _need(self, position: int, count: int) -> bytes:
        if position + count > len(self._buffer):
            raise _NeedMore
        return bytes(self._buffer[position:position + count])

    def _command(self, name: str, position: int, length: int, args: tuple[int, ...] = (), data: bytes = b"",
                 message: str = "") -> tuple[Command, int]:
        raw = bytes(self._buffer[position:position + length])
        return Command(name, args, data, self._offset + position, raw, message), length

    def _error(self, position: int, length: int, message: str) -> tuple[Command, int]:
        return self._command("error", position, length, message=f"{message} at offset {self._offset + position}")

    def _parse(self, position: int) -> tuple[Command, int]:
        byte = self._buffer[position]
        if byte >= 0x20 or byte in (0x09,):
            end = position
            while end < len(self._buffer) and (self._buffer[end] >= 0x20 or self._buffer[end] == 0x09):
                end += 1
            return self._command("text", position, end - position, data=bytes(self._buffer[position:end]))
        if byte == 0x0A:
            return self._command("lf", position, 1)
        if byte in (0x0D, 0x00):
            return self._command("ignored", position, 1)
        if byte == 0x0C:
            return self._command("lf", position, 1)
        if byte not in PREFIX_NAMES:
            return self._error(position, 1, f"unknown control byte 0x{byte:02X}")
        second = self._need(position, 2)[1]
        fixed = FIXED.get((byte, second))
        if fixed is not None:
            name, count = fixed
            params = self._need(position + 2, count)
            return self._command(name, position, 2 + count, args=tuple(params))
        if byte == GS and second == ord("V"):
            return self._cut(position)
        if byte == GS and second == ord("k"):
            return self._barcode(position)
        if byte == GS and second == ord("v"):
            return self._raster(position)
        if byte == GS and second == ord("("):
            return self._block(position)
        if byte == ESC and second == ord("*"):
            return self._column_image(position)
        if byte == ESC and second == ord("c"):
            head = self._need(position, 4)
            return self._command("ignored", position, 4, args=tuple(head[2:]))
        raw = bytes(self._buffer[position:position + 2])
        return self._error(position, 2, f"unknown command {describe(raw)}")

    def _cut(self, position: int) -> tuple[Command, int]:
        mode = self._need(position, 3)[2]
        if mode in (0, 1, 48, 49):
            return self._command("cut", position, 3, args=(mode,))
        if mode in (65, 66, 97, 98, 103, 104):
            feed = self._need(position, 4)[3]
            return self._command("cut", position, 4, args=(mode, feed))
        return self._error(position, 3, f"GS V with unknown cut mode {mode}")

    def _barcode(self, position: int) -> tuple[Command, int]:
        kind = self._need(position, 3)[2]
        if kind <= 6:                       # function A: data ends with NUL
            end = self._buffer.find(0, position + 3)
            if end < 0:
                if len(self._buffer) - position > 255 + 3:
                    return self._error(position, 3, "GS k barcode data without its closing NUL")
                raise _NeedMore
            data = bytes(self._buffer[position + 3:end])
            return self._command("barcode", position, end + 1 - position, args=(kind,), data=data)
        if 65 <= kind <= 79:                # function B: a length byte
            count = self._need(position, 4)[3]
            data = self._need(position + 4, count)
            return self._command("barcode", position, 4 + count, args=(kind,), data=data)
        return self._error(position, 3, f"GS k with unknown barcode system {kind}")

    def _raster(self, position: int) -> tuple[Command, int]:
        head = self._need(position, 8)
        if head[2] not in (0, 48) or head[3] not in (0, 1, 2, 3, 48, 49, 50, 51):
            return self._error(position, 4, f"GS v with unknown function {head[2]} / mode {head[3]}")
        width_bytes, height = head[4] + 256 * head[5], head[6] + 256 * head[7]
        size = width_bytes * height
        if size > MAX_BLOCK or size == 0:
            return self._error(position, 8, f"GS v 0 with an impossible size {width_bytes * 8}x{height}")
        data = self._need(position + 8, size)
        return self._command("raster", position, 8 + size, args=(head[3] & 3, width_bytes, height), data=data)

    def _block(self, position: int) -> tuple[Command, int]:
        """``GS ( k`` (2D codes) and the other ``GS ( x pL pH ...`` functions."""
        head = self._need(position, 5)
        function, size = head[2], head[3] + 256 * head[4]
        if size > MAX_BLOCK:
            return self._error(position, 5, f"GS ( {chr(function)} with an impossible length {size}")
        body = self._need(position + 5, size)
        if function != ord("k"):
            return self._command("ignored", position, 5 + size, args=(function,), data=body)
        if size < 2:
            return self._error(position, 5 + size, "GS ( k shorter than its symbol and function bytes")
        return self._command("code2d", position, 5 + size, args=(body[0], body[1]), data=body[2:])

    def _column_image(self, position: int) -> tuple[Command, int]:
        head = self._need(position, 5)
        mode, columns = head[2], head[3] + 256 * head[4]
        if mode not in (0, 1, 32, 33):
            return self._error(position, 3, f"ESC * with unknown mode {mode}")
        size = columns * (3 if mode >= 32 else 1)
        data = self._need(position + 5, size)
        return self._command("column_image", position, 5 + size, args=(mode, columns), data=data)
