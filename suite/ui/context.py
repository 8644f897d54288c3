"""What a tab's factory receives: ``factory(parent, context)``.

A ``TabContext`` gives a plugin's frame the application, the logged-in operator, the event
pump and a few shell services, so the frame needs no global state:

* ``context.app`` / ``context.actor``: call services with the actor (permissions are checked
  there);
* ``context.subscribe(CardPresented, handler)``: events on the Tk thread, for as long as the
  main window lives (cancelled at log-out and lock-screen rebuilds);
* ``context.run_in_thread(work, on_done, on_error)``: slow work off the Tk thread, its result
  back on it;
* ``context.set_status("shift", "Morning #12")``: a status bar field;
* ``context.rebuild_tabs()``: after enabling or disabling plugins, or a new licence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from suite.events import StatusUpdate
from suite.ui.events import EventPump, Subscription

E = TypeVar("E")
T = TypeVar("T")


class ShellHooks(Protocol):
    def rebuild_tabs(self) -> None: ...


@dataclass
class TabContext:
    app: Any
    actor: Any
    pump: EventPump
    shell: ShellHooks
    tab_id: str = ""
    fonts: Any = None
    _subscriptions: list[Subscription] = field(default_factory=list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], Any]) -> Subscription:
        sub = self.pump.subscribe(event_type, handler)
        self._subscriptions.append(sub)
        return sub

    def post(self, event: object) -> None:
        self.pump.post(event)

    def run_in_thread(self, work: Callable[[], T], on_done: Callable[[T], Any] | None = None,
                      on_error: Callable[[BaseException], Any] | None = None) -> None:
        self.pump.run_in_thread(work, on_done, on_error, name=f"tab {self.tab_id}")

    def set_status(self, field_name: str, value: Any) -> None:
        self.pump.post(StatusUpdate(field_name, value))

    def rebuild_tabs(self) -> None:
        self.shell.rebuild_tabs()

    def for_tab(self, tab_id: str) -> "TabContext":
        """A context sharing everything but the tab id (its subscriptions are tracked here too)."""
        child = TabContext(self.app, self.actor, self.pump, self.shell, tab_id, self.fonts)
        child._subscriptions = self._subscriptions
        return child

    def close(self) -> None:
        for sub in self._subscriptions:
            sub.cancel()
        self._subscriptions.clear()


__all__ = ["ShellHooks", "TabContext"]
