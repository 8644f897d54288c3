"""The look of the suite: a flat, light theme built on ttk's 'clam', CJK fonts, touch sizes.

No theme package is needed: 'clam' is the one built-in theme whose every colour (borders,
highlights, field backgrounds) can be set, so it is restyled here into a clean flat look.
Fonts are Noto Sans CJK SC when installed (it has Latin glyphs too, so one family renders
both languages); sizes are in points so Tk's scaling follows the screen's DPI. Counter
screens use the ``Touch.*`` styles: buttons at least ``TOUCH_MIN_PX`` pixels high.
"""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from dataclasses import dataclass
from tkinter import ttk

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
                "Microsoft YaHei", "PingFang SC", "Noto Sans SC")
MONO_FAMILIES = ("Noto Sans Mono CJK SC", "DejaVu Sans Mono")
TOUCH_MIN_PX = 44


@dataclass(frozen=True)
class Palette:
    window: str = "#f3f5f8"
    surface: str = "#ffffff"
    border: str = "#d3d9e1"
    border_strong: str = "#aab4c0"
    text: str = "#1c2530"
    muted: str = "#5c6877"
    accent: str = "#1f6feb"
    accent_hover: str = "#1a5fd0"
    accent_pressed: str = "#164fae"
    accent_soft: str = "#e3edfd"
    on_accent: str = "#ffffff"
    danger: str = "#c62828"
    danger_soft: str = "#fdecea"
    success: str = "#1b7f3b"
    success_soft: str = "#e6f4ea"
    warning: str = "#a15c00"
    header: str = "#17212c"
    on_header: str = "#f3f5f8"
    status: str = "#e7ebf0"
    stripe: str = "#f6f8fb"
    selected: str = "#cfe0fc"
    disabled: str = "#9aa4b0"
    button: str = "#eceff3"
    button_hover: str = "#e1e6ec"


PALETTE = Palette()


@dataclass(frozen=True)
class Fonts:
    family: str
    base: int
    large: int
    title: int
    huge: int


def pick_family(root: tk.Misc, candidates: tuple[str, ...] = CJK_FAMILIES) -> str | None:
    available = set(tkfont.families(root))
    return next((name for name in candidates if name in available), None)


def _check_scaling(root: tk.Misc) -> None:
    """Xvfb and some kiosks report nonsense DPI; fall back to 96 DPI then."""
    dpi = root.winfo_fpixels("1i")
    if not 72 <= dpi <= 300:
        root.tk.call("tk", "scaling", 96 / 72)


def apply_theme(root: tk.Tk, *, base_size: int = 11, palette: Palette = PALETTE) -> Fonts:
    """Style ``root`` and every ttk widget in it; returns the font sizes used."""
    _check_scaling(root)
    family = pick_family(root) or tkfont.nametofont("TkDefaultFont", root).actual("family")
    mono = pick_family(root, MONO_FAMILIES) or "TkFixedFont"
    fonts = Fonts(family=family, base=base_size, large=base_size + 3, title=base_size + 7, huge=base_size + 17)
    for name in ("TkDefaultFont", "TkTextFont", "TkMenuFont", "TkHeadingFont", "TkCaptionFont",
                 "TkSmallCaptionFont", "TkIconFont", "TkTooltipFont"):
        tkfont.nametofont(name, root).configure(family=family, size=base_size)
    tkfont.nametofont("TkHeadingFont", root).configure(weight="bold")
    tkfont.nametofont("TkFixedFont", root).configure(family=mono, size=base_size)
    named = {"VSLarge": (fonts.large, "normal"), "VSLargeBold": (fonts.large, "bold"),
             "VSTitle": (fonts.title, "bold"), "VSHuge": (fonts.huge, "bold"),
             "VSSmall": (base_size - 1, "normal"), "VSBold": (base_size, "bold")}
    # a tkinter Font deletes its Tk font when garbage-collected: keep them with the root
    kept: dict[str, tkfont.Font] = root.__dict__.setdefault("_venue_suite_fonts", {})
    for name, (size, weight) in named.items():
        if name in tkfont.names(root):
            tkfont.nametofont(name, root).configure(family=family, size=size, weight=weight)
        else:
            kept[name] = tkfont.Font(root, name=name, family=family, size=size, weight=weight)

    p = palette
    root.configure(background=p.window)
    root.option_add("*Menu.background", p.surface)
    root.option_add("*Menu.foreground", p.text)
    root.option_add("*Menu.activeBackground", p.accent)
    root.option_add("*Menu.activeForeground", p.on_accent)
    root.option_add("*Menu.relief", "flat")
    root.option_add("*TCombobox*Listbox.font", "VSLarge")
    root.option_add("*TCombobox*Listbox.selectBackground", p.accent)
    root.option_add("*TCombobox*Listbox.selectForeground", p.on_accent)

    style = ttk.Style(root)
    style.theme_use("clam")
    style.configure(".", background=p.window, foreground=p.text, bordercolor=p.border, darkcolor=p.window,
                    lightcolor=p.window, troughcolor=p.status, focuscolor=p.accent, selectbackground=p.accent,
                    selectforeground=p.on_accent, fieldbackground=p.surface, insertcolor=p.text,
                    font="TkDefaultFont")
    style.map(".", foreground=[("disabled", p.disabled)])
    style.configure("TFrame", background=p.window)
    style.configure("Card.TFrame", background=p.surface, relief="solid", borderwidth=1, bordercolor=p.border)
    style.configure("Surface.TFrame", background=p.surface)
    style.configure("Header.TFrame", background=p.header)
    style.configure("Status.TFrame", background=p.status)
    style.configure("TLabel", background=p.window, foreground=p.text)
    style.configure("Surface.TLabel", background=p.surface)
    style.configure("Muted.TLabel", foreground=p.muted)
    style.configure("VSBold.TLabel", font="VSBold")
    style.configure("SurfaceMuted.TLabel", background=p.surface, foreground=p.muted)
    style.configure("Title.TLabel", font="VSTitle")
    style.configure("SurfaceTitle.TLabel", background=p.surface, font="VSTitle")
    style.configure("Large.TLabel", font="VSLarge")
    style.configure("SurfaceLarge.TLabel", background=p.surface, font="VSLarge")
    style.configure("Header.TLabel", background=p.header, foreground=p.on_header, font="VSLargeBold")
    style.configure("HeaderMuted.TLabel", background=p.header, foreground="#b8c2cf")
    style.configure("Error.TLabel", background=p.surface, foreground=p.danger)
    style.configure("Message.TLabel", background=p.window, foreground=p.text, padding=(8, 4))
    style.configure("MessageError.TLabel", background=p.danger_soft, foreground=p.danger, padding=(8, 4))
    style.configure("MessageOk.TLabel", background=p.success_soft, foreground=p.success, padding=(8, 4))
    style.configure("Status.TLabel", background=p.status, foreground=p.text, padding=(10, 4), font="VSSmall")
    style.configure("StatusOk.TLabel", background=p.status, foreground=p.success, padding=(10, 4), font="VSSmall")
    style.configure("StatusBad.TLabel", background=p.status, foreground=p.danger, padding=(10, 4), font="VSSmall")
    style.configure("TSeparator", background=p.border)

    # buttons: flat, a one-pixel border, an accent variant, touch-size variants
    style.configure("TButton", background=p.button, foreground=p.text, bordercolor=p.border_strong,
                    lightcolor=p.button, darkcolor=p.button, relief="flat", padding=(12, 5), anchor="center",
                    focusthickness=1, focuscolor=p.accent)
    style.map("TButton", background=[("disabled", p.window), ("pressed", p.accent_soft), ("active", p.button_hover)],
              lightcolor=[("disabled", p.window), ("pressed", p.accent_soft), ("active", p.button_hover)],
              darkcolor=[("disabled", p.window), ("pressed", p.accent_soft), ("active", p.button_hover)],
              bordercolor=[("focus", p.accent), ("active", p.accent)])
    for name, bg, hover, pressed in (("Accent", p.accent, p.accent_hover, p.accent_pressed),
                                     ("Danger", p.danger, "#a92222", "#8e1c1c")):
        style.configure(f"{name}.TButton", background=bg, foreground=p.on_accent, bordercolor=bg,
                        lightcolor=bg, darkcolor=bg, font="VSBold")
        style.map(f"{name}.TButton", background=[("disabled", p.border), ("pressed", pressed), ("active", hover)],
                  lightcolor=[("pressed", pressed), ("active", hover)],
                  darkcolor=[("pressed", pressed), ("active", hover)],
                  foreground=[("disabled", p.surface)], bordercolor=[("focus", pressed)])
    touch_pad = (20, 11)
    style.configure("Touch.TButton", font="VSLarge", padding=touch_pad)
    style.configure("TouchAccent.TButton", font="VSLargeBold", padding=touch_pad, background=p.accent,
                    foreground=p.on_accent, bordercolor=p.accent, lightcolor=p.accent, darkcolor=p.accent)
    style.map("TouchAccent.TButton", background=[("disabled", p.border), ("pressed", p.accent_pressed),
                                                 ("active", p.accent_hover)],
              lightcolor=[("pressed", p.accent_pressed), ("active", p.accent_hover)],
              darkcolor=[("pressed", p.accent_pressed), ("active", p.accent_hover)],
              bordercolor=[("focus", p.accent_pressed)])
    style.configure("Header.TButton", background="#243140", foreground=p.on_header, bordercolor="#3a4a5c",
                    lightcolor="#243140", darkcolor="#243140", padding=(14, 6))
    style.map("Header.TButton", background=[("pressed", "#35465a"), ("active", "#2d3c4e")],
              lightcolor=[("pressed", "#35465a"), ("active", "#2d3c4e")],
              darkcolor=[("pressed", "#35465a"), ("active", "#2d3c4e")], foreground=[("active", "#ffffff")])

    # inputs
    for widget in ("TEntry", "TCombobox", "TSpinbox"):
        style.configure(widget, fieldbackground=p.surface, background=p.surface, bordercolor=p.border_strong,
                        lightcolor=p.surface, darkcolor=p.surface, padding=(8, 5), arrowcolor=p.muted,
                        insertwidth=2)
        style.map(widget, bordercolor=[("focus", p.accent), ("invalid", p.danger)],
                  lightcolor=[("focus", p.accent)], fieldbackground=[("readonly", p.surface), ("disabled", p.window)])
    style.configure("Touch.TEntry", font="VSLarge", padding=(10, 9))
    style.configure("Touch.TCombobox", padding=(10, 8))
    for widget in ("TCheckbutton", "TRadiobutton"):
        style.configure(widget, background=p.window, indicatorbackground=p.surface, indicatorforeground=p.accent,
                        upperbordercolor=p.border_strong, lowerbordercolor=p.border_strong, padding=(4, 4))
        style.map(widget, background=[("active", p.window)], indicatorbackground=[("pressed", p.accent_soft)])
    style.configure("Surface.TRadiobutton", background=p.surface)
    style.map("Surface.TRadiobutton", background=[("active", p.surface)])

    # notebook: flat tabs with an accent underline feel
    style.configure("TNotebook", background=p.window, bordercolor=p.border, tabmargins=(8, 6, 8, 0),
                    lightcolor=p.window, darkcolor=p.window)
    style.configure("TNotebook.Tab", background=p.status, foreground=p.muted, bordercolor=p.border,
                    lightcolor=p.status, darkcolor=p.status, padding=(18, 6), font="VSLarge")
    style.map("TNotebook.Tab", background=[("selected", p.surface), ("active", p.stripe)],
              foreground=[("selected", p.accent), ("active", p.text)],
              lightcolor=[("selected", p.accent)], padding=[("selected", (18, 6))],
              expand=[("selected", (0, 2, 0, 0))])
    style.configure("Sub.TNotebook.Tab", font="TkDefaultFont", padding=(14, 6))

    # tables
    row = tkfont.nametofont("TkDefaultFont", root).metrics("linespace") + 10
    style.configure("Treeview", background=p.surface, fieldbackground=p.surface, foreground=p.text,
                    bordercolor=p.border, lightcolor=p.surface, darkcolor=p.surface, rowheight=row)
    style.map("Treeview", background=[("selected", p.selected)], foreground=[("selected", p.text)])
    style.configure("Compact.Treeview", rowheight=tkfont.nametofont("TkDefaultFont", root).metrics("linespace") + 4)
    style.configure("Treeview.Heading", background=p.status, foreground=p.text, bordercolor=p.border,
                    lightcolor=p.status, darkcolor=p.status, relief="flat", padding=(8, 6), font="VSBold")
    style.map("Treeview.Heading", background=[("active", p.border)])
    style.configure("TScrollbar", background=p.status, troughcolor=p.window, bordercolor=p.window,
                    lightcolor=p.status, darkcolor=p.status, arrowcolor=p.muted, gripcount=0)
    style.map("TScrollbar", background=[("active", p.border)])
    style.configure("TProgressbar", background=p.accent, troughcolor=p.status, bordercolor=p.border,
                    lightcolor=p.accent, darkcolor=p.accent, thickness=18)
    style.configure("TLabelframe", background=p.window, bordercolor=p.border, lightcolor=p.window,
                    darkcolor=p.window)
    style.configure("TLabelframe.Label", background=p.window, foreground=p.muted, font="VSBold")
    style.configure("TPanedwindow", background=p.window)
    return fonts


__all__ = ["PALETTE", "TOUCH_MIN_PX", "Fonts", "Palette", "apply_theme", "pick_family"]
