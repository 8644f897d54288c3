"""PC/SC contactless reader driver on pyscard: device kind ``pcsc-reader``.

``[devices.<id>]`` options: ``reader`` (part of the PC/SC reader name, case-insensitive, e.g.
``"ACR122U"``; empty = any reader) and ``index`` (which of the matching readers, sorted by name,
default 0). Events carry ``reader = <id>``: ``ReaderAdded``/``ReaderRemoved`` (with the PC/SC name
in the health message), ``CardPresented(reader, uid, atr, card_kind)``, ``CardRemoved``.

A monitor thread waits in ``SCardGetStatusChange`` on its own PC/SC context (pcsc-lite holds a
context's lock during that call) and watches ``\\\\?PnP?\\Notification`` for readers coming and
going. Card I/O uses a second context. When pcscd stops, the monitor posts the removals, health
turns bad and ``alive()`` False, so the device host restarts the driver, which succeeds once
pcscd is back. A reader unplugged while pcscd runs is waited for in place.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from smartcard import scard

from devices.apdu import card_kind_from_atr, hexstr, split_response
from devices.mifare import apdu_get_uid
from devices.reader import Card, CardError, NoCard
from suite.device_host import DeviceConfig, DeviceError, Post
from suite.errors import ConfigError
from suite.events import CardPresented, CardRemoved, ReaderAdded, ReaderRemoved
from suite.i18n import _

log = logging.getLogger(__name__)

PNP = "\\\\?PnP?\\Notification"
WAIT_MS = 1000
RETRY_MS = 200          # a card pcscd reports present but that did not connect is tried again
_CARD_GONE = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_E_NOT_TRANSACTED,
              scard.SCARD_W_UNRESPONSIVE_CARD, scard.SCARD_W_UNPOWERED_CARD, scard.SCARD_W_RESET_CARD,
              scard.SCARD_E_INVALID_HANDLE, scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_UNKNOWN_READER}
_SERVICE_GONE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_E_INVALID_HANDLE,
                 scard.SCARD_F_COMM_ERROR}
_READER_GONE = {scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE}


def _error_text(hresult: int) -> str:
    return f"{scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"


class PcscCard(Card):
    def __init__(self, reader: str, uid: bytes, atr: bytes, kind: str, handle: Any, protocol: int) -> None:
        super().__init__(reader, uid, atr, kind)
        self._handle = handle
        self._protocol = protocol

    def _exchange(self, apdu: bytes) -> bytes:
        hresult, answer = scard.SCardTransmit(self._handle, self._protocol, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            if hresult in _CARD_GONE or hresult in _SERVICE_GONE:
                self.mark_removed()
                raise self._gone()
            raise CardError(_("Reader {reader} could not talk to the card: {reason}").format(
                reader=self.reader, reason=_error_text(hresult)))
        if not answer:      # vpcd (and some readers) report a card that vanished mid-command this way
            self.mark_removed()
            raise self._gone()
        return bytes(answer)

    def disconnect(self) -> None:
        self.mark_removed()
        with self._lock:
            scard.SCardDisconnect(self._handle, scard.SCARD_LEAVE_CARD)


class PcscReader:
    """One configured reader (``CardReader`` of ``devices.reader``)."""

    def __init__(self, config: DeviceConfig, post: Post, *, wait_ms: int = WAIT_MS) -> None:
        match = config.get("reader", "")
        index = config.get("index", 0)
        if not isinstance(match, str):
            raise ConfigError(_("[devices.{id}] reader: expected part of a reader name, e.g. \"ACR122U\"").format(
                id=config.id))
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ConfigError(_("[devices.{id}] index: expected 0 or more").format(id=config.id))
        self.device_id = config.id
        self._match, self._index = match, index
        self._post = post
        self._wait_ms = wait_ms
        self._monitor_context: Any = None
        self._card_context: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._alive = False
        self._health: tuple[bool, str] = (False, _("not started"))
        self._reader_name: str | None = None
        self._card: PcscCard | None = None
        self._unconnected_atr: bytes | None = None
        self._state_lock = threading.Lock()

    # ---- Device --------------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._monitor_context = self._establish()
        self._card_context = self._establish()
        self._alive = True
        self._reader_name = None
        names = self._list_readers() or []
        picked = self._pick(names)
        self._set_health(*((True, picked) if picked else (False, self._no_reader_message(names))))
        self._thread = threading.Thread(target=self._monitor, name=f"pcsc-{self.device_id}", daemon=True)
        self._thread.start()

    def _establish(self) -> Any:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise DeviceError(_("The PC/SC service (pcscd) is not running: start it (systemctl start pcscd), or "
                                "the card lab (venue-suite lab start). {reason}").format(reason=_error_text(hresult)))
        return context

    def stop(self) -> None:
        self._stopping.set()
        if self._monitor_context is not None:
            scard.SCardCancel(self._monitor_context)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=3)
        self._thread = None
        with self._state_lock:
            card, self._card = self._card, None
        if card is not None:
            card.disconnect()
        for context in (self._monitor_context, self._card_context):
            if context is not None:
                scard.SCardReleaseContext(context)
        self._monitor_context = self._card_context = None
        self._alive = False

    def health(self) -> tuple[bool, str]:
        return self._health

    def alive(self) -> bool:
        return self._alive

    # ---- CardReader ------------------------------------------------------------------------------

    @property
    def reader_name(self) -> str | None:
        """The PC/SC name of the reader in use, or None while none matches."""
        return self._reader_name

    def card(self) -> Card:
        card = self._card
        if card is None or not card.present:
            raise NoCard(_("There is no card on reader {reader}: present a card.").format(reader=self.device_id))
        return card

    def current_card(self) -> Card | None:
        card = self._card
        return card if card is not None and card.present else None

    def feedback(self, good: bool) -> bool:
        """LED/buzzer through the card's connection; False with no card (vpcd cannot pass escape
        commands, and a real ACR122U without a card needs a direct connection we do not hold)."""
        card = self.current_card()
        if card is None:
            return False
        try:
            card.feedback(good)
        except CardError as exc:
            log.info("reader %s: no feedback: %s", self.device_id, exc.message)
            return False
        return True

    # ---- monitor thread ------------------------------------------------------------------------

    def _set_health(self, ok: bool, message: str) -> None:
        self._health = (ok, message)

    def _no_reader_message(self, names: list[str]) -> str:
        found = ", ".join(names) or _("none")
        if not self._match:
            return _("No card reader number {index} is connected; readers: {names}.").format(
                index=self._index, names=found)
        return _("No card reader matching {match!r} (number {index}) is connected; readers: {names}.").format(
            match=self._match, index=self._index, names=found)

    def _list_readers(self) -> list[str] | None:
        hresult, names = scard.SCardListReaders(self._monitor_context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            return None if hresult in _SERVICE_GONE else []
        return list(names)

    def _pick(self, names: list[str]) -> str | None:
        matching = sorted(n for n in names if self._match.lower() in n.lower())
        return matching[self._index] if self._index < len(matching) else None

    def _monitor(self) -> None:
        pnp_state = scard.SCARD_STATE_UNAWARE
        reader_state = scard.SCARD_STATE_UNAWARE
        try:
            while not self._stopping.is_set():
                if self._reader_name is None:
                    names = self._list_readers()
                    if names is None:
                        self._lost()
                        return
                    picked = self._pick(names)
                    if picked is None:
                        self._set_health(False, self._no_reader_message(names))
                    else:
                        self._reader_name, reader_state = picked, scard.SCARD_STATE_UNAWARE
                        self._set_health(True, picked)
                        self._post(ReaderAdded(self.device_id))
                states = [(PNP, pnp_state)]
                if self._reader_name is not None:
                    states.append((self._reader_name, reader_state))
                retry = self._unconnected_atr is not None and self._reader_name is not None
                hresult, changes = scard.SCardGetStatusChange(self._monitor_context,
                                                              RETRY_MS if retry else self._wait_ms, states)
                if hresult == scard.SCARD_E_TIMEOUT and retry and self._unconnected_atr is not None:
                    self._card_arrived(self._unconnected_atr)
                    continue
                if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
                    continue
                if hresult in _SERVICE_GONE:
                    self._lost()
                    return
                if hresult in _READER_GONE:
                    self._reader_gone()
                    continue
                if hresult != scard.SCARD_S_SUCCESS:
                    log.warning("reader %s: status change failed: %s", self.device_id, _error_text(hresult))
                    self._stopping.wait(0.2)
                    continue
                for name, event_state, atr in changes:
                    if name == PNP:
                        if event_state & scard.SCARD_STATE_CHANGED and self._reader_name is not None:
                            names = self._list_readers()
                            if names is not None and self._reader_name not in names:
                                self._reader_gone()
                        pnp_state = event_state & ~scard.SCARD_STATE_CHANGED
                    elif name == self._reader_name:
                        reader_state = event_state & ~scard.SCARD_STATE_CHANGED
                        self._reader_changed(event_state, bytes(atr))
        except Exception:  # noqa: BLE001 - a monitor that dies must say so, not vanish
            log.exception("reader %s: monitor failed", self.device_id)
            self._lost()

    def _reader_changed(self, state: int, atr: bytes) -> None:
        if state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            self._reader_gone()
            return
        present = bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE
        self._unconnected_atr = None
        current = self._card
        if current is not None and (not present or not current.present or current.atr != atr):
            self._card_left()
        if present and self._card is None:
            self._card_arrived(atr)

    def _card_arrived(self, atr: bytes) -> None:
        assert self._reader_name is not None
        hresult, handle, protocol = scard.SCardConnect(self._card_context, self._reader_name, scard.SCARD_SHARE_SHARED,
                                                       scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        if hresult != scard.SCARD_S_SUCCESS:
            log.info("reader %s: card not connected: %s", self.device_id, _error_text(hresult))
            self._unconnected_atr = atr
            return
        self._unconnected_atr = None
        hresult, _name, _state, _protocol, actual_atr = scard.SCardStatus(handle)
        if hresult == scard.SCARD_S_SUCCESS and actual_atr:
            atr = bytes(actual_atr)         # a card swapped between two pcscd polls has a new ATR
        kind = card_kind_from_atr(atr)
        hresult, answer = scard.SCardTransmit(handle, protocol, list(apdu_get_uid()))
        uid = b""
        if hresult == scard.SCARD_S_SUCCESS:
            try:
                data, sw = split_response(bytes(answer))
                uid = data if sw == 0x9000 else b""
            except ValueError:
                pass
        elif hresult in _CARD_GONE:
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            self._unconnected_atr = atr
            return
        card = PcscCard(self.device_id, uid, atr, kind, handle, protocol)
        with self._state_lock:
            self._card = card
        self._post(CardPresented(self.device_id, hexstr(uid), hexstr(atr), kind))

    def _card_left(self) -> None:
        with self._state_lock:
            card, self._card = self._card, None
        if card is None:
            return
        card.disconnect()
        self._post(CardRemoved(self.device_id, card.uid_hex))

    def _reader_gone(self) -> None:
        if self._reader_name is None:
            return
        self._card_left()
        name, self._reader_name = self._reader_name, None
        self._set_health(False, _("Card reader {name} was disconnected.").format(name=name))
        self._post(ReaderRemoved(self.device_id))

    def _lost(self) -> None:
        """pcscd went away: tell everyone, then let the host restart us."""
        if self._stopping.is_set():
            return
        self._card_left()
        if self._reader_name is not None:
            self._reader_name = None
            self._post(ReaderRemoved(self.device_id))
        self._set_health(False, _("The PC/SC service (pcscd) stopped: the reader will reconnect when it is back."))
        self._alive = False


def open_reader(config: DeviceConfig, post: Post) -> PcscReader:
    """Factory of device kind ``pcsc-reader`` (``suite.core_plugin.DEVICE_KINDS``)."""
    return PcscReader(config, post)


__all__ = ["PcscCard", "PcscReader", "open_reader"]
