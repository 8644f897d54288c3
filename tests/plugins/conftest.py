"""Shared fixtures of the plugin tests: a CLI site licensed for the wallet, and for the purse
tests a reader on the card lab (``card_lab`` and ``lab`` come from ``tests/conftest.py``) with
the functions both purse modules use (``from tests.plugins.conftest import present, ...``)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.wallet as wallet_plugin
from suite.audit.models import AuditEvent
from suite.identity.actor import Actor
from suite.ledger import check
from suite.ledger.models import Entry
from tests.cardlab import LabHandle
from tests.sites import Site, write_site

ADMIN_PASSWORD = "correct-horse-42"
# the chain's card keys in the purse tests (an app takes them from its keyring)
MASTER = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
MAC_KEY = bytes.fromhex("F0E1D2C3B4A5968778695A4B3C2D1E0F")
EVERY = frozenset(p.id for p in wallet_plugin.PERMISSIONS)
CARD_WAIT = 5.0
READER_WAIT = 10.0


@pytest.fixture
def site(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Site:
    """A site whose host loads the wallet as a built-in, licensed for the feature ``wallet``."""
    import suite.plugins as host

    class WalletHost(host.PluginHost):
        def __init__(self, *args, **kwargs) -> None:
            builtins = tuple(kwargs.pop("builtin_modules", host.BUILTIN_PLUGINS))
            if "plugins.wallet" not in builtins:
                builtins += ("plugins.wallet",)
            super().__init__(*args, builtin_modules=builtins, **kwargs)

    monkeypatch.setattr(host, "PluginHost", WalletHost)
    s = Site(write_site(tmp_path, db_url), db_url, capsys, monkeypatch)
    assert s.run("--json", "init", stdin=ADMIN_PASSWORD + "\n").code == 0
    public = s.run("--json", "license", "keygen").json["public_key"]
    s.path.write_text(s.path.read_text() + f'\n[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "chain.lic"
    issued = s.run("license", "issue", "--chain", "CHAIN-1", "--licensee", "River Cinemas", "--features", "wallet,tickets",
                   "--max-terminals", "3", "--max-cards", "500", "--expires", "2099-12-31", "--out", str(licence))
    assert issued.code == 0, issued.err
    assert s.run("license", "install", str(licence)).code == 0
    return s


# ---------------------------------------------------------------- a reader on the card lab


@pytest.fixture
def reader(lab: LabHandle) -> Iterator[Any]:
    """A started ``devices.pcsc`` reader (``reader-1``) on virtual reader 0, posting nowhere:
    the tests take its card with ``reader.current_card()`` (``present``, ``wait_card``)."""
    from devices.pcsc import open_reader

    device = open_reader(lab.reader_config(0), lambda _event: None)
    device.start()
    deadline = time.monotonic() + READER_WAIT
    while device.reader_name is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert device.reader_name is not None, f"the reader did not find {lab.reader_names[0]}"
    yield device
    device.stop()


def wait_card(reader: Any, uid: str, *, not_this: Any = None) -> Any:
    """The card with ``uid`` on the reader (a new handle, when ``not_this`` is the old one)."""
    deadline = time.monotonic() + CARD_WAIT
    while time.monotonic() < deadline:
        card = reader.current_card()
        if card is not None and card.uid_hex == uid and card is not not_this:
            return card
        time.sleep(0.02)
    raise AssertionError(f"card {uid} not on the reader within {CARD_WAIT} s")


def take_off(lab: LabHandle, reader: Any) -> None:
    """Take the card off virtual reader 0 and wait until the driver has seen it go."""
    lab.remove(0)
    deadline = time.monotonic() + CARD_WAIT
    while reader.current_card() is not None and time.monotonic() < deadline:
        time.sleep(0.02)


def present(lab: LabHandle, reader: Any, uid: str | None = None, *, name: str | None = None) -> Any:
    """Put a card on virtual reader 0 (whatever was on it taken off first) and wait until the
    driver hands it out: a new card, the card ``uid``, or the stored card ``name`` (a magic
    clone ``"<uid>.magic"``, whose UID ``uid`` must be given)."""
    take_off(lab, reader)
    uid = uid or lab.new_uid()
    lab.insert(None if name else uid, name=name)
    return wait_card(reader, uid)


# ---------------------------------------------------------------- the wallet


def actor(*permissions: str, name: str = "cashier") -> Actor:
    """An operator with ``permissions`` (default: every wallet permission)."""
    return Actor(user_id=uuid.uuid4(), username=name, display_name=name,
                 permissions=frozenset(permissions) if permissions else EVERY)


def key() -> str:
    """A fresh idempotency key."""
    return f"test-{uuid.uuid4()}"


def entries(purse: Any) -> int:
    """Journal entries in the purse service's database."""
    with purse._uow.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Entry)))


def ledger_ok(purse: Any) -> None:
    with purse._uow.read() as uow:
        result = check(uow.session)
    assert result.ok, result.problems


def security(purse: Any, target: str) -> list[dict[str, Any]]:
    """The security audit records about ``target`` (a card number or a chip UID)."""
    with purse._uow.read() as uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "security",
                                                            AuditEvent.target == target)).all()
        return [{"action": r.action, **json.loads(r.details)} for r in rows]
