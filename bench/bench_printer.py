"""ESC/POS printing: ``python -m bench.bench_printer [--jobs N] [--quick]``.

1. Ticket job build: layout + data -> ESC/POS bytes (python-escpos Dummy), per paper width and
   Chinese mode.
2. Send to the virtual printer over loopback TCP and over a pseudo-terminal: ``print_bytes``
   (status query DLE EOT 1 + DLE EOT 4, then the job) until it returns, and until the virtual
   printer has rendered and saved the job.
3. Render time at the virtual printer (interpret, draw, write PNG/.txt/.bin).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.timing import figures, timed
from printers.device import Printer, open_printer
from printers.layouts import TICKET
from printers.render import render_job
from printers.samples import sample_data
from printers.settings import PaperSettings
from printers.virtual import VirtualPrinter
from suite.device_host import DeviceConfig


def bench_build(runs: int) -> None:
    data = sample_data("ticket", chinese=True)
    for paper_mm in (58, 80):
        for chinese, qr in (("gb18030", "native"), ("raster", "native"), ("gb18030", "image")):
            paper = PaperSettings(paper_mm, chinese, qr)
            size = len(render_job(TICKET, data, paper))
            samples = timed(lambda: render_job(TICKET, data, paper), runs)
            print(f"  build ticket {paper_mm} mm, {chinese:7}, QR {qr:6} ({size:6,} bytes): {figures(samples)}")


def bench_send(folder: Path, jobs: int, transport: str) -> None:
    data = sample_data("ticket", chinese=True)
    with VirtualPrinter(folder / transport, paper_mm=80, port=0) as virtual:
        options: dict[str, object] = {"queue_dir": str(folder / "queue"), "poll_seconds": 0, "timeout": 2.0}
        if transport == "tcp":
            options.update(host="127.0.0.1", port=virtual.port)
        else:
            options.update(transport="serial", device=virtual.serve_pty(), baudrate=115200)
        printer: Printer = open_printer(DeviceConfig("bench", "escpos-printer", options), lambda _e: None)
        printer.start()
        job = render_job(TICKET, data, printer.settings.paper)
        sent, done = [], []
        try:
            for number in range(1, jobs + 1):
                started = time.perf_counter()
                printer.print_bytes(job, "ticket")           # status queries, then the job
                sent.append((time.perf_counter() - started) * 1000)
                virtual.wait_for_jobs(number, timeout=10)    # idle again before the next one
                done.append((time.perf_counter() - started) * 1000)
        finally:
            printer.stop()
        rendered = [record.render_ms for record in virtual.jobs]
    print(f"  {transport}: status check + send ({len(job):,} bytes), printer idle: {figures(sent)}")
    print(f"  {transport}: send until rendered and saved at the virtual printer: {figures(done)}")
    print(f"  {transport}: render at the virtual printer (interpret, draw, PNG): {figures(rendered)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    jobs = 40 if args.quick else args.jobs
    print("ESC/POS job build (layout -> bytes)")
    bench_build(jobs)
    with tempfile.TemporaryDirectory(prefix="bench-printer-") as folder:
        print("Send to the virtual printer (80 mm, GB18030, native QR)")
        bench_send(Path(folder), jobs, "tcp")
        bench_send(Path(folder), jobs, "pty")


if __name__ == "__main__":
    main()
