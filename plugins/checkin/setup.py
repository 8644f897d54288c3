"""Setting up check-in (G1): lists, the channels under them and plain codes. Permission
``checkin.setup`` (reading: ``checkin.view``); every change is audited with the values before
and after."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import text, whole

from plugins.checkin.core import CheckinCore, rules_changed
from plugins.checkin.models import DIRECTIONS, ENTRY_MODES, CheckinChannel, CheckinCode, CheckinList

_SELECTORS = ("ticket_types", "halls", "sessions", "card_types")
_FLAGS = ("plain_codes", "staff", "exit_tracking", "anti_passback", "reentry", "active")
_MINUTES = ("opens_before_min", "closes_after_min")
LIST_FIELDS = ("name", "venue_code", *_SELECTORS, *_FLAGS, *_MINUTES, "daily_open", "daily_close", "entries",
               "per_day")
CHANNEL_FIELDS = ("name", "list_code", "gate", "direction", "side", "staff", "active")


def _selector(value: object, what: str) -> str:
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    items = [part.strip() for part in text(value, what, 4000, required=False).split(",") if part.strip()]
    return ",".join(dict.fromkeys(items))


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_("{what} must be true or false.").format(what=what))
    return value


def _clock(value: object, what: str) -> str:
    value = text(value, what, 5, required=False)
    if value:
        try:
            return dt.time.fromisoformat(value).strftime("%H:%M")
        except ValueError:
            raise InvalidInput(_("{what} must be a time of day like 09:30.").format(what=what)) from None
    return ""


def _choice(value: object, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise InvalidInput(_("{what} must be one of: {choices}.").format(what=what, choices=", ".join(choices)))
    return str(value)


def _list_value(name: str, value: object) -> Any:
    if name == "name":
        return text(value, _("The list name"), 100)
    if name == "venue_code":
        return text(value, _("The venue"), 32)
    if name in _SELECTORS:
        return _selector(value, name)
    if name in _FLAGS:
        return _flag(value, name)
    if name in _MINUTES:
        return whole(value, name, maximum=7 * 24 * 60)
    if name in ("daily_open", "daily_close"):
        return _clock(value, name)
    if name == "entries":
        return _choice(value, ENTRY_MODES, _("Entries"))
    if name == "per_day":
        return whole(value, _("Entries per day"), minimum=1, maximum=1000)
    raise InvalidInput(_("A check-in list has no setting {name!r}.").format(name=name))


def _channel_value(name: str, value: object) -> Any:
    if name == "name":
        return text(value, _("The channel name"), 100)
    if name == "list_code":
        return text(value, _("The list"), 32)
    if name == "gate":
        return text(value, _("The gate"), 64, required=False)
    if name == "direction":
        return _choice(value, DIRECTIONS, _("The direction"))
    if name == "side":
        return _choice(str(value).upper(), ("A", "B"), _("The turnstile side"))
    if name in ("staff", "active"):
        return _flag(value, name)
    raise InvalidInput(_("A channel has no setting {name!r}.").format(name=name))


def list_dict(row: CheckinList) -> dict[str, Any]:
    return {"code": row.code, **{name: getattr(row, name) for name in LIST_FIELDS}}


def channel_dict(row: CheckinChannel) -> dict[str, Any]:
    return {"code": row.code, **{name: getattr(row, name) for name in CHANNEL_FIELDS}}


def code_dict(row: CheckinCode) -> dict[str, Any]:
    return {"code": row.code, "lists": row.lists, "admits": row.admits,
            "valid_from": row.valid_from.isoformat() if row.valid_from else None,
            "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            "state": row.state, "note": row.note}


class SetupService(CheckinCore):
    """Check-in lists, channels and plain codes."""

    # ------------------------------------------------------------ lists

    def add_list(self, actor: Actor, *, code: str, name: str, **values: Any) -> dict[str, Any]:
        self._begin(actor, "checkin.setup", admin=True)
        code = text(code, _("The list code"), 32)
        values = {"name": name, "venue_code": values.pop("venue_code", None) or self.venue_code, **values}
        clean = {key: _list_value(key, value) for key, value in values.items()}
        self._check_list(clean)
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(CheckinList.id).where(CheckinList.code == code)) is not None:
                raise Conflict(_("Check-in list {code} exists already.").format(code=code))
            result = self._insert(session, actor, CheckinList(code=code, **clean), list_dict, "checkin.list.add")
            uow.commit()
        rules_changed()
        return result

    def edit_list(self, actor: Actor, code: str, **changes: Any) -> dict[str, Any]:
        self._begin(actor, "checkin.setup", admin=True)
        clean = {key: _list_value(key, value) for key, value in changes.items()}
        if not clean:
            raise InvalidInput(_("Nothing to change."))
        with self._uow() as uow:
            session = uow.session
            after = self._change(session, actor, self._list(session, code), clean, list_dict, "checkin.list.edit",
                                 check=self._check_list)
            uow.commit()
        rules_changed()
        return after

    def show_list(self, actor: Actor, code: str) -> dict[str, Any]:
        self._begin(actor, "checkin.view")
        with self._uow.read() as uow:
            row = self._list(uow.session, code)
            channels = uow.session.scalars(select(CheckinChannel).where(CheckinChannel.list_code == code)
                                           .order_by(CheckinChannel.code)).all()
            return {**list_dict(row), "channels": [channel_dict(c) for c in channels]}

    def lists(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "checkin.view")
        with self._uow.read() as uow:
            return [list_dict(r) for r in uow.session.scalars(select(CheckinList).order_by(CheckinList.code))]

    @staticmethod
    def _check_list(values: Mapping[str, Any]) -> None:
        if (values.get("anti_passback") or values.get("reentry")) and not values.get("exit_tracking", False):
            raise InvalidInput(_("Anti-passback and re-entry need exit tracking: set exit tracking on too."))

    # ------------------------------------------------------------ channels

    def add_channel(self, actor: Actor, *, code: str, name: str, list_code: str, **values: Any) -> dict[str, Any]:
        self._begin(actor, "checkin.setup", admin=True)
        code = text(code, _("The channel code"), 32)
        clean = {key: _channel_value(key, value) for key, value in
                 {"name": name, "list_code": list_code, **values}.items()}
        with self._uow() as uow:
            session = uow.session
            self._list(session, clean["list_code"])
            if session.scalar(select(CheckinChannel.id).where(CheckinChannel.code == code)) is not None:
                raise Conflict(_("Channel {code} exists already.").format(code=code))
            result = self._insert(session, actor, CheckinChannel(code=code, **clean), channel_dict,
                                  "checkin.channel.add")
            uow.commit()
        rules_changed()
        return result

    def edit_channel(self, actor: Actor, code: str, **changes: Any) -> dict[str, Any]:
        self._begin(actor, "checkin.setup", admin=True)
        clean = {key: _channel_value(key, value) for key, value in changes.items()}
        if not clean:
            raise InvalidInput(_("Nothing to change."))
        with self._uow() as uow:
            session = uow.session
            row = self._channel(session, code)
            if "list_code" in clean:
                self._list(session, clean["list_code"])
            after = self._change(session, actor, row, clean, channel_dict, "checkin.channel.edit")
            uow.commit()
        rules_changed()
        return after

    def channels(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "checkin.view")
        with self._uow.read() as uow:
            return [channel_dict(r) for r in uow.session.scalars(select(CheckinChannel).order_by(CheckinChannel.code))]

    # ------------------------------------------------------------ plain codes

    def add_code(self, actor: Actor, *, code: str, lists: str = "*", admits: int = 1,
                 valid_from: dt.datetime | None = None, valid_until: dt.datetime | None = None,
                 note: str = "") -> dict[str, Any]:
        self._begin(actor, "checkin.setup", admin=True)
        values = {"code": text(code, _("The code"), 64), "lists": _selector(lists, _("The lists")) or "*",
                  "admits": whole(admits, _("People admitted"), minimum=1, maximum=10_000),
                  "valid_from": valid_from, "valid_until": valid_until,
                  "note": text(note, _("The note"), 500, required=False)}
        if valid_from and valid_until and valid_until <= valid_from:
            raise InvalidInput(_("A code's validity must end after it starts."))
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(CheckinCode.id).where(CheckinCode.code == values["code"])) is not None:
                raise Conflict(_("Code {code} exists already.").format(code=values["code"]))
            result = self._insert(session, actor, CheckinCode(**values), code_dict, "checkin.code.add")
            uow.commit()
        return result

    def set_code_state(self, actor: Actor, code: str, state: str, *, reason: str = "") -> dict[str, Any]:
        """Block a plain code (blacklist) or make it valid again."""
        self._begin(actor, "checkin.setup", admin=True)
        state = _choice(state, ("valid", "blocked"), _("The state"))
        with self._uow() as uow:
            session = uow.session
            row = session.scalars(select(CheckinCode).where(CheckinCode.code == code)).one_or_none()
            if row is None:
                raise NotFound(_("There is no code {code}.").format(code=code), code=code)
            before, row.state = row.state, state
            self._audit(session, actor, "checkin.code.state", code, {"before": before, "after": state,
                                                                      "reason": reason})
            result = code_dict(row)
            uow.commit()
        return result

    def codes(self, actor: Actor) -> list[dict[str, Any]]:
        self._begin(actor, "checkin.view")
        with self._uow.read() as uow:
            return [code_dict(r) for r in uow.session.scalars(select(CheckinCode).order_by(CheckinCode.code))]

    # ------------------------------------------------------------ helpers

    def _insert(self, session: Session, actor: Actor, row: Any, as_dict: Callable[[Any], dict[str, Any]],
                action: str) -> dict[str, Any]:
        """Add a new row, audit what it holds, return that."""
        session.add(row)
        session.flush()
        result = as_dict(row)
        self._audit(session, actor, action, row.code, result)
        return result

    def _change(self, session: Session, actor: Actor, row: Any, clean: Mapping[str, Any],
                as_dict: Callable[[Any], dict[str, Any]], action: str,
                check: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Set ``clean`` on a row (``check`` sees the result first), audit the fields before and
        after, return the row as a dict."""
        before = as_dict(row)
        for key, value in clean.items():
            setattr(row, key, value)
        after = as_dict(row)
        if check is not None:
            check(after)
        self._audit(session, actor, action, row.code,
                    {"before": {k: before[k] for k in clean}, "after": {k: after[k] for k in clean}})
        return after

    @staticmethod
    def _list(session: Session, code: str) -> CheckinList:
        row = session.scalars(select(CheckinList).where(CheckinList.code == code)).one_or_none()
        if row is None:
            raise NotFound(_("There is no check-in list {code}.").format(code=code), code=code)
        return row

    @staticmethod
    def _channel(session: Session, code: str) -> CheckinChannel:
        row = session.scalars(select(CheckinChannel).where(CheckinChannel.code == code)).one_or_none()
        if row is None:
            raise NotFound(_("There is no channel {code}.").format(code=code), code=code)
        return row


__all__ = ["CHANNEL_FIELDS", "LIST_FIELDS", "SetupService", "channel_dict", "code_dict", "list_dict"]
