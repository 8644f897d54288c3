"""The event pump: how device threads and background work reach the Tk thread.

Tk is not thread-safe: only the thread that created the root may touch a widget. Anything
else (a card reader's monitor thread, a scanner, a database ping, a report query) calls
``post(event)`` or ``call_soon(fn, ...)``, which only put an item on a ``queue.Queue``. The
Tk thread drains that queue every ``interval_ms`` with ``after()`` (the pattern of Thonny's
``queue_event``/``poll_events``) and then, on the Tk thread:

* a posted event goes to every UI subscriber whose type matches (``subscribe``), then to every
  started plugin through ``PluginHost.dispatch_event`` (the ``venue_suite_event`` hook);
* a ``call_soon`` callback is called (the shell's own plumbing: results of background work).

A handler that raises is logged and counted in ``errors``; the pump carries on.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
T = TypeVar("T")

DEFAULT_INTERVAL_MS = 25
MAX_BATCH = 1000  # items handled per tick, so a flood cannot freeze the window


@dataclass(frozen=True)
class _Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...]


def _finish(work: Any, on_done: Callable[[Any], Any] | None, on_error: Callable[[BaseException], Any] | None,
            name: str, result: Any, error: BaseException | None) -> None:
    """The Tk-thread end of ``run_in_thread``."""
    if error is None:
        if on_done is not None:
            on_done(result)
    elif on_error is not None:
        on_error(error)
    else:
        log.error("%s failed", name, exc_info=error)


@dataclass
class Subscription:
    pump: "EventPump"
    event_type: type
    handler: Callable[[Any], Any]
    active: bool = field(default=True)

    def cancel(self) -> None:
        if self.active:
            self.active = False
            self.pump._unsubscribe(self)


@dataclass(frozen=True)
class HandlerError:
    where: str
    item: object
    error: BaseException


class EventPump:
    """One per window: ``widget`` is any widget of the Tk thread (usually the root)."""

    def __init__(self, widget: Any, *, app: Any = None, interval_ms: int = DEFAULT_INTERVAL_MS) -> None:
        self._widget = widget
        self._app = app
        self.interval_ms = interval_ms
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._subscriptions: list[Subscription] = []
        self._after_id: str | None = None
        self._tk_thread = threading.get_ident()
        self.errors: deque[HandlerError] = deque(maxlen=100)
        self.delivered = 0

    # -- any thread ----------------------------------------------------------------------

    def post(self, event: object) -> None:
        """Hand a host event (``suite.events``) to the Tk thread. Safe from any thread."""
        self._queue.put(event)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the Tk thread at the next tick. Safe from any thread."""
        self._queue.put(_Call(fn, args))

    @property
    def poster(self) -> Callable[[object], None]:
        """``post`` as a function holding only the queue, for device threads: a thread that
        kept the pump itself would keep the Tk root alive, and if it dropped the last
        reference, Tk objects would be finalised off the Tk thread (which Tk forbids)."""
        return self._queue.put

    @property
    def caller(self) -> Callable[..., None]:
        """``call_soon`` as a function holding only the queue (see ``poster``)."""
        put = self._queue.put

        def call_soon(fn: Callable[..., Any], *args: Any) -> None:
            put(_Call(fn, args))

        return call_soon

    def run_in_thread(self, work: Callable[[], T], on_done: Callable[[T], Any] | None = None,
                      on_error: Callable[[BaseException], Any] | None = None, *, name: str = "ui-work") -> threading.Thread:
        """Run ``work()`` in a daemon thread; its result (or exception) comes back on the Tk
        thread through ``on_done`` (or ``on_error``; without one the error is logged).

        Every callable is handed back to the Tk thread with the result, so the worker never
        drops the last reference to a widget (callbacks are usually bound to one)."""
        put = self._queue.put
        holder: list[Any] = [work, on_done, on_error]

        def target() -> None:
            job, done, failed = holder
            holder.clear()
            try:
                item = _Call(_finish, (job, done, failed, name, job(), None))
            except BaseException as exc:  # noqa: BLE001 - handed to the Tk thread
                item = _Call(_finish, (job, done, failed, name, None, exc))
            del job, done, failed
            put(item)

        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    # -- Tk thread -----------------------------------------------------------------------

    @property
    def on_tk_thread(self) -> bool:
        return threading.get_ident() == self._tk_thread

    def subscribe(self, event_type: type[E], handler: Callable[[E], Any]) -> Subscription:
        """Call ``handler(event)`` on the Tk thread for every posted ``event_type`` (or subclass)."""
        sub = Subscription(self, event_type, handler)
        self._subscriptions.append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        try:
            self._subscriptions.remove(sub)
        except ValueError:
            pass

    def start(self) -> None:
        if self._after_id is None:
            self._after_id = self._widget.after(self.interval_ms, self._tick)

    def stop(self) -> None:
        if self._after_id is not None:
            try:
                self._widget.after_cancel(self._after_id)
            except Exception:  # noqa: BLE001 - the window may be gone already
                pass
            self._after_id = None

    @property
    def running(self) -> bool:
        return self._after_id is not None

    def _tick(self) -> None:
        self._after_id = None
        try:
            self.drain()
        finally:
            try:
                if self._widget.winfo_exists():
                    self._after_id = self._widget.after(self.interval_ms, self._tick)
            except Exception:  # noqa: BLE001 - the interpreter is being torn down
                self._after_id = None

    def drain(self, limit: int = MAX_BATCH) -> int:
        """Handle up to ``limit`` queued items now (Tk thread only); returns how many."""
        if not self.on_tk_thread:
            raise RuntimeError("EventPump.drain must run on the Tk thread")
        handled = 0
        while handled < limit:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            handled += 1
            if isinstance(item, _Call):
                self._guarded("call", item, item.fn, *item.args)
            else:
                self._deliver(item)
        return handled

    def _deliver(self, event: object) -> None:
        self.delivered += 1
        for sub in list(self._subscriptions):
            if sub.active and isinstance(event, sub.event_type):
                self._guarded("subscriber", event, sub.handler, event)
        if self._app is not None:
            try:
                for failure in self._app.plugins.dispatch_event(self._app, event):
                    self.errors.append(HandlerError(f"plugin {failure.plugin_id}", event, failure.error))
            except Exception as exc:  # noqa: BLE001 - the host must not stop the pump either
                log.exception("dispatching %r to plugins failed", event)
                self.errors.append(HandlerError("plugins", event, exc))

    def _guarded(self, where: str, item: object, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - logged, never fatal
            log.exception("event pump: %s %r failed on %r", where, fn, item)
            self.errors.append(HandlerError(where, item, exc))


__all__ = ["EventPump", "HandlerError", "Subscription"]
