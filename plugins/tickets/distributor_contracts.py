"""Distributors' contracts and prepaid accounts (T7, docs/tickets-partners.md): a distributor
with its booking mode, warning level and discount per ticket category (or ``*`` for every
one), its prepaid balance, top-ups from the venue's cash, and the low-balance warning.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite.errors import Conflict, InvalidInput, NotFound
from suite.i18n import N_, _
from suite.identity.actor import Actor
from suite.inputs import idempotency_key, text, whole
from suite.ledger import LineSpec, balance, post

from plugins.tickets.accounts import CNY, KIND_TOPUP, OWNER_TYPE, PREPAID, prepaid_account, yuan
from plugins.tickets.models import Distributor, DistributorDiscount
from plugins.tickets.models.catalogue import TICKET_CATEGORIES
from plugins.tickets.models.partners import BOOKING_MODES
from plugins.tickets.partner_sales import PartnerSales

ANY_CATEGORY = "*"

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

MODE_TITLES = {"net": N_("net price, approved at once"), "rebate": N_("full price, rebate on approval")}


def discount_of(price: int, discount_bp: int) -> int:
    """The contract discount on one ticket: ``discount_bp`` of its price, rounded down to the fen."""
    return price * discount_bp // 10000


class DistributorContracts(PartnerSales):
    """Distributors, their contracts and their prepaid accounts."""

    # ------------------------------------------------------------ contracts

    @staticmethod
    def _distributor(session: Session, code: str, *, lock: bool = False) -> Distributor:
        query = select(Distributor).where(Distributor.code == code)
        if lock:
            query = query.with_for_update()
        found = session.scalars(query).one_or_none()
        if found is None:
            raise NotFound(_("There is no distributor {code}.").format(code=code), code=code)
        return found

    @staticmethod
    def _prepaid(session: Session, distributor: Distributor) -> uuid.UUID:
        return prepaid_account(session, distributor)

    @staticmethod
    def _mode(mode: str) -> str:
        if mode not in BOOKING_MODES:
            raise InvalidInput(_("The booking mode is one of: {choices}.").format(choices=", ".join(BOOKING_MODES)))
        return mode

    def add_distributor(self, actor: Actor, *, code: str, name: str, mode: str = "net", warn_below: int = 0,
                        contact: str = "", discounts: Mapping[str, int] | None = None) -> dict[str, Any]:
        """A distributor with its contract (``discounts``: category or ``*`` -> basis points) and
        its prepaid account (balance 0). Permission ``tickets.distributors``; audited."""
        self._begin(actor, "tickets.distributors", admin=True)
        code = text(code, _("The distributor code"), 32)
        if not _CODE.match(code):
            raise InvalidInput(_("A distributor code is letters, digits, '.', '_' or '-' (at most 32)."))
        values = {"code": code, "name": text(name, _("The name"), 100), "mode": self._mode(mode),
                  "warn_below": whole(warn_below, _("The warning level")),
                  "contact": text(contact, _("The contact"), 100, required=False)}
        checked = {self._category(c): self._bp(bp) for c, bp in (discounts or {}).items()}
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(Distributor.id).where(Distributor.code == code)) is not None:
                raise Conflict(_("Distributor {code} exists already.").format(code=code))
            distributor = Distributor(**values, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(distributor)
            session.flush()
            for category, bp in checked.items():
                session.add(DistributorDiscount(distributor_id=distributor.id, category=category, discount_bp=bp,
                                                venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            self._prepaid(session, distributor)
            self._audit(session, actor, "tickets.distributor.add", code, {**values, "discounts": checked})
            uow.commit()
            return self._distributor_dict(session, distributor)

    def edit_distributor(self, actor: Actor, code: str, *, name: str | None = None, mode: str | None = None,
                         warn_below: int | None = None, contact: str | None = None,
                         active: bool | None = None) -> dict[str, Any]:
        """Change a distributor's contract terms (not its code). Pending bookings keep the mode
        they were made in. Permission ``tickets.distributors``; audited."""
        self._begin(actor, "tickets.distributors", admin=True)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = text(name, _("The name"), 100)
        if mode is not None:
            changes["mode"] = self._mode(mode)
        if warn_below is not None:
            changes["warn_below"] = whole(warn_below, _("The warning level"))
        if contact is not None:
            changes["contact"] = text(contact, _("The contact"), 100, required=False)
        if active is not None:
            changes["active"] = bool(active)
        if not changes:
            raise InvalidInput(_("Nothing to change."))
        with self._uow() as uow:
            distributor = self._distributor(uow.session, code, lock=True)
            before = {k: getattr(distributor, k) for k in changes}
            for field, value in changes.items():
                setattr(distributor, field, value)
            self._audit(uow.session, actor, "tickets.distributor.edit", code, {"before": before, "after": changes})
            uow.commit()
            return self._distributor_dict(uow.session, distributor)

    @staticmethod
    def _category(category: str) -> str:
        if category != ANY_CATEGORY and category not in TICKET_CATEGORIES:
            raise InvalidInput(_("A discount is for a ticket category ({choices}) or * for every one.").format(
                choices=", ".join(TICKET_CATEGORIES)))
        return category

    @staticmethod
    def _bp(value: int) -> int:
        return whole(value, _("The discount in basis points"), maximum=10000)

    def set_discount(self, actor: Actor, code: str, *, category: str, discount_bp: int | None) -> dict[str, Any]:
        """The contract's discount for a ticket category (``*``: every category without its own),
        in basis points (1500 = 15 % off); ``None`` removes it. Permission
        ``tickets.distributors``; audited."""
        self._begin(actor, "tickets.distributors", admin=True)
        category = self._category(category)
        bp = None if discount_bp is None else self._bp(discount_bp)
        with self._uow() as uow:
            session = uow.session
            distributor = self._distributor(session, code, lock=True)
            row = session.scalars(select(DistributorDiscount).where(
                DistributorDiscount.distributor_id == distributor.id,
                DistributorDiscount.category == category)).one_or_none()
            before = row.discount_bp if row is not None else None
            if bp is None:
                if row is None:
                    raise NotFound(_("Distributor {code} has no discount for {category}.").format(
                        code=code, category=category))
                session.delete(row)
            elif row is None:
                session.add(DistributorDiscount(distributor_id=distributor.id, category=category, discount_bp=bp,
                                                venue_id=actor.venue_id, terminal_id=actor.terminal_id))
            else:
                row.discount_bp = bp
            session.flush()
            self._audit(session, actor, "tickets.distributor.discount", code,
                        {"category": category, "before": before, "after": bp})
            uow.commit()
            return self._distributor_dict(session, distributor)

    def list_distributors(self, actor: Actor, *, include_inactive: bool = False) -> list[dict[str, Any]]:
        """Every distributor with its contract and prepaid balance. Permission ``tickets.view``."""
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            query = select(Distributor).order_by(Distributor.code)
            if not include_inactive:
                query = query.where(Distributor.active.is_(True))
            return [self._distributor_dict(uow.session, d) for d in uow.session.scalars(query)]

    def get_distributor(self, actor: Actor, code: str) -> dict[str, Any]:
        self._begin(actor, "tickets.view")
        with self._uow.read() as uow:
            return self._distributor_dict(uow.session, self._distributor(uow.session, code))

    def _balance_of(self, session: Session, distributor: Distributor) -> int:
        from suite.ledger.models import Account

        found = session.scalar(select(Account.balance).where(
            Account.owner_type == OWNER_TYPE, Account.owner_id == distributor.code, Account.kind == PREPAID,
            Account.unit == CNY))
        return int(found or 0)

    def _distributor_dict(self, session: Session, distributor: Distributor) -> dict[str, Any]:
        discounts = {d.category: d.discount_bp for d in session.scalars(select(DistributorDiscount).where(
            DistributorDiscount.distributor_id == distributor.id).order_by(DistributorDiscount.category))}
        current = self._balance_of(session, distributor)
        return {"code": distributor.code, "name": distributor.name, "mode": distributor.mode,
                "mode_title": _(MODE_TITLES[distributor.mode]),
                "warn_below": distributor.warn_below, "contact": distributor.contact, "active": distributor.active,
                "discounts": discounts, "balance": current, "low": current < distributor.warn_below}

    @staticmethod
    def _discounts(session: Session, distributor: Distributor) -> dict[str, int]:
        return {d.category: d.discount_bp for d in session.scalars(select(DistributorDiscount).where(
            DistributorDiscount.distributor_id == distributor.id))}

    # ------------------------------------------------------------ the prepaid account

    def top_up(self, actor: Actor, code: str, *, amount: int, key: str, memo: str = "") -> dict[str, Any]:
        """Money the distributor paid in, from this venue's cash to its prepaid account. The same
        ``key`` again changes nothing. Permission ``tickets.distributors``; audited."""
        self._begin(actor, "tickets.distributors")
        amount = whole(amount, _("The amount"), minimum=1)
        key = idempotency_key(key)
        memo = text(memo, _("The memo"), 200, required=False)
        with self._uow() as uow:
            session = uow.session
            distributor = self._distributor(session, code)
            prepaid = self._prepaid(session, distributor)
            cash = self._account(session, "venue", self.venue_code, "cash")
            result = post(session, idempotency_key=f"distributor-topup:{key}", kind=KIND_TOPUP,
                          memo=memo or distributor.code, lines=[LineSpec(cash, -amount), LineSpec(prepaid, amount)],
                          actor=actor.username, venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            if not result.replayed:
                self._audit(session, actor, "tickets.distributor.topup", code,
                            {"amount": amount, "memo": memo, "entry": str(result.entry_id)})
            uow.commit()
            current = balance(session, prepaid)
            return {"distributor": code, "amount": amount, "balance": current, "replayed": result.replayed,
                    "entry_id": str(result.entry_id), **self._warning(distributor, current)}

    @staticmethod
    def _warning(distributor: Distributor, current: int) -> dict[str, Any]:
        if current >= distributor.warn_below:
            return {"low": False, "warning": ""}
        return {"low": True, "warning": _(
            "The prepaid balance of distributor {name} is {balance}, below its warning level of {level}: "
            "ask for a top-up.").format(name=distributor.name, balance=yuan(current),
                                        level=yuan(distributor.warn_below))}


__all__ = ["ANY_CATEGORY", "DistributorContracts", "MODE_TITLES", "discount_of"]
