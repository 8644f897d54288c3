"""Purse card read and write through pcscd: ``python -m bench.bench_purse [--runs N] [--quick]``.

Starts the virtual card lab (pcscd with the vpcd readers, the lab daemon; an isolated pcscd
when one already runs), opens the PC/SC reader driver, issues a virtual MIFARE Classic 1K and
measures on it:

1. one APDU round trip (``FF CA`` get UID) through pyscard -> pcscd -> vpcd -> the lab;
2. a full purse read: authenticate 3 sectors with diversified keys, read 8 blocks, verify the
   record MACs, the counters and the value block (``CardFormat.read``);
3. a purse write: the read above, then the record (3 blocks) and the value decrement or
   increment (``CardFormat.write``), debits and top-ups alternating;
4. the same read and write straight on the emulator (no pcscd): the card format's own cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.timing import figures, timed
from devices.cardformat import CardFormat
from devices.cardformat.emulated import EmulatedCard
from devices.lab.mifare_card import MifareClassic1K
from devices.lab.paths import LabConfig
from devices.lab.pcscd import SYSTEM_SOCKET, socket_alive
from devices.lab.runtime import LabRuntime, free_port_pair
from devices.pcsc import open_reader
from suite.device_host import DeviceConfig
from suite.events import CardPresented, ReaderAdded

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


def _wait_for(events: "queue.Queue[object]", kind: type, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if isinstance(event, kind):
            return event
    raise RuntimeError(f"no {kind.__name__} within {timeout} s")


def _writer(fmt: CardFormat, card: Any) -> Callable[[], object]:
    state = {"value": fmt.read(card).value, "n": 0}

    def write() -> object:
        amount = -100 if state["n"] % 2 == 0 else 100
        result = fmt.write(card, new_value=state["value"] + amount, amount=amount, terminal="BENCH/T01", time=NOW)
        state["value"], state["n"] = result.value, state["n"] + 1
        return result

    return write


def _issue(fmt: CardFormat, card: Any) -> None:
    fmt.personalise(card, card_number="8800000001", card_type=1, expires=dt.date(2030, 12, 31),
                    initial_value=1_000_000, terminal="BENCH/T01", time=NOW)


def bench_pcscd(runs: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="vs-bench-lab-"))
    runtime = LabRuntime(folder, LabConfig(base_port=free_port_pair()))
    runtime.start(pcscd="isolated" if socket_alive(SYSTEM_SOCKET) else "system")
    saved_env = dict(os.environ)
    os.environ.update(runtime.client_env())
    events: queue.Queue[object] = queue.Queue()
    reader = None
    try:
        reader = open_reader(DeviceConfig("bench-reader", "pcsc-reader", {"reader": runtime.config.reader_names()[0]}),
                             events.put)
        reader.start()
        _wait_for(events, ReaderAdded)
        runtime.client.call("insert", reader=0, uid="04" + secrets.token_hex(3).upper())
        _wait_for(events, CardPresented)
        card = reader.card()
        fmt = CardFormat(os.urandom(16), os.urandom(16))
        _issue(fmt, card)

        def apdus() -> int:
            return int(runtime.client.call("status")["readers"][0]["apdus"])

        print(f"APDU round trip (FF CA get UID):  {figures(timed(card.uid_from_reader, runs))}")
        before = apdus()
        fmt.read(card)
        per_read = apdus() - before
        print(f"purse read, {per_read} APDUs:           {figures(timed(lambda: fmt.read(card), runs))}")
        write = _writer(fmt, card)
        before = apdus()
        write()
        per_write = apdus() - before
        print(f"purse write, {per_write} APDUs:          {figures(timed(write, runs))}")
    finally:
        if reader is not None:
            reader.stop()
        runtime.stop()
        os.environ.clear()
        os.environ.update(saved_env)


def bench_emulator(runs: int) -> None:
    fmt = CardFormat(os.urandom(16), os.urandom(16))
    card = EmulatedCard(MifareClassic1K.blank(bytes.fromhex("04A1B2C3")))
    _issue(fmt, card)
    print(f"purse read, emulator (no pcscd):  {figures(timed(lambda: fmt.read(card), runs))}")
    print(f"purse write, emulator (no pcscd): {figures(timed(_writer(fmt, card), runs))}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_purse")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="50 runs")
    args = parser.parse_args(argv)
    runs = 50 if args.quick else args.runs
    bench_emulator(runs)
    bench_pcscd(runs)


if __name__ == "__main__":
    main()
