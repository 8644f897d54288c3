"""The cashier panel's reaction to a card: ``python -m bench.bench_wallet_ui [--taps N] [--quick]``.

Starts its own Xvfb, sets up a demo folder (``suite.demo``), issues cards with chip UIDs, logs
the demo cashier in and, for every tap, posts ``CardPresented`` on the window's event pump (what
the PC/SC driver does once pcscd reported the card: pcscd's own polling is not part of this) and
runs the Tk loop until the panel shows that card. Measured per tap:

* post -> card shown: the pump's tick (every 25 ms), the lookup on a worker thread
  (``WalletService.find_card``), the result back through the pump, the panel filled;
* the same until Tk has drawn it (``update_idletasks``);
* the lookup alone (``find_card`` called directly, SQLite), for comparison.

Taps alternate between the issued cards, so every tap redraws the panel.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_ui import Xvfb
from bench.timing import percentile

CASHIER = ("cashier", "cashier-demo-2026")
CARDS = 20
# Tk roots stay referenced until exit: a Tcl interpreter must die on the thread that made it
_ROOTS: list[Any] = []


def row(label: str, values_ms: list[float]) -> str:
    return (f"{label:<44} {statistics.median(values_ms):8.2f} {percentile(values_ms, 0.99):8.2f} "
            f"{max(values_ms):8.2f} {len(values_ms):6d}")


def issue_cards(app: Any, count: int) -> list[str]:
    """``count`` active cards with chip UIDs; returns the UIDs."""
    from plugins.wallet.services import WalletService
    from suite.identity.actor import Actor

    wallet, system, tag = WalletService.from_app(app), Actor.system("bench"), secrets.token_hex(3).upper()
    wallet.create_card_type(system, code=f"BENCH{tag}", name="Bench member", discount_bp=500, points_per_yuan=1)
    uids = []
    for n in range(count):
        uid = f"B{tag}{n:04X}"
        wallet.issue(system, card_no=f"B{tag}{n:04d}", type_code=f"BENCH{tag}", key=f"bench-issue-{tag}-{n}",
                     uid=uid, holder_name=f"Bench holder {n}")
        wallet.top_up(system, card_no=f"B{tag}{n:04d}", key=f"bench-topup-{tag}-{n}", amount=10_000 + n)
        uids.append(uid)
    return uids


def cashier_panel(shell: Any, app: Any) -> Any:
    """The cashier tab of the logged-in window (built here when the manifest does not list it)."""
    from plugins.wallet.ui.cashier import CashierTab

    actor = app.identity.authenticate(*CASHIER)
    main = shell.show_main(actor)
    shell.root.update()
    if "wallet.cashier" in main.tab_ids():
        main.select_id("wallet.cashier")
        return main.slots[main.tab_ids().index("wallet.cashier")].content
    tab = CashierTab(main, main.context.for_tab("wallet.cashier"))
    tab.place(x=0, y=0, relwidth=1, relheight=1)
    return tab


def taps(root: Any, pump: Any, tab: Any, uids: list[str], count: int) -> tuple[list[float], list[float]]:
    from suite.events import CardPresented

    shown, drawn = [], []
    for n in range(count + 3):                       # the first three warm up
        uid = uids[n % len(uids)]
        before = tab.shown_at
        root.update()
        start = time.perf_counter()
        pump.post(CardPresented("reader", uid, "3B8F8001", "mifare_classic"))
        deadline = start + 10
        while tab.shown_at == before or (tab.card or {}).get("uid") != uid:
            root.update()
            time.sleep(0.0002)
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the panel did not show card {uid}: {tab.message.text}")
        at = tab.shown_at
        root.update_idletasks()
        done = time.perf_counter()
        if n >= 3:
            shown.append((at - start) * 1000)
            drawn.append((done - start) * 1000)
    return shown, drawn


def lookups(app: Any, uids: list[str], count: int) -> list[float]:
    from plugins.wallet.services import WalletService

    wallet, actor = WalletService.from_app(app), app.identity.authenticate(*CASHIER)
    samples = []
    for n in range(count):
        start = time.perf_counter()
        wallet.find_card(actor, uid=uids[n % len(uids)])
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_wallet_ui")
    parser.add_argument("--taps", type=int, default=300, help="cards presented")
    parser.add_argument("--quick", action="store_true", help="30 taps")
    args = parser.parse_args(argv)
    count = 30 if args.quick else args.taps
    from suite import demo
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.i18n import set_language
    from suite.ui.app import Shell, create_root

    folder = Path(tempfile.mkdtemp(prefix="venue-suite-bench-wallet-ui-"))
    try:
        with Xvfb():
            with contextlib.redirect_stdout(io.StringIO()):
                if demo.main(["--dir", str(folder), "--no-window"]):
                    raise RuntimeError("demo set-up failed")
            set_language("en")
            app = build_app(load_settings(folder / "site.toml"))
            root, fonts = create_root()
            _ROOTS.append(root)
            shell = Shell(root, app, fonts=fonts)
            try:
                uids = issue_cards(app, CARDS)
                tab = cashier_panel(shell, app)
                shown, drawn = taps(root, shell.pump, tab, uids, count)
                direct = lookups(app, uids, count)
            finally:
                shell.close()
                app.close()
            print(f"cashier panel, {count} taps over {CARDS} cards (SQLite, event pump tick "
                  f"{shell.pump.interval_ms} ms):")
            print(f"{'measure (ms)':<44} {'p50':>8} {'p99':>8} {'max':>8} {'n':>6}")
            print(row("CardPresented posted -> card in the panel", shown))
            print(row("  ... and drawn by Tk", drawn))
            print(row("find_card alone (no UI)", direct))
            gc.collect()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
