"""The event pump: posts from any thread, handlers and plugins always on the Tk thread."""

from __future__ import annotations

import threading
import tkinter as tk
from dataclasses import dataclass, field

from tests.ui.uihelpers import ROOTS, wait_for

from suite.events import CardPresented, ScanEvent
from suite.ui.events import EventPump


@dataclass
class FakePlugins:
    calls: list[tuple[object, int]] = field(default_factory=list)

    def dispatch_event(self, app: object, event: object) -> list:
        self.calls.append((event, threading.get_ident()))
        return []


@dataclass
class FakeApp:
    plugins: FakePlugins = field(default_factory=FakePlugins)


def test_events_posted_from_threads_reach_handlers_and_plugins_on_the_tk_thread(xvfb) -> None:
    root = tk.Tk()
    ROOTS.append(root)
    root.withdraw()
    app = FakeApp()
    pump = EventPump(root, app=app, interval_ms=10)
    pump.start()
    tk_thread = threading.get_ident()
    seen: list[tuple[str, int]] = []
    scans: list[str] = []

    def on_card(event: CardPresented) -> None:
        seen.append((event.uid, threading.get_ident()))
        if int(event.uid.split("-")[1]) % 50 == 7:  # i = 7, 57, 107 of each reader
            raise RuntimeError("a broken handler")

    pump.subscribe(CardPresented, on_card)
    pump.subscribe(ScanEvent, lambda e: scans.append(e.data))
    threads, per_thread = 8, 150

    def reader(n: int) -> None:
        for i in range(per_thread):
            pump.post(CardPresented(f"reader-{n}", f"{n}-{i}"))
        pump.poster(ScanEvent(f"scanner-{n}", f"code-{n}"))

    workers = [threading.Thread(target=reader, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wait_for(root, lambda: len(seen) == threads * per_thread and len(scans) == threads, what="every event")
    assert {ident for _uid, ident in seen} == {tk_thread}
    assert len({uid for uid, _ident in seen}) == threads * per_thread
    assert sorted(scans) == sorted(f"code-{n}" for n in range(threads))
    # every event went to the plugins too, on the Tk thread; the broken handler stopped nothing
    assert len(app.plugins.calls) == threads * (per_thread + 1)
    assert {ident for _e, ident in app.plugins.calls} == {tk_thread}
    assert sum(1 for e in pump.errors if isinstance(e.error, RuntimeError)) == threads * 3
    assert pump.running
    pump.stop()
    root.destroy()


def test_run_in_thread_returns_results_and_errors_on_the_tk_thread(xvfb) -> None:
    root = tk.Tk()
    ROOTS.append(root)
    root.withdraw()
    pump = EventPump(root, interval_ms=10)
    pump.start()
    results: list[tuple[object, int]] = []
    work_threads: list[int] = []

    def work() -> int:
        work_threads.append(threading.get_ident())
        return 42

    def fail() -> int:
        raise ValueError("no")

    pump.run_in_thread(work, lambda r: results.append((r, threading.get_ident())))
    pump.run_in_thread(fail, None, lambda e: results.append((type(e).__name__, threading.get_ident())))
    wait_for(root, lambda: len(results) == 2, what="both results")
    assert work_threads and work_threads[0] != threading.get_ident()
    assert sorted(str(r) for r, _t in results) == ["42", "ValueError"]
    assert {t for _r, t in results} == {threading.get_ident()}
    sub = pump.subscribe(ScanEvent, lambda e: results.append((e.data, 0)))
    sub.cancel()
    pump.post(ScanEvent("s", "ignored"))
    pump.drain()
    assert len(results) == 2
    pump.stop()
    root.destroy()
