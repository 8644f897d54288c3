"""Reports on a big journal: ``python -m bench.bench_reports [--quick] [--lines N]``.

Seeds N ledger lines (1,000,000; 50,000 with ``--quick``) into a temporary SQLite file,
straight into the tables in batches (every entry balanced, every balance and payload hash
right, ids time-ordered as the ledger makes them), then measures the ledger journal report:

1. time to the first page (no count first; target <= 1 s), and a count, a deep page, totals
   and daily totals for reference;
2. xlsx export: rows/s (target >= 8,000) and the peak RSS of a process that does only the
   export (target <= 200 MiB);
3. CSV export: rows/s (target >= 100,000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

TARGETS = {"first_page_s": 1.0, "xlsx_rows_s": 8_000, "xlsx_rss_mib": 200, "csv_rows_s": 100_000}
REPORT = "core.ledger_journal"
CARDS = 2000
BATCH = 20_000


def write_site(folder: Path) -> Path:
    site = folder / "site.toml"
    site.write_text(
        f'[suite]\nlanguage = "en"\ndata_dir = "{folder / "data"}"\n\n'
        f'[database]\nurl = "sqlite:///{folder / "bench.db"}"\n\n'
        f'[keyring]\nbackend = "keyrings.alt.file.PlaintextKeyring"\nfile = "{folder / "keyring.cfg"}"\n')
    return site


def open_app(site: Path) -> Any:
    from suite.bootstrap import build_app
    from suite.config import load_settings

    return build_app(load_settings(site))


def _uuid7_at(ms: int, counter: int, rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | ((counter & 0xFFF) << 64) | (0b10 << 62) | rng.getrandbits(62))


def seed(app: Any, lines: int, days: int = 90) -> float:
    """``lines`` journal lines (two per entry) over the last ``days`` days; returns seconds."""
    from sqlalchemy import Uuid

    from suite.db.base import UTCDateTime
    from suite.ledger import open_account
    from suite.ledger.payload import LineSpec, payload_digest

    start = time.perf_counter()
    rng = random.Random(7)
    with app.uow() as uow:
        cash = open_account(uow.session, owner_type="venue", owner_id="HQ", kind="cash", unit="CNY", floor=None).id
        shop = open_account(uow.session, owner_type="merchant", owner_id="M1", kind="sales", unit="CNY", floor=None).id
        cards = [open_account(uow.session, owner_type="card", owner_id=f"{10000 + i}", kind="wallet.main",
                              unit="CNY").id for i in range(CARDS)]
        uow.commit()
    dialect = app.engine.dialect

    def bind(type_: Any) -> Any:
        return type_.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)

    db_uuid, db_time = bind(Uuid()), bind(UTCDateTime())
    balances = {a: 0 for a in (cash, shop, *cards)}
    entries = lines // 2
    now = dt.datetime.now(dt.timezone.utc)
    first = now - dt.timedelta(days=days)
    step_us = days * 86_400_000_000 // max(1, entries)
    venue = db_uuid(app.venue_id) if app.venue_id else None
    entry_sql = ("INSERT INTO ledger_entries (id, venue_id, terminal_id, created_at, updated_at, idempotency_key, "
                 "kind, memo, payload_hash, reverses_id, actor) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, NULL, ?)")
    line_sql = ("INSERT INTO ledger_lines (entry_id, account_id, unit, amount, position, balance_after) "
                "VALUES (?, ?, 'CNY', ?, ?, ?)")
    raw = app.engine.raw_connection()
    try:
        cursor = raw.cursor()
        # the engine's connections run in autocommit (BEGIN is issued by the engine): one
        # explicit transaction, not one per row; seeding needs no fsync per commit either
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("BEGIN")
        entry_rows: list[tuple[Any, ...]] = []
        line_rows: list[tuple[Any, ...]] = []
        last_ms, counter = -1, 0
        for n in range(entries):
            at = first + dt.timedelta(microseconds=n * step_us)
            ms = int(at.timestamp() * 1000)
            counter = counter + 1 if ms == last_ms else 0
            last_ms = ms
            entry_id = _uuid7_at(ms, counter, rng)
            card = cards[rng.randrange(CARDS)]
            spend = rng.randrange(100, 5000)
            if balances[card] >= spend and rng.random() < 0.45:
                kind, legs, memo = "wallet.consume", [(card, -spend), (shop, spend)], "stall M1"
            else:
                amount = rng.choice((5000, 10000, 20000, 50000))
                kind, legs, memo = "wallet.topup", [(card, amount), (cash, -amount)], "top-up at the desk"
            digest = payload_digest(kind, [LineSpec(a, x) for a, x in legs])
            stamp = db_time(at)
            db_entry = db_uuid(entry_id)
            entry_rows.append((db_entry, venue, stamp, stamp, f"bench-{n}", kind, memo, digest, "cashier1"))
            for position, (account, amount) in enumerate(legs):
                balances[account] += amount
                line_rows.append((db_entry, db_uuid(account), amount, position, balances[account]))
            if len(line_rows) >= BATCH:
                cursor.executemany(entry_sql, entry_rows)
                cursor.executemany(line_sql, line_rows)
                entry_rows.clear()
                line_rows.clear()
        cursor.executemany(entry_sql, entry_rows)
        cursor.executemany(line_sql, line_rows)
        cursor.executemany("UPDATE ledger_accounts SET balance = ? WHERE id = ?",
                           [(b, db_uuid(a)) for a, b in balances.items()])
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        raw.close()
    return time.perf_counter() - start


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def measure_queries(app: Any, lines: int) -> list[tuple[str, str, str]]:
    from suite.identity.actor import Actor
    from suite.reporting.runner import ReportRun

    actor = Actor.system("bench")
    figures: list[tuple[str, str, str]] = []

    def first_page() -> list[tuple[Any, ...]]:
        return ReportRun(app, actor, REPORT, {}).page(0, 100)

    first_page()  # warm the plugin host and the statement cache; then measure afresh
    page, seconds = _timed(first_page)
    ok = seconds <= TARGETS["first_page_s"] and len(page) == 100
    figures.append(("first page, 100 rows (no count)", f"{seconds * 1000:,.0f} ms",
                    f"target <= 1,000 ms {'OK' if ok else 'MISSED'}"))
    week = (dt.date.today() - dt.timedelta(days=6)).isoformat() + "..today"
    page, seconds = _timed(lambda: ReportRun(app, actor, REPORT, {"period": week}).page(0, 100))
    figures.append(("first page, last 7 days", f"{seconds * 1000:,.0f} ms", f"{len(page)} rows"))
    for owner in ("venue:HQ", "card:10007"):
        page, seconds = _timed(lambda: ReportRun(app, actor, REPORT, {"owner": owner}).page(0, 100))
        figures.append((f"first page, owner {owner}", f"{seconds * 1000:,.0f} ms", f"{len(page)} rows"))
    run = ReportRun(app, actor, REPORT, {})
    count, seconds = _timed(run.count)
    figures.append(("count", f"{seconds * 1000:,.0f} ms", f"{count:,} rows (seeded {lines:,})"))
    _deep, seconds = _timed(lambda: run.page(count // 2, 100))
    figures.append(("page in the middle (OFFSET)", f"{seconds * 1000:,.0f} ms", ""))
    totals, seconds = _timed(run.totals)
    figures.append(("totals", f"{seconds * 1000:,.0f} ms", f"amount {totals.get('amount')} (balanced: 0)"))
    daily, seconds = _timed(run.daily_totals)
    figures.append(("daily totals (chart)", f"{seconds * 1000:,.0f} ms", f"{len(daily)} days"))
    return figures


def export_child(site: str, fmt: str, out: str) -> None:
    """In a fresh process: export the report and print rows, seconds and peak RSS as JSON."""
    from suite.identity.actor import Actor
    from suite.reporting.export import export_csv, export_xlsx
    from suite.reporting.runner import ReportRun

    app = open_app(Path(site))
    try:
        run = ReportRun(app, Actor.system("bench"), REPORT, {})
        export = export_xlsx if fmt == "xlsx" else export_csv
        start = time.perf_counter()
        result = export(run, out)
        seconds = time.perf_counter() - start
    finally:
        app.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": result.rows, "seconds": seconds, "peak_kib": peak_kib,
                      "bytes": os.path.getsize(out), "sheets": result.sheets}))


def measure_export(site: Path, fmt: str, out: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.bench_reports", "--export-child", fmt, str(site), str(out)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"export child failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _print(figures: list[tuple[str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in figures) for i in range(3)]
    for name, value, note in figures:
        print(f"{name.ljust(widths[0])}  {value.rjust(widths[1])}  {note}".rstrip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 lines (a smoke test)")
    parser.add_argument("--lines", type=int, help="journal lines to seed (default 1,000,000)")
    parser.add_argument("--export-child", nargs=3, metavar=("FMT", "SITE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_child:
        export_child(args.export_child[1], args.export_child[0], args.export_child[2])
        return
    lines = args.lines or (50_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        folder = Path(tmp)
        site = write_site(folder)
        app = open_app(site)
        try:
            seconds = seed(app, lines)
            size = (folder / "bench.db").stat().st_size
            figures = [("seed", f"{seconds:,.1f} s", f"{lines:,} lines, {lines / seconds:,.0f} lines/s, "
                                                     f"database {size / 2**20:,.0f} MiB")]
            figures += measure_queries(app, lines)
        finally:
            app.close()
        xlsx = measure_export(site, "xlsx", folder / "journal.xlsx")
        rate = xlsx["rows"] / xlsx["seconds"]
        rss = xlsx["peak_kib"] / 1024
        figures.append(("xlsx export", f"{rate:,.0f} rows/s",
                        f"{xlsx['rows']:,} rows in {xlsx['seconds']:,.1f} s, {xlsx['sheets']} sheet(s), "
                        f"{xlsx['bytes'] / 2**20:,.0f} MiB; target >= 8,000 "
                        f"{'OK' if rate >= TARGETS['xlsx_rows_s'] else 'MISSED'}"))
        figures.append(("xlsx export peak RSS", f"{rss:,.0f} MiB",
                        f"target <= 200 MiB {'OK' if rss <= TARGETS['xlsx_rss_mib'] else 'MISSED'}"))
        (folder / "journal.xlsx").unlink()
        csv_ = measure_export(site, "csv", folder / "journal.csv")
        rate = csv_["rows"] / csv_["seconds"]
        figures.append(("csv export", f"{rate:,.0f} rows/s",
                        f"{csv_['rows']:,} rows in {csv_['seconds']:,.1f} s, {csv_['bytes'] / 2**20:,.0f} MiB, "
                        f"peak RSS {csv_['peak_kib'] / 1024:,.0f} MiB; target >= 100,000 "
                        f"{'OK' if rate >= TARGETS['csv_rows_s'] else 'MISSED'}"))
    _print(figures)


if __name__ == "__main__":
    main()
