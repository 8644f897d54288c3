"""Ticket faces (T8) on SQLite and PostgreSQL: templates checked and stored, rendered through
the printers' pipeline, printed on the virtual ESC/POS printer (the QR code decodes back to
the signed ticket code a gate accepts), paper out queues every ticket that did not print, and
previews drawn by the virtual printer's interpreter (docs/screenshots/tickets-face-*.png)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image, ImageDraw

import suite.i18n as i18n
from plugins.tickets.codes import TicketClaims, TicketSigner, TicketVerifier
from plugins.tickets.faces import (
    FIELDS, TICKET_KEYS, FacesService, NoTicketPrinter, builtin_face, check_layout, preview_job, print_tickets,
    render_face, sample_ticket,
)
from printers.device import PaperOut, open_printer
from printers.fonts import text_columns
from printers.settings import PAPER
from printers.virtual import VirtualPrinter
from suite.device_host import DeviceConfig, DeviceHost
from suite.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from suite.identity.service import IdentityService
from tests.plugins.tickets_fixtures import SHANGHAI, actor, service, tickets_schema

REPO = Path(__file__).resolve().parents[2]
ZONE = ZoneInfo("Asia/Shanghai")
SIGNER = TicketSigner(os.urandom(32))
VERIFIER = TicketVerifier([SIGNER.public_key])


@pytest.fixture
def faces(engine) -> FacesService:
    return service(FacesService, tickets_schema(engine))


def ticket(serial: str = "T0001", **changes: Any) -> dict[str, Any]:
    """A ticket as the sales service hands it over, with a code signed by the test's key."""
    starts = dt.datetime(2026, 11, 22, 19, 30, tzinfo=SHANGHAI)
    claims = TicketClaims(serial=serial, venue="CINEMA-01", session="S1", hall="H1", row="F", seat="12",
                          ticket_type="ADULT", category="adult", admits=1, starts=int(starts.timestamp()),
                          ends=int(starts.timestamp()) + 7200)
    data = {"serial": serial, "code": SIGNER.sign(claims), "venue": "River Cinemas", "hall": "Hall 1",
            "programme": "The River", "grade": "B", "starts_at": starts.astimezone(dt.timezone.utc), "row": "F",
            "seat": "12", "zone": "VIP", "ticket_type": "Adult", "price": 8000, "order_number": "O-0001",
            "cashier": "Alice", "terminal": "T01"}
    return {**data, **changes}


def lines(transcript: str) -> list[str]:
    return [line for line in transcript.splitlines() if not line.startswith("[")]


def logo_png(width: int = 120, height: int = 40) -> bytes:
    picture = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(picture).rectangle((4, 4, width - 5, height - 5), outline=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


OWN_LAYOUT = [
    {"kind": "image"},
    {"kind": "text", "text": "Welcome {not a field} 欢迎", "align": "center", "bold": True},
    {"kind": "field", "field": "programme", "size": "big", "label": True},
    {"kind": "field", "field": "session_date", "label": "Day"},
    {"kind": "field", "field": "session_time"},
    {"kind": "field", "field": "row"},
    {"kind": "field", "field": "seat", "label": False, "align": "right"},
    {"kind": "line", "char": "*"},
    {"kind": "qr", "size": 4, "ec": "Q"},
    {"kind": "field", "field": "reprint"},
    {"kind": "feed", "lines": 2},
]


# ---------------------------------------------------------------- checking and storing faces


@pytest.mark.parametrize(("layout", "complaint"), [
    ("not json", "not valid JSON"),
    ({"kind": "qr"}, "non-empty list"),
    ([], "non-empty list"),
    ([{"kind": "qr"}, {"kind": "barcode"}], "Element 2: unknown kind 'barcode'"),
    ([{"kind": "qr"}, "text"], "Element 2: an element is an object"),
    ([{"kind": "field", "field": "balance"}, {"kind": "qr"}], "Element 1: unknown field 'balance'"),
    ([{"kind": "qr", "colour": "red"}], "unknown setting 'colour' for a qr element"),
    ([{"kind": "text", "text": ""}, {"kind": "qr"}], "Element 1: The text is required"),
    ([{"kind": "text", "text": "x", "size": "huge"}, {"kind": "qr"}], "The size must be one of: normal, tall"),
    ([{"kind": "text", "text": "x", "bold": "yes"}, {"kind": "qr"}], "Bold must be true or false"),
    ([{"kind": "field", "field": "seat", "align": "middle"}, {"kind": "qr"}], "The alignment must be one of"),
    ([{"kind": "qr", "size": 40}], "QR module size must be a whole number from 1 to 16"),
    ([{"kind": "qr", "ec": "X"}], "error correction level must be one of: L, M, Q, H"),
    ([{"kind": "line", "char": "--"}, {"kind": "qr"}], "one printable ASCII character"),
    ([{"kind": "feed", "lines": 0}, {"kind": "qr"}], "blank lines must be a whole number from 1 to 10"),
    ([{"kind": "text", "text": "no code"}], "needs a QR code element"),
    ([{"kind": "image"}, {"kind": "qr"}], "has no image"),
])
def test_a_bad_layout_is_refused_naming_the_element(layout: Any, complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint.replace("(", r"\(")):
        check_layout(layout, has_image=False)


def test_defaults_are_filled_in() -> None:
    [field, qr, line] = check_layout([{"kind": "field", "field": "seat"}, {"kind": "qr"}, {"kind": "line"}],
                                     has_image=False)
    assert field == {"kind": "field", "field": "seat", "label": True, "size": "normal", "bold": False,
                     "align": "left"}
    assert qr == {"kind": "qr", "size": 6, "ec": "M", "align": "center"}
    assert line == {"kind": "line", "char": "-"}
    assert check_layout([{"kind": "field", "field": "venue"}, {"kind": "qr"}], has_image=False)[0]["label"] is False


def test_faces_are_stored_listed_and_edited(faces: FacesService) -> None:
    a = actor()
    added = faces.add_face(a, code="RIVER", name="River logo face", paper=58, layout=json.dumps(OWN_LAYOUT),
                           image=logo_png())
    assert added["paper"] == 58 and added["has_image"] and len(added["layout"]) == len(OWN_LAYOUT)
    assert base64.b64decode(added["image"]) == logo_png()
    with pytest.raises(Conflict, match="exists already"):
        faces.add_face(a, code="RIVER", name="again", layout=OWN_LAYOUT, image=logo_png())
    with pytest.raises(Conflict, match="reserved for the built-in faces"):
        faces.add_face(a, code="builtin-80", name="mine", layout=OWN_LAYOUT[1:])
    with pytest.raises(InvalidInput, match="not a PNG picture"):
        faces.add_face(a, code="JPEG", name="x", layout=OWN_LAYOUT, image=b"\xff\xd8\xff\xe0 not a png")
    with pytest.raises(InvalidInput, match="not base64"):
        faces.add_face(a, code="B64", name="x", layout=OWN_LAYOUT, image="%%%")
    with pytest.raises(InvalidInput, match="too large: at most 2000 pixels"):
        faces.add_face(a, code="HUGE", name="x", layout=OWN_LAYOUT, image=logo_png(2400, 10))
    with pytest.raises(InvalidInput, match="58 or 80 mm"):
        faces.add_face(a, code="A4", name="x", layout=OWN_LAYOUT[1:], paper=210)

    listed = faces.list_faces(a)
    assert [(f["code"], f["builtin"], f["in_use"]) for f in listed] == [
        ("builtin-58", True, True), ("builtin-80", True, True), ("RIVER", False, False)]
    assert "image" not in listed[2] and listed[2]["has_image"] is True

    with pytest.raises(InvalidInput, match="prints its logo .* but has no image"):
        faces.edit_face(a, "RIVER", image=b"")              # the layout still prints the logo
    edited = faces.edit_face(a, "RIVER", name="River", paper=80, layout=OWN_LAYOUT[1:], image="")
    assert (edited["name"], edited["paper"], edited["has_image"], len(edited["layout"])) == (
        "River", 80, False, len(OWN_LAYOUT) - 1)
    assert faces.get_face(a, "RIVER") == edited
    with pytest.raises(Conflict, match="cannot be changed"):
        faces.edit_face(a, "builtin-58", name="mine")
    with pytest.raises(NotFound, match="no ticket face NOPE"):
        faces.get_face(a, "NOPE")
    assert faces.get_face(a, "builtin-80")["layout"][0]["field"] == "venue"

    cashier = actor("tickets.view", "tickets.sell")
    with pytest.raises(PermissionDenied):
        faces.add_face(cashier, code="X", name="X", layout=OWN_LAYOUT[1:])
    with pytest.raises(PermissionDenied):
        faces.edit_face(cashier, "RIVER", name="X")
    assert len(faces.list_faces(cashier)) == 3
    with pytest.raises(PermissionDenied):
        faces.list_faces(actor("tickets.sell"))


# ---------------------------------------------------------------- rendering


@pytest.mark.parametrize("paper_mm", [58, 80])
@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_built_in_faces_fit_and_their_qr_code_is_the_ticket_code(paper_mm: int, language: str) -> None:
    previous = i18n.current_language()
    i18n.set_language(language)
    try:
        chinese = ticket(venue="星光影城 万达店", programme="流浪地球2")
        printed = preview_job(builtin_face(paper_mm), chinese, zone=ZONE)
    finally:
        i18n.set_language(previous)
    columns = PAPER[paper_mm][0]
    assert printed.errors == () and printed.transcript.rstrip().endswith("[CUT]")
    assert all(text_columns(line) <= columns for line in lines(printed.transcript))
    [decoded] = zxingcpp.read_barcodes(printed.image)
    assert decoded.text == ticket()["code"]
    verdict = VERIFIER.verify(decoded.text)
    assert verdict.ok and verdict.claims is not None and verdict.claims.serial == "T0001"
    if language == "en":
        text = lines(printed.transcript)
        assert "星光影城 万达店" in text and "流浪地球2" in text
        row = {line.split()[0]: line for line in text if line and not line.startswith(("-", "="))}
        assert row["Session"].endswith("2026-11-22 19:30")            # venue time, from a UTC datetime
        assert row["Seat"].endswith("Row F Seat 12") and row["Price"].endswith("80.00")
        assert row["Zone"].endswith("VIP") and row["Ticket"].endswith("T0001")
        assert "REPRINT" not in printed.transcript and "Admits" not in printed.transcript


def test_an_own_face_prints_its_text_fields_logo_and_marks(faces: FacesService) -> None:
    a = actor()
    face = faces.add_face(a, code="RIVER", name="River", paper=80, layout=OWN_LAYOUT, image=logo_png())
    job = faces.render(face, ticket(reprint=True, seat="7"))
    assert job.layout.elements[-1].__class__.__name__ == "Cut" and job.data["reprint"] == "REPRINT"
    printed = preview_job(faces.face("RIVER"), ticket(reprint=True, seat="7"), zone=ZONE)
    text = lines(printed.transcript)
    assert printed.errors == ()
    assert "[IMAGE" in printed.transcript.splitlines()[0]                  # the logo first
    assert text[0] == "Welcome {not a field} 欢迎"                         # static text is not a template
    assert text[1].startswith("Programme") and "The River" in text        # a big field: label above
    assert any(line.startswith("Day") and line.endswith("2026-11-22") for line in text)
    assert any(line.startswith("Time") and line.endswith("19:30") for line in text)
    assert text[text.index("*" * 48) - 1] == "7"                          # the value alone
    assert "REPRINT" in text
    [decoded] = zxingcpp.read_barcodes(printed.image)
    assert decoded.text == ticket()["code"]


def test_fields_without_a_value_print_nothing_and_bad_data_is_refused() -> None:
    face = builtin_face(80)
    package = ticket(row="", seat="", zone="", starts_at=None, hall="", admits=5, ticket_type="Family package")
    text = lines(preview_job(face, package, zone=ZONE).transcript)
    assert not any(line.startswith(("Seat", "Zone", "Session", "Hall")) for line in text)
    assert any(line.startswith("Admits") and line.endswith("5") for line in text)
    with pytest.raises(InvalidInput, match="cannot be printed without: code"):
        render_face(face, ticket(code=""), ZONE)
    with pytest.raises(InvalidInput, match="price must be whole fen"):
        render_face(face, ticket(price=80.0), ZONE)
    with pytest.raises(InvalidInput, match="time zone"):
        render_face(face, ticket(starts_at=dt.datetime(2026, 11, 22, 19, 30)), ZONE)
    from_sales = ticket(hall="H1", hall_name="Hall 1 IMAX", order="O-0042", order_number="",
                        starts_at="2026-11-22T11:30:00+00:00", state="valid", printed=0)
    values = render_face(face, from_sales, ZONE).data
    assert (values["hall"], values["order_number"], values["session"]) == ("Hall 1 IMAX", "O-0042",
                                                                           "2026-11-22 19:30")
    assert set(FIELDS) >= {"venue", "hall", "programme", "grade", "session_date", "session_time", "row", "seat",
                           "zone", "ticket_type", "price", "serial", "order_number", "cashier", "printed_at",
                           "reprint"}
    assert {k for k, (required, _what) in TICKET_KEYS.items() if required} == {"serial", "code"}


# ---------------------------------------------------------------- printing on the virtual printer


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualPrinter]:
    printer = VirtualPrinter(tmp_path / "jobs", paper_mm=58, port=0).start()
    yield printer
    printer.stop()


def counter_app(faces: FacesService, tmp_path: Path, virtual: VirtualPrinter | None, *, host: bool = True,
                tickets: dict[str, Any] | None = None) -> SimpleNamespace:
    """What ``print_tickets`` needs of the application: settings, the device host, the database."""
    devices: dict[str, Any] = {"door": {"kind": "card-reader"}}
    if virtual is not None:
        devices["front"] = {"kind": "escpos-printer", "host": "127.0.0.1", "port": virtual.port, "paper": 58,
                            "timeout": 0.5, "poll_seconds": 0, "queue_dir": str(tmp_path / "queue")}
    settings = SimpleNamespace(devices=devices, data_dir=tmp_path, plugins={"tickets": tickets or {}},
                               terminal=SimpleNamespace(venue_code="CINEMA-01", terminal_code="T01"))
    app = SimpleNamespace(settings=settings, extras={}, uow=faces._uow, identity=IdentityService(faces._uow),
                          plugins=None, secrets=None, venue_id=None, terminal_id=None)
    if host and virtual is not None:
        options = {k: v for k, v in devices["front"].items() if k != "kind"}
        app.extras["devices"] = DeviceHost([DeviceConfig("front", "escpos-printer", options)],
                                           {"escpos-printer": open_printer}, lambda _event: None).start()
    return app


def stop(app: SimpleNamespace) -> None:
    if "devices" in app.extras:
        app.extras["devices"].stop()


def test_tickets_print_one_job_each_and_their_codes_decode(faces: FacesService, tmp_path: Path,
                                                          virtual: VirtualPrinter) -> None:
    app = counter_app(faces, tmp_path, virtual)
    try:
        sold = [ticket(f"T000{n}", seat=str(n)) for n in (1, 2, 3)]
        result = print_tickets(app, sold)
        jobs = virtual.wait_for_jobs(3)
    finally:
        stop(app)
    assert result == {"printer": "front", "face": "builtin-58", "printed": ["T0001", "T0002", "T0003"]}
    for job, sold_ticket in zip(jobs, sold):
        assert job.printed and job.errors == ()
        assert [d.text for d in zxingcpp.read_barcodes(Image.open(job.png))] == [sold_ticket["code"]]
        assert VERIFIER.verify(sold_ticket["code"]).claims.serial == sold_ticket["serial"]  # type: ignore[union-attr]
        assert any(line.endswith(sold_ticket["serial"]) for line in lines(job.transcript))


def test_a_reprint_is_marked_and_a_configured_face_is_used(faces: FacesService, tmp_path: Path,
                                                          virtual: VirtualPrinter) -> None:
    faces.add_face(actor(), code="RIVER", name="River", paper=58, layout=OWN_LAYOUT[1:])
    app = counter_app(faces, tmp_path, virtual, host=False, tickets={"face": "RIVER", "ticket_printer": "front"})
    assert print_tickets(app, [ticket()], reprint=True)["face"] == "RIVER"   # no device host: opened for the job
    [job] = virtual.wait_for_jobs(1)
    assert "REPRINT" in lines(job.transcript) and any("Welcome" in line for line in lines(job.transcript))


def test_paper_out_keeps_every_ticket_in_the_reprint_queue(faces: FacesService, tmp_path: Path,
                                                           virtual: VirtualPrinter) -> None:
    sold = [ticket(f"T000{n}") for n in (1, 2, 3)]
    virtual.state.paper_out_after = 1                        # the roll ends after the first ticket
    app = counter_app(faces, tmp_path, virtual)
    try:
        with pytest.raises(PaperOut) as caught:
            print_tickets(app, sold)
        message = caught.value.message
        assert message.startswith("Printer front is out of paper: load a new roll. "
                                  "The job waits in the reprint queue as number 1.")
        assert "1 more ticket was not sent and waits in the reprint queue as number 2." in message
        assert message.endswith("Tickets printed: 1 of 3.")
        assert caught.value.details["printed"] == ["T0001"]
        assert caught.value.details["queued"] == {"T0002": 1, "T0003": 2}
        printer = app.extras["devices"].device("front")
        assert [(q.id, q.layout_id) for q in printer.queued()] == [(1, "ticket_face"), (2, "ticket_face")]
        assert "out of paper" in printer.queued()[1].error
        virtual.state.paper, virtual.state.paper_out_after = "ok", None      # a new roll
        for job_id in caught.value.details["job_ids"]:
            printer.reprint(job_id)
        jobs = virtual.wait_for_jobs(3)
    finally:
        stop(app)
    assert [j.printed for j in jobs] == [True, True, True]
    decoded = [zxingcpp.read_barcodes(Image.open(j.png))[0].text for j in jobs]
    assert decoded == [t["code"] for t in sold]                                # nothing lost, nothing twice


def test_printer_errors_are_translated(faces: FacesService, tmp_path: Path, virtual: VirtualPrinter) -> None:
    virtual.state.paper = "out"
    app = counter_app(faces, tmp_path, virtual)
    previous = i18n.current_language()
    i18n.set_language("zh_CN")
    try:
        with pytest.raises(PaperOut) as caught:
            print_tickets(app, [ticket()])
    finally:
        i18n.set_language(previous)
        stop(app)
    assert "纸" in caught.value.message and caught.value.details["queued"] == {"T0001": 1}


def test_no_printer_and_bad_data_print_nothing(faces: FacesService, tmp_path: Path, virtual: VirtualPrinter) -> None:
    with pytest.raises(NoTicketPrinter, match="No ticket printer is configured"):
        print_tickets(counter_app(faces, tmp_path, None), [ticket()])
    with pytest.raises(NoTicketPrinter, match="The printer back named in"):
        print_tickets(counter_app(faces, tmp_path, virtual, host=False, tickets={"ticket_printer": "back"}), [ticket()])
    app = counter_app(faces, tmp_path, virtual)
    try:
        with pytest.raises(InvalidInput, match="T0002 cannot be printed without: code"):
            print_tickets(app, [ticket("T0001"), ticket("T0002", code="")])
        with pytest.raises(InvalidInput, match="no ticket to print"):
            print_tickets(app, [])
        assert app.extras["devices"].device("front").queued() == []
    finally:
        stop(app)
    assert virtual.jobs == []


# ---------------------------------------------------------------- previews


def test_preview_png_and_the_cli(faces: FacesService, tmp_path: Path) -> None:
    import argparse

    from plugins.tickets.cli_counter import configure_face, run

    app = counter_app(faces, tmp_path, None)
    parser = argparse.ArgumentParser()
    parser.add_argument("--user")
    sub = parser.add_subparsers(dest="verb")
    configure_face(sub.add_parser("face"))

    def cli(*words: str) -> Any:
        return run(app, parser.parse_args(["face", *words]))

    (tmp_path / "face.json").write_text(json.dumps(OWN_LAYOUT), encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(logo_png())
    added = cli("add", "RIVER", "River", "--paper", "58", "--layout", str(tmp_path / "face.json"),
                "--image", str(tmp_path / "logo.png"))
    assert added["image_bytes"] == len(logo_png()) and "image" not in added
    assert [f["code"] for f in cli("list")] == ["builtin-58", "builtin-80", "RIVER"]
    assert cli("show", "RIVER")["layout"][1]["text"] == "Welcome {not a field} 欢迎"
    with pytest.raises(InvalidInput, match="has no image"):
        cli("edit", "RIVER", "--no-image")
    (tmp_path / "plain.json").write_text(json.dumps(OWN_LAYOUT[1:]), encoding="utf-8")
    edited = cli("edit", "RIVER", "--no-image", "--layout", str(tmp_path / "plain.json"), "--name", "River 2")
    assert (edited["name"], edited["image_bytes"], len(edited["layout"])) == ("River 2", 0, len(OWN_LAYOUT) - 1)
    out = tmp_path / "river.png"
    shown = cli("preview", "builtin-80", "--out", str(out), "--sample-language", "zh")
    assert shown == {"face": "builtin-80", "paper": 80, "out": str(out), "bytes": out.stat().st_size}
    picture = Image.open(out)
    assert picture.format == "PNG" and picture.width == 576 + 2 * 16 + 2 * 24
    assert [d.text for d in zxingcpp.read_barcodes(picture)] == [sample_ticket()["code"]]
    cli("preview", "builtin-58", "--out", str(out), "--bare")
    assert Image.open(out).width == 384
    png = faces.preview({"paper": 58, "layout": OWN_LAYOUT[1:]}, ticket())     # a draft being edited
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).width == 384 + 80


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_the_docs_show_the_built_in_faces(paper_mm: int) -> None:
    """docs/screenshots/tickets-face-58.png and -80.png: the built-in faces with the sample ticket."""
    from plugins.tickets.faces import preview_png

    png = preview_png(builtin_face(paper_mm), sample_ticket(), zone=ZONE)
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / f"tickets-face-{paper_mm}.png"
    shot.write_bytes(png)
    target = REPO / "docs" / "screenshots" / shot.name
    shutil.copyfile(shot, target)
    picture = Image.open(target)
    assert picture.width == PAPER[paper_mm][1] + 80 and 900 < picture.height < 1400
    assert [d.text for d in zxingcpp.read_barcodes(picture)] == [sample_ticket()["code"]]


# ---------------------------------------------------------------- translations
