"""The ``checkin`` verb: set up lists, channels and plain codes, scan at a gate, record
passages, open by hand and read the counts (``venue-suite checkin scan --channel L1 CODE``).

Option values are taken as text and checked here or in the services, so every mistake comes
back as a translated ``SuiteError`` (exit 1, a JSON error with ``--json``). A refused scan is
``EntryRefused``: exit 3, its JSON the whole decision. Results are plain data, printed as
text or, with ``--json``, as JSON. See docs/checkin-cli.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from suite.errors import InvalidInput, SuiteError
from suite.i18n import N_, _
from suite.inputs import whole
from suite.plugin_cli import verb_actor

_WHOLE = re.compile(r"^[+-]?\d{1,9}$")
_NO_COUNTS = {"in": 0, "out": 0, "inside": 0, "refused": 0, "scans": 0}


class Option(NamedTuple):
    """A setting's option; ``kind``: "text", "number" (a whole number) or "flag" (``--x``/``--no-x``)."""

    name: str
    field: str
    kind: str
    metavar: str
    help: str


_LIST_OPTIONS: tuple[Option, ...] = (
    Option("--name", "name", "text", "NAME", N_("display name")),
    Option("--venue", "venue_code", "text", "VENUE", N_("venue code (default: this terminal's venue)")),
    Option("--ticket-types", "ticket_types", "text", "TYPES",
           N_("ticket type codes admitted, comma-separated ('*': any, '': none; default '*')")),
    Option("--halls", "halls", "text", "HALLS", N_("hall codes whose tickets are admitted ('*': any; default '*')")),
    Option("--sessions", "sessions", "text", "SESSIONS",
           N_("session codes whose tickets are admitted ('*': any; default '*')")),
    Option("--card-types", "card_types", "text", "TYPES", N_("card type codes admitted ('*': any; default '': none)")),
    Option("--plain-codes", "plain_codes", "flag", "", N_("plain codes are admitted (default on)")),
    Option("--staff", "staff", "flag", "", N_("staff cards are admitted (default off)")),
    Option("--opens-before", "opens_before_min", "number", "MIN",
           N_("minutes before a session starts that its tickets admit (default 30)")),
    Option("--closes-after", "closes_after_min", "number", "MIN",
           N_("minutes after a session ends that its tickets still admit (default 0)")),
    Option("--daily-open", "daily_open", "text", "HH:MM", N_("opening time for cards and codes ('': none)")),
    Option("--daily-close", "daily_close", "text", "HH:MM", N_("closing time for cards and codes ('': none)")),
    Option("--entries", "entries", "text", "MODE", N_("how often a credential enters: single, multiple or per_day")),
    Option("--per-day", "per_day", "number", "N", N_("entries per person and day, with --entries per_day")),
    Option("--exit-tracking", "exit_tracking", "flag", "",
           N_("count people going out, so the list knows who is inside")),
    Option("--anti-passback", "anti_passback", "flag", "",
           N_("refuse a credential already inside (needs exit tracking)")),
    Option("--reentry", "reentry", "flag", "", N_("a person who went out may enter again (needs exit tracking)")),
)
_CHANNEL_OPTIONS: tuple[Option, ...] = (
    Option("--name", "name", "text", "NAME", N_("display name")),
    Option("--list", "list_code", "text", "LIST", N_("the check-in list the channel belongs to")),
    Option("--gate", "gate", "text", "DEVICE_ID", N_("the turnstile's device id in [devices] ('': a hand scanner)")),
    Option("--direction", "direction", "text", "in|out", N_("in or out (default in)")),
    Option("--side", "side", "text", "A|B", N_("the turnstile side it opens: A or B (default A)")),
    Option("--staff", "staff", "flag", "", N_("staff cards only (default off)")),
)
_ACTIVE = Option("--active", "active", "flag", "", N_("in use; --no-active switches it off"))


class EntryRefused(SuiteError):
    """A scan the rules refused; ``--json`` prints the whole decision."""

    code = "entry_refused"
    exit_code = 3

    def __init__(self, decision: dict[str, Any]) -> None:
        template = _("Refused: {message} ({reason}): {label}") if decision.get("label") else \
            _("Refused: {message} ({reason})")
        super().__init__(template.format(message=decision["message"], reason=decision["reason"],
                                         label=decision.get("label")))
        self.decision = decision

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code, **self.decision}


# --------------------------------------------------------------------------- configure


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="checkin_group", metavar="ACTION")
    _configure_lists(_group(sub, "list", _("check-in lists (entrances, areas): add, edit, show, list")))
    _configure_channels(_group(sub, "channel", _("gate lanes and hand scanners under a list: add, edit, list")))
    _configure_codes(_group(sub, "code", _("plain codes (vouchers, guest lists): add, block, unblock, list")))

    scan = _action(sub, "scan", _("decide a scanned code at a channel (exit 3 when refused)"), "scan")
    scan.add_argument("code", help=_("the scanned code: a ticket code, a card number or chip UID, a plain code"))
    scan.add_argument("--channel", required=True, help=_("the channel's code"))
    scan.add_argument("--commit", action="store_true",
                      help=_("record at once that every authorised person passed (a hand scanner, no turnstile)"))
    scan.add_argument("--nonce", help=_("the scan's id (default: a new one); repeat it to retry safely"))
    passed = _action(sub, "pass", _("one authorised person went through"), "pass")
    passed.add_argument("nonce", help=_("the check-in's nonce, from scan or open"))
    close = _action(sub, "close", _("nobody else passes on this check-in: unused places are given back"), "close")
    close.add_argument("nonce", help=_("the check-in's nonce, from scan or open"))
    opened = _action(sub, "open", _("let people through by hand, with a reason (audited)"), "open")
    opened.add_argument("--channel", required=True, help=_("the channel's code"))
    opened.add_argument("--reason", required=True, help=_("why the gate is opened by hand"))
    opened.add_argument("--persons", default="1", metavar="N", help=_("people let through (default 1)"))
    _action(sub, "counts", _("today's people in, out and inside per list and channel"), "counts")
    recent = _action(sub, "recent", _("the latest scans and their decisions"), "recent")
    recent.add_argument("--channel", help=_("only this channel"))
    recent.add_argument("--limit", default="20", metavar="N", help=_("how many (default 20)"))
    _action(sub, "conflicts", _("admissions by offline gates that the central rules would have refused"),
            "conflicts")


def _group(sub: Any, name: str, help_text: str) -> Any:
    return sub.add_parser(name, help=help_text).add_subparsers(dest=f"checkin_{name}_action", metavar="ACTION")


def _action(sub: Any, name: str, help_text: str, action: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text)
    parser.set_defaults(checkin_action=action)
    return parser


def _without(options: tuple[Option, ...], *names: str) -> tuple[Option, ...]:
    return tuple(option for option in options if option.name not in names)


def _options(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    for option in options:
        if option.kind == "flag":
            parser.add_argument(option.name, dest=option.field, action=argparse.BooleanOptionalAction, default=None,
                                help=_(option.help))
        else:
            parser.add_argument(option.name, dest=option.field, metavar=option.metavar, default=None,
                                help=_(option.help))


def _configure_lists(sub: Any) -> None:
    add = _action(sub, "add", _("add a check-in list"), "list.add")
    add.add_argument("code", help=_("the list's code"))
    add.add_argument("--name", required=True, help=_("display name"))
    _options(add, _without(_LIST_OPTIONS, "--name"))
    edit = _action(sub, "edit", _("change a check-in list (only the options given)"), "list.edit")
    edit.add_argument("code", help=_("the list's code"))
    _options(edit, (*_LIST_OPTIONS, _ACTIVE))
    show = _action(sub, "show", _("a list with its channels and today's counts"), "list.show")
    show.add_argument("code", help=_("the list's code"))
    _action(sub, "list", _("every check-in list"), "list.list")


def _configure_channels(sub: Any) -> None:
    add = _action(sub, "add", _("add a channel to a list"), "channel.add")
    add.add_argument("code", help=_("the channel's code"))
    add.add_argument("--name", required=True, help=_("display name"))
    add.add_argument("--list", required=True, dest="list_code", metavar="LIST",
                     help=_("the check-in list the channel belongs to"))
    _options(add, _without(_CHANNEL_OPTIONS, "--name", "--list"))
    edit = _action(sub, "edit", _("change a channel (only the options given)"), "channel.edit")
    edit.add_argument("code", help=_("the channel's code"))
    _options(edit, (*_CHANNEL_OPTIONS, _ACTIVE))
    _action(sub, "list", _("every channel"), "channel.list")


def _configure_codes(sub: Any) -> None:
    add = _action(sub, "add", _("add a plain code"), "code.add")
    add.add_argument("code", help=_("the code as printed or scanned"))
    add.add_argument("--lists", default="*", help=_("list codes it is good for, comma-separated (default '*': all)"))
    add.add_argument("--admits", default="1", metavar="N", help=_("people one code admits (default 1)"))
    add.add_argument("--valid-from", metavar="ISO",
                     help=_("first moment it admits, YYYY-MM-DDTHH:MM (venue time without an offset)"))
    add.add_argument("--valid-until", metavar="ISO",
                     help=_("last moment it admits, YYYY-MM-DDTHH:MM (venue time without an offset)"))
    add.add_argument("--note", default="", help=_("a note (who it is for)"))
    for name, help_text in (("block", _("blacklist a plain code")), ("unblock", _("make a blocked code valid again"))):
        state = _action(sub, name, help_text, f"code.{name}")
        state.add_argument("code", help=_("the code as printed or scanned"))
        state.add_argument("--reason", default="", help=_("why (kept in the audit log)"))
    _action(sub, "list", _("every plain code"), "code.list")


# --------------------------------------------------------------------------- values


def whole_number(value: str, option: str) -> int:
    """A whole number typed on the command line, or ``InvalidInput`` naming the option."""
    if not _WHOLE.match(value.strip()):
        raise InvalidInput(_("{option} must be a whole number, not {value!r}.").format(option=option, value=value))
    return int(value)


def moment(value: str | None, option: str, zone: ZoneInfo) -> dt.datetime | None:
    """An ISO date and time, in UTC; without a UTC offset it is the venue's local time."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(_("{option} must be a date and time like 2026-12-31T18:00, not {value!r}.").format(
            option=option, value=value)) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(dt.timezone.utc)


def given(args: argparse.Namespace, options: tuple[Option, ...]) -> dict[str, Any]:
    """The fields whose options were given, numbers converted."""
    values: dict[str, Any] = {}
    for option in options:
        value = getattr(args, option.field, None)
        if value is not None:
            values[option.field] = whole_number(value, option.name) if option.kind == "number" else value
    return values


# --------------------------------------------------------------------------- run


def run(app: Any, args: argparse.Namespace) -> Any:
    action = getattr(args, "checkin_action", None)
    if action is None:
        raise InvalidInput(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(verb=args.verb))
    actor = verb_actor(app, args)
    group = action.partition(".")[0]
    if group in ("list", "channel", "code"):
        return _setup(app, args, actor, action)
    return _gate(app, args, actor, action)


def _setup(app: Any, args: argparse.Namespace, actor: Any, action: str) -> Any:
    from plugins.checkin.settings import settings_of
    from plugins.checkin.setup import SetupService

    setup = SetupService.from_app(app)
    if action == "list.add":
        return setup.add_list(actor, code=args.code, name=args.name,
                              **given(args, _without(_LIST_OPTIONS, "--name")))
    if action == "list.edit":
        return setup.edit_list(actor, args.code, **given(args, (*_LIST_OPTIONS, _ACTIVE)))
    if action == "list.show":
        return _show_list(app, actor, setup.show_list(actor, args.code))
    if action == "list.list":
        return setup.lists(actor)
    if action == "channel.add":
        return setup.add_channel(actor, code=args.code, name=args.name, list_code=args.list_code,
                                 **given(args, _without(_CHANNEL_OPTIONS, "--name", "--list")))
    if action == "channel.edit":
        return setup.edit_channel(actor, args.code, **given(args, (*_CHANNEL_OPTIONS, _ACTIVE)))
    if action == "channel.list":
        return setup.channels(actor)
    if action == "code.add":
        zone = settings_of(app).zone
        return setup.add_code(actor, code=args.code, lists=args.lists, admits=whole_number(args.admits, "--admits"),
                              valid_from=moment(args.valid_from, "--valid-from", zone),
                              valid_until=moment(args.valid_until, "--valid-until", zone), note=args.note)
    if action in ("code.block", "code.unblock"):
        state = "blocked" if action == "code.block" else "valid"
        return setup.set_code_state(actor, args.code, state, reason=args.reason)
    return setup.codes(actor)


def _show_list(app: Any, actor: Any, shown: dict[str, Any]) -> dict[str, Any]:
    from plugins.checkin.service import CheckinService

    counts = CheckinService.from_app(app).counts(actor)
    return {**shown, "today": counts["lists"].get(shown["code"], dict(_NO_COUNTS)),
            "channels": [{**channel, **counts["channels"].get(channel["code"], _NO_COUNTS)}
                         for channel in shown["channels"]]}


def _gate(app: Any, args: argparse.Namespace, actor: Any, action: str) -> Any:
    from plugins.checkin.service import CheckinService

    service = CheckinService.from_app(app)
    if action == "scan":
        return _scan(service, actor, args)
    if action == "pass":
        return service.passage(actor, nonce=args.nonce)
    if action == "close":
        return service.close(actor, nonce=args.nonce)
    if action == "open":
        return service.manual_open(actor, channel=args.channel, reason=args.reason,
                                   persons=whole_number(args.persons, "--persons"))
    if action == "counts":
        return count_rows(service.counts(actor))
    if action == "recent":
        limit = whole(whole_number(args.limit, "--limit"), "--limit", minimum=1, maximum=1000)
        return service.recent(actor, channel=args.channel, limit=limit)
    return service.conflicts(actor)


def _scan(service: Any, actor: Any, args: argparse.Namespace) -> dict[str, Any]:
    decision = service.scan(actor, channel=args.channel, code=args.code, nonce=args.nonce)
    if not decision["ok"]:
        raise EntryRefused(decision)
    if args.commit and decision["state"] == "pending" and not decision["repeat"]:
        for index in range(decision["passed"] + 1, decision["persons"] + 1):
            decision = {**decision, **service.passage(actor, nonce=decision["nonce"], index=index)}
    return decision


def count_rows(counts: dict[str, Any]) -> dict[str, Any]:
    """The service's counts keyed by code, as rows (a table in text, a list in JSON)."""
    return {"since": counts["since"],
            "lists": [{"list": code, **values} for code, values in sorted(counts["lists"].items())],
            "channels": [{"channel": code, **values} for code, values in sorted(counts["channels"].items())]}


__all__ = ["EntryRefused", "configure", "count_rows", "given", "moment", "run", "whole_number"]
