"""What a scanned code is (G2): a signed ticket code, a wallet card (its chip UID or number) or a
plain code; turned into a ``rules.Credential`` from the database (online) or from the gate's
cached copy (``plugins.checkin.offline``, ``offline_store``). Both go through ``credential_from_*`` below, so the
two paths cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plugins.checkin import rules
from plugins.checkin.models import CheckinChannel, CheckinCode, CheckinList
from plugins.checkin.rules import Credential
from plugins.tickets.codes import PREFIX, TicketClaims, TicketVerifier

PACKAGE_SESSION = "package:"
MAX_CODE = 2048


def is_ticket_code(text: str) -> bool:
    return text.startswith(PREFIX + ".")


def credential_from_claims(claims: TicketClaims | None, revoked: Callable[[str], bool]) -> Credential:
    if claims is None:
        return Credential("ticket", "", "", problem=rules.FORGED)
    starts = dt.datetime.fromtimestamp(claims.starts, dt.timezone.utc)
    ends = dt.datetime.fromtimestamp(claims.ends, dt.timezone.utc)
    package = claims.session.startswith(PACKAGE_SESSION)
    return Credential("ticket", f"ticket:{claims.serial}", claims.serial,
                      problem=rules.REFUNDED if revoked(claims.serial) else "", venue=claims.venue,
                      session=claims.session, hall=claims.hall, ticket_type=claims.ticket_type, admits=claims.admits,
                      starts=None if package else starts, ends=ends, package=package)


def card_problem(status: str) -> str:
    return {"active": "", "lost": rules.BLACKLISTED, "expired": rules.EXPIRED}.get(status, rules.UNKNOWN)


def end_of_day(day: dt.date | None, zone: ZoneInfo) -> dt.datetime | None:
    """The first instant after the venue-local day ``day`` (a validity's end)."""
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)


def credential_from_card(card: dict[str, Any], zone: ZoneInfo) -> Credential:
    """``card``: number, type, category, kind, status, expires_on (date), counts."""
    return Credential("card", f"card:{card['card_no']}", str(card["card_no"]), problem=card_problem(card["status"]),
                      card_type=card["type"], card_category=card["category"], card_kind=card["kind"],
                      counts=int(card["counts"]) if card["kind"] == "count" else None,
                      valid_until=end_of_day(card.get("expires_on"), zone))


def credential_from_code(row: dict[str, Any]) -> Credential:
    """``row``: code, lists, admits, valid_from, valid_until, state."""
    return Credential("code", f"code:{row['code']}", str(row["code"]),
                      problem=rules.BLACKLISTED if row["state"] != "valid" else "", admits=int(row["admits"]),
                      valid_from=row.get("valid_from"), valid_until=row.get("valid_until"),
                      lists=rules.selector(row["lists"]))


def unknown(text: str) -> Credential:
    return Credential("code", "", text[:96], problem=rules.UNKNOWN)


def list_rules(row: CheckinList | dict[str, Any]) -> rules.ListRules:
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    return rules.ListRules(
        code=get("code"), venue=get("venue_code"), ticket_types=rules.selector(get("ticket_types")),
        halls=rules.selector(get("halls")), sessions=rules.selector(get("sessions")),
        card_types=rules.selector(get("card_types")), plain_codes=bool(get("plain_codes")), staff=bool(get("staff")),
        opens_before=dt.timedelta(minutes=int(get("opens_before_min"))),
        closes_after=dt.timedelta(minutes=int(get("closes_after_min"))),
        daily_open=_clock(get("daily_open")), daily_close=_clock(get("daily_close")), entries=get("entries"),
        per_day=int(get("per_day")), exit_tracking=bool(get("exit_tracking")),
        anti_passback=bool(get("anti_passback")), reentry=bool(get("reentry")))


def channel_rules(row: CheckinChannel | dict[str, Any]) -> rules.ChannelRules:
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    return rules.ChannelRules(code=get("code"), list_code=get("list_code"), direction=get("direction"),
                              side=get("side"), gate=get("gate"), staff=bool(get("staff")))


def _clock(text: str | None) -> dt.time | None:
    return dt.time.fromisoformat(text) if text else None


class OnlineResolver:
    """Resolves codes against the database (tickets, wallet cards, plain codes)."""

    def __init__(self, verifier: TicketVerifier, zone: ZoneInfo) -> None:
        self.verifier = verifier
        self.zone = zone

    def resolve(self, session: Session, text: str) -> Credential:
        if is_ticket_code(text):
            return credential_from_claims(self.verifier.claims(text), lambda serial: _revoked(session, serial))
        card = self._card(session, text)
        if card is not None:
            return credential_from_card(card, self.zone)
        code = session.execute(select(CheckinCode.code, CheckinCode.lists, CheckinCode.admits, CheckinCode.valid_from,
                                      CheckinCode.valid_until, CheckinCode.state)
                               .where(CheckinCode.code == text)).mappings().one_or_none()
        if code is not None:
            return credential_from_code(dict(code))
        return unknown(text)

    def _card(self, session: Session, text: str) -> dict[str, Any] | None:
        from plugins.wallet.core import balances_of
        from plugins.wallet.models import Card, CardType

        row = session.execute(
            select(Card.card_no, Card.status, Card.expires_on, CardType.code, CardType.category, CardType.kind)
            .join(CardType, CardType.id == Card.type_id)
            .where(or_(Card.uid == text.upper(), Card.card_no == text))).one_or_none()
        if row is None:
            return None
        card_no, status, expires_on, type_code, category, kind = row
        counts = balances_of(session, card_no)["counts"] if kind == "count" else 0
        return {"card_no": card_no, "status": status, "expires_on": expires_on, "type": type_code,
                "category": category, "kind": kind, "counts": counts}


def _revoked(session: Session, serial: str) -> bool:
    from plugins.checkin.statements import is_revoked

    return is_revoked(session.connection(), serial)


def revoked_serials(session: Session) -> list[str]:
    from plugins.tickets.models import Revocation

    return list(session.scalars(select(Revocation.serial)))


def clean_code(text: Any) -> str:
    """A scanned code without the reader's line ending; '' when it cannot be a code."""
    value = str(text or "").strip()
    return value if 0 < len(value) <= MAX_CODE and value.isprintable() else ""


__all__ = ["OnlineResolver", "channel_rules", "clean_code", "credential_from_card", "credential_from_claims",
           "credential_from_code", "end_of_day", "is_ticket_code", "list_rules", "revoked_serials", "unknown"]
