"""CLI start-up: wall time of ``venue-suite --help`` (target <= 300 ms), run as a user would."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def venue_suite_command() -> list[str]:
    script = Path(sys.executable).parent / "venue-suite"
    if script.exists():
        return [str(script)]
    found = shutil.which("venue-suite")
    return [found] if found else [sys.executable, "-m", "suite.cli"]


def time_command(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs + 2):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=os.environ)
        times.append((time.perf_counter() - start) * 1000)
    return times[2:]  # the first runs warm the page cache


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    times = time_command([*venue_suite_command(), "--help"], args.runs)
    print(f"venue-suite --help: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms, "
          f"min {min(times):.0f} ms over {len(times)} runs (target <= 300 ms)")


if __name__ == "__main__":
    main()
