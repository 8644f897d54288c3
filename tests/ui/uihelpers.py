"""Helpers of the GUI tests (imported by the tests and by conftest.py)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
LOCKOUT_THRESHOLD = 3
ADMIN = ("admin", "admin-demo-2026")
CASHIER = ("cashier", "cashier-demo-2026")
# Every Tk root made by the tests stays referenced until the interpreter exits: a Tcl
# interpreter must be deleted on the thread that made it, and a root left to the cyclic
# garbage collector could be finalised on whichever thread (a login check, a page loader)
# triggered a collection.
ROOTS: list[Any] = []


def wait_for(root: Any, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Run the Tk loop until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        root.update()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.005)


def settle(root: Any, seconds: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        root.update()
        time.sleep(0.005)


def login(shell: Any, username: str, password: str) -> Any:
    screen = shell.login
    screen.username.set(username)
    screen.password.set(password)
    screen.login_button.invoke()
    wait_for(shell.root, lambda: shell.main is not None and shell.login is None, what=f"{username} to log in")
    return shell.main


def screenshot(root: Any, name: str) -> Path:
    """Save the window (1024x768 from the top left of the screen) as test-artifacts/NAME.png."""
    settle(root, 0.2)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    width, height = root.winfo_width(), root.winfo_height()
    subprocess.run(["import", "-display", os.environ["DISPLAY"], "-window", "root", "-crop",
                    f"{width}x{height}+0+0", "+repage", str(path)], check=True, timeout=20)
    assert path.stat().st_size > 10_000, "the screenshot is suspiciously small"
    return path


def counter_devices(reader_name: str, printer: Any, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """``[devices]`` of a counter terminal: the lab's reader and the virtual printer."""
    return {"reader": {"kind": "pcsc-reader", "reader": reader_name},
            "printer": {"kind": "escpos-printer", "transport": "network", "host": "127.0.0.1", "port": printer.port,
                        "paper": 80, "timeout": 2.0, "poll_seconds": 0, "queue_dir": str(tmp_path / "queue")}}
