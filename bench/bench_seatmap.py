"""The box office's seat map on a 2,000-seat hall: ``python -m bench.bench_seatmap [--runs N]
[--clicks N] [--quick]``.

Starts its own Xvfb and a themed 1024x768 window (no database: the map is the dict
``SetupService.seat_map`` returns, built here: 42 x 52 cells, two aisles, a cross aisle, curved
front rows, three zones, VIP, wheelchair and locked seats, a session well on with seats sold
and held). Measured, each until Tk has drawn it and the X server has taken it (a round trip):

1. first draw: a new ``SeatMapView`` built, given the map and its states, laid out and painted
   (target <= 300 ms);
2. a new map in a view already on screen (another session, another hall);
3. a click on a seat: the press and release events handled, the seat repainted (selected or
   unselected) (target <= 50 ms); once with events made by Tk (``event_generate``), once with
   real clicks from the X server (xdotool), timed from the press reaching Tk;
4. ``set_states`` with 100 seats changed (a refresh from the sales service);
5. a refit after a resize (everything drawn again at the new size).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import time
from typing import Any

from bench.bench_ui import Xvfb
from bench.timing import percentile

FIRST_DRAW_TARGET_MS = 300.0
CLICK_TARGET_MS = 50.0
# Tk roots stay referenced until exit: a Tcl interpreter must die on the thread that made it
_ROOTS: list[Any] = []


def row(label: str, values_ms: list[float], target: float | None = None) -> str:
    p99 = percentile(values_ms, 0.99)
    verdict = "" if target is None else ("  ok" if p99 <= target else f"  OVER {target:.0f} ms")
    return (f"{label:<46} {statistics.median(values_ms):8.2f} {p99:8.2f} {max(values_ms):8.2f} "
            f"{len(values_ms):6d}{verdict}")


def concert_map(tag: str = "") -> dict[str, Any]:
    """A 2,000-seat hall as ``SetupService.seat_map`` gives it."""
    rows, columns = 42, 52
    curve = {0: 8, 1: 6, 2: 5, 3: 4, 4: 2}
    gone = {(r, c) for r in range(rows) for c in (13, 38)} | {(14, c) for c in range(columns)}
    gone |= {(r, c) for r, n in curve.items() for c in [*range(n), *range(columns - n, columns)]}
    seats = []
    row_no = 0
    for r in range(rows):
        cells = [c for c in range(columns) if (r, c) not in gone]
        if not cells:
            continue
        row_no += 1
        for number, c in enumerate(cells, start=1):
            zone = "VIP" if 19 <= r < 24 and 18 <= c < 34 else "PRM" if 15 <= r < 31 and 14 <= c < 38 else "STD"
            kind = ("vip" if zone == "VIP" else "wheelchair" if r == 41 and c in (0, 1, 2, 49, 50, 51)
                    else "locked_press" if r == 15 and c < 4 else "normal")
            seats.append({"id": f"{tag}{r:02d}-{c:02d}", "row": r, "col": c, "row_label": str(row_no),
                          "seat_label": str(number), "zone": zone, "kind": kind})
    assert len(seats) == 2000, len(seats)
    return {"id": f"bench{tag}", "hall": "BIG", "name": "Concert", "rows": rows, "columns": columns,
            "zones": [{"code": "PRM", "name": "Premium", "colour": "#7e6bc4"},
                      {"code": "STD", "name": "Stalls", "colour": "#57a773"},
                      {"code": "VIP", "name": "VIP", "colour": "#b5485d"}],
            "seats": seats}


def session_states(seat_map: dict[str, Any]) -> dict[str, str]:
    states = {}
    for seat in seat_map["seats"]:
        r, c = seat["row"], seat["col"]
        if 17 <= r <= 27 and 16 <= c <= 35 and (r * 7 + c * 3) % 11 not in (0, 4):
            states[seat["id"]] = "sold"
        elif r in (11, 12) and 40 <= c <= 44:
            states[seat["id"]] = "held"
    return states


def painted(root: Any) -> None:
    """Run Tk's idle work (the canvas draws there) and wait for the X server to have it."""
    root.update_idletasks()
    root.winfo_pointerxy()      # a round trip: every drawing request before it is processed


def first_draws(root: Any, seat_map: dict[str, Any], states: dict[str, str], runs: int) -> list[float]:
    from plugins.tickets.ui.seatmap import SeatMapView

    samples = []
    for n in range(runs + 2):                         # the first two warm up
        start = time.perf_counter()
        view = SeatMapView(root, mode="sale", price_of=lambda seat: 5000)
        view.place(x=0, y=0, relwidth=1, relheight=1)
        view.set_map(seat_map, states)
        deadline = start + 10
        while view.canvas.geometry is None:
            root.update_idletasks()
            if time.perf_counter() > deadline:
                raise TimeoutError("the map was never drawn")
        painted(root)
        if n >= 2:
            samples.append((time.perf_counter() - start) * 1000)
        assert len(view.canvas.find_withtag("seat")) == 2000
        view.destroy()
        root.update()
    return samples


def new_maps(root: Any, view: Any, maps: list[dict[str, Any]], states: list[dict[str, str]],
             runs: int) -> list[float]:
    samples = []
    for n in range(runs):
        start = time.perf_counter()
        view.set_map(maps[n % 2], states[n % 2])
        painted(root)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def free_cells(canvas: Any, count: int) -> list[tuple[int, int]]:
    cells = [canvas.cell_of(s["id"]) for s in canvas.seat_map["seats"]
             if canvas.state_of(s["id"]) == "free" and s["row"] >= 32]
    step = max(1, len(cells) // count)
    return cells[::step][:count]


def generated_clicks(root: Any, canvas: Any, runs: int) -> list[float]:
    cells = free_cells(canvas, 40)
    samples = []
    for n in range(runs + 5):
        cell = cells[n % len(cells)]
        x, y = canvas.cell_center(cell)
        selected = cell in canvas.selected_cells
        start = time.perf_counter()
        canvas.event_generate("<ButtonPress-1>", x=x, y=y)
        canvas.event_generate("<ButtonRelease-1>", x=x, y=y)
        painted(root)
        done = time.perf_counter()
        assert (cell in canvas.selected_cells) != selected
        if n >= 5:
            samples.append((done - start) * 1000)
    return samples


def real_clicks(root: Any, canvas: Any, runs: int) -> list[float]:
    """Clicks from the X server (xdotool): from the press reaching Tk to the seat repainted."""
    cells = free_cells(canvas, 40)
    pressed: list[float] = []
    canvas.bind("<ButtonPress-1>", lambda e: pressed.append(time.perf_counter()), add="+")
    samples = []
    env = dict(os.environ)
    for n in range(runs + 3):
        cell = cells[n % len(cells)]
        x, y = canvas.cell_center(cell)
        selected = cell in canvas.selected_cells
        pressed.clear()
        subprocess.run(["xdotool", "mousemove", str(canvas.winfo_rootx() + x), str(canvas.winfo_rooty() + y),
                        "click", "1"], check=True, env=env, timeout=10)
        deadline = time.perf_counter() + 10
        while (cell in canvas.selected_cells) == selected:
            root.update()
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the click on {cell} never arrived")
        painted(root)
        done = time.perf_counter()
        if n >= 3 and pressed:
            samples.append((done - pressed[0]) * 1000)
    return samples


def state_refreshes(root: Any, view: Any, runs: int) -> list[float]:
    canvas = view.canvas
    ids = [s["id"] for s in canvas.seat_map["seats"] if canvas.state_of(s["id"]) == "free"][:600]
    samples = []
    for n in range(runs):
        chunk = ids[(n % 6) * 100:(n % 6 + 1) * 100]
        state = "sold" if (n // 6) % 2 == 0 else "free"
        start = time.perf_counter()
        repainted = view.set_states({i: state for i in chunk})
        painted(root)
        samples.append((time.perf_counter() - start) * 1000)
        assert repainted == 100, repainted
    return samples


def refits(root: Any, view: Any, runs: int) -> list[float]:
    canvas = view.canvas
    samples = []
    for n in range(runs):
        width = canvas.winfo_width()
        root.geometry("1280x800" if n % 2 == 0 else "1024x768")
        deadline = time.perf_counter() + 10
        while canvas.winfo_width() == width:      # the new size reached the canvas (its refit waits)
            root.update()
            if time.perf_counter() > deadline:
                raise TimeoutError("the window was not resized")
        start = time.perf_counter()
        canvas.fit_now()
        painted(root)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_seatmap")
    parser.add_argument("--runs", type=int, default=50, help="first draws, new maps, refits")
    parser.add_argument("--clicks", type=int, default=500, help="clicks made by Tk (a tenth from the X server)")
    parser.add_argument("--quick", action="store_true", help="10 draws, 100 clicks")
    args = parser.parse_args(argv)
    runs, clicks = (10, 100) if args.quick else (args.runs, args.clicks)
    from suite.i18n import set_language
    from suite.ui.app import create_root

    from plugins.tickets.ui.seatmap import SeatMapView

    set_language("en")
    with Xvfb():
        root, _fonts = create_root(title="Seat map bench")
        _ROOTS.append(root)
        root.update()
        try:
            maps = [concert_map("a"), concert_map("b")]
            states = [session_states(m) for m in maps]
            draws = first_draws(root, maps[0], states[0], runs)
            view = SeatMapView(root, mode="sale", price_of=lambda seat: 5000)
            view.place(x=0, y=0, relwidth=1, relheight=1)
            view.set_map(maps[0], states[0])
            painted(root)
            switched = new_maps(root, view, maps, states, runs)
            view.set_map(maps[0], states[0])
            painted(root)
            canvas = view.canvas
            cell = canvas.geometry.cell
            generated = generated_clicks(root, canvas, clicks)
            real = real_clicks(root, canvas, max(10, clicks // 10))
            refreshed = state_refreshes(root, view, max(10, runs))
            refitted = refits(root, view, runs)
            items = len(canvas.find_all())
            patchlevel = root.tk.call("info", "patchlevel")
        finally:
            root.destroy()
    print(f"seat map: 2,000 seats (42 x 52 cells), {items} canvas items, seats of {cell:.1f} px at 1024x768, "
          f"Tk {patchlevel} under Xvfb")
    print(f"{'measure (ms)':<46} {'p50':>8} {'p99':>8} {'max':>8} {'n':>6}")
    print(row("first draw (view built, laid out, painted)", draws, FIRST_DRAW_TARGET_MS))
    print(row("another map in the view on screen", switched))
    print(row("click -> seat repainted (Tk events)", generated, CLICK_TARGET_MS))
    print(row("click -> seat repainted (X server, xdotool)", real, CLICK_TARGET_MS))
    print(row("set_states: 100 seats changed", refreshed))
    print(row("refit after a resize (full redraw)", refitted))
    gc.collect()


if __name__ == "__main__":
    main()
