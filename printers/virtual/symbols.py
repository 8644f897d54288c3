"""QR codes and barcodes as the printer draws them: ``qrcode`` and ``python-barcode`` do the
encoding, these functions turn the result into dots."""

from __future__ import annotations

import barcode as pybarcode
import qrcode
from PIL import Image, ImageDraw

# GS k barcode systems (function A 0-6, function B 65-73) -> python-barcode names
BARCODES = {0: "upca", 65: "upca", 2: "ean13", 67: "ean13", 3: "ean8", 68: "ean8", 4: "code39", 69: "code39",
            5: "itf", 70: "itf", 6: "codabar", 71: "codabar", 73: "code128"}
# GS ( k function 69: error correction 48-51 = L, M, Q, H
QR_LEVELS = {48: qrcode.constants.ERROR_CORRECT_L, 49: qrcode.constants.ERROR_CORRECT_M,
             50: qrcode.constants.ERROR_CORRECT_Q, 51: qrcode.constants.ERROR_CORRECT_H}


def code128_text(data: bytes) -> str:
    """ESC/POS CODE128 data (``{A``/``{B``/``{C`` code-set switches, ``{{`` for ``{``) as text."""
    text, code_set, index = [], "B", 0
    while index < len(data):
        byte = data[index]
        if byte == ord("{") and index + 1 < len(data):
            following = chr(data[index + 1])
            if following in "ABC":
                code_set, index = following, index + 2
                continue
            if following == "{":
                text.append("{")
                index += 2
                continue
        text.append(f"{byte:02d}" if code_set == "C" else chr(byte))
        index += 1
    return "".join(text)


def qr_picture(data: bytes, level: int, module: int) -> Image.Image:
    """The QR symbol the printer prints (no quiet zone: the paper around it is the margin)."""
    code = qrcode.QRCode(error_correction=QR_LEVELS[level], box_size=module, border=0)
    try:
        code.add_data(data)
        code.make(fit=True)
    except qrcode.exceptions.DataOverflowError as exc:
        raise ValueError(str(exc) or "too much data for a QR code") from None
    return code.make_image().get_image().convert("L")


def barcode_picture(kind: str, text: str, module: int, height: int) -> Image.Image:
    try:
        pattern = pybarcode.get(kind, text).build()[0]
    except Exception as exc:  # noqa: BLE001 - python-barcode raises many kinds for bad data
        raise ValueError(str(exc) or type(exc).__name__) from None
    picture = Image.new("L", (len(pattern) * module, height), 255)
    draw = ImageDraw.Draw(picture)
    for index, bit in enumerate(pattern):
        if bit == "1":
            draw.rectangle((index * module, 0, index * module + module - 1, height - 1), fill=0)
    return picture
