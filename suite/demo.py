"""The demo: a self-contained suite in one folder (``make demo``).

Writes ``<dir>/site.toml`` (SQLite database, a file keyring and a demo vendor key in the
folder), initialises the database, installs a demo licence for every feature, adds the demo
operators and a few money movements, then opens the suite's window at the login screen
(``--no-window``: only set up). Running it again reuses the folder; delete the folder to
start over.
"""

from __future__ import annotations

import argparse
import os
import signal
import datetime as dt
import sys
from pathlib import Path
from typing import Any

DEMO_USERS = (
    # username, password, display name, roles
    ("admin", "admin-demo-2026", "Demo Administrator", ("system_admin",)),
    ("cashier", "cashier-demo-2026", "Demo Cashier", ("salesperson",)),
    ("gate", "gate-demo-2026", "Demo Gate Attendant", ("gate_attendant",)),
)
DEMO_FEATURES = ("wallet", "tickets", "checkin", "rental", "vouchers", "reports")


def site_config(directory: Path, public_key: str) -> str:
    return f"""# Written by 'make demo'. Delete the folder to start again.
[suite]
language = "en"
data_dir = "{directory}"

[database]
url = "sqlite:///{{data_dir}}/venue-suite.db"

[terminal]
venue_code = "HQ"
terminal_code = "T01"

[keyring]
backend = "keyrings.alt.file.PlaintextKeyring"
file = "{{data_dir}}/keyring.cfg"

[licensing]
public_keys = ["{public_key}"]

[plugins.checkin]
channels = ["L1", "X1"]
"""


def prepare(directory: Path, devices: str = "") -> Path:
    """Write the demo's site file (with a vendor key of its own) and return its path."""
    from suite.licensing.service import SIGNING_KEY_SECRET, LicenceService
    from suite.secrets import SecretStore

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    store = SecretStore.from_settings("venue-suite", "keyrings.alt.file.PlaintextKeyring",
                                      str(directory / "keyring.cfg"))
    if store.get(SIGNING_KEY_SECRET) is None:
        LicenceService.keygen(store)
    site = directory / "site.toml"
    site.write_text(site_config(directory, LicenceService.signing_public_key(store)) + devices)
    return site


def seed(app: Any) -> list[str]:
    """Demo operators, venues, a licence for every feature and some money movements."""
    from sqlalchemy import select

    from suite import places
    from suite.db.core_models import Venue
    from suite.identity.actor import Actor
    from suite.identity.models import User
    from suite.licensing.service import LicenceService

    actor = Actor.system("demo")
    done: list[str] = []
    if app.licences.current() is None:
        text = LicenceService.issue_with_keyring(
            app.secrets, chain_id="demo-chain", licensee="Venue Suite Demo", features=DEMO_FEATURES,
            max_terminals=10, max_activated_cards=10_000, expires=dt.date.today() + dt.timedelta(days=365))
        app.licences.install(text, actor.username)
        done.append("licence for " + ", ".join(DEMO_FEATURES))
    with app.uow() as uow:
        if uow.session.scalar(select(Venue).where(Venue.code == "CINEMA-01")) is None:
            places.add_venue(uow.session, code="CINEMA-01", name="Riverside Cinema", kind="cinema", actor=actor.username)
            places.add_venue(uow.session, code="PARK-01", name="Lakeside Park", kind="park", actor=actor.username)
            done.append("venues CINEMA-01, PARK-01")
        uow.commit()
    app.identity.sync_roles(app.plugins.permissions())
    with app.uow.read() as uow:
        existing = set(uow.session.scalars(select(User.username)))
    for username, password, name, roles in DEMO_USERS:
        if username not in existing:
            app.identity.create_user(actor, username=username, password=password, display_name=name,
                                     language="en", roles=roles)
            done.append(f"user {username}")
            if username == "cashier":
                from suite.demo_lab import OPERATOR_CARD

                app.identity.bind_card(actor, username, OPERATOR_CARD)
                done.append(f"operator card {OPERATOR_CARD} for cashier")
    done += _seed_wallet(app, actor)
    done += _seed_tickets(app, actor)
    done += _seed_checkin(app, actor)
    return done


# the demo's member cards: (number, chip UID for the lab's reader, type, holder, top-up in fen)
DEMO_CARDS = (
    ("8800000001", "04A1B2C3", "GOLD", "韩梅梅 Han Meimei", 50_000),
    ("8800000002", "04D4E5F6", "SILVER", "李雷 Li Lei", 10_000),
    ("8800000003", "04112233", "GROUP", "Sunshine School", 0),
)


def _seed_wallet(app: Any, actor: Any) -> list[str]:
    """Card types, an evening discount, and three member cards topped up (once)."""
    from plugins.wallet.services import WalletService
    from suite.errors import Conflict

    if "wallet" not in {m.id for m in app.plugins.active_manifests()}:
        return []
    wallet = WalletService.from_app(app)
    try:
        wallet.create_card_type(actor, code="GOLD", name="Gold member", discount_bp=1000, bonus_bp=1000,
                                deposit=2000, points_per_yuan=1, redeem_points_per_unit=100, redeem_fen_per_unit=100,
                                redeem_cap_bp=5000)
    except Conflict:
        return []  # seeded before
    wallet.create_card_type(actor, code="SILVER", name="Silver member", discount_bp=500, bonus_bp=500)
    wallet.create_card_type(actor, code="GROUP", name="Group ticket", kind="count", min_count_topup=10)
    wallet.create_card_type(actor, code="STAFF", name="Operator card", category="operator")
    wallet.set_settlement_price(actor, "GROUP", "PARK-01", unit_price=4500)
    wallet.add_rule(actor, rule_id="EVENING", kind="time_slot", multiplier_bp=8000, start="18:00", end="22:00")
    for number, uid, type_code, holder, amount in DEMO_CARDS:
        wallet.issue(actor, card_no=number, type_code=type_code, key=f"demo-issue-{number}", uid=uid,
                     holder_name=holder)
        if type_code == "GROUP":
            wallet.top_up(actor, card_no=number, key=f"demo-topup-{number}", counts=20, amount=90_000)
        else:
            wallet.top_up(actor, card_no=number, key=f"demo-topup-{number}", amount=amount)
    return ["card types GOLD, SILVER, GROUP, STAFF; evening discount",
            "cards " + ", ".join(f"{n} (chip {u})" for n, u, *_ in DEMO_CARDS)]


def _seed_tickets(app: Any, actor: Any) -> list[str]:
    """A cinema hall (12 x 18, VIP back rows, an aisle, wheelchair places), three films and
    today's sessions from now on, ticket types, prices and a matinee offer (once)."""
    from plugins.tickets.offers import OffersService
    from plugins.tickets.setup import SetupService
    from suite.errors import Conflict

    if "tickets" not in {m.id for m in app.plugins.active_manifests()}:
        return []
    setup = SetupService.from_app(app)
    try:
        setup.add_hall(actor, code="H1", name="Hall 1", venue_code=app.settings.terminal.venue_code)
    except Conflict:
        return []  # seeded before
    rows, columns = 12, 18
    setup.create_seat_map(actor, hall="H1", name="Standard", rows=rows, columns=columns, zone="STD",
                          zone_name="Stalls", row_style="numbers")
    setup.add_zone(actor, hall="H1", name="Standard", code="VIP", zone_name="VIP", colour="#d4a017")
    setup.edit_seats(actor, hall="H1", name="Standard", remove=[(r, 9) for r in range(rows)] + [(0, 0), (0, 17)],
                     zone="VIP", zone_cells=[(r, c) for r in (rows - 2, rows - 1) for c in range(columns)],
                     kind="wheelchair", kind_cells=[(rows - 3, 0), (rows - 3, 17)])
    for code, name, category in (("ADULT", "Adult", "adult"), ("CHILD", "Child", "child"),
                                 ("SENIOR", "Senior", "senior"), ("STUDENT", "Student", "student")):
        setup.add_ticket_type(actor, code=code, name=name, category=category)
    setup.add_price_plan(actor, code="STD", name="Standard")
    for code, price in (("ADULT", 5000), ("CHILD", 3000), ("SENIOR", 3000), ("STUDENT", 3500)):
        setup.set_price(actor, plan="STD", ticket_type=code, price=price)
    setup.set_price(actor, plan="STD", ticket_type="ADULT", price=8000, zone="VIP")
    films = (("RIVER", "The River", "A", 110), ("STARS", "Under the Stars", "B", 95), ("LION", "Lion Mountain", "B", 125))
    for code, title, grade, minutes in films:
        setup.add_programme(actor, code=code, title=title, kind="film", grade=grade, duration_minutes=minutes)
    OffersService.from_app(app).add_offer(actor, code="MATINEE", kind="time_slot", multiplier_bp=8000,
                                          start="10:00", end="14:00")
    zone = setup.settings.zone
    now = dt.datetime.now(zone)
    first = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    for n in range(6):
        code, title, grade, minutes = films[n % len(films)]
        setup.add_session(actor, code=f"S{n + 1}", programme=code, hall="H1", seat_map="Standard", plan="STD",
                          starts_at=first + dt.timedelta(hours=2 * n), state="on_sale")
    return ["hall H1 (VIP rows, aisle), films, ticket types, prices, a matinee offer, 6 sessions from "
            + first.strftime("%H:%M")]


def _seed_checkin(app: Any, actor: Any) -> list[str]:
    """The main entrance: lane L1 on the lab's turnstile gate-1 (tickets, GOLD and GROUP cards,
    staff cards) and its exit side X1 counting people out (once)."""
    from plugins.checkin.setup import SetupService
    from suite.errors import Conflict

    if "checkin" not in {m.id for m in app.plugins.active_manifests()}:
        return []
    setup = SetupService.from_app(app)
    try:
        setup.add_list(actor, code="MAIN", name="Main entrance", card_types="GOLD,GROUP", staff=True,
                       exit_tracking=True, reentry=True)
    except Conflict:
        return []
    setup.add_channel(actor, code="L1", name="Lane 1 in", list_code="MAIN", gate="gate-1", side="A")
    setup.add_channel(actor, code="X1", name="Lane 1 out", list_code="MAIN", gate="gate-1", side="B",
                      direction="out")
    setup.add_code(actor, code="GUEST-0042", admits=2, note="a guest-list code for two")
    return ["check-in list MAIN with lanes L1 (in) and X1 (out) on the turnstile gate-1, guest code GUEST-0042"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suite.demo")
    parser.add_argument("--dir", default=".demo", help="folder for the demo's database, keyring and settings")
    parser.add_argument("--no-window", action="store_true", help="set up and print, do not open the window")
    args = parser.parse_args(argv)
    from suite.cli import main as cli_main

    from suite.demo_lab import DemoLab, devices_config, free_port

    directory = Path(args.dir).resolve()
    printer_port = free_port(9100)
    site = prepare(directory, devices_config(directory, printer_port))
    if not (Path(args.dir) / "venue-suite.db").exists():
        admin, password = DEMO_USERS[0][:2]
        os.environ["VENUE_SUITE_ADMIN_PASSWORD"] = password
        try:
            code = cli_main(["--config", str(site), "init", "--admin", admin, "--admin-name", DEMO_USERS[0][2],
                             "--venue-name", "Head Office"])
        finally:
            del os.environ["VENUE_SUITE_ADMIN_PASSWORD"]
        if code:
            return code
    code = cli_main(["--config", str(site), "demo"])
    if code or args.no_window:
        return code
    # the device lab, then the real window, logged out: sign in with a user printed above.
    # A terminate or hang-up ends the window normally, so the simulators are stopped too.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _frame: sys.exit(128 + number))
    with DemoLab(directory, site, printer_port) as lab:
        for note in lab.notes:
            print(note)
        print(f"virtual printer: 127.0.0.1:{printer_port}, printed jobs in {directory / 'printed'}")
        return cli_main(["--config", str(site), "gui"])


if __name__ == "__main__":
    sys.exit(main())
