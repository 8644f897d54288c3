"""Installing licences, their state over time, and the feature checks services make.

Purposes decide how strict a check is (see docs/licensing.md):

* ``SALE``: anything that takes money or admits a paying customer. Refused when the feature is
  not in the licence, or when the licence is past its grace period (or missing).
* ``ADMIN``: configuring a plugin, viewing and exporting its data. Refused only when the feature
  is not in the newest licence (or there is none): an expired licence never locks a venue out
  of its own data, and lets an administrator install the renewal.
* ``SAFETY``: letting people out, emergency release of gates. Never refused, not even with no
  licence or no database: it returns before reading anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, Iterable

from sqlalchemy import select, update

from suite.db.base import utcnow
from suite.db.uow import UnitOfWorkFactory
from suite.errors import Conflict, FeatureNotLicensed, LicenceError, SecretMissing
from suite.i18n import _, ngettext
from suite.licensing import licence as fmt
from suite.licensing.licence import Licence
from suite.licensing.models import InstalledLicence
from suite.secrets import SecretStore

SIGNING_KEY_SECRET = "licence-signing-key"
# limits when no licence is installed: one terminal (to install the licence), no cards
UNLICENSED_MAX_TERMINALS = 1
UNLICENSED_MAX_ACTIVATED_CARDS = 0


class Purpose(StrEnum):
    SALE = "sale"
    ADMIN = "admin"
    SAFETY = "safety"


class LicenceState(StrEnum):
    MISSING = "missing"
    VALID = "valid"
    GRACE = "grace"
    EXPIRED = "expired"


@dataclass(frozen=True)
class LicenceStatus:
    state: LicenceState
    licence: Licence | None
    # days the current state still lasts, counting today (valid: until expiry; grace: until
    # the grace ends); None when missing, 0 when expired
    days_left: int | None
    message: str

    @property
    def usable_for_sale(self) -> bool:
        return self.state in (LicenceState.VALID, LicenceState.GRACE)


@dataclass(frozen=True)
class InstalledLicenceInfo:
    """One row of the installation history (``license show --all``)."""

    licence_id: str
    chain_id: str
    installed_at: dt.datetime
    installed_by: str
    active: bool


def status_of(licence: Licence | None, today: dt.date) -> LicenceStatus:
    """The state of ``licence`` on ``today`` (a pure function, for tools and tests)."""
    if licence is None:
        return LicenceStatus(LicenceState.MISSING, None, None, _("No licence is installed."))
    if today <= licence.expires:
        days = (licence.expires - today).days + 1
        message = ngettext("Licensed to {licensee} until {expires} ({days} day left).",
                           "Licensed to {licensee} until {expires} ({days} days left).", days)
        return LicenceStatus(LicenceState.VALID, licence, days, message.format(
            licensee=licence.licensee, expires=licence.expires.isoformat(), days=days))
    if today <= licence.grace_until:
        days = (licence.grace_until - today).days + 1
        message = ngettext("The licence expired on {expires}; {days} day of grace left.",
                           "The licence expired on {expires}; {days} days of grace left.", days)
        return LicenceStatus(LicenceState.GRACE, licence, days, message.format(
            expires=licence.expires.isoformat(), days=days))
    return LicenceStatus(LicenceState.EXPIRED, licence, 0, _(
        "The licence expired on {expires} and its grace period ended on {grace_until}; sales are "
        "refused until a new licence is installed.").format(
            expires=licence.expires.isoformat(), grace_until=licence.grace_until.isoformat()))


def refusal(status: LicenceStatus, feature: str | None, purpose: Purpose | str) -> LicenceError | None:
    """The error ``LicenceService.require`` would raise for this status, or None if allowed."""
    purpose = Purpose(purpose)
    if purpose is Purpose.SAFETY or feature is None:
        return None
    licence = status.licence
    if licence is None:
        return FeatureNotLicensed(_("The feature {feature!r} needs a licence. {status}").format(
            feature=feature, status=status.message), feature=feature)
    if not licence.has_feature(feature):
        return FeatureNotLicensed(_("This terminal's licence does not include the feature {feature!r}.")
                                  .format(feature=feature), feature=feature)
    if purpose is Purpose.SALE and not status.usable_for_sale:
        return LicenceError(status.message, feature=feature)
    return None


class LicenceService:
    """Licences installed in one database, checked against the trusted vendor keys."""

    def __init__(self, uow_factory: UnitOfWorkFactory, trusted_public_keys: Iterable[str],
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._uow_factory = uow_factory
        self._trusted = tuple(trusted_public_keys)
        for key in self._trusted:
            fmt.load_public_key(key)  # a bad key is a configuration error, found at start
        self._clock = clock
        self._verified: dict[str, Licence] = {}

    # ------------------------------------------------------------ vendor side (keyring)

    @staticmethod
    def keygen(secret_store: SecretStore, *, force: bool = False) -> str:
        """Make the vendor signing key, keep it in the keyring, return the public key (base64).

        Refuses (``Conflict``) to replace an existing key unless ``force``: every licence
        signed with the old key stops verifying once terminals trust only the new one.
        """
        if secret_store.get(SIGNING_KEY_SECRET) is not None and not force:
            raise Conflict(_("A licence signing key is already in the keyring (secret {name!r}); "
                             "replacing it would orphan every licence signed with it. Use --force "
                             "to replace it anyway.").format(name=SIGNING_KEY_SECRET))
        private_b64, public_b64 = fmt.generate_keypair()
        secret_store.set(SIGNING_KEY_SECRET, private_b64)
        return public_b64

    @staticmethod
    def signing_public_key(secret_store: SecretStore) -> str:
        """The public key of the signing key in the keyring (to put in [licensing] public_keys)."""
        return fmt.public_key_b64(_signing_key(secret_store))

    @staticmethod
    def issue_with_keyring(secret_store: SecretStore, **fields: Any) -> str:
        """``licence.issue`` with the signing key from the keyring; same keyword fields."""
        return fmt.issue(_signing_key(secret_store), **fields)

    # ------------------------------------------------------------ installing

    def verify(self, text: str) -> Licence:
        """Parse and verify a licence text without installing it."""
        cached = self._verified.get(text)
        if cached is None:
            cached = fmt.parse_and_verify(text, self._trusted)
            self._verified[text] = cached
        return cached

    def install(self, text: str, actor_name: str) -> Licence:
        """Verify and install a licence; it becomes the current one.

        Refuses a text that is tampered, truncated or signed by an untrusted key, and a licence
        already past its grace period (it could not be used).
        """
        licence = self.verify(text)
        if status_of(licence, self._today()).state is LicenceState.EXPIRED:
            raise LicenceError(_("This licence expired on {expires} and its grace period is over; "
                                 "ask the vendor for a current one.").format(
                                     expires=licence.expires.isoformat()))
        with self._uow_factory() as uow:
            uow.session.execute(update(InstalledLicence).where(InstalledLicence.active.is_(True))
                                .values(active=False))
            uow.session.add(InstalledLicence(
                licence_id=licence.licence_id, chain_id=licence.chain_id, text=text.strip() + "\n",
                installed_at=self._clock(), installed_by=actor_name, active=True))
            uow.commit()
        return licence

    def installed(self) -> list[InstalledLicenceInfo]:
        """Every installation, newest first."""
        with self._uow_factory.read() as uow:
            rows = uow.session.scalars(select(InstalledLicence).order_by(
                InstalledLicence.installed_at.desc(), InstalledLicence.id.desc())).all()
            return [InstalledLicenceInfo(r.licence_id, r.chain_id, r.installed_at, r.installed_by, r.active)
                    for r in rows]

    # ------------------------------------------------------------ reading

    def _load(self) -> tuple[Licence | None, str | None]:
        with self._uow_factory.read() as uow:
            text = uow.session.scalars(
                select(InstalledLicence.text).where(InstalledLicence.active.is_(True))
                .order_by(InstalledLicence.installed_at.desc(), InstalledLicence.id.desc()).limit(1)
            ).first()
        if text is None:
            return None, None
        try:
            return self.verify(text), None
        except LicenceError as exc:
            return None, exc.message

    def current(self) -> Licence | None:
        """The newest active licence, verified again; None if there is none (or it fails)."""
        return self._load()[0]

    def _today(self) -> dt.date:
        now = self._clock()
        return now.astimezone().date() if now.tzinfo is not None else now.date()

    def status(self, today: dt.date | None = None) -> LicenceStatus:
        licence, problem = self._load()
        if problem is not None:
            return LicenceStatus(LicenceState.MISSING, None, None, _(
                "The installed licence cannot be used: {reason}").format(reason=problem))
        return status_of(licence, today or self._today())

    # ------------------------------------------------------------ checks

    def require(self, feature: str | None, purpose: Purpose | str, today: dt.date | None = None) -> None:
        """Raise unless ``feature`` may be used for ``purpose`` (see the module docstring).

        ``FeatureNotLicensed`` names the missing feature; ``LicenceError`` says the licence
        expired. ``feature=None`` (the host's own parts) is always allowed.
        """
        purpose = Purpose(purpose)
        if purpose is Purpose.SAFETY or feature is None:
            return
        refused = refusal(self.status(today), feature, purpose)
        if refused is not None:
            raise refused

    def allows(self, feature: str | None, purpose: Purpose | str, today: dt.date | None = None) -> bool:
        try:
            self.require(feature, purpose, today)
        except LicenceError:
            return False
        return True

    def check_terminal_count(self, count: int) -> None:
        """Raise ``LicenceError`` if ``count`` active terminals would exceed the licence."""
        licence = self.current()
        limit = licence.max_terminals if licence else UNLICENSED_MAX_TERMINALS
        if count > limit:
            raise LicenceError(ngettext(
                "The licence allows {limit} terminal; {count} would be too many.",
                "The licence allows {limit} terminals; {count} would be too many.", limit).format(
                    limit=limit, count=count), limit=limit, count=count)

    def check_activated_cards(self, count: int) -> None:
        """Raise ``LicenceError`` if ``count`` activated cards would exceed the licence."""
        licence = self.current()
        limit = licence.max_activated_cards if licence else UNLICENSED_MAX_ACTIVATED_CARDS
        if count > limit:
            raise LicenceError(ngettext(
                "The licence allows {limit} activated card; {count} would be too many.",
                "The licence allows {limit} activated cards; {count} would be too many.", limit).format(
                    limit=limit, count=count), limit=limit, count=count)


def _signing_key(secret_store: SecretStore) -> str:
    try:
        return secret_store.require(SIGNING_KEY_SECRET)
    except SecretMissing:
        raise SecretMissing(_("No licence signing key in the keyring (secret {name!r}); run "
                              "'venue-suite license keygen' first.").format(name=SIGNING_KEY_SECRET)) from None
