"""The box office's catalogue verbs: ``hall``, ``show``, ``session``, ``tickettype``, ``price``,
``offer``, ``package`` and ``combo`` (``venue-suite price set STD ADULT 50.00 --zone VIP``).

Amounts are typed in yuan with at most two decimals and converted to integer fen (never
through floats); results are plain data the host prints as text or, with ``--json``, as JSON
(amounts in fen). Times without a UTC offset are the venue's local time. The host checks the
verb's permission and logs ``--user`` in before ``run``; each use case checks its own
permission again (``tickets.setup`` to change, ``tickets.view`` to read).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from suite.errors import InvalidInput
from suite.plugin_cli import date_argument as _date, yuan_argument as _amount
from suite.i18n import _



def _moment(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("{value!r} is not a date and time (YYYY-MM-DD HH:MM).").format(value=value)) from exc


def _line(value: str) -> dict[str, Any]:
    """``CODE[:ZONE[:QTY]]`` -> a quote line."""
    parts = value.split(":")
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise argparse.ArgumentTypeError(_("{value!r} is not CODE[:ZONE[:QTY]].").format(value=value))
    line: dict[str, Any] = {"code": parts[0]}
    if len(parts) > 1 and parts[1]:
        line["zone"] = parts[1]
    if len(parts) > 2:
        if not parts[2].isdigit() or int(parts[2]) < 1:
            raise argparse.ArgumentTypeError(
                _("{value!r}: the quantity must be a whole number of at least 1.").format(value=value))
        line["quantity"] = int(parts[2])
    return line


def _actions(parser: argparse.ArgumentParser, dest: str) -> Any:
    return parser.add_subparsers(dest=dest, metavar="ACTION")


def _action(sub: Any, name: str, help_text: str, action: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text)
    p.set_defaults(tickets_action=action)
    return p


# --------------------------------------------------------------------------- configure


def configure_hall(parser: argparse.ArgumentParser) -> None:
    sub = _actions(parser, "hall_action")
    add = _action(sub, "add", _("add a hall, and with --rows and --columns its first seat map"), "hall.add")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--venue", help=_("venue code (default: this terminal's venue)"))
    add.add_argument("--rows", type=int, help=_("rows of the seat map's grid"))
    add.add_argument("--columns", type=int, help=_("columns of the seat map's grid"))
    add.add_argument("--map", default="Standard", dest="map_name", help=_("seat map name (default Standard)"))
    add.add_argument("--zone", default="STD", help=_("the seat map's zone code (default STD)"))
    add.add_argument("--row-style", choices=("numbers", "letters"), default="numbers")
    _action(sub, "list", _("list halls"), "hall.list")
    edit = _action(sub, "edit", _("rename a hall"), "hall.edit")
    edit.add_argument("code")
    edit.add_argument("--name")


def configure_show(parser: argparse.ArgumentParser) -> None:
    sub = _actions(parser, "show_action")
    add = _action(sub, "add", _("add a programme (film, play, concert...)"), "show.add")
    add.add_argument("code")
    add.add_argument("title")
    add.add_argument("--kind", default="film", help=_("film, play, concert, show or other"))
    add.add_argument("--grade", default="", help=_("grade or format (A, B, 3D, IMAX...)"))
    add.add_argument("--minutes", type=int, default=0, dest="duration_minutes", help=_("duration in minutes"))
    _action(sub, "list", _("list programmes"), "show.list")
    edit = _action(sub, "edit", _("change a programme"), "show.edit")
    edit.add_argument("code")
    edit.add_argument("--title")
    edit.add_argument("--kind")
    edit.add_argument("--grade")
    edit.add_argument("--minutes", type=int, dest="duration_minutes")


def configure_session(parser: argparse.ArgumentParser) -> None:
    sub = _actions(parser, "session_action")
    add = _action(sub, "add", _("add a session of a programme in a hall"), "session.add")
    add.add_argument("code")
    add.add_argument("--show", required=True, dest="programme", help=_("programme code"))
    add.add_argument("--hall", required=True, help=_("hall code"))
    add.add_argument("--map", default="Standard", dest="seat_map", help=_("seat map name (default Standard)"))
    add.add_argument("--plan", required=True, help=_("price plan code"))
    add.add_argument("--starts", required=True, type=_moment,
                     help=_("start, YYYY-MM-DD HH:MM (the venue's local time unless an offset is given)"))
    add.add_argument("--ends", type=_moment, help=_("end (default: the start plus the programme's duration)"))
    add.add_argument("--state", default="presale", help=_("presale, on_sale or stopped"))
    lst = _action(sub, "list", _("list sessions"), "session.list")
    lst.add_argument("--day", type=_date, help=_("only sessions starting that local day, YYYY-MM-DD"))
    edit = _action(sub, "edit", _("another price plan, or other times while nothing is sold"), "session.edit")
    edit.add_argument("code")
    edit.add_argument("--plan")
    edit.add_argument("--starts", type=_moment, help=_("start, YYYY-MM-DD HH:MM (the venue's local time unless an "
                                                       "offset is given)"))
    edit.add_argument("--ends", type=_moment)
    state = _action(sub, "state", _("set a session's sales state"), "session.state")
    state.add_argument("code")
    state.add_argument("state", help=_("presale, on_sale or stopped"))
    quote = _action(sub, "quote", _("what tickets for a session cost with the offers in force, without selling"),
                    "session.quote")
    quote.add_argument("code")
    quote.add_argument("--line", action="append", type=_line, dest="lines", default=[], metavar="TYPE[:ZONE[:QTY]]",
                       help=_("tickets of a ticket type (repeatable)"))
    quote.add_argument("--combo", action="append", type=_line, dest="combos", default=[],
                       metavar="COMBO[:ZONE[:QTY]]", help=_("combos (repeatable)"))
    quote.add_argument("--tier-bp", type=int, default=0, dest="tier_discount_bp",
                       help=_("member tier discount in basis points (1000 = 10%% off)"))


def configure_tickettype(parser: argparse.ArgumentParser) -> None:
    sub = _actions(parser, "tickettype_action")
    add = _action(sub, "add", _("add a ticket type"), "tickettype.add")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--category", default="adult",
                     help=_("adult, child, senior, student, group, distributor, staff or complimentary"))
    add.add_argument("--min-quantity", type=int, default=1, help=_("fewest tickets of this type in one order (groups)"))
    _action(sub, "list", _("list ticket types"), "tickettype.list")
    edit = _action(sub, "edit", _("change a ticket type"), "tickettype.edit")
    edit.add_argument("code")
    edit.add_argument("--name")
    edit.add_argument("--category")
    edit.add_argument("--min-quantity", type=int)
    edit.add_argument("--enable", dest="active", action="store_const", const=True, help=_("sell it again"))
    edit.add_argument("--disable", dest="active", action="store_const", const=False, help=_("stop selling it"))


def configure_price(parser: argparse.ArgumentParser) -> None:
    sub = _actions(parser, "price_action")
    plan = _action(sub, "plan", _("add a price plan"), "price.plan")
    plan.add_argument("code")
    plan.add_argument("name")
    set_ = _action(sub, "set", _("set the price of a ticket type in a plan, in yuan"), "price.set")
    set_.add_argument("plan")
    set_.add_argument("ticket_type")
    set_.add_argument("amount", type=_amount, help=_("price in yuan"))
    set_.add_argument("--zone", default="*", help=_("zone code (default *: every zone without its own price)"))
    lst = _action(sub, "list", _("list a plan's prices"), "price.list")
    lst.add_argument("plan")


def configure_offer(parser: argparse.ArgumentParser) -> None:
    sub = _actions(parser, "offer_action")
    add = _action(sub, "add", _("add an offer: time slot, film grade or buy N get M"), "offer.add")
    add.add_argument("code")
    add.add_argument("--kind", required=True, choices=("time_slot", "film_grade", "buy_n_get_m"))
    add.add_argument("--keep-bp", type=int, default=10000, dest="multiplier_bp",
                     help=_("share of the price kept, 5000-9000 (8000 = 20%% off)"))
    add.add_argument("--combinable", action="store_true", help=_("stacks with other combinable offers"))
    add.add_argument("--start", default="", help=_("slot start, HH:MM (the session's start time)"))
    add.add_argument("--end", default="", help=_("slot end, HH:MM (before start: over midnight)"))
    add.add_argument("--weekdays", default="", help=_("0 (Monday) to 6, comma-separated (empty: every day)"))
    add.add_argument("--grades", default="", help=_("programme grades, comma-separated"))
    add.add_argument("--types", default="", dest="ticket_types",
                     help=_("ticket type codes, comma-separated (empty: all)"))
    add.add_argument("--buy", type=int, default=0, dest="buy_n", help=_("N tickets bought..."))
    add.add_argument("--get", type=int, default=0, dest="get_m", help=_("...and M more free"))
    add.add_argument("--from", type=_date, dest="valid_from", help=_("first session day, YYYY-MM-DD"))
    add.add_argument("--until", type=_date, dest="valid_until", help=_("last session day, YYYY-MM-DD"))
    _action(sub, "list", _("list offers"), "offer.list")
    for name, help_text in (("enable", _("switch an offer on")), ("disable", _("switch an offer off"))):
        _action(sub, name, help_text, f"offer.{name}").add_argument("code")


def configure_package(parser: argparse.ArgumentParser) -> None:
    sub = _actions(parser, "package_action")
    add = _action(sub, "add", _("add a package granting several entries"), "package.add")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--price", type=_amount, required=True, help=_("price in yuan"))
    add.add_argument("--entries", type=int, required=True, help=_("admissions granted"))
    add.add_argument("--shows", default="", dest="programmes",
                     help=_("programme codes, comma-separated (empty: any)"))
    add.add_argument("--venues", default="", help=_("venue codes, comma-separated (empty: any)"))
    add.add_argument("--days", type=int, default=365, dest="valid_days", help=_("valid days from the sale"))
    _action(sub, "list", _("list packages"), "package.list")


def configure_combo(parser: argparse.ArgumentParser) -> None:
    sub = _actions(parser, "combo_action")
    add = _action(sub, "add", _("add a combo: a ticket and goods at one price"), "combo.add")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--type", required=True, dest="ticket_type", help=_("ticket type code"))
    add.add_argument("--price", type=_amount, required=True, help=_("price in yuan"))
    add.add_argument("--goods", default="", help=_("what the counter hands over"))
    add.add_argument("--goods-value", type=_amount, default=0, help=_("the goods' share of the price, in yuan"))
    _action(sub, "list", _("list combos"), "combo.list")


# --------------------------------------------------------------------------- run


def _actor(app: Any, args: argparse.Namespace) -> Any:
    from suite.identity.actor import Actor

    if getattr(args, "user", None):  # the host logged this user in before calling run
        return app.identity.actor_for(args.user, venue_id=app.venue_id, terminal_id=app.terminal_id)
    import getpass

    return Actor.system(f"console:{getpass.getuser()}", venue_id=app.venue_id, terminal_id=app.terminal_id)


def _local(moment: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone)


def run(app: Any, args: argparse.Namespace) -> Any:
    from plugins.tickets.offers import OffersService
    from plugins.tickets.setup import SetupService

    action = getattr(args, "tickets_action", None)
    if action is None:
        raise InvalidInput(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(verb=args.verb))
    actor = _actor(app, args)
    verb = action.partition(".")[0]
    if verb in ("offer", "package", "combo") or action == "session.quote":
        return _run_offers(OffersService.from_app(app), actor, action, args)
    setup = SetupService.from_app(app)
    if action == "hall.add":
        if (args.rows is None) != (args.columns is None):
            raise InvalidInput(_("Give both --rows and --columns, or neither."))
        hall = setup.add_hall(actor, code=args.code, name=args.name, venue_code=args.venue)
        if args.rows is not None or args.columns is not None:
            seat_map = setup.create_seat_map(actor, hall=args.code, name=args.map_name, rows=args.rows,
                                             columns=args.columns, zone=args.zone, row_style=args.row_style)
            hall["seat_map"] = {"name": seat_map["name"], "rows": seat_map["rows"], "columns": seat_map["columns"],
                                "seats": len(seat_map["seats"])}
        return hall
    if action == "hall.list":
        return setup.list_halls(actor)
    if action.endswith(".edit"):
        fields = {"hall.edit": ("name",), "show.edit": ("title", "kind", "grade", "duration_minutes"),
                  "tickettype.edit": ("name", "category", "min_quantity", "active")}[action]
        what = {"hall.edit": "hall", "show.edit": "programme", "tickettype.edit": "tickettype"}[action]
        return setup.edit(actor, what, args.code,
                          **{f: getattr(args, f) for f in fields if getattr(args, f, None) is not None})
    if action == "show.add":
        return setup.add_programme(actor, code=args.code, title=args.title, kind=args.kind, grade=args.grade,
                                   duration_minutes=args.duration_minutes)
    if action == "show.list":
        return setup.list_programmes(actor)
    if action == "session.add":
        zone = setup.settings.zone
        return setup.add_session(actor, code=args.code, programme=args.programme, hall=args.hall,
                                 seat_map=args.seat_map, plan=args.plan, starts_at=_local(args.starts, zone),
                                 ends_at=_local(args.ends, zone), state=args.state)
    if action == "session.list":
        return setup.list_sessions(actor, day=args.day)
    if action == "session.edit":
        zone = setup.settings.zone
        return setup.edit_session(actor, args.code, plan=args.plan, starts_at=_local(args.starts, zone),
                                  ends_at=_local(args.ends, zone))
    if action == "session.state":
        return setup.set_session_state(actor, args.code, args.state)
    if action == "tickettype.add":
        return setup.add_ticket_type(actor, code=args.code, name=args.name, category=args.category,
                                     min_quantity=args.min_quantity)
    if action == "tickettype.list":
        return setup.list_ticket_types(actor)
    if action == "price.plan":
        return setup.add_price_plan(actor, code=args.code, name=args.name)
    if action == "price.set":
        return setup.set_price(actor, plan=args.plan, ticket_type=args.ticket_type, price=args.amount, zone=args.zone)
    if action == "price.list":
        return setup.prices(actor, plan=args.plan)
    raise InvalidInput(_("Unknown action {action}.").format(action=action))  # pragma: no cover


def _run_offers(service: Any, actor: Any, action: str, args: argparse.Namespace) -> Any:
    if action == "session.quote":
        lines = [{"ticket_type": line.pop("code"), **line} for line in args.lines]
        lines += [{"combo": line.pop("code"), **line} for line in args.combos]
        return service.quote(actor, args.code, lines, tier_discount_bp=args.tier_discount_bp)
    if action == "offer.add":
        return service.add_offer(actor, code=args.code, kind=args.kind, multiplier_bp=args.multiplier_bp,
                                 combinable=args.combinable, start=args.start, end=args.end, weekdays=args.weekdays,
                                 grades=args.grades, ticket_types=args.ticket_types, buy_n=args.buy_n,
                                 get_m=args.get_m, valid_from=args.valid_from, valid_until=args.valid_until)
    if action == "offer.list":
        return service.list_offers(actor)
    if action == "offer.enable":
        return service.enable_offer(actor, args.code)
    if action == "offer.disable":
        return service.disable_offer(actor, args.code)
    if action == "package.add":
        return service.add_package(actor, code=args.code, name=args.name, price=args.price, entries=args.entries,
                                   programmes=args.programmes, venues=args.venues, valid_days=args.valid_days)
    if action == "package.list":
        return service.list_packages(actor)
    if action == "combo.add":
        return service.add_combo(actor, code=args.code, name=args.name, ticket_type=args.ticket_type,
                                 price=args.price, goods=args.goods, goods_value=args.goods_value)
    if action == "combo.list":
        return service.list_combos(actor)
    raise InvalidInput(_("Unknown action {action}.").format(action=action))  # pragma: no cover


__all__ = ["configure_combo", "configure_hall", "configure_offer", "configure_package", "configure_price",
           "configure_session", "configure_show", "configure_tickettype", "run"]
