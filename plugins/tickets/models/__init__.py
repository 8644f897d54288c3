"""The box office's tables (prefix ``tickets_``), by area: halls and seat maps, what is sold,
orders and tickets, partners, the counter."""

from plugins.tickets.models.base import TicketsBase
from plugins.tickets.models.catalogue import (
    ANY_ZONE, Combo, OfferRule, Package, Price, PricePlan, Programme, ShowSession, TicketType,
)
from plugins.tickets.models.counter import FaceTemplate, Shift
from plugins.tickets.models.partners import Booking, Distributor, DistributorDiscount, RedemptionCode
from plugins.tickets.models.places import LOCKED_KINDS, SEAT_KINDS, Hall, Seat, SeatMap, Zone
from plugins.tickets.models.sales import Order, Payment, Revocation, SeatClaim, Ticket, Voucher

__all__ = [
    "ANY_ZONE", "Booking", "Combo", "Distributor", "DistributorDiscount", "FaceTemplate", "Hall", "LOCKED_KINDS",
    "OfferRule", "Order", "Package", "Payment", "Price", "PricePlan", "Programme", "RedemptionCode", "Revocation",
    "SEAT_KINDS", "Seat", "SeatClaim", "SeatMap", "Shift", "ShowSession", "Ticket", "TicketType", "TicketsBase", "Voucher",
    "Zone",
]
