"""LCUS-style serial relay board frames: ``A0 <channel> <01 on | 00 off> <sum>``, sum = the low
byte of the other three (``A0 01 01 A2`` turns relay 1 on, ``A0 01 00 A1`` off).

Boards with inputs (a pass sensor, a fire-alarm contact) report them in the same shape with
header ``A1``: ``A1 <input> <01 closed | 00 open> <sum>``. Some boards echo each command back;
an echoed ``A0`` frame is accepted and ignored. Anything else is a problem the driver reports:
bytes that start no frame, a bad checksum, a state other than 00/01, or a frame cut short.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMAND = 0xA0
INPUT = 0xA1
FRAME_LENGTH = 4
HEADERS = (COMMAND, INPUT)


def checksum(header: int, channel: int, state: int) -> int:
    return (header + channel + state) & 0xFF


def command_frame(channel: int, on: bool) -> bytes:
    if not 1 <= channel <= 0xFF - COMMAND - 1:
        raise ValueError(f"relay channel {channel} out of range")
    state = 1 if on else 0
    return bytes([COMMAND, channel, state, checksum(COMMAND, channel, state)])


def input_frame(number: int, closed: bool) -> bytes:
    state = 1 if closed else 0
    return bytes([INPUT, number, state, checksum(INPUT, number, state)])


@dataclass(frozen=True)
class Frame:
    header: int
    channel: int
    on: bool


@dataclass(frozen=True)
class Problem:
    """``kind``: ``garbage`` (bytes that start no frame), ``checksum``, ``state``, ``truncated``."""

    kind: str
    raw: bytes

    @property
    def hex(self) -> str:
        return self.raw.hex(" ").upper()


class FrameParser:
    """Bytes in, frames and problems out; it finds the next header after any junk."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> bool:
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[Frame | Problem]:
        self._buffer.extend(data)
        out: list[Frame | Problem] = []
        while self._buffer:
            if self._buffer[0] not in HEADERS:
                junk = bytearray()
                while self._buffer and self._buffer[0] not in HEADERS:
                    junk.append(self._buffer.pop(0))
                out.append(Problem("garbage", bytes(junk)))
                continue
            if len(self._buffer) < FRAME_LENGTH:
                break
            raw = bytes(self._buffer[:FRAME_LENGTH])
            header, channel, state, total = raw
            if total != checksum(header, channel, state):
                # resynchronise on the next header inside: a lost byte must not swallow the next frame
                skip = next((i for i in range(1, FRAME_LENGTH) if raw[i] in HEADERS), FRAME_LENGTH)
                del self._buffer[:skip]
                out.append(Problem("checksum", raw))
                continue
            del self._buffer[:FRAME_LENGTH]
            if state not in (0, 1):
                out.append(Problem("state", raw))
                continue
            out.append(Frame(header, channel, bool(state)))
        return out

    def expire(self) -> Problem | None:
        """The line went quiet with part of a frame buffered: that frame was cut short."""
        if not self._buffer:
            return None
        raw, self._buffer = bytes(self._buffer), bytearray()
        return Problem("truncated", raw)
