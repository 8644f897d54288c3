"""Gate benchmarks: ``python -m bench.bench_gates [--iterations N] [--quick]``.

1. OSDP scan to relay: the simulated turnstile (its own process, libosdp peripheral) reads a
   card; the driver (libosdp control panel) posts the ``ScanEvent``; a consumer thread, standing
   in for the shell's event pump and the check-in decision, calls ``open_once``; the figure is
   the time from the ``ScanEvent`` being posted at the control panel to the unlock command
   arriving at the simulator (target p99 <= 100 ms). Card-at-the-reader to relay is shown too:
   it adds libosdp's poll cycle (the control panel polls every ~100 ms).
2. Relay board: ``open_once`` to the ``A0 01 01 A2`` frame read by the board at the other end of
   the pty, and the pulse length the board saw (on to off, 300 ms asked).

Both clocks are CLOCK_MONOTONIC, shared by the processes of one machine.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import threading
import time
import uuid

from bench.timing import percentile
from gates.osdp import open_gate
from gates.relay import RelayGate
from gates.simulator.process import SimulatorProcess, keyring_args
from gates.simulator.pty import PtyPair
from gates.simulator.relay_board import RelayBoardSimulator
from suite.device_host import DeviceConfig
from suite.events import ScanEvent
from suite.secrets import SecretStore


def report(name: str, values_ms: list[float], target: float | None = None) -> None:
    p99 = percentile(values_ms, 0.99)
    verdict = "" if target is None else ("  (target p99 <= %.0f ms: %s)" % (target, "met" if p99 <= target else "MISSED"))
    print(f"  {name:<44} n={len(values_ms):<4} p50 {statistics.median(values_ms):7.2f} ms   "
          f"p99 {p99:7.2f} ms   max {max(values_ms):7.2f} ms{verdict}")


def bench_osdp(iterations: int) -> None:
    store = SecretStore.from_settings(f"venue-suite-bench-{uuid.uuid4().hex[:8]}", "keyrings.alt.file.PlaintextKeyring")
    scans: queue.Queue[tuple[float, ScanEvent]] = queue.Queue()

    def post(event: object) -> None:
        if isinstance(event, ScanEvent):
            scans.put((time.monotonic(), event))

    with PtyPair() as pair:
        sim = SimulatorProcess("turnstile", pair, keyring_args(store, "osdp-scbk:bench") + ["--nobody"]).start()
        gate = open_gate(DeviceConfig("bench", "osdp-gate", {"port": pair.port, "pulse_ms": 100}), post, secrets=store)
        gate.start()
        stop = threading.Event()
        scan_times: queue.Queue[float] = queue.Queue()

        def decide() -> None:  # the event pump + check-in decision, on its own thread
            while not stop.is_set():
                try:
                    posted, _event = scans.get(timeout=0.1)
                except queue.Empty:
                    continue
                scan_times.put(posted)
                gate.open_once("A")

        consumer = threading.Thread(target=decide, daemon=True)
        consumer.start()
        try:
            if not gate.wait_online(10):
                raise SystemExit("the simulated turnstile did not come up: " + gate.health()[1])
            while not gate.inputs_known():
                time.sleep(0.01)
            scan_to_relay, card_to_relay = [], []
            for n in range(iterations):
                sim.drain()
                presented = time.monotonic()
                sim.send(f"card {n:08X}")
                pulse = sim.wait_for(lambda e: e.get("event") == "output" and e["control_code"] == 5)
                posted = scan_times.get(timeout=5)
                scan_to_relay.append((pulse["t"] - posted) * 1000)
                card_to_relay.append((pulse["t"] - presented) * 1000)
                gate.reset()  # forget the unused passage so the next scan pulses again
                sim.wait_for(lambda e: e.get("event") == "output" and e["direction"] == "B" and e["control_code"] == 1)
        finally:
            stop.set()
            consumer.join(timeout=2)
            gate.stop()
            sim.stop()
    report("OSDP ScanEvent at the panel -> relay command", scan_to_relay, target=100)
    report("OSDP card at the reader -> relay command", card_to_relay)


def bench_relay(iterations: int) -> None:
    with PtyPair() as pair:
        board = RelayBoardSimulator(pair.device_fd)
        board.start()
        gate = RelayGate(DeviceConfig("relay-bench", "relay-gate", {"port": pair.port, "pulse_ms": 300}), lambda e: None)
        gate.start()
        latencies, pulses = [], []
        try:
            time.sleep(0.1)
            for _n in range(iterations):
                count = len(board.frames)
                sent = time.monotonic()
                gate.open_once("A")
                while len(board.frames) < count + 2:
                    time.sleep(0.0005)
                (t_on, _on), (t_off, _off) = board.frames[count:count + 2]
                latencies.append((t_on - sent) * 1000)
                pulses.append((t_off - t_on) * 1000)
                gate.reset()
                while len(board.frames) < count + 4:
                    time.sleep(0.0005)
        finally:
            gate.stop()
            board.stop()
    report("relay board: open_once -> frame at the board", latencies)
    report("relay board: pulse seen by the board (300 ms)", pulses)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_gates")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="30 iterations")
    args = parser.parse_args(argv)
    iterations = 30 if args.quick else args.iterations
    bench_osdp(iterations)
    bench_relay(min(iterations, 50))


if __name__ == "__main__":
    main()
