"""Receipts for card payments and top-ups, printed on the terminal's receipt printer.

The layouts are data (``printers.elements``), like the suite's own in ``printers/layouts.py``;
their labels are translated when the job is rendered, in the operator's language. The data
comes from the use case's result (``WalletService.consume`` / ``top_up``) and the card as the
panel showed it; amounts are integer fen, shown with ``{key:money}``.

The receipt printer is the terminal's first configured ``escpos-printer`` device
(``[devices.<id>]``), started by the device host (``app.extras["devices"]``). Printing never
touches the money: a sale stands whatever the printer does. ``print_receipt`` raises
``NoReceiptPrinter`` when the terminal has none, and the printer's own ``PrinterError``
(out of paper, offline, unreachable; translated) when the job did not print; the job then
waits in the printer's reprint queue and ``reprint`` prints exactly that job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from printers.elements import Cut, Feed, Layout, Row, Rows, Separator, Text
from suite.errors import SuiteError
from suite.i18n import N_, _

PRINTER_KIND = "escpos-printer"

_HEADER = (
    Text("{venue}", bold=True, height=2, align="center"),
)
_WHO = (
    Separator("="),
    Row(N_("Terminal"), "{terminal}"),
    Row(N_("Operator"), "{operator}"),
    Row(N_("Time"), "{time}"),
    Row(N_("Card no."), "{card_masked}"),
    Row(N_("Holder"), "{holder}", when="holder"),
    Separator(),
)
_BALANCES = (
    Separator(),
    Text(N_("Remaining balance"), bold=True),
    Row(N_("Main balance"), "{main:money}", when="show_money"),
    Row(N_("Gift balance"), "{gift:money}", when="show_money"),
    Row(N_("Points"), "{points}", when="show_money"),
    Row(N_("Counts left"), "{counts}", when="show_counts"),
    Separator(),
    Row(N_("Transaction no."), "{entry_short}"),
    Text(N_("Reprint"), align="center", bold=True, when="reprint"),
    Text(N_("Thank you for your visit!"), align="center"),
    Feed(1),
    Cut(),
)

# venue, terminal, operator, time, card_masked, entry_short; value cards: list_price, charged, main, gift,
# points, show_money; count cards: counts_used, counts, show_counts; optional: holder, lines [{name,
# quantity, total}] (a sale of several lines), discount, paid_main, paid_gift, paid_points,
# points_redeemed, points_earned, reprint
CONSUME_RECEIPT = Layout("wallet_consume", (
    *_HEADER,
    Text(N_("Card payment"), bold=True, align="center"),
    *_WHO,
    Rows("lines", "{name} x{quantity}", "{total:money}", when="lines"),
    Row(N_("List price"), "{list_price:money}", when="show_money"),
    Row(N_("Discount"), "-{discount:money}", when="discount"),
    Row(N_("Charged"), "{charged:money}", bold=True, height=2, when="show_money"),
    Row(N_("Paid from main balance"), "{paid_main:money}", when="paid_main"),
    Row(N_("Paid from gift balance"), "{paid_gift:money}", when="paid_gift"),
    Row(N_("Paid with points"), "{paid_points:money}", when="paid_points"),
    Row(N_("Points redeemed"), "{points_redeemed}", when="points_redeemed"),
    Row(N_("Counts used"), "{counts_used}", bold=True, height=2, when="counts_used"),
    Row(N_("Points earned"), "{points_earned}", when="points_earned"),
    *_BALANCES,
))

# venue, terminal, operator, time, card_masked, entry_short, paid, main, gift, points, counts, show_money or
# show_counts; optional: holder, bonus, counts_added, reprint
TOPUP_RECEIPT = Layout("wallet_topup", (
    *_HEADER,
    Text(N_("Card top-up"), bold=True, align="center"),
    *_WHO,
    Row(N_("Paid"), "{paid:money}", bold=True, height=2),
    Row(N_("Bonus"), "{bonus:money}", when="bonus"),
    Row(N_("Counts added"), "{counts_added}", bold=True, when="counts_added"),
    *_BALANCES,
))

LAYOUTS: dict[str, Layout] = {CONSUME_RECEIPT.id: CONSUME_RECEIPT, TOPUP_RECEIPT.id: TOPUP_RECEIPT}


class NoReceiptPrinter(SuiteError):
    code = "no_receipt_printer"


@dataclass
class Receipt:
    """One receipt: what to print and, after a failure, which job of which printer waits."""

    layout: Layout
    data: dict[str, Any]
    printer_id: str | None = None
    queued_job: int | None = None          # its number in the printer's reprint queue
    printed: int = 0                       # times it came out


# -------------------------------------------------------------------- data

def mask_card(card_no: str) -> str:
    """Every character but the last four hidden: ``88000123`` -> ``****0123``."""
    card_no = str(card_no or "")
    return "*" * max(4, len(card_no) - 4) + card_no[-4:]


def short_entry(entry_id: Any) -> str:
    """The journal entry's id in eight characters (its random tail: v7 UUIDs start with the time)."""
    text = str(entry_id or "").replace("-", "")
    return text[-8:].upper() if text and text != "None" else "-"


def _nonzero(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) and value != 0 else None


def _venue_name(app: Any) -> str:
    code = app.settings.terminal.venue_code
    try:
        for venue in app.places.venues():
            if venue.code == code:
                return f"{venue.name}" if venue.name else code
    except Exception:  # noqa: BLE001 - the code will do on the receipt
        pass
    return code


def _common(app: Any, actor: Any, card: Mapping[str, Any], result: Mapping[str, Any],
            when: dt.datetime | None) -> dict[str, Any]:
    from plugins.wallet.ui.display import local_time, venue_zone

    balances = result.get("balances") or card.get("balances") or {}
    count_card = card.get("kind") == "count"
    return {
        "venue": _venue_name(app),
        "terminal": app.settings.terminal.terminal_code,
        "operator": getattr(actor, "display_name", "") or getattr(actor, "username", ""),
        "time": local_time(when or dt.datetime.now(dt.timezone.utc), venue_zone(app), seconds=True),
        "card_masked": mask_card(str(result.get("card_no") or card.get("card_no") or "")),
        "holder": card.get("holder_name") or "",
        "entry_short": short_entry(result.get("entry_id")),
        "main": int(balances.get("main", 0)), "gift": int(balances.get("gift", 0)),
        "points": int(balances.get("points", 0)), "counts": int(balances.get("counts", 0)),
        "show_money": None if count_card else True,
        "show_counts": True if count_card else None,
        "reprint": None,
    }


def consume_receipt(app: Any, actor: Any, card: Mapping[str, Any], result: Mapping[str, Any], *,
                    when: dt.datetime | None = None) -> Receipt:
    """The receipt of ``WalletService.consume``'s ``result`` for ``card`` (the panel's copy)."""
    data = _common(app, actor, card, result, when)
    charged = int(result.get("charged") or 0)
    lines = [{"name": str(line.get("name") or line.get("sku") or ""), "quantity": line.get("quantity", 1),
              "total": int(line.get("total", line.get("list_price", 0)) or 0)}
             for line in result.get("lines") or [] if isinstance(line, Mapping)]
    count_card = card.get("kind") == "count"
    paid_main = None if count_card else result.get("paid_main", charged)
    data.update({
        "lines": lines if len(lines) > 1 else None,      # one line is the amount typed: the price says it
        "list_price": int(result.get("list_price") or 0),
        "discount": _nonzero(result.get("discount")),
        "charged": charged,
        "paid_main": _nonzero(paid_main),
        "paid_gift": _nonzero(result.get("paid_gift")),
        "paid_points": _nonzero(result.get("paid_points")),
        "points_redeemed": _nonzero(result.get("points_redeemed")),
        "points_earned": _nonzero(result.get("points_earned")),
        "counts_used": _nonzero(result.get("counts")) if count_card else None,
    })
    return Receipt(CONSUME_RECEIPT, data)


def topup_receipt(app: Any, actor: Any, card: Mapping[str, Any], result: Mapping[str, Any], *,
                  when: dt.datetime | None = None) -> Receipt:
    """The receipt of ``WalletService.top_up``'s ``result`` for ``card``."""
    data = _common(app, actor, card, result, when)
    data.update({
        "paid": int(result.get("amount") or 0),
        "bonus": _nonzero(result.get("bonus")),
        "counts_added": _nonzero(result.get("counts")),
    })
    return Receipt(TOPUP_RECEIPT, data)


# -------------------------------------------------------------------- printing

def receipt_printer_id(app: Any) -> str | None:
    """The terminal's receipt printer: its first configured ``escpos-printer`` device."""
    for device_id, table in (app.settings.devices or {}).items():
        if isinstance(table, Mapping) and table.get("kind") == PRINTER_KIND:
            return str(device_id)
    return None


def _printer(app: Any, receipt: Receipt) -> Any:
    from suite.device_host import DeviceError

    device_id = receipt_printer_id(app)
    if device_id is None:
        raise NoReceiptPrinter(_("No receipt printer is configured for this terminal, so no receipt was "
                                 "printed."))
    receipt.printer_id = device_id
    devices = app.extras.get("devices")
    if devices is None:
        raise DeviceError(_("The devices of this terminal are not started: the receipt printer ({id}) cannot "
                            "print.").format(id=device_id))
    return devices.device(device_id)


def print_receipt(app: Any, receipt: Receipt) -> str:
    """Print ``receipt`` (off the Tk thread); returns the printer's id.

    ``NoReceiptPrinter`` when the terminal has none; the printer's ``PrinterError`` (its job
    then waits in the reprint queue, ``receipt.queued_job``) or ``DeviceError`` otherwise."""
    printer = _printer(app, receipt)
    _print(printer, receipt, receipt.data)
    return str(receipt.printer_id)


def _print(printer: Any, receipt: Receipt, data: Mapping[str, Any]) -> None:
    try:
        printer.print_layout(receipt.layout, data)
    except SuiteError as exc:
        job = exc.details.get("job_id") if isinstance(exc.details, Mapping) else None
        receipt.queued_job = job if isinstance(job, int) else None
        raise
    receipt.printed += 1


def reprint(app: Any, receipt: Receipt) -> str:
    """Print ``receipt`` again: the job waiting in the reprint queue when the first print failed
    (exactly those bytes, and it leaves the queue), else the receipt once more, marked *Reprint*."""
    printer = _printer(app, receipt)
    if receipt.queued_job is not None:
        printer.reprint(receipt.queued_job)
        receipt.queued_job = None
        receipt.printed += 1
    else:
        _print(printer, receipt, dict(receipt.data, reprint=True) if receipt.printed else receipt.data)
    return str(receipt.printer_id)


__all__ = ["CONSUME_RECEIPT", "LAYOUTS", "NoReceiptPrinter", "Receipt", "TOPUP_RECEIPT", "consume_receipt",
           "mask_card", "print_receipt", "receipt_printer_id", "reprint", "short_entry", "topup_receipt"]
