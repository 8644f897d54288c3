"""venue-suite lab [--dir DIR] start|stop|status ; venue-suite lab card insert|remove|dump|clone|restore|...

The virtual card lab (``devices.lab``): pcscd with virtual ACR122U readers and emulated cards.
The lab folder is ``--dir``, else ``$VENUE_SUITE_LAB_DIR``, else ``<data_dir>/lab``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
from pathlib import Path
from typing import Any

from suite.i18n import _

ENV_DIR = "VENUE_SUITE_LAB_DIR"
BINARY_SUFFIXES = (".bin", ".mfd", ".dump")


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", help=_("lab folder (default: $VENUE_SUITE_LAB_DIR or <data_dir>/lab)"))
    sub = parser.add_subparsers(dest="lab_command", metavar="COMMAND")
    start = sub.add_parser("start", help=_("start pcscd with the virtual readers (unless running) and the lab daemon"))
    mode = start.add_mutually_exclusive_group()
    mode.add_argument("--isolated", action="store_true",
                      help=_("run a private pcscd beside the system's (clients need PCSCLITE_CSOCK_NAME)"))
    mode.add_argument("--system", action="store_true", help=_("start pcscd on the system socket; fail if one runs"))
    start.add_argument("--port", type=int, help=_("first vpcd TCP port (default 35963)"))
    start.add_argument("--readers", type=int, help=_("number of virtual readers (default 2)"))
    start.set_defaults(func=run_start)
    sub.add_parser("stop", help=_("stop the lab daemon and the pcscd it started")).set_defaults(func=run_stop)
    sub.add_parser("status", help=_("pcscd, readers and the cards on them")).set_defaults(func=run_status)
    card = sub.add_parser("card", help=_("virtual cards: insert, remove, dump, clone, restore"))
    _configure_card(card)


def _configure_card(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="card_command", metavar="ACTION")
    insert = sub.add_parser("insert", help=_("put a card on a reader (a new blank card for an unknown UID)"))
    which = insert.add_mutually_exclusive_group(required=True)
    which.add_argument("--uid", help=_("card UID in hex, 4 or 7 bytes (e.g. 04A1B2C3)"))
    which.add_argument("--name", help=_("a stored card, e.g. a clone"))
    insert.add_argument("--kind", choices=["mifare", "cpu"], default="mifare", help=_("card kind for a new card"))
    insert.add_argument("--magic", action="store_true", help=_("a new card whose block 0 is writable"))
    insert.add_argument("--reader", type=int, default=0, help=_("virtual reader number (default 0)"))
    insert.set_defaults(func=run_insert)
    remove = sub.add_parser("remove", help=_("take the card off a reader"))
    remove.add_argument("--reader", type=int, default=0)
    remove.set_defaults(func=run_remove)
    dump = sub.add_parser("dump", help=_("every block of a card, keys included"))
    _card_choice(dump)
    dump.add_argument("--out", help=_("write to FILE: JSON, or the 1024-byte image for .bin/.mfd/.dump"))
    dump.add_argument("--format", choices=["json", "bin"], help=_("file format (default: from the file name)"))
    dump.set_defaults(func=run_dump)
    clone = sub.add_parser("clone", help=_("copy a card onto another UID, or fully onto a magic card"))
    _card_choice(clone)
    target = clone.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-uid", help=_("UID of the genuine blank card receiving the data sectors"))
    target.add_argument("--magic", action="store_true", help=_("full copy with block 0 (same UID)"))
    clone.add_argument("--as", dest="new_name", help=_("name of the clone (default: its UID, or <name>.magic)"))
    clone.add_argument("--insert", type=int, metavar="READER", help=_("put the clone on this reader"))
    clone.set_defaults(func=run_clone)
    restore = sub.add_parser("restore", help=_("write an old dump back onto a card (rollback)"))
    restore.add_argument("file", help=_("a dump made by 'lab card dump --out'"))
    _card_choice(restore)
    restore.set_defaults(func=run_restore)
    tear = sub.add_parser("tear", help=_("pull the card during a coming write (torn-write tests)"))
    tear.add_argument("--reader", type=int, default=0)
    tear.add_argument("--after", type=int, default=1, help=_("tear at the N-th write from now (default 1)"))
    tear.add_argument("--any", action="store_true", help=_("count every command, not only writes"))
    tear.add_argument("--apply", action="store_true", help=_("the torn command reached the card's memory"))
    tear.set_defaults(func=run_tear)
    feedback = sub.add_parser("feedback", help=_("LED and buzzer commands the reader received"))
    feedback.add_argument("--reader", type=int, default=0)
    feedback.add_argument("--clear", action="store_true")
    feedback.set_defaults(func=run_feedback)
    sub.add_parser("list", help=_("stored virtual cards")).set_defaults(func=run_list)


def _card_choice(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--reader", type=int, help=_("the card on this reader (default 0)"))
    group.add_argument("--name", help=_("a stored card (on a reader or not)"))


def _folder(ctx: Any, args: argparse.Namespace) -> Path:
    if args.dir:
        return Path(args.dir)
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    return Path(ctx.settings.data_dir) / "lab"


def _runtime(ctx: Any, args: argparse.Namespace, **config: Any) -> Any:
    from devices.lab.paths import LabPaths
    from devices.lab.runtime import LabRuntime
    from suite.errors import InvalidInput

    folder = _folder(ctx, args)
    if config:
        from dataclasses import replace

        try:
            settings = replace(LabPaths(folder).load_config(), **config)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        return LabRuntime(folder, settings)
    return LabRuntime(folder)


def _call(ctx: Any, args: argparse.Namespace, op: str, **params: Any) -> Any:
    from devices.lab.control import LabClient
    from devices.lab.paths import LabPaths

    return LabClient(LabPaths(_folder(ctx, args)).control_socket).call(op, **params)


def run_start(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    config = {k: v for k, v in (("base_port", args.port), ("readers", args.readers)) if v is not None}
    mode = "isolated" if args.isolated else "system" if args.system else "auto"
    result: dict[str, Any] = _runtime(ctx, args, **config).start(pcscd=mode)
    env = result.pop("env")
    if env:
        result["export"] = " ".join(f"{k}={v}" for k, v in env.items())
    return result


def run_stop(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    return _runtime(ctx, args).stop()


def run_status(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    status: dict[str, Any] = _runtime(ctx, args).status()
    daemon = status.get("daemon")
    if isinstance(daemon, dict) and not args.json:
        status["daemon"] = _("running (pid {pid})").format(pid=daemon["pid"])
        status["readers"] = [{k: r.get(k) for k in ("reader", "pcsc_name", "port", "card", "kind", "state", "apdus")}
                             for r in daemon["readers"]]
    return status


def run_insert(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = _call(ctx, args, "insert", reader=args.reader, uid=args.uid, name=args.name,
                                   kind=args.kind, magic=args.magic)
    return result


def run_remove(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = _call(ctx, args, "remove", reader=args.reader)
    return result


def run_dump(ctx: Any, args: argparse.Namespace) -> Any:
    out = Path(args.out) if args.out else None
    binary = args.format == "bin" or (args.format is None and out is not None and out.suffix in BINARY_SUFFIXES)
    answer = _call(ctx, args, "dump", reader=args.reader, name=args.name, binary=binary)
    card = answer["card"]
    if out is not None:
        if binary:
            out.write_bytes(base64.b64decode(answer["binary"]))
        else:
            out.write_text(json.dumps(card, indent=1))
        return {"card": answer["name"], "uid": card["uid"], "written": str(out), "format": "bin" if binary else "json"}
    if args.json or card["kind"] != "mifare_classic":
        return card
    return [{"sector": n // 4, "block": n, "data": block} for n, block in enumerate(card["blocks"])]


def _flatten(result: dict[str, Any]) -> dict[str, Any]:
    inserted = result.pop("inserted", None)
    if inserted is not None:
        result["on_reader"] = inserted["reader"]
    return result


def run_clone(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    return _flatten(_call(ctx, args, "clone", reader=args.reader, name=args.name, to_uid=args.to_uid,
                          magic=args.magic, new_name=args.new_name, insert=args.insert))


def run_restore(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from devices.lab.store import DumpError, read_dump
    from suite.errors import InvalidInput

    path = Path(args.file)
    try:
        dump = read_dump(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(_("{path}: cannot read: {reason}").format(path=path, reason=exc.strerror)) from None
    except DumpError as exc:
        raise InvalidInput(_("{path}: {reason}").format(path=path, reason=exc)) from None
    params: dict[str, Any] = {"reader": args.reader, "name": args.name}
    if isinstance(dump, bytes):
        params["binary"] = base64.b64encode(dump).decode()
    else:
        params["card"] = dump
    return _flatten(_call(ctx, args, "restore", **params))


def run_tear(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = _call(ctx, args, "tear", reader=args.reader, after=args.after,
                                   writes_only=not args.any, apply=args.apply)
    return result


def run_feedback(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = _call(ctx, args, "feedback", reader=args.reader, clear=args.clear)
    return result


def run_list(ctx: Any, args: argparse.Namespace) -> list[str]:
    from devices.lab.paths import LabPaths
    from devices.lab.store import CardStore

    return CardStore(LabPaths(_folder(ctx, args)).cards).names()
