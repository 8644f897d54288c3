"""Card readers through a real pcscd and the virtual card lab: APDU round trip, card-present latency,
MIFARE authenticate + read.

``python -m bench.bench_cards [--quick]``. Starts a private lab (pcscd + lab daemon on free ports,
isolated when a pcscd already runs) and stops it at the end.
"""

from __future__ import annotations

import argparse
import queue
import random
import statistics
import time
from typing import Any

from bench.timing import percentile
from devices import mifare
from devices.apdu import command
from devices.lab.runtime import private_lab
from devices.pcsc import PcscReader
from suite.device_host import DeviceConfig
from suite.events import CardPresented, CardRemoved


def describe(values_ms: list[float]) -> str:
    return (f"median {statistics.median(values_ms):.3f} ms, p99 {percentile(values_ms, 0.99):.3f} ms, "
            f"max {max(values_ms):.3f} ms over {len(values_ms)}")


class TimedReader(PcscReader):
    """The driver, noting when pcscd's status change reached it (to split pcscd's polling from the
    driver's own work: connect, UID, post)."""

    reported_at = 0.0

    def _reader_changed(self, state: int, atr: bytes) -> None:
        self.reported_at = time.perf_counter()
        super()._reader_changed(state, atr)


class Events:
    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[float, object]] = queue.Queue()

    def __call__(self, event: object) -> None:
        self.queue.put((time.perf_counter(), event))

    def wait_for(self, kind: type, timeout: float = 5.0) -> tuple[float, Any]:
        deadline = time.monotonic() + timeout
        while True:
            at, event = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(event, kind):
                return at, event


def bench_round_trip(card: Any, runs: int) -> None:
    get_uid = command(0xFF, 0xCA, 0x00, 0x00, le=0)
    for _ in range(50):
        card.transmit(get_uid)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        card.transmit(get_uid)
        times.append((time.perf_counter() - start) * 1000)
    print(f"APDU round trip (FF CA get UID, pyscard -> pcscd -> vpcd -> lab): {describe(times)}")


def bench_authenticate_read(card: Any, runs: int) -> None:
    times = []
    for i in range(runs):
        block = 4 + 4 * (i % 14)
        start = time.perf_counter()
        card.authenticate(block, "A", mifare.TRANSPORT_KEY)
        card.read_block(block)
        times.append((time.perf_counter() - start) * 1000)
    print(f"MIFARE load key + authenticate + read one block (3 APDUs): {describe(times)}")


def bench_card_present(lab: Any, reader: TimedReader, events: Events, runs: int) -> None:
    total, driver = [], []
    for i in range(runs):
        uid = f"04BE{i:04X}"
        time.sleep(random.uniform(0, 0.4))     # taps fall at any point of pcscd's polling cycle
        start = time.perf_counter()
        lab.client.call("insert", reader=0, uid=uid, wait=False)
        at, presented = events.wait_for(CardPresented)
        assert presented.uid == uid, presented
        total.append((at - start) * 1000)
        driver.append((at - reader.reported_at) * 1000)
        lab.client.call("remove", reader=0)
        events.wait_for(CardRemoved)
    print(f"card present, lab insert -> CardPresented posted: {describe(total)} "
          "(pcscd polls card presence every 400 ms: expect 0-400 ms + the driver)")
    print(f"card present, pcscd status change -> CardPresented posted (connect, FF CA, post): {describe(driver)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    apdus, taps, reads = (300, 5, 100) if args.quick else (5000, 20, 1000)
    with private_lab() as lab:
        events = Events()
        reader = TimedReader(DeviceConfig("bench", "pcsc-reader", {"reader": lab.config.reader_names()[0]}), events)
        reader.start()
        try:
            bench_card_present(lab, reader, events, taps)
            lab.client.call("insert", reader=0, uid="04BE0000")
            events.wait_for(CardPresented)
            card = reader.card()
            bench_round_trip(card, apdus)
            bench_authenticate_read(card, reads)
        finally:
            reader.stop()


if __name__ == "__main__":
    main()
