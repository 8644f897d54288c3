"""Desktop shell benchmarks: ``python -m bench.bench_ui [--rows N] [--runs N]``.

Starts its own Xvfb, sets up a demo folder (``suite.demo``), and measures:

1. cold start to login window visible: a fresh ``python -c`` that builds the app and the
   login window, until the window is mapped (target <= 1.5 s);
2. login to main window with every tab built: the password check (Argon2) plus building the
   window and every tab, and the window part alone (target <= 0.5 s);
3. a 1,000,000-row report: ``core.ledger_journal`` over lines bulk-inserted into SQLite,
   first rows visible after Run (target <= 1 s), the count, a jump to the middle, and the
   longest stall of the Tk event loop meanwhile.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ADMIN = ("admin", "admin-demo-2026")
# Tk roots stay referenced until exit: a Tcl interpreter must die on the thread that made it
_ROOTS: list[Any] = []


# -------------------------------------------------------------------- seeding

def _uuid7_hex(ms: int, counter: int) -> str:
    """A UUIDv7 (as SQLAlchemy stores it on SQLite: 32 hex digits) for time ``ms``."""
    rand_a = counter & 0xFFF
    rand_b = (counter >> 12) & 0x3FFFFFFFFFFFFFFF
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return f"{value:032x}"


def seed_ledger_lines(db_path: str | Path, lines: int, *, days: int = 30, unit: str = "CNY") -> int:
    """Bulk-insert ``lines`` journal lines (two per entry, balanced) spread over the last
    ``days`` days, straight into the SQLite file (no ledger service: this is test data for
    reading). Balances are not kept: use it for reports, not for ``ledger check``."""
    entries = lines // 2
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    start = now - dt.timedelta(days=days)
    span_ms = days * 86_400_000
    start_ms = int(start.replace(tzinfo=dt.timezone.utc).timestamp() * 1000)
    conn = sqlite3.connect(str(db_path))
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        accounts = []
        for n in range(2):
            account_id = _uuid7_hex(start_ms, 10_000_000 + n)
            conn.execute("INSERT INTO ledger_accounts (owner_type, owner_id, kind, unit, name, floor, balance, id, "
                         "venue_id, terminal_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                         ("bench", f"BENCH-{secrets.token_hex(4)}", "cash" if n else "wallet.main", unit,
                          f"bench account {n}", None, 0, account_id, None, None, str(start), str(start)))
            accounts.append(account_id)
        tag = secrets.token_hex(4)

        def entry_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(entries):
                ms = start_ms + i * span_ms // max(1, entries)
                at = str(dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms))
                yield (f"bench-{tag}-{i}", "bench.sale", "", "0" * 64, None, "bench", _uuid7_hex(ms, i), None, None,
                       at, at)

        def line_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(entries):
                ms = start_ms + i * span_ms // max(1, entries)
                entry_id = _uuid7_hex(ms, i)
                amount = 100 + (i * 37) % 9_900
                yield (entry_id, accounts[0], unit, amount, 0, amount)
                yield (entry_id, accounts[1], unit, -amount, 1, -amount)

        conn.executemany("INSERT INTO ledger_entries (idempotency_key, kind, memo, payload_hash, reverses_id, actor, "
                         "id, venue_id, terminal_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         entry_rows())
        conn.executemany("INSERT INTO ledger_lines (entry_id, account_id, unit, amount, position, balance_after) "
                         "VALUES (?,?,?,?,?,?)", line_rows())
        conn.commit()
    finally:
        conn.close()
    return entries * 2


# -------------------------------------------------------------------- helpers

class Xvfb:
    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.display = ""

    def __enter__(self) -> "Xvfb":
        for number in range(150, 400):
            if Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists():
                continue
            self.proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not Path(f"/tmp/.X11-unix/X{number}").exists():
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.display = f":{number}"
                os.environ["DISPLAY"] = self.display
                return self
        raise RuntimeError("Xvfb did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=5)


def wait_for(root: Any, predicate: Callable[[], Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        root.update()
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        time.sleep(0.001)


class StallMeter:
    """The longest gap between 10 ms ``after`` ticks: how long the Tk loop was blocked."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.last = time.perf_counter()
        self.worst = 0.0
        self._id = root.after(10, self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now
        self._id = self.root.after(10, self._tick)

    def stop(self) -> float:
        self.root.after_cancel(self._id)
        return self.worst


COLD_START = """
import sys, time
from suite.bootstrap import build_app
from suite.config import load_settings
from suite.ui.app import Shell, create_root
app = build_app(load_settings(sys.argv[1]))
root, fonts = create_root()
shell = Shell(root, app, fonts=fonts)
screen = shell.show_login()
screen.wait_visibility()
print("visible", flush=True)
root.update()
shell.close()
app.close()
"""


def cold_start(site: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", COLD_START, str(site)], stdout=subprocess.PIPE, text=True,
                                cwd=REPO)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - start
        proc.wait(timeout=60)
        if line.strip() != "visible":
            raise RuntimeError("the cold-start child did not show its window")
        times.append(elapsed)
    return times


def login_to_main(site: Path, runs: int) -> tuple[list[float], list[float]]:
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.ui.app import Shell, create_root

    totals, windows = [], []
    app = build_app(load_settings(site))
    root, fonts = create_root()
    _ROOTS.append(root)
    shell = Shell(root, app, fonts=fonts)
    try:
        for _ in range(runs):
            screen = shell.show_login()
            root.update()
            screen.username.set(ADMIN[0])
            screen.password.set(ADMIN[1])
            start = time.perf_counter()
            screen.login_button.invoke()
            wait_for(root, lambda: shell.main is not None)
            shell.main.build_all()
            root.update()
            end = time.perf_counter()
            totals.append(end - start)
            # the window alone: a fresh main window for the same operator, every tab built
            actor = shell.actor
            shell.logout()
            root.update()
            start = time.perf_counter()
            main = shell.show_main(actor)
            main.build_all()
            root.update()
            windows.append(time.perf_counter() - start)
            shell.logout()
            root.update()
    finally:
        shell.close()
        app.close()
    return totals, windows


def big_report(site: Path, rows: int) -> dict[str, float]:
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.ui.app import Shell, create_root

    db = site.parent / "venue-suite.db"
    start = time.perf_counter()
    seeded = seed_ledger_lines(db, rows)
    seed_seconds = time.perf_counter() - start
    app = build_app(load_settings(site))
    root, fonts = create_root()
    _ROOTS.append(root)
    shell = Shell(root, app, fonts=fonts)
    try:
        actor = app.identity.authenticate(*ADMIN)
        main = shell.show_main(actor)
        main.select_id("core.reports")
        tab = main.slots[main.tab_ids().index("core.reports")].content
        tab.select_report("core.ledger_journal")
        root.update()
        meter = StallMeter(root)
        start = time.perf_counter()
        tab.run_report({})
        wait_for(root, lambda: len(tab.shown_rows()) > 0)
        first_rows = time.perf_counter() - start
        wait_for(root, lambda: tab.count is not None)
        counted = time.perf_counter() - start
        wait_for(root, lambda: tab.daily is not None)
        charted = time.perf_counter() - start
        if tab.count != seeded + 6:  # the demo's own six lines
            raise RuntimeError(f"counted {tab.count} rows, expected {seeded + 6}")
        start = time.perf_counter()
        tab.table.scroll_to(tab.count // 2)
        wait_for(root, lambda: tab.table.row(tab.count // 2) is not None and len(tab.shown_rows()) > 0)
        middle = time.perf_counter() - start
        stall = meter.stop()
    finally:
        shell.close()
        app.close()
    return {"rows": float(seeded), "seed_s": seed_seconds, "first_rows_s": first_rows, "count_s": counted,
            "chart_s": charted, "middle_s": middle, "stall_s": stall}


def _fmt(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} s, best {min(values):.3f} s, worst {max(values):.3f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_ui")
    parser.add_argument("--rows", type=int, default=1_000_000, help="report rows to seed")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from suite import demo
    from suite.i18n import set_language

    folder = Path(tempfile.mkdtemp(prefix="venue-suite-bench-ui-"))
    try:
        with Xvfb():
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):
                if demo.main(["--dir", str(folder), "--no-window"]):
                    raise RuntimeError("demo set-up failed")
            set_language("en")
            site = folder / "site.toml"
            cold = cold_start(site, args.runs)
            print(f"cold start to login window visible: {_fmt(cold)} (target <= 1.5 s)")
            totals, windows = login_to_main(site, args.runs)
            print(f"login to main window, every tab built: {_fmt(totals)}")
            print(f"  of which the window and its tabs: {_fmt(windows)} (target <= 0.5 s; the rest is the "
                  f"Argon2 password check)")
            report = big_report(site, args.rows)
            print(f"report table on {int(report['rows']):,} ledger lines (seeded in {report['seed_s']:.1f} s):")
            print(f"  first rows visible after Run: {report['first_rows_s']:.3f} s (target <= 1 s)")
            print(f"  row count known: {report['count_s']:.3f} s; daily chart drawn: {report['chart_s']:.3f} s")
            print(f"  jump to the middle row, rows visible: {report['middle_s']:.3f} s")
            print(f"  longest Tk event-loop stall meanwhile: {report['stall_s'] * 1000:.0f} ms")
            gc.collect()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
