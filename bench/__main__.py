"""Run every benchmark: ``make bench`` (``--quick`` for a smoke run)."""

from __future__ import annotations

import argparse
import platform
import os

from bench import (bench_cards, bench_checkin, bench_cli, bench_gates, bench_ledger, bench_printer, bench_purse,
                   bench_reports, bench_seatmap, bench_tickets, bench_ui, bench_wallet, bench_wallet_ui)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("\n== CLI start-up")
    bench_cli.main(["--runs", "5" if args.quick else "20"])
    print("\n== Ledger posting")
    bench_ledger.main(["--quick"] if args.quick else [])
    print("\n== Card wallet")
    bench_wallet.main(["--quick"] if args.quick else [])
    print("\n== Box office (sale, sell-out, code verification)")
    bench_tickets.main(["--quick"] if args.quick else [])
    print("\n== Reports: ledger journal of 1,000,000 lines (50,000 with --quick)")
    bench_reports.main(["--quick"] if args.quick else [])
    print("\n== Card readers through pcscd (virtual card lab)")
    bench_cards.main(["--quick"] if args.quick else [])
    print("\n== Card purse through pcscd (virtual card lab)")
    bench_purse.main(["--quick"] if args.quick else [])
    print("\n== Gates (OSDP and relay board on pseudo-terminals)")
    bench_gates.main(["--quick"] if args.quick else [])
    print("\n== Check-in (decisions, scan to relay, a 10-lane hour)")
    bench_checkin.main(["--quick"] if args.quick else [])
    print("\n== Printing (ESC/POS to the virtual printer)")
    bench_printer.main(["--quick"] if args.quick else [])
    print("\n== Desktop shell (Tk under Xvfb)")
    bench_ui.main(["--runs", "3", "--rows", "100000"] if args.quick else [])
    print("\n== Wallet card panel (Tk under Xvfb)")
    bench_wallet_ui.main(["--quick"] if args.quick else [])
    print("\n== Box office seat map (Tk under Xvfb)")
    bench_seatmap.main(["--quick"] if args.quick else [])


if __name__ == "__main__":
    main()
