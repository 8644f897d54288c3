"""The receipt of a box-office order, printed on the terminal's receipt printer beside the
tickets (the same printer lookup and error handling as the wallet's receipts,
``plugins.wallet.receipt``): the order, each ticket's seat, type and price, the payments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from printers.elements import Cut, Feed, Layout, Row, Rows, Separator, Text
from suite.i18n import N_, _

from plugins.wallet.receipt import Receipt, _venue_name

# venue, terminal, operator, time, order, lines [{name, total}], total, payments [{method, amount}]; reprint
ORDER_RECEIPT = Layout("tickets_order", (
    Text("{venue}", bold=True, height=2, align="center"),
    Text(N_("Ticket sale"), bold=True, align="center"),
    Separator("="),
    Row(N_("Order"), "{order}"),
    Row(N_("Terminal"), "{terminal}"),
    Row(N_("Operator"), "{operator}"),
    Row(N_("Time"), "{time}"),
    Separator(),
    Rows("lines", "{name}", "{total:money}"),
    Separator(),
    Row(N_("Total"), "{total:money}", bold=True, height=2),
    Rows("payments", "{method}", "{amount:money}"),
    Text(N_("Reprint"), align="center", bold=True, when="reprint"),
    Text(N_("Enjoy the show!"), align="center"),
    Feed(1),
    Cut(),
))

_METHODS = {"cash": N_("Cash"), "wallet": N_("Card wallet"), "voucher": N_("Voucher"),
            "distributor": N_("Distributor"), "redemption": N_("Redemption")}


def order_receipt(app: Any, actor: Any, order: Mapping[str, Any], *, now: dt.datetime | None = None) -> Receipt:
    """The receipt of ``order`` as ``SalesService.sell`` returns it."""
    from plugins.tickets.settings import settings_of

    when = (now or dt.datetime.now(dt.timezone.utc)).astimezone(settings_of(app).zone)
    lines = [{"name": " ".join(part for part in (t.get("programme", ""), _seat(t), t.get("ticket_type", "")) if part),
              "total": int(t.get("price", 0))} for t in order.get("tickets", [])]
    payments = [{"method": _(_METHODS.get(p["method"], p["method"])), "amount": int(p["amount"])}
                for p in order.get("payments", [])]
    data = {"venue": _venue_name(app), "terminal": app.settings.terminal.terminal_code,
            "operator": getattr(actor, "display_name", "") or getattr(actor, "username", ""),
            "time": when.strftime("%Y-%m-%d %H:%M"), "order": order.get("order", ""), "lines": lines,
            "total": int(order.get("total", 0)), "payments": payments}
    return Receipt(ORDER_RECEIPT, data)


def _seat(ticket: Mapping[str, Any]) -> str:
    if not ticket.get("row"):
        return ""
    return _("row {row} seat {seat}").format(row=ticket["row"], seat=ticket["seat"])


__all__ = ["ORDER_RECEIPT", "order_receipt"]
