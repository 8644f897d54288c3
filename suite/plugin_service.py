"""The base of a plugin's services: the database, the operator's checks against the plugin's
licence, the terminal it runs on, the plugin's settings and the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from suite.db.base import utcnow
from suite.db.uow import UnitOfWorkFactory
from suite.identity.actor import Actor

SettingsT = TypeVar("SettingsT")


class PluginService(Generic[SettingsT]):
    """``plugins``: the application's ``PluginHost`` (an unlicensed or disabled plugin refuses);
    ``None`` in tests without a host. ``venue_code``/``terminal_code``: this terminal.

    A subclass names its plugin (``plugin_id``) and its settings: ``parse_settings`` turns the
    site's ``[plugins.<id>]`` table (or nothing) into the plugin's settings."""

    plugin_id: ClassVar[str]
    parse_settings: ClassVar[Callable[[dict[str, Any] | None], Any]]

    def __init__(self, uow_factory: UnitOfWorkFactory, identity: Any, *, venue_code: str = "HQ",
                 terminal_code: str = "", plugins: Any = None, settings: SettingsT | None = None,
                 secrets: Any = None, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._uow = uow_factory
        self._identity = identity
        self._plugins = plugins
        self.venue_code = venue_code
        self.terminal_code = terminal_code
        self.settings: SettingsT = settings if settings is not None else type(self).parse_settings(None)
        self.secrets = secrets
        self._clock = clock

    @classmethod
    def settings_of(cls, app: Any) -> SettingsT:
        """The plugin's settings from the application's site settings."""
        return cls.parse_settings(app.settings.plugins.get(cls.plugin_id))  # type: ignore[no-any-return]

    @classmethod
    def from_app(cls, app: Any, **kwargs: Any) -> Any:
        """The service for the running application's database, terminal, plugin host and
        settings; ``kwargs`` go to the subclass's own parameters."""
        return cls(app.uow, app.identity, venue_code=app.settings.terminal.venue_code,
                   terminal_code=app.settings.terminal.terminal_code, plugins=app.plugins,
                   settings=cls.settings_of(app), secrets=app.secrets, **kwargs)

    def _begin(self, actor: Actor, permission: str, *, admin: bool = False) -> None:
        """Refuse when the plugin may not run (for a sale, or an administrator's change) or the
        operator lacks ``permission``."""
        if self._plugins is not None:
            from suite.licensing.service import Purpose

            self._plugins.require_active(self.plugin_id, Purpose.ADMIN if admin else Purpose.SALE)
        self._identity.require(actor, permission)

    def now(self) -> dt.datetime:
        return self._clock()
