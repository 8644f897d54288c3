"""Scripting a simulator with text lines, one command per line (standard input of
``python -m gates.simulator`` and of ``venue-suite gate simulate``); what happens is printed as
JSON lines.

Turnstile::

    card 04A1B2C3        a card at the reader (UID in hex)
    qr <text>            a QR code at the reader
    pass A|B             someone walks through now (forced when the way is locked)
    auto <ms> | auto off someone walks through <ms> after each open / nobody comes
    fire on|off          the fire-alarm input
    tamper on|off        the tamper switch
    state                print the turnstile's state
    quit

Relay board::

    input <n> on|off     an input frame (pass sensor, fire alarm)
    raw <hex>            send these bytes as they are (garbled or cut-short frames)
    state | quit
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from gates.simulator.relay_board import RelayBoardSimulator
from gates.simulator.turnstile import TurnstileSimulator


class JsonLines:
    """Thread-safe JSON-lines writer (several simulator threads report at once)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False, default=str)
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                pass


def _on_off(word: str) -> bool:
    if word.lower() in ("on", "1", "true", "yes"):
        return True
    if word.lower() in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"expected on or off, not {word!r}")


def _direction(word: str) -> str:
    direction = word.upper()
    if direction not in ("A", "B"):
        raise ValueError(f"expected direction A or B, not {word!r}")
    return direction


def turnstile_command(sim: TurnstileSimulator, line: str) -> dict[str, Any] | None:
    """Apply one script line; returns what to print (or None)."""
    verb, _sep, rest = line.strip().partition(" ")
    rest = rest.strip()
    verb = verb.lower()
    if verb == "card":
        sim.present_card(rest)
    elif verb == "qr":
        if not rest:
            raise ValueError("qr needs the text of the code")
        sim.present_qr(rest)
    elif verb == "pass":
        sim.walk_through(_direction(rest))
    elif verb == "auto":
        sim.pass_after_ms = None if rest.lower() in ("off", "none", "nobody") else int(rest)
    elif verb == "fire":
        sim.set_fire_alarm(_on_off(rest))
    elif verb == "tamper":
        sim.set_tamper(_on_off(rest))
    elif verb == "state":
        return {"event": "state", **sim.snapshot()}
    else:
        raise ValueError(f"unknown command {verb!r} (card, qr, pass, auto, fire, tamper, state, quit)")
    return None


def relay_command(board: RelayBoardSimulator, line: str) -> dict[str, Any] | None:
    verb, _sep, rest = line.strip().partition(" ")
    verb = verb.lower()
    words = rest.split()
    if verb == "input" and len(words) == 2:
        board.set_input(int(words[0]), _on_off(words[1]))
    elif verb == "raw":
        board.send_raw(bytes.fromhex(rest))
    elif verb == "state":
        return {"event": "state", **board.snapshot()}
    else:
        raise ValueError(f"unknown command {line.strip()!r} (input <n> on|off, raw <hex>, state, quit)")
    return None


def serve(lines: IO[str], apply: Callable[[str], dict[str, Any] | None], out: JsonLines,
          stop: threading.Event | None = None) -> None:
    """Read script lines until ``quit``, the end of input, or ``stop``."""
    for line in lines:
        if stop is not None and stop.is_set():
            return
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.strip().lower() in ("quit", "exit"):
            return
        try:
            result = apply(line)
        except ValueError as exc:
            out({"event": "error", "message": str(exc)})
            continue
        out(result if result is not None else {"event": "ok", "command": line.strip()})
