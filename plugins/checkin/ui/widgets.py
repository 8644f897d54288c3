"""The parts of the gate attendant's screen that hold no logic of the gate loop: the big result
panel, the emergency banner and the reason prompt (a small sheet over the screen that asks why a
gate is opened, released or reset)."""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable, Iterable, Sequence
from tkinter import ttk
from typing import Any

from suite.i18n import _
from suite.ui.theme import PALETTE
from suite.ui.widgets import ColumnDef, char_width, release_variables

from plugins.checkin.ui.display import BAD, EMERGENCY, IDLE, OK, VERDICT_FONT

MAX_PERSONS = 100
MAX_REASON = 500
PANEL_PAD = 22
HEADING_PAD = 20  # a heading's padding (theme: 8 px each side) and a little air
TAG_COLOURS = {OK: PALETTE.success, BAD: PALETTE.danger, EMERGENCY: PALETTE.warning}


def _wrap(label: ttk.Label, margin: int = 24) -> None:
    label.bind("<Configure>", lambda e: label.configure(wraplength=max(160, e.width - margin)), add="+")


class ResultPanel(ttk.Frame):
    """The last result, big: its colour, the reason, what was shown, the people, the channel.
    It stays until the next one. A reason too long for the big font takes the theme's largest."""

    def __init__(self, parent: tk.Misc) -> None:
        super().__init__(parent, style="CheckinIdle.TFrame", padding=(PANEL_PAD, 16))
        self.tone = IDLE
        self.nonce = ""
        self.columnconfigure(0, weight=1)
        self.verdict = ttk.Label(self, anchor="w", justify="left")
        self.verdict.grid(row=0, column=0, sticky="ew")
        self.credential = ttk.Label(self, anchor="w", justify="left")
        self.credential.grid(row=1, column=0, sticky="ew", pady=(8, 0))
        self.persons = ttk.Label(self, anchor="w", justify="left")
        self.persons.grid(row=2, column=0, sticky="ew", pady=(6, 0))
        self.channel = ttk.Label(self, anchor="w", justify="left")
        self.channel.grid(row=3, column=0, sticky="ew", pady=(4, 0))
        self.note = ttk.Label(self, anchor="w", justify="left")
        self.note.grid(row=4, column=0, sticky="ew", pady=(4, 0))
        for label in (self.verdict, self.credential, self.persons, self.channel, self.note):
            _wrap(label)
        self.bind("<Configure>", lambda e: self._fit(), add="+")

    def show(self, tone: str, verdict: str, *, credential: str = "", persons: str = "", channel: str = "",
             note: str = "", nonce: str = "") -> None:
        self.tone = tone
        self.nonce = nonce
        name = f"Checkin{tone.title()}"
        self.configure(style=f"{name}.TFrame")
        self.verdict.configure(text=verdict)
        self._fit()
        self.credential.configure(text=credential, style=f"{name}Line.TLabel")
        for label, text in ((self.persons, persons), (self.channel, channel), (self.note, note)):
            label.configure(text=text, style=f"{name}Detail.TLabel")
        for label in (self.credential, self.persons, self.channel, self.note):
            self._keep_room(label)

    @staticmethod
    def _keep_room(label: ttk.Label) -> None:
        """An empty line takes no room (a short panel in an emergency still shows the channel)."""
        if label.cget("text"):
            label.grid()
        else:
            label.grid_remove()

    def _fit(self) -> None:
        text = str(self.verdict.cget("text"))
        width = self.winfo_width() - 2 * PANEL_PAD - 8
        if width < 100:
            width = 520
        fits = tkfont.nametofont(VERDICT_FONT, self).measure(text) <= width
        self.verdict.configure(style=f"Checkin{self.tone.title()}Verdict{'' if fits else 'Long'}.TLabel")

    def set_persons(self, text: str) -> None:
        self.persons.configure(text=text)
        self._keep_room(self.persons)

    def texts(self) -> dict[str, str]:
        """What the panel says, part by part."""
        return {name: str(getattr(self, name).cget("text"))
                for name in ("verdict", "credential", "persons", "channel", "note")}


class Listing(ttk.Frame):
    """A compact table: headings, a few rows coloured by tone, a vertical scrollbar. Only the
    ``stretch`` column takes the width left over."""

    def __init__(self, parent: tk.Misc, columns: Sequence[ColumnDef], *, height: int, stretch: str) -> None:
        super().__init__(parent)
        self.tree = ttk.Treeview(self, columns=[c.name for c in columns], show="headings", height=height,
                                 selectmode="none", takefocus=False, style="Compact.Treeview")
        cw = char_width(self)
        heading = tkfont.nametofont("VSBold", self)
        for column in columns:
            width = max(column.width * cw, heading.measure(column.label) + HEADING_PAD)
            self.tree.heading(column.name, text=column.label, anchor=column.anchor)
            self.tree.column(column.name, width=width, minwidth=3 * cw, anchor=column.anchor,
                             stretch=column.name == stretch)
        for tag, colour in TAG_COLOURS.items():
            self.tree.tag_configure(tag, foreground=colour)
        scroll = ttk.Scrollbar(self, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.grid(row=0, column=0, sticky="nsew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)

    def set_rows(self, rows: Iterable[Sequence[Any]], tags: Iterable[Sequence[str]] | None = None) -> None:
        self.tree.delete(*self.tree.get_children())
        tag_list = list(tags) if tags is not None else None
        for n, row in enumerate(rows):
            self.tree.insert("", "end", values=["" if v is None else v for v in row],
                             tags=tuple(tag_list[n]) if tag_list is not None else ())

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(str(v) for v in self.tree.item(i, "values")) for i in self.tree.get_children()]


class EmergencyBanner(ttk.Frame):
    """Across the top of the screen while the gates are released: what, since when, who, why, and
    *Reset* (only an administrator's reset is accepted)."""

    def __init__(self, parent: tk.Misc, on_reset: Callable[[], None]) -> None:
        super().__init__(parent, style="CheckinBanner.TFrame", padding=(18, 10))
        self.columnconfigure(0, weight=1)
        self.title = ttk.Label(self, style="CheckinBannerTitle.TLabel", text=_("EMERGENCY: all gates open"))
        self.title.grid(row=0, column=0, sticky="w")
        self.detail = ttk.Label(self, style="CheckinBanner.TLabel", anchor="w", justify="left")
        self.detail.grid(row=1, column=0, sticky="ew", pady=(2, 0))
        _wrap(self.detail)
        self.reset_button = ttk.Button(self, text=_("Reset (administrator)"), style="Touch.TButton",
                                       command=on_reset)
        self.reset_button.grid(row=0, column=1, rowspan=2, sticky="e", padx=(14, 0))

    @property
    def shown(self) -> bool:
        return bool(self.winfo_manager())

    def show(self, detail: str) -> None:
        self.detail.configure(text=detail)
        self.grid()

    def hide(self) -> None:
        self.grid_remove()


class ReasonPrompt(ttk.Frame):
    """A sheet over the screen asking for a reason (and, when asked, how many people).

    ``on_ok(reason, persons)`` returns an error to show in the sheet (it stays open) or None (it
    closes). Enter confirms, Escape cancels; an empty reason is refused when ``required``."""

    def __init__(self, parent: tk.Misc, *, title: str, text: str, action: str, on_ok: Callable[[str, int], str | None],
                 on_close: Callable[[], None], required: bool = True, ask_persons: bool = False,
                 danger: bool = False) -> None:
        super().__init__(parent, style="CheckinPrompt.TFrame", padding=(22, 18))
        self._on_ok = on_ok
        self._on_close = on_close
        self.required = required
        self.columnconfigure(1, weight=1)
        ttk.Label(self, text=title, style="CheckinPromptTitle.TLabel").grid(row=0, column=0, columnspan=2, sticky="w")
        explain = ttk.Label(self, text=text, style="SurfaceLarge.TLabel", justify="left", wraplength=520)
        explain.grid(row=1, column=0, columnspan=2, sticky="w", pady=(6, 12))
        ttk.Label(self, text=_("Reason"), style="SurfaceLarge.TLabel").grid(row=2, column=0, sticky="w", padx=(0, 10))
        self.reason = tk.StringVar(self)
        self.reason_entry = ttk.Entry(self, textvariable=self.reason, style="Touch.TEntry", font="VSLarge", width=34)
        self.reason_entry.grid(row=2, column=1, sticky="ew")
        self.persons: tk.StringVar | None = None
        self.persons_box: ttk.Spinbox | None = None
        if ask_persons:
            ttk.Label(self, text=_("People"), style="SurfaceLarge.TLabel").grid(row=3, column=0, sticky="w",
                                                                                  padx=(0, 10), pady=(8, 0))
            self.persons = tk.StringVar(self, value="1")
            self.persons_box = ttk.Spinbox(self, from_=1, to=MAX_PERSONS, textvariable=self.persons, width=5,
                                           font="VSLarge", justify="center")
            self.persons_box.grid(row=3, column=1, sticky="w", pady=(8, 0))
        self.error = ttk.Label(self, style="CheckinPromptError.TLabel", wraplength=520)
        self.error.grid(row=4, column=0, columnspan=2, sticky="w", pady=(8, 0))
        self.reason.trace_add("write", lambda *_a: self.error.configure(text=""))  # typing clears the refusal
        buttons = ttk.Frame(self, style="Surface.TFrame")
        buttons.grid(row=5, column=0, columnspan=2, sticky="e", pady=(10, 0))
        self.cancel_button = ttk.Button(buttons, text=_("Cancel"), style="Touch.TButton", command=self.cancel)
        self.cancel_button.pack(side="right")
        self.ok_button = ttk.Button(buttons, text=action, command=self.confirm,
                                    style="Touch.Danger.TButton" if danger else "TouchAccent.TButton")
        self.ok_button.pack(side="right", padx=(0, 10))
        fields: list[tk.Misc] = [self, self.reason_entry]
        if self.persons_box is not None:
            fields.append(self.persons_box)
        for widget in fields:
            widget.bind("<Return>", lambda e: self.confirm() or "break")
            widget.bind("<KP_Enter>", lambda e: self.confirm() or "break")
            widget.bind("<Escape>", lambda e: self.cancel() or "break")
        self.bind("<Destroy>", self._on_destroy, add="+")

    def open(self) -> "ReasonPrompt":
        self.place(relx=0.5, rely=0.42, anchor="center")
        self.lift()
        self.reason_entry.focus_set()
        return self

    def confirm(self) -> None:
        reason = self.reason.get().strip()
        if self.required and not reason:
            self.error.configure(text=_("Say why: a reason is required."))
            self.reason_entry.focus_set()
            return
        if len(reason) > MAX_REASON:
            self.error.configure(text=_("The reason has at most {n} characters.").format(n=MAX_REASON))
            return
        persons = 1
        if self.persons is not None:
            try:
                persons = int(self.persons.get().strip())
            except ValueError:
                persons = 0
            if not 1 <= persons <= MAX_PERSONS:
                self.error.configure(text=_("People: a whole number from 1 to {n}.").format(n=MAX_PERSONS))
                return
        problem = self._on_ok(reason, persons)
        if problem:
            self.error.configure(text=problem)
            return
        self.close()

    def cancel(self) -> None:
        self.close()

    def close(self) -> None:
        if self.winfo_exists():
            self.destroy()

    def _on_destroy(self, event: tk.Event) -> None:
        if event.widget is self:
            release_variables(self)
            self._on_close()


__all__ = ["EmergencyBanner", "Listing", "ReasonPrompt", "ResultPanel", "TAG_COLOURS"]
