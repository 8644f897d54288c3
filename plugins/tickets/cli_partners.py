"""The ``distributor`` and ``redeem`` verbs (docs/tickets-partners.md):

``venue-suite distributor add|edit|list|show|discount|topup|book|queue|approve|reject|reconcile``
``venue-suite redeem issue|import|list|pickup|void``

Amounts are typed in yuan with at most two decimals and converted to integer fen (never
through floats); seats are written ``ROW-SEAT`` as printed; results are plain data the host
prints as text or, with ``--json``, as JSON (amounts in fen). The host checks the verb's
permission and logs ``--user`` in before ``run``; each use case checks its own permission.
"""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path
from typing import Any

from suite.errors import InvalidInput
from suite.plugin_cli import date_argument as _date, verb_actor as _actor, yuan_argument as _amount
from suite.i18n import _



def _discount(value: str) -> tuple[str, int]:
    """``CATEGORY=BP`` (``child=2000``, ``*=1000``)."""
    category, equals, bp = value.partition("=")
    if not equals or not category or not bp.isdigit():
        raise argparse.ArgumentTypeError(_("{value!r} is not CATEGORY=BASIS_POINTS (like child=2000).").format(
            value=value))
    return category, int(bp)


def _action(sub: Any, name: str, help_text: str, action: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text)
    p.set_defaults(partners_action=action)
    return p


def _keyed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", help=_("idempotency key (default: a new one); repeat it to retry safely"))


def configure_distributor(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="distributor_action", metavar="ACTION")
    add = _action(sub, "add", _("add a distributor and its prepaid account"), "distributor.add")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--mode", choices=("net", "rebate"), default="net",
                     help=_("net: the discounted price, approved at once; rebate: full price, discount paid back "
                            "on approval"))
    add.add_argument("--warn-below", type=_amount, default=0, help=_("warn when the balance falls below, yuan"))
    add.add_argument("--contact", default="")
    add.add_argument("--discount", type=_discount, action="append", default=[], metavar="CATEGORY=BP",
                     help=_("discount per ticket category in basis points, * for every category (repeatable)"))
    edit = _action(sub, "edit", _("change a distributor's contract terms"), "distributor.edit")
    edit.add_argument("code")
    edit.add_argument("--name")
    edit.add_argument("--mode", choices=("net", "rebate"))
    edit.add_argument("--warn-below", type=_amount)
    edit.add_argument("--contact")
    edit.add_argument("--enable", dest="active", action="store_const", const=True, help=_("book for it again"))
    edit.add_argument("--disable", dest="active", action="store_const", const=False, help=_("stop its bookings"))
    lst = _action(sub, "list", _("list distributors with their balances"), "distributor.list")
    lst.add_argument("--all", action="store_true", dest="include_inactive", help=_("inactive ones too"))
    show = _action(sub, "show", _("a distributor's contract and balance"), "distributor.show")
    show.add_argument("code")
    discount = _action(sub, "discount", _("set or remove the discount for a ticket category"), "distributor.discount")
    discount.add_argument("code")
    discount.add_argument("category", help=_("ticket category, or * for every category without its own"))
    discount.add_argument("bp", nargs="?", type=int, help=_("basis points off the list price (1500 = 15%% off)"))
    discount.add_argument("--remove", action="store_true")
    topup = _action(sub, "topup", _("money the distributor paid into its prepaid account, yuan"), "distributor.topup")
    topup.add_argument("code")
    topup.add_argument("amount", type=_amount, help=_("yuan"))
    topup.add_argument("--memo", default="")
    _keyed(topup)
    book = _action(sub, "book", _("book seats of a session for a distributor, paid from its account"),
                   "distributor.book")
    book.add_argument("code", help=_("distributor code"))
    book.add_argument("session", help=_("session code"))
    book.add_argument("--seat", action="append", dest="seats", default=[], help=_("ROW-SEAT, repeatable"))
    book.add_argument("--type", action="append", dest="types", default=[],
                      help=_("ticket type per seat, in order (one for all; default ADULT)"))
    book.add_argument("--quantity", type=int, help=_("best available seats instead of --seat"))
    book.add_argument("--zone", help=_("with --quantity: seats of this zone only"))
    book.add_argument("--note", default="")
    _keyed(book)
    queue = _action(sub, "queue", _("bookings waiting for review"), "distributor.queue")
    queue.add_argument("--distributor")
    queue.add_argument("--state", default="pending", choices=("pending", "approved", "rejected", "all"))
    for name, help_text in (("approve", _("approve a booking (rebate mode: the discount goes back to the account)")),
                            ("reject", _("reject a booking: the charge goes back, the seats are free again"))):
        p = _action(sub, name, help_text, f"distributor.{name}")
        p.add_argument("order", help=_("the booking's order number"))
        p.add_argument("--note", default="")
    rec = _action(sub, "reconcile", _("a distributor's bookings, money and balances over a period"),
                  "distributor.reconcile")
    rec.add_argument("code")
    rec.add_argument("--from", dest="first", type=_date, help=_("first local day, YYYY-MM-DD (default today)"))
    rec.add_argument("--to", dest="last", type=_date, help=_("last local day, YYYY-MM-DD (default: --from)"))


def configure_redeem(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="redeem_action", metavar="ACTION")
    issue = _action(sub, "issue", _("issue a redemption code"), "redeem.issue")
    issue.add_argument("--type", required=True, dest="ticket_type", help=_("ticket type code"))
    issue.add_argument("--session", help=_("session code (default: any session)"))
    issue.add_argument("--quantity", type=int, default=1)
    issue.add_argument("--phone", default="")
    issue.add_argument("--paid", type=_amount, default=0, help=_("what the partner collected, yuan"))
    issue.add_argument("--partner", default="")
    issue.add_argument("--code", help=_("the code (default: 12 new digits)"))
    imp = _action(sub, "import", _("import a CSV of third-party orders (all or nothing)"), "redeem.import")
    imp.add_argument("file", type=Path)
    imp.add_argument("--partner", default="", help=_("the partner the orders come from"))
    lst = _action(sub, "list", _("list redemption codes"), "redeem.list")
    lst.add_argument("--phone")
    lst.add_argument("--state", default="open", choices=("open", "redeemed", "void", "all"))
    lst.add_argument("--partner")
    lst.add_argument("--order", dest="external_order", help=_("the partner's order number"))
    lst.add_argument("--limit", type=int, default=200)
    pickup = _action(sub, "pickup", _("hand over the tickets of a code, or list (--all: redeem) a phone's codes"),
                     "redeem.pickup")
    pickup.add_argument("code", nargs="?")
    pickup.add_argument("--phone")
    pickup.add_argument("--all", action="store_true", dest="take_all", help=_("with --phone: redeem every open code"))
    pickup.add_argument("--seat", action="append", dest="seats", default=[], help=_("ROW-SEAT, repeatable"))
    pickup.add_argument("--session", help=_("for a code good for any session"))
    pickup.add_argument("--zone", help=_("best available seats in this zone"))
    pickup.add_argument("--print", action="store_true", dest="print_tickets",
                        help=_("print them on the ticket printer"))
    _keyed(pickup)
    void = _action(sub, "void", _("void an open code"), "redeem.void")
    void.add_argument("code")
    void.add_argument("--reason", default="")


# --------------------------------------------------------------------------- run


def run(app: Any, args: argparse.Namespace) -> Any:
    action = getattr(args, "partners_action", None)
    if action is None:
        raise InvalidInput(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(verb=args.verb))
    actor = _actor(app, args)
    if action.startswith("distributor."):
        return _distributor(app, actor, action, args)
    return _redeem(app, actor, action, args)


def _distributor(app: Any, actor: Any, action: str, args: argparse.Namespace) -> Any:
    from plugins.tickets.distributors import DistributorService

    service = DistributorService.from_app(app)
    key = getattr(args, "key", None) or uuid.uuid4().hex
    if action == "distributor.add":
        return service.add_distributor(actor, code=args.code, name=args.name, mode=args.mode,
                                       warn_below=args.warn_below, contact=args.contact, discounts=dict(args.discount))
    if action == "distributor.edit":
        return service.edit_distributor(actor, args.code, name=args.name, mode=args.mode, warn_below=args.warn_below,
                                        contact=args.contact, active=args.active)
    if action == "distributor.list":
        return service.list_distributors(actor, include_inactive=args.include_inactive)
    if action == "distributor.show":
        return service.get_distributor(actor, args.code)
    if action == "distributor.discount":
        if args.remove == (args.bp is not None):
            raise InvalidInput(_("Give the basis points, or --remove."))
        return service.set_discount(actor, args.code, category=args.category,
                                    discount_bp=None if args.remove else args.bp)
    if action == "distributor.topup":
        return service.top_up(actor, args.code, amount=args.amount, key=key, memo=args.memo)
    if action == "distributor.book":
        lines = None
        if args.seats:
            if args.quantity is not None:
                raise InvalidInput(_("Give --seat or --quantity, not both."))
            ids = service.seat_ids(actor, args.session, args.seats)
            types = args.types or ["ADULT"]
            if len(types) not in (1, len(ids)):
                raise InvalidInput(_("Give one --type for all seats or one per seat."))
            lines = [{"seat_id": seat, "ticket_type": types[i] if len(types) > 1 else types[0]}
                     for i, seat in enumerate(ids)]
        elif len(args.types) > 1:
            raise InvalidInput(_("With --quantity give one --type."))
        return service.book(actor, distributor=args.code, session_code=args.session, key=key, lines=lines,
                            ticket_type=(args.types or ["ADULT"])[0], quantity=args.quantity, zone=args.zone,
                            note=args.note)
    if action == "distributor.queue":
        return service.queue(actor, distributor=args.distributor, state=args.state)
    if action == "distributor.approve":
        return service.approve(actor, args.order, note=args.note)
    if action == "distributor.reject":
        return service.reject(actor, args.order, note=args.note)
    if action == "distributor.reconcile":
        first = args.first or service.local_now().date()
        return service.reconcile(actor, distributor=args.code, first=first, last=args.last or first)
    raise InvalidInput(_("Unknown action {action}.").format(action=action))  # pragma: no cover


def _redeem(app: Any, actor: Any, action: str, args: argparse.Namespace) -> Any:
    from plugins.tickets.redemption import RedemptionService, redemption_key

    service = RedemptionService.from_app(app)
    if action == "redeem.issue":
        return service.issue(actor, ticket_type=args.ticket_type, quantity=args.quantity, session_code=args.session,
                             phone=args.phone, paid=args.paid, partner=args.partner, code=args.code)
    if action == "redeem.import":
        try:
            data = args.file.read_bytes()
        except OSError as exc:
            raise InvalidInput(_("Cannot read {path}: {reason}").format(path=args.file, reason=exc.strerror)) from exc
        return service.import_csv(actor, data, partner=args.partner)
    if action == "redeem.list":
        return service.codes(actor, phone=args.phone, state=None if args.state == "all" else args.state,
                             partner=args.partner, external_order=args.external_order, limit=args.limit)
    if action == "redeem.void":
        return service.void_code(actor, args.code, reason=args.reason)
    if action == "redeem.pickup":
        if bool(args.code) == bool(args.phone):
            raise InvalidInput(_("Give a code or --phone."))
        skipped: list[dict[str, Any]] = []
        refused: list[dict[str, str]] = []
        if args.phone:
            found = service.pickup(actor, phone=args.phone)
            if not args.take_all:
                return found
            skipped = [c for c in found["codes"] if not c["session"]]  # good for any session: at the counter
            taken = service.redeem_together(actor, codes=[c["code"] for c in found["codes"] if c["session"]],
                                            zone=args.zone)
            orders, refused = taken["orders"], taken["refused"]
        else:
            seats = None
            if args.seats:
                session_code = args.session or service.code(actor, args.code)["session"]
                seats = service.seat_ids(actor, session_code, args.seats)
            orders = [service.redeem(actor, code=args.code, key=args.key or redemption_key(args.code), seat_ids=seats,
                                     session_code=args.session, zone=args.zone)]
            if not args.print_tickets:
                return orders[0]
        result: dict[str, Any] = {"orders": orders, "skipped": skipped, "refused": refused}
        if args.print_tickets and orders:
            result["printed"] = _print(app, orders)
        return result
    raise InvalidInput(_("Unknown action {action}.").format(action=action))  # pragma: no cover


def _print(app: Any, orders: list[dict[str, Any]]) -> dict[str, Any]:
    from plugins.tickets.faces import print_tickets
    from plugins.tickets.redemption import face_data

    tickets = [face_data(t, notice=_("Picked up with code {code}").format(code=o["redemption"]["code"]))
               for o in orders for t in o["tickets"]]
    return print_tickets(app, tickets)


__all__ = ["configure_distributor", "configure_redeem", "run"]
