"""Who is acting: a logged-in operator, or the system itself (console, start-up, schedulers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# a grant of every permission, present and future (the system administrator's)
ALL_PERMISSIONS = "*"
SYSTEM_USERNAME = "system"


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    username: str
    display_name: str
    permissions: frozenset[str]
    venue_id: uuid.UUID | None = None
    terminal_id: uuid.UUID | None = None
    language: str = "en"
    is_system: bool = False

    def has(self, permission: str) -> bool:
        return self.is_system or ALL_PERMISSIONS in self.permissions or permission in self.permissions

    def has_permission(self, permission: str) -> bool:
        """``has`` under the name ``suite.plugins.Actor`` (the plugin host's protocol) uses."""
        return self.has(permission)

    @classmethod
    def system(cls, name: str = "console", *, venue_id: uuid.UUID | None = None,
               terminal_id: uuid.UUID | None = None) -> Actor:
        """The suite acting on its own behalf; ``name`` says which part (shown as the display name)."""
        return cls(user_id=None, username=SYSTEM_USERNAME, display_name=name,
                   permissions=frozenset({ALL_PERMISSIONS}), venue_id=venue_id, terminal_id=terminal_id,
                   is_system=True)
