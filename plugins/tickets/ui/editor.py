"""The seat-map editor (tab ``tickets.seatmaps``, permission ``tickets.setup``).

Choose a hall and one of its seat-map templates, or create them (*New hall*, *New template*:
rows, columns and how rows are labelled). The map shows every cell of the grid, cells without
a seat as faint outlines. Select cells with a click (one cell) or a drag (a rectangle; a drag
over cells all selected already unselects them), or with the arrows and Space; Esc clears.
Then pick a tool and press *Apply*:

* **Remove seats**: aisles, curves, the corners of a balcony;
* **Add seats**: seats back on empty cells;
* **Paint zone**: the selected seats into a price zone (*New zone*: code, name and colour);
* **Set kind**: normal, wheelchair, VIP, locked for press or security, locked.

Each *Apply* is one ``SetupService.edit_seats`` call: all of it is saved, or nothing (a map a
session already sells from refuses new or removed seats). *Renumber* labels the rows from the
front (1, 2, 3 or A, B, C) and the seats along each row from the first number given, from the
left or the right. Every service call runs off the Tk thread; refusals are the service's own
translated messages, shown in the tab's message line.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from suite.i18n import N_, _, ngettext
from suite.ui.widgets import MessageBar, error_text, release_variables

from plugins.tickets.models.places import SEAT_KINDS
from plugins.tickets.ui.seatmap import SeatMapView, kind_title

SIDE_WIDTH = 300           # px: the tools column; the map takes the rest
TOOLS = (
    ("remove", N_("Remove seats")),
    ("add", N_("Add seats")),
    ("zone", N_("Paint zone")),
    ("kind", N_("Set kind")),
)
ROW_STYLES = (("numbers", N_("Numbers: 1, 2, 3")), ("letters", N_("Letters: A, B, C")))
ZONE_COLOURS = ("#4c9be8", "#57a773", "#7e6bc4", "#d4a017", "#e07a3f", "#d05a7a", "#3fb0b8", "#8a6d4f")


def _number(value: str) -> int | str:
    """A typed number as an int when it is one; otherwise the text (the service says why not)."""
    text = value.strip()
    return int(text) if text.isdigit() else text


class SeatMapEditor(ttk.Frame):
    def __init__(self, parent: tk.Misc, context: Any, *, service: Any = None) -> None:
        super().__init__(parent, padding=(10, 8, 10, 6))
        self.context = context
        self.app = context.app
        self.actor = context.actor
        if service is None:
            from plugins.tickets.setup import SetupService

            service = SetupService.from_app(self.app)
        self.service = service
        self.halls: list[dict[str, Any]] = []
        self.templates: list[dict[str, Any]] = []
        self.map: dict[str, Any] | None = None
        self.busy = False
        self.loading = 0               # reads on their way (halls, templates, the map)
        self._generation = 0           # only the newest read's answer is shown
        self.hall_var = tk.StringVar(self)
        self.template_var = tk.StringVar(self)
        self.tool_var = tk.StringVar(self, value="remove")
        self.zone_var = tk.StringVar(self)
        self.kind_var = tk.StringVar(self, value=kind_title("vip"))
        self.hall_code_var = tk.StringVar(self)
        self.hall_name_var = tk.StringVar(self)
        self.new_name_var = tk.StringVar(self, value=_("Standard"))
        self.new_rows_var = tk.StringVar(self, value="10")
        self.new_columns_var = tk.StringVar(self, value="16")
        self.new_style_var = tk.StringVar(self, value=_(ROW_STYLES[0][1]))
        self.zone_code_var = tk.StringVar(self)
        self.zone_name_var = tk.StringVar(self)
        self.zone_colour_var = tk.StringVar(self, value=ZONE_COLOURS[3])
        self.renumber_style_var = tk.StringVar(self, value=_(ROW_STYLES[0][1]))
        self.first_seat_var = tk.StringVar(self, value="1")
        self.right_to_left_var = tk.BooleanVar(self, value=False)
        self._build()
        self.bind("<Destroy>", self._on_destroy, add="+")
        self.load_halls()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.columnconfigure(0, weight=1)
        self.rowconfigure(2, weight=1)
        self._build_top()
        self._build_forms()
        body = ttk.Frame(self)
        body.grid(row=2, column=0, sticky="nsew", pady=(8, 0))
        body.columnconfigure(0, weight=1)
        body.rowconfigure(0, weight=1)
        self.view = SeatMapView(body, mode="editor", on_select=self._on_select, stage_text=_("Screen / stage"))
        self.view.grid(row=0, column=0, sticky="nsew", padx=(0, 10))
        self.canvas = self.view.canvas
        self._build_side(body)
        self.message = MessageBar(self, collapse=True)
        self.message.grid(row=3, column=0, sticky="ew", pady=(6, 0))

    def _build_top(self) -> None:
        bar = ttk.Frame(self)
        bar.grid(row=0, column=0, sticky="ew")
        ttk.Label(bar, text=_("Hall")).pack(side="left", padx=(0, 6))
        self.hall_combo = ttk.Combobox(bar, textvariable=self.hall_var, state="readonly", width=24)
        self.hall_combo.pack(side="left")
        self.hall_combo.bind("<<ComboboxSelected>>", lambda e: self.on_hall_chosen())
        self.new_hall_button = ttk.Button(bar, text=_("New hall"), command=lambda: self.show_form("hall"))
        self.new_hall_button.pack(side="left", padx=(6, 18))
        ttk.Label(bar, text=_("Template")).pack(side="left", padx=(0, 6))
        self.template_combo = ttk.Combobox(bar, textvariable=self.template_var, state="readonly", width=18)
        self.template_combo.pack(side="left")
        self.template_combo.bind("<<ComboboxSelected>>", lambda e: self.load_map())
        self.new_template_button = ttk.Button(bar, text=_("New template"), command=lambda: self.show_form("template"))
        self.new_template_button.pack(side="left", padx=(6, 0))

    def _build_forms(self) -> None:
        holder = self.form_holder = ttk.Frame(self)
        holder.grid(row=1, column=0, sticky="ew")
        holder.grid_remove()   # shown with a form (an empty frame would keep its old height)
        self.forms: dict[str, ttk.Frame] = {}

        def form(name: str, title: str) -> ttk.Frame:
            frame = ttk.Frame(holder, style="Card.TFrame", padding=(10, 8))
            ttk.Label(frame, text=title, style="Surface.TLabel", font="VSBold").pack(side="left", padx=(0, 12))
            self.forms[name] = frame
            return frame

        def field(frame: ttk.Frame, label: str, widget: tk.Widget) -> None:
            ttk.Label(frame, text=label, style="Surface.TLabel").pack(side="left", padx=(0, 4))
            widget.pack(side="left", padx=(0, 10))

        hall = form("hall", _("New hall"))
        self.hall_code_entry = ttk.Entry(hall, textvariable=self.hall_code_var, width=8)
        field(hall, _("Code"), self.hall_code_entry)
        field(hall, _("Name"), ttk.Entry(hall, textvariable=self.hall_name_var, width=20))
        self.add_hall_button = ttk.Button(hall, text=_("Add hall"), style="Accent.TButton", command=self.add_hall)
        self.add_hall_button.pack(side="left")
        ttk.Button(hall, text=_("Cancel"), command=self.hide_forms).pack(side="left", padx=(6, 0))

        template = form("template", _("New template"))
        self.new_name_entry = ttk.Entry(template, textvariable=self.new_name_var, width=14)
        field(template, _("Name"), self.new_name_entry)
        field(template, _("Rows"), ttk.Spinbox(template, textvariable=self.new_rows_var, from_=1, to=200, width=4))
        field(template, _("Columns"), ttk.Spinbox(template, textvariable=self.new_columns_var, from_=1, to=200,
                                                   width=4))
        field(template, _("Rows labelled"), ttk.Combobox(template, textvariable=self.new_style_var, width=15,
                                                         state="readonly", values=[_(t) for _c, t in ROW_STYLES]))
        self.create_button = ttk.Button(template, text=_("Create"), style="Accent.TButton", command=self.create_map)
        self.create_button.pack(side="left")
        ttk.Button(template, text=_("Cancel"), command=self.hide_forms).pack(side="left", padx=(6, 0))

        zone = form("zone", _("New zone"))
        self.zone_code_entry = ttk.Entry(zone, textvariable=self.zone_code_var, width=7)
        field(zone, _("Code"), self.zone_code_entry)
        field(zone, _("Name"), ttk.Entry(zone, textvariable=self.zone_name_var, width=12))
        ttk.Label(zone, text=_("Colour"), style="Surface.TLabel").pack(side="left", padx=(0, 4))
        self.swatches: list[tk.Label] = []
        for colour in ZONE_COLOURS:
            swatch = tk.Label(zone, background=colour, width=2, relief="flat", borderwidth=2, cursor="hand2",
                              highlightthickness=2, highlightbackground="#ffffff")
            swatch.pack(side="left", padx=1)
            swatch.bind("<Button-1>", lambda e, c=colour: self.zone_colour_var.set(c))
            self.swatches.append(swatch)
        ttk.Entry(zone, textvariable=self.zone_colour_var, width=8).pack(side="left", padx=(6, 10))
        self.zone_colour_var.trace_add("write", lambda *a: self._mark_swatch())
        self._mark_swatch()
        self.add_zone_button = ttk.Button(zone, text=_("Add zone"), style="Accent.TButton", command=self.add_zone)
        self.add_zone_button.pack(side="left")
        ttk.Button(zone, text=_("Cancel"), command=self.hide_forms).pack(side="left", padx=(6, 0))
        self.form_shown: str | None = None

    def _build_side(self, body: ttk.Frame) -> None:
        side = ttk.Frame(body, width=SIDE_WIDTH)
        side.grid(row=0, column=1, sticky="nsew")
        side.grid_propagate(False)
        side.columnconfigure(0, weight=1)

        tools = ttk.LabelFrame(side, text=_("Tool"), padding=(10, 2, 10, 8))
        tools.grid(row=0, column=0, sticky="ew")
        tools.columnconfigure(0, weight=1)
        self.tool_buttons: dict[str, ttk.Radiobutton] = {}
        row = 0
        for tool, title in TOOLS:
            button = ttk.Radiobutton(tools, text=_(title), value=tool, variable=self.tool_var,
                                     command=self._tool_changed)
            button.grid(row=row, column=0, columnspan=2, sticky="w")
            self.tool_buttons[tool] = button
            row += 1
            if tool == "zone":
                line = ttk.Frame(tools)
                line.grid(row=row, column=0, sticky="ew", padx=(24, 0), pady=(0, 4))
                line.columnconfigure(0, weight=1)
                self.zone_combo = ttk.Combobox(line, textvariable=self.zone_var, state="readonly", width=12)
                self.zone_combo.grid(row=0, column=0, sticky="ew")
                self.new_zone_button = ttk.Button(line, text=_("New zone"), command=lambda: self.show_form("zone"))
                self.new_zone_button.grid(row=0, column=1, padx=(6, 0))
                row += 1
            elif tool == "kind":
                self.kind_combo = ttk.Combobox(tools, textvariable=self.kind_var, state="readonly", width=18,
                                               values=[kind_title(k) for k in SEAT_KINDS])
                self.kind_combo.grid(row=row, column=0, sticky="ew", padx=(24, 0), pady=(0, 2))
                row += 1

        selection = ttk.Frame(side)
        selection.grid(row=1, column=0, sticky="ew", pady=(10, 0))
        selection.columnconfigure(0, weight=1)
        self.selection_label = ttk.Label(selection, style="Muted.TLabel")
        self.selection_label.grid(row=0, column=0, sticky="w")
        self.clear_button = ttk.Button(selection, text=_("Clear"), command=self.clear_selection)
        self.clear_button.grid(row=0, column=1, sticky="e")
        self.apply_button = ttk.Button(side, text=_("Apply"), style="Accent.TButton", command=self.apply)
        self.apply_button.grid(row=2, column=0, sticky="ew", pady=(8, 0))

        renumber = ttk.LabelFrame(side, text=_("Renumber"), padding=(10, 2, 10, 8))
        renumber.grid(row=3, column=0, sticky="ew", pady=(12, 0))
        renumber.columnconfigure(1, weight=1)
        ttk.Label(renumber, text=_("Rows labelled")).grid(row=0, column=0, sticky="w", padx=(0, 6))
        ttk.Combobox(renumber, textvariable=self.renumber_style_var, state="readonly", width=15,
                     values=[_(t) for _c, t in ROW_STYLES]).grid(row=0, column=1, columnspan=2, sticky="ew")
        ttk.Label(renumber, text=_("First seat")).grid(row=1, column=0, sticky="w", padx=(0, 6), pady=(6, 0))
        ttk.Spinbox(renumber, textvariable=self.first_seat_var, from_=0, to=9999, width=4).grid(
            row=1, column=1, sticky="w", pady=(6, 0))
        ttk.Checkbutton(renumber, text=_("From the right"), variable=self.right_to_left_var).grid(
            row=1, column=2, sticky="e", pady=(6, 0))
        self.renumber_button = ttk.Button(renumber, text=_("Renumber"), command=self.renumber)
        self.renumber_button.grid(row=2, column=0, columnspan=3, sticky="ew", pady=(6, 0))
        self._tool_changed()
        self._show_selection()

    # ------------------------------------------------------------------ forms and tools

    def show_form(self, name: str) -> None:
        if name in ("template", "zone") and not self.hall_code():
            self.message.error(_("Add a hall first."))
            return
        if name == "zone" and self.map is None:
            self.message.error(_("Open or create a seat map first."))
            return
        self.hide_forms()
        self.form_holder.grid()
        self.forms[name].pack(fill="x", pady=(8, 0))
        self.form_shown = name
        focus = {"hall": self.hall_code_entry, "template": self.new_name_entry, "zone": self.zone_code_entry}[name]
        focus.focus_set()

    def hide_forms(self) -> None:
        for frame in self.forms.values():
            frame.pack_forget()
        self.form_holder.grid_remove()
        self.form_shown = None

    def _mark_swatch(self) -> None:
        chosen = (self.zone_colour_var.get() or "").lower()
        for swatch, colour in zip(self.swatches, ZONE_COLOURS):
            swatch.configure(highlightbackground="#1c2530" if colour == chosen else "#ffffff")

    def _tool_changed(self) -> None:
        tool = self.tool_var.get()
        self.zone_combo.configure(state="readonly" if tool == "zone" else "disabled")
        self.kind_combo.configure(state="readonly" if tool == "kind" else "disabled")

    def _on_select(self, cells: list[Any]) -> None:
        self._show_selection()

    def _show_selection(self) -> None:
        n = len(self.canvas.selected_cells)
        self.selection_label.configure(text=ngettext("{n} cell selected", "{n} cells selected", n).format(n=n))

    def clear_selection(self) -> None:
        self.canvas.clear_selection()
        self._show_selection()

    def hall_code(self) -> str:
        index = self.hall_combo.current()
        return self.halls[index]["code"] if 0 <= index < len(self.halls) else ""

    def template_name(self) -> str:
        index = self.template_combo.current()
        return self.templates[index]["name"] if 0 <= index < len(self.templates) else ""

    def zone_code(self) -> str:
        index = self.zone_combo.current()
        zones = (self.map or {}).get("zones", [])
        return zones[index]["code"] if 0 <= index < len(zones) else ""

    def kind_code(self) -> str:
        titles = {kind_title(k): k for k in SEAT_KINDS}
        return titles.get(self.kind_var.get(), "")

    @staticmethod
    def _style_code(title: str) -> str:
        return next((code for code, t in ROW_STYLES if _(t) == title), title)

    # ------------------------------------------------------------------ calls off the Tk thread

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        state = ["disabled"] if busy else ["!disabled"]
        for button in (self.apply_button, self.renumber_button, self.create_button, self.add_hall_button,
                       self.add_zone_button):
            button.state(state)

    def _change(self, work: Callable[[], Any], done: Callable[[Any], Any]) -> None:
        """A change (one service call) in the background; one at a time."""
        if self.busy:
            return
        self._set_busy(True)
        self.message.show(_("Saving…"))

        def finished(result: Any) -> None:
            if self.winfo_exists():
                self._set_busy(False)
                done(result)

        def failed(exc: BaseException) -> None:
            if self.winfo_exists():
                self._set_busy(False)
                self.message.error(error_text(exc))

        self.context.run_in_thread(work, finished, failed)

    def _read(self, work: Callable[[], Any], done: Callable[[Any], Any]) -> None:
        """A read in the background; a newer read makes this one's answer moot."""
        self._generation += 1
        generation = self._generation
        self.loading += 1

        def finished(result: Any) -> None:
            self.loading -= 1
            if generation == self._generation and self.winfo_exists():
                done(result)

        def failed(exc: BaseException) -> None:
            self.loading -= 1
            if generation == self._generation and self.winfo_exists():
                self.message.error(error_text(exc))

        self.context.run_in_thread(work, finished, failed)

    # ------------------------------------------------------------------ loading

    def load_halls(self, select: str | None = None) -> None:
        service, actor = self.service, self.actor
        self._read(lambda: service.list_halls(actor), lambda halls: self._show_halls(halls, select))

    def _show_halls(self, halls: list[dict[str, Any]], select: str | None) -> None:
        previous = select or self.hall_code()
        self.halls = halls
        self.hall_combo.configure(values=[f"{h['code']} · {h['name']}" for h in halls])
        if not halls:
            self.hall_var.set("")
            self._show_templates([], None)
            self.message.show(_("No halls yet: add one with New hall."))
            return
        codes = [h["code"] for h in halls]
        self.hall_combo.current(codes.index(previous) if previous in codes else 0)
        self.on_hall_chosen()

    def on_hall_chosen(self, select: str | None = None) -> None:
        hall = self.hall_code()
        if not hall:
            return
        service, actor = self.service, self.actor
        self._read(lambda: service.seat_maps(actor, hall=hall), lambda maps: self._show_templates(maps, select))

    def _show_templates(self, templates: list[dict[str, Any]], select: str | None) -> None:
        self.templates = templates
        self.template_combo.configure(values=[t["name"] for t in templates])
        if not templates:
            self.template_var.set("")
            self._show_map(None)
            if self.halls:
                self.message.show(_("This hall has no seat map yet: create one with New template."))
            return
        names = [t["name"] for t in templates]
        self.template_combo.current(names.index(select) if select in names else 0)
        self.load_map()

    def load_map(self) -> None:
        hall, name = self.hall_code(), self.template_name()
        if not hall or not name:
            return
        service, actor = self.service, self.actor
        self._read(lambda: service.seat_map(actor, hall=hall, name=name), self._show_map)

    def _show_map(self, seat_map: dict[str, Any] | None, *, keep_selection: bool = False) -> None:
        self.map = seat_map
        self.view.set_map(seat_map, keep_selection=keep_selection)
        zones = (seat_map or {}).get("zones", [])
        current = self.zone_code()
        self.zone_combo.configure(values=[f"{z['code']} · {z['name']}" for z in zones])
        codes = [z["code"] for z in zones]
        if zones:
            self.zone_combo.current(codes.index(current) if current in codes else len(zones) - 1)
        else:
            self.zone_var.set("")
        if seat_map and self.message.kind == "info":
            self.message.clear()
        self._show_selection()

    # ------------------------------------------------------------------ changes

    def apply(self) -> None:
        hall, name = self.hall_code(), self.template_name()
        if self.map is None or not hall or not name:
            self.message.error(_("Open or create a seat map first."))
            return
        cells = self.canvas.selected_cells
        if not cells:
            self.message.error(_("Select cells on the map first: click them or drag over them."))
            return
        with_seat = [c for c in cells if self.canvas.seat_at(c) is not None]
        empty = [c for c in cells if self.canvas.seat_at(c) is None]
        tool = self.tool_var.get()
        changes: dict[str, Any]
        if tool == "remove":
            if not with_seat:
                self.message.error(_("The selected cells have no seats to remove."))
                return
            changes = {"remove": with_seat}
            done = ngettext("{n} seat removed.", "{n} seats removed.", len(with_seat)).format(n=len(with_seat))
        elif tool == "add":
            if not empty:
                self.message.error(_("The selected cells have seats already."))
                return
            changes = {"add": empty}
            done = ngettext("{n} seat added.", "{n} seats added.", len(empty)).format(n=len(empty))
        elif tool == "zone":
            zone = self.zone_code()
            if not zone:
                self.message.error(_("Choose a zone (or add one with New zone)."))
                return
            if not with_seat:
                self.message.error(_("The selected cells have no seats."))
                return
            changes = {"zone": zone, "zone_cells": with_seat}
            done = ngettext("{n} seat painted into zone {zone}.", "{n} seats painted into zone {zone}.",
                            len(with_seat)).format(n=len(with_seat), zone=zone)
        else:
            kind = self.kind_code()
            if not kind:
                self.message.error(_("Choose a seat kind."))
                return
            if not with_seat:
                self.message.error(_("The selected cells have no seats."))
                return
            changes = {"kind": kind, "kind_cells": with_seat}
            done = ngettext("{n} seat set to {kind}.", "{n} seats set to {kind}.", len(with_seat)).format(
                n=len(with_seat), kind=kind_title(kind))
        service, actor = self.service, self.actor

        def saved(seat_map: dict[str, Any]) -> None:
            self.canvas.clear_selection()
            self._show_map(seat_map)
            self.message.ok(done)

        self._change(lambda: service.edit_seats(actor, hall=hall, name=name, **changes), saved)

    def renumber(self) -> None:
        hall, name = self.hall_code(), self.template_name()
        if self.map is None or not hall or not name:
            self.message.error(_("Open or create a seat map first."))
            return
        style = self._style_code(self.renumber_style_var.get())
        first, right_to_left = _number(self.first_seat_var.get()), bool(self.right_to_left_var.get())
        service, actor = self.service, self.actor

        def saved(seat_map: dict[str, Any]) -> None:
            self._show_map(seat_map, keep_selection=True)
            self.message.ok(_("Seats renumbered."))

        self._change(lambda: service.renumber(actor, hall=hall, name=name, row_style=style, first_seat=first,
                                              right_to_left=right_to_left), saved)

    def add_hall(self) -> None:
        code, name = self.hall_code_var.get().strip(), self.hall_name_var.get().strip()
        service, actor = self.service, self.actor

        def saved(_result: Any) -> None:
            self.hide_forms()
            self.hall_code_var.set("")
            self.hall_name_var.set("")
            self.message.ok(_("Hall {code} added: now create its seat map with New template.").format(code=code))
            self.load_halls(select=code)

        self._change(lambda: service.add_hall(actor, code=code, name=name), saved)

    def create_map(self) -> None:
        hall = self.hall_code()
        if not hall:
            self.message.error(_("Add a hall first."))
            return
        name = self.new_name_var.get().strip()
        rows, columns = _number(self.new_rows_var.get()), _number(self.new_columns_var.get())
        style = self._style_code(self.new_style_var.get())
        service, actor = self.service, self.actor

        def saved(seat_map: dict[str, Any]) -> None:
            self.hide_forms()
            self.canvas.clear_selection()
            self.message.ok(_("Seat map {name} created with {seats} seats.").format(
                name=name, seats=len(seat_map["seats"])))
            self.on_hall_chosen(select=name)

        self._change(lambda: service.create_seat_map(actor, hall=hall, name=name, rows=rows, columns=columns,
                                                     row_style=style), saved)

    def add_zone(self) -> None:
        hall, name = self.hall_code(), self.template_name()
        if self.map is None or not hall or not name:
            self.message.error(_("Open or create a seat map first."))
            return
        code, zone_name = self.zone_code_var.get().strip(), self.zone_name_var.get().strip()
        colour = self.zone_colour_var.get().strip()
        service, actor = self.service, self.actor

        def saved(seat_map: dict[str, Any]) -> None:
            self.hide_forms()
            self.zone_code_var.set("")
            self.zone_name_var.set("")
            self._show_map(seat_map, keep_selection=True)
            codes = [z["code"] for z in seat_map["zones"]]
            if code in codes:
                self.zone_combo.current(codes.index(code))
            self.tool_var.set("zone")
            self._tool_changed()
            self.message.ok(_("Zone {code} added: select seats and press Apply to paint them.").format(code=code))

        self._change(lambda: service.add_zone(actor, hall=hall, name=name, code=code, zone_name=zone_name or code,
                                              colour=colour), saved)

    # ------------------------------------------------------------------ teardown

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            release_variables(self)


def build_tab(parent: tk.Misc, context: Any) -> ttk.Frame:
    """The factory of tab ``tickets.seatmaps``."""
    return SeatMapEditor(parent, context)


__all__ = ["SeatMapEditor", "build_tab"]
