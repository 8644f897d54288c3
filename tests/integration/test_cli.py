"""The ``venue-suite`` command end to end, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.sites import Site, write_site

ADMIN_PASSWORD = "correct-horse-42"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Site:
    s = Site(write_site(tmp_path, db_url), db_url, capsys, monkeypatch)
    result = s.run("--json", "init", stdin=ADMIN_PASSWORD + "\n")
    assert result.code == 0, result.err
    assert "administrator admin" in result.json["created"]
    return s


def add_user(site: Site, username: str, role: str, password: str = "cashier-pass-1") -> None:
    result = site.run("user", "add", username, "--role", role, env={"VENUE_SUITE_NEW_PASSWORD": password})
    assert result.code == 0, result.err


def test_init_is_repeatable_and_creates_one_admin(site: Site) -> None:
    again = site.run("--json", "init")
    assert again.code == 0
    assert again.json["created"] == []
    users = site.run("--json", "user", "list").json
    assert [(u["username"], u["roles"]) for u in users] == [("admin", "system_admin")]


def test_wrong_password_and_lockout_are_refused_with_clear_messages(site: Site) -> None:
    add_user(site, "cashier", "salesperson")
    bad = site.run("--user", "cashier", "ledger", "entries", env={"VENUE_SUITE_PASSWORD": "nope-nope"})
    assert bad.code == 1
    assert "Wrong username or password" in bad.err
    for _ in range(9):
        site.run("--user", "cashier", "ledger", "entries", env={"VENUE_SUITE_PASSWORD": "nope-nope"})
    locked = site.run("--user", "cashier", "ledger", "entries", env={"VENUE_SUITE_PASSWORD": "cashier-pass-1"})
    assert locked.code == 1
    assert "locked" in locked.err.lower()
    zh = site.run("--lang", "zh_CN", "--user", "cashier", "ledger", "entries",
                  env={"VENUE_SUITE_PASSWORD": "cashier-pass-1"})
    assert zh.code == 1 and "锁定" in zh.err


def test_permission_denied_exits_1_and_is_audited(site: Site) -> None:
    add_user(site, "cashier", "salesperson")
    denied = site.run("--json", "--user", "cashier", "ledger", "check", env={"VENUE_SUITE_PASSWORD": "cashier-pass-1"})
    assert denied.code == 1
    assert denied.json["error"] == "permission_denied"
    events = site.run("--json", "audit", "list", "--kind", "security").json
    assert any(e["action"] == "permission.denied" and e["actor"] == "cashier" for e in events)


def test_licence_keygen_issue_install_show_and_tamper(site: Site, tmp_path: Path) -> None:
    public = site.run("--json", "license", "keygen").json["public_key"]
    site.path.write_text(site.path.read_text() + f'\n[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "chain.lic"
    issued = site.run("license", "issue", "--chain", "CHAIN-1", "--licensee", "River Cinemas", "--features",
                      "wallet,tickets", "--max-terminals", "3", "--max-cards", "500", "--expires", "2099-12-31",
                      "--out", str(licence))
    assert issued.code == 0, issued.err
    tampered = tmp_path / "tampered.lic"
    body = licence.read_text().splitlines()
    body[1] = body[1][:-4] + ("AAAA" if body[1][-4:] != "AAAA" else "BBBB")
    tampered.write_text("\n".join(body))
    refused = site.run("license", "install", str(tampered))
    assert refused.code == 1
    assert "licence" in refused.err.lower()
    assert site.run("--json", "license", "show").json["state"] == "missing"
    assert site.run("license", "install", str(licence)).code == 0
    shown = site.run("--json", "license", "show").json
    assert shown["state"] == "valid"
    assert shown["licence"]["features"] == ["tickets", "wallet"]
    again = site.run("license", "keygen")
    assert again.code == 1 and "--force" in again.err


def test_terminal_limit_follows_the_licence(site: Site) -> None:
    # no licence: the chain may run the one terminal made by init
    refused = site.run("terminal", "add", "HQ", "T02")
    assert refused.code == 1 and "1 terminals" in refused.err
    assert site.run("--json", "terminal", "list").json[0]["code"] == "T01"


def test_ledger_check_finds_a_tampered_balance(site: Site) -> None:
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.ledger import LineSpec, open_account, post

    with build_app(load_settings(site.path)) as app, app.uow() as uow:
        cash = open_account(uow.session, owner_type="venue", owner_id="HQ", kind="cash", unit="CNY", floor=None)
        card = open_account(uow.session, owner_type="card", owner_id="C1", kind="wallet.main", unit="CNY")
        post(uow.session, idempotency_key="k1", kind="topup", lines=[LineSpec(card.id, 500), LineSpec(cash.id, -500)])
        uow.commit()
        card_id = card.id
    assert site.run("ledger", "check").code == 0
    site.sql("UPDATE ledger_accounts SET balance = 99999 WHERE id = :id", id=card_id.hex if "sqlite" in site.db_url else card_id)
    result = site.run("--json", "ledger", "check")
    assert result.code == 1
    assert result.json["error"] == "ledger_check_failed"
    assert any(str(card_id) in json.dumps(p) for p in result.json["problems"])


def test_audit_verify_names_the_edited_row(site: Site) -> None:
    assert site.run("audit", "verify").code == 0
    site.sql("UPDATE audit_events SET target = 'someone-else' WHERE seq = 2")
    result = site.run("--json", "audit", "verify")
    assert result.code == 1
    problems = result.json["problems"]
    assert problems[0]["seq"] == 2 and problems[0]["problem"] == "edited"


def test_backup_and_restore_round_trip(site: Site) -> None:
    made = site.run("--json", "backup")
    assert made.code == 0, made.err
    backup_file = made.json["path"]
    add_user(site, "later", "salesperson")
    assert {u["username"] for u in site.run("--json", "user", "list").json} == {"admin", "later"}
    refused = site.run("restore", backup_file)
    assert refused.code == 1 and "--yes" in refused.err
    restored = site.run("--json", "restore", backup_file, "--yes")
    assert restored.code == 0, restored.err
    assert Path(restored.json["previous_saved_as"]).exists()
    assert {u["username"] for u in site.run("--json", "user", "list").json} == {"admin"}
    assert site.run("audit", "verify").code == 0


def test_restore_refuses_a_file_that_is_not_a_backup(site: Site, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    result = site.run("restore", str(junk), "--yes")
    assert result.code == 1
    assert "users" not in result.err and ("not" in result.err)


def test_core_plugin_cannot_be_disabled(site: Site) -> None:
    result = site.run("plugins", "disable", "core")
    assert result.code == 1
    assert site.run("--json", "plugins", "list").json[0]["state"] == "active"


def test_user_admin_verbs(site: Site) -> None:
    add_user(site, "clerk", "salesperson")
    assert site.run("user", "grant", "clerk", "finance").code == 0
    assert site.run("user", "card", "clerk", "04a1b2c3").code == 0
    assert site.run("user", "disable", "clerk").code == 0
    clerk = next(u for u in site.run("--json", "user", "list").json if u["username"] == "clerk")
    assert clerk["active"] is False and clerk["card"] == "04A1B2C3" and "finance" in clerk["roles"]
    unknown = site.run("role", "grant", "finance", "no.such.permission")
    assert unknown.code == 1 and "Unknown permission" in unknown.err
    duplicate = site.run("user", "add", "clerk", env={"VENUE_SUITE_NEW_PASSWORD": "another-pass-9"})
    assert duplicate.code == 1


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "suite.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=REPO, timeout=120)


def test_unreachable_database_exits_2_without_the_password(tmp_path: Path) -> None:
    site = write_site(tmp_path, "postgresql+psycopg://suite:hunter2@127.0.0.1:1/venue")
    proc = run_cli("--config", str(site), "user", "list")
    assert proc.returncode == 2
    assert "hunter2" not in proc.stderr + proc.stdout
    assert "Cannot reach the database" in proc.stderr and "127.0.0.1:1/venue" in proc.stderr


def test_corrupt_config_exits_2_naming_the_file(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text("[database]\nurl = \n")
    proc = run_cli("--config", str(site), "user", "list")
    assert proc.returncode == 2
    assert str(site) in proc.stderr and "not valid TOML" in proc.stderr


def test_help_lists_host_verbs_quickly() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for verb in ("init", "ledger", "audit", "license", "plugins", "backup", "restore"):
        assert verb in proc.stdout
    assert "sqlalchemy" not in proc.stderr


@pytest.mark.postgres
def test_postgres_schema_must_be_upgraded_explicitly(tmp_path: Path, pg_server) -> None:
    url = pg_server.create_database(f"t_{uuid.uuid4().hex[:10]}")
    site = write_site(tmp_path, url)
    behind = run_cli("--config", str(site), "user", "list")
    assert behind.returncode == 2 and "db upgrade" in behind.stderr
    upgraded = run_cli("--config", str(site), "--json", "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    current = run_cli("--config", str(site), "--json", "db", "current")
    assert json.loads(current.stdout)["up_to_date"] is True


def test_gui_without_a_display_says_so(tmp_path: Path) -> None:
    site = write_site(tmp_path, f"sqlite:///{tmp_path / 'suite.db'}")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run([sys.executable, "-m", "suite.cli", "--config", str(site), "gui"], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert "Cannot open the window" in proc.stderr and "Traceback" not in proc.stderr
