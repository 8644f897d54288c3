"""The plugin host: built-in plugins plus entry points ``venue_suite``, validated and licence-gated.

One ``PluginHost`` per application (built in ``suite.bootstrap``, never at import). ``load()``
registers every plugin with a fresh pluggy manager, asks each for its manifest *one plugin at a
time* and validates the declarations; a plugin that cannot be imported, raises, or declares
something invalid is marked FAILED with its error while the others load.

A loaded plugin's state is computed on demand from the enabled flag (``plugin_state`` table),
the licence (``LicenceService``) and its dependencies:

* ``active``: enabled, licensed for sale, and every dependency active;
* ``disabled``: switched off by an administrator (or a dependency is);
* ``unlicensed``: its feature is not in the licence, or the licence is past its grace;
* ``failed``: import, manifest, validation, settings or startup failed (``error`` says why).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

import pluggy

from suite import hookspecs, plugin_validation as validation
from suite.db.uow import UnitOfWorkFactory
from suite.declarations import CliCommand, Permission, PluginManifest, ReportDecl, TabSpec
from suite.errors import Conflict, NotFound, SuiteError
from suite.i18n import N_, _
from suite.licensing import LicenceService, LicenceStatus, Purpose, refusal
from suite.plugin_state import enabled_flags, set_enabled

log = logging.getLogger(__name__)

#: the host's own plugin modules, registered before any third-party plugin
BUILTIN_PLUGINS: tuple[str, ...] = ("suite.core_plugin", "plugins.wallet", "plugins.tickets", "plugins.checkin")
ENTRY_POINT_GROUP = "venue_suite"
CORE_PLUGIN_ID = "core"
CORE_PLUGIN_MODULE = "suite.core_plugin"



class PluginUnavailable(SuiteError):
    """A plugin that is failed or disabled was asked to do something."""

    code = "plugin_unavailable"


class PluginState(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    UNLICENSED = "unlicensed"
    FAILED = "failed"

    @property
    def title(self) -> str:
        """The state in the user's language."""
        return _(_STATE_TITLES[self])


_STATE_TITLES = {PluginState.ACTIVE: N_("active"), PluginState.DISABLED: N_("disabled"),
                 PluginState.UNLICENSED: N_("unlicensed"), PluginState.FAILED: N_("failed")}


@dataclass(frozen=True)
class PluginInfo:
    id: str
    name: str
    version: str
    feature: str | None
    state: PluginState
    # why it failed (FAILED only)
    error: str | None
    manifest: PluginManifest | None
    enabled: bool
    # where it came from: "builtin suite.core_plugin", "entry point hello = venue_suite_hello"
    source: str
    # why it is not active (unlicensed, or a dependency that is not active); None when active
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "version": self.version, "feature": self.feature,
                "state": str(self.state), "enabled": self.enabled, "error": self.error,
                "reason": self.reason, "source": self.source}


@dataclass(frozen=True)
class EventError:
    plugin_id: str
    error: BaseException


class Actor(Protocol):
    """Whoever is logged in; ``suite.identity`` provides the real one."""

    def has_permission(self, permission: str) -> bool: ...


@dataclass
class _Record:
    key: str  # the name registered with pluggy (unique)
    source: str
    fallback_id: str  # the id shown while no manifest is known
    plugin: object | None = None
    manifest: PluginManifest | None = None
    error: str | None = None

    @property
    def id(self) -> str:
        return self.manifest.id if self.manifest else self.fallback_id

    @property
    def failed(self) -> bool:
        return self.error is not None


def describe(exc: BaseException) -> str:
    """An exception as a message: a domain error's own text, otherwise ``Type: text``."""
    if isinstance(exc, SuiteError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def resolve_ref(ref: str) -> Any:
    """Import a ``"module:attribute"`` reference from a declaration."""
    module_name, sep, attr = ref.partition(":")
    try:
        if not sep or not module_name or not attr:
            raise ValueError(_("expected 'module:attribute'"))
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
        return target
    except Exception as exc:
        raise PluginUnavailable(_("Cannot load {ref!r}: {reason}").format(ref=ref, reason=describe(exc))) from exc


class PluginHost:
    """Plugins of one application: loading, validation, state, gating and hook dispatch."""

    def __init__(self, uow_factory: UnitOfWorkFactory, licences: LicenceService, *,
                 plugin_settings: Mapping[str, Mapping[str, Any]] | None = None,
                 reserved_cli_names: Iterable[str] = (),
                 builtin_modules: Sequence[str] = BUILTIN_PLUGINS,
                 entry_point_group: str | None = ENTRY_POINT_GROUP,
                 extra_plugins: Sequence[object] = ()) -> None:
        """``extra_plugins`` are plugin objects registered after the others (tests, embedding);
        ``entry_point_group=None`` loads no third-party plugins."""
        self._uow_factory = uow_factory
        self._licences = licences
        self._plugin_settings = {k: dict(v) for k, v in (plugin_settings or {}).items()}
        self._reserved_cli = frozenset(reserved_cli_names)
        self._builtin_modules = tuple(builtin_modules)
        self._entry_point_group = entry_point_group
        self._extra_plugins = tuple(extra_plugins)
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._records: list[_Record] = []
        self._loaded = False
        self._app: Any = None
        self._started: list[str] = []  # plugin ids, in start order
        self.warnings: list[str] = []

    # ------------------------------------------------------------ loading

    def load(self, plugin_settings: Mapping[str, Mapping[str, Any]] | None = None) -> "PluginHost":
        """Register, declare and validate every plugin (once; later calls do nothing).

        ``plugin_settings`` (the ``[plugins.*]`` tables, ``settings.plugins``) replaces the
        ones given to the constructor. Reads no database.
        """
        if self._loaded:
            return self
        if plugin_settings is not None:
            self._plugin_settings = {k: dict(v) for k, v in plugin_settings.items()}
        self._loaded = True
        for source, fallback_id, loader in self._candidates():
            self._register(source, fallback_id, loader)
        self._collect_manifests()
        self._validate_own()
        self._validate_duplicates()
        self._validate_references()
        self._validate_settings()
        core = next((r for r in self._records if r.source == f"builtin {CORE_PLUGIN_MODULE}"), None)
        if core is not None and core.failed:
            # without it no permission of the host exists: a bug to fix, not a state to run in
            raise RuntimeError(f"the host's core plugin failed: {core.error}")
        return self

    def _candidates(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(source, fallback id, loader) of every plugin to register, in load order."""
        found: list[tuple[str, str, Callable[[], object]]] = []
        for name in self._builtin_modules:
            found.append((f"builtin {name}", name, lambda name=name: importlib.import_module(name)))
        if self._entry_point_group:
            for ep in importlib.metadata.entry_points(group=self._entry_point_group):
                found.append((f"entry point {ep.name} = {ep.value}", ep.name, ep.load))
        for obj in self._extra_plugins:
            name = getattr(obj, "__name__", type(obj).__name__)
            found.append((f"object {name}", name, lambda obj=obj: obj))
        return found

    def _register(self, source: str, fallback_id: str, loader: Callable[[], object]) -> None:
        taken = {r.key for r in self._records}
        key, n = source, 1
        while key in taken:
            n += 1
            key = f"{source} #{n}"
        record = _Record(key=key, source=source, fallback_id=fallback_id)
        self._records.append(record)
        try:
            plugin = loader()
            self._pm.register(plugin, name=key)
        except Exception as exc:
            self._fail(record, _("cannot be loaded: {reason}").format(reason=describe(exc)))
            return
        record.plugin = plugin
        unknown = [caller.name for caller in self._pm.get_hookcallers(plugin) or [] if caller.spec is None]
        if unknown:
            self._fail(record, _("implements unknown hooks {names} (misspelt?)").format(names=", ".join(unknown)))

    def _fail(self, record: _Record, error: str) -> None:
        record.error = error
        log.error("plugin %s (%s) failed: %s", record.id, record.source, error)
        if record.plugin is not None and self._pm.is_registered(record.plugin):
            self._pm.unregister(record.plugin)

    def _ok(self) -> list[_Record]:
        return [r for r in self._records if not r.failed]

    def _impl(self, hook_name: str, record: _Record) -> pluggy.HookImpl | None:
        caller = getattr(self._pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            if impl.plugin_name == record.key:
                return impl
        return None

    def _call(self, hook_name: str, record: _Record, **kwargs: Any) -> Any:
        impl = self._impl(hook_name, record)
        if impl is None:
            return None
        return impl.function(*[kwargs[name] for name in impl.argnames])

    def _collect_manifests(self) -> None:
        for record in self._ok():
            if self._impl("venue_suite_manifest", record) is None:
                self._fail(record, _("declares no venue_suite_manifest hook"))
                continue
            try:
                manifest = self._call("venue_suite_manifest", record)
            except Exception as exc:
                self._fail(record, _("venue_suite_manifest raised {reason}").format(reason=describe(exc)))
                continue
            if not isinstance(manifest, PluginManifest):
                self._fail(record, _("venue_suite_manifest returned {got!r}, not a PluginManifest").format(
                    got=type(manifest).__name__))
                continue
            record.manifest = manifest

    # ------------------------------------------------------------ validation

    def _validate_own(self) -> None:
        for record in self._ok():
            assert record.manifest is not None
            problems = validation.manifest_problems(record.manifest, self._reserved_cli)
            if problems:
                self._fail(record, _("invalid declarations: {problems}").format(problems="; ".join(problems)))

    def _validate_duplicates(self) -> None:
        """Across plugins the first one loaded keeps an id; a later one declaring it fails."""
        ok = self._ok()
        errors = validation.duplicate_problems([(r.source, r.manifest) for r in ok])  # type: ignore[misc]
        for record, problems in zip(ok, errors):
            if problems:
                self._fail(record, _("duplicate declarations: {problems}").format(problems="; ".join(problems)))

    def _validate_references(self) -> None:
        """Permissions named by tabs/reports/commands exist; dependencies exist and load.

        Repeated until nothing changes: a plugin failing here can take its dependants with it.
        """
        changed = True
        while changed:
            ok = {r.id: r for r in self._ok()}
            failed = {r.id for r in self._records if r.failed}
            problems = validation.reference_problems({i: r.manifest for i, r in ok.items()}, failed)  # type: ignore[misc]
            for plugin_id, found in problems.items():
                self._fail(ok[plugin_id], _("invalid declarations: {problems}").format(problems="; ".join(found)))
            changed = bool(problems)

    def _validate_settings(self) -> None:
        for record in self._ok():
            settings = dict(self._plugin_settings.get(record.id, {}))
            try:
                self._call("venue_suite_validate_settings", record, settings=settings)
            except Exception as exc:
                self._fail(record, describe(exc))
        known = {r.id for r in self._records}
        for plugin_id in self._plugin_settings:
            if plugin_id not in known:
                self.warnings.append(_("[plugins.{id}]: no plugin {id!r} is installed; the table is ignored")
                                     .format(id=plugin_id))

    # ------------------------------------------------------------ state

    def _require_loaded(self) -> None:
        if not self._loaded:
            self.load()

    def _dependency_order(self) -> list[_Record]:
        """Load order, moved so that every plugin comes after its dependencies."""
        by_id = {r.id: r for r in self._ok()}
        ordered: list[_Record] = []
        placed: set[str] = set()

        def place(record: _Record) -> None:
            if record.id in placed:
                return
            placed.add(record.id)
            for dep in record.manifest.depends_on if record.manifest else ():
                if dep in by_id:
                    place(by_id[dep])
            ordered.append(record)

        for record in self._records:
            if not record.failed:
                place(record)
        return ordered

    def _compute(self) -> list[PluginInfo]:
        self._require_loaded()
        with self._uow_factory.read() as uow:
            flags = enabled_flags(uow.session)
        status = self._licences.status()
        failed_ids = {r.id for r in self._records if r.failed}
        infos: dict[str, PluginInfo] = {}
        for record in self._dependency_order():
            infos[record.id] = self._info(record, flags, status, infos, failed_ids)
        return [self._info(r, flags, status, infos, failed_ids) if r.failed else infos[r.id]
                for r in self._records]

    def _info(self, record: _Record, flags: Mapping[str, bool], status: LicenceStatus,
              known: Mapping[str, PluginInfo], failed_ids: set[str]) -> PluginInfo:
        m = record.manifest
        enabled = record.id == CORE_PLUGIN_ID or flags.get(record.id, True)
        state, reason = PluginState.ACTIVE, None
        if record.failed:
            state = PluginState.FAILED
        elif not enabled:
            state = PluginState.DISABLED
        elif m is not None and (refused := refusal(status, m.feature, Purpose.SALE)) is not None:
            state, reason = PluginState.UNLICENSED, refused.message
        elif m is not None:
            for dep in m.depends_on:
                dep_info = known.get(dep)
                dep_state = dep_info.state if dep_info else (PluginState.FAILED if dep in failed_ids else None)
                if dep_state is None or dep_state is PluginState.ACTIVE:
                    continue
                state = dep_state
                reason = _("Needs plugin {dep!r}, which is {state}.").format(dep=dep, state=PluginState(dep_state).title)
                break
        return PluginInfo(
            id=record.id, name=m.name if m else record.id, version=m.version if m else "",
            feature=m.feature if m else None, state=state,
            error=record.error if record.failed else (reason if state is PluginState.FAILED else None),
            manifest=m, enabled=enabled, source=record.source, reason=reason)

    def plugins(self) -> list[PluginInfo]:
        """Every plugin found, in load order, with its current state."""
        return self._compute()

    def plugin(self, plugin_id: str) -> PluginInfo:
        for info in self._compute():
            if info.id == plugin_id:
                return info
        raise NotFound(_("No plugin {id!r} is installed.").format(id=plugin_id))

    def _active(self) -> list[PluginInfo]:
        return [i for i in self._compute() if i.state is PluginState.ACTIVE]

    def active_manifests(self) -> list[PluginManifest]:
        return [i.manifest for i in self._active() if i.manifest is not None]

    # ------------------------------------------------------------ administration

    def enable(self, plugin_id: str, actor_name: str) -> PluginInfo:
        """Switch a plugin on (persisted); it starts at once if the application is running."""
        return self._set_enabled(plugin_id, True, actor_name)

    def disable(self, plugin_id: str, actor_name: str) -> PluginInfo:
        """Switch a plugin off (persisted); the core plugin cannot be disabled."""
        if plugin_id == CORE_PLUGIN_ID:
            raise Conflict(_("The core plugin is part of the host and cannot be disabled."))
        return self._set_enabled(plugin_id, False, actor_name)

    def _set_enabled(self, plugin_id: str, enabled: bool, actor_name: str) -> PluginInfo:
        self.plugin(plugin_id)  # NotFound for an unknown id
        with self._uow_factory() as uow:
            set_enabled(uow.session, plugin_id, enabled, actor_name)
            uow.commit()
        self.refresh()
        return self.plugin(plugin_id)

    def require_active(self, plugin_id: str, purpose: Purpose | str) -> None:
        """Raise unless the plugin may serve ``purpose`` now.

        SAFETY is never refused. A failed or disabled plugin raises ``PluginUnavailable``; an
        unlicensed one ``FeatureNotLicensed`` naming the feature (or ``LicenceError`` when the
        licence expired), except that ADMIN is allowed on an expired licence that lists it.
        """
        purpose = Purpose(purpose)
        if purpose is Purpose.SAFETY:
            return
        info = self.plugin(plugin_id)
        if info.state is PluginState.ACTIVE:
            return
        if info.state is PluginState.FAILED:
            raise PluginUnavailable(_("The plugin {name!r} failed: {error}").format(
                name=info.name, error=info.error), plugin=plugin_id)
        if info.state is PluginState.DISABLED:
            raise PluginUnavailable(_("The plugin {name!r} is disabled; an administrator can enable it.")
                                    .format(name=info.name) + (f" {info.reason}" if info.reason else ""),
                                    plugin=plugin_id)
        status = self._licences.status()
        infos = {i.id: i for i in self._compute() if i.state is not PluginState.FAILED}
        for pid in self._closure(plugin_id, infos):
            refused = refusal(status, infos[pid].feature, purpose)
            if refused is not None:
                raise refused

    @staticmethod
    def _closure(plugin_id: str, infos: Mapping[str, PluginInfo]) -> list[str]:
        seen: list[str] = []
        stack = [plugin_id]
        while stack:
            pid = stack.pop()
            if pid in seen or pid not in infos:
                continue
            seen.append(pid)
            manifest = infos[pid].manifest
            stack.extend(manifest.depends_on if manifest else ())
        return seen

    # ------------------------------------------------------------ declarations

    def manifests(self) -> list[PluginManifest]:
        """Manifests of every plugin that loaded and validated, whatever its state.

        Reads no database: this is what migrations need (a disabled or unlicensed plugin keeps
        its tables), and it works before the schema exists.
        """
        self._require_loaded()
        return [r.manifest for r in self._ok() if r.manifest is not None]

    def permissions(self) -> list[Permission]:
        """Every permission declared by a plugin that loaded (active or not), to seed roles."""
        return [p for m in self.manifests() for p in m.permissions]

    @staticmethod
    def _visible(permission: str | None, actor: Actor) -> bool:
        return permission is None or actor.has_permission(permission)

    def tabs(self, actor: Actor) -> list[TabSpec]:
        """Tabs of active plugins the actor may open, by ``order`` then load order."""
        found = [t for m in self.active_manifests() for t in m.tabs if self._visible(t.permission, actor)]
        return sorted(found, key=lambda t: t.order)

    def reports(self, actor: Actor) -> list[ReportDecl]:
        """Reports of active plugins the actor may run."""
        return [r for m in self.active_manifests() for r in m.reports if self._visible(r.permission, actor)]

    def cli_commands(self) -> list[CliCommand]:
        """Commands of active plugins; the CLI checks ``permission`` when one runs."""
        return [c for m in self.active_manifests() for c in m.cli_commands]

    def _owner(self, kind: str, item_id: str, ids: Callable[[PluginManifest], Iterable[str]]) -> str:
        for manifest in self.manifests():
            if item_id in ids(manifest):
                return manifest.id
        raise NotFound(_("No plugin declares the {kind} {id!r}.").format(kind=kind, id=item_id))

    def owner_of_command(self, name: str) -> str:
        """The id of the plugin declaring CLI command ``name`` (for ``require_active``)."""
        return self._owner(_("CLI command"), name, lambda m: [c.name for c in m.cli_commands])

    def owner_of_tab(self, tab_id: str) -> str:
        return self._owner(_("tab"), tab_id, lambda m: [t.id for t in m.tabs])

    def owner_of_report(self, report_id: str) -> str:
        return self._owner(_("report"), report_id, lambda m: [r.id for r in m.reports])

    # ------------------------------------------------------------ lifecycle

    def start(self, app: Any) -> None:
        """Call ``venue_suite_startup`` for every active plugin, dependencies first."""
        self._app = app
        self.refresh()

    def refresh(self) -> None:
        """Start plugins that became active and stop those that no longer are (after enable,
        disable or a licence change). Does nothing before ``start``."""
        if self._app is None:
            return
        def states() -> dict[str, PluginState]:
            return {i.id: i.state for i in self._compute()}

        current = states()
        for record in reversed(self._dependency_order()):
            if record.id in self._started and current.get(record.id) is not PluginState.ACTIVE:
                self._stop(record)
        for record in self._dependency_order():
            if record.id not in self._started and current.get(record.id) is PluginState.ACTIVE:
                if not self._start(record):
                    current = states()  # its dependants are no longer active

    def _start(self, record: _Record) -> bool:
        try:
            self._call("venue_suite_startup", record, app=self._app)
        except Exception as exc:
            self._fail(record, _("venue_suite_startup raised {reason}").format(reason=describe(exc)))
            return False
        self._started.append(record.id)
        return True

    def _stop(self, record: _Record) -> None:
        self._started.remove(record.id)
        try:
            self._call("venue_suite_shutdown", record, app=self._app)
        except Exception:
            log.exception("plugin %s: venue_suite_shutdown failed", record.id)

    def shutdown(self, app: Any | None = None) -> None:
        """Call ``venue_suite_shutdown`` for every started plugin, in reverse start order."""
        by_id = {r.id: r for r in self._records}
        for plugin_id in reversed(list(self._started)):
            self._stop(by_id[plugin_id])
        self._app = None

    def started(self) -> list[str]:
        """Ids of the plugins whose startup ran and which are not stopped, in start order."""
        return list(self._started)

    def dispatch_event(self, app: Any, event: object) -> list[EventError]:
        """Give ``event`` to every started plugin; errors are logged and returned, never raised."""
        errors: list[EventError] = []
        by_id = {r.id: r for r in self._records}
        for plugin_id in list(self._started):
            try:
                self._call("venue_suite_event", by_id[plugin_id], app=app, event=event)
            except Exception as exc:
                log.exception("plugin %s: venue_suite_event failed on %r", plugin_id, event)
                errors.append(EventError(plugin_id, exc))
        return errors


__all__ = [
    "BUILTIN_PLUGINS",
    "CORE_PLUGIN_ID",
    "ENTRY_POINT_GROUP",
    "Actor",
    "EventError",
    "PluginHost",
    "PluginInfo",
    "PluginState",
    "PluginUnavailable",
    "resolve_ref",
]
