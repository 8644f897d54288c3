"""Distributors (T7): contracts with a discount per ticket category, a prepaid account in the
ledger, bookings in two modes, the review queue and reconciliation (docs/tickets-partners.md).

A distributor's prepaid account is the ledger account (``distributor``, CODE, ``prepaid``,
CNY) with floor 0: the database itself refuses any movement that would take it below zero, so
a booking the account cannot pay is refused whole (order, tickets, seats, nothing stays).

Money moves so (every entry balances; amounts in fen):

=============================  ===================================  ==============================
what                           lines                                entry kind
=============================  ===================================  ==============================
top-up                         venue cash -x, prepaid +x            ``tickets.distributor.topup``
booking (both modes)           prepaid -charged, revenue +charged   ``tickets.distributor.sale``
approval in ``rebate`` mode    revenue -rebate, prepaid +rebate     ``tickets.distributor.rebate``
rejection                      the booking's entry reversed         ``reversal``
refund at the counter          revenue -x, prepaid +x               ``tickets.distributor.refund``
=============================  ===================================  ==============================

Prices: the counter's price for the session comes first (the price plan's list price and the
box office's offers, no member tier), then the contract's discount for the ticket's category
(or ``*``) is taken off it, rounded down to the fen. ``net`` mode charges the discounted price
and the booking is approved at once; ``rebate`` mode charges the counter's price, the booking
waits in the review queue, and approval pays the discount back (the tickets' prices become the
discounted ones); a rejection gives the whole charge back, revokes the tickets and frees their
seats.

``DistributorService`` is built in layers, each on the one before it:

===========================================  ==================================================
``plugins.tickets.partner_sales``            ``PartnerSales`` (a ``SalesService``): what
                                             distributors and redemption codes share, an order
                                             without a counter tender, the best available
                                             seats of a session, revoking tickets
``plugins.tickets.distributor_contracts``    ``DistributorContracts``: contracts, the prepaid
                                             account, top-ups
``plugins.tickets.distributor_bookings``     ``DistributorBookings``: bookings in both modes
``plugins.tickets.distributor_review``       ``DistributorReview``: the review queue, approval
                                             (rebates), rejection
this module                                  ``DistributorService``: ``reconcile``
===========================================  ==================================================

The ledger accounts, the entry kinds above and ``pay_back_partner`` are in
``plugins.tickets.accounts``; the reconciliation figures and the report ``RECONCILIATION`` in
``plugins.tickets.distributor_reconciliation``. This module re-exports them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from suite.errors import InvalidInput
from suite.i18n import _
from suite.identity.actor import Actor
from suite.reporting.filters import local_midnight

from plugins.tickets.accounts import (
    KIND_REBATE, KIND_REDEMPTION_REFUND, KIND_REFUND, KIND_SALE, KIND_TOPUP, OWNER_TYPE, PARTNER_KIND, PARTNER_OWNER,
    PREPAID, partner_account, pay_back_partner, yuan,
)
from plugins.tickets.distributor_bookings import STATE_TITLES
from plugins.tickets.distributor_contracts import ANY_CATEGORY, MODE_TITLES, discount_of
from plugins.tickets.distributor_reconciliation import RECONCILIATION, reconciliation
from plugins.tickets.distributor_review import DistributorReview, proportional
from plugins.tickets.models import Booking
from plugins.tickets.partner_sales import MAX_TICKETS, PartnerSales


class DistributorService(DistributorReview):
    """Distributors, their contracts and prepaid accounts, bookings, the review queue and
    reconciliation."""

    # ------------------------------------------------------------ reconciliation

    def reconcile(self, actor: Actor, *, distributor: str, first: dt.date, last: dt.date) -> dict[str, Any]:
        """One distributor over local days ``first`` .. ``last``: its bookings (by state), the
        money (gross, charged, rebates, charges returned, top-ups) and the prepaid balance at the
        start and the end, which ``balance_start + topups - charged + rebates + returned``
        equals. Permission ``tickets.distributors``."""
        self._begin(actor, "tickets.distributors")
        if last < first:
            raise InvalidInput(_("The period ends before it starts."))
        with self._uow.read() as uow:
            session = uow.session
            dist = self._distributor(session, distributor)
            figures = reconciliation(session, dist, first, last, self.settings.zone)
            start, end = local_midnight(first, self.settings.zone), local_midnight(
                last + dt.timedelta(days=1), self.settings.zone)
            bookings = session.scalars(select(Booking).where(Booking.distributor_id == dist.id,
                                                             Booking.created_at >= start, Booking.created_at < end)
                                       .order_by(Booking.created_at, Booking.id)).all()
            return {"distributor": dist.code, "name": dist.name, "first": first.isoformat(), "last": last.isoformat(),
                    **figures, "bookings_detail": [self._booking_dict(session, b) for b in bookings]}


__all__ = ["ANY_CATEGORY", "DistributorService", "KIND_REBATE", "KIND_REDEMPTION_REFUND", "KIND_REFUND", "KIND_SALE",
           "KIND_TOPUP", "MAX_TICKETS", "MODE_TITLES", "OWNER_TYPE", "PARTNER_KIND", "PARTNER_OWNER", "PREPAID",
           "PartnerSales", "RECONCILIATION", "STATE_TITLES", "discount_of", "partner_account", "pay_back_partner",
           "proportional", "reconciliation", "yuan"]
