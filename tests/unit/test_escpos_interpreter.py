"""The virtual printer's ESC/POS interpreter: every command it knows, and bad input (truncated,
unknown, garbled) turned into a clear error in the transcript instead of an exception."""

from __future__ import annotations

import hashlib

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from printers.virtual.interpreter import CommandParser
from printers.virtual.page import Page
from printers.virtual.symbols import code128_text
from printers.virtual.state import PrinterState

ESC, GS, FS, DLE = b"\x1b", b"\x1d", b"\x1c", b"\x10"


def run(data: bytes, dots: int = 384, pieces: int = 1):
    parser, page = CommandParser(), Page(dots)
    step = max(1, len(data) // pieces)
    commands = []
    for start in range(0, len(data), step):
        commands += parser.feed(data[start:start + step])
    commands += parser.finish()
    for command in commands:
        page.apply(command)
    return commands, page.finish()


def black_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    return image.point(lambda v: 255 - v).getbbox()


def qr_store(payload: bytes) -> bytes:
    size = len(payload) + 3
    return GS + b"(k" + bytes([size & 0xFF, size >> 8]) + b"1P0" + payload


QR_PRINT = GS + b"(k\x03\x001Q0"


def test_text_and_line_feed() -> None:
    commands, job = run(ESC + b"@" + b"Hello\nWorld\n")
    assert [c.name for c in commands] == ["init", "text", "lf", "text", "lf"]
    assert job.transcript.splitlines() == ["Hello", "World"]
    assert job.errors == ()
    assert job.image.width == 384 and black_box(job.image) is not None


def test_init_resets_modes_and_clears_the_line() -> None:
    _c, job = run(ESC + b"!\x38" + ESC + b"a\x01" + b"lost" + ESC + b"@" + b"kept\n")
    assert job.transcript.splitlines() == ["kept"]
    left, _top, right, _bottom = black_box(job.image)
    assert left < 4 and right <= 4 * 12 + 2         # left aligned, normal width


def test_esc_bang_double_width_and_height() -> None:
    _c, normal = run(b"WWWW\n")
    _c, big = run(ESC + b"!\x30" + b"WWWW\n")
    n, b = black_box(normal.image), black_box(big.image)
    assert (b[2] - b[0]) >= 2 * (n[2] - n[0]) - 4
    assert (b[3] - b[1]) >= 2 * (n[3] - n[1]) - 4


def test_gs_bang_sizes_and_rejects_invalid() -> None:
    _c, job = run(GS + b"!\x11" + b"AB\n")
    box = black_box(job.image)
    assert box[2] - box[0] > 30                        # 2 characters x 24 dots
    _c, bad = run(GS + b"!\x99" + b"AB\n")
    assert "GS ! with an invalid size" in bad.transcript


def test_esc_e_bold_makes_darker_text() -> None:
    _c, plain = run(b"MMMM\n")
    _c, bold = run(ESC + b"E\x01" + b"MMMM\n")

    def ink(image: Image.Image) -> int:
        return sum(image.histogram()[:128])

    assert ink(bold.image) > ink(plain.image)


@pytest.mark.parametrize(("n", "where"), [(0, "left"), (1, "center"), (2, "right"), (49, "center")])
def test_esc_a_alignment(n: int, where: str) -> None:
    _c, job = run(ESC + b"a" + bytes([n]) + b"ABCD\n")
    left, _t, right, _b = black_box(job.image)
    middle = (left + right) / 2
    expected = {"left": 24, "center": 192, "right": 384 - 24}[where]
    assert abs(middle - expected) < 8


def test_esc_d_feeds_lines() -> None:
    _c, short = run(b"A\n")
    _c, fed = run(b"A\n" + ESC + b"d\x04")
    assert fed.image.height - short.image.height == 4 * 30


def test_qr_store_and_print_decodes_back() -> None:
    payload = b"VS1.ticket-42.signature_AbC-123"
    commands, job = run(ESC + b"a\x01" + GS + b"(k\x04\x001A2\x00" + GS + b"(k\x03\x001C\x06"
                        + GS + b"(k\x03\x001E1" + qr_store(payload) + QR_PRINT + b"\n")
    assert "[QR] VS1.ticket-42.signature_AbC-123" in job.transcript
    assert job.errors == ()
    decoded = zxingcpp.read_barcodes(job.image)
    assert [d.text for d in decoded] == [payload.decode()]


def test_qr_errors_are_clear() -> None:
    _c, job = run(QR_PRINT)
    assert "QR print with no stored data" in job.transcript
    _c, job = run(GS + b"(k\x03\x001C\x20")
    assert "module size" in job.transcript
    _c, job = run(GS + b"(k\x03\x001Eq")
    assert "error correction" in job.transcript
    _c, huge = run(GS + b"(k\x03\x001C\x10" + qr_store(b"x" * 1500) + QR_PRINT)
    assert "does not fit" in huge.transcript or "cannot be encoded" in huge.transcript


def test_barcode_function_b_code128_and_function_a_ean13() -> None:
    data = b"{BR2026-0042"
    _c, job = run(GS + b"h\x50" + GS + b"w\x02" + GS + b"H\x02" + GS + b"kI" + bytes([len(data)]) + data)
    assert "[BARCODE CODE128] R2026-0042" in job.transcript
    assert "R2026-0042" in job.transcript.splitlines()      # the human-readable line below
    assert [d.text for d in zxingcpp.read_barcodes(job.image)] == ["R2026-0042"]
    _c, ean = run(GS + b"k\x02" + b"123456789012\x00")
    assert "[BARCODE EAN13] 123456789012" in ean.transcript
    assert zxingcpp.read_barcodes(ean.image)[0].text == "1234567890128"


def test_code128_code_sets() -> None:
    assert code128_text(b"{BAB{C\x0c\x22{{") == "AB1234{"


def test_barcode_errors() -> None:
    _c, job = run(GS + b"kI\x03{Bx\n")
    assert job.errors == () and "[BARCODE CODE128] x" in job.transcript
    _c, bad = run(GS + b"k\x02" + b"12AB\x00")
    assert "EAN13" in bad.transcript and "not valid" in bad.transcript
    _c, unknown = run(GS + b"k\x4a\x02ab")
    assert "barcode system 74 is not supported" in unknown.transcript
    _c, nonsense = run(GS + b"k\x20")
    assert "unknown barcode system" in nonsense.transcript


def test_raster_image_is_blitted() -> None:
    width_bytes, height = 2, 3
    data = bytes([0xFF, 0x00, 0x00, 0xFF, 0x80, 0x01])
    _c, job = run(GS + b"v0\x00" + bytes([width_bytes, 0, height, 0]) + data)
    assert f"[IMAGE 16x3 sha1={hashlib.sha1(data).hexdigest()[:12]}]" in job.transcript
    pixels = job.image.load()
    top = 16   # page margin
    assert pixels[0, top] == 0 and pixels[7, top] == 0 and pixels[8, top] == 255
    assert pixels[15, top + 1] == 0 and pixels[0, top + 2] == 0 and pixels[15, top + 2] == 0


def test_raster_with_impossible_size() -> None:
    _c, job = run(GS + b"v0\x00\xff\xff\xff\xff" + b"after\n")
    assert "impossible size" in job.transcript
    assert "after" in job.transcript


def test_cuts() -> None:
    commands, job = run(b"A\n" + GS + b"V\x00")
    assert commands[-1].name == "cut" and job.transcript.splitlines()[-1] == "[CUT]"
    commands, job = run(b"A\n" + GS + b"VB\x10")
    assert commands[-1].args == (66, 16) and "[PARTIAL CUT]" in job.transcript
    _c, job = run(GS + b"V\x07")
    assert "unknown cut mode" in job.transcript


def test_dle_eot_is_a_status_query() -> None:
    commands, _job = run(DLE + b"\x04\x01" + DLE + b"\x04\x04")
    assert [(c.name, c.args) for c in commands] == [("status", (1,)), ("status", (4,))]


def test_status_bytes_of_the_state() -> None:
    state = PrinterState()
    assert (state.status_byte(1), state.status_byte(4)) == (0x12, 0x12)
    state.paper = "near_end"
    assert (state.status_byte(1), state.status_byte(4)) == (0x12, 0x1E)
    state.paper = "out"
    assert (state.status_byte(1), state.status_byte(4)) == (0x1A, 0x72)
    state.paper, state.online = "ok", False
    assert state.status_byte(1) == 0x1A and state.status_byte(9) is None


def test_chinese_mode_gb18030_text() -> None:
    text = "流浪地球2 3号厅"
    _c, job = run(FS + b"&" + text.encode("gb18030") + b"\n" + FS + b"." + b"done\n")
    assert job.transcript.splitlines() == [text, "done"]
    assert job.errors == ()


def test_gb18030_character_split_between_packets() -> None:
    data = FS + b"&" + "金额：¥45".encode("gb18030") + b"\n"
    for pieces in (2, 3, 5, len(data)):
        _c, job = run(data, pieces=pieces)
        assert job.transcript.splitlines() == ["金额：¥45"], pieces


def test_invalid_gb18030_bytes_are_reported() -> None:
    _c, job = run(FS + b"&" + b"\x81\x20ok\n")
    assert "not valid GB18030" in job.transcript


def test_without_chinese_mode_text_uses_the_code_page() -> None:
    _c, job = run(ESC + b"t\x10" + "Café".encode("cp1252") + b"\n")
    assert job.transcript.splitlines() == ["Café"]
    _c, job = run(ESC + b"t\x63" + b"x\n")
    assert "code page not in this printer" in job.transcript


def test_wide_text_wraps_at_the_paper_edge() -> None:
    _c, job = run(b"X" * 40 + b"\n")                 # 32 columns on 58 mm paper
    assert job.transcript.splitlines() == ["X" * 32, "X" * 8]


@pytest.mark.parametrize("command", [
    ESC + b"!\x08", ESC + b"a\x01", ESC + b"d\x03", GS + b"!\x11", GS + b"V\x42\x00",
    GS + b"k\x49\x05{B123", GS + b"k\x02123", GS + b"v0\x00\x02\x00\x02\x00\xff\x00\xff",
    GS + b"(k\x06\x001P0abc", DLE + b"\x04\x04", ESC + b"*\x21\x02\x00" + b"\xff" * 6,
])
def test_every_truncation_is_one_clear_error(command: bytes) -> None:
    for cut in range(1, len(command)):
        parser = CommandParser()
        assert parser.feed(command[:cut]) == [], (command, cut)   # waits for the rest
        leftovers = parser.finish()
        assert len(leftovers) == 1 and leftovers[0].name == "error"
        assert "truncated command" in leftovers[0].message and "offset 0" in leftovers[0].message
        page = Page(384)
        page.apply(leftovers[0])
        assert "[ERROR] truncated command" in page.finish().transcript


def test_a_truncated_command_arrives_whole_later() -> None:
    parser = CommandParser()
    assert parser.feed(GS + b"(k\x06\x00") == []
    commands = parser.feed(b"1P0abc")
    assert [(c.name, c.data) for c in commands] == [("code2d", b"0abc")]


def test_unknown_commands_are_skipped_with_an_error() -> None:
    _c, job = run(ESC + b"\x7f" + GS + b"Z" + b"\x07" + b"still here\n")
    lines = job.transcript.splitlines()
    assert "[ERROR] unknown command ESC 0x7F at offset 0" in lines
    assert "[ERROR] unknown command GS Z at offset 2" in lines
    assert "[ERROR] unknown control byte 0x07 at offset 4" in lines
    assert "still here" in lines


def test_column_image_esc_star() -> None:
    _c, job = run(ESC + b"*\x21\x02\x00" + b"\xff\x00\x00" * 2 + b"\n")
    assert "[COLUMN IMAGE 2x24]" in job.transcript


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_never_raises(data: bytes) -> None:
    _c, job = run(data)
    assert job.image.width == 384


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=120), st.integers(min_value=2, max_value=7))
def test_pieces_do_not_change_what_is_printed(data: bytes, pieces: int) -> None:
    """A job that arrives in several TCP segments prints like one that arrives whole."""
    whole, split = run(data)[1], run(data, pieces=pieces)[1]
    printed = [line for line in whole.transcript.splitlines() if not line.startswith("[ERROR]")]
    assert printed == [line for line in split.transcript.splitlines() if not line.startswith("[ERROR]")]
    assert bool(whole.errors) == bool(split.errors)
