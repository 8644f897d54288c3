"""Common widgets: a message bar, a plain table, and a virtual table for millions of rows."""

from __future__ import annotations

import logging
import threading
import tkinter as tk
import tkinter.font as tkfont
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from tkinter import ttk
from typing import Any

from suite.errors import SuiteError
from suite.i18n import _

log = logging.getLogger(__name__)


def release_variables(owner: object) -> None:
    """Drop ``owner``'s Tk variables now, on the Tk thread.

    A destroyed widget tree is cyclic garbage; Python may collect it on whichever thread
    happens to allocate next, and a ``tk.Variable`` finalised off the Tk thread fails. Call
    this from the owner's ``<Destroy>`` handler so the variables go here instead.
    """
    for name, value in list(vars(owner).items()):
        if isinstance(value, tk.Variable):
            setattr(owner, name, None)


class Timer:
    """One pending ``after`` call of a widget: ``start`` (re)arms it, ``cancel`` drops it; it is
    never armed on a destroyed widget, and a cancel after the widget went is harmless."""

    def __init__(self, widget: tk.Misc, action: Callable[[], Any]) -> None:
        self._widget = widget
        self._action = action
        self._after_id: str | None = None

    @property
    def pending(self) -> bool:
        return self._after_id is not None

    def start(self, ms: int) -> None:
        self.cancel()
        if self._widget.winfo_exists():
            self._after_id = self._widget.after(ms, self._fire)

    def cancel(self) -> None:
        if self._after_id is not None:
            try:
                self._widget.after_cancel(self._after_id)
            except tk.TclError:
                pass
            self._after_id = None

    def _fire(self) -> None:
        self._after_id = None
        self._action()


def error_text(exc: BaseException) -> str:
    """What the operator reads for ``exc``: a domain error's own (translated) message."""
    if isinstance(exc, SuiteError):
        return exc.message
    return _("Unexpected error: {reason}").format(reason=f"{type(exc).__name__}: {exc}")


class MessageBar(ttk.Label):
    """One line telling the result of the last action: neutral, ok (green) or error (red)."""

    STYLES = {"info": "Message.TLabel", "ok": "MessageOk.TLabel", "error": "MessageError.TLabel"}

    def __init__(self, parent: tk.Misc, *, collapse: bool = False, **kw: Any) -> None:
        """``collapse``: take no room while empty (grid-managed bars only)."""
        super().__init__(parent, style="Message.TLabel", anchor="w", **kw)
        self.kind = "info"
        self.collapse = collapse
        self.bind("<Configure>", lambda e: self.configure(wraplength=max(200, e.width - 16)))

    @property
    def text(self) -> str:
        return str(self.cget("text"))

    def show(self, text: str, kind: str = "info") -> None:
        self.kind = kind
        self.configure(text=text, style=self.STYLES.get(kind, "Message.TLabel"))
        if self.collapse:
            if text and not self.winfo_manager():
                self.grid()
            elif not text and self.winfo_manager() == "grid":
                self.grid_remove()

    def grid(self, *args: Any, **kw: Any) -> None:  # type: ignore[override]
        super().grid(*args, **kw)
        if self.collapse and not self.text:
            self.grid_remove()

    def ok(self, text: str) -> None:
        self.show(text, "ok")

    def error(self, text: str | BaseException) -> None:
        self.show(error_text(text) if isinstance(text, BaseException) else text, "error")

    def clear(self) -> None:
        self.show("")

    def attempt(self, action: Callable[[], Any], success: str | Callable[[Any], str] | None = None) -> Any:
        """Run ``action``; show a ``SuiteError`` as an error (returning None) or ``success``."""
        try:
            result = action()
        except SuiteError as exc:
            self.error(exc)
            return None
        if success is not None:
            self.ok(success(result) if callable(success) else success)
        return result if result is not None else True


@dataclass(frozen=True)
class ColumnDef:
    name: str
    label: str
    width: int = 14        # characters
    anchor: str = "w"


def char_width(widget: tk.Misc) -> int:
    return max(6, tkfont.nametofont("TkDefaultFont", widget).measure("0"))


class Table(ttk.Frame):
    """A Treeview with scrollbars for lists of at most a few thousand rows."""

    def __init__(self, parent: tk.Misc, columns: Sequence[ColumnDef], *, height: int = 10,
                 selectmode: str = "browse") -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.tree = ttk.Treeview(self, columns=[c.name for c in columns], show="headings", height=height,
                                 selectmode=selectmode)
        cw = char_width(self)
        for c in columns:
            self.tree.heading(c.name, text=c.label, anchor=c.anchor)
            self.tree.column(c.name, width=c.width * cw, minwidth=3 * cw, anchor=c.anchor, stretch=True)
        ys = ttk.Scrollbar(self, orient="vertical", command=self.tree.yview)
        xs = ttk.Scrollbar(self, orient="horizontal", command=self.tree.xview)
        self.tree.configure(yscrollcommand=ys.set, xscrollcommand=xs.set)
        self.tree.tag_configure("odd", background="#f6f8fb")
        self.tree.tag_configure("bad", foreground="#c62828")
        self.tree.grid(row=0, column=0, sticky="nsew")
        ys.grid(row=0, column=1, sticky="ns")
        xs.grid(row=1, column=0, sticky="ew")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)

    def set_rows(self, rows: Iterable[Sequence[Any]], iids: Iterable[str] | None = None,
                 tags: Iterable[Sequence[str]] | None = None) -> None:
        selected = self.selected()
        self.tree.delete(*self.tree.get_children())
        iid_list = list(iids) if iids is not None else None
        tag_list = list(tags) if tags is not None else None
        for n, row in enumerate(rows):
            extra = tuple(tag_list[n]) if tag_list is not None else ()
            self.tree.insert("", "end", iid=iid_list[n] if iid_list is not None else None,
                             values=["" if v is None else v for v in row],
                             tags=(("odd",) if n % 2 else ()) + extra)
        if selected and self.tree.exists(selected):
            self.tree.selection_set(selected)

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(str(v) for v in self.tree.item(i, "values")) for i in self.tree.get_children()]

    def selected(self) -> str | None:
        sel = self.tree.selection()
        return sel[0] if sel else None

    def select(self, iid: str) -> None:
        self.tree.selection_set(iid)
        self.tree.see(iid)
        self.tree.event_generate("<<TreeviewSelect>>")


def _ignore(*_args: Any) -> None:
    pass


class PageLoader:
    """One worker thread fetching pages of rows for a ``VirtualTable``.

    The Tk thread says which pages it wants now (``want``), replacing what it wanted before,
    so pages scrolled past while a slow query ran are never fetched. ``fetch(offset, limit)``
    runs on the worker; ``deliver(page, rows)`` comes back on the Tk thread via the pump.
    """

    def __init__(self, pump: Any, fetch: Callable[[int, int], list[tuple[Any, ...]]],
                 deliver: Callable[[int, list[tuple[Any, ...]]], None],
                 on_error: Callable[[BaseException], None], page_size: int) -> None:
        self._call_soon = pump.caller
        self._fetch = fetch
        self._deliver = deliver
        self._on_error = on_error
        self.page_size = page_size
        self._cond = threading.Condition()
        self._wanted: list[int] = []
        self._in_flight: int | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="page-loader", daemon=True)
        self._thread.start()

    def want(self, pages: Sequence[int]) -> None:
        with self._cond:
            self._wanted = [p for p in pages if p != self._in_flight]
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._wanted = []
            self._cond.notify()

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            # the callbacks hold widgets: let the Tk thread drop them, never this one
            callbacks = (self._deliver, self._on_error)
            self._deliver = self._on_error = _ignore  # type: ignore[assignment]
            self._call_soon(_ignore, callbacks)

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                page = self._wanted.pop(0)
                self._in_flight = page
            try:
                rows = self._fetch(page * self.page_size, self.page_size)
            except BaseException as exc:  # noqa: BLE001 - shown on the Tk thread
                if not self._stopped:
                    self._call_soon(self._on_error, exc)
                continue
            finally:
                with self._cond:
                    self._in_flight = None
            if not self._stopped:
                self._call_soon(self._deliver, page, rows)


class VirtualTable(ttk.Frame):
    """A Treeview that holds only the rows on screen, for results of any size.

    The scrollbar is mapped to ``total`` (which may grow while a count is running). Rows come
    in pages from ``request(pages)`` (the owner fetches them off the Tk thread and calls
    ``deliver``); a bounded cache keeps the recent pages. ``format_row`` turns a raw row into
    the strings shown, so only the visible rows are ever formatted.
    """

    CACHE_PAGES = 64

    def __init__(self, parent: tk.Misc, columns: Sequence[ColumnDef], *,
                 request: Callable[[list[int]], None] | None = None,
                 format_row: Callable[[tuple[Any, ...]], Sequence[str]] | None = None,
                 page_size: int = 200, compact: bool = False) -> None:
        super().__init__(parent)
        self.style_name = "Compact.Treeview" if compact else "Treeview"
        self.page_size = page_size
        self._request = request or (lambda pages: None)
        self._format = format_row or (lambda row: ["" if v is None else str(v) for v in row])
        self._pages: OrderedDict[int, list[tuple[Any, ...]]] = OrderedDict()
        self.total = 0
        self.exact = False
        self.offset = 0
        self.visible = 1
        self.tree = ttk.Treeview(self, show="headings", selectmode="browse", height=6, style=self.style_name)
        self.scrollbar = ttk.Scrollbar(self, orient="vertical", command=self._on_scroll)
        xs = ttk.Scrollbar(self, orient="horizontal", command=self.tree.xview)
        self.tree.configure(xscrollcommand=xs.set)
        self.tree.tag_configure("odd", background="#f6f8fb")
        self.tree.tag_configure("loading", foreground="#9aa4b0")
        self.tree.grid(row=0, column=0, sticky="nsew")
        self.scrollbar.grid(row=0, column=1, sticky="ns")
        xs.grid(row=1, column=0, sticky="ew")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self.set_columns(columns)
        self.tree.bind("<Configure>", self._on_resize)
        for sequence, delta in (("<Button-4>", -3), ("<Button-5>", 3)):
            self.tree.bind(sequence, lambda e, d=delta: self.scroll_by(d) or "break")
        self.tree.bind("<MouseWheel>", lambda e: self.scroll_by(-3 if e.delta > 0 else 3) or "break")
        keys = {"<Up>": -1, "<Down>": 1, "<Prior>": "-page", "<Next>": "page"}
        for sequence, step in keys.items():
            self.tree.bind(sequence, lambda e, s=step: self._key_scroll(s) or "break")
        self.tree.bind("<Home>", lambda e: self.scroll_to(0) or "break")
        self.tree.bind("<End>", lambda e: self.scroll_to(self.total) or "break")

    # -- data ----------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[ColumnDef]) -> None:
        self.columns = list(columns)
        self.tree.configure(columns=[c.name for c in columns])
        cw = char_width(self)
        for n, c in enumerate(columns):
            self.tree.heading(c.name, text=c.label, anchor=c.anchor)
            # fixed widths (a horizontal scrollbar when wider than the window); the last fills
            self.tree.column(c.name, width=min(c.width, 28) * cw + 8, minwidth=3 * cw, anchor=c.anchor,
                             stretch=n == len(columns) - 1)

    def reset(self, request: Callable[[list[int]], None] | None = None,
              format_row: Callable[[tuple[Any, ...]], Sequence[str]] | None = None) -> None:
        """Forget every row (a new run); ``request`` and ``format_row`` replace the old ones."""
        if request is not None:
            self._request = request
        if format_row is not None:
            self._format = format_row
        self._pages.clear()
        self.total, self.exact, self.offset = 0, False, 0
        self._render()

    def set_total(self, total: int, exact: bool = True) -> None:
        self.total, self.exact = max(0, total), exact
        self.offset = min(self.offset, max(0, self.total - self.visible))
        self._render()

    def deliver(self, page: int, rows: list[tuple[Any, ...]]) -> None:
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > self.CACHE_PAGES:
            self._pages.popitem(last=False)
        if not self.exact:
            # the count is not known yet: what was fetched is the least there is
            seen = page * self.page_size + len(rows)
            if len(rows) < self.page_size:
                self.total, self.exact = seen, True
            elif seen > self.total:
                self.total = seen
        self._render()

    def row(self, index: int) -> tuple[Any, ...] | None:
        page, at = divmod(index, self.page_size)
        rows = self._pages.get(page)
        if rows is None or at >= len(rows):
            return None
        return rows[at]

    def shown_rows(self) -> list[tuple[str, ...]]:
        """The values of the rows on screen (strings), for tests and copying."""
        return [tuple(str(v) for v in self.tree.item(i, "values")) for i in self.tree.get_children()
                if "loading" not in self.tree.item(i, "tags")]

    # -- scrolling -----------------------------------------------------------------------

    def scroll_to(self, offset: int) -> None:
        offset = max(0, min(int(offset), max(0, self.total - self.visible)))
        if offset != self.offset and self.tree.selection():
            self.tree.selection_remove(*self.tree.selection())  # rows are reused: the mark would move
        self.offset = offset
        self._render()

    def scroll_by(self, rows: int) -> None:
        self.scroll_to(self.offset + rows)

    def _key_scroll(self, step: int | str) -> None:
        if step == "page":
            self.scroll_by(max(1, self.visible - 1))
        elif step == "-page":
            self.scroll_by(-max(1, self.visible - 1))
        else:
            self.scroll_by(int(step))

    def _on_scroll(self, *args: str) -> None:
        if not args:
            return
        if args[0] == "moveto":
            self.scroll_to(round(float(args[1]) * self.total))
        elif args[0] == "scroll":
            amount = int(args[1])
            self.scroll_by(amount * max(1, self.visible - 1) if args[2] == "pages" else amount)

    def _on_resize(self, event: tk.Event) -> None:
        row_height = int(ttk.Style(self).lookup(self.style_name, "rowheight") or 24)
        heading = 2 * row_height if self.tree.cget("show") != "tree" else 0
        visible = max(1, (event.height - heading + row_height // 2) // row_height)
        if visible != self.visible:
            self.visible = visible
            self.tree.configure(height=visible)
            self._render()

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        first = self.offset
        last = min(self.total, first + self.visible) if self.exact else first + self.visible
        wanted_pages = sorted({i // self.page_size for i in range(first, max(first + 1, last))})
        missing = [p for p in wanted_pages if p not in self._pages]
        items = self.tree.get_children()
        n_rows = max(0, min(self.visible, (self.total - first) if self.exact else self.visible))
        for n in range(n_rows):
            row = self.row(first + n)
            iid = items[n] if n < len(items) else self.tree.insert("", "end")
            if row is None:
                if not missing and self.exact:
                    n_rows = n
                    break
                self.tree.item(iid, values=["…"] + [""] * (len(self.columns) - 1), tags=("loading",))
            else:
                self.tree.item(iid, values=list(self._format(row)), tags=(("odd",) if (first + n) % 2 else ()))
        items = self.tree.get_children()
        if len(items) > n_rows:
            self.tree.delete(*items[n_rows:])
        if missing:
            self._request(missing)
        total = max(self.total, 1)
        self.scrollbar.set(first / total, min(1.0, (first + self.visible) / total))


__all__ = ["ColumnDef", "MessageBar", "PageLoader", "Table", "VirtualTable", "char_width", "error_text",
           "release_variables"]
