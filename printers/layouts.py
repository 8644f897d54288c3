"""The suite's print layouts, as data (``suite.core_plugin.PRINT_TEMPLATES`` names them).

Each layout lists the keys its data dict needs in its docstring-like comment; amounts are
integers in minor units shown with ``{key:money}``. Plugins may declare their own layouts the
same way (a ``Layout`` of ``printers.elements``) and name them in a ``PrintTemplate``.
"""

from __future__ import annotations

from printers.elements import Barcode, Cut, Feed, Layout, Qr, Row, Rows, Separator, Text
from suite.i18n import N_

# venue, receipt_no, time, cashier, items [{name, qty, amount}], total, payments [{method, amount}],
# optional: address, change, card_no, card_balance, footer
RECEIPT = Layout("receipt", (
    Text("{venue}", bold=True, height=2, align="center"),
    Text("{address}", align="center", when="address"),
    Separator("="),
    Row(N_("Receipt"), "{receipt_no}"),
    Row(N_("Time"), "{time}"),
    Row(N_("Cashier"), "{cashier}"),
    Separator(),
    Rows("items", "{name} x{qty}", "{amount:money}"),
    Separator(),
    Row(N_("Total"), "{total:money}", bold=True, height=2),
    Rows("payments", "{method}", "{amount:money}"),
    Row(N_("Change given"), "{change:money}", when="change"),
    Row(N_("Card no."), "{card_no}", when="card_no"),
    Row(N_("Card balance"), "{card_balance:money}", when="card_balance"),
    Separator(),
    Text("{footer}", align="center", when="footer"),
    Text(N_("Thank you for your visit!"), align="center"),
    Barcode("{receipt_no}", when="receipt_no"),
    Cut(),
))

# venue, show, session_time, hall, row, seat, price, ticket_no, qr_payload; optional: ticket_type, notice
TICKET = Layout("ticket", (
    Text("{venue}", bold=True, align="center"),
    Separator("="),
    Text("{show}", bold=True, width=2, height=2, align="center"),
    Separator(),
    Row(N_("Session"), "{session_time}"),
    Row(N_("Hall"), "{hall}"),
    Row(N_("Seat"), N_("Row {row} Seat {seat}"), bold=True, height=2),
    Row(N_("Ticket type"), "{ticket_type}", when="ticket_type"),
    Row(N_("Price"), "{price:money}"),
    Row(N_("Ticket No."), "{ticket_no}"),
    Feed(1),
    Qr("{qr_payload}", size=6, ec="M"),
    Text(N_("Show this code at the gate"), align="center"),
    Text("{notice}", align="center", when="notice"),
    Cut(),
))

# venue, card_no, time, amount, balance, operator, transaction_no; optional: bonus, card_type
TOPUP_SLIP = Layout("topup_slip", (
    Text("{venue}", bold=True, align="center"),
    Text(N_("Card top-up"), bold=True, height=2, align="center"),
    Separator(),
    Row(N_("Card no."), "{card_no}"),
    Row(N_("Card type"), "{card_type}", when="card_type"),
    Row(N_("Time"), "{time}"),
    Row(N_("Top-up"), "{amount:money}"),
    Row(N_("Bonus"), "{bonus:money}", when="bonus"),
    Row(N_("New balance"), "{balance:money}", bold=True, height=2),
    Separator(),
    Row(N_("Operator"), "{operator}"),
    Row(N_("Transaction no."), "{transaction_no}"),
    Feed(1),
    Text(N_("Customer signature:"), when="signature"),
    Feed(2, when="signature"),
    Cut(),
))

# venue, rental_no, item, tag, time_out, deposit, operator;
# optional (on return): time_back, duration, fee, refund
RENTAL_SLIP = Layout("rental_slip", (
    Text("{venue}", bold=True, align="center"),
    Text(N_("Rental slip"), bold=True, height=2, align="center"),
    Separator(),
    Row(N_("Rental no."), "{rental_no}"),
    Row(N_("Rental item"), "{item}"),
    Row(N_("Item tag"), "{tag}"),
    Row(N_("Rented at"), "{time_out}"),
    Row(N_("Returned at"), "{time_back}", when="time_back"),
    Row(N_("Time used"), "{duration}", when="duration"),
    Row(N_("Deposit"), "{deposit:money}"),
    Row(N_("Fee"), "{fee:money}", when="fee"),
    Row(N_("Refund"), "{refund:money}", bold=True, when="refund"),
    Row(N_("Operator"), "{operator}"),
    Barcode("{rental_no}"),
    Cut(),
))

# venue, terminal, cashier, opened, closed, float, by_method [{method, amount}], sales_count,
# refunds, total, expected_cash, counted_cash, difference
SHIFT_REPORT = Layout("shift_report", (
    Text("{venue}", bold=True, align="center"),
    Text(N_("Shift report"), bold=True, height=2, align="center"),
    Separator("="),
    Row(N_("Terminal"), "{terminal}"),
    Row(N_("Cashier"), "{cashier}"),
    Row(N_("Opened at"), "{opened}"),
    Row(N_("Closed at"), "{closed}"),
    Separator(),
    Row(N_("Opening float"), "{float:money}"),
    Rows("by_method", "{method}", "{amount:money}"),
    Row(N_("Sales count"), "{sales_count}"),
    Row(N_("Refunds"), "{refunds:money}"),
    Separator(),
    Row(N_("Total"), "{total:money}", bold=True),
    Row(N_("Expected cash"), "{expected_cash:money}"),
    Row(N_("Counted cash"), "{counted_cash:money}"),
    Row(N_("Difference"), "{difference:money}", bold=True),
    Feed(2),
    Text(N_("Signature: ____________")),
    Cut(),
))

BUILTIN_LAYOUTS: dict[str, Layout] = {layout.id: layout for layout in
                                      (RECEIPT, TICKET, TOPUP_SLIP, RENTAL_SLIP, SHIFT_REPORT)}
