"""The gate's desk (G2): ``CheckinService`` while the database answers, the ``OfflineDesk``
when it does not, and the upload and the refresh once it is back (docs/checkin-offline.md).

    desk = GateDesk.from_app(app)                    # the gate's file: [plugins.checkin] offline_path
    result = desk.scan(actor, channel="L1", code=text)  # the same dict online and offline ("offline")
    desk.passage(actor, nonce=result["nonce"], index=1)
    desk.sync(actor)                                 # about once a second, from the gate loop

Entries decided offline stay with the offline desk until they are uploaded (their passages and
close too); passages and closes of entries decided online go to the database, or onto the spool
while it is away.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from suite.db.ids import uuid7
from suite.errors import SuiteError
from suite.identity.actor import Actor

from plugins.checkin.core import PLUGIN_ID
from plugins.checkin.offline import OfflineDesk, OfflineStore, database_down, default_path
from plugins.checkin.service import CheckinService

log = logging.getLogger(__name__)

PROBE_SECONDS = 3  # while offline, the database is tried at most this often
SWEEP_AFTER = dt.timedelta(minutes=10)  # an entry decided offline still open after this is closed

Result = dict[str, Any]
T = TypeVar("T")


class GateDesk:
    """What a gate loop calls: ``scan``, ``passage``, ``close``, ``manual_open``,
    ``free_passage``, ``counts``, ``recent`` (as ``CheckinService``), ``sync`` and ``status``.
    The licence is checked here, once: an offline gate cannot ask again."""

    def __init__(self, service: CheckinService, store: OfflineStore, offline: OfflineDesk | None = None) -> None:
        plugins = getattr(service, "_plugins", None)
        if plugins is not None:
            from suite.licensing.service import Purpose

            plugins.require_active(PLUGIN_ID, Purpose.SALE)
        self.service = service
        self.store = store
        self.offline = offline or OfflineDesk(store, venue_code=service.venue_code,
                                              terminal_code=service.terminal_code, settings=service.settings,
                                              clock=service.now)
        self._lock = threading.RLock()
        self._online = True
        self._offline_since: dt.datetime | None = None
        self._probed_at: dt.datetime | None = None
        self._uploaded_at: dt.datetime | None = None
        self._refresh_now = True
        self._problem = ""
        self._last_upload: dict[str, Any] | None = None

    @classmethod
    def from_app(cls, app: Any, path: Path | str | None = None) -> "GateDesk":
        service = CheckinService.from_app(app)
        store = OfflineStore(path or default_path(service.settings, app.settings.data_dir),
                             zone=service.settings.zone)
        return cls(service, store)

    @property
    def online(self) -> bool:
        return self._online

    def now(self) -> dt.datetime:
        return self.service.now()

    # ------------------------------------------------------------ online, or offline

    def _either(self, online: Callable[[], T], offline: Callable[[], T], note: Callable[[T], None] | None = None) -> T:
        with self._lock:
            if self._online:
                try:
                    result = online()
                except Exception as exc:  # noqa: BLE001 - only "database down" goes offline
                    if not database_down(exc):
                        raise
                    self._went_offline(exc)
                else:
                    if note is not None:
                        note(result)
                    return result
            return offline()

    def _went_offline(self, exc: BaseException) -> None:
        log.warning("database unreachable, the gate checks people in offline: %s", exc)
        now = self.now()
        self._online = False
        self._offline_since = now
        self._probed_at = now

    def scan(self, actor: Actor, *, channel: str, code: str, nonce: str | None = None,
             at: dt.datetime | None = None) -> Result:
        nonce = nonce or uuid7().hex  # one nonce for both ways: a scan the database took is not uploaded again
        return self._either(
            lambda: self.service.scan(actor, channel=channel, code=code, nonce=nonce, at=at),
            lambda: self.offline.scan(actor, channel=channel, code=code, nonce=nonce, at=at),
            lambda result: self.store.note_online(result, terminal=self.service.terminal_code,
                                                  operator=actor.username))

    def passage(self, actor: Actor, *, nonce: str, index: int | None = None,
                at: dt.datetime | None = None) -> Result:
        with self._lock:
            if self._decided_offline(nonce):
                return self.offline.passage(actor, nonce=nonce, index=index, at=at)
            when = at or self.now()
            return self._either(
                lambda: self.service.passage(actor, nonce=nonce, index=index, at=when),
                lambda: self._queue(actor, lambda: self.store.queue_passage(nonce, index, when)),
                lambda result: self.store.note_online_passage(result, when))

    def close(self, actor: Actor, *, nonce: str, at: dt.datetime | None = None) -> Result:
        with self._lock:
            if self._decided_offline(nonce):
                return self.offline.close(actor, nonce=nonce, at=at)
            when = at or self.now()
            return self._either(
                lambda: self.service.close(actor, nonce=nonce, at=when),
                lambda: self._queue(actor, lambda: self.store.queue_close(nonce, when)),
                lambda result: self.store.note_online_close(result, when))

    def _decided_offline(self, nonce: str) -> bool:
        known = self.store.entry(nonce)
        return known is not None and bool(known["offline"])

    def _queue(self, actor: Actor, queue: Callable[[], Result]) -> Result:
        self.offline.require(actor, "checkin.scan")
        return queue()

    def manual_open(self, actor: Actor, *, channel: str, reason: str, persons: int = 1,
                    nonce: str | None = None) -> Result:
        nonce = nonce or uuid7().hex
        return self._either(
            lambda: self.service.manual_open(actor, channel=channel, reason=reason, persons=persons, nonce=nonce),
            lambda: self.offline.manual_open(actor, channel=channel, reason=reason, persons=persons, nonce=nonce),
            lambda result: self.store.note_online(result, terminal=self.service.terminal_code,
                                                  operator=actor.username))

    def free_passage(self, actor: Actor, *, channel: str, nonce: str | None = None,
                     at: dt.datetime | None = None) -> Result:
        nonce = nonce or uuid7().hex
        return self._either(
            lambda: self.service.free_passage(actor, channel=channel, nonce=nonce, at=at),
            lambda: self.offline.free_passage(actor, channel=channel, nonce=nonce, at=at),
            lambda result: self.store.note_online(result, terminal=self.service.terminal_code,
                                                  operator=actor.username))

    def counts(self, actor: Actor, *, since: dt.datetime | None = None) -> Result:
        return self._either(lambda: self.service.counts(actor, since=since),
                            lambda: self.offline.counts(actor, since=since))

    def recent(self, actor: Actor, *, channel: str | None = None, limit: int = 20) -> list[Result]:
        return self._either(lambda: self.service.recent(actor, channel=channel, limit=limit),
                            lambda: self.offline.recent(actor, channel=channel, limit=limit))

    # ------------------------------------------------------------ keeping in step

    def sync(self, actor: Actor) -> Result:
        """Called about once a second by the gate loop. Closes entries decided offline and left
        open; while offline, tries the database at most every ``PROBE_SECONDS``; online, uploads
        the spool every ``upload_seconds`` and refreshes the copy every ``refresh_seconds`` (both
        at once when the database is back). Never raises for a database that went away."""
        with self._lock:
            now = self.now()
            self.store.sweep(now, SWEEP_AFTER)
            if not self._online and not self._probe(now):
                return self.status()
            settings = self.service.settings
            try:
                if self._refresh_now or _due(self._uploaded_at, settings.upload_seconds, now):
                    self.drain(actor)
                if self._refresh_now or _due(self.store.refreshed_at(), settings.refresh_seconds, now):
                    self.refresh(actor)
                self._problem = ""
            except Exception as exc:  # noqa: BLE001 - the gate loop goes on
                if database_down(exc):
                    self._went_offline(exc)
                elif isinstance(exc, SuiteError):
                    log.warning("check-in upload or refresh refused: %s", exc)
                    self._problem = exc.message
                else:
                    raise
            return self.status()

    def _probe(self, now: dt.datetime) -> bool:
        if self._probed_at is not None and 0 <= (now - self._probed_at).total_seconds() < PROBE_SECONDS:
            return False
        self._probed_at = now
        try:
            with self.service._uow.read() as uow:
                uow.session.execute(select(1))
        except Exception as exc:  # noqa: BLE001 - only "database down" keeps the gate offline
            if database_down(exc):
                return False
            raise
        log.info("the database answers again: uploading what the gate decided offline")
        self._online, self._offline_since, self._refresh_now = True, None, True
        return True

    def drain(self, actor: Actor) -> Result:
        """Upload the spool now (``OfflineStore.drain``)."""
        with self._lock:
            report = self.store.drain(self.service, actor)
            self._uploaded_at = self.now()
            self._last_upload = report
            return report

    def refresh(self, actor: Actor) -> dict[str, int]:
        """Take a new snapshot for this gate's lists (every list when it runs no channel named
        in ``[plugins.checkin] channels``, or before the first refresh)."""
        with self._lock:
            lists = self.store.list_codes_of(self.service.settings.channels)
            counts = self.store.refresh(self.service.snapshot(actor, lists=sorted(lists) if lists else None))
            self._refresh_now = False
            return counts

    def status(self) -> Result:
        """For screens: online or since when offline, what waits for the upload, the last
        refresh, conflicts seen, the last upload's totals and a refusal to show, if any."""
        last = self._last_upload
        return {"online": self._online,
                "offline_since": self._offline_since.isoformat() if self._offline_since else None,
                "problem": self._problem,
                "last_upload": None if last is None else {
                    "applied": last["applied"], "skipped": last["skipped"], "conflicts": len(last["conflicts"]),
                    "held": len(last["held"]), "left": last["left"]},
                **self.store.status()}


def _due(last: dt.datetime | None, seconds: int, now: dt.datetime) -> bool:
    if last is None:
        return True
    elapsed = (now - last).total_seconds()
    return elapsed >= seconds or elapsed < 0


__all__ = ["PROBE_SECONDS", "SWEEP_AFTER", "GateDesk"]
