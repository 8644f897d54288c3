"""The administration tab: every action goes through a service as the logged-in operator."""

from __future__ import annotations

from tests.ui.uihelpers import ADMIN, login, screenshot

from suite.identity.actor import Actor


def open_admin(shell, user=ADMIN):
    main = login(shell, *user)
    main.select_id("core.admin")
    return main.slots[main.tab_ids().index("core.admin")].content


def test_create_a_user_through_the_form_and_manage_it(shell) -> None:
    users = open_admin(shell).show("users")
    assert {"admin", "cashier"} <= {row[0] for row in users.table.rows()}
    users.new_username.insert(0, "usher1")
    users.new_display.insert(0, "First Usher")
    users.new_user_password.insert(0, "usher-pass-2026")
    users.new_language.current(1)
    users.new_role.set("gate_attendant")
    users.create_button.invoke()
    assert users.message.kind == "ok", users.message.text
    row = users.table.tree.item("usher1", "values")
    assert row[1] == "First Usher" and row[2] == "gate_attendant" and row[3] == "active"
    assert users.selected_user() == "usher1"
    screenshot(shell.root, "admin-users")

    users.new_username.insert(0, "usher1")
    users.new_user_password.insert(0, "usher-pass-2026")
    users.create_button.invoke()
    assert users.message.kind == "error" and "already exists" in users.message.text

    users.table.select("usher1")
    users.role.set("salesperson")
    users.role_venue.set("CINEMA-01")
    users.assign_button.invoke()
    assert "salesperson@CINEMA-01" in users.table.tree.item("usher1", "values")[2]
    users.revoke_button.invoke()
    assert "salesperson" not in users.table.tree.item("usher1", "values")[2]

    users.card_uid.insert(0, "A1B2C3D4")
    users.bind_button.invoke()
    assert users.table.tree.item("usher1", "values")[4] == "A1B2C3D4"
    users.table.select("usher1")
    users.unbind_button.invoke()
    assert users.table.tree.item("usher1", "values")[4] == "—"

    users.table.select("usher1")
    users.new_password.insert(0, "usher-new-2026")
    users.reset_button.invoke()
    assert users.message.kind == "ok"
    assert shell.app.identity.authenticate("usher1", "usher-new-2026").username == "usher1"

    users.table.select("usher1")
    users.disable_button.invoke()
    assert users.table.tree.item("usher1", "values")[3] == "disabled"
    users.table.select("usher1")
    users.enable_button.invoke()
    users.unlock_button.invoke()
    assert users.table.tree.item("usher1", "values")[3] == "active"

    users.table.select("admin")
    users.disable_button.invoke()  # the last administrator: refused by the service
    assert users.message.kind == "error" and "administrator" in users.message.text


def test_roles_grant_and_revoke(shell) -> None:
    roles = open_admin(shell).show("roles")
    roles.role_table.select("gate_attendant")
    roles.permission_table.select("reports.view")
    before = roles.permission_table.tree.item("reports.view", "values")[2]
    roles.grant_button.invoke()
    assert roles.permission_table.tree.item("reports.view", "values")[2] == "✓", roles.message.text
    roles.permission_table.select("reports.view")
    roles.revoke_button.invoke()
    assert roles.permission_table.tree.item("reports.view", "values")[2] == before == ""
    screenshot(shell.root, "admin-roles")


def test_venues_terminals_audit_log_and_verify(shell) -> None:
    admin = open_admin(shell)
    places = admin.show("places")
    assert {"HQ", "CINEMA-01", "PARK-01"} <= {row[0] for row in places.venue_table.rows()}
    places.venue_code.insert(0, "ktv-9")
    places.venue_name.insert(0, "Night KTV")
    places.venue_kind.set("ktv")
    assert places.add_venue() is not None, places.message.text
    assert ("KTV-9", "Night KTV", "ktv", "yes") in places.venue_table.rows()
    places.terminal_venue.set("KTV-9")
    places.terminal_code.insert(0, "k1")
    assert places.add_terminal() is not None, places.message.text
    assert ("KTV-9", "K1", "K1", "yes") in places.terminal_table.rows()
    screenshot(shell.root, "admin-places")

    audit = admin.show("audit")
    actions = [row[3] for row in audit.table.rows()]
    assert "terminal.add" in actions and "venue.add" in actions
    audit.kind.current(2)  # security
    audit.refresh()
    assert audit.table.rows() and {row[2] for row in audit.table.rows()} == {"security"}
    result = audit.verify()
    assert result.ok and audit.message.kind == "ok" and "intact" in audit.message.text
    screenshot(shell.root, "admin-audit")
    licence = admin.show("licence")
    assert "Venue Suite Demo" in str(licence.detail_values["licensee"].cget("text"))
    screenshot(shell.root, "admin-licence")


def test_missing_permissions_come_back_as_messages(shell) -> None:
    system = Actor.system("test")
    identity = shell.app.identity
    identity.create_role(system, "user_admin", "User administrator", "chain")
    identity.grant(system, "user_admin", "admin.users")
    identity.create_user(system, username="useradmin", password="useradmin-2026", roles=("user_admin",))
    admin = open_admin(shell, ("useradmin", "useradmin-2026"))
    places = admin.show("places")
    places.venue_code.insert(0, "NOPE")
    assert places.add_venue() is None
    assert places.message.kind == "error" and "permission" in places.message.text
    plugins = admin.show("plugins")
    plugins.toggle(False, "core")
    assert "permission" in plugins.message.text
    audit = admin.show("audit")
    assert "permission" in audit.message.text and audit.table.rows() == []
