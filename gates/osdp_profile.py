"""How a turnstile controller is wired behind OSDP: the numbers both ends agree on.

The control panel (``gates.osdp``) and the simulated peripheral (``gates.simulator``) use these
defaults; a site whose controller is wired otherwise sets ``output_a``, ``input_fire``... in the
device's options. Checked against libosdp 3.2.9:

- outputs: ``Command.Output`` with control code 5 pulses for ``timer_count`` x 100 ms, 2 holds
  on, 1 turns off (and cancels a running pulse);
- inputs: ``Event.Status`` of type ``StatusReportType.Input`` carries ``report``: one byte per
  input, 1 = contact closed; ``StatusReportType.Local`` carries ``[tamper, power]``;
- card reads: ``Event.CardRead`` with ``CardFormat.Unspecified``, ``length`` in bits, at most
  64 bytes (``CardFormat.ASCII`` is deprecated and dropped by the peripheral);
- longer QR codes do not fit a card read: the peripheral sends them as manufacturer replies
  (``Event.ManufacturerReply``) with our vendor code, in chunks of one flag byte (bit 0: more
  follows) plus up to 63 bytes of UTF-8. libosdp 3.2.9 corrupts its heap on a manufacturer
  reply much over 128 bytes, so the chunks stay at 64.
"""

from __future__ import annotations

import time

from osdp import Capability, Command, CommandLEDColor, PDCapabilities

OUTPUT_A = 0
OUTPUT_B = 1
INPUT_PASS_A = 0
INPUT_PASS_B = 1
INPUT_FIRE = 2
INPUT_COUNT = 3
CARD_READER = 0
QR_READER = 1
MAX_CARD_READ = 64
QR_VENDOR_CODE = 0x005653  # "VS"
CHUNK_MORE = 0x01
CHUNK_PAYLOAD = 63
MAX_QR_BYTES = 4096


def pulse_command(output_no: int, pulse_ms: int) -> dict[str, int]:
    return {"command": Command.Output, "output_no": output_no, "control_code": 5,
            "timer_count": max(1, min(255, -(-pulse_ms // 100)))}


def hold_command(output_no: int, on: bool) -> dict[str, int]:
    return {"command": Command.Output, "output_no": output_no, "control_code": 2 if on else 1, "timer_count": 0}


def led_command(accepted: bool, duration_ms: int = 1500) -> dict[str, object]:
    return {"command": Command.LED, "reader": 0, "led_number": 0, "temporary": True, "control_code": 2,
            "on_color": CommandLEDColor.Green if accepted else CommandLEDColor.Red,
            "off_color": CommandLEDColor.Black, "on_count": 10, "off_count": 0,
            "timer_count": max(1, min(255, duration_ms // 100))}


def buzzer_command(accepted: bool) -> dict[str, int]:
    return {"command": Command.Buzzer, "reader": 0, "control_code": 2,
            "on_count": 1 if accepted else 2, "off_count": 1, "rep_count": 1 if accepted else 3}


def capabilities() -> PDCapabilities:
    return PDCapabilities([
        (Capability.OutputControl, 1, 2),
        (Capability.ContactStatusMonitoring, 1, INPUT_COUNT),
        (Capability.LEDControl, 1, 1),
        (Capability.AudibleControl, 1, 1),
        (Capability.CardDataFormat, 1, 1),
    ])


def qr_chunks(text: str) -> list[bytes]:
    data = text.encode("utf-8")
    pieces = [data[i:i + CHUNK_PAYLOAD] for i in range(0, len(data), CHUNK_PAYLOAD)] or [b""]
    return [bytes([CHUNK_MORE if i < len(pieces) - 1 else 0]) + piece for i, piece in enumerate(pieces)]


class ChunkAssembler:
    """Puts a chunked QR code back together. A train that stops half-way is dropped when the
    next one starts (``dropped`` counts them); one beyond ``MAX_QR_BYTES`` raises ValueError."""

    def __init__(self, timeout: float = 1.0) -> None:
        self._parts: list[bytes] = []
        self._started = 0.0
        self._timeout = timeout
        self.dropped = 0

    def add(self, chunk: bytes) -> bytes | None:
        """The whole code once its last chunk arrives, else None."""
        now = time.monotonic()
        if self._parts and now - self._started > self._timeout:
            self._parts = []
            self.dropped += 1
        if not self._parts:
            self._started = now
        if not chunk:
            raise ValueError("empty chunk")
        self._parts.append(chunk[1:])
        if sum(len(p) for p in self._parts) > MAX_QR_BYTES:
            self._parts = []
            raise ValueError("longer than %d bytes" % MAX_QR_BYTES)
        if chunk[0] & CHUNK_MORE:
            return None
        whole, self._parts = b"".join(self._parts), []
        return whole
