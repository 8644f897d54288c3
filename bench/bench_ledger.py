"""Ledger throughput and correctness under load: ``python -m bench.bench_ledger [--quick]``.

1. SQLite file, one writer, each post its own committed unit of work (targets >= 2,000/s, p99 <= 5 ms).
2. PostgreSQL, 8 writer threads over 1,000 accounts (target >= 1,500/s).
3. 8 writers on one hot account with a floor, on both backends: lost updates must be 0.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import multiprocessing
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from bench.timing import percentile, print_table
from suite.db.engine import create_database_engine
from suite.db.schema import create_schema
from suite.db.uow import UnitOfWorkFactory
from suite.ledger import FloorBreached, LineSpec, balance, check, open_account, post

WRITERS = 8


@dataclass
class Row:
    scenario: str
    posts: int
    seconds: float
    latencies_ms: list[float]
    note: str = ""

    def cells(self) -> list[str]:
        lat = sorted(self.latencies_ms)
        p50 = f"{statistics.median(lat):.2f}" if lat else "-"
        p99 = f"{percentile(lat, 0.99):.2f}" if lat else "-"
        return [self.scenario, str(self.posts), f"{self.posts / self.seconds:,.0f}", p50, p99, self.note]


def _engine(url: str, pool_size: int = 5) -> Engine:
    engine = create_database_engine(url, pool_size=pool_size)
    create_schema(engine)
    return engine


def _key() -> str:
    return uuid.uuid4().hex


def _timed_post(uows: UnitOfWorkFactory, lines: list[LineSpec], latencies: list[float]) -> bool:
    start = time.perf_counter()
    try:
        with uows() as uow:
            post(uow.session, idempotency_key=_key(), kind="bench.transfer", lines=lines)
            uow.commit()
        return True
    except FloorBreached:
        return False
    finally:
        latencies.append((time.perf_counter() - start) * 1000)


def _fund(uows: UnitOfWorkFactory, accounts: list[uuid.UUID], amount: int) -> uuid.UUID:
    """One entry tops every account up from an unlimited source; returns the source."""
    with uows() as uow:
        source = open_account(uow.session, owner_type="chain", owner_id="bench", kind="source", unit="CNY",
                              floor=None).id
        post(uow.session, idempotency_key=_key(), kind="bench.fund",
             lines=[LineSpec(source, -amount * len(accounts)), *(LineSpec(a, amount) for a in accounts)])
        uow.commit()
    return source


def _wallets(uows: UnitOfWorkFactory, n: int, prefix: str) -> list[uuid.UUID]:
    with uows() as uow:
        ids = [open_account(uow.session, owner_type="card", owner_id=f"{prefix}{i}", kind="wallet.main",
                            unit="CNY").id for i in range(n)]
        uow.commit()
    return ids


def single_writer_sqlite(url: str, n: int) -> Row:
    engine = _engine(url)
    uows = UnitOfWorkFactory(engine)
    wallets = _wallets(uows, 100, "S")
    with uows() as uow:
        source = open_account(uow.session, owner_type="chain", owner_id="bench", kind="source", unit="CNY",
                              floor=None).id
        uow.commit()
    latencies: list[float] = []
    start = time.perf_counter()
    for i in range(n):
        wallet = wallets[i % len(wallets)]
        _timed_post(uows, [LineSpec(source, -100), LineSpec(wallet, 100)], latencies)
    seconds = time.perf_counter() - start
    engine.dispose()
    return Row("sqlite, 1 writer", n, seconds, latencies, "target >= 2,000/s, p99 <= 5 ms")


def _run_writers(work: Callable[[int, list[float]], int], engine: Engine) -> tuple[float, list[float], int]:
    """Run ``work`` in WRITERS processes at once, as WRITERS terminals would (threads of one
    interpreter would measure Python's global lock instead of the database)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    go = context.Event()

    def child(t: int) -> None:
        engine.dispose(close=False)  # a forked child opens connections of its own
        latencies: list[float] = []
        go.wait()
        results.put((work(t, latencies), latencies))

    processes = [context.Process(target=child, args=(t,)) for t in range(WRITERS)]
    for process in processes:
        process.start()
    time.sleep(0.3)
    start = time.perf_counter()
    go.set()
    finished = [results.get(timeout=600) for _ in processes]
    seconds = time.perf_counter() - start
    for process in processes:
        process.join()
    return seconds, [x for _ok, lat in finished for x in lat], sum(ok for ok, _lat in finished)


def many_accounts(url: str, per_thread: int, accounts: int = 1000) -> Row:
    engine = _engine(url, pool_size=WRITERS)
    uows = UnitOfWorkFactory(engine)
    wallets = _wallets(uows, accounts, "W")
    _fund(uows, wallets, 1_000_000)

    def work(t: int, latencies: list[float]) -> int:
        rng = random.Random(t)
        ok = 0
        for _ in range(per_thread):
            a, b = rng.sample(wallets, 2)
            amount = rng.randint(1, 100)
            ok += _timed_post(uows, [LineSpec(a, -amount), LineSpec(b, amount)], latencies)
        return ok

    seconds, latencies, ok = _run_writers(work, engine)
    with uows.read() as uow:
        healthy = check(uow.session, verify_hashes=False).ok
    engine.dispose()
    return Row(f"postgresql, {WRITERS} writers, {accounts} accounts", WRITERS * per_thread, seconds, latencies,
               f"target >= 1,500/s; {ok} ok; check {'ok' if healthy else 'FAILED'}")


def hot_account(url: str, label: str, per_thread: int) -> tuple[Row, int]:
    engine = _engine(url, pool_size=WRITERS)
    uows = UnitOfWorkFactory(engine)
    (hot,) = _wallets(uows, 1, "HOT")
    sinks = _wallets(uows, WRITERS, "SINK")
    initial = WRITERS * per_thread * 3 // 4  # a quarter of the spends hit the floor
    _fund(uows, [hot], initial)

    def work(t: int, latencies: list[float]) -> int:
        spent = 0
        for _ in range(per_thread):
            if _timed_post(uows, [LineSpec(hot, -1), LineSpec(sinks[t], 1)], latencies):
                spent += 1
        return spent

    seconds, latencies, spent = _run_writers(work, engine)
    with uows.read() as uow:
        actual = balance(uow.session, hot)
    engine.dispose()
    lost = (initial - spent) - actual
    refused = WRITERS * per_thread - spent
    return Row(f"{label}, {WRITERS} writers, 1 hot account", WRITERS * per_thread, seconds, latencies,
               f"{spent} ok, {refused} refused at floor, final {actual}, lost updates {lost}"), lost


def calibration(url: str, label: str, writers: int, n: int) -> Row:
    """The floor under every figure above: a unit of work that inserts one tiny row and commits."""
    engine = create_database_engine(url, pool_size=writers)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_calibration (id VARCHAR(36) PRIMARY KEY)"))
    uows = UnitOfWorkFactory(engine)
    statement = text("INSERT INTO bench_calibration (id) VALUES (:id)")

    def work(_t: int, latencies: list[float]) -> int:
        for _ in range(n // writers):
            start = time.perf_counter()
            with uows() as uow:
                uow.session.execute(statement, {"id": _key()})
                uow.commit()
            latencies.append((time.perf_counter() - start) * 1000)
        return 0

    if writers == 1:
        latencies: list[float] = []
        start = time.perf_counter()
        work(0, latencies)
        seconds = time.perf_counter() - start
    else:
        seconds, latencies, _ok = _run_writers(work, engine)
    engine.dispose()
    return Row(f"{label}: calibration, 1-row insert + commit", n, seconds, latencies,
               "ceiling of this machine, not the ledger")


def _print(rows: list[Row]) -> None:
    header = ["scenario", "posts", "posts/s", "p50 ms", "p99 ms", "notes"]
    print_table(header, [r.cells() for r in rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    args = parser.parse_args(argv)
    n_sqlite, per_thread, hot_per_thread = (500, 50, 25) if args.quick else (5000, 500, 200)

    from tests.pgserver import PostgresServer

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        rows.append(calibration(f"sqlite:///{Path(tmp) / 'calibration.db'}", "sqlite, 1 writer", 1, n_sqlite))
        rows.append(single_writer_sqlite(f"sqlite:///{Path(tmp) / 'single.db'}", n_sqlite))
        server = PostgresServer.start()
        try:
            rows.append(calibration(server.create_database("bench_calibration"), f"postgresql, {WRITERS} writers",
                                    WRITERS, WRITERS * per_thread))
            rows.append(many_accounts(server.create_database("bench_many"), per_thread))
            row, _lost = hot_account(server.create_database("bench_hot"), "postgresql", hot_per_thread)
            rows.append(row)
        finally:
            server.stop()
        row, _lost = hot_account(f"sqlite:///{Path(tmp) / 'hot.db'}", "sqlite", hot_per_thread)
        rows.append(row)
    _print(rows)


if __name__ == "__main__":
    main()
