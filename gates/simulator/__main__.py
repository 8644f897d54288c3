"""``python -m gates.simulator turnstile|relay``: a simulated gate controller as a process.

It listens on the device end of a pty: the one it was handed (``--fd``, used by tests that
kill and restart it while the application keeps its port) or a new one (printed as
``{"event": "ready", "port": ...}``, with ``--link PATH`` as a stable name). It is scripted
through standard input (``gates.simulator.control``) and prints what happens as JSON lines.
The OSDP key is read from the keyring (``--secret``, shared with the application).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from gates.simulator.control import JsonLines, relay_command, serve, turnstile_command
from gates.simulator.pty import PtyPair
from gates.simulator.relay_board import RelayBoardSimulator
from gates.simulator.turnstile import TurnstileSimulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gates.simulator")
    parser.add_argument("kind", choices=["turnstile", "relay"])
    parser.add_argument("--fd", type=int, help="device end of a pty handed over by the parent")
    parser.add_argument("--link", help="make a symlink at this path to the application's end")
    parser.add_argument("--address", type=int, default=1, help="OSDP address (turnstile)")
    parser.add_argument("--pass-after", type=int, default=300, help="ms from an open to the passage")
    parser.add_argument("--nobody", action="store_true", help="nobody walks through after an open")
    parser.add_argument("--window-ms", type=int, default=5000, help="how long an open passage waits")
    parser.add_argument("--fire-nc", action="store_true", help="the fire-alarm contact is normally closed")
    parser.add_argument("--echo", action="store_true", help="the relay board echoes commands")
    parser.add_argument("--secret", default="osdp-scbk:gate-1", help="keyring entry of the OSDP key")
    parser.add_argument("--keyring-service", default="venue-suite")
    parser.add_argument("--keyring-backend", default="")
    parser.add_argument("--keyring-file", default="")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = JsonLines()
    pair = None
    if args.fd is not None:
        fd, port = args.fd, ""
    else:
        pair = PtyPair(args.link)
        fd, port = pair.device_fd, pair.name
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(0))
    try:
        if args.kind == "turnstile":
            from suite.secrets import SecretStore

            store = SecretStore.from_settings(args.keyring_service, args.keyring_backend, args.keyring_file)
            key = store.get_or_create_key(args.secret, 16)
            sim = TurnstileSimulator(fd, key, address=args.address, on_event=out,
                                     pass_after_ms=None if args.nobody else args.pass_after,
                                     passage_window_ms=args.window_ms, fire_normally_closed=args.fire_nc)
            sim.start()
            out({"event": "ready", "port": port, "kind": "turnstile"})
            try:
                serve(sys.stdin, lambda line: turnstile_command(sim, line), out)
            finally:
                sim.stop()
        else:
            board = RelayBoardSimulator(fd, echo=args.echo, on_event=out)
            board.start()
            out({"event": "ready", "port": port, "kind": "relay"})
            try:
                serve(sys.stdin, lambda line: relay_command(board, line), out)
            finally:
                board.stop()
    except KeyboardInterrupt:
        pass
    finally:
        if pair is not None:
            pair.close()
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "gate-simulator"
    sys.exit(main())
