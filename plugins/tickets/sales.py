"""Selling at the counter (T5): seat holds, the sale (seats, prices, payments, signed codes),
refund, void, exchange, reprint and verification. A sale is all or nothing, and its key makes
a retry return the first order.

``SalesService`` is built in layers, each on the one before it:

==============================  ===============================================================
``plugins.tickets.orders``      ``OrderViews``: an order by number, what orders and tickets show
``plugins.tickets.holds``       ``SeatHolds``: seat states and labels, holds, seat claims (no
                                seat is ever sold twice)
``plugins.tickets.quoting``     ``SalePricing``, ``PricedLine``: an order's prices, ``quote``
``plugins.tickets.payments``    ``OrderPayments``: the tenders (cash, card, voucher), paying
                                back, cash vouchers
``plugins.tickets.selling``     ``Selling``: ``sell``, ``sell_packages``, signed tickets
``plugins.tickets.after_sale``  ``AfterSale``: refund, void, exchange, reprint
this module                     ``SalesService``: the revocation list and code verification
==============================  ===============================================================
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from suite.identity.actor import Actor

from plugins.tickets.accounts import CNY
from plugins.tickets.after_sale import AfterSale
from plugins.tickets.codes import TicketVerifier
from plugins.tickets.models import Revocation
from plugins.tickets.payments import TENDERS
from plugins.tickets.quoting import PricedLine


class SalesService(AfterSale):
    """Holds, sales, refunds, voids, exchanges, reprints and verification."""

    # ------------------------------------------------------------ verification

    def revoked(self, actor: Actor, *, since: dt.datetime | None = None) -> list[str]:
        """Serials whose codes no longer admit (what an offline gate downloads)."""
        self._begin(actor, "tickets.verify")
        with self._uow.read() as uow:
            query = select(Revocation.serial)
            if since is not None:
                query = query.where(Revocation.revoked_at >= since)
            return list(uow.session.scalars(query.order_by(Revocation.revoked_at)))

    def verify(self, actor: Actor, code: str) -> dict[str, Any]:
        """Check a code as a gate would, with the revocation list of this database."""
        verifier = TicketVerifier([self.public_key()])
        claims = verifier.claims(code)
        revoked: set[str] = set()
        if claims is not None:
            self._begin(actor, "tickets.verify")
            with self._uow.read() as uow:
                revoked = set(uow.session.scalars(select(Revocation.serial).where(
                    Revocation.serial == claims.serial)))
        else:
            self._begin(actor, "tickets.verify")
        return verifier.verify(code, revoked=revoked, now=self.now()).as_dict()


__all__ = ["CNY", "PricedLine", "SalesService", "TENDERS"]
