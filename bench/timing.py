"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(action: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    """Milliseconds per call of ``action`` over ``runs`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` (0.99 for p99) of the sorted values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def figures(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    return (f"median {statistics.median(ordered):.2f} ms, p99 {percentile(ordered, 0.99):.2f} ms, "
            f"max {ordered[-1]:.2f} ms (n={len(ordered)})")


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Columns padded to their widest cell: the first and the last (scenario, notes) to the
    left, the figures between them to the right; a rule under the header."""
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    last = len(header) - 1
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(w) if i in (0, last) else cell.rjust(w) for i, (cell, w) in
                        enumerate(zip(row, widths))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
