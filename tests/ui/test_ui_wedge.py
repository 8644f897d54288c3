"""Keyboard-wedge scanners under Xvfb: real X key events typed by xdotool, fast like a scanner
or slow like a person, into a Tk entry that has the focus."""

from __future__ import annotations

import subprocess
import time
import tkinter as tk
from collections.abc import Iterator
from typing import Any

import pytest

from devices.wedge import KeyboardWedge
from suite.events import ScanEvent
from tests.ui.uihelpers import ROOTS, settle, wait_for


class Desk:
    def __init__(self) -> None:
        self.root = tk.Tk()
        ROOTS.append(self.root)
        self.root.geometry("400x200+0+0")
        self.entry = tk.Entry(self.root)
        self.entry.pack()
        self.returns = 0
        self.entry.bind("<Return>", self._on_return)
        self.posted: list[Any] = []
        self.wedge = KeyboardWedge(self.root, self.posted.append).attach()
        self.root.update()
        self.entry.focus_force()
        settle(self.root, 0.1)

    def _on_return(self, event: tk.Event) -> None:
        self.returns += 1

    def type(self, text: str, delay_ms: int, *, enter: bool = False) -> None:
        """Type ``text`` (then Return: xdotool types "\\r" as Return in the same rhythm)."""
        subprocess.run(["xdotool", "type", "--delay", str(delay_ms), text + ("\r" if enter else "")],
                       check=True, timeout=30)

    def scans(self) -> list[str]:
        return [e.data for e in self.posted if isinstance(e, ScanEvent) and e.source == "wedge"]


@pytest.fixture
def desk(xvfb: str) -> Iterator[Desk]:
    the_desk = Desk()
    yield the_desk
    the_desk.wedge.detach()
    the_desk.root.destroy()


def test_a_fast_burst_ending_in_return_is_a_scan_and_the_entry_stays_empty(desk: Desk) -> None:
    desk.type("TKT-2026-Ab9", delay_ms=4, enter=True)
    wait_for(desk.root, desk.scans, what="the scan")
    settle(desk.root, 0.2)
    assert desk.scans() == ["TKT-2026-Ab9"]
    assert desk.entry.get() == "" and desk.returns == 0


def test_slow_typing_stays_in_the_entry(desk: Desk) -> None:
    desk.type("hello7", delay_ms=90, enter=True)
    wait_for(desk.root, lambda: desk.returns == 1, what="the Return to reach the entry")
    assert desk.entry.get() == "hello7"
    assert desk.scans() == []


def test_a_fast_burst_without_return_is_typing(desk: Desk) -> None:
    desk.type("qwerty", delay_ms=4)
    wait_for(desk.root, lambda: desk.entry.get() == "qwerty", what="the keys to be replayed")
    subprocess.run(["xdotool", "key", "Return"], check=True, timeout=10)
    wait_for(desk.root, lambda: desk.returns == 1, what="Return")
    assert desk.scans() == []


def test_typing_then_a_scan_then_editing(desk: Desk) -> None:
    desk.type("ab", delay_ms=90)
    wait_for(desk.root, lambda: desk.entry.get() == "ab", what="typed text")
    time.sleep(0.1)
    desk.type("CARD0001", delay_ms=3, enter=True)
    wait_for(desk.root, desk.scans, what="the scan")
    subprocess.run(["xdotool", "key", "BackSpace"], check=True, timeout=10)
    wait_for(desk.root, lambda: desk.entry.get() == "a", what="BackSpace")
    assert desk.scans() == ["CARD0001"]


def test_detach_gives_the_keys_back(desk: Desk) -> None:
    desk.wedge.detach()
    desk.type("SCAN123", delay_ms=4, enter=True)
    wait_for(desk.root, lambda: desk.returns == 1, what="Return")
    assert desk.entry.get() == "SCAN123" and desk.scans() == []
    desk.wedge.attach()  # the fixture detaches it again
