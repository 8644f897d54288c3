"""The ESC/POS printer driver against the virtual printer, over real TCP and a pseudo-terminal:
python-escpos sends, our interpreter renders, and the tests read the PNG and the transcript."""

from __future__ import annotations

import argparse
import base64
import hashlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from escpos.image import EscposImage
from PIL import Image

from printers.device import PaperOut, Printer, PrinterOffline, PrinterUnreachable, open_printer
from printers.fonts import text_columns
from printers.layouts import BUILTIN_LAYOUTS, RECEIPT, TICKET
from printers.raster import text_line_image
from printers.render import render_job
from printers.samples import sample_data
from printers.settings import PAPER, PaperSettings, printer_settings
from printers.virtual import VirtualPrinter
from printers.virtual.interpreter import CommandParser
from printers.virtual.page import Page
import suite.i18n as i18n
from suite.device_host import DeviceConfig, DeviceHost
from suite.errors import ConfigError, InvalidInput
from suite.events import DeviceHealth

MakePrinter = Callable[..., Printer]


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualPrinter]:
    printer = VirtualPrinter(tmp_path / "jobs", paper_mm=80, port=0).start()
    yield printer
    printer.stop()


def config(device_id: str = "printer1", **options: Any) -> DeviceConfig:
    return DeviceConfig(device_id, "escpos-printer", {"timeout": 0.5, "poll_seconds": 0, **options})


@pytest.fixture
def make_printer(tmp_path: Path) -> Iterator[MakePrinter]:
    made: list[Printer] = []

    def make(target: VirtualPrinter | None = None, *, start: bool = True, **options: Any) -> Printer:
        if target is not None:
            options = {"host": "127.0.0.1", "port": target.port, "paper": 58 if target.dots == 384 else 80,
                       **options}
        options.setdefault("queue_dir", str(tmp_path / "queue"))
        printer = open_printer(config(**options), lambda _event: None)
        made.append(printer)
        if start:
            printer.start()
        return printer

    yield make
    for printer in made:
        printer.stop()


def signed_payload(ticket_no: str) -> str:
    key = Ed25519PrivateKey.generate()
    body = base64.urlsafe_b64encode(f'{{"t":"{ticket_no}","s":"SESS-1930","seat":"F-12"}}'.encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(key.sign(body)).rstrip(b"=")
    return f"VS1.{body.decode()}.{signature.decode()}"


def zbar(png: Path) -> list[str]:
    result = subprocess.run(["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
                            capture_output=True, text=True, timeout=20)
    return [line for line in result.stdout.splitlines() if line]


def text_lines(transcript: str) -> list[str]:
    return [line for line in transcript.splitlines() if not line.startswith("[")]


# -- receipts: English and Chinese, GB18030 and raster, 58 and 80 mm ------------------------------

@pytest.mark.parametrize("paper_mm", [58, 80])
@pytest.mark.parametrize("chinese", ["gb18030", "raster"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_receipt(tmp_path: Path, make_printer: MakePrinter, paper_mm: int, chinese: str, language: str) -> None:
    columns, dots = PAPER[paper_mm]
    data = sample_data("receipt", chinese=language == "zh")
    with VirtualPrinter(tmp_path / "out", paper_mm=paper_mm, port=0) as virtual:
        printer = make_printer(virtual, chinese=chinese)
        printer.print_layout(RECEIPT, data)
        [job] = virtual.wait_for_jobs(1)
    assert job.printed and job.errors == ()
    assert Image.open(job.png).width == dots
    raw = (tmp_path / "out" / "job-0001.bin").read_bytes()
    lines = text_lines(job.transcript)
    assert all(text_columns(line) <= columns for line in lines)
    total = next(line for line in lines if line.startswith("Total"))
    assert text_columns(total) == columns and total.endswith("141.00")          # amount right-aligned
    assert [d.text for d in zxingcpp.read_barcodes(Image.open(job.png))] == ["R20261122-0042"]
    chinese_lines = [line for line in (
        "爆米花（大） x1" + " " * (columns - 20) + "35.00", "会员卡" + " " * (columns - 12) + "141.00")]
    if language == "en":
        assert b"\x1dv0" not in raw and "[IMAGE" not in job.transcript      # plain text in both modes
        assert "Popcorn (large) x1" in job.transcript
    elif chinese == "gb18030":
        assert b"\x1c&" in raw and "爆米花（大）".encode("gb18030") in raw
        assert set(chinese_lines) <= set(lines)
    else:
        assert b"\x1c&" not in raw and not any(ord(ch) > 0x7F for line in lines for ch in line)
        for line in chinese_lines:       # each Chinese line arrived as the picture the driver drew
            bits = EscposImage(text_line_image(line, dots)).to_raster_format()
            assert f"[IMAGE {dots}x30 sha1={hashlib.sha1(bits).hexdigest()[:12]}]" in job.transcript


# -- the ticket's QR code decodes back to the signed payload ---------------------------------------

@pytest.mark.parametrize(("paper_mm", "qr", "chinese"), [(58, "native", "gb18030"), (80, "native", "raster"),
                                                         (58, "image", "raster"), (80, "image", "gb18030")])
def test_ticket_qr_code_decodes_to_the_payload(tmp_path: Path, make_printer: MakePrinter, paper_mm: int, qr: str,
                                               chinese: str) -> None:
    data = {**sample_data("ticket", chinese=True), "qr_payload": signed_payload("T-20261122-00042")}
    with VirtualPrinter(tmp_path / "out", paper_mm=paper_mm, port=0) as virtual:
        make_printer(virtual, qr=qr, chinese=chinese).print_layout(TICKET, data)
        [job] = virtual.wait_for_jobs(1)
    assert job.errors == ()
    assert zbar(job.png) == [data["qr_payload"]]
    assert [d.text for d in zxingcpp.read_barcodes(Image.open(job.png))] == [data["qr_payload"]]
    if qr == "native":
        assert f"[QR] {data['qr_payload']}" in job.transcript
    lines = text_lines(job.transcript)
    assert any(line.startswith("Seat") and line.endswith("Row F Seat 12") for line in lines)
    assert any(line.startswith("Price") and line.endswith("45.00") for line in lines)
    assert any(line.startswith("Ticket No.") and line.endswith("T-20261122-00042") for line in lines)
    if chinese == "gb18030":
        assert "流浪地球2" in lines and any(line.endswith("3号厅 IMAX") for line in lines)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_layout_fits_both_widths_in_both_modes(language: str) -> None:
    """Labels are translated when a job is rendered: both languages must fit 32 and 48 columns."""
    previous = i18n.current_language()
    i18n.set_language(language)
    try:
        for layout_id, layout in BUILTIN_LAYOUTS.items():
            for paper_mm, (columns, dots) in PAPER.items():
                for chinese in ("gb18030", "raster"):
                    job = render_job(layout, sample_data(layout_id, chinese=language != "en"),
                                     PaperSettings(paper_mm, chinese))
                    parser, page = CommandParser(), Page(dots)
                    for command in parser.feed(job) + parser.finish():
                        page.apply(command)
                    printed = page.finish()
                    assert printed.errors == (), (layout_id, paper_mm, chinese)
                    assert printed.transcript.rstrip().endswith("[CUT]")
                    assert all(text_columns(line) <= columns for line in text_lines(printed.transcript))
    finally:
        i18n.set_language(previous)


def test_missing_data_is_a_clear_error() -> None:
    data = sample_data("ticket")
    del data["hall"]
    with pytest.raises(InvalidInput, match="ticket: the data has no value for hall"):
        render_job(TICKET, data, PaperSettings())
    with pytest.raises(InvalidInput, match="too long for 58 mm"):
        render_job(RECEIPT, {**sample_data("receipt"), "receipt_no": "R" * 40}, PaperSettings(58))


# -- status: paper out, near end, offline, lost -----------------------------------------------------

def test_paper_out_queues_the_job_until_a_reprint_after_a_restart(
        tmp_path: Path, virtual: VirtualPrinter, make_printer: MakePrinter) -> None:
    data = {**sample_data("ticket"), "qr_payload": signed_payload("T-1")}
    virtual.state.paper = "out"
    printer = make_printer(virtual)
    with pytest.raises(PaperOut, match="out of paper: load a new roll.*reprint queue as number 1") as caught:
        printer.print_layout(TICKET, data)
    assert caught.value.details["job_id"] == 1
    assert printer.health() == (False, "Printer printer1 is out of paper: load a new roll. "
                                       "1 job waits in the reprint queue.")
    time.sleep(0.2)
    assert virtual.jobs == []
    printer.stop()

    restarted = make_printer(virtual)                      # a new Printer: the queue comes from disk
    [queued] = restarted.queued()
    assert (queued.id, queued.layout_id, queued.attempts) == (1, "ticket", 1)
    assert "out of paper" in queued.error
    with pytest.raises(PaperOut):
        restarted.reprint(1)
    assert restarted.queued()[0].attempts == 2
    virtual.state.paper = "ok"
    restarted.reprint(1)
    [job] = virtual.wait_for_jobs(1)
    assert zbar(job.png) == [data["qr_payload"]]
    assert restarted.queued() == [] and restarted.health() == (True, "")
    assert job.png.with_suffix(".bin").read_bytes() == render_job(TICKET, data, restarted.settings.paper)


def test_paper_near_end_prints_and_warns(virtual: VirtualPrinter, make_printer: MakePrinter) -> None:
    virtual.state.paper = "near_end"
    printer = make_printer(virtual)
    printer.print_layout(RECEIPT, sample_data("receipt"))
    assert virtual.wait_for_jobs(1)[0].printed
    assert printer.health() == (True, "Printer printer1: the paper roll is nearly used up.")
    assert printer.queued() == []


def test_offline_is_a_clear_error(virtual: VirtualPrinter, make_printer: MakePrinter) -> None:
    printer = make_printer(virtual)
    virtual.state.online = False
    with pytest.raises(PrinterOffline, match="Printer printer1 is offline: close the cover"):
        printer.print_layout(RECEIPT, sample_data("receipt"))
    assert printer.health()[0] is False and "offline" in printer.health()[1]
    [queued] = printer.queued()
    printer.drop(queued.id)
    assert printer.queued() == [] and virtual.jobs == []


def test_lost_connection_makes_the_printer_not_alive(tmp_path: Path, make_printer: MakePrinter) -> None:
    virtual = VirtualPrinter(tmp_path / "out", port=0).start()
    printer = make_printer(virtual, poll_seconds=0.05)
    assert printer.alive() and printer.health() == (True, "")
    virtual.stop()
    deadline = time.monotonic() + 3
    while printer.alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not printer.alive()                               # noticed by the status poll, no job needed
    assert printer.health()[0] is False and "cannot be reached" in printer.health()[1]
    with pytest.raises(PrinterUnreachable, match=f"127.0.0.1:{virtual.port}"):
        printer.print_layout(RECEIPT, sample_data("receipt"))
    assert len(printer.queued()) == 1


def test_a_printer_that_is_not_there_does_not_start(make_printer: MakePrinter) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]                        # bound, not listening: refused
        printer = make_printer(host="127.0.0.1", port=port, start=False)
        with pytest.raises(PrinterUnreachable, match="cannot be reached at 127.0.0.1"):
            printer.start()
    assert not printer.alive()


def test_a_dropped_idle_connection_is_reopened(tmp_path: Path, make_printer: MakePrinter) -> None:
    first = VirtualPrinter(tmp_path / "out", port=0).start()
    port = first.port
    printer = make_printer(first)
    first.stop()                                             # the printer closes the idle connection
    with VirtualPrinter(tmp_path / "out", port=port) as second:
        printer.print_layout(RECEIPT, sample_data("receipt"))
        assert second.wait_for_jobs(1)[0].printed


# -- serial through a pseudo-terminal -----------------------------------------------------------------

def test_serial_printer_on_a_pty(virtual: VirtualPrinter, make_printer: MakePrinter) -> None:
    device = virtual.serve_pty()
    data = {**sample_data("ticket", chinese=True), "qr_payload": signed_payload("T-SERIAL")}
    printer = make_printer(transport="serial", device=device, baudrate=115200)
    printer.print_layout(TICKET, data)
    [job] = virtual.wait_for_jobs(1)
    assert zbar(job.png) == [data["qr_payload"]] and "流浪地球2" in job.transcript
    virtual.state.paper = "out"
    with pytest.raises(PaperOut):
        printer.print_layout(TICKET, data)
    assert printer.settings.where() == device


# -- the garbage a network port can get -----------------------------------------------------------------

def test_garbage_and_truncated_jobs_do_not_stop_the_virtual_printer(virtual: VirtualPrinter,
                                                                   make_printer: MakePrinter) -> None:
    with socket.create_connection(("127.0.0.1", virtual.port)) as raw:
        raw.sendall(b"\x1b@junk\x1b\x7f\x07\xff\xfe\n\x1dv0\x00\x10\x00")   # ends inside GS v 0
    [garbage] = virtual.wait_for_jobs(1)
    assert "[ERROR] unknown command ESC 0x7F" in garbage.transcript
    assert "[ERROR] truncated command GS v 0" in garbage.transcript
    make_printer(virtual).print_layout(RECEIPT, sample_data("receipt"))
    assert virtual.wait_for_jobs(2)[1].errors == ()


# -- configuration, the device host, the CLI --------------------------------------------------------

@pytest.mark.parametrize(("options", "complaint"), [
    ({"paper": 57}, "paper: expected one of 58, 80"), ({"transport": "bluetooth"}, "transport"),
    ({"chinese": "big5"}, "chinese"), ({"port": 0}, "port"), ({"transport": "serial"}, "device: required"),
    ({"profile": "no-such-printer"}, "profile"), ({"timeout": "fast"}, "timeout"),
])
def test_bad_options_name_the_option(tmp_path: Path, options: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ConfigError, match=r"\[devices.printer1\] " + complaint):
        printer_settings(config(queue_dir=str(tmp_path), **options))


def test_the_device_host_reports_printer_health(virtual: VirtualPrinter, tmp_path: Path) -> None:
    events: list[object] = []
    configs = [config(host="127.0.0.1", port=virtual.port, queue_dir=str(tmp_path / "q"), poll_seconds=0.05)]
    host = DeviceHost(configs, {"escpos-printer": open_printer}, events.append, poll_interval=0.05).start()
    try:
        host.device("printer1").print_layout(RECEIPT, sample_data("receipt"))   # type: ignore[attr-defined]
        virtual.state.paper = "near_end"
        deadline = time.monotonic() + 3
        while not any(isinstance(e, DeviceHealth) and "nearly used up" in e.message for e in events):
            assert time.monotonic() < deadline, events
            time.sleep(0.02)
    finally:
        host.stop()
    assert events[0] == DeviceHealth("printer1", True, "")
    assert virtual.wait_for_jobs(1)[0].printed


def test_cli_verbs(tmp_path: Path, virtual: VirtualPrinter, capsys: pytest.CaptureFixture[str]) -> None:
    from suite.commands import printer as verb
    from suite.commands.context import CommandContext

    site = tmp_path / "site.toml"
    site.write_text(f'[suite]\ndata_dir = "{tmp_path / "data"}"\n[devices.front]\nkind = "escpos-printer"\n'
                    f'host = "127.0.0.1"\nport = {virtual.port}\ntimeout = 0.5\npoll_seconds = 0\n')
    parser = argparse.ArgumentParser()
    for option in ("--config", "--lang", "--user"):
        parser.add_argument(option)
    parser.add_argument("--json", action="store_true")
    verb.configure("printer", parser)

    def run(*words: str) -> Any:
        args = parser.parse_args(["--config", str(site), *words])
        return args.func(CommandContext(args), args)

    assert run("print-test", "--layout", "receipt")["printer"] == "front"
    assert run("print-test", "--host", "127.0.0.1", "--port", str(virtual.port), "--paper", "58")["layout"] == "ticket"
    assert len(virtual.wait_for_jobs(2)) == 2
    assert run("virtual", "state", "--out", str(virtual.out_dir), "--paper-state", "out") == {"online": True,
                                                                                            "paper": "out"}
    with pytest.raises(PaperOut):
        run("print-test", "--device", "front")
    [queued] = run("queue", "list")
    assert queued["layout"] == "ticket" and "out of paper" in queued["error"]
    run("virtual", "state", "--out", str(virtual.out_dir), "--paper-state", "ok")
    assert run("queue", "reprint", str(queued["id"])) == {"reprinted": queued["id"], "waiting": 0}
    assert len(virtual.wait_for_jobs(3)) == 3
    with pytest.raises(ConfigError, match="No ESC/POS printer 'back'"):
        run("queue", "list", "--device", "back")
    assert (tmp_path / "data" / "printers" / "front" / "reprint-queue.sqlite3").exists()
