"""Unit of work: one transaction that rolls back unless ``commit()`` is called."""

from __future__ import annotations

from types import TracebackType
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from suite.errors import DatabaseUnavailable
from suite.i18n import _


class UnitOfWork:
    """``with uow_factory() as uow: ...; uow.commit()``. Leaving without commit rolls back."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None
        self.committed = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its 'with' block")
        return self._session

    def __enter__(self) -> "UnitOfWork":
        self._session = self._session_factory()
        self.committed = False
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session = self.session
        try:
            if not self.committed:
                session.rollback()
        finally:
            session.close()
            self._session = None

    def commit(self) -> None:
        try:
            self.session.commit()
        except OperationalError as exc:
            self.session.rollback()
            raise DatabaseUnavailable(_("The database did not accept the change: {reason}").format(
                reason=str(exc.orig).strip().splitlines()[0] if exc.orig else exc)) from exc
        self.committed = True

    def rollback(self) -> None:
        self.session.rollback()


class UnitOfWorkFactory:
    """Makes units of work on one engine; built once in ``bootstrap``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(engine.execution_options(sqlite_begin="DEFERRED"),
                                           expire_on_commit=False)
        self._relaxed_sessions = sessionmaker(engine.execution_options(durable=False), expire_on_commit=False)

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions)

    def relaxed(self) -> UnitOfWork:
        """A unit of work whose commit need not wait for the disk: for records whose loss in a
        power cut costs nothing (a gate's reservation for someone who has not passed yet).
        SQLite commits it without an fsync; PostgreSQL callers add ``SET LOCAL
        synchronous_commit TO OFF``. A later ordinary commit makes it durable too."""
        return UnitOfWork(self._relaxed_sessions)

    def read(self) -> UnitOfWork:
        """A unit of work for queries only: on SQLite it does not hold the write lock."""
        return UnitOfWork(self._read_sessions)
