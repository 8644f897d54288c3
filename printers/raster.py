"""Text lines drawn as pixels, for printers printing Chinese as images (``chinese = "raster"``)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from printers.fonts import CELL, LINE, load_font, text_columns

LINE_GAP = 6     # dots between lines, like the printer's default 30-dot line spacing
BASELINE = 21    # Hanzi fill dots 0-23 above it; descenders reach into the gap


def text_line_image(text: str, paper_dots: int, *, bold: bool = False, width: int = 1, height: int = 1,
                    align: str = "left") -> Image.Image:
    """One line of text as a 1-bit image as wide as the paper, placed like the printer would."""
    columns = text_columns(text)
    glyphs = Image.new("L", (max(columns * CELL, 1), LINE + LINE_GAP), 255)
    draw = ImageDraw.Draw(glyphs)
    font = load_font(bold)
    x = 0
    for ch in text:
        # one glyph per cell keeps the 12/24-dot grid even where the font's advance differs
        draw.text((x, BASELINE), ch, font=font, fill=0, anchor="ls")
        x += CELL * (1 if ord(ch) < 0x80 else 2)
    if width != 1 or height != 1:
        glyphs = glyphs.resize((glyphs.width * width, glyphs.height * height), Image.Resampling.NEAREST)
    line = Image.new("L", (paper_dots, glyphs.height), 255)
    left = {"left": 0, "center": (paper_dots - glyphs.width) // 2, "right": paper_dots - glyphs.width}[align]
    line.paste(glyphs, (max(left, 0), 0))
    return line.point(lambda v: 0 if v < 128 else 255).convert("1")
