"""What a CLI verb runs with: settings, the app (built on first use) and the acting operator."""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from suite.i18n import _

if TYPE_CHECKING:
    from suite.bootstrap import App
    from suite.config import Settings
    from suite.identity.actor import Actor


@contextmanager
def open_app(config: str | None, **kwargs: object) -> Iterator["App"]:
    from suite.bootstrap import build_app
    from suite.config import load_settings

    app = build_app(load_settings(config), **kwargs)  # type: ignore[arg-type]
    try:
        yield app
    finally:
        app.close()


class CommandContext:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._settings: Settings | None = None
        self._app: App | None = None
        self._actor: Actor | None = None

    @property
    def settings(self) -> "Settings":
        if self._settings is None:
            from suite.config import load_settings

            self._settings = load_settings(self.args.config)
            if self.args.lang:
                from suite.i18n import set_language

                set_language(self.args.lang)
        return self._settings

    def app(self, **kwargs: object) -> "App":
        if self._app is None:
            from suite.bootstrap import build_app

            self._app = build_app(self.settings, **kwargs)  # type: ignore[arg-type]
            if self.args.lang:
                from suite.i18n import set_language

                set_language(self.args.lang)
        return self._app

    def actor(self) -> "Actor":
        """``--user`` logs in (and every check applies); otherwise the local console, which
        can do anything the OS account owning the database could do anyway."""
        if self._actor is None:
            app = self.app()
            if self.args.user:
                password = os.environ.get("VENUE_SUITE_PASSWORD")
                if password is None:
                    password = getpass.getpass(_("Password for {user}: ").format(user=self.args.user))
                self._actor = app.identity.authenticate(self.args.user, password, venue_id=app.venue_id,
                                                        terminal_id=app.terminal_id)
            else:
                from suite.identity.actor import Actor

                self._actor = Actor.system(f"console:{getpass.getuser()}")
        return self._actor

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None
