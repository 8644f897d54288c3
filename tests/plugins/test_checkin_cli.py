"""The ``checkin`` verb on SQLite and PostgreSQL: lists and channels set up from the command
line, a ticket sold at the box office and scanned, plain codes, hand opening, counts, and
refusals with their exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from plugins.tickets.setup import SetupService as TicketSetup
from suite.audit.models import AuditEvent
from tests.plugins.tickets_fixtures import small_cinema
from tests.sites import Result, Site, write_site

ADMIN_PASSWORD = "correct-horse-42"
REFUSED = 3  # EntryRefused's exit code


@pytest.fixture
def site(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Site:
    """A site licensed for the wallet, the box office and check-in; a code may be rescanned at once."""
    s = Site(write_site(tmp_path, db_url, **{"plugins.checkin": "repeat_seconds = 0"}), db_url, capsys, monkeypatch)
    assert s.run("--json", "init", stdin=ADMIN_PASSWORD + "\n").code == 0
    public = s.run("--json", "license", "keygen").json["public_key"]
    s.path.write_text(s.path.read_text() + f'\n[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "chain.lic"
    issued = s.run("license", "issue", "--chain", "CHAIN-1", "--licensee", "River Cinemas", "--features",
                   "wallet,tickets,checkin", "--max-terminals", "3", "--max-cards", "500", "--expires", "2099-12-31",
                   "--out", str(licence))
    assert issued.code == 0, issued.err
    assert s.run("license", "install", str(licence)).code == 0
    return s


def ok(site: Site, *args: str) -> Any:
    result = site.run("--json", *args)
    assert result.code == 0, result.err + result.out
    return result.json


def refused(site: Site, *args: str, code: int = REFUSED) -> Result:
    result = site.run("--json", *args)
    assert result.code == code, result.err + result.out
    return result


def entrance(site: Site, *options: str) -> None:
    ok(site, "checkin", "list", "add", "MAIN", "--name", "Main entrance", *options)
    ok(site, "checkin", "channel", "add", "L1", "--name", "Lane 1", "--list", "MAIN", "--gate", "gate-1")


def test_lists_and_channels_round_trip_and_bad_input(site: Site) -> None:
    added = ok(site, "checkin", "list", "add", "MAIN", "--name", "Main entrance", "--ticket-types", "ADULT, CHILD",
               "--entries", "multiple", "--no-plain-codes", "--opens-before", "45")
    assert (added["ticket_types"], added["entries"], added["plain_codes"], added["opens_before_min"]) == \
        ("ADULT,CHILD", "multiple", False, 45)
    edited = ok(site, "checkin", "list", "edit", "MAIN", "--entries", "per_day", "--per-day", "2", "--daily-open",
                "09:30", "--exit-tracking", "--anti-passback", "--plain-codes")
    assert (edited["entries"], edited["per_day"], edited["daily_open"], edited["anti_passback"],
            edited["plain_codes"], edited["ticket_types"]) == ("per_day", 2, "09:30", True, True, "ADULT,CHILD")
    channel = ok(site, "checkin", "channel", "add", "OUT1", "--name", "Exit 1", "--list", "MAIN", "--direction", "out",
                 "--side", "b", "--staff")
    assert (channel["direction"], channel["side"], channel["staff"], channel["gate"]) == ("out", "B", True, "")
    assert ok(site, "checkin", "channel", "edit", "OUT1", "--no-staff", "--gate", "gate-2")["staff"] is False
    shown = ok(site, "checkin", "list", "show", "MAIN")
    assert [(c["code"], c["gate"], c["in"]) for c in shown["channels"]] == [("OUT1", "gate-2", 0)]
    assert shown["today"]["inside"] == 0
    assert [c["code"] for c in ok(site, "checkin", "channel", "list")] == ["OUT1"]

    weekly = refused(site, "checkin", "list", "add", "PARK", "--name", "Park", "--entries", "weekly", code=1)
    assert weekly.json["error"] == "invalid_input" and "single, multiple, per_day" in weekly.json["message"]
    late = refused(site, "checkin", "list", "edit", "MAIN", "--daily-close", "25:00", code=1)
    assert "time of day" in late.json["message"]
    minutes = refused(site, "checkin", "list", "edit", "MAIN", "--closes-after", "soon", code=1)
    assert "--closes-after" in minutes.json["message"]
    nowhere = refused(site, "checkin", "scan", "--channel", "NOPE", "ANY-CODE", code=1)
    assert nowhere.json["error"] == "not_found" and "NOPE" in nowhere.json["message"]
    assert "Error:" in nowhere.err and "NOPE" in nowhere.err
    assert [row["code"] for row in ok(site, "checkin", "list", "list")] == ["MAIN"]


def test_a_sold_ticket_is_scanned_once(site: Site) -> None:
    with site.app() as app:
        small_cinema(TicketSetup.from_app(app), starts_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10))
    ticket = ok(site, "ticket", "sell", "S1", "--seat", "1-1", "--cash", "50")["tickets"][0]
    entrance(site)

    chinese = site.run("--lang", "zh_CN", "--json", "checkin", "scan", "--channel", "L1", ticket["code"])
    assert chinese.code == 0, chinese.err + chinese.out
    decision = chinese.json
    assert (decision["reason"], decision["message"], decision["persons"], decision["label"], decision["state"]) == \
        ("valid", "有效", 1, ticket["serial"], "pending")
    assert (decision["gate"], decision["side"]) == ("gate-1", "A")
    passed = ok(site, "checkin", "pass", decision["nonce"])
    assert (passed["state"], passed["passed"]) == ("admitted", 1)
    assert refused(site, "checkin", "pass", decision["nonce"], code=1).json["error"] == "checkin_refused"

    again = refused(site, "checkin", "scan", "--channel", "L1", ticket["code"])
    assert (again.json["error"], again.json["reason"], again.json["ok"], again.json["label"]) == \
        ("entry_refused", "already_used", False, ticket["serial"])
    assert "Already used" in again.err
    forged = refused(site, "checkin", "scan", "--channel", "L1", ticket["code"][:-4] + "AAAA")
    assert forged.json["reason"] == "forged" and forged.json["message"] == "Forged or damaged code"

    recent = ok(site, "checkin", "recent", "--channel", "L1", "--limit", "5")
    assert sorted(e["reason"] for e in recent) == ["already_used", "forged", "valid"]


def test_plain_codes_hand_opening_and_counts(site: Site) -> None:
    entrance(site)
    code = ok(site, "checkin", "code", "add", "GROUP-7", "--admits", "3", "--lists", "MAIN", "--valid-until",
              "2099-12-31T23:00", "--note", "school trip")
    assert (code["admits"], code["lists"], code["state"]) == (3, "MAIN", "valid")
    assert code["valid_until"] == "2099-12-31T15:00:00+00:00"  # typed in the venue's time, Shanghai
    committed = ok(site, "checkin", "scan", "--channel", "L1", "GROUP-7", "--commit")
    assert (committed["persons"], committed["passed"], committed["state"]) == (3, 3, "admitted")
    assert refused(site, "checkin", "scan", "--channel", "L1", "GROUP-7").json["reason"] == "already_used"

    opened = ok(site, "checkin", "open", "--channel", "L1", "--reason", "wheelchair", "--persons", "2")
    assert (opened["kind"], opened["state"], opened["persons"]) == ("manual", "pending", 2)
    ok(site, "checkin", "pass", opened["nonce"])
    assert ok(site, "checkin", "close", opened["nonce"])["state"] == "partial"
    with site.app() as app, app.uow.read() as uow:
        audited = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "checkin.open")).one()
        assert audited.target == "L1"
        assert json.loads(audited.details) == {"persons": 2, "reason": "wheelchair", "nonce": opened["nonce"]}

    ok(site, "checkin", "code", "block", "GROUP-7", "--reason", "lost")
    assert refused(site, "checkin", "scan", "--channel", "L1", "GROUP-7").json["reason"] == "blacklisted"
    counts = ok(site, "checkin", "counts")
    assert counts["lists"] == [{"list": "MAIN", "in": 4, "out": 0, "inside": 4, "refused": 2, "scans": 4}]
    assert counts["channels"][0]["channel"] == "L1" and counts["channels"][0]["in"] == 4
    assert ok(site, "checkin", "conflicts") == []


# ---------------------------------------------------------------- gate run: the headless loop


def test_gate_run_validates_at_a_turnstile_until_stopped(site: Site, tmp_path: Path) -> None:
    """``gate run`` as its own process: a QR code read at a simulated OSDP turnstile is decided,
    the relay opens, the simulated person passes and the entry is committed; SIGTERM stops it."""
    import os
    import queue
    import signal
    import subprocess
    import sys
    import threading

    from gates.simulator.process import SimulatorProcess, keyring_args
    from gates.simulator.pty import PtyPair
    from plugins.tickets.codes import TicketClaims, TicketSigner
    from plugins.tickets.settings import TicketSettings
    from suite.bootstrap import open_secrets
    from suite.config import load_settings

    entrance(site)
    secrets = open_secrets(load_settings(site.path))
    signer = TicketSigner.from_secrets(secrets, TicketSettings().signing_key_secret)
    starts = int(dt.datetime.now(dt.timezone.utc).timestamp()) + 600
    code = signer.sign(TicketClaims(serial="700000000001", venue="HQ", session="S1", hall="H1", row="A", seat="1",
                                    ticket_type="ADULT", category="adult", admits=1, starts=starts,
                                    ends=starts + 7200))
    with PtyPair() as pair:
        sim = SimulatorProcess("turnstile", pair, keyring_args(secrets, "osdp-scbk:gate-1")
                               + ["--pass-after", "200"]).start()
        site.path.write_text(site.path.read_text() + f'\n[devices.gate-1]\nkind = "osdp-gate"\nport = "{pair.port}"\n')
        process = subprocess.Popen([sys.executable, "-c", "import sys; from suite.cli import main; sys.exit(main())",
                                    "--config", str(site.path), "gate", "run", "--channel", "L1"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(json.loads(line)) for line in process.stdout], daemon=True).start()

        def next_line(kind: str, **match: Any) -> dict[str, Any]:
            while True:
                found = lines.get(timeout=20)
                if found.get("type") == kind and all(found.get(k) == v for k, v in match.items()):
                    return found

        try:
            assert next_line("started")["channels"] == ["L1"]
            next_line("device", online=True, ok=True)  # the turnstile answers
            sim.send("qr " + code)
            decision = next_line("decision")
            assert (decision["ok"], decision["reason"], decision["label"]) == (True, "valid", "700000000001")
            assert sim.wait_for(lambda e: e.get("event") == "output" and e["control_code"] == 5)["direction"] == "A"
            passage = next_line("passage")
            assert (passage["state"], passage["passed"]) == ("admitted", 1)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0, process.stderr.read()
            sim.stop()
    recent = ok(site, "checkin", "recent", "--channel", "L1")
    assert [(r["label"], r["state"]) for r in recent] == [("700000000001", "admitted")]


def test_gate_run_needs_the_check_in_plugin(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    plain = Site(write_site(tmp_path, db_url), db_url, capsys, monkeypatch)
    assert plain.run("--json", "init", stdin=ADMIN_PASSWORD + "\n").code == 0
    result = plain.run("--json", "gate", "run", "--channel", "L1")
    assert result.code != 0 and "check-in" in result.json["message"]
