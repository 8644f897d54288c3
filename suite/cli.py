"""The ``venue-suite`` command.

Host verbs live in ``suite.commands`` (imported only when used, so ``--help`` is quick);
plugins add theirs through ``CliCommand`` declarations. Every data command takes ``--json``.
Exit codes: 0 ok, 1 a refusal the user can fix (wrong input, not permitted, not licensed),
2 the suite cannot run (bad configuration, database unreachable, keyring missing).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from suite.i18n import _, set_language

# verb -> (module in suite.commands, help). The module has ``configure(parser)``; each of
# its subcommands sets ``func`` (and ``needs_app``) through ``parser.set_defaults``.
HOST_VERBS: dict[str, tuple[str, str]] = {
    "init": ("init", "create the database, the first administrator, venue and terminal"),
    "db": ("db", "database schema: upgrade, current revision"),
    "user": ("users", "users: add, list, password, disable, roles, operator card"),
    "role": ("roles", "roles and their permissions"),
    "venue": ("places", "venues of the chain"),
    "terminal": ("places", "terminals of a venue"),
    "plugins": ("plugins", "list, enable and disable plugins"),
    "license": ("licence", "licences: keygen, issue (vendor); install, show (administrator)"),
    "ledger": ("ledger", "the money journal: check, accounts, entries"),
    "audit": ("audit", "the tamper-evident operation and security log"),
    "backup": ("backup", "back up the database"),
    "restore": ("backup", "restore the database from a backup"),
    "secret": ("secrets", "store secrets (database password, keys) in the OS keyring"),
    "demo": ("demo", "fill the database with demo data"),
    "report": ("reports", "reports: list, run with parameters, export to xlsx or CSV"),
    "gui": ("gui", "open the desktop suite"),
    "lab": ("lab", "the virtual device lab: pcscd with virtual readers and cards"),
    "printer": ("printer", "receipt and ticket printers: test print, reprint queue, virtual printer"),
    "gate": ("gate", "turnstiles: simulate, open, status, release, run, emergency on/off/status"),
}


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _load_cached_plugin_verbs() -> list[dict[str, str]]:
    try:
        from suite.bootstrap import cli_cache_path
        from suite.config import load_settings

        return json.loads(cli_cache_path(load_settings()).read_text())
    except Exception:  # noqa: BLE001 - help must work whatever state the suite is in
        return []


def build_parser(plugin_verbs: Sequence[Any] = (), *, full: bool = True, only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="venue-suite",
        description=_("Venue Suite: tickets, cards, gates and rentals for venue chains."),
    )
    parser.add_argument("--config", help=_("site configuration file (default: $VENUE_SUITE_CONFIG)"))
    parser.add_argument("--json", action="store_true", help=_("print results as JSON"))
    parser.add_argument("--lang", choices=["zh_CN", "en"], help=_("language of messages"))
    parser.add_argument("--user", help=_("act as this operator (password from $VENUE_SUITE_PASSWORD or a prompt); "
                                         "without it the local console acts as system administrator"))
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    seen: set[str] = set()
    for verb, (module, help_text) in HOST_VERBS.items():
        verb_parser = sub.add_parser(verb, help=_(help_text))
        if full and (only is None or only == verb):
            importlib.import_module(f"suite.commands.{module}").configure(verb, verb_parser)
        seen.add(verb)
    for command in plugin_verbs:
        name = command["name"] if isinstance(command, dict) else command.name
        help_text = command["help"] if isinstance(command, dict) else command.help
        if name in seen:
            continue
        verb_parser = sub.add_parser(name, help=help_text)
        if not isinstance(command, dict):
            _resolve(command.configure)(verb_parser)
            verb_parser.set_defaults(plugin_command=command)
        seen.add(name)
    return parser


def _resolve(reference: str) -> Callable[..., Any]:
    module, _sep, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def emit(result: Any, as_json: bool) -> None:
    if result is None:
        return
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    from suite.commands.output import render_text

    print(render_text(result))


def _quick_help(argv: Sequence[str]) -> bool:
    return not argv or argv[0] in ("-h", "--help")


def _find_verb(args_list: list[str]) -> str | None:
    """The first word that is not an option or an option's value."""
    takes_value = {"--config", "--lang", "--user"}
    skip = False
    for word in args_list:
        if skip:
            skip = False
        elif word in takes_value:
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    set_language(os.environ.get("VENUE_SUITE_LANG", "en"))
    if "--lang" in args_list[:-1]:
        set_language(args_list[args_list.index("--lang") + 1])
    if _quick_help(args_list):
        build_parser(_load_cached_plugin_verbs(), full=False).print_help()
        return 0
    verb = _find_verb(args_list)
    as_json = "--json" in args_list
    try:
        if verb in HOST_VERBS:
            parser = build_parser(only=verb)  # host verbs configure only themselves
        else:
            parser = build_parser(_plugin_verbs(args_list, verb))
        args = parser.parse_args(args_list)
        if not args.verb:
            parser.print_help()
            return 2
        return _run(args)
    except KeyboardInterrupt:
        print(_("Interrupted."), file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        return _report_error(exc, as_json)


def _plugin_verbs(args_list: list[str], verb: str | None) -> list[Any]:
    """The active plugins' commands; a verb of a plugin that is installed but not usable
    (unlicensed, disabled, failed) is refused with the reason instead of 'invalid choice'."""
    from suite.errors import DatabaseUnavailable, SecretMissing

    try:
        from suite.commands.context import open_app

        with open_app(_config_from(args_list), start_plugins=True) as app:
            commands = list(app.plugins.cli_commands())
            if verb and verb not in {c.name for c in commands}:
                for info in app.plugins.plugins():
                    if info.manifest and verb in {c.name for c in info.manifest.cli_commands}:
                        from suite.licensing.service import Purpose

                        app.plugins.require_active(info.id, Purpose.SALE)
            return commands
    except (DatabaseUnavailable, SecretMissing):
        return _load_cached_plugin_verbs()  # running the verb reports the error properly


def _config_from(args_list: list[str]) -> str | None:
    if "--config" in args_list[:-1]:
        return args_list[args_list.index("--config") + 1]
    return None


def _run(args: argparse.Namespace) -> int:
    from suite.commands.context import CommandContext

    context = CommandContext(args)
    try:
        if getattr(args, "plugin_command", None) is not None:
            command = args.plugin_command
            app = context.app()
            owner = app.plugins.owner_of_command(command.name)
            from suite.licensing.service import Purpose

            app.plugins.require_active(owner, Purpose.SALE)
            if command.permission:
                app.identity.require(context.actor(), command.permission)
            result = _resolve(command.run)(app, args)
        else:
            func = getattr(args, "func", None)
            if func is None:
                raise CliError(_("Missing subcommand: see 'venue-suite {verb} --help'.").format(verb=args.verb), 2)
            result = func(context, args)
        emit(result, args.json)
        return 0
    finally:
        context.close()


def _report_error(exc: Exception, as_json: bool) -> int:
    from suite.errors import SuiteError

    if isinstance(exc, SuiteError):
        message, code, payload = exc.message, exc.exit_code, exc.as_dict()
    elif isinstance(exc, CliError):
        message, code, payload = str(exc), exc.exit_code, {"error": "usage", "message": str(exc)}
    else:
        raise exc
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    print(_("Error: {message}").format(message=message), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
