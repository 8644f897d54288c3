"""Box office sale speed and double sales under load: ``python -m bench.bench_tickets [--quick]``.

Every sale is ``SalesService.sell`` in its own committed unit of work: the session row locked,
the seats' prices looked up in the session's plan (and the offers engine run), the order, one
Ed25519-signed code per ticket, the seat claims, a cash ledger entry (drawer to
``tickets.revenue``), the payment and the audit record.

1. SQLite file, one client: sales of 2 seats (an adult and a child ticket): p50/p99 and sales/s
   (reported, no target); the same on PostgreSQL for reference.
2. A 1,000-seat session (25 x 40) sold out by 4 client processes on PostgreSQL (and, for
   comparison, on SQLite), each trying random pairs and triples of the seats it believes free,
   as fast as it can: seconds to sell out, and double sales (tickets beyond the first on a
   seat, counted in the tickets table), which must be 0.
3. Ticket code verification: ``TicketVerifier.verify`` on pre-signed codes with a revocation set
   of 10,000 serials (one gate, no database).

Clients are OS processes (spawned; each opens its own engine from the database URL and the
keyring from its file), as separate counters would be.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench.timing import percentile, print_table
from plugins.tickets.codes import TicketClaims, TicketSigner, TicketVerifier
from plugins.tickets.core import SeatTaken
from plugins.tickets.models import SeatClaim, ShowSession, Ticket
from plugins.tickets.sales import SalesService
from plugins.tickets.setup import SetupService
from suite.audit.verify import verify
from suite.db.engine import create_database_engine
from suite.db.schema import create_schema
from suite.db.uow import UnitOfWorkFactory
from suite.ledger import check
from suite.ledger.models import Account
from suite.secrets import SecretStore
from tests.plugins.tickets_fixtures import actor, service, small_cinema, tickets_schema

CLIENTS = 4
ROWS, COLUMNS = 25, 40  # the sell-out hall: 1,000 seats
KEYRING_BACKEND = "keyrings.alt.file.PlaintextKeyring"
VENUE = "CINEMA-01"
REVOKED = 10_000
# the prices small_cinema sets: adult 50.00, child 30.00, adult 80.00 in the VIP (back) row
PRICES = {("VIP", "ADULT"): 8000, ("*", "ADULT"): 5000, ("*", "CHILD"): 3000}


def _price(zone: str, ticket_type: str) -> int:
    return PRICES.get((zone, ticket_type), PRICES[("*", ticket_type)])


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:,.1f}" if value < 100 \
        else f"{value:,.0f}"


@dataclass
class Row:
    scenario: str
    count: int
    seconds: float
    latencies_ms: list[float]
    note: str = ""

    def cells(self) -> list[str]:
        lat = sorted(self.latencies_ms)
        p50 = _ms(statistics.median(lat)) if lat else "-"
        p99 = _ms(percentile(lat, 0.99)) if lat else "-"
        return [self.scenario, f"{self.count:,}", f"{self.seconds:.2f}", f"{self.count / self.seconds:,.0f}", p50, p99,
                self.note]


# ---------------------------------------------------------------- set-up


def _keyring(folder: str) -> dict[str, str]:
    return {"service": f"venue-suite-bench-{uuid.uuid4().hex[:8]}", "file": str(Path(folder) / "keyring.cfg")}


def _sales(url: str, keyring: dict[str, str], terminal: str = "T01", pool_size: int = 5) -> tuple[Any, SalesService]:
    engine = create_database_engine(url, pool_size=pool_size)
    store = SecretStore.from_settings(keyring["service"], KEYRING_BACKEND, keyring["file"])
    return engine, service(SalesService, UnitOfWorkFactory(engine), secrets=store, terminal_code=terminal)


def _world(url: str, keyring: dict[str, str], sessions: int = 1) -> list[dict[str, Any]]:
    """Host schema, the box office's tables, a 25 x 40 hall (VIP back row) with ``sessions``
    sessions on sale (S1, S2...), and the signing key created once, before any client runs."""
    engine = create_database_engine(url)
    create_schema(engine)
    uow = tickets_schema(engine)
    setup = service(SetupService, uow)
    first = small_cinema(setup, rows=ROWS, columns=COLUMNS, code="S1")
    a = actor()
    for n in range(2, sessions + 1):  # later the same day, one after the other
        setup.add_session(a, code=f"S{n}", programme="FILM1", hall="H1", seat_map="Standard", plan="STD",
                          starts_at=dt.datetime.fromisoformat(first["starts_at"]) + dt.timedelta(hours=2 * (n - 1)),
                          state="on_sale")
    seats = setup.seat_map(a, hall="H1", name="Standard")["seats"]
    engine.dispose()
    engine, sales = _sales(url, keyring)
    sales.public_key()  # four clients creating the key on first use would each sign with their own
    engine.dispose()
    return seats


def _health(url: str) -> str:
    engine = create_database_engine(url)
    with UnitOfWorkFactory(engine).read() as uow:
        ledger = check(uow.session, verify_hashes=False).ok
        audit = verify(uow.session).ok
    engine.dispose()
    return f"ledger check {'ok' if ledger else 'FAILED'}, audit chain {'ok' if audit else 'FAILED'}"


def _ticks(pid: int, fields: tuple[int, ...]) -> float:
    """Seconds of CPU from /proc/<pid>/stat (fields counted after the command name)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    values = stat[stat.rindex(")") + 2:].split()
    return sum(int(values[i]) for i in fields) / os.sysconf("SC_CLK_TCK")


def _errors_note(errors: list[str]) -> str:
    if not errors:
        return ""
    kinds = Counter(error[:160] for error in errors)
    return "; ERRORS " + "; ".join(f"{n}x {message}" for message, n in kinds.most_common())


# ---------------------------------------------------------------- 1. one client


def calibration(url: str, label: str, n: int) -> Row:
    """The floor under the figures below: a unit of work that inserts one tiny row and commits."""
    engine = create_database_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_calibration (id VARCHAR(36) PRIMARY KEY)"))
    uows = UnitOfWorkFactory(engine)
    statement = text("INSERT INTO bench_calibration (id) VALUES (:id)")
    latencies: list[float] = []
    start = time.perf_counter()
    for _ in range(n):
        began = time.perf_counter()
        with uows() as uow:
            uow.session.execute(statement, {"id": uuid.uuid4().hex})
            uow.commit()
        latencies.append((time.perf_counter() - began) * 1000)
    seconds = time.perf_counter() - start
    engine.dispose()
    return Row(f"{label}: calibration, 1-row insert + commit", n, seconds, latencies, "ceiling of this machine")


def single_client(url: str, label: str, n: int, folder: str) -> Row:
    """``n`` sales of two neighbouring seats (adult + child), one after the other, on fresh seats."""
    warmup = 20
    sessions = -(-(n + warmup) * 2 // (ROWS * COLUMNS))  # enough 1,000-seat sessions for every pair
    keyring = _keyring(folder)
    seats = _world(url, keyring, sessions=sessions)
    pairs = [(f"S{s + 1}", seats[i], seats[i + 1]) for s in range(sessions) for i in range(0, len(seats) - 1, 2)]
    engine, sales = _sales(url, keyring, pool_size=1)
    cashier = actor(name="till")
    errors: list[str] = []
    latencies: list[float] = []

    def sell(session_code: str, left: dict[str, Any], right: dict[str, Any], into: list[float]) -> None:
        lines = [{"seat_id": left["id"], "ticket_type": "ADULT"}, {"seat_id": right["id"], "ticket_type": "CHILD"}]
        total = _price(left["zone"], "ADULT") + _price(right["zone"], "CHILD")
        began = time.perf_counter()
        try:
            order = sales.sell(cashier, session_code=session_code, lines=lines, key=uuid.uuid4().hex,
                               payments=[{"method": "cash", "amount": total}])
            if order["total"] != total or len(order["tickets"]) != 2:
                errors.append(f"order {order['order']}: total {order['total']}, {len(order['tickets'])} tickets")
        except Exception as exc:  # noqa: BLE001 - counted and printed, never hidden
            errors.append(f"{type(exc).__name__}: {exc}")
        into.append((time.perf_counter() - began) * 1000)

    for session_code, left, right in pairs[:warmup]:  # caches, prepared statements
        sell(session_code, left, right, [])
    backend = None
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    server_cpu = _ticks(backend, (11, 12)) if backend else 0.0
    start, cpu = time.perf_counter(), time.process_time()
    for session_code, left, right in pairs[warmup:warmup + n]:
        sell(session_code, left, right, latencies)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    server = f" + server {(_ticks(backend, (11, 12)) - server_cpu) / n * 1000:.1f}" if backend else ""
    engine.dispose()
    return Row(f"{label}, 1 client, sale of 2 seats", n, seconds, latencies,
               f"CPU/sale: client {cpu / n * 1000:.1f}{server} ms; {_health(url)}{_errors_note(errors)}")


# ---------------------------------------------------------------- 2. sell-out from several processes


def _sell_out(url: str, keyring: dict[str, str], worker: int, plan: dict[str, Any], go: Any, results: Any) -> None:
    """One counter: random pairs and triples of the seats it believes free until none is left."""
    engine, sales = _sales(url, keyring, terminal=f"T{worker + 1:02d}", pool_size=2)
    cashier = actor(name=f"till{worker}")
    rng = random.Random(worker)
    zones: dict[str, str] = dict(plan["seats"])
    free = list(zones)
    rng.shuffle(free)
    latencies: list[float] = []
    out: dict[str, Any] = {"worker": worker, "orders": 0, "tickets": 0, "refused": 0, "rereads": 0, "errors": []}
    results.put(("ready", worker))
    go.wait()
    cpu = time.process_time()
    while free and len(latencies) < 20 * len(zones):
        picked = rng.sample(free, min(len(free), rng.choice((2, 3))))
        lines = [{"seat_id": seat, "ticket_type": rng.choice(("ADULT", "CHILD"))} for seat in picked]
        total = sum(_price(zones[line["seat_id"]], line["ticket_type"]) for line in lines)
        began = time.perf_counter()
        try:
            order = sales.sell(cashier, session_code="S1", lines=lines, key=uuid.uuid4().hex,
                               payments=[{"method": "cash", "amount": total}])
        except SeatTaken as exc:
            latencies.append((time.perf_counter() - began) * 1000)
            out["refused"] += 1
            taken = {str(s) for s in exc.details.get("seats") or []}
            if taken >= set(picked):  # all named (or the race at the INSERT): read the map again
                out["rereads"] += 1
                states = sales.seat_states(cashier, "S1")["states"]
                free = [s for s in free if states.get(s) == "free"]
            else:
                free = [s for s in free if s not in taken]
            continue
        except Exception as exc:  # noqa: BLE001 - counted and printed, never hidden
            latencies.append((time.perf_counter() - began) * 1000)
            out["errors"].append(f"{type(exc).__name__}: {exc}")
            free = [s for s in free if s not in picked]
            continue
        latencies.append((time.perf_counter() - began) * 1000)
        out["orders"] += 1
        out["tickets"] += len(order["tickets"])
        free = [s for s in free if s not in picked]
    finished, cpu = time.perf_counter(), time.process_time() - cpu
    engine.dispose()
    results.put(("done", {**out, "latencies": latencies, "finished": finished, "cpu": cpu}))


def sell_out(url: str, label: str, folder: str, server_pid: int | None = None) -> tuple[Row, int]:
    keyring = _keyring(folder)
    seats = _world(url, keyring)
    plan = {"seats": [(s["id"], s["zone"]) for s in seats]}
    context = multiprocessing.get_context("spawn")
    results, go = context.Queue(), context.Event()
    processes = [context.Process(target=_sell_out, args=(url, keyring, w, plan, go, results))
                 for w in range(CLIENTS)]
    if server_pid is not None:
        time.sleep(0.5)  # let the set-up's backends exit first: their CPU is not the clients'
    server_cpu = _ticks(server_pid, (13, 14)) if server_pid else 0.0
    for process in processes:
        process.start()
    for _ in processes:
        assert results.get(timeout=300)[0] == "ready"
    start = time.perf_counter()
    go.set()
    finished = sorted((results.get(timeout=1800)[1] for _ in processes), key=lambda f: f["worker"])
    seconds = max(f["finished"] for f in finished) - start
    for process in processes:
        process.join()
    if server_pid is not None:
        time.sleep(0.5)  # the backends exit after their clients disconnect
    server_cpu = _ticks(server_pid, (13, 14)) - server_cpu if server_pid else 0.0

    engine = create_database_engine(url)
    with UnitOfWorkFactory(engine).read() as uow:
        s = uow.session
        show_id = s.scalar(select(ShowSession.id).where(ShowSession.code == "S1"))
        per_seat = Counter(dict(s.execute(select(Ticket.seat_id, func.count()).where(Ticket.session_id == show_id)
                                          .group_by(Ticket.seat_id)).all()))
        claims = s.scalar(select(func.count()).select_from(SeatClaim).where(SeatClaim.session_id == show_id,
                                                                             SeatClaim.kind == "sold"))
        revenue = s.scalar(select(Account.balance).where(Account.owner_type == "venue", Account.owner_id == VENUE,
                                                         Account.kind == "tickets.revenue"))
        ticket_total = s.scalar(select(func.sum(Ticket.price)).where(Ticket.session_id == show_id))
    engine.dispose()
    double = sum(n - 1 for n in per_seat.values() if n > 1)
    unsold = len(seats) - len(per_seat)
    orders = [f["orders"] for f in finished]
    tickets = sum(f["tickets"] for f in finished)
    attempts = sum(len(f["latencies"]) for f in finished)
    errors = [e for f in finished for e in f["errors"]]
    latencies = [x for f in finished for x in f["latencies"]]
    client_cpu = sum(f["cpu"] for f in finished)  # from the start signal on: not the processes' imports
    cpu = f"client {client_cpu / attempts * 1000:.1f}" + (
        f" + server {server_cpu / attempts * 1000:.1f}" if server_pid else "")
    note = (f"sold out in {seconds:.2f} s, DOUBLE SALES {double}, unsold {unsold}, {len(per_seat)} seats ticketed, "
            f"{tickets} tickets reported, {claims} sold claims; {sum(orders)} orders (per process "
            f"{'/'.join(map(str, orders))} of {'/'.join(str(len(f['latencies'])) for f in finished)} attempts), "
            f"{sum(f['refused'] for f in finished)} refused, longest attempt {_ms(max(latencies))} ms, "
            f"{sum(f['rereads'] for f in finished)} map re-reads; revenue {'=' if revenue == ticket_total else '!='} "
            f"sum of ticket prices; CPU/attempt: {cpu} ms; {_health(url)}{_errors_note(errors)}")
    return Row(f"{label}, {CLIENTS} client processes sell out {len(seats):,} seats", attempts, seconds, latencies,
               note), double


# ---------------------------------------------------------------- 3. code verification


def verification(n: int) -> Row:
    """``n`` verifications of 1,000 pre-signed codes, 10% of them revoked, against 10,000 revoked serials."""
    signer = TicketSigner(secrets.token_bytes(32))
    starts = int(time.time()) + 86_400
    codes = [signer.sign(TicketClaims(serial=f"{i:012d}", venue=VENUE, session="S1", hall="H1", row=str(i // 40 + 1),
                                      seat=str(i % 40 + 1), ticket_type="ADULT", category="adult", admits=1,
                                      starts=starts, ends=starts + 7200)) for i in range(1000)]
    rng = random.Random(3)
    revoked = {f"{i:012d}" for i in range(0, 1000, 10)}  # every tenth code was refunded
    while len(revoked) < REVOKED:
        revoked.add(f"{rng.randrange(10**6, 10**12):012d}")
    verifier = TicketVerifier([signer.public_key])
    reasons: Counter[str] = Counter()
    latencies: list[float] = []
    for code in codes[:100]:  # warm-up
        verifier.verify(code, revoked=revoked)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        began = time.perf_counter()
        verdict = verifier.verify(codes[i % len(codes)], revoked=revoked)
        latencies.append((time.perf_counter() - began) * 1000)
        reasons[verdict.reason] += 1
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Row(f"ticket code verify, {REVOKED:,} revoked serials, 1 core", n, seconds, latencies,
               ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items()))
               + f"; CPU/verify {cpu / n * 1e6:.0f} us, so {n / cpu:,.0f}/s on a core of its own")


# ---------------------------------------------------------------- the table


def _print(rows: list[Row]) -> None:
    header = ["scenario", "count", "seconds", "per s", "p50 ms", "p99 ms", "notes"]
    print_table(header, [r.cells() for r in rows])
    print("count: sales (1), sale attempts including refusals (2), verifications (3); "
          "per s: count / seconds")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    args = parser.parse_args(argv)
    n_sqlite, n_verify = (200, 5_000) if args.quick else (2_000, 100_000)

    from tests.pgserver import PostgresServer

    rows: list[Row] = []
    doubles: list[int] = []
    with tempfile.TemporaryDirectory(prefix="bench-tickets-") as tmp:
        rows.append(calibration(f"sqlite:///{Path(tmp) / 'calibration.db'}", "sqlite, 1 client", n_sqlite))
        rows.append(single_client(f"sqlite:///{Path(tmp) / 'single.db'}", "sqlite", n_sqlite, tmp))
        server = PostgresServer.start()
        postmaster = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
        try:
            rows.append(single_client(server.create_database("bench_single"), "postgresql", n_sqlite // 4, tmp))
            row, double = sell_out(server.create_database("bench_sell_out"), "postgresql", tmp, postmaster)
            rows.append(row)
            doubles.append(double)
        finally:
            server.stop()
        row, double = sell_out(f"sqlite:///{Path(tmp) / 'sell_out.db'}", "sqlite", tmp)
        rows.append(row)
        doubles.append(double)
    rows.append(verification(n_verify))
    _print(rows)
    print(f"double sales: {sum(doubles)}")
    return 1 if any(doubles) else 0


if __name__ == "__main__":
    raise SystemExit(main())
