"""The box office's declarative base: its own ``MetaData`` (host naming convention), so
importing the plugin never changes the host's metadata; the ``tickets`` Alembic branch creates
its tables (prefix ``tickets_``)."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from suite.db.base import NAMING, Base


class TicketsBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = dict(Base.type_annotation_map)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK clause: ``column IN ('a', 'b')``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
