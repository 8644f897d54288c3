"""LicenceService on a real database (SQLite and PostgreSQL) with the file keyring."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from suite.errors import Conflict, FeatureNotLicensed, LicenceError, SecretMissing
from suite.licensing import (
    SIGNING_KEY_SECRET,
    LicenceService,
    LicenceState,
    Purpose,
    generate_keypair,
    issue,
    parse_and_verify,
)
from suite.licensing.models import InstalledLicence

PRIVATE, PUBLIC = generate_keypair()
NOON = dt.time(12, tzinfo=dt.timezone.utc)


def clock_at(day: dt.date):
    return lambda: dt.datetime.combine(day, NOON)


def licence_text(private: str = PRIVATE, **overrides: object) -> str:
    fields: dict[str, object] = dict(
        chain_id="CHAIN-A", licensee="Starlight Cinemas", features=["tickets", "checkin"],
        max_terminals=3, max_activated_cards=100, issued=dt.date(2026, 1, 1),
        expires=dt.date(2026, 12, 31), grace_days=14)
    fields.update(overrides)
    return issue(private, **fields)  # type: ignore[arg-type]


@pytest.fixture
def service(uow_factory) -> LicenceService:
    return LicenceService(uow_factory, [PUBLIC], clock=clock_at(dt.date(2026, 6, 1)))


# ---------------------------------------------------------------- vendor key in the keyring

def test_keygen_stores_the_private_key_in_the_keyring_and_refuses_to_overwrite(secret_store) -> None:
    public = LicenceService.keygen(secret_store)
    stored = secret_store.get(SIGNING_KEY_SECRET)
    assert stored is not None and stored != public
    assert LicenceService.signing_public_key(secret_store) == public
    with pytest.raises(Conflict, match="already in the keyring"):
        LicenceService.keygen(secret_store)
    assert secret_store.get(SIGNING_KEY_SECRET) == stored
    replaced = LicenceService.keygen(secret_store, force=True)
    assert replaced != public and secret_store.get(SIGNING_KEY_SECRET) != stored


def test_issue_with_keyring_signs_with_the_stored_key(secret_store) -> None:
    with pytest.raises(SecretMissing, match="license keygen"):
        LicenceService.issue_with_keyring(secret_store, chain_id="C", licensee="L", features=["wallet"],
                                          max_terminals=1, max_activated_cards=0, expires=dt.date(2030, 1, 1))
    public = LicenceService.keygen(secret_store)
    text = LicenceService.issue_with_keyring(secret_store, chain_id="C", licensee="L", features=["wallet"],
                                             max_terminals=1, max_activated_cards=0, expires=dt.date(2030, 1, 1))
    assert parse_and_verify(text, [public]).features == ("wallet",)
    with pytest.raises(LicenceError, match="does not trust"):
        parse_and_verify(text, [PUBLIC])


# ---------------------------------------------------------------- installing

def test_install_then_current_and_newest_active_wins(service: LicenceService, uow_factory) -> None:
    assert service.current() is None
    first = service.install(licence_text(licence_id="L-1"), "alice")
    assert service.current() == first
    second = service.install(licence_text(licence_id="L-2", features=["wallet"]), "bob")
    assert service.current() == second and second.features == ("wallet",)
    history = service.installed()
    assert [(h.licence_id, h.installed_by, h.active) for h in history] == [("L-2", "bob", True), ("L-1", "alice", False)]
    with uow_factory() as uow:
        rows = uow.session.scalars(select(InstalledLicence)).all()
        assert {r.chain_id for r in rows} == {"CHAIN-A"}


def test_install_refuses_tampered_untrusted_and_expired_and_stores_nothing(service: LicenceService) -> None:
    text = licence_text()
    lines = text.strip().splitlines()
    lines[1] = lines[1][:10] + ("A" if lines[1][10] != "A" else "B") + lines[1][11:]
    with pytest.raises(LicenceError):
        service.install("\n".join(lines), "mallory")
    other_private, _other_public = generate_keypair()
    with pytest.raises(LicenceError, match="does not trust"):
        service.install(licence_text(other_private), "mallory")
    with pytest.raises(LicenceError, match="grace period is over"):
        service.install(licence_text(expires=dt.date(2026, 3, 1), grace_days=10), "alice")
    assert service.current() is None and service.installed() == []


def test_a_licence_edited_in_the_database_grants_nothing(service: LicenceService, uow_factory) -> None:
    service.install(licence_text(), "alice")
    # someone with database access swaps in a richer payload, keeping the stored signature
    forged = licence_text(features=["tickets", "checkin", "wallet"])
    good_lines = licence_text().strip().splitlines()
    forged_lines = forged.strip().splitlines()
    mixed = "\n".join([*forged_lines[:-3], *good_lines[-3:]])
    with uow_factory() as uow:
        uow.session.execute(update(InstalledLicence).values(text=mixed))
        uow.commit()
    assert service.current() is None
    status = service.status()
    assert status.state is LicenceState.MISSING and "cannot be used" in status.message
    with pytest.raises(FeatureNotLicensed, match="'wallet'"):
        service.require("wallet", Purpose.SALE)


def test_removing_the_vendor_key_from_the_configuration_revokes_trust(service: LicenceService, uow_factory) -> None:
    service.install(licence_text(), "alice")
    _private, other_public = generate_keypair()
    elsewhere = LicenceService(uow_factory, [other_public], clock=clock_at(dt.date(2026, 6, 1)))
    assert elsewhere.current() is None
    assert "does not trust" in elsewhere.status().message


# ---------------------------------------------------------------- states and checks

def test_states_valid_grace_expired_with_injected_dates(service: LicenceService) -> None:
    assert service.status().state is LicenceState.MISSING
    service.install(licence_text(), "alice")
    valid = service.status()
    assert valid.state is LicenceState.VALID and valid.days_left == 214
    assert service.status(dt.date(2026, 12, 31)).state is LicenceState.VALID
    grace = service.status(dt.date(2027, 1, 5))
    assert grace.state is LicenceState.GRACE and grace.days_left == 10
    assert grace.message == "The licence expired on 2026-12-31; 10 days of grace left."
    expired = service.status(dt.date(2027, 1, 15))
    assert expired.state is LicenceState.EXPIRED and expired.licence is not None


def test_clock_decides_today(uow_factory) -> None:
    LicenceService(uow_factory, [PUBLIC], clock=clock_at(dt.date(2026, 6, 1))).install(licence_text(), "alice")
    later = LicenceService(uow_factory, [PUBLIC], clock=clock_at(dt.date(2027, 2, 1)))
    assert later.status().state is LicenceState.EXPIRED
    with pytest.raises(LicenceError, match="expired on 2026-12-31"):
        later.require("tickets", Purpose.SALE)


def test_sale_is_refused_when_expired_allowed_in_grace(service: LicenceService) -> None:
    service.install(licence_text(), "alice")
    service.require("tickets", Purpose.SALE)
    service.require("tickets", Purpose.SALE, today=dt.date(2027, 1, 10))  # grace
    with pytest.raises(LicenceError) as refused:
        service.require("tickets", Purpose.SALE, today=dt.date(2027, 1, 15))
    assert not isinstance(refused.value, FeatureNotLicensed)
    assert "expired on 2026-12-31" in refused.value.message
    assert not service.allows("tickets", Purpose.SALE, today=dt.date(2027, 1, 15))
    # ADMIN keeps working on an expired licence: the venue's data stays reachable
    service.require("tickets", Purpose.ADMIN, today=dt.date(2027, 1, 15))


def test_missing_feature_message_names_the_feature(service: LicenceService) -> None:
    with pytest.raises(FeatureNotLicensed, match="'wallet'.*No licence is installed"):
        service.require("wallet", Purpose.ADMIN)
    service.install(licence_text(), "alice")
    for purpose in (Purpose.SALE, Purpose.ADMIN):
        with pytest.raises(FeatureNotLicensed) as refused:
            service.require("wallet", purpose)
        assert refused.value.message == "This terminal's licence does not include the feature 'wallet'."
        assert refused.value.details["feature"] == "wallet"
    service.require(None, Purpose.SALE)  # the host's own parts need no feature


class ExplodingUow:
    def __call__(self):
        raise AssertionError("SAFETY must not touch the database")

    read = __call__


def test_safety_is_never_refused(service: LicenceService) -> None:
    service.require("checkin", Purpose.SAFETY)  # no licence at all
    service.require("wallet", "safety")
    service.install(licence_text(), "alice")
    service.require("wallet", Purpose.SAFETY)  # feature missing
    service.require("checkin", Purpose.SAFETY, today=dt.date(2030, 1, 1))  # long expired
    assert service.allows("checkin", Purpose.SAFETY, today=dt.date(2030, 1, 1))
    # not even a dead database stops the emergency release
    LicenceService(ExplodingUow(), [PUBLIC]).require("checkin", Purpose.SAFETY)  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        LicenceService(ExplodingUow(), [PUBLIC]).require("checkin", Purpose.SALE)  # type: ignore[arg-type]


def test_terminal_and_card_limits(service: LicenceService) -> None:
    service.check_terminal_count(1)
    with pytest.raises(LicenceError, match="allows 1 terminal; 2"):
        service.check_terminal_count(2)
    with pytest.raises(LicenceError, match="allows 0 activated cards"):
        service.check_activated_cards(1)
    service.install(licence_text(), "alice")
    service.check_terminal_count(3)
    service.check_activated_cards(100)
    with pytest.raises(LicenceError, match="allows 3 terminals; 4 would be too many") as over:
        service.check_terminal_count(4)
    assert over.value.details == {"limit": 3, "count": 4}
    with pytest.raises(LicenceError, match="allows 100 activated cards; 101"):
        service.check_activated_cards(101)
