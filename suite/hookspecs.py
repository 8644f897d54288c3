"""The plugin contract: every hook a Venue Suite plugin may implement.

A plugin is a module (or object) with functions marked ``@hookimpl`` and named after the
hooks below; it may implement any subset, and a hook implementation may accept fewer
arguments than the spec. ``suite.plugins.PluginHost`` calls each plugin's hooks one plugin at a
time, so a plugin that raises is marked failed and never takes the others down.

Hooks are grouped by when they run: declaration (import time of the host), configuration,
lifecycle (start and stop of the application), runtime. Each docstring follows one template:
what the hook is for, When it is called, its Args, what it Returns, and which Errors it may
raise. docs/plugins.md documents the same hooks for plugin authors.

Plugins import the marker from here::

    from suite.hookspecs import hookimpl
"""

from __future__ import annotations

from typing import Any, TypeAlias

import pluggy

from suite.declarations import PluginManifest

PROJECT = "venue_suite"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: The application built by ``suite.bootstrap``: settings, unit of work factory, services and
#: the plugin host. Typed loosely so that the contract does not import the composition root.
App: TypeAlias = Any


# ---------------------------------------------------------------- declaration

@hookspec
def venue_suite_manifest() -> PluginManifest:
    """Declare what the plugin brings: id, licence feature, permissions, tabs, reports, commands.

    When: once, right after the plugin is registered, before anything else is called.
    Args: none.
    Returns: one ``suite.declarations.PluginManifest``. Callables in it are ``"module:attr"``
        references, so declaring must import nothing heavy (no Tk, no openpyxl).
    Errors: any exception, or returning something that is not a ``PluginManifest``, marks the
        plugin failed; so do invalid declarations (duplicate ids, a tab naming an undeclared
        permission, an unknown dependency, a malformed feature id, a reserved CLI name).
    """


# ---------------------------------------------------------------- configuration

@hookspec
def venue_suite_validate_settings(settings: dict[str, Any]) -> None:
    """Check the plugin's own configuration table ``[plugins.<id>]``.

    When: at load, after the manifests are validated, for every plugin that declared itself
        correctly (enabled or not), with an empty dict when the site has no such table.
    Args:
        settings: the plugin's table from the merged configuration (plain TOML values).
    Returns: None; keep what you need in ``venue_suite_startup`` from ``app.settings``.
    Errors: raise ``suite.errors.ConfigError`` naming the key and what was expected
        (``"[plugins.wallet] max_topup: expected a whole number"``); the plugin is marked failed
        with that message and the others continue.
    """


# ---------------------------------------------------------------- lifecycle

@hookspec
def venue_suite_startup(app: App) -> None:
    """Start the plugin: open what it needs, register background work.

    When: in ``PluginHost.start(app)`` on the Tk thread, once per active plugin (enabled and
        licensed), dependencies before dependants; also when a plugin becomes active later
        (enabled, or licensed by a new licence) and ``PluginHost.refresh()`` runs.
    Args:
        app: the application (settings, unit of work factory, services, plugin host).
    Returns: None.
    Errors: an exception marks the plugin failed with its message; it gets no events, tabs or
        commands, and ``venue_suite_shutdown`` is not called for it.
    """


@hookspec
def venue_suite_shutdown(app: App) -> None:
    """Stop the plugin: flush, close files and devices it opened. Must return promptly.

    When: in ``PluginHost.shutdown(app)`` for every plugin whose startup succeeded, in reverse
        start order; also when an active plugin is disabled.
    Args:
        app: the same application object given to ``venue_suite_startup``.
    Returns: None.
    Errors: exceptions are logged and the other plugins still stop.
    """


# ---------------------------------------------------------------- runtime

@hookspec
def venue_suite_event(app: App, event: object) -> None:
    """React to a device or background event: card presented, code scanned, gate passage.

    When: on the Tk thread, when the event pump drains an event from the device threads
        (``PluginHost.dispatch_event``), for every active, started plugin. Plugins subscribe
        by implementing this hook and ignoring the event types they do not handle
        (``if isinstance(event, CardPresented): ...``). Keep it short: the UI waits.
    Args:
        app: the application.
        event: the event object from the device layer (a frozen dataclass).
    Returns: None.
    Errors: an exception is logged and returned by ``dispatch_event``; the event still reaches
        the other plugins and the plugin stays active.
    """

