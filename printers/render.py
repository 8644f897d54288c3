"""A layout and a data dict become the ESC/POS bytes of one job, built with python-escpos.

The job is built on ``escpos.printer.Dummy`` (which only collects bytes) with a profile for the
paper width, so the same bytes can be sent later by any transport or kept in the reprint
queue. Chinese text goes either as GB18030 in Chinese mode (``FS &`` ... ``FS .``) or, in raster
mode, as a picture of the line (``GS v 0``); lines of plain ASCII stay text in both modes.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Iterator, Mapping
from typing import Any

import qrcode
from escpos.capabilities import Profile, get_profile_class
from escpos.constants import QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy
from PIL import Image as PILImage

from printers import elements as el
from printers.fonts import char_columns, text_columns
from printers.raster import text_line_image
from printers.settings import PaperSettings
from suite.errors import InvalidInput
from suite.i18n import _

FS_CHINESE_ON = b"\x1c&"
FS_CHINESE_OFF = b"\x1c."
QR_LEVELS = {"L": QR_ECLEVEL_L, "M": QR_ECLEVEL_M, "Q": QR_ECLEVEL_Q, "H": QR_ECLEVEL_H}
QR_QUIET_MODULES = 4


class PaperProfile(Profile):  # type: ignore[misc]
    """A python-escpos profile with the paper's width in dots and columns (a private copy:
    python-escpos caches profile data per class and writes into it)."""

    def __init__(self, paper: PaperSettings) -> None:
        data = copy.deepcopy(get_profile_class(paper.profile).profile_data)
        data["media"] = {"width": {"mm": paper.paper_mm, "pixels": paper.dots}, "dpi": 203}
        data.setdefault("fonts", {"0": {"name": "Font A"}})["0"]["columns"] = paper.columns
        super().__init__(columns=paper.columns, features=data.get("features", {}))
        self.profile_data = data


def wrap(text: str, columns: int) -> list[str]:
    """Break ``text`` into lines of at most ``columns`` (Hanzi count two), at spaces when it can."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, width = "", 0
        for ch in paragraph:
            if width + char_columns(ch) > columns:
                cut = line.rfind(" ")
                if ch != " " and cut > 0 and line.isascii():
                    lines.append(line[:cut])
                    line = line[cut + 1:]
                else:
                    lines.append(line)
                    line = ""
                width = text_columns(line)
                if ch == " " and not line:
                    continue
            line += ch
            width += char_columns(ch)
        lines.append(line.rstrip())
    return lines


def row_lines(left: str, right: str, columns: int) -> list[str]:
    """A label and a right-aligned value on one line, or the value alone on the next."""
    gap = columns - text_columns(left) - text_columns(right)
    if gap >= 1 and "\n" not in left:
        return [left + " " * gap + right]
    lines = wrap(left, columns)
    return lines + [" " * max(columns - text_columns(right), 0) + right]


class JobBuilder:
    """Writes elements onto a Dummy printer; ``bytes()`` is the finished job."""

    def __init__(self, paper: PaperSettings) -> None:
        self.paper = paper
        self.printer = Dummy(profile=PaperProfile(paper))
        self.printer.hw("INIT")
        self._chinese = False
        self._current = ("left", False, 1, 1)   # what ESC @ leaves: align, bold, width, height

    def _chinese_mode(self, on: bool) -> None:
        if self.paper.chinese == "gb18030" and on != self._chinese:
            self.printer._raw(FS_CHINESE_ON if on else FS_CHINESE_OFF)
            self._chinese = on

    def cut(self, partial: bool) -> None:
        self._chinese_mode(False)
        self.printer.cut(mode="PART" if partial else "FULL")

    def finish(self) -> bytes:
        self._chinese_mode(False)
        return bytes(self.printer.output)

    def _style(self, *, align: str = "left", bold: bool = False, width: int = 1, height: int = 1) -> None:
        """Send only what changes: ESC a, ESC E, ESC ! (size)."""
        old_align, old_bold, old_width, old_height = self._current
        size_changed = (width, height) != (old_width, old_height)
        self.printer.set(align=align if align != old_align else None, bold=bold if bold != old_bold else None,
                         double_width=size_changed and width == 2, double_height=size_changed and height == 2,
                         normal_textsize=size_changed and width == 1 and height == 1)
        self._current = (align, bold, width, height)

    def lines(self, lines: list[str], *, align: str = "left", bold: bool = False, width: int = 1,
              height: int = 1) -> None:
        self._style(align=align, bold=bold, width=width, height=height)
        for line in lines:
            if self.paper.chinese == "gb18030":
                self._chinese_mode(True)
                self.printer._raw(line.encode("gb18030") + b"\n")
            elif line.isascii():
                self.printer._raw(line.encode("ascii") + b"\n")
            else:
                picture = text_line_image(line, self.paper.dots, bold=bold, width=width, height=height,
                                          align=align)
                self.printer.image(picture, impl="bitImageRaster")
        self._style()

    def qr(self, payload: str, size: int, ec: str, align: str) -> None:
        code = qrcode.QRCode(error_correction={"L": qrcode.constants.ERROR_CORRECT_L,
                                               "M": qrcode.constants.ERROR_CORRECT_M,
                                               "Q": qrcode.constants.ERROR_CORRECT_Q,
                                               "H": qrcode.constants.ERROR_CORRECT_H}[ec], border=0)
        code.add_data(payload)
        modules = 4 * code.best_fit() + 17 + 2 * QR_QUIET_MODULES
        size = max(1, min(size, self.paper.dots // modules, 16))
        self._style(align=align)
        if self.paper.qr == "native":
            self.printer.qr(payload, ec=QR_LEVELS[ec], size=size, native=True)
            self.printer._raw(b"\n")
        else:
            self.printer.qr(payload, ec=QR_LEVELS[ec], size=size, native=False, center=align == "center")
        self._style()

    def barcode(self, code: str, kind: str, height: int, module: int) -> None:
        kind = kind.upper()
        if kind == "CODE128":
            code = code if code.startswith("{") else "{B" + code
            modules = 11 * (len(code) - 2 + 3) + 2          # start, data, check, stop symbols
            if modules * 2 > self.paper.dots:
                raise ValueError(_("the barcode {code!r} is too long for {mm} mm paper").format(
                    code=code[2:], mm=self.paper.paper_mm))
            module = max(2, min(module, self.paper.dots // modules))
        with contextlib.redirect_stdout(io.StringIO()):   # python-escpos prints which renderer it chose
            self.printer.barcode(code, kind, height=height, width=module, pos="BELOW", align_ct=True,
                                 function_type="B")
        self._current = ("center", *self._current[1:])   # barcode() centred the line
        self._style()

    def image(self, source: Any, align: str) -> None:
        picture = source if isinstance(source, PILImage.Image) else PILImage.open(source)
        if picture.width > self.paper.dots:
            picture = picture.resize((self.paper.dots, max(1, picture.height * self.paper.dots // picture.width)))
        self.printer.image(picture, impl="bitImageRaster", center=align == "center")


def _expand(layout: el.Layout, data: Mapping[str, Any]) -> Iterator[tuple[el.Element, Mapping[str, Any]]]:
    for element in layout.elements:
        if not el.applies(element, data):
            continue
        if isinstance(element, el.Rows):
            items = data.get(element.items) or []
            if not isinstance(items, (list, tuple)):
                raise InvalidInput(_("Print layout {layout}: {key} must be a list.").format(
                    layout=layout.id, key=element.items))
            for item in items:
                yield el.Row(element.left, element.right), {**data, **item}
        else:
            yield element, data


def render_job(layout: el.Layout, data: Mapping[str, Any], paper: PaperSettings) -> bytes:
    """The ESC/POS bytes of ``layout`` filled from ``data`` for this paper and Chinese mode."""
    job = JobBuilder(paper)
    columns = paper.columns

    def fill(template: str, values: Mapping[str, Any]) -> str:
        return el.fill(template, values, layout.id)

    try:
        for element, values in _expand(layout, data):
            if isinstance(element, el.Text):
                job.lines(wrap(fill(element.text, values), columns // element.width), align=element.align,
                          bold=element.bold, width=element.width, height=element.height)
            elif isinstance(element, el.Row):
                job.lines(row_lines(fill(element.left, values), fill(element.right, values), columns),
                          bold=element.bold, height=element.height)
            elif isinstance(element, el.Separator):
                job.lines([element.char * columns])
            elif isinstance(element, el.Qr):
                job.qr(fill(element.data, values), element.size, element.ec, element.align)
            elif isinstance(element, el.Barcode):
                job.barcode(fill(element.data, values), element.kind, element.height, element.module)
            elif isinstance(element, el.Image):
                source = values.get(element.source)
                if source is None:
                    raise InvalidInput(_("Print layout {layout}: the data has no value for {key}.").format(
                        layout=layout.id, key=element.source))
                job.image(source, element.align)
            elif isinstance(element, el.Feed):
                job.printer.print_and_feed(element.lines)
            elif isinstance(element, el.Cut):
                job.cut(element.partial)
    except (EscposError, ValueError, OSError) as exc:
        raise InvalidInput(_("Print layout {layout}: {reason}").format(layout=layout.id, reason=exc)) from None
    return job.finish()
