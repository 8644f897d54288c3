"""The CJK font used to draw text as pixels (raster mode and the virtual printer).

Noto Sans Mono CJK SC, from the same ``.ttc`` files as Noto Sans CJK SC (Debian's
``fonts-noto-cjk``): at 24 px its Latin glyphs are 12 dots wide and its Hanzi 24, the grid of
an ESC/POS printer's font A, so a line laid out in columns lands where the printer would put it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from suite.i18n import _

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/opentype/noto-cjk"),
             Path("/usr/share/fonts/noto-cjk"), Path("/usr/local/share/fonts"))
FAMILY = "Noto Sans Mono CJK SC"
FILES = {False: "NotoSansCJK-Regular.ttc", True: "NotoSansCJK-Bold.ttc"}
CELL = 12        # dots of a half-width character of font A
LINE = 24        # dots of font A's height


class FontMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int


@lru_cache(maxsize=4)
def find_face(bold: bool = False) -> FontFace:
    """Locate the mono CJK face (regular or bold); ``FontMissing`` says what to install."""
    for folder in FONT_DIRS:
        path = folder / FILES[bold]
        if not path.exists():
            continue
        for index in range(16):
            try:
                font = ImageFont.truetype(str(path), LINE, index=index)
            except OSError:
                break
            if font.getname()[0] == FAMILY:
                return FontFace(str(path), index)
    raise FontMissing(_("The CJK font {family} was not found (install the fonts-noto-cjk package).").format(
        family=FAMILY))


@lru_cache(maxsize=16)
def load_font(bold: bool = False, size: int = LINE) -> ImageFont.FreeTypeFont:
    face = find_face(bold)
    return ImageFont.truetype(face.path, size, index=face.index)


def char_columns(ch: str) -> int:
    """Columns a character takes in Chinese mode: ASCII one, anything else two (24 dots)."""
    return 1 if ord(ch) < 0x80 else 2


def text_columns(text: str) -> int:
    return sum(char_columns(ch) for ch in text)
