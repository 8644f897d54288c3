"""Concurrent terminals as OS processes: each is started with the "spawn" method, builds its own
engine from the database URL (as a separate till would), waits until all are ready, then runs
its plan; only plain data crosses process boundaries."""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable
from typing import Any

import pytest

TIMEOUT = 120  # seconds a process may take before the test gives up on it


def terminal_main(url: str, worker: int, ready: Any, go: Any, results: Any, out: dict[str, list[Any]],
                  prepare: Callable[[Any], Callable[[], None]]) -> None:
    """The body of one process: ``prepare(engine)`` builds its services and returns the plan's
    run, which starts once ``go`` is set. Failures land in ``out["errors"]``; ``out`` goes back
    to the test with the worker's number and pid."""
    engine = None
    try:
        from suite.db.engine import create_database_engine

        engine = create_database_engine(url)
        run = prepare(engine)
        ready.put(worker)
        if not go.wait(TIMEOUT):
            raise TimeoutError("never told to start")
        run()
    except Exception as exc:  # noqa: BLE001 - reported to the test
        ready.put(worker)
        out["errors"].append(f"process {worker}: {type(exc).__name__}: {exc}")
    finally:
        if engine is not None:
            engine.dispose()
        results.put({"worker": worker, "pid": os.getpid(), **out})


def run_together(target: Callable[..., None], args: tuple[Any, ...], processes: int,
                 what: str) -> list[dict[str, Any]]:
    """Start ``processes`` spawned processes on ``target(*args, worker, ready, go, results)``,
    release them together once all are ready, and collect their results (by worker). Fails the
    test when one does not report back, exits badly, or reports an error."""
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    started = [context.Process(target=target, args=(*args, w, ready, go, results), daemon=True)
               for w in range(processes)]
    for process in started:
        process.start()
    try:
        for _ in started:
            ready.get(timeout=TIMEOUT)
        go.set()
        collected = [results.get(timeout=TIMEOUT) for _ in started]
    except queue.Empty:
        pytest.fail(f"{what} did not report back in time")
    finally:
        for process in started:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
    assert [p.exitcode for p in started] == [0] * processes
    pids = {r["pid"] for r in collected}
    assert len(pids) == processes and os.getpid() not in pids  # really other processes
    assert [e for r in collected for e in r["errors"]] == []
    return sorted(collected, key=lambda r: r["worker"])
