"""Commands to paper: the drawing half of the virtual printer's interpreter.

A ``Page`` keeps the printer's modes (ESC !, ESC E, GS !, ESC a, Chinese mode, code page, the
stored QR code) and the line being filled; a line feed prints the line. Text is drawn on the
12/24-dot grid of font A with Noto Sans Mono CJK; QR codes are drawn with ``qrcode`` from the
stored data, barcodes with ``python-barcode``, raster images are blitted. ``finish()`` gives the
PNG picture and a plain-text transcript (one line per printed line, ``[QR] ...``,
``[BARCODE ...] ...``, ``[IMAGE ...]``, ``[CUT]`` and ``[ERROR] ...`` markers).
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass, field, replace

from PIL import Image, ImageDraw

from printers.fonts import load_font
from printers.virtual.interpreter import Command
from printers.virtual.symbols import BARCODES, QR_LEVELS, barcode_picture, code128_text, qr_picture

CELL, CHAR_HEIGHT, BASELINE, DEFAULT_SPACING = 12, 24, 21, 30
MARGIN = 16                    # white paper above the first and below the last line
CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866",
             18: "cp852", 19: "cp858"}


@dataclass(frozen=True)
class Style:
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1
    invert: bool = False
    font_b: bool = False


@dataclass
class Modes:
    style: Style = field(default_factory=Style)
    align: int = 0
    spacing: int = DEFAULT_SPACING
    chinese: bool = False
    codepage: int = 0
    qr_size: int = 3
    qr_level: int = 48
    qr_data: bytes | None = None
    barcode_height: int = 162
    barcode_module: int = 3
    barcode_hri: int = 0


@dataclass
class Span:
    text: str
    style: Style
    double_byte: bool            # decoded in Chinese mode: non-ASCII characters are 24 dots wide
    image: Image.Image | None = None

    def width(self) -> int:
        if self.image is not None:
            return self.image.width
        cells = sum(1 if ord(ch) < 0x80 or not self.double_byte else 2 for ch in self.text)
        return cells * CELL * self.style.width


@dataclass(frozen=True)
class PrintedJob:
    image: Image.Image
    transcript: str
    errors: tuple[str, ...]


def _draw_text(span: Span) -> Image.Image:
    style = span.style
    picture = Image.new("L", (max(span.width() // style.width, 1), DEFAULT_SPACING), 255)
    draw = ImageDraw.Draw(picture)
    font = load_font(style.bold)
    if span.text.isascii():
        draw.text((0, BASELINE), span.text, font=font, fill=0, anchor="ls")
    else:
        x = 0
        for ch in span.text:
            draw.text((x, BASELINE), ch, font=font, fill=0, anchor="ls")
            x += CELL * (2 if span.double_byte and ord(ch) >= 0x80 else 1)
    if style.underline:
        draw.line((0, CHAR_HEIGHT - 1, picture.width, CHAR_HEIGHT - 1), fill=0, width=2)
    if style.width != 1 or style.height != 1:
        picture = picture.resize((picture.width * style.width, picture.height * style.height),
                                 Image.Resampling.NEAREST)
    if style.invert:
        picture = picture.point(lambda v: 255 - v)
    return picture


class Page:
    def __init__(self, dots: int) -> None:
        self.dots = dots
        self.modes = Modes()
        self._blocks: list[tuple[Image.Image, int]] = []      # (picture, x)
        self._line: list[Span] = []
        self._transcript: list[str] = []
        self._errors: list[str] = []
        self._decoder = codecs.getincrementaldecoder("cp437")()
        self._content = False

    @property
    def has_content(self) -> bool:
        return self._content or bool(self._line)

    def note(self, text: str) -> None:
        self._transcript.append(text)
        self._content = True

    def error(self, message: str) -> None:
        self._errors.append(message)
        self.note(f"[ERROR] {message}")

    # -- commands ------------------------------------------------------------------------------
    def apply(self, command: Command) -> None:
        name, args = command.name, command.args
        handler = getattr(self, f"_do_{name}", None)
        if name == "error":
            self.error(command.message)
        elif handler is not None:
            handler(command)
        elif name != "ignored":
            self.error(f"command {name} {args} is not supported")

    def _do_text(self, command: Command) -> None:
        text = self._decoder.decode(command.data)
        if "\ufffd" in text:
            self.error(f"bytes at offset {command.offset} are not valid "
                       f"{'GB18030' if self.modes.chinese else CODEPAGES.get(self.modes.codepage, 'cp437')}")
        for ch in text.replace("\t", "    "):
            span = Span(ch, self.modes.style, self.modes.chinese)
            if self._line_width() + span.width() > self.dots:
                self._print_line()                       # the printer wraps a full line by itself
            if self._line and self._line[-1].image is None and self._line[-1].style == span.style \
                    and self._line[-1].double_byte == span.double_byte:
                self._line[-1].text += ch
            else:
                self._line.append(span)

    def _do_lf(self, command: Command) -> None:
        self._print_line(blank_if_empty=True)

    def _do_init(self, command: Command) -> None:
        self._set_decoder(chinese=False, codepage=0)
        self._line.clear()
        self.modes = Modes()

    def _do_mode(self, command: Command) -> None:
        n = command.args[0]
        self.modes.style = replace(self.modes.style, font_b=bool(n & 1), bold=bool(n & 8), height=2 if n & 16 else 1,
                                   width=2 if n & 32 else 1, underline=bool(n & 128))

    def _do_kanji_mode(self, command: Command) -> None:
        n = command.args[0]
        self.modes.style = replace(self.modes.style, width=2 if n & 4 else 1, height=2 if n & 8 else 1,
                                   underline=bool(n & 128))

    def _do_size(self, command: Command) -> None:
        n = command.args[0]
        width, height = (n >> 4) + 1, (n & 7) + 1
        if width > 8 or height > 8:
            self.error(f"GS ! with an invalid size 0x{n:02X} at offset {command.offset}")
            return
        self.modes.style = replace(self.modes.style, width=width, height=height)

    def _do_bold(self, command: Command) -> None:
        self.modes.style = replace(self.modes.style, bold=bool(command.args[0] & 1))

    def _do_underline(self, command: Command) -> None:
        self.modes.style = replace(self.modes.style, underline=command.args[0] in (1, 2, 49, 50))

    def _do_invert(self, command: Command) -> None:
        self.modes.style = replace(self.modes.style, invert=bool(command.args[0] & 1))

    def _do_font(self, command: Command) -> None:
        self.modes.style = replace(self.modes.style, font_b=command.args[0] in (1, 49))

    def _do_align(self, command: Command) -> None:
        n = command.args[0]
        self.modes.align = n - 48 if n >= 48 else n
        if self.modes.align not in (0, 1, 2):
            self.error(f"ESC a with an invalid justification {n} at offset {command.offset}")
            self.modes.align = 0

    def _do_line_spacing(self, command: Command) -> None:
        self.modes.spacing = command.args[0] if command.args else DEFAULT_SPACING

    def _do_feed_lines(self, command: Command) -> None:
        self._print_line()
        self._feed(command.args[0] * self.modes.spacing)

    def _do_feed_dots(self, command: Command) -> None:
        self._print_line()
        self._feed(command.args[0])

    def _do_codepage(self, command: Command) -> None:
        if command.args[0] not in CODEPAGES:
            self.error(f"ESC t {command.args[0]}: code page not in this printer, using CP437")
        self._set_decoder(chinese=self.modes.chinese, codepage=command.args[0])

    def _do_chinese_on(self, command: Command) -> None:
        self._set_decoder(chinese=True, codepage=self.modes.codepage)

    def _do_chinese_off(self, command: Command) -> None:
        self._set_decoder(chinese=False, codepage=self.modes.codepage)

    def _do_barcode_height(self, command: Command) -> None:
        self.modes.barcode_height = max(command.args[0], 1)

    def _do_barcode_module(self, command: Command) -> None:
        self.modes.barcode_module = min(max(command.args[0], 1), 6)

    def _do_barcode_hri(self, command: Command) -> None:
        self.modes.barcode_hri = command.args[0] - 48 if command.args[0] >= 48 else command.args[0]

    def _do_cut(self, command: Command) -> None:
        self._print_line()
        if len(command.args) > 1:
            self._feed(command.args[1])
        self.note("[PARTIAL CUT]" if command.args[0] in (1, 49, 66, 98, 104) else "[CUT]")

    def _do_raster(self, command: Command) -> None:
        mode, width_bytes, height = command.args
        picture = Image.frombytes("1", (width_bytes * 8, height), command.data, "raw", "1;I").convert("L")
        if mode & 1:
            picture = picture.resize((picture.width * 2, picture.height), Image.Resampling.NEAREST)
        if mode & 2:
            picture = picture.resize((picture.width, picture.height * 2), Image.Resampling.NEAREST)
        digest = hashlib.sha1(command.data).hexdigest()[:12]
        self._block(picture, f"[IMAGE {width_bytes * 8}x{height} sha1={digest}]")

    def _do_column_image(self, command: Command) -> None:
        mode, columns = command.args
        rows = 24 if mode >= 32 else 8
        picture = Image.new("L", (columns, rows), 255)
        pixels = picture.load()
        per_column = rows // 8
        for x in range(columns):
            for row in range(rows):
                if command.data[x * per_column + row // 8] & (0x80 >> (row % 8)):
                    pixels[x, row] = 0
        if mode in (0, 32):
            picture = picture.resize((columns * 2, rows), Image.Resampling.NEAREST)
        self._line.append(Span(f"[COLUMN IMAGE {picture.width}x{rows}]", self.modes.style, False, picture))

    def _do_code2d(self, command: Command) -> None:
        symbol, function = command.args
        data = command.data
        if symbol != 49:
            self.note(f"[IGNORED] 2D code symbol {symbol} function {function} (only QR codes are printed)")
        elif function == 65:
            if data[:1] not in (b"1", b"2"):
                self.error(f"GS ( k QR model {data[:1]!r} is not supported at offset {command.offset}")
        elif function == 67:
            if len(data) != 1 or not 1 <= data[0] <= 16:
                self.error(f"GS ( k QR module size {data!r} outside 1-16 at offset {command.offset}")
            else:
                self.modes.qr_size = data[0]
        elif function == 69:
            if len(data) != 1 or data[0] not in QR_LEVELS:
                self.error(f"GS ( k QR error correction {data!r} is not L/M/Q/H at offset {command.offset}")
            else:
                self.modes.qr_level = data[0]
        elif function == 80:
            self.modes.qr_data = data[1:] if data[:1] == b"0" else None
            if self.modes.qr_data is None:
                self.error(f"GS ( k QR store without the m=48 byte at offset {command.offset}")
        elif function == 81:
            self._print_qr(command)
        elif function != 82:
            self.error(f"GS ( k QR function {function} is unknown at offset {command.offset}")

    def _print_qr(self, command: Command) -> None:
        if not self.modes.qr_data:
            self.error(f"GS ( k QR print with no stored data at offset {command.offset}")
            return
        try:
            picture = qr_picture(self.modes.qr_data, self.modes.qr_level, self.modes.qr_size)
        except ValueError as exc:
            self.error(f"GS ( k QR data cannot be encoded ({exc}) at offset {command.offset}")
            return
        if picture.width > self.dots:
            self.error(f"QR code {picture.width} dots wide does not fit the {self.dots}-dot paper: not printed")
            return
        self._block(picture, "[QR] " + self.modes.qr_data.decode("utf-8", "replace"))

    def _do_barcode(self, command: Command) -> None:
        kind = BARCODES.get(command.args[0])
        text = code128_text(command.data) if kind == "code128" else command.data.decode("ascii", "replace")
        if kind is None:
            self.error(f"GS k barcode system {command.args[0]} is not supported by this printer")
            return
        try:
            picture = barcode_picture(kind, text, self.modes.barcode_module, self.modes.barcode_height)
        except ValueError as exc:
            self.error(f"GS k {kind.upper()} data {text!r} is not valid: {exc}")
            return
        if picture.width > self.dots:
            self.error(f"{kind.upper()} barcode {picture.width} dots wide does not fit the paper: not printed")
            return
        self._block(picture, f"[BARCODE {kind.upper()}] {text}")
        if self.modes.barcode_hri in (2, 3):
            self._do_text(Command("text", data=text.encode("ascii", "replace")))
            self._print_line()

    # -- lines and blocks ------------------------------------------------------------------------
    def _set_decoder(self, *, chinese: bool, codepage: int) -> None:
        tail = self._decoder.decode(b"", final=True)
        if tail:
            self.error("a multi-byte character was cut off by a mode change")
        self.modes.chinese, self.modes.codepage = chinese, codepage
        encoding = "gb18030" if chinese else CODEPAGES.get(codepage, "cp437")
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")

    def _line_width(self) -> int:
        return sum(span.width() for span in self._line)

    def _x(self, width: int) -> int:
        return {0: 0, 1: (self.dots - width) // 2, 2: self.dots - width}[self.modes.align] if width < self.dots else 0

    def _feed(self, dots: int) -> None:
        if dots > 0:
            self._blocks.append((Image.new("L", (1, dots), 255), 0))
            self._content = True

    def _print_line(self, blank_if_empty: bool = False) -> None:
        if not self._line:
            if blank_if_empty:
                self._feed(self.modes.spacing)
                self._transcript.append("")
            return
        pictures = [span.image if span.image is not None else _draw_text(span) for span in self._line]
        height = max(self.modes.spacing, *(p.height for p in pictures))
        width = sum(p.width for p in pictures)
        line = Image.new("L", (width, height), 255)
        x = 0
        for picture in pictures:
            line.paste(picture, (x, 0))
            x += picture.width
        self._blocks.append((line, self._x(width)))
        self._transcript.append("".join(span.text for span in self._line))
        self._line.clear()
        self._content = True

    def _block(self, picture: Image.Image, transcript: str) -> None:
        self._print_line()
        self._blocks.append((picture, self._x(picture.width)))
        self.note(transcript)

    def finish(self) -> PrintedJob:
        self._print_line()
        tail = self._decoder.decode(b"", final=True)
        if tail.strip("\ufffd") != tail:
            self.error("the job ended inside a multi-byte character")
        height = sum(p.height for p, _x in self._blocks) + 2 * MARGIN
        paper = Image.new("L", (self.dots, height), 255)
        y = MARGIN
        for picture, x in self._blocks:
            paper.paste(picture.crop((0, 0, min(picture.width, self.dots - x), picture.height)), (x, y))
            y += picture.height
        return PrintedJob(paper, "\n".join(self._transcript) + "\n", tuple(self._errors))
