"""The ``card`` and ``cardtype`` verbs (``venue-suite card topup 0001 --amount 100.00 --json``).

Amounts are typed in yuan with at most two decimals and converted to integer fen here
(never through floats); results are plain data the host prints as text or, with ``--json``,
as JSON (amounts in fen). The host checks ``wallet.view`` and logs ``--user`` in before
``run``; each use case checks its own permission again.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from suite.errors import InvalidInput
from suite.plugin_cli import date_argument as _date, verb_actor, yuan_argument, yuan_to_fen
from suite.i18n import N_, _

_amount = yuan_argument


def configure_card(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="card_action", metavar="ACTION")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("card_no", help=_("card number"))
        p.set_defaults(wallet_action=f"card.{name}")
        return p

    def keyed(p: argparse.ArgumentParser) -> None:
        p.add_argument("--key", help=_("idempotency key (default: a new one); repeat it to retry safely"))

    issue = action("issue", _("issue (sell and activate) a card"))
    issue.add_argument("--type", required=True, dest="type_code", help=_("card type code"))
    issue.add_argument("--uid", help=_("the chip's UID"))
    issue.add_argument("--holder", default="", help=_("holder's name"))
    issue.add_argument("--phone", default="", help=_("holder's phone"))
    issue.add_argument("--days", type=int, help=_("validity in days (default: the type's)"))
    keyed(issue)
    topup = action("topup", _("top up money (yuan) or counts"))
    topup.add_argument("--amount", type=_amount, default=0, help=_("amount paid, in yuan"))
    topup.add_argument("--counts", type=int, default=0, help=_("counts to add (count cards)"))
    keyed(topup)
    consume = action("consume", _("debit an amount (yuan, list price) or counts"))
    consume.add_argument("--amount", type=_amount, default=0, help=_("list price, in yuan"))
    consume.add_argument("--counts", type=int, default=0, help=_("counts to use (count cards)"))
    _sale_options(consume)
    keyed(consume)
    quote = action("quote", _("what a consume would charge and which wallet would pay, without paying"))
    quote.add_argument("--amount", type=_amount, default=0, help=_("list price, in yuan"))
    _sale_options(quote)
    action("query", _("balances, validity and status"))
    history = action("history", _("the card's history"))
    history.add_argument("--all", action="store_true", dest="all_holders", help=_("include earlier holders"))
    for name, help_text in (("block", _("report lost: blacklist the card")), ("unblock", _("lift the blacklisting"))):
        p = action(name, help_text)
        p.add_argument("--reason", default="", help=_("why"))
    renew = action("renew", _("extend the validity"))
    renew.add_argument("--days", type=int, help=_("days to add (default: the type's validity)"))
    refund = action("refund", _("return the card: refund main balance and deposit, forfeit the gift"))
    keyed(refund)
    action("recycle", _("take a returned card back for reissue (its history is kept)"))
    replace = action("replace", _("replace a lost card: a new card receives every balance"))
    replace.add_argument("--new", required=True, dest="new_card_no", help=_("the new card's number"))
    replace.add_argument("--new-uid", help=_("the new chip's UID"))
    keyed(replace)
    init = action("init", _("personalise the blank chip on the reader and register it (issue it with --holder)"))
    init.add_argument("--type", required=True, dest="type_code", help=_("card type code"))
    init.add_argument("--holder", help=_("holder's name: issue the card at once"))
    init.add_argument("--phone", default="", help=_("holder's phone"))
    init.add_argument("--days", type=int, help=_("validity in days (default: the type's)"))
    _reader_options(init)
    keyed(init)
    rebuild = action("rebuild", _("rebuild a card's balances from its chip after a database restore"))
    _reader_options(rebuild)
    rebuild.add_argument("--key", help=_("idempotency key (default: one made from the chip's state)"))
    sync = sub.add_parser("sync", help=_("read the card on the reader, check it and bring its purse up to date"))
    sync.set_defaults(wallet_action="card.sync", card_no=None)
    _reader_options(sync)
    offline = sub.add_parser("offline", help=_("this terminal's queue of offline payments: status, or drain (upload)"))
    offline.add_argument("offline_action", choices=("status", "drain"))
    offline.set_defaults(wallet_action="card.offline", card_no=None)


def _reader_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reader", help=_("the reader's device id in [devices] (default: the only reader)"))
    p.add_argument("--wait", type=float, default=5.0, help=_("seconds to wait for a card (default 5)"))


def _sale_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--category", default="general", help=_("item category (discount rules and gift scope)"))
    p.add_argument("--item", action="append", type=_item, dest="items", metavar="SKU:CATEGORY:PRICE[:QTY[:GRADE]]",
                   help=_("a sale line instead of --amount (repeatable), price in yuan"))
    p.add_argument("--redeem-points", type=int, default=0, help=_("points the customer redeems"))


def _item(text: str) -> dict[str, Any]:
    """``SKU:CATEGORY:PRICE[:QTY[:FILM_GRADE]]``, the price in yuan."""
    parts = text.split(":")
    if not 3 <= len(parts) <= 5 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError(_("{value!r} is not SKU:CATEGORY:PRICE[:QTY[:GRADE]].").format(value=text))
    item: dict[str, Any] = {"sku": parts[0], "category": parts[1], "unit_price": _amount(parts[2])}
    if len(parts) > 3:
        if not parts[3].isdigit() or int(parts[3]) < 1:
            raise argparse.ArgumentTypeError(_("{value!r}: the quantity must be a whole number of at least 1.").format(
                value=text))
        item["quantity"] = int(parts[3])
    if len(parts) > 4 and parts[4]:
        item["film_grade"] = parts[4]
    return item


# card type fields the add and edit actions set: (option, field, type, help)
_TYPE_OPTIONS: tuple[tuple[str, str, Any, str], ...] = (
    ("--name", "name", str, N_("display name")),
    ("--category", "category", str, N_("authorisation, operator, charge, stored_value or free")),
    ("--discount-bp", "discount_bp", int, N_("tier discount in basis points (1000 = 10%% off)")),
    ("--bonus-bp", "bonus_bp", int, N_("top-up bonus in basis points (1000 = +10%%)")),
    ("--validity-days", "validity_days", int, N_("default validity in days")),
    ("--deposit", "deposit", _amount, N_("card deposit, in yuan")),
    ("--points-per-yuan", "points_per_yuan", int, N_("points earned per yuan paid from main")),
    ("--min-count-topup", "min_count_topup", int, N_("smallest count top-up (10 for group tickets)")),
    ("--venues", "accepted_venues", str, N_("venue codes that accept it, comma-separated (empty: all)")),
    ("--merchants", "accepted_merchants", str, N_("merchant codes that accept it (empty: all)")),
    ("--terminal-groups", "accepted_terminal_groups", str, N_("terminal groups that accept it (empty: all)")),
    ("--gift-categories", "gift_categories", str, N_("item categories the gift wallet pays for")),
    ("--gift-merchants", "gift_merchants", str, N_("merchants the gift wallet pays at (both empty: everywhere)")),
    ("--pay-main-first", "pay_gift_first", None, N_("the main wallet pays before the gift wallet")),
    ("--redeem-points-per-unit", "redeem_points_per_unit", int, N_("points per redemption unit (0: no redemption)")),
    ("--redeem-value", "redeem_fen_per_unit", _amount, N_("what one redemption unit pays, in yuan")),
    ("--redeem-cap-bp", "redeem_cap_bp", int, N_("largest share of a sale points may pay, basis points")),
    ("--offline-cap", "offline_cap", int, N_("what one card may spend offline (fen; counts for count cards)")),
)


def _type_options(p: argparse.ArgumentParser, *, with_name: bool) -> None:
    for option, field, kind, help_text in _TYPE_OPTIONS:
        if option == "--name" and not with_name:
            continue
        if kind is None:
            p.add_argument(option, dest=field, action="store_const", const=False, default=None, help=_(help_text))
        else:
            p.add_argument(option, dest=field, type=kind, default=None, help=_(help_text))


def _type_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {field: getattr(args, field) for _o, field, _k, _h in _TYPE_OPTIONS
            if getattr(args, field, None) is not None}


def configure_cardtype(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cardtype_action", metavar="ACTION")
    add = sub.add_parser("add", help=_("add a card type or tier"))
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--kind", choices=("value", "count"), default="value")
    _type_options(add, with_name=False)
    add.set_defaults(wallet_action="cardtype.add")
    edit = sub.add_parser("edit", help=_("change a card type (not its code or kind)"))
    edit.add_argument("code")
    _type_options(edit, with_name=True)
    edit.add_argument("--enable", dest="active", action="store_const", const=True, help=_("sell it again"))
    edit.add_argument("--disable", dest="active", action="store_const", const=False, help=_("stop selling it"))
    edit.set_defaults(wallet_action="cardtype.edit")
    lst = sub.add_parser("list", help=_("list card types"))
    lst.set_defaults(wallet_action="cardtype.list")
    settle = sub.add_parser("settle-price", help=_("what the chain settles with a venue for this type"))
    settle.add_argument("code")
    settle.add_argument("venue")
    settle.add_argument("--unit-price", type=_amount, default=0, help=_("per count used, in yuan (count cards)"))
    settle.add_argument("--rate-bp", type=int, default=10000, help=_("share of money consumed, basis points"))
    settle.set_defaults(wallet_action="cardtype.settle")
    rule = sub.add_parser("rule", help=_("time-slot and film-grade discount rules"))
    rules = rule.add_subparsers(dest="rule_action", metavar="ACTION")
    radd = rules.add_parser("add", help=_("add a discount rule"))
    radd.add_argument("rule_id")
    radd.add_argument("--kind", choices=("time_slot", "film_grade"), required=True)
    radd.add_argument("--keep-bp", type=int, required=True, dest="multiplier_bp",
                      help=_("share of the price kept, 5000-9000 (8000 = 20%% off)"))
    radd.add_argument("--combinable", action="store_true")
    radd.add_argument("--start", default="", help=_("slot start, HH:MM"))
    radd.add_argument("--end", default="", help=_("slot end, HH:MM (before start: over midnight)"))
    radd.add_argument("--weekdays", default="", help=_("0 (Monday) to 6, comma-separated (empty: every day)"))
    radd.add_argument("--grades", default="", dest="film_grades", help=_("film grades, comma-separated"))
    radd.add_argument("--venues", default="")
    radd.add_argument("--categories", default="")
    radd.add_argument("--from", dest="valid_from", type=_date, help=_("first day, YYYY-MM-DD"))
    radd.add_argument("--until", dest="valid_until", type=_date, help=_("last day, YYYY-MM-DD"))
    radd.set_defaults(wallet_action="rule.add")
    for name, active in (("enable", True), ("disable", False)):
        p = rules.add_parser(name, help=_("switch a rule on") if active else _("switch a rule off"))
        p.add_argument("rule_id")
        p.set_defaults(wallet_action="rule.active", active=active)
    rules.add_parser("list", help=_("list discount rules")).set_defaults(wallet_action="rule.list")


_actor = verb_actor


def run(app: Any, args: argparse.Namespace) -> Any:
    from plugins.wallet.services import WalletService

    action = getattr(args, "wallet_action", None)
    if action is None:
        raise InvalidInput(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(verb=args.verb))
    service = WalletService.from_app(app)
    actor = _actor(app, args)
    key = getattr(args, "key", None) or uuid.uuid4().hex
    if action == "cardtype.add":
        fields = {k: v for k, v in _type_fields(args).items() if k != "name"}
        return service.create_card_type(actor, code=args.code, name=args.name, kind=args.kind, **fields)
    if action == "cardtype.edit":
        changes = _type_fields(args)
        if args.active is not None:
            changes["active"] = args.active
        return service.edit_card_type(actor, args.code, **changes)
    if action == "cardtype.list":
        return service.list_card_types(actor)
    if action == "cardtype.settle":
        return service.set_settlement_price(actor, args.code, args.venue, unit_price=args.unit_price,
                                            rate_bp=args.rate_bp)
    if action == "rule.add":
        return service.add_rule(actor, rule_id=args.rule_id, kind=args.kind, multiplier_bp=args.multiplier_bp,
                                combinable=args.combinable, valid_from=args.valid_from, valid_until=args.valid_until,
                                venues=args.venues, categories=args.categories, start=args.start, end=args.end,
                                weekdays=args.weekdays, film_grades=args.film_grades)
    if action == "rule.active":
        return service.set_rule_active(actor, args.rule_id, args.active)
    if action == "rule.list":
        return service.list_rules(actor)
    if action in _CHIP_ACTIONS:
        return _chip_action(app, args, actor, key)
    card_no = args.card_no
    if action == "card.issue":
        return service.issue(actor, card_no=card_no, type_code=args.type_code, key=key, uid=args.uid,
                             holder_name=args.holder, holder_phone=args.phone, validity_days=args.days)
    if action == "card.topup":
        return service.top_up(actor, card_no=card_no, key=key, amount=args.amount, counts=args.counts)
    if action == "card.consume":
        return service.consume(actor, card_no=card_no, key=key, amount=args.amount, counts=args.counts,
                               items=args.items, redeem_points=args.redeem_points, category=args.category)
    if action == "card.quote":
        return service.quote(actor, card_no=card_no, amount=args.amount, items=args.items,
                             redeem_points=args.redeem_points, category=args.category)
    if action == "card.query":
        return service.query(actor, card_no)
    if action == "card.history":
        return service.history(actor, card_no, all_holders=args.all_holders)
    if action == "card.block":
        return service.block(actor, card_no, reason=args.reason)
    if action == "card.unblock":
        return service.unblock(actor, card_no, reason=args.reason)
    if action == "card.renew":
        return service.renew(actor, card_no, days=args.days)
    if action == "card.replace":
        return service.replace(actor, card_no, new_card_no=args.new_card_no, key=key, new_uid=args.new_uid)
    if action == "card.recycle":
        return service.recycle(actor, card_no)
    if action == "card.refund":
        return service.refund(actor, card_no, key=key)
    raise InvalidInput(_("Unknown action {action}.").format(action=action))  # pragma: no cover


_CHIP_ACTIONS = ("card.init", "card.sync", "card.rebuild", "card.offline")


def _chip_action(app: Any, args: argparse.Namespace, actor: Any, key: str) -> Any:
    """The actions that need the chip on a reader (init, sync, rebuild) or the offline spool."""
    from plugins.wallet.offline import CardTerminal, OfflineSpool, drain
    from plugins.wallet.purse import PurseService
    from plugins.wallet.purse_reader import reader_card

    purse = PurseService.from_app(app)
    if args.wallet_action == "card.offline":
        with OfflineSpool.for_app(app) as spool:
            if args.offline_action == "drain":
                return drain(purse, spool, actor)
            return spool.status(purse.settings)
    with reader_card(app, args.reader, wait=args.wait) as card:
        if args.wallet_action == "card.init":
            return purse.init_card(actor, card, card_no=args.card_no, type_code=args.type_code,
                                   holder_name=args.holder, holder_phone=args.phone, validity_days=args.days, key=key)
        if args.wallet_action == "card.rebuild":
            return purse.rebuild_from_card(actor, args.card_no, purse.card_format.read(card), key=args.key)
        with OfflineSpool.for_app(app) as spool:
            return CardTerminal(purse, spool).sync_on_tap(actor, card)


__all__ = ["configure_card", "configure_cardtype", "run", "yuan_to_fen"]
