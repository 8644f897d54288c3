"""How the gate attendant's screen words and colours what the gate loop reports: the tone of a
result (green, red, amber, blue), the lines of the result panel, a row of the last scans, a gate's
mode, and the few ttk styles the screen adds to the suite's theme.

The runner's results are plain dicts (``plugins.checkin.runner``): ``type`` is ``decision``,
``passage``, ``closed``, ``free``, ``alarm``, ``emergency``, ``error`` or ``device``; decisions
and entries carry the service's ``entry_dict`` fields (``ok``, ``reason``, ``message``,
``kind``, ``label``, ``persons``, ``passed``, ``state``, ``channel``, ``nonce``, ``note``).
"""

from __future__ import annotations

import datetime as dt
import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from tkinter import ttk
from typing import Any

from suite.i18n import N_, _, ngettext
from suite.ui.theme import PALETTE

from plugins.checkin import rules

IDLE, OK, BAD, EMERGENCY, MANUAL = "idle", "ok", "bad", "emergency", "manual"
TONES = (IDLE, OK, BAD, EMERGENCY, MANUAL)
AMBER = "#f2a900"
# tone -> (background, text)
TONE_COLOURS = {
    IDLE: (PALETTE.surface, PALETTE.muted),
    OK: (PALETTE.success, PALETTE.on_accent),
    BAD: (PALETTE.danger, PALETTE.on_accent),
    EMERGENCY: (AMBER, PALETTE.text),
    MANUAL: (PALETTE.accent, PALETTE.on_accent),
}
VERDICT_FONT = "CheckinVerdict"

KIND_TITLES = {"ticket": N_("Ticket"), "card": N_("Card"), "code": N_("Code")}
DIRECTION_TITLES = {"in": N_("entry"), "out": N_("exit")}
SOURCE_TITLES = {"operator": N_("an operator"), "fire_alarm": N_("a fire alarm"), "cli": N_("the command line")}


def tone_of(result: Mapping[str, Any]) -> str:
    """The colour a scan result is shown in."""
    if result.get("reason") == rules.EMERGENCY or result.get("type") == "emergency":
        return EMERGENCY
    if result.get("type") in ("error", "alarm"):
        return BAD
    if result.get("kind") == "manual":
        return MANUAL
    return OK if result.get("ok") else BAD


def persons_text(result: Mapping[str, Any]) -> str:
    """``2 of 3 people through`` for an entry that admits people; "" otherwise."""
    persons = int(result.get("persons") or 0)
    if not result.get("ok") or persons <= 0 or result.get("reason") == rules.EMERGENCY:
        return ""
    passed = int(result.get("passed") or 0)
    text = ngettext("{passed} of {persons} person through", "{passed} of {persons} people through",
                    persons).format(passed=passed, persons=persons)
    state = result.get("state")
    if state == "partial":
        return text + " · " + _("the others may still enter")
    if state == "annulled":
        return text + " · " + _("nobody went through: annulled, still valid")
    return text


def credential_text(result: Mapping[str, Any]) -> str:
    """What was shown at the gate: ``Ticket 100000000001``, ``Card 8800000001``, the reason of an
    opening by hand."""
    if result.get("kind") == "manual":
        return _("Reason: {reason}").format(reason=result.get("note") or "—")
    label = str(result.get("label") or "")
    title = KIND_TITLES.get(str(result.get("kind") or ""))
    if title and label:
        return f"{_(title)} {label}"
    return label


def channel_text(channel: str, names: Mapping[str, str], directions: Mapping[str, str]) -> str:
    """``Channel L1 · Lane 1 · entry``."""
    if not channel:
        return ""
    parts = [_("Channel {code}").format(code=channel)]
    if names.get(channel):
        parts.append(names[channel])
    if directions.get(channel) in DIRECTION_TITLES:
        parts.append(_(DIRECTION_TITLES[directions[channel]]))
    return " · ".join(parts)


@dataclass(frozen=True)
class Row:
    """One line of the last scans."""

    time: str
    channel: str
    label: str
    result: str
    tone: str


def scan_row(result: Mapping[str, Any], at: str, *, emergency: bool = False) -> Row | None:
    """The line a result adds to the last scans (None: it only updates what is shown).
    ``emergency``: the gates are released (a passage without a scan is then an emergency's)."""
    kind = result.get("type")
    channel = str(result.get("channel") or "")
    label = str(result.get("label") or "")
    if kind == "decision":
        if result.get("repeat"):
            return None
        text = str(result.get("message") or "")
        persons = int(result.get("persons") or 0)
        if result.get("ok") and persons > 1 and result.get("reason") != rules.EMERGENCY:
            text = ngettext("{message}, {n} person", "{message}, {n} people", persons).format(message=text, n=persons)
        if result.get("kind") == "manual":
            label = str(result.get("note") or "")
        return Row(at, channel, label, text, tone_of(result))
    if kind == "closed" and result.get("not_opened"):
        return Row(at, channel, label, str(result.get("message") or ""), BAD)
    if kind == "closed" and result.get("state") in ("partial", "annulled"):
        return Row(at, channel, label, persons_text(result), BAD)
    if kind == "free":
        return Row(at, channel, "", _("Free passage (no scan)"), EMERGENCY if emergency else OK)
    if kind in ("error", "alarm"):
        return Row(at, channel or "—", "", str(result.get("message") or ""), BAD)
    if kind == "emergency":
        if result.get("active"):
            text = _("Emergency: every gate released")
            if result.get("reason") and result.get("reason") != rules.EMERGENCY:
                text += f" ({result['reason']})"
            return Row(at, "—", "", text, EMERGENCY)
        return Row(at, "—", "", str(result.get("message") or ""), OK)
    return None


def desk_note(status: Mapping[str, Any] | None) -> str:
    """What the gate's desk (``GateDesk.status``) has to say: offline, uploads waiting, a refusal."""
    if not status:
        return ""
    waiting = int(status.get("waiting") or 0)
    if not status.get("online", True):
        return ngettext("The database is out of reach: the gate decides alone; {n} check-in waits for the upload.",
                        "The database is out of reach: the gate decides alone; {n} check-ins wait for the upload.",
                        waiting).format(n=waiting)
    if waiting:
        return ngettext("{n} check-in decided offline waits for the upload.",
                        "{n} check-ins decided offline wait for the upload.", waiting).format(n=waiting)
    return str(status.get("problem") or "")


def mode_title(mode: str) -> str:
    """A gate's mode (``gates.base.GateState.mode``) in words."""
    if not mode:
        return "—"
    if mode == "locked":
        return _("Normal (locked)")
    if mode == "emergency":
        return _("Released")
    if mode == "fire":
        return _("Fire alarm")
    if mode.startswith("free"):
        return _("Free: {sides}").format(sides=mode.removeprefix("free").strip().replace(" ", ", "))
    return mode


def gate_row(gate: str, state: Mapping[str, Any], channels: str,
             extra: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    """A gate's line on the screen (gate, its channels, offline or its mode, problems) and its
    tone: ``ok`` (online, locked or free), ``bad`` (offline or a problem), ``emergency`` (released)."""
    online = bool(state.get("online"))
    problems = [str(state.get("message") or "")]
    if extra.get("fire_alarm"):
        problems.append(_("fire alarm"))
    problem = "; ".join(p for p in problems if p)
    mode = str(state.get("mode") or "")
    tone = OK
    if not online or not state.get("ok", True) or problem:
        tone = BAD
    elif mode in ("emergency", "fire"):
        tone = EMERGENCY
    return (gate, channels, mode_title(mode) if online else _("offline"), problem or "—"), tone


def local_time(iso: str, zone: Any) -> str:
    """``14:02``: an ISO time stamp in the venue's time zone."""
    try:
        return dt.datetime.fromisoformat(iso).astimezone(zone).strftime("%H:%M")
    except ValueError:
        return iso


def emergency_text(detail: Mapping[str, Any], clock: Callable[[str], str]) -> str:
    """``Since 14:02 · started by attendant (an operator) · smoke in hall 2``; ``clock`` turns the
    ISO time stamp into the time shown."""
    parts = []
    if detail.get("since"):
        parts.append(_("Since {time}").format(time=clock(detail["since"])))
    source = SOURCE_TITLES.get(str(detail.get("source") or ""))
    who = str(detail.get("actor") or "")
    if source and who:
        parts.append(_("started by {who} ({source})").format(who=who, source=_(source)))
    elif source:
        parts.append(_("started by {source}").format(source=_(source)))
    if detail.get("gate"):
        parts.append(_("gate {gate}").format(gate=detail["gate"]))
    if detail.get("reason"):
        parts.append(str(detail["reason"]))
    return " · ".join(parts)


def ensure_styles(widget: tk.Misc) -> None:
    """The screen's styles, built on the suite's theme (``suite.ui.theme``)."""
    p = PALETTE
    style = ttk.Style(widget)
    _verdict_font(widget)
    for tone, (bg, fg) in TONE_COLOURS.items():
        name = f"Checkin{tone.title()}"
        border = p.border if tone == IDLE else bg
        style.configure(f"{name}.TFrame", background=bg, relief="solid", borderwidth=1, bordercolor=border)
        for suffix, font in (("Verdict", VERDICT_FONT), ("VerdictLong", "VSHuge")):
            style.configure(f"{name}{suffix}.TLabel", background=bg, foreground=fg if tone != IDLE else p.muted,
                            font=font)
        style.configure(f"{name}Line.TLabel", background=bg, foreground=fg if tone != IDLE else p.text,
                        font="VSTitle")
        style.configure(f"{name}Detail.TLabel", background=bg, foreground=fg if tone != IDLE else p.muted,
                        font="VSLarge")
    style.configure("CheckinBanner.TFrame", background=AMBER)
    style.configure("CheckinBannerTitle.TLabel", background=AMBER, foreground=p.text, font="VSHuge")
    style.configure("CheckinBanner.TLabel", background=AMBER, foreground=p.text, font="VSLarge")
    style.configure("CheckinSection.TLabel", foreground=p.text, font="VSLargeBold")
    style.configure("CheckinHint.TLabel", foreground=p.muted, font="VSLarge")
    style.configure("CheckinAlert.TLabel", foreground=p.danger, font="VSBold")
    style.configure("CheckinCode.TLabel", foreground=p.text, font="TkFixedFont", background=p.surface,
                    padding=(12, 8))
    style.configure("CheckinPrompt.TFrame", background=p.surface, relief="solid", borderwidth=2,
                    bordercolor=p.border_strong)
    style.configure("CheckinPromptTitle.TLabel", background=p.surface, foreground=p.text, font="VSTitle")
    style.configure("CheckinPromptError.TLabel", background=p.surface, foreground=p.danger, font="VSLargeBold")
    style.configure("Touch.Danger.TButton", font="VSLargeBold", padding=(20, 11))
    style.configure("CheckinChannel.Toolbutton", font="VSLargeBold", padding=(16, 9), background=p.button,
                    bordercolor=p.border_strong)
    style.map("CheckinChannel.Toolbutton", background=[("selected", p.accent), ("active", p.button_hover)],
              foreground=[("selected", p.on_accent)], bordercolor=[("selected", p.accent)])


def _verdict_font(widget: tk.Misc) -> None:
    """The result's big word: a size above the theme's largest, kept with the root like the
    theme's own fonts (a ``tkfont.Font`` deletes its Tk font when collected)."""
    root = widget.winfo_toplevel()
    huge = tkfont.nametofont("VSHuge", root)
    size = int(huge.actual("size")) + 12
    if VERDICT_FONT in tkfont.names(root):
        tkfont.nametofont(VERDICT_FONT, root).configure(family=huge.actual("family"), size=size, weight="bold")
        return
    kept: dict[str, tkfont.Font] = root.__dict__.setdefault("_venue_suite_fonts", {})
    kept[VERDICT_FONT] = tkfont.Font(root, name=VERDICT_FONT, family=huge.actual("family"), size=size,
                                     weight="bold")


__all__ = ["AMBER", "BAD", "EMERGENCY", "IDLE", "MANUAL", "OK", "TONES", "TONE_COLOURS", "VERDICT_FONT", "Row",
           "channel_text", "credential_text", "desk_note", "emergency_text", "ensure_styles", "gate_row", "local_time",
           "mode_title", "persons_text", "scan_row", "tone_of"]
