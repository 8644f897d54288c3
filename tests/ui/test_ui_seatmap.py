"""The box office's seat map under Xvfb: the sale widget on a 2,000-seat hall (real clicks and
drags from xdotool, hover, keys, seat states repainted in place, refit on resize) and the
seat-map editor tab (a hall, a template, an aisle, a VIP zone, seat kinds, renumbering, the
service's refusals), each checked in the database; screenshots docs/screenshots/tickets-*.png.

Each test runs on a demo folder of its own, with the box office loaded as a built-in plugin
(and migrated) and its tabs declared here as well while its manifest lacks them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import threading
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path
from tkinter import ttk
from typing import Any

import pytest

from tests.ui.uihelpers import ADMIN, REPO, login, screenshot, settle, wait_for

from suite.declarations import TabSpec
from suite.identity.actor import Actor

SCREENSHOTS = REPO / "docs" / "screenshots"
PRICES = {"STD": 5000, "PRM": 6500, "VIP": 8000}   # fen, by zone (the sale screen's price callback)
TABS = (
    TabSpec("tickets.seatmaps", "Seat maps", factory="plugins.tickets.ui.editor:build_tab",
            permission="tickets.setup", order=130),
    # the sale screen is not written yet: a tab showing the seat-map widget as it will use it
    TabSpec("tickets.preview", "Box office", factory="tests.ui.test_ui_seatmap:preview_tab",
            permission="tickets.view", order=100),
)


# -------------------------------------------------------------------- the site

@pytest.fixture
def tickets_site(tmp_path: Path) -> Path:
    """A demo folder of each test's own (the tests look at every hall there is)."""
    from suite import demo

    folder = tmp_path / "demo"
    assert demo.main(["--dir", str(folder), "--no-window"]) == 0
    return folder / "site.toml"


@pytest.fixture
def app(tickets_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The demo application with the box office loaded as a built-in (and migrated), its tabs
    declared here as well while its manifest lacks them."""
    import plugins.tickets as tickets
    import suite.plugins as host
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.hookspecs import hookimpl
    from suite.i18n import set_language

    class TicketsHost(host.PluginHost):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            builtins = tuple(kwargs.pop("builtin_modules", host.BUILTIN_PLUGINS))
            if "plugins.tickets" not in builtins:
                builtins += ("plugins.tickets",)
            super().__init__(*args, builtin_modules=builtins, **kwargs)

    manifest = tickets.venue_suite_manifest()
    missing = tuple(t for t in TABS if t.id not in {tab.id for tab in manifest.tabs})
    if missing:
        @hookimpl
        def venue_suite_manifest() -> Any:
            return dataclasses.replace(manifest, tabs=tuple(manifest.tabs) + missing)

        monkeypatch.setattr(tickets, "venue_suite_manifest", venue_suite_manifest)
    monkeypatch.setattr(host, "PluginHost", TicketsHost)
    application = build_app(load_settings(tickets_site))
    set_language("en")
    try:
        yield application
    finally:
        application.close()
        set_language("en")


@pytest.fixture
def setup(app: Any) -> Any:
    from plugins.tickets.setup import SetupService

    return SetupService.from_app(app)


SYSTEM = Actor.system("seat map tests")


def preview_tab(parent: Any, context: Any) -> Any:
    """The seat map as the sale screen shows it; the test gives it its map and states."""
    from plugins.tickets.ui.seatmap import SeatMapView

    frame = ttk.Frame(parent, padding=(10, 8, 10, 6))
    frame.title = ttk.Label(frame, style="Large.TLabel")
    frame.title.pack(side="top", anchor="w", pady=(0, 6))
    frame.selections = []
    frame.view = SeatMapView(frame, mode="sale", on_select=frame.selections.append,
                             price_of=lambda seat: PRICES.get(seat.get("zone", "")))
    frame.view.pack(side="top", fill="both", expand=True)
    return frame


def open_tab(main: Any, tab_id: str) -> Any:
    main.select_id(tab_id)
    slot = main.slots[main.tab_ids().index(tab_id)]
    assert slot.content is not None, slot.error
    return slot.content


def publish(name: str) -> Path:
    """Copy test-artifacts/NAME.png to docs/screenshots/NAME.png (the docs show it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    shutil.copyfile(REPO / "test-artifacts" / f"{name}.png", target)
    return target


def xdotool(*args: object) -> None:
    subprocess.run(["xdotool", *(str(a) for a in args)], check=True, timeout=20, env=dict(os.environ))


def screen_xy(canvas: Any, cell: tuple[int, int]) -> tuple[int, int]:
    x, y = canvas.cell_center(cell)
    return canvas.winfo_rootx() + x, canvas.winfo_rooty() + y


def click(canvas: Any, cell: tuple[int, int]) -> None:
    xdotool("mousemove", *screen_xy(canvas, cell), "sleep", "0.05", "click", "1")


def drag(canvas: Any, first: tuple[int, int], last: tuple[int, int]) -> None:
    (x1, y1), (x2, y2) = screen_xy(canvas, first), screen_xy(canvas, last)
    xdotool("mousemove", x1, y1, "sleep", "0.05", "mousedown", "1", "sleep", "0.05",
            "mousemove", (x1 + x2) // 2, (y1 + y2) // 2, "sleep", "0.05", "mousemove", x2, y2, "sleep", "0.05",
            "mouseup", "1")


def concert_hall(setup: Any) -> dict[str, Any]:
    """Hall BIG: 42 x 52 cells, two aisles, a cross aisle and curved front corners: 2,000 seats
    in three zones (stalls, premium, VIP), wheelchair places at the back, press seats locked."""
    hall, name = "BIG", "Concert"
    setup.add_hall(SYSTEM, code=hall, name="Grand Hall")
    setup.create_seat_map(SYSTEM, hall=hall, name=name, rows=42, columns=52, zone_name="Stalls", colour="#57a773")
    curve = {0: 8, 1: 6, 2: 5, 3: 4, 4: 2}
    removed = [(r, c) for r in range(42) for c in (13, 38)] + [(14, c) for c in range(52)]
    removed += [(r, c) for r, n in curve.items() for c in list(range(n)) + list(range(52 - n, 52))]
    setup.edit_seats(SYSTEM, hall=hall, name=name, remove=sorted(set(removed)))
    setup.add_zone(SYSTEM, hall=hall, name=name, code="PRM", zone_name="Premium", colour="#7e6bc4")
    setup.add_zone(SYSTEM, hall=hall, name=name, code="VIP", zone_name="VIP", colour="#b5485d")
    setup.edit_seats(SYSTEM, hall=hall, name=name, zone="PRM",
                     zone_cells=[(r, c) for r in range(15, 31) for c in range(14, 38)])
    vip = [(r, c) for r in range(19, 24) for c in range(18, 34)]
    setup.edit_seats(SYSTEM, hall=hall, name=name, zone="VIP", zone_cells=vip, kind="vip", kind_cells=vip)
    setup.edit_seats(SYSTEM, hall=hall, name=name, kind="wheelchair",
                     kind_cells=[(41, 0), (41, 1), (41, 2), (41, 49), (41, 50), (41, 51)])
    setup.edit_seats(SYSTEM, hall=hall, name=name, kind="locked_press", kind_cells=[(15, c) for c in range(4)])
    seat_map = setup.seat_map(SYSTEM, hall=hall, name=name)
    assert len(seat_map["seats"]) == 2000
    return seat_map


def sale_states(seat_map: dict[str, Any]) -> dict[str, str]:
    """A session well on: the middle of the premium block and the VIP rows mostly sold,
    a few groups held at other counters."""
    by_cell = {(s["row"], s["col"]): s["id"] for s in seat_map["seats"]}
    states: dict[str, str] = {}
    for (r, c), seat_id in by_cell.items():
        if 17 <= r <= 27 and 16 <= c <= 35 and (r * 7 + c * 3) % 11 not in (0, 4):
            states[seat_id] = "sold"
        elif 5 <= r <= 9 and 20 <= c <= 31 and (r + c) % 5 == 0:
            states[seat_id] = "sold"
        elif r in (11, 12) and 40 <= c <= 44:
            states[seat_id] = "held"
        elif r == 33 and 6 <= c <= 9:
            states[seat_id] = "held"
    return states


# -------------------------------------------------------------------- the sale widget

def test_the_sale_map_selects_by_click_drag_and_keys_and_repaints_states_in_place(shell: Any, setup: Any) -> None:
    from plugins.tickets.ui.seatmap import HELD, LOCKED, MINE, SOLD

    seat_map = concert_hall(setup)
    main = login(shell, *ADMIN)
    assert {"tickets.seatmaps", "tickets.preview"} <= set(main.tab_ids())
    tab = open_tab(main, "tickets.preview")
    view, canvas = tab.view, tab.view.canvas
    tab.title.configure(text="Grand Hall · The River · Sat 19:30 · 2,000 seats")
    states = sale_states(seat_map)
    view.set_map(seat_map, states)
    wait_for(shell.root, lambda: canvas.geometry is not None, what="the map drawn")
    settle(shell.root, 0.2)
    by_cell = {(s["row"], s["col"]): s for s in seat_map["seats"]}
    colours = {z["code"]: z["colour"] for z in seat_map["zones"]}
    assert len(canvas.find_withtag("seat")) == 2000
    assert not canvas.find_withtag("label")        # seats this small carry no labels
    assert canvas.fill_of(by_cell[(36, 20)]["id"]) == colours["STD"]
    assert canvas.fill_of(by_cell[(17, 16)]["id"]) == SOLD
    assert canvas.fill_of(by_cell[(11, 40)]["id"]) == HELD
    assert canvas.fill_of(by_cell[(15, 0)]["id"]) == LOCKED     # locked for the press
    assert len(canvas.find_withtag("mark")) > 80                  # VIP stars, wheelchairs, hatching

    # a real click selects a free seat (blue, a tick) and a second click unselects it
    seat = by_cell[(36, 20)]
    click(canvas, (36, 20))
    wait_for(shell.root, lambda: canvas.selected_ids == [seat["id"]], what="the clicked seat selected")
    assert tab.selections[-1] == [seat["id"]]
    assert canvas.fill_of(seat["id"]) == MINE and canvas.has_tick(seat["id"])
    assert view.info.cget("text").startswith(f"Row {seat['row_label']} Seat {seat['seat_label']} · Stalls")
    click(canvas, (36, 20))
    wait_for(shell.root, lambda: canvas.selected_ids == [], what="the seat unselected")
    assert canvas.fill_of(seat["id"]) == colours["STD"] and not canvas.has_tick(seat["id"])
    # sold, held and locked seats cannot be picked
    for cell in ((17, 16), (11, 40), (15, 0)):
        click(canvas, cell)
    settle(shell.root, 0.3)
    assert canvas.selected_ids == []

    # hovering a VIP seat says where it is, its zone and its price
    vip = next(s for s in seat_map["seats"] if s["zone"] == "VIP" and s["id"] not in states)
    xdotool("mousemove", *screen_xy(canvas, (vip["row"], vip["col"])))
    wait_for(shell.root, lambda: view.info.cget("text") == f"Row {vip['row_label']} Seat {vip['seat_label']} · VIP "
                                                          f"· ¥80.00", what="the hover line")

    # a drag selects a block (the free seats in it)
    drag(canvas, (34, 3), (35, 6))
    block = [by_cell[(r, c)]["id"] for r in (34, 35) for c in range(3, 7)]
    wait_for(shell.root, lambda: canvas.selected_ids == sorted(block, key=lambda i: canvas.cell_of(i)),
             what="the dragged block selected")
    assert tab.selections[-1] == canvas.selected_ids and all(canvas.fill_of(i) == MINE for i in block)
    assert view.selection_text() == "8 seats selected · ¥400.00"

    # the keyboard: the cursor starts where the last click was (15, 0), Up skips the cross
    # aisle (row 14) to (13, 0), Right goes to (13, 1), Space selects it
    canvas.focus_force()
    wait_for(shell.root, lambda: shell.root.focus_get() is canvas, what="the focus on the map")
    xdotool("key", "--delay", "30", "Up", "Right", "space")
    moved = by_cell[(13, 1)]
    wait_for(shell.root, lambda: moved["id"] in canvas.selected_ids, what="Space selecting the cursor's seat")
    assert canvas.cursor_cell == (13, 1)

    # states from the sales service: only the seats whose state changed are repainted, in place
    seats_before, draws_before = canvas.find_withtag("seat"), canvas.draws
    taken = block[0]                                   # selected here, sold at another counter meanwhile
    mine = [by_cell[(38, c)]["id"] for c in (10, 11)]  # held by this counter
    changed = {taken: "sold", by_cell[(36, 30)]["id"]: "held", mine[0]: "mine", mine[1]: "mine",
               by_cell[(36, 20)]["id"]: "free"}        # already free: nothing to repaint
    assert view.set_states(changed) == 4
    assert canvas.find_withtag("seat") == seats_before and canvas.draws == draws_before
    assert canvas.fill_of(taken) == SOLD and taken not in canvas.selected_ids
    assert tab.selections[-1] == canvas.selected_ids            # the operator hears it left the selection
    assert canvas.fill_of(by_cell[(36, 30)]["id"]) == HELD
    assert all(canvas.fill_of(i) == MINE and canvas.has_tick(i) and i in canvas.selected_ids for i in mine)
    # a whole picture: seats it leaves out are free again
    whole = dict(states)
    whole.update({mine[0]: "mine", mine[1]: "mine", taken: "sold"})
    assert view.set_states(whole, replace=True) == 1             # (36, 30) is no longer held
    assert canvas.fill_of(by_cell[(36, 30)]["id"]) == colours["STD"]
    assert canvas.find_withtag("seat") == seats_before and canvas.draws == draws_before

    # the screenshot: a few more seats held here, the pointer on one of them
    view.set_states({by_cell[(29, c)]["id"]: "mine" for c in (24, 25, 26, 27)})
    canvas.select([by_cell[(29, c)]["id"] for c in (24, 25, 26, 27)] + mine)
    view._show_info()
    shell.root.focus_force()                # the keyboard's cursor goes with the focus
    xdotool("mousemove", *screen_xy(canvas, (29, 26)))
    wait_for(shell.root, lambda: "Premium" in view.info.cget("text"), what="the hover line")
    assert canvas.itemcget("cursor", "state") == "hidden"
    screenshot(shell.root, "tickets-seatmap")
    publish("tickets-seatmap")

    # a bigger window: the map refits once the resizing stops, the states stay
    cell_before = canvas.geometry.cell
    shell.root.geometry("1280x800+0+0")
    wait_for(shell.root, lambda: canvas.geometry is not None and canvas.geometry.cell > cell_before,
             what="the map refitted")
    assert canvas.draws == draws_before + 1
    assert canvas.fill_of(taken) == SOLD and all(canvas.fill_of(i) == MINE for i in mine)
    shell.root.geometry("1024x768+0+0")
    settle(shell.root, 0.3)


# -------------------------------------------------------------------- the editor tab

class Recording:
    """A service whose calls are noted with the thread that made them."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, threading.get_ident()))
            return attr(*args, **kwargs)

        return call


def test_the_editor_makes_an_aisle_a_vip_zone_and_seat_kinds_and_renumbers(shell: Any, setup: Any) -> None:
    main = login(shell, *ADMIN)
    editor = open_tab(main, "tickets.seatmaps")
    editor.service = recording = Recording(editor.service)
    canvas = editor.canvas
    wait_for(shell.root, lambda: not editor.loading, what="the halls loaded")
    # the demo's hall H1 is listed; this test makes a hall of its own

    # a hall and a template through the forms
    editor.new_hall_button.invoke()
    editor.hall_code_var.set("E1")
    editor.hall_name_var.set("Hall 1")
    editor.add_hall_button.invoke()
    wait_for(shell.root, lambda: editor.hall_code() == "E1" and not editor.loading, what="the new hall")
    assert "create one with New template" in editor.message.text
    editor.new_template_button.invoke()
    editor.new_name_var.set("Standard")
    editor.new_rows_var.set("8")
    editor.new_columns_var.set("12")
    editor.create_button.invoke()
    wait_for(shell.root, lambda: editor.map is not None and not editor.loading and canvas.geometry is not None,
             what="the new template")
    assert len(editor.map["seats"]) == 96 and editor.template_name() == "Standard"
    assert editor.message.kind == "ok" and "96 seats" in editor.message.text
    settle(shell.root, 0.2)
    assert len(canvas.find_withtag("label")) == 96                 # big enough to read the labels

    def db() -> dict[str, Any]:
        return setup.seat_map(SYSTEM, hall="E1", name="Standard")

    def applied() -> None:
        """A real click on Apply, then the answer in the message line."""
        editor.message.clear()
        xdotool("mousemove", editor.apply_button.winfo_rootx() + 20, editor.apply_button.winfo_rooty() + 10,
                "click", "1")
        wait_for(shell.root, lambda: not editor.busy and editor.message.kind in ("ok", "error"), what="Apply")

    # nothing selected: said in the tab, nothing sent
    applied()
    assert editor.message.kind == "error" and "Select cells" in editor.message.text

    # an aisle: drag down column 4, remove
    drag(canvas, (0, 4), (7, 4))
    wait_for(shell.root, lambda: canvas.selected_cells == [(r, 4) for r in range(8)], what="the column selected")
    assert "8 cells selected" == editor.selection_label.cget("text")
    assert editor.tool_var.get() == "remove"
    applied()
    assert editor.message.kind == "ok" and editor.message.text == "8 seats removed.", editor.message.text
    seats = db()["seats"]
    assert len(seats) == 88 and not [s for s in seats if s["col"] == 4]
    assert canvas.selected_cells == [] and len(canvas.find_withtag("empty")) == 8

    # a seat back in the aisle
    click(canvas, (3, 4))
    wait_for(shell.root, lambda: canvas.selected_cells == [(3, 4)], what="the empty cell selected")
    editor.tool_buttons["add"].invoke()
    applied()
    assert editor.message.text == "1 seat added."
    assert [(s["row"], s["col"]) for s in db()["seats"] if s["col"] == 4] == [(3, 4)]

    # a VIP zone (new zone with a colour swatch), painted over the back row
    editor.new_zone_button.invoke()
    assert editor.form_shown == "zone"
    editor.zone_code_var.set("VIP")
    editor.zone_name_var.set("VIP")
    gold = editor.swatches[3]
    xdotool("mousemove", gold.winfo_rootx() + 5, gold.winfo_rooty() + 5, "click", "1")
    wait_for(shell.root, lambda: editor.zone_colour_var.get() == "#d4a017", what="the swatch chosen")
    editor.add_zone_button.invoke()
    wait_for(shell.root, lambda: editor.message.kind == "ok" and "Zone VIP added" in editor.message.text,
             what="the new zone")
    assert editor.tool_var.get() == "zone" and editor.zone_code() == "VIP" and editor.form_shown is None
    drag(canvas, (7, 0), (7, 11))
    wait_for(shell.root, lambda: len(canvas.selected_cells) == 12, what="the back row selected")
    applied()
    assert editor.message.text == "11 seats painted into zone VIP."    # the aisle's cell has no seat
    zones = {(s["row"], s["col"]): s["zone"] for s in db()["seats"]}
    assert {z for (r, _c), z in zones.items() if r == 7} == {"VIP"}
    assert {z for (r, _c), z in zones.items() if r < 7} == {"STD"}
    assert canvas.fill_of((7, 0)) == "#d4a017"

    # wheelchair places at the front corners, press seats locked
    click(canvas, (0, 0))
    click(canvas, (0, 11))
    wait_for(shell.root, lambda: canvas.selected_cells == [(0, 0), (0, 11)], what="two seats selected")
    editor.tool_buttons["kind"].invoke()
    editor.kind_var.set("Wheelchair")
    applied()
    assert editor.message.text == "2 seats set to Wheelchair."
    drag(canvas, (4, 0), (4, 2))
    wait_for(shell.root, lambda: len(canvas.selected_cells) == 3, what="three seats selected")
    editor.kind_var.set("Locked for press")
    applied()
    kinds = {(s["row"], s["col"]): s["kind"] for s in db()["seats"]}
    assert kinds[(0, 0)] == kinds[(0, 11)] == "wheelchair"
    assert [kinds[(4, c)] for c in range(3)] == ["locked_press"] * 3
    assert list(kinds.values()).count("normal") == 89 - 5

    # renumbering: rows by letters, seats from the right
    editor.renumber_style_var.set("Letters: A, B, C")
    editor.right_to_left_var.set(True)
    before = editor.message.text
    editor.renumber_button.invoke()
    wait_for(shell.root, lambda: not editor.busy and editor.message.text != before, what="the renumbering")
    assert editor.message.text == "Seats renumbered."
    labels = {(s["row"], s["col"]): (s["row_label"], s["seat_label"]) for s in db()["seats"]}
    assert labels[(0, 11)] == ("A", "1") and labels[(0, 0)] == ("A", "11") and labels[(7, 0)] == ("H", "11")

    # refusals come from the service, translated, in the tab
    editor.new_template_button.invoke()
    editor.new_name_var.set("Standard")
    editor.create_button.invoke()
    wait_for(shell.root, lambda: editor.message.kind == "error", what="the refusal")
    assert editor.message.text == "Hall E1 has a seat map Standard already."
    editor.hide_forms()

    # the screenshot: a theatre-like template with aisles, zones, kinds and a selection
    theatre(setup)
    editor.load_halls(select="H2")
    wait_for(shell.root, lambda: editor.map is not None and editor.map["hall"] == "H2" and not editor.loading,
             what="the theatre's map")
    settle(shell.root, 0.2)
    editor.tool_buttons["zone"].invoke()
    editor.zone_combo.current(1)
    drag(canvas, (9, 3), (10, 8))
    wait_for(shell.root, lambda: len(canvas.selected_cells) == 12, what="a block selected")
    xdotool("mousemove", *screen_xy(canvas, (2, 2)))
    wait_for(shell.root, lambda: editor.view.info.cget("text").startswith("Row"), what="the hover line")
    editor.right_to_left_var.set(False)
    editor.message.clear()
    screenshot(shell.root, "tickets-seatmap-editor")
    publish("tickets-seatmap-editor")

    # every service call ran off the Tk thread
    called = {name for name, _thread in recording.calls}
    assert {"add_hall", "create_seat_map", "edit_seats", "add_zone", "renumber", "list_halls", "seat_maps",
            "seat_map"} <= called
    assert threading.get_ident() not in {thread for _name, thread in recording.calls}


def theatre(setup: Any) -> None:
    """Hall 2: 14 x 20 cells, two aisles, curved front rows, a VIP block, wheelchair places."""
    hall, name = "H2", "Theatre"
    setup.add_hall(SYSTEM, code=hall, name="Riverside Theatre")
    setup.create_seat_map(SYSTEM, hall=hall, name=name, rows=14, columns=20, zone_name="Stalls",
                          colour="#57a773", row_style="letters")
    curve = {0: 3, 1: 2, 2: 1}
    removed = [(r, c) for r in range(14) for c in (4, 15)] + [(7, c) for c in range(20)]
    removed += [(r, c) for r, n in curve.items() for c in list(range(n)) + list(range(20 - n, 20))]
    setup.edit_seats(SYSTEM, hall=hall, name=name, remove=sorted(set(removed)))
    setup.add_zone(SYSTEM, hall=hall, name=name, code="PRM", zone_name="Premium", colour="#7e6bc4")
    setup.add_zone(SYSTEM, hall=hall, name=name, code="VIP", zone_name="VIP", colour="#b5485d")
    setup.edit_seats(SYSTEM, hall=hall, name=name, zone="PRM", zone_cells=[(r, c) for r in range(8, 11)
                                                                           for c in range(5, 15)])
    vip = [(r, c) for r in range(3, 6) for c in range(6, 14)]
    setup.edit_seats(SYSTEM, hall=hall, name=name, zone="VIP", zone_cells=vip, kind="vip", kind_cells=vip)
    setup.edit_seats(SYSTEM, hall=hall, name=name, kind="wheelchair", kind_cells=[(13, 0), (13, 1), (13, 18),
                                                                                  (13, 19)])
    setup.edit_seats(SYSTEM, hall=hall, name=name, kind="locked_press", kind_cells=[(8, c) for c in (0, 1, 2, 3)])
    setup.renumber(SYSTEM, hall=hall, name=name, row_style="letters")


# -------------------------------------------------------------------- translations


def test_the_canvas_alone_fits_and_keeps_a_selection_in_editor_mode(xvfb: str) -> None:
    """No database: the widget with a hand-made map (as the sales screen will give it)."""
    from tests.ui.uihelpers import ROOTS

    from plugins.tickets.ui.seatmap import EMPTY_SELECTED, SeatMapCanvas

    root = tk.Tk()
    ROOTS.append(root)
    try:
        root.geometry("400x300+0+0")
        picked: list[Any] = []
        canvas = SeatMapCanvas(root, mode="editor", on_select=picked.append)
        canvas.pack(fill="both", expand=True)
        seats = [{"id": f"s{r}{c}", "row": r, "col": c, "row_label": "AB"[r], "seat_label": str(c + 1),
                  "zone": "STD", "kind": "normal"} for r in range(2) for c in range(3) if (r, c) != (1, 1)]
        canvas.set_map({"rows": 2, "columns": 3, "zones": [{"code": "STD", "name": "Stalls", "colour": "#57a773"}],
                        "seats": seats})
        wait_for(root, lambda: canvas.geometry is not None, what="the first draw")
        assert len(canvas.find_withtag("seat")) == 5 and len(canvas.find_withtag("empty")) == 1
        assert canvas.geometry.cell == 44                      # a small map stops growing
        assert canvas.describe((1, 1)) == "Empty cell (row 2, column 2)"
        assert canvas.toggle((1, 1)) and picked[-1] == [(1, 1)]
        assert canvas.fill_of((1, 1)) == EMPTY_SELECTED
        x1, y1 = canvas.cell_center((0, 0))
        x2, y2 = canvas.cell_center((1, 2))
        assert canvas.drag_select(x1, y1, x2, y2) == [(r, c) for r in range(2) for c in range(3)]
        assert picked[-1] == [(r, c) for r in range(2) for c in range(3)]
        canvas.drag_select(x1, y1, x2, y2)                      # all selected already: unselected
        assert picked[-1] == []
        root.geometry("90x80+0+0")
        wait_for(root, lambda: canvas.geometry is not None and canvas.geometry.cell < 44, what="the refit")
        assert not canvas.find_withtag("label")               # too small for labels now
    finally:
        root.destroy()
