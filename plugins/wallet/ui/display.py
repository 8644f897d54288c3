"""How the wallet's screens show a card: money, statuses, operations, local times, history rows,
typed amounts, and the few ttk styles the screens add to the suite's theme.

Money is integer fen everywhere; it is shown as yuan with two decimals (``¥1,234.50``) and typed
amounts are parsed without floats (``suite.plugin_cli.yuan_to_fen``).
"""

from __future__ import annotations

import datetime as dt
import re
import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Iterable, Mapping
from tkinter import ttk
from typing import Any

from suite.errors import InvalidInput
from suite.i18n import N_, _, ngettext
from suite.ui.theme import PALETTE
from suite.ui.widgets import MessageBar

MAX_COUNTS = 100_000
MONEY_TYPING = re.compile(r"^\d{0,8}(\.\d{0,2})?$")   # what the amount field lets through, key by key
COUNT_TYPING = re.compile(r"^\d{0,6}$")

STATUS_TITLES = {
    "active": N_("Valid"),
    "lost": N_("Blacklisted (lost)"),
    "expired": N_("Expired"),
    "returned": N_("Returned"),
    "recycled": N_("Recycled"),
    "blank": N_("Not issued"),
}
# ok: green, bad: red (the card cannot pay), muted: grey
STATUS_TONES = {"active": "ok", "lost": "bad", "expired": "bad"}

ACTION_TITLES = {
    "issue": N_("Card issued"),
    "topup": N_("Card topped up"),
    "consume": N_("Payment"),
    "block": N_("Reported lost"),
    "unblock": N_("Unblocked"),
    "replaced": N_("Moved to a new card"),
    "replacement": N_("Replacement card"),
    "renew": N_("Validity extended"),
    "refund": N_("Card returned"),
    "recycle": N_("Card recycled"),
}

KIND_TITLES = {"value": N_("Stored value card"), "count": N_("Count card")}

BALANCE_TITLES = (
    ("main", N_("Main balance")),
    ("gift", N_("Gift balance")),
    ("points", N_("Points")),
    ("counts", N_("Counts left")),
    ("deposit", N_("Deposit")),
)


# -------------------------------------------------------------------- values

def yuan(fen: Any, *, signed: bool = False) -> str:
    """``1234`` -> ``¥12.34``; ``signed`` adds ``+`` to a positive amount. ``None`` -> ``—``."""
    if fen is None or isinstance(fen, bool) or not isinstance(fen, int):
        return "—"
    whole, cents = divmod(abs(fen), 100)
    text = f"¥{whole:,}.{cents:02d}"
    if fen < 0:
        return "-" + text
    return "+" + text if signed and fen > 0 else text


def counts_text(n: int, *, signed: bool = False) -> str:
    text = ngettext("{n} count", "{n} counts", abs(n)).format(n=f"{abs(n):,}")
    if n < 0:
        return "-" + text
    return "+" + text if signed and n > 0 else text


def points_text(n: int, *, signed: bool = False) -> str:
    text = ngettext("{n} point", "{n} points", abs(n)).format(n=f"{abs(n):,}")
    if n < 0:
        return "-" + text
    return "+" + text if signed and n > 0 else text


def balance_text(which: str, value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return "—"
    if which in ("points", "counts"):
        return f"{value:,}"
    return yuan(value)


def status_title(status: str | None) -> str:
    if not status:
        return ""
    return _(STATUS_TITLES[status]) if status in STATUS_TITLES else status


def status_tone(status: str | None) -> str:
    return STATUS_TONES.get(status or "", "muted")


def badge_style(status: str | None) -> str:
    """The ttk style of the status badge: green when the card may pay, red when it may not."""
    return f"WalletBadge{status_tone(status).title()}.TLabel"


def action_title(action: str) -> str:
    return _(ACTION_TITLES[action]) if action in ACTION_TITLES else action


def kind_title(kind: str | None) -> str:
    return _(KIND_TITLES[kind]) if kind in KIND_TITLES else (kind or "")


def refusal_notice(card: Mapping[str, Any]) -> str | None:
    """Why this card cannot pay or be topped up now (the service's own wording), or None."""
    status, number = card.get("status"), card.get("card_no")
    if status == "lost":
        return _("Card {card} is blacklisted (reported lost).").format(card=number)
    if status == "expired":
        return _("Card {card} expired on {date}.").format(card=number, date=card.get("expires_on") or "?")
    if status not in (None, "active"):
        return _("Card {card} is not active (status: {status}).").format(card=number, status=status_title(status))
    return None


# -------------------------------------------------------------------- typed input

def parse_yuan(text: str, *, allow_zero: bool = False) -> int:
    """A typed amount in yuan (``12``, ``12.5``, ``12.50``) as fen, without floats."""
    from suite.plugin_cli import yuan_to_fen

    text = text.strip()
    if not text:
        raise InvalidInput(_("Type an amount first."))
    fen = yuan_to_fen(text)
    if fen <= 0 and not allow_zero:
        raise InvalidInput(_("The amount must be more than 0."))
    return fen


def parse_counts(text: str) -> int:
    text = text.strip()
    if not text:
        raise InvalidInput(_("Type the number of counts first."))
    if not text.isdigit() or not 0 < int(text) <= MAX_COUNTS:
        raise InvalidInput(_("The number of counts must be a whole number from 1 to {high}.").format(high=MAX_COUNTS))
    return int(text)


# -------------------------------------------------------------------- times

def venue_zone(app: Any) -> dt.tzinfo:
    """The venue's time zone (``[plugins.wallet] timezone`` when the plugin has it), else the
    machine's."""
    try:
        from plugins.wallet.settings import settings_of

        return settings_of(app).zone
    except Exception:  # noqa: BLE001 - no setting (or a bad one): the machine's own zone
        return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc


def local_time(value: str | dt.datetime | None, zone: dt.tzinfo, *, seconds: bool = False) -> str:
    if value is None or value == "":
        return ""
    try:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


# -------------------------------------------------------------------- history

def movement_text(amount: Any, unit: str | None) -> str:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        return ""
    if unit == "CNY":
        return yuan(amount, signed=True)
    if unit == "count":
        return counts_text(amount, signed=True)
    if unit == "points":
        return points_text(amount, signed=True)
    return f"{amount:+,} {unit}" if unit else f"{amount:+,}"


def remaining_text(entry: Mapping[str, Any]) -> str:
    """The balance left after this event, when the history carries it."""
    details = entry.get("details") if isinstance(entry.get("details"), Mapping) else {}
    for source in (entry, details):
        for key in ("remaining", "balance_after"):
            value = source.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return counts_text(value) if entry.get("unit") == "count" else yuan(value)
            if isinstance(value, Mapping):   # every balance after the event
                unit = entry.get("unit")
                if unit == "count" and isinstance(value.get("counts"), int):
                    return counts_text(value["counts"])
                if isinstance(value.get("main"), int):
                    return yuan(value["main"])
    return ""


def venue_names(app: Any) -> dict[str, str]:
    """Venue code -> name, for the *Place* column (call it off the Tk thread: it reads the database)."""
    try:
        return {venue.code: venue.name or venue.code for venue in app.places.venues()}
    except Exception:  # noqa: BLE001 - the codes will do
        return {}


def history_rows(history: Iterable[Mapping[str, Any]], zone: dt.tzinfo,
                 places: Mapping[str, str] | None = None) -> list[tuple[str, str, str, str, str]]:
    """(time, place, operation, amount or count, remaining) per event, newest first."""
    rows = []
    places = places or {}
    for entry in history:
        venue = str(entry.get("venue") or "")
        rows.append((local_time(entry.get("at"), zone), places.get(venue, venue),
                     action_title(str(entry.get("action") or "")),
                     movement_text(entry.get("amount"), entry.get("unit")), remaining_text(entry)))
    rows.reverse()
    return rows


def fill_history(table: Any, rows: list[tuple[str, ...]]) -> None:
    """Put ``history_rows`` in a ``suite.ui.widgets.Table``; its *Remaining* column shows only
    when some row has a value for it."""
    table.set_rows(rows)
    tree = table.tree
    with_remaining = any(row[4] for row in rows)
    shown = [c.name for c in table.columns if with_remaining or c.name != "remaining"]
    if list(tree.cget("displaycolumns")) in (shown, ["#all"] if len(shown) == len(table.columns) else shown):
        return
    tree.configure(displaycolumns=shown)
    # the Treeview spreads its width over the columns only when resized: spread it now
    room = tree.winfo_width() - 4
    widths = {name: int(tree.column(name, "width")) for name in shown}
    if room > 100 and sum(widths.values()) > 0:
        for name, width in widths.items():
            tree.column(name, width=max(40, width * room // sum(widths.values())))


# -------------------------------------------------------------------- looks

class PanelMessage(MessageBar):
    """The suite's message bar, wrapping a little short of its edge: Tk breaks a line of Hanzi
    (no spaces) only once it passes the wrap length, so a full-width line would be clipped."""

    MARGIN = 40

    def __init__(self, parent: tk.Misc, **kw: Any) -> None:
        super().__init__(parent, **kw)
        self.bind("<Configure>", lambda e: self.configure(wraplength=max(160, e.width - self.MARGIN)))


def ensure_styles(widget: tk.Misc) -> None:
    """The wallet screens' styles, built on the suite's theme (``suite.ui.theme``)."""
    p = PALETTE
    style = ttk.Style(widget)
    for tone, (bg, fg) in {"ok": (p.success_soft, p.success), "bad": (p.danger_soft, p.danger),
                           "muted": (p.status, p.muted)}.items():
        style.configure(f"WalletBadge{tone.title()}.TLabel", background=bg, foreground=fg, font="VSLargeBold",
                        padding=(14, 5), anchor="center")
    style.configure("WalletNumber.TLabel", background=p.surface, foreground=p.text, font="VSTitle")
    style.configure("WalletHuge.TLabel", background=p.surface, foreground=p.text, font="VSHuge")
    style.configure("WalletValue.TLabel", background=p.surface, foreground=p.text, font="VSLargeBold")
    style.configure("WalletLow.TLabel", background=p.surface, foreground=p.danger, font="VSLargeBold")
    style.configure("WalletOffline.TLabel", background=p.danger_soft, foreground=p.danger, font="VSLargeBold",
                    padding=(10, 6))
    style.configure("WalletCaption.TLabel", background=p.surface, foreground=p.muted, font="VSSmall")
    style.configure("WalletPrompt.TLabel", background=p.window, foreground=p.muted, font="VSLarge")
    style.configure("WalletSection.TLabel", background=p.window, foreground=p.text, font="VSLargeBold")
    style.configure("Touch.Danger.TButton", font="VSLargeBold", padding=(20, 11))
    large = tkfont.nametofont("VSLarge", widget).metrics("linespace")
    style.configure("WalletLarge.Treeview", font="VSLarge", rowheight=large + 12)
    style.configure("WalletLarge.Treeview.Heading", font="VSLargeBold")
    style.configure("WalletQuick.Touch.TButton", padding=(6, 11))
    style.configure("WalletNarrow.Touch.TButton", padding=(6, 11))
    style.configure("WalletNarrow.TouchAccent.TButton", padding=(6, 11))


__all__ = ["ACTION_TITLES", "BALANCE_TITLES", "COUNT_TYPING", "MONEY_TYPING", "STATUS_TITLES", "action_title",
           "badge_style", "balance_text", "counts_text", "ensure_styles", "fill_history", "history_rows",
           "kind_title", "local_time", "movement_text", "PanelMessage", "parse_counts", "parse_yuan",
           "points_text", "refusal_notice", "remaining_text", "status_title", "status_tone", "venue_names",
           "venue_zone", "yuan"]
