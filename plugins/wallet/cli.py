"""The ``card`` and ``cardtype`` verbs (``venue-suite card topup 0001 --amount 100.00 --json``).

Amounts are typed in yuan with at most two decimals and converted to integer fen here
(never through floats); results are plain data the host prints as text or, with ``--json``,
as JSON (amounts in fen). The host checks ``wallet.view`` and logs ``--user`` in before
``run``; each use case checks its own permission again.
"""

from __future__ import annotations

import argparse
import re
import uuid
from typing import Any

from suite.errors import InvalidInput
from suite.i18n import _

_YUAN = re.compile(r"^(\d{1,10})(?:\.(\d{1,2}))?$")


def yuan_to_fen(text: str) -> int:
    """``"100"``, ``"100.5"``, ``"100.05"`` -> 10000, 10050, 10005 (no floats)."""
    match = _YUAN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(_("{value!r} is not an amount in yuan (like 100 or 99.50).").format(value=text))
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(cents)


def _amount(value: str) -> int:
    try:
        return yuan_to_fen(value)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


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
    keyed(consume)
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


def configure_cardtype(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cardtype_action", metavar="ACTION")
    add = sub.add_parser("add", help=_("add a card type or tier"))
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--kind", choices=("value", "count"), default="value")
    add.add_argument("--category", choices=("authorisation", "operator", "charge", "stored_value", "free"),
                     default="stored_value")
    add.add_argument("--discount-bp", type=int, default=0, help=_("tier discount in basis points (1000 = 10%% off)"))
    add.add_argument("--bonus-bp", type=int, default=0, help=_("top-up bonus in basis points (1000 = +10%%)"))
    add.add_argument("--validity-days", type=int, default=365)
    add.add_argument("--deposit", type=_amount, default=0, help=_("card deposit, in yuan"))
    add.add_argument("--points-per-yuan", type=int, default=0)
    add.add_argument("--min-count-topup", type=int, default=1)
    add.add_argument("--venues", default="", help=_("venue codes that accept it, comma-separated (default: all)"))
    add.set_defaults(wallet_action="cardtype.add")
    lst = sub.add_parser("list", help=_("list card types"))
    lst.set_defaults(wallet_action="cardtype.list")


def _actor(app: Any, args: argparse.Namespace) -> Any:
    from suite.identity.actor import Actor

    if getattr(args, "user", None):  # the host logged this user in before calling run
        return app.identity.actor_for(args.user, venue_id=app.venue_id, terminal_id=app.terminal_id)
    import getpass

    return Actor.system(f"console:{getpass.getuser()}", venue_id=app.venue_id, terminal_id=app.terminal_id)


def run(app: Any, args: argparse.Namespace) -> Any:
    from plugins.wallet.services import WalletService

    action = getattr(args, "wallet_action", None)
    if action is None:
        raise InvalidInput(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(verb=args.verb))
    service = WalletService.from_app(app)
    actor = _actor(app, args)
    key = getattr(args, "key", None) or uuid.uuid4().hex
    if action == "cardtype.add":
        return service.create_card_type(
            actor, code=args.code, name=args.name, kind=args.kind, category=args.category,
            discount_bp=args.discount_bp, bonus_bp=args.bonus_bp, validity_days=args.validity_days,
            deposit=args.deposit, points_per_yuan=args.points_per_yuan, min_count_topup=args.min_count_topup,
            accepted_venues=args.venues)
    if action == "cardtype.list":
        return service.list_card_types(actor)
    card_no = args.card_no
    if action == "card.issue":
        return service.issue(actor, card_no=card_no, type_code=args.type_code, key=key, uid=args.uid,
                             holder_name=args.holder, holder_phone=args.phone, validity_days=args.days)
    if action == "card.topup":
        return service.top_up(actor, card_no=card_no, key=key, amount=args.amount, counts=args.counts)
    if action == "card.consume":
        return service.consume(actor, card_no=card_no, key=key, amount=args.amount, counts=args.counts)
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
