"""Which plugins an administrator enabled: the ``plugin_state`` table.

A plugin with no row is enabled: installing a licensed plugin is enough to use it, and an
administrator switches it off explicitly. The row records who changed it and when.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from suite.db.base import Base, utcnow


class PluginStateRow(Base):
    __tablename__ = "plugin_state"

    plugin_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(200), default="")


def enabled_flags(session: Session) -> dict[str, bool]:
    """Plugin id -> enabled, for every plugin that has a row (absent means enabled)."""
    return {row.plugin_id: row.enabled for row in session.scalars(select(PluginStateRow))}


def set_enabled(session: Session, plugin_id: str, enabled: bool, actor_name: str,
                now: dt.datetime | None = None) -> None:
    """Record the flag (the caller commits)."""
    row = session.get(PluginStateRow, plugin_id)
    if row is None:
        row = PluginStateRow(plugin_id=plugin_id)
        session.add(row)
    row.enabled = enabled
    row.changed_at = now or utcnow()
    row.changed_by = actor_name
