"""Events the device layer and background work hand to the desktop shell.

Device threads (card readers, scanners, gates) and background workers build one of these
frozen dataclasses and ``post`` it to the shell's event pump (``suite.ui.events.EventPump``);
the Tk thread delivers it to the UI and to every started plugin through the
``venue_suite_event`` hook. They hold plain values only, never a widget or a database row, so
they can cross threads and be logged, and this module imports nothing from Tk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CardPresented:
    """A card was put on a reader. ``card_kind``: ``"mifare_classic"``, ``"cpu"``, ... or ``""``."""

    reader: str
    uid: str
    atr: str = ""
    card_kind: str = ""


@dataclass(frozen=True)
class ReaderAdded:
    """A card reader appeared (plugged in, or pcscd came back)."""

    reader: str


@dataclass(frozen=True)
class ReaderRemoved:
    """A card reader went away (unplugged, or pcscd stopped)."""

    reader: str


@dataclass(frozen=True)
class CardRemoved:
    """The card left the reader (``uid`` of the card that was there, or ``""``)."""

    reader: str
    uid: str = ""


@dataclass(frozen=True)
class ScanEvent:
    """A barcode or QR code read by a scanner (serial or keyboard-wedge)."""

    source: str
    data: str


@dataclass(frozen=True)
class GateEvent:
    """Something happened at a gate: ``kind`` is e.g. ``"passage"``, ``"alarm"``, ``"open"``."""

    gate_id: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class DeviceHealth:
    """A device's state changed: ``ok`` False with a message the operator can act on."""

    device_id: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    """Set a field of the status bar: ``"shift"``, ``"online"``, ``"pending_uploads"``, or a
    plugin's own field (shown after the host's)."""

    field: str
    value: Any


HOST_EVENTS = (ReaderAdded, ReaderRemoved, CardPresented, CardRemoved, ScanEvent, GateEvent, DeviceHealth,
               StatusUpdate)

__all__ = ["CardPresented", "CardRemoved", "DeviceHealth", "GateEvent", "HOST_EVENTS", "ReaderAdded", "ReaderRemoved",
           "ScanEvent", "StatusUpdate"]
