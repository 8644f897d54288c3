"""A small plugin for the GUI tests: one tab needing the licence feature "kiosk", and a
``venue_suite_event`` hook recording which thread delivered each event."""

from __future__ import annotations

import threading
from typing import Any

from suite.declarations import Permission, PluginManifest, TabSpec
from suite.hookspecs import hookimpl

PLUGIN_ID = "kiosk"
FEATURE = "kiosk"
TAB_ID = "kiosk.main"
seen: list[tuple[object, int]] = []


@hookimpl
def venue_suite_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID, name="Kiosk", version="0.3.0", feature=FEATURE, description="Self-service kiosk.",
        permissions=(Permission("kiosk.use", "Use the kiosk", default_roles=("salesperson",)),),
        tabs=(TabSpec(TAB_ID, "Kiosk", factory="tests.ui.plugin_fixture:build_tab", permission="kiosk.use",
                      order=100),),
    )


@hookimpl
def venue_suite_event(app: Any, event: object) -> None:
    seen.append((event, threading.get_ident()))


def build_tab(parent: Any, context: Any) -> Any:
    from tkinter import ttk

    frame = ttk.Frame(parent)
    ttk.Label(frame, text=f"Kiosk for {context.actor.username}").pack()
    return frame


def with_plugin(app: Any) -> Any:
    """Swap ``app.plugins`` for a host that also loads this module (started on ``app``)."""
    import sys

    from suite.plugins import PluginHost

    app.plugins.shutdown(app)
    host = PluginHost(app.uow, app.licences, entry_point_group=None, extra_plugins=[sys.modules[__name__]])
    host.load(app.settings.plugins)
    app.identity.sync_roles(host.permissions())
    host.start(app)
    app.plugins = host
    return host
