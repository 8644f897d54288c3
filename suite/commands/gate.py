"""venue-suite gate simulate | open | status | release | run | emergency on|off|status

``simulate`` starts a simulated turnstile (OSDP) or relay board on a pseudo-terminal, prints the
port as a JSON line and takes script commands on standard input (``gates.simulator.control``);
``--window`` shows the turnstile. ``open``, ``status`` and ``release`` drive the gates of this
terminal's site file (``[devices.<id>]`` of kind ``osdp-gate`` or ``relay-gate``) directly: they
need neither the database nor a licence, so an emergency release works when nothing else does.
Do not run them while the desktop suite holds the same serial port.

``emergency`` is the venue's gate emergency (``suite.emergency``, feature G5), never licence-gated:
``on`` releases this terminal's gates first, then records the emergency in the database for every
gate PC of the venue; with the database out of reach the gates are still released and the result
says ``"recorded": false`` (exit status 0: the gates are open). ``off`` (the system administrator)
ends the emergency in the database, then resets this terminal's gates; ``status`` shows it.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from suite.i18n import _

GATE_FACTORIES = {"osdp-gate": "gates.osdp:open_gate", "relay-gate": "gates.relay:open_gate"}


def configure(verb: str, parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sim = sub.add_parser("simulate", help=_("start a simulated gate on a pseudo-terminal and print its port"))
    sim.add_argument("--kind", choices=["osdp", "relay"], default="osdp")
    sim.add_argument("--gate", default="gate-1", help=_("gate id: its OSDP key is the keyring entry osdp-scbk:<id>"))
    sim.add_argument("--link", help=_("also make this path a link to the port (a stable name for the site file)"))
    sim.add_argument("--address", type=int, default=1, help=_("OSDP address"))
    sim.add_argument("--pass-after", type=int, default=800, help=_("someone walks through this many ms after an open"))
    sim.add_argument("--nobody", action="store_true", help=_("nobody walks through after an open"))
    sim.add_argument("--window", action="store_true", help=_("show the turnstile in a window"))
    sim.set_defaults(func=simulate)
    opener = sub.add_parser("open", help=_("let people through a gate once"))
    opener.add_argument("--gate", required=True)
    opener.add_argument("--direction", required=True, type=str.upper, choices=["A", "B"])
    opener.add_argument("--count", type=int, default=1)
    opener.add_argument("--timeout", type=float, default=5.0, help=_("seconds to wait for the gate to answer"))
    opener.set_defaults(func=gate_open)
    status = sub.add_parser("status", help=_("connect to the configured gates and show their state"))
    status.add_argument("--gate")
    status.add_argument("--timeout", type=float, default=3.0)
    status.set_defaults(func=gate_status)
    release = sub.add_parser("release", help=_("emergency release: open every gate (or --gate)"))
    release.add_argument("--gate")
    release.add_argument("--timeout", type=float, default=3.0)
    release.set_defaults(func=release_gates)
    runner = sub.add_parser("run", help=_("validate and open the turnstiles of this terminal, with no screen "
                                          "(the check-in plugin's gate loop); Ctrl-C stops"))
    runner.add_argument("--channel", action="append", default=[], metavar="ID",
                        help=_("a check-in channel to run (repeat for more; default: [plugins.checkin] channels)"))
    runner.set_defaults(func=run_gates)
    emergency = sub.add_parser("emergency", help=_("the venue's gate emergency: on, off, status"))
    actions = emergency.add_subparsers(dest="emergency_action", metavar="ACTION")
    on = actions.add_parser("on", help=_("release every gate of this terminal and record the emergency for "
                                         "the whole venue"))
    on.add_argument("--reason", required=True, help=_("why the gates are released (kept in the security log)"))
    on.add_argument("--timeout", type=float, default=3.0, help=_("seconds to wait for each gate to answer"))
    on.set_defaults(func=emergency_on)
    off = actions.add_parser("off", help=_("system administrator: end the emergency and lock this terminal's "
                                           "gates again"))
    off.add_argument("--reason", default="", help=_("a note for the security log"))
    off.add_argument("--timeout", type=float, default=3.0, help=_("seconds to wait for each gate to answer"))
    off.set_defaults(func=emergency_off)
    shown = actions.add_parser("status", help=_("show the venue's gate emergency state"))
    shown.set_defaults(func=emergency_status)


# ------------------------------------------------------------------ the configured gates

def _gate_configs(ctx: Any, only: str | None) -> list[Any]:
    from suite.device_host import DeviceConfig
    from suite.errors import NotFound

    configs = []
    for device_id, table in ctx.settings.devices.items():
        options = dict(table)
        kind = options.pop("kind", None)
        if kind in GATE_FACTORIES and (only is None or device_id == only):
            configs.append(DeviceConfig(device_id, kind, options))
    if only is not None and not configs:
        raise NotFound(_("No gate {id} in the site file: add [devices.{id}] with kind = \"osdp-gate\" or "
                         "\"relay-gate\".").format(id=only))
    return configs


class _Session:
    """One gate opened for one command; events collected, stopped at the end."""

    def __init__(self, ctx: Any, config: Any) -> None:
        from suite.bootstrap import open_secrets
        from suite.device_host import resolve_factory

        self.config = config
        self.events: list[Any] = []
        self.gate = resolve_factory(GATE_FACTORIES[config.kind])(config, self.events.append,
                                                                 secrets=open_secrets(ctx.settings))

    def __enter__(self) -> "_Session":
        self.gate.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.stop()

    def wait_online(self, timeout: float) -> bool:
        """Online, and the controller told where its inputs stand (a fire alarm already on)."""
        deadline = time.monotonic() + timeout
        while not self.gate.inputs_known():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def row(self) -> dict[str, Any]:
        ok, message = self.gate.health()
        state = self.gate.state()
        return {"gate": self.config.id, "kind": self.config.kind, "port": self.config.get("port", ""),
                "online": state.online, "ok": ok, "mode": state.mode, "message": message}


def gate_open(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.device_host import DeviceError

    (config,) = _gate_configs(ctx, args.gate)
    with _Session(ctx, config) as session:
        if not session.wait_online(args.timeout):
            raise DeviceError(session.gate.health()[1])
        opened = session.gate.open_once(args.direction, args.count)
        if not opened:
            raise DeviceError(session.gate.health()[1] or _("Gate {id} ignored the open command.").format(id=config.id))
        deadline = time.monotonic() + float(config.get("passage_timeout_ms", 5000)) / 1000 * args.count + 1
        while opened and session.gate.state().pending[args.direction] and time.monotonic() < deadline:
            time.sleep(0.02)
        kinds = [e.kind for e in session.events if getattr(e, "detail", None) == args.direction]
        return {"gate": config.id, "direction": args.direction, "opened": opened,
                "passed": kinds.count("passed"), "not_passed": kinds.count("not_passed")}


def gate_status(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from suite.device_host import DeviceError

    rows = []
    for config in _gate_configs(ctx, args.gate):
        try:
            with _Session(ctx, config) as session:
                session.wait_online(args.timeout)
                rows.append(session.row())
        except DeviceError as exc:
            rows.append({"gate": config.id, "kind": config.kind, "port": config.get("port", ""), "online": False,
                         "ok": False, "mode": "", "message": exc.message})
    return rows


def release_gates(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from suite.device_host import DeviceError

    rows = []
    for config in _gate_configs(ctx, args.gate):
        try:
            with _Session(ctx, config) as session:
                session.wait_online(args.timeout)
                sent = session.gate.emergency_release()
                time.sleep(0.3)  # let the commands leave before the line closes
                rows.append({**session.row(), "released": sent})
        except DeviceError as exc:
            rows.append({"gate": config.id, "released": False, "message": exc.message})
    return rows


def reset_gates(ctx: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    """``reset()`` on every configured gate (or ``--gate``): back to locked after an emergency."""
    from suite.device_host import DeviceError

    rows = []
    for config in _gate_configs(ctx, getattr(args, "gate", None)):
        try:
            with _Session(ctx, config) as session:
                session.wait_online(args.timeout)
                done = session.gate.reset()
                time.sleep(0.3)  # let the commands leave before the line closes
                rows.append({**session.row(), "reset": done})
        except DeviceError as exc:
            rows.append({"gate": config.id, "reset": False, "message": exc.message})
    return rows


# ------------------------------------------------------------------ the gate loop

def run_gates(ctx: Any, args: argparse.Namespace) -> None:
    """The active plugin's gate loop (``gate_runner`` of its manifest), one JSON line per event,
    until Ctrl-C or SIGTERM."""
    import signal

    from gates.simulator.control import JsonLines
    from suite.plugins import PluginUnavailable, resolve_ref

    app = ctx.app()
    runners = [m.gate_runner for m in app.plugins.active_manifests() if m.gate_runner]
    if not runners:
        raise PluginUnavailable(_("No active plugin validates at gates: enable and license the check-in plugin "
                                  "(the emergency verbs work without it)."))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    try:
        resolve_ref(runners[0])(app, list(args.channel), JsonLines(), stop)
    except KeyboardInterrupt:
        stop.set()
    return None


# ------------------------------------------------------------------ the venue's emergency

def emergency_on(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The gates first (safety needs no database), then the record for the venue's other gates."""
    import logging

    from suite.emergency import CLI, EmergencyService
    from suite.errors import SuiteError

    gates = release_gates(ctx, argparse.Namespace(gate=None, timeout=args.timeout))
    try:
        state = EmergencyService.from_app(ctx.app()).activate(ctx.actor(), reason=args.reason, source=CLI)
    except Exception as exc:  # noqa: BLE001 - the gates are open whatever went wrong with the record
        if not isinstance(exc, SuiteError):
            logging.getLogger(__name__).exception("gate emergency not recorded")
        reason = exc.message if isinstance(exc, SuiteError) else str(exc) or type(exc).__name__
        return {"venue_code": ctx.settings.terminal.venue_code.strip().upper(), "recorded": False,
                "error": exc.code if isinstance(exc, SuiteError) else "error",
                "message": _("The gates of this terminal were released, but the emergency was not recorded for "
                             "the venue: {reason}").format(reason=reason),
                "gates": gates}
    return {**state.as_dict(), "recorded": True, "gates": gates}


def emergency_off(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.emergency import EmergencyService

    state = EmergencyService.from_app(ctx.app()).reset(ctx.actor(), reason=args.reason)
    gates = reset_gates(ctx, argparse.Namespace(gate=None, timeout=args.timeout))
    return {**state.as_dict(), "gates": gates}


def emergency_status(ctx: Any, args: argparse.Namespace) -> dict[str, Any]:
    from suite.emergency import EmergencyService

    return EmergencyService.from_app(ctx.app()).state().as_dict()


# ------------------------------------------------------------------ the simulator

def simulate(ctx: Any, args: argparse.Namespace) -> None:
    from gates.simulator.control import JsonLines, relay_command, serve, turnstile_command
    from gates.simulator.pty import PtyPair

    out = JsonLines()
    with PtyPair(args.link) as pair:
        if args.kind == "relay":
            from gates.simulator.relay_board import RelayBoardSimulator

            device: Any = RelayBoardSimulator(pair.device_fd, on_event=out)
            apply = lambda line: relay_command(device, line)  # noqa: E731
            kind = "relay-gate"
        else:
            from gates.simulator.turnstile import TurnstileSimulator
            from suite.bootstrap import open_secrets

            key = open_secrets(ctx.settings).get_or_create_key(f"osdp-scbk:{args.gate}", 16)
            device = TurnstileSimulator(pair.device_fd, key, address=args.address, on_event=out,
                                        pass_after_ms=None if args.nobody else args.pass_after)
            apply = lambda line: turnstile_command(device, line)  # noqa: E731
            kind = "osdp-gate"
        device.start()
        out({"event": "ready", "port": pair.name, "gate": args.gate, "kind": kind})
        commands = "input, raw, state, quit" if args.kind == "relay" else "card, qr, pass, auto, fire, tamper, state, quit"
        print(_("Site file: [devices.{gate}] kind = \"{kind}\", port = \"{port}\". Type commands "
                "({commands}); Ctrl-D ends.").format(gate=args.gate, kind=kind, port=pair.name, commands=commands),
              file=sys.stderr)
        try:
            if args.window and args.kind == "osdp":
                _run_window(device, lambda stop: serve(sys.stdin, apply, out, stop), args.gate)
            else:
                serve(sys.stdin, apply, out)
        except KeyboardInterrupt:
            pass
        finally:
            device.stop()
    return None


def _run_window(device: Any, serve_stdin: Any, gate_id: str) -> None:
    import tkinter as tk

    from gates.simulator.window import TurnstileWindow
    from suite.commands.gui import check_display

    check_display()
    stop = threading.Event()
    done = threading.Event()

    def read_stdin() -> None:
        serve_stdin(stop)
        done.set()

    threading.Thread(target=read_stdin, name="gate-simulator-stdin", daemon=True).start()
    root = tk.Tk()
    window = TurnstileWindow(root, device, _("Turnstile {gate}").format(gate=gate_id))

    def watch() -> None:
        if done.is_set():
            root.destroy()
        else:
            root.after(200, watch)

    root.after(200, watch)
    try:
        root.mainloop()
    finally:
        stop.set()
        window.close()
