"""The host's own plugin: the permissions of the host's screens and commands.

Registered first by every ``PluginHost`` (``suite.plugins.BUILTIN_PLUGINS``); it needs no
licence feature and cannot be disabled. The system administrator role holds every permission
implicitly, so ``default_roles`` only lists the other roles that get one at initialisation.
"""

from __future__ import annotations

import suite
from suite.declarations import DeviceKind, Permission, PluginManifest, PrintTemplate, ReportDecl, TabSpec
from suite.hookspecs import hookimpl
from suite.i18n import N_

PLUGIN_ID = "core"

# role ids of suite.identity (chain roles and venue roles)
_REPORTING = ("statistician", "finance", "local_statistician", "manager")

PERMISSIONS: tuple[Permission, ...] = (
    Permission("admin.users", N_("Manage users and operator cards")),
    Permission("admin.roles", N_("Manage roles and their permissions")),
    Permission("admin.plugins", N_("Enable and disable plugins")),
    Permission("admin.licence", N_("Install the licence")),
    Permission("admin.settings", N_("Change venues, terminals, devices and settings")),
    Permission("admin.backup", N_("Back up and restore the database")),
    Permission("ledger.view", N_("View ledger accounts and journal entries"), ("finance", "statistician")),
    Permission("ledger.check", N_("Run the ledger balance checks"), ("finance",)),
    Permission("audit.view", N_("View the operation and security logs")),
    Permission("audit.verify", N_("Verify the audit log chain")),
    Permission("reports.view", N_("View reports"), _REPORTING),
    Permission("reports.export", N_("Export reports to Excel or CSV"), _REPORTING),
    Permission("reports.chain", N_("See reports for every venue of the chain"), ("statistician", "finance")),
    # the gate emergency (suite.emergency): never licence-gated; only the administrator resets it
    Permission("gates.emergency", N_("Release every gate in an emergency"), ("gate_attendant", "manager")),
    Permission("gates.emergency_reset", N_("Reset the gates after an emergency")),
)

TABS: tuple[TabSpec, ...] = (
    TabSpec("core.reports", N_("Reports"), factory="suite.ui.reports_tab:build", permission="reports.view", order=900),
    TabSpec("core.admin", N_("Administration"), factory="suite.ui.admin:build", permission="admin.users", order=1000),
)

REPORTS: tuple[ReportDecl, ...] = (
    ReportDecl("core.audit_log", N_("Audit log"), spec="suite.audit.reports:AUDIT_LOG", permission="audit.view"),
    ReportDecl("core.ledger_journal", N_("Ledger journal"), spec="suite.ledger.reports:JOURNAL",
               permission="ledger.view"),
    ReportDecl("core.users_roles", N_("Users and roles"), spec="suite.identity.reports:USERS_ROLES",
               permission="admin.users"),
)

DEVICE_KINDS: tuple[DeviceKind, ...] = (
    DeviceKind("pcsc-reader", N_("Contactless card reader (PC/SC)"), driver="devices.pcsc:open_reader"),
    DeviceKind("serial-scanner", N_("Barcode/QR scanner (serial)"), driver="devices.scanners:open_serial_scanner"),
    DeviceKind("escpos-printer", N_("Receipt and ticket printer (ESC/POS)"), driver="printers.device:open_printer"),
    DeviceKind("osdp-gate", N_("Turnstile controller (OSDP)"), driver="gates.osdp:open_gate"),
    DeviceKind("relay-gate", N_("Turnstile on a serial relay board"), driver="gates.relay:open_gate"),
)

PRINT_TEMPLATES: tuple[PrintTemplate, ...] = (
    PrintTemplate("receipt", N_("Receipt"), layout="printers.layouts:RECEIPT"),
    PrintTemplate("ticket", N_("Ticket with QR code and seat"), layout="printers.layouts:TICKET"),
    PrintTemplate("topup_slip", N_("Top-up slip"), layout="printers.layouts:TOPUP_SLIP"),
    PrintTemplate("rental_slip", N_("Rental slip"), layout="printers.layouts:RENTAL_SLIP"),
    PrintTemplate("shift_report", N_("Shift report"), layout="printers.layouts:SHIFT_REPORT"),
)


@hookimpl
def venue_suite_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        name="Venue Suite",
        version=suite.__version__,
        feature=None,
        description=N_("The host: users, roles, licence, plugins, ledger, audit and reports."),
        permissions=PERMISSIONS,
        tabs=TABS,
        reports=REPORTS,
        device_kinds=DEVICE_KINDS,
        print_templates=PRINT_TEMPLATES,
    )
