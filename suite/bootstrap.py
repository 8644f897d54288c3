"""Composition root: settings -> secrets -> engine -> units of work -> services -> plugins.

Nothing here is global: every call to ``build_app`` makes a fresh, independent ``App`` so
tests can build as many as they like.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.config import Settings
from suite.i18n import set_language

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from suite.device_host import DeviceHost
    from suite.audit.service import AuditService
    from suite.db.uow import UnitOfWorkFactory
    from suite.identity.service import IdentityService
    from suite.licensing.service import LicenceService
    from suite.places import PlacesService
    from suite.plugins import PluginHost
    from suite.secrets import SecretStore


@dataclass
class App:
    settings: Settings
    secrets: "SecretStore"
    engine: "Engine"
    uow: "UnitOfWorkFactory"
    identity: "IdentityService"
    licences: "LicenceService"
    plugins: "PluginHost"
    places: "PlacesService"
    audit: "AuditService"
    venue_id: uuid.UUID | None = None
    terminal_id: uuid.UUID | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def database_online(self) -> bool:
        """True when the database answers (call it off the Tk thread: it may wait for a timeout)."""
        from suite.db.engine import check_connection

        try:
            check_connection(self.engine)
        except Exception:  # noqa: BLE001 - any failure means offline
            return False
        return True

    def close(self) -> None:
        try:
            self.plugins.shutdown(self)
        finally:
            self.engine.dispose()

    def __enter__(self) -> "App":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_secrets(settings: Settings) -> "SecretStore":
    from suite.secrets import SecretStore

    return SecretStore.from_settings(settings.keyring.service, settings.keyring.backend,
                                     settings.expand(settings.keyring.file))


def database_password(settings: Settings, secrets: "SecretStore") -> str | None:
    name = settings.database.password_secret
    return secrets.require(name) if name else None


def build_engine(settings: Settings, secrets: "SecretStore") -> "Engine":
    from suite.db.engine import create_database_engine

    return create_database_engine(settings.database_url, password=database_password(settings, secrets),
                                  echo=settings.database.echo, pool_size=settings.database.pool_size)


def build_app(settings: Settings, *, upgrade: bool | None = None, start_plugins: bool = True) -> App:
    """Build the whole application on ``settings``.

    ``upgrade``: bring the schema to the newest revision first (default: yes on a local
    SQLite file, where the terminal owns its database; no on PostgreSQL, where
    ``venue-suite db upgrade`` is run once for the chain).
    """
    from suite.audit.service import AuditService
    from suite.db.engine import is_sqlite
    from suite.db.uow import UnitOfWorkFactory
    from suite.identity.service import IdentityService
    from suite.licensing.service import LicenceService
    from suite.places import PlacesService
    from suite.plugins import PluginHost

    set_language(settings.suite.language)
    secrets = open_secrets(settings)
    engine = build_engine(settings, secrets)
    try:
        uow = UnitOfWorkFactory(engine)
        licences = LicenceService(uow, trusted_public_keys=settings.licensing.public_keys)
        plugins = PluginHost(uow, licences, reserved_cli_names=host_verbs())
        plugins.load(settings.plugins)
        if upgrade if upgrade is not None else is_sqlite(engine):
            upgrade_schema(engine, plugins)
        else:
            ensure_schema_current(engine, plugins)
        identity = IdentityService(uow, lockout_threshold=settings.security.lockout_threshold,
                                   lockout_minutes=settings.security.lockout_minutes)
        app = App(settings=settings, secrets=secrets, engine=engine, uow=uow, identity=identity,
                  licences=licences, plugins=plugins, places=PlacesService(uow, identity, licences),
                  audit=AuditService(uow, identity))
        app.venue_id, app.terminal_id = resolve_place(app)
        if start_plugins:
            plugins.start(app)
            write_cli_cache(settings, plugins)
        return app
    except BaseException:
        engine.dispose()
        raise


def build_device_host(app: App, post: "Callable[[object], None]") -> "DeviceHost":
    """The terminal's configured devices (``[devices.<id>]``), drivers from the device kinds
    of the active plugins; events go to ``post`` (the shell's event pump)."""
    from suite.device_host import DeviceHost, device_configs, resolve_factory

    kinds = {kind.id: kind for manifest in app.plugins.active_manifests() for kind in manifest.device_kinds}
    tables = {device_id: {"data_dir": str(app.settings.data_dir), **table}
              for device_id, table in app.settings.devices.items()}
    configs = device_configs(tables, kinds, app.secrets)
    factories = {c.kind: resolve_factory(kinds[c.kind].driver) for c in configs}
    return DeviceHost(configs, factories, post)


def host_verbs() -> tuple[str, ...]:
    from suite.cli import HOST_VERBS

    return tuple(HOST_VERBS)


def plugin_migrations(plugins: "PluginHost") -> tuple[list[str], list[str]]:
    locations: list[str] = []
    modules: list[str] = []
    for manifest in plugins.manifests():
        if manifest.migrations:
            locations.append(manifest.migrations)
        modules.extend(manifest.model_modules)
    return locations, modules


def upgrade_schema(engine: "Engine", plugins: "PluginHost") -> list[str]:
    from suite.db.migrate import upgrade

    locations, modules = plugin_migrations(plugins)
    return upgrade(engine, locations, modules)


def ensure_schema_current(engine: "Engine", plugins: "PluginHost") -> None:
    from suite.db.engine import describe
    from suite.db.migrate import pending
    from suite.errors import DatabaseUnavailable
    from suite.i18n import _

    locations, _modules = plugin_migrations(plugins)
    if pending(engine, locations):
        raise DatabaseUnavailable(_("The database {url} needs an upgrade: run 'venue-suite db upgrade'.").format(
            url=describe(engine)))


def resolve_place(app: App) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The ids of this terminal's venue and terminal, by the codes in ``[terminal]``."""
    from sqlalchemy import select

    from suite.db.core_models import Terminal, Venue

    with app.uow.read() as uow:
        venue = uow.session.scalar(select(Venue).where(Venue.code == app.settings.terminal.venue_code))
        if venue is None:
            return None, None
        terminal = uow.session.scalar(select(Terminal).where(
            Terminal.venue_ref == venue.id, Terminal.code == app.settings.terminal.terminal_code))
        return venue.id, terminal.id if terminal else None


def cli_cache_path(settings: Settings) -> Path:
    return settings.data_dir / "cli-verbs.json"


def write_cli_cache(settings: Settings, plugins: "PluginHost") -> None:
    """Remember the active plugins' verbs so ``venue-suite --help`` lists them without
    opening the database (running a verb always checks the licence afresh)."""
    verbs = [{"name": c.name, "help": c.help} for c in plugins.cli_commands()]
    path = cli_cache_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(verbs, ensure_ascii=False))
        tmp.replace(path)
    except OSError:
        pass
