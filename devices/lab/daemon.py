"""The lab daemon: holds the virtual cards, puts them on vpcd reader slots, obeys the control socket.

Run by ``venue-suite lab start`` as ``python -m devices.lab.daemon --dir <lab>``. A card on a
reader whose vpcd hangs up (pcscd stopped) stays "on the reader" and reconnects when vpcd is
back, like a physical card left on a reader while the PC's daemon restarts. Every change a
reader makes to a card is saved at once in ``<lab>/cards/<name>.json``.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices.apdu import hexstr, parse_hex
from devices.lab.acr122u import Acr122uFrontEnd, Tear
from devices.lab.control import ControlServer, LabError
from devices.lab.cpu_card import CpuCard
from devices.lab.mifare_card import MifareClassic1K, manufacturer_block
from devices.lab.paths import LabConfig, LabPaths
from devices.lab.store import CardStore, DumpError, VirtualCard, binary_image, card_from_dict, card_to_dict
from devices.lab.vpcd import CLOSED, TORN, VpcdLink, VpcdUnreachable
from devices.mifare import BLOCK_COUNT, BLOCK_SIZE
from suite.i18n import _

log = logging.getLogger(__name__)
RECONNECT_INTERVAL = 0.2
FIRST_POLL_TIMEOUT = 2.0
# vpcd notices a card left only at pcscd's next presence poll (every 400 ms); a card put on the
# slot before that would look to pcscd like the old one still there, so a slot stays empty this long.
REMOVAL_GAP = 0.5


@dataclass
class Slot:
    index: int
    port: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str | None = None
    front: Acr122uFrontEnd | None = None
    link: VpcdLink | None = None
    waiting_for_vpcd: bool = False
    removed_at: float = 0.0


class LabDaemon:
    OPS = ("ping", "status", "insert", "remove", "dump", "clone", "restore", "feedback", "tear", "shutdown")

    def __init__(self, paths: LabPaths, config: LabConfig | None = None) -> None:
        self.paths = paths
        self.config = config or paths.load_config()
        self.store = CardStore(paths.cards)
        self.slots = [Slot(i, port) for i, port in enumerate(self.config.ports)]
        self.stopped = threading.Event()
        self._lock = threading.RLock()
        self._server: ControlServer | None = None

    # ---- life cycle ------------------------------------------------------------------------------

    def start(self) -> "LabDaemon":
        self._server = ControlServer(self.paths.control_socket, self.dispatch).start()
        return self

    def stop(self) -> None:
        """Remove every card (saving it) and close the control socket."""
        for slot in self.slots:
            self._take_out(slot)
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.stopped.set()

    def dispatch(self, request: dict[str, Any]) -> Any:
        op = request.pop("op", None)
        if op not in self.OPS:
            raise LabError(_("Unknown lab operation {op!r}.").format(op=op))
        if op == "ping":
            return {"pid": os.getpid()}
        if op == "shutdown":
            threading.Thread(target=self.stop, name="lab-stop", daemon=True).start()
            return {"stopping": True}
        with self._lock:
            return getattr(self, op)(**request)

    # ---- cards on readers ------------------------------------------------------------------------

    def _slot(self, reader: int) -> Slot:
        if not isinstance(reader, int) or not 0 <= reader < len(self.slots):
            raise LabError(_("No virtual reader {reader}: the lab has readers 0 to {last}.").format(
                reader=reader, last=len(self.slots) - 1))
        return self.slots[reader]

    def _occupied(self, reader: int) -> Slot:
        slot = self._slot(reader)
        if slot.name is None:
            raise LabError(_("There is no card on virtual reader {reader}.").format(reader=reader))
        return slot

    def insert(self, reader: int = 0, uid: str | None = None, name: str | None = None, kind: str = "mifare",
               magic: bool = False, wait: bool = True) -> dict[str, Any]:
        slot = self._slot(reader)
        name = name or (hexstr(_uid(uid, kind)) if uid else None)
        if not name:
            raise LabError(_("Say which card to insert: a UID or the name of a stored card."))
        for other in self.slots:
            if other.name == name and other.index != reader:
                raise LabError(_("Card {name} is already on virtual reader {reader}.").format(
                    name=name, reader=other.index))
        card = self._load_or_create(name, uid, kind, magic)
        self._take_out(slot)
        gap = slot.removed_at + REMOVAL_GAP - time.monotonic()
        if gap > 0:
            time.sleep(gap)
        front = Acr122uFrontEnd(card, on_change=lambda: self._save(slot))
        link = VpcdLink(self.config.host, slot.port, front, lock=slot.lock, on_closed=self._link_closed)
        try:
            link.open()
        except VpcdUnreachable as exc:
            raise LabError(_("Cannot put the card on virtual reader {reader}: {reason}").format(
                reader=reader, reason=exc)) from None
        slot.name, slot.front, slot.link, slot.waiting_for_vpcd = name, front, link, False
        log.info("card %s on reader %d (port %d)", name, reader, slot.port)
        if wait and not link.polled.wait(FIRST_POLL_TIMEOUT):
            raise LabError(_("vpcd on port {port} did not talk to the card within {seconds} s: another virtual "
                             "card may hold that reader, or pcscd is not serving it.").format(
                port=slot.port, seconds=FIRST_POLL_TIMEOUT))
        return self._describe(slot)

    def _load_or_create(self, name: str, uid: str | None, kind: str, magic: bool) -> VirtualCard:
        try:
            return self.store.load(name)
        except KeyError:
            pass
        except (DumpError, ValueError) as exc:
            raise LabError(str(exc)) from None
        if not uid:
            raise LabError(_("No stored card named {name}.").format(name=name))
        raw_uid = _uid(uid, kind)
        card: VirtualCard = MifareClassic1K.blank(raw_uid, magic=magic) if kind == "mifare" else CpuCard(raw_uid)
        self.store.save(name, card)
        return card

    def remove(self, reader: int = 0) -> dict[str, Any]:
        slot = self._slot(reader)
        name = slot.name
        self._take_out(slot)
        return {"reader": reader, "removed": name}

    def _take_out(self, slot: Slot) -> None:
        link, name = slot.link, slot.name
        slot.name, slot.link, slot.waiting_for_vpcd = None, None, False
        if link is not None:
            link.close()
            slot.removed_at = time.monotonic()
        if name is not None and slot.front is not None:
            with slot.lock:
                self.store.save(name, slot.front.card)
            log.info("card %s off reader %d", name, slot.index)
        slot.front = None

    def _save(self, slot: Slot) -> None:
        """Called under the slot's lock by the front end after a change."""
        if slot.name is not None and slot.front is not None:
            self.store.save(slot.name, slot.front.card)

    def _link_closed(self, link: VpcdLink, reason: str) -> None:
        """On the link's thread: never wait here for the lock a control request may hold."""
        slot = next((s for s in self.slots if s.link is link), None)
        if slot is None or reason == CLOSED:
            return
        if reason == TORN:
            threading.Thread(target=self._torn, args=(slot, link), name=f"lab-torn-{slot.index}", daemon=True).start()
            return
        slot.waiting_for_vpcd = True
        threading.Thread(target=self._reconnect, args=(slot, link), name=f"lab-reconnect-{slot.index}",
                         daemon=True).start()

    def _torn(self, slot: Slot, link: VpcdLink) -> None:
        with self._lock:
            if slot.link is link:
                log.info("card %s pulled from reader %d during a command", slot.name, slot.index)
                self._take_out(slot)

    def _reconnect(self, slot: Slot, old: VpcdLink) -> None:
        while not self.stopped.is_set():
            time.sleep(RECONNECT_INTERVAL)
            with self._lock:
                if slot.link is not old or slot.front is None:
                    return
                link = VpcdLink(self.config.host, slot.port, slot.front, lock=slot.lock, on_closed=self._link_closed)
                try:
                    link.open(timeout=1.0)
                except VpcdUnreachable:
                    continue
                slot.link, slot.waiting_for_vpcd = link, False
                log.info("card %s back on reader %d", slot.name, slot.index)
                return

    # ---- dumps, clones, restores -----------------------------------------------------------------

    def _card(self, reader: int | None, name: str | None) -> tuple[str, VirtualCard, Slot | None]:
        if name is not None:
            slot = next((s for s in self.slots if s.name == name), None)
            if slot is not None and slot.front is not None:
                return name, slot.front.card, slot
            try:
                return name, self.store.load(name), None
            except KeyError:
                raise LabError(_("No stored card named {name}.").format(name=name)) from None
        slot = self._occupied(0 if reader is None else reader)
        assert slot.name is not None and slot.front is not None
        return slot.name, slot.front.card, slot

    def dump(self, reader: int | None = None, name: str | None = None, binary: bool = False) -> dict[str, Any]:
        card_name, card, slot = self._card(reader, name)
        lock = slot.lock if slot is not None else threading.Lock()
        with lock:
            result: dict[str, Any] = {"name": card_name, "card": card_to_dict(card)}
            if binary:
                try:
                    result["binary"] = base64.b64encode(binary_image(card)).decode()
                except DumpError as exc:
                    raise LabError(str(exc)) from None
        return result

    def clone(self, reader: int | None = None, name: str | None = None, to_uid: str | None = None,
              magic: bool = False, new_name: str | None = None, insert: int | None = None) -> dict[str, Any]:
        source_name, source, _slot = self._card(reader, name)
        if not isinstance(source, MifareClassic1K):
            raise LabError(_("Only MIFARE Classic cards can be cloned: a CPU card never gives out its keys."))
        image = bytearray(source.memory)
        if magic:
            clone = MifareClassic1K(bytes(image), uid_length=source.uid_length, magic=True)
            target = new_name or f"{source_name}.magic"
        else:
            if not to_uid:
                raise LabError(_("A clone onto a genuine card needs --to-uid (its block 0 cannot change), "
                                 "or --magic for a full copy."))
            uid = _uid(to_uid, "mifare")
            image[0:BLOCK_SIZE] = manufacturer_block(uid)
            clone = MifareClassic1K(bytes(image), uid_length=len(uid))
            target = new_name or hexstr(uid)
        if any(s.name == target for s in self.slots):
            raise LabError(_("Card {name} is on a reader: remove it before overwriting it.").format(name=target))
        self.store.save(target, clone)
        result: dict[str, Any] = {"source": source_name, "clone": target, "uid": hexstr(clone.uid), "magic": magic}
        if insert is not None:
            result["inserted"] = self.insert(reader=insert, name=target)
        return result

    def restore(self, reader: int | None = None, name: str | None = None, card: dict[str, Any] | None = None,
                binary: str | None = None) -> dict[str, Any]:
        """Write an old dump back. Block 0 changes only on a magic card; a card on a reader is taken
        off and put back (the terminal sees a new tap, as after an attacker's rewrite)."""
        target_name, target, slot = self._card(reader, name)
        if not isinstance(target, MifareClassic1K):
            raise LabError(_("Only MIFARE Classic cards can be restored from a dump."))
        try:
            if binary is not None:
                image = base64.b64decode(binary, validate=True)
            elif card is not None:
                old = card_from_dict(card)
                if not isinstance(old, MifareClassic1K):
                    raise DumpError(_("the dump is not of a MIFARE Classic card"))
                image = bytes(old.memory)
            else:
                raise LabError(_("No dump given."))
        except (DumpError, ValueError) as exc:
            raise LabError(_("Cannot restore: {reason}").format(reason=exc)) from None
        if len(image) != BLOCK_COUNT * BLOCK_SIZE:
            raise LabError(_("Cannot restore: a MIFARE Classic 1K image is 1024 bytes, not {size}.").format(
                size=len(image)))
        on_reader = slot.index if slot is not None else None
        if slot is not None:
            self._take_out(slot)
            target = self.store.load(target_name)
            assert isinstance(target, MifareClassic1K)
        first = 0 if target.magic else BLOCK_SIZE
        target.memory[first:] = image[first:]
        target.bricked.clear()
        self.store.save(target_name, target)
        result: dict[str, Any] = {"restored": target_name, "uid": hexstr(target.uid), "block0_written": target.magic}
        if on_reader is not None:
            result["inserted"] = self.insert(reader=on_reader, name=target_name)
        return result

    # ---- reader feedback, tears, status ----------------------------------------------------------

    def feedback(self, reader: int = 0, clear: bool = False) -> list[dict[str, Any]]:
        slot = self._occupied(reader)
        assert slot.front is not None
        with slot.lock:
            records = [f.as_dict() for f in slot.front.feedback]
            if clear:
                slot.front.feedback.clear()
        return records

    def tear(self, reader: int = 0, after: int = 1, writes_only: bool = True, apply: bool = False) -> dict[str, Any]:
        slot = self._occupied(reader)
        assert slot.front is not None
        if after < 1:
            raise LabError(_("--after counts commands from 1."))
        with slot.lock:
            slot.front.tear = Tear(after, writes_only, apply)
        return {"reader": reader, "card": slot.name, "after": after, "writes_only": writes_only, "apply": apply}

    def _describe(self, slot: Slot) -> dict[str, Any]:
        described: dict[str, Any] = {"reader": slot.index, "port": slot.port,
                                     "pcsc_name": self.config.reader_names()[slot.index], "card": slot.name}
        if slot.front is not None:
            card = slot.front.card
            described.update(uid=hexstr(card.uid), kind=card.kind, atr=hexstr(slot.front.atr),
                             magic=getattr(card, "magic", False), apdus=slot.front.apdu_count,
                             state="waiting for vpcd" if slot.waiting_for_vpcd else "on reader",
                             refusals=list(getattr(card, "refusals", ()))[-5:])
        return described

    def status(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "lab_dir": str(self.paths.folder), "vpcd_host": self.config.host,
                "readers": [self._describe(s) for s in self.slots], "stored_cards": self.store.names()}


def _uid(text: str, kind: str) -> bytes:
    """A UID typed by a user: hex, 4 or 7 bytes (a CPU card may also have 10)."""
    if kind not in ("mifare", "cpu"):
        raise LabError(_("Unknown card kind {kind!r}: mifare or cpu.").format(kind=kind))
    sizes = (4, 7) if kind == "mifare" else (4, 7, 10)
    try:
        uid = parse_hex(text)
    except ValueError as exc:
        raise LabError(_("UID {uid!r}: {reason}").format(uid=text, reason=exc)) from None
    if len(uid) not in sizes:
        raise LabError(_("UID {uid!r}: a {kind} card has a UID of {sizes} bytes, not {size}.").format(
            uid=text, kind=kind, sizes=" or ".join(map(str, sizes)), size=len(uid)))
    return uid


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devices.lab.daemon", description="The virtual card lab daemon.")
    parser.add_argument("--dir", required=True, help="lab folder")
    args = parser.parse_args(argv)
    paths = LabPaths(Path(args.dir))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    daemon = LabDaemon(paths).start()
    paths.daemon_pid.write_text(str(os.getpid()))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: threading.Thread(target=daemon.stop, daemon=True).start())
    try:
        daemon.stopped.wait()
    finally:
        paths.daemon_pid.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
