"""The ``ticket`` and ``voucher`` verbs: sell, quote, refund, void, exchange, reprint, verify at
the command line (``venue-suite ticket sell S1 --seat 5-12 --seat 5-13 --type ADULT --cash 100``).

Seats are written ``ROW-SEAT`` as printed; amounts in yuan, parsed without floats; results are
plain data, printed as text or, with ``--json``, as JSON (amounts in fen).
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from typing import Any

from suite.errors import InvalidInput
from suite.i18n import _
from suite.plugin_cli import verb_actor as _actor, yuan_argument as _amount



def _tender(value: str) -> tuple[str, int]:
    """``REFERENCE=AMOUNT`` (a card number or voucher code, and yuan)."""
    reference, equals, amount = value.partition("=")
    if not equals or not reference:
        raise argparse.ArgumentTypeError(_("{value!r} is not REFERENCE=AMOUNT.").format(value=value))
    return reference, _amount(amount)


def _payments(args: argparse.Namespace) -> list[dict[str, Any]]:
    return ([{"method": "cash", "amount": args.cash}] if args.cash else []) + \
        [{"method": "wallet", "reference": ref, "amount": amount} for ref, amount in args.card] + \
        [{"method": "voucher", "reference": ref, "amount": amount} for ref, amount in args.voucher]


def configure_ticket(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ticket_action", metavar="ACTION")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(tickets_action=f"ticket.{name}")
        return p

    def keyed(p: argparse.ArgumentParser) -> None:
        p.add_argument("--key", help=_("idempotency key (default: a new one); repeat it to retry safely"))

    for name, help_text in (("sell", _("sell seats of a session")), ("quote", _("price seats without selling"))):
        p = action(name, help_text)
        p.add_argument("session", help=_("session code"))
        p.add_argument("--seat", action="append", required=True, dest="seats", help=_("ROW-SEAT, repeatable"))
        p.add_argument("--type", action="append", dest="types",
                       help=_("ticket type per seat, in order (one for all; default ADULT)"))
        p.add_argument("--combo", help=_("sell every seat as this combo (a ticket with goods)"))
        if name == "sell":
            p.add_argument("--cash", type=_amount, default=0, help=_("paid in cash, yuan"))
            p.add_argument("--card", type=_tender, action="append", default=[], metavar="CARD=YUAN",
                           help=_("paid by a wallet card"))
            p.add_argument("--voucher", type=_tender, action="append", default=[], metavar="CODE=YUAN",
                           help=_("paid by a voucher"))
            p.add_argument("--source", default="walk_in", help=_("customer source"))
            p.add_argument("--phone", default="")
            keyed(p)
    package = action("package", _("sell packages granting several entries (no seat)"))
    package.add_argument("code", help=_("package code"))
    package.add_argument("--quantity", type=int, default=1)
    package.add_argument("--cash", type=_amount, default=0, help=_("paid in cash, yuan"))
    package.add_argument("--card", type=_tender, action="append", default=[], metavar="CARD=YUAN",
                         help=_("paid by a wallet card"))
    package.add_argument("--voucher", type=_tender, action="append", default=[], metavar="CODE=YUAN",
                         help=_("paid by a voucher"))
    keyed(package)
    seats = action("seats", _("the seat states of a session"))
    seats.add_argument("session")
    for name, help_text in (("refund", _("refund tickets (their seats are free again)")),
                            ("reprint", _("print tickets again"))):
        p = action(name, help_text)
        p.add_argument("serials", nargs="+")
        p.add_argument("--reason", default="")
        if name == "refund":
            keyed(p)
    void = action("void", _("void a whole order"))
    void.add_argument("order")
    void.add_argument("--reason", default="")
    keyed(void)
    exchange = action("exchange", _("exchange a ticket for another seat or session"))
    exchange.add_argument("serial")
    exchange.add_argument("session")
    exchange.add_argument("--seat", required=True, help=_("ROW-SEAT"))
    exchange.add_argument("--type", dest="ticket_type")
    keyed(exchange)
    verify = action("verify", _("check a ticket code as a gate would"))
    verify.add_argument("code")
    action("revoked", _("serials whose codes no longer admit"))
    action("key", _("the public key gates verify codes with"))
    order = action("order", _("an order and its tickets"))
    order.add_argument("order")


def configure_voucher(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="voucher_action", metavar="ACTION")
    issue = sub.add_parser("issue", help=_("issue a cash voucher"))
    issue.add_argument("--value", type=_amount, required=True, help=_("yuan"))
    issue.add_argument("--code", help=_("the code (default: a new one)"))
    issue.add_argument("--until", type=dt.date.fromisoformat, help=_("last valid day, YYYY-MM-DD"))
    issue.add_argument("--free", action="store_true", help=_("given away, not sold for cash"))
    issue.add_argument("--key")
    issue.set_defaults(tickets_action="voucher.issue")


def run(app: Any, args: argparse.Namespace) -> Any:
    from plugins.tickets.sales import SalesService

    action = getattr(args, "tickets_action", None)
    if action is None:
        raise InvalidInput(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(verb=args.verb))
    service = SalesService.from_app(app)
    actor = _actor(app, args)
    key = getattr(args, "key", None) or uuid.uuid4().hex
    if action in ("ticket.sell", "ticket.quote"):
        ids = service.seat_ids(actor, args.session, args.seats)
        types = args.types or ["ADULT"]
        if len(types) not in (1, len(ids)):
            raise InvalidInput(_("Give one --type for all seats or one per seat."))
        lines = [{"seat_id": seat, "combo": args.combo} if args.combo else
                 {"seat_id": seat, "ticket_type": types[i] if len(types) > 1 else types[0]}
                 for i, seat in enumerate(ids)]
        if action == "ticket.quote":
            return service.quote(actor, session_code=args.session, lines=lines)
        return service.sell(actor, session_code=args.session, lines=lines, payments=_payments(args), key=key,
                            customer_source=args.source, phone=args.phone)
    if action == "ticket.package":
        return service.sell_packages(actor, package=args.code, quantity=args.quantity, payments=_payments(args),
                                     key=key)
    if action == "ticket.seats":
        return service.seat_states(actor, args.session)
    if action == "ticket.refund":
        return service.refund(actor, serials=args.serials, key=key, reason=args.reason)
    if action == "ticket.reprint":
        return service.reprint(actor, serials=args.serials, reason=args.reason)
    if action == "ticket.void":
        return service.void(actor, order_number=args.order, key=key, reason=args.reason)
    if action == "ticket.exchange":
        seat = service.seat_ids(actor, args.session, [args.seat])[0]
        return service.exchange(actor, serial=args.serial, session_code=args.session, seat_id=seat, key=key,
                                ticket_type=args.ticket_type)
    if action == "ticket.verify":
        return service.verify(actor, args.code)
    if action == "ticket.revoked":
        return service.revoked(actor)
    if action == "ticket.key":
        return {"public_key": service.public_key()}
    if action == "ticket.order":
        return service.order(actor, args.order)
    if action == "voucher.issue":
        return service.issue_voucher(actor, value=args.value, key=key, code=args.code, valid_until=args.until,
                                     paid=not args.free)
    raise InvalidInput(_("Unknown action {action}.").format(action=action))  # pragma: no cover


__all__ = ["configure_ticket", "configure_voucher", "run"]
