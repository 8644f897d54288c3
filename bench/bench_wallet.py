"""Card wallet consume throughput and correctness under load: ``python -m bench.bench_wallet [--quick]``.

Every consume is ``WalletService.consume`` in its own committed unit of work, on a value card
type with a tier discount and points, so the discount engine, the ledger entry (main wallet to
revenue, points issued), the card event and the audit record all run.

1. SQLite file, one client (targets p99 <= 10 ms, >= 500/s); the same on PostgreSQL for reference.
2. PostgreSQL, 16 client processes over 1,000 cards (target >= 1,000/s).
3. One hot card, 16 client processes on PostgreSQL and 4 on SQLite: lost updates (expected
   minus actual balance) must be 0.

Clients are OS processes (forked; each opens its own engine from the database URL), as many
tills would be: threads of one interpreter would measure Python's global lock instead.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from bench.timing import percentile, print_table
import plugins.wallet as wallet_plugin
from plugins.wallet.services import InsufficientBalance, WalletService
from suite.audit.verify import verify
from suite.db.engine import create_database_engine
from suite.db.migrate import upgrade
from suite.db.schema import create_schema
from suite.db.uow import UnitOfWorkFactory
from suite.identity.actor import Actor
from suite.identity.service import IdentityService
from suite.ledger import check
from suite.ledger.models import Account

CLIENTS = 16
SQLITE_HOT_CLIENTS = 4
CARD_TYPE = "BENCH"
DISCOUNT_BP = 1000  # 10% tier discount
POINTS_PER_YUAN = 1
PERMISSIONS = frozenset(p.id for p in wallet_plugin.PERMISSIONS)


@dataclass
class Row:
    scenario: str
    consumes: int
    seconds: float
    latencies_ms: list[float]
    note: str = ""

    def cells(self) -> list[str]:
        lat = sorted(self.latencies_ms)
        p50 = f"{statistics.median(lat):.2f}" if lat else "-"
        p99 = f"{percentile(lat, 0.99):.2f}" if lat else "-"
        return [self.scenario, str(self.consumes), f"{self.consumes / self.seconds:,.0f}", p50, p99, self.note]


def _actor(name: str = "bench") -> Actor:
    return Actor(user_id=uuid.uuid4(), username=name, display_name=name, permissions=PERMISSIONS)


def _service(url: str, pool_size: int = 5) -> tuple[Engine, WalletService]:
    engine = create_database_engine(url, pool_size=pool_size)
    uows = UnitOfWorkFactory(engine)
    return engine, WalletService(uows, IdentityService(uows), venue_code="HQ")


def _database(url: str, cards: int, top_up: int) -> list[str]:
    """Host schema, wallet tables, the card type and ``cards`` cards each topped up with ``top_up``."""
    engine = create_database_engine(url)
    create_schema(engine)
    upgrade(engine, [wallet_plugin.MIGRATIONS], ("plugins.wallet.models",))
    engine.dispose()
    engine, service = _service(url)
    admin = _actor("manager")
    service.create_card_type(admin, code=CARD_TYPE, name="Bench gold", discount_bp=DISCOUNT_BP,
                             points_per_yuan=POINTS_PER_YUAN)
    numbers = [f"B{n:05d}" for n in range(cards)]
    for card_no in numbers:
        service.issue(admin, card_no=card_no, type_code=CARD_TYPE, key=uuid.uuid4().hex)
        service.top_up(admin, card_no=card_no, key=uuid.uuid4().hex, amount=top_up)
    engine.dispose()
    return numbers


def _timed_consume(service: WalletService, actor: Actor, card_no: str, amount: int, latencies: list[float],
                   errors: list[str]) -> int:
    """The fen charged (0 when refused for lack of money); other failures go to ``errors``."""
    start = time.perf_counter()
    try:
        return int(service.consume(actor, card_no=card_no, key=uuid.uuid4().hex, amount=amount)["charged"])
    except InsufficientBalance:
        return 0
    except Exception as exc:  # noqa: BLE001 - counted and printed, never hidden
        errors.append(f"{type(exc).__name__}: {exc}")
        return 0
    finally:
        latencies.append((time.perf_counter() - start) * 1000)


def _health(url: str) -> str:
    engine = create_database_engine(url)
    uows = UnitOfWorkFactory(engine)
    with uows.read() as uow:
        ledger = check(uow.session, verify_hashes=False).ok
        audit = verify(uow.session).ok
    engine.dispose()
    return f"ledger check {'ok' if ledger else 'FAILED'}, audit chain {'ok' if audit else 'FAILED'}"


def _main_balance(url: str, card_no: str) -> int:
    engine = create_database_engine(url)
    with engine.connect() as conn:
        value = conn.execute(select(Account.balance).where(
            Account.owner_type == "card", Account.owner_id == card_no, Account.kind == "wallet.main")).scalar_one()
    engine.dispose()
    return int(value)


# ---------------------------------------------------------------- client processes

def _client(url: str, work: Callable[[WalletService, int, list[float], list[str]], int],
            t: int, go: Any, results: Any) -> None:
    engine, service = _service(url, pool_size=2)
    latencies: list[float] = []
    errors: list[str] = []
    results.put(("ready", t, 0, [], []))
    go.wait()
    try:
        done = work(service, t, latencies, errors)
    except Exception as exc:  # noqa: BLE001 - reported
        done, errors = 0, [*errors, f"{type(exc).__name__}: {exc}"]
    engine.dispose()
    results.put(("done", t, done, latencies, errors))


@dataclass
class Run:
    seconds: float
    latencies: list[float]
    done: int
    errors: list[str]
    client_cpu: float  # seconds, all client processes
    server_cpu: float | None  # seconds, the PostgreSQL backends (None: SQLite, in the clients)

    def cpu_note(self, consumes: int, clients: int) -> str:
        """CPU per consume and the throughput the usable cores could give at that cost (one
        client works serially: one core at a time)."""
        per = (self.client_cpu + (self.server_cpu or 0)) / consumes
        cores = 1 if clients == 1 else os.cpu_count() or 1
        server = f" + server {self.server_cpu / consumes * 1000:.1f}" if self.server_cpu is not None else ""
        return (f"CPU/consume: client{'s' if clients > 1 else ''} {self.client_cpu / consumes * 1000:.1f}{server} ms, "
                f"so at most {cores / per:,.0f}/s on {cores} core{'s' if cores > 1 else ''}")


def _ticks(pid: int, fields: tuple[int, ...]) -> float:
    """Seconds of CPU from /proc/<pid>/stat (fields counted after the command name)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    values = stat[stat.rindex(")") + 2:].split()
    return sum(int(values[i]) for i in fields) / os.sysconf("SC_CLK_TCK")


def _server_cpu(server_pid: int | None) -> float:
    """CPU of the backends that have exited (the postmaster's reaped children)."""
    return 0.0 if server_pid is None else _ticks(server_pid, (13, 14))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_clients(url: str, clients: int, work: Callable[[WalletService, int, list[float], list[str]], int],
                 server_pid: int | None = None) -> Run:
    """Run ``work`` in ``clients`` processes released together; wall time from release to the last.
    ``server_pid``: the postmaster, to count the CPU its backends spent."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    go = context.Event()
    processes = [context.Process(target=_client, args=(url, work, t, go, results))
                 for t in range(clients)]
    if server_pid is not None:
        time.sleep(0.5)  # let the set-up's backends exit first: their CPU is not the clients'
    client_cpu, server_cpu = _children_cpu(), _server_cpu(server_pid)
    for process in processes:
        process.start()
    for _ in processes:
        assert results.get(timeout=120)[0] == "ready"
    start = time.perf_counter()
    go.set()
    finished = [results.get(timeout=1200) for _ in processes]
    seconds = time.perf_counter() - start
    for process in processes:
        process.join()
    if server_pid is not None:
        time.sleep(0.5)  # the backends exit after their clients disconnect
    return Run(seconds, [x for *_head, lat, _err in finished for x in lat],
               sum(done for _tag, _t, done, _lat, _err in finished), [e for *_head, err in finished for e in err],
               _children_cpu() - client_cpu, None if server_pid is None else _server_cpu(server_pid) - server_cpu)


def _errors_note(errors: list[str]) -> str:
    if not errors:
        return ""
    kinds: dict[str, int] = {}
    for error in errors:
        kinds[error[:120]] = kinds.get(error[:120], 0) + 1
    return "; ERRORS " + "; ".join(f"{n}x {text}" for text, n in sorted(kinds.items(), key=lambda kv: -kv[1]))


# ---------------------------------------------------------------- scenarios


def calibration(url: str, label: str, clients: int, n: int) -> Row:
    """The floor under every figure below: a unit of work that inserts one tiny row and commits."""
    engine = create_database_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_calibration (id VARCHAR(36) PRIMARY KEY)"))
    engine.dispose()
    statement = text("INSERT INTO bench_calibration (id) VALUES (:id)")

    def work(service: WalletService, _t: int, latencies: list[float], _errors: list[str]) -> int:
        uows = service._uow
        for _ in range(n // clients):
            start = time.perf_counter()
            with uows() as uow:
                uow.session.execute(statement, {"id": uuid.uuid4().hex})
                uow.commit()
            latencies.append((time.perf_counter() - start) * 1000)
        return n // clients

    if clients == 1:
        engine, service = _service(url)
        latencies: list[float] = []
        start = time.perf_counter()
        work(service, 0, latencies, [])
        seconds = time.perf_counter() - start
        engine.dispose()
    else:
        run = _run_clients(url, clients, work)
        seconds, latencies = run.seconds, run.latencies
    return Row(f"{label}: calibration, 1-row insert + commit", n, seconds, latencies,
               "ceiling of this machine, not the wallet")


def single_client(url: str, label: str, n: int, target: str) -> Row:
    cards = _database(url, 100, 10**9)
    engine, service = _service(url, pool_size=1)  # one connection for the writes and the reads
    actor = _actor("till")
    rng = random.Random(1)
    latencies: list[float] = []
    errors: list[str] = []
    for _ in range(20):  # warm-up: caches, prepared statements
        _timed_consume(service, actor, cards[0], 1000, [], errors)
    backend = None
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    server_cpu = _ticks(backend, (11, 12)) if backend else 0.0
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        _timed_consume(service, actor, cards[i % len(cards)], rng.randint(100, 20_000), latencies, errors)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    server_cpu = _ticks(backend, (11, 12)) - server_cpu if backend else None
    engine.dispose()
    run = Run(seconds, latencies, n, errors, cpu, server_cpu)
    return Row(f"{label}, 1 client, 100 cards", n, seconds, latencies,
               f"{target}{run.cpu_note(n, 1)}; {_health(url)}{_errors_note(errors)}")


def many_cards(url: str, label: str, clients: int, per_client: int, cards: int = 1000,
               server_pid: int | None = None) -> Row:
    numbers = _database(url, cards, 10**9)

    def work(service: WalletService, t: int, latencies: list[float], errors: list[str]) -> int:
        rng = random.Random(t)
        actor = _actor(f"till{t}")
        ok = 0
        for _ in range(per_client):
            ok += _timed_consume(service, actor, rng.choice(numbers), rng.randint(100, 20_000), latencies,
                                 errors) > 0
        return ok

    run = _run_clients(url, clients, work, server_pid)
    n = clients * per_client
    return Row(f"{label}, {clients} client processes, {cards:,} cards", n, run.seconds, run.latencies,
               f"target >= 1,000/s; {run.done} ok; {run.cpu_note(n, clients)}; {_health(url)}"
               f"{_errors_note(run.errors)}")


def hot_card(url: str, label: str, clients: int, per_client: int,
             server_pid: int | None = None) -> tuple[Row, int]:
    amount = 100  # list price 1.00, charged 0.90 after the tier discount
    charge = (amount * (10000 - DISCOUNT_BP) + 5000) // 10000
    initial = clients * per_client * 3 // 4 * charge  # a quarter of the consumes find the card empty
    (card,) = _database(url, 1, initial)

    def work(service: WalletService, t: int, latencies: list[float], errors: list[str]) -> int:
        actor = _actor(f"till{t}")
        return sum(_timed_consume(service, actor, card, amount, latencies, errors) for _ in range(per_client))

    run = _run_clients(url, clients, work, server_pid)
    seconds, latencies, charged, errors = run.seconds, run.latencies, run.done, run.errors
    actual = _main_balance(url, card)
    lost = (initial - charged) - actual
    ok = charged // charge
    refused = clients * per_client - ok - len(errors)
    return Row(f"{label}, {clients} client processes, 1 hot card", clients * per_client, seconds, latencies,
               f"{ok} ok, {refused} refused (card empty), final {actual}, lost updates {lost}; "
               f"{run.cpu_note(clients * per_client, clients)}; {_health(url)}{_errors_note(errors)}"), lost


def _print(rows: list[Row]) -> None:
    header = ["scenario", "consumes", "consumes/s", "p50 ms", "p99 ms", "notes"]
    print_table(header, [r.cells() for r in rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    args = parser.parse_args(argv)
    n_sqlite, per_client, hot_per_client = (300, 20, 10) if args.quick else (3000, 250, 100)

    from tests.pgserver import PostgresServer

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-wallet-") as tmp:
        rows.append(calibration(f"sqlite:///{Path(tmp) / 'calibration.db'}", "sqlite, 1 client", 1, n_sqlite))
        rows.append(single_client(f"sqlite:///{Path(tmp) / 'single.db'}", "sqlite", n_sqlite,
                                  "target >= 500/s, p99 <= 10 ms; "))
        server = PostgresServer.start()
        postmaster = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
        try:
            rows.append(calibration(server.create_database("bench_calibration_1"), "postgresql, 1 client", 1,
                                    n_sqlite // 3))
            rows.append(single_client(server.create_database("bench_single"), "postgresql", n_sqlite // 3, ""))
            rows.append(calibration(server.create_database("bench_calibration"),
                                    f"postgresql, {CLIENTS} client processes", CLIENTS, CLIENTS * per_client))
            rows.append(many_cards(server.create_database("bench_many"), "postgresql", CLIENTS, per_client,
                                   server_pid=postmaster))
            row, _lost = hot_card(server.create_database("bench_hot"), "postgresql", CLIENTS, hot_per_client,
                                  server_pid=postmaster)
            rows.append(row)
        finally:
            server.stop()
        row, _lost = hot_card(f"sqlite:///{Path(tmp) / 'hot.db'}", "sqlite", SQLITE_HOT_CLIENTS, hot_per_client)
        rows.append(row)
    _print(rows)


if __name__ == "__main__":
    main()
