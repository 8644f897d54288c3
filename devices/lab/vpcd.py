"""A virtual card on a vpcd reader slot: a TCP client of pcscd's vpcd driver (stdlib sockets).

Wire protocol: every message is a 2-byte big-endian length and a payload. From vpcd, a 1-byte
payload is a control byte (``00`` power off, ``01`` power on, ``02`` reset, ``04`` get ATR,
which vpcd also sends every ~400 ms to see whether the card is still there); a longer one is a
C-APDU, answered with the R-APDU. Connecting is inserting the card; closing is removing it.

Debian's vpcd writes the length and the payload separately, so the card side sets
``TCP_NODELAY`` and re-arms ``TCP_QUICKACK`` before every ``recv`` (without it each APDU
waits ~40 ms for a delayed ACK).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

POWER_OFF, POWER_ON, RESET, GET_ATR = 0x00, 0x01, 0x02, 0x04


class CardSide(Protocol):
    """What the link drives: the ACR122U front end of ``devices.lab.acr122u``."""

    @property
    def atr(self) -> bytes: ...

    def power_off(self) -> None: ...

    def transmit(self, apdu: bytes) -> bytes | None: ...


class VpcdUnreachable(OSError):
    pass


CLOSED, TORN, LOST = "closed", "torn", "lost"


class VpcdLink:
    """One card inserted in one slot; ``on_closed(link, reason)`` runs on the link's thread when
    the connection ends: ``"closed"`` (``close()``: card removed), ``"torn"`` (card pulled during a
    command) or ``"lost"`` (vpcd hung up: pcscd stopped)."""

    def __init__(self, host: str, port: int, card: CardSide, *, lock: threading.Lock | None = None,
                 on_closed: Callable[["VpcdLink", str], None] | None = None) -> None:
        self.host, self.port = host, port
        self.card = card
        self.polled = threading.Event()       # vpcd has talked to the card at least once
        self._lock = lock or threading.Lock()
        self._on_closed = on_closed
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = False

    def open(self, timeout: float = 2.0) -> "VpcdLink":
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as exc:
            raise VpcdUnreachable(f"vpcd is not listening on {self.host}:{self.port} ({exc.strerror or exc}); "
                                  f"is pcscd running with the lab's reader configuration?") from None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name=f"vpcd-{self.port}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Remove the card: hang up and wait for the link's thread (unless called from it)."""
        self._closing = True
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    @property
    def connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _recv_exact(self, sock: socket.socket, size: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < size:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(size - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return bytes(chunks)

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        reason = LOST
        try:
            while True:
                header = self._recv_exact(sock, 2)
                if header is None:
                    break
                payload = self._recv_exact(sock, struct.unpack(">H", header)[0])
                if payload is None:
                    break
                self.polled.set()
                answer = self._answer(payload)
                if answer is None and len(payload) > 1:
                    reason = TORN                # card pulled during this command
                    break
                if answer is not None:
                    sock.sendall(struct.pack(">H", len(answer)) + answer)
        except OSError as exc:
            if not self._closing:
                log.info("vpcd link %s:%s lost: %s", self.host, self.port, exc)
        finally:
            try:
                sock.close()
            except OSError:
                pass
            with self._lock:
                self.card.power_off()
            if self._closing:
                reason = CLOSED
            if self._on_closed is not None:
                self._on_closed(self, reason)

    def _answer(self, payload: bytes) -> bytes | None:
        with self._lock:
            if len(payload) == 1:
                control = payload[0]
                if control == GET_ATR:
                    return self.card.atr
                if control in (POWER_OFF, RESET):
                    self.card.power_off()
                return None
            return self.card.transmit(payload)


__all__ = ["CLOSED", "LOST", "TORN", "VpcdLink", "VpcdUnreachable"]
