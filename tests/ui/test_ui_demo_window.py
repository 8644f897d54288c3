"""``make demo`` (``python -m suite.demo``) and ``venue-suite gui`` open the real window."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.ui.uihelpers import REPO


def _window_titled(title: str, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["xdotool", "search", "--name", title], capture_output=True, text=True,
                               env=dict(os.environ), timeout=10)
        ids = found.stdout.split()
        if ids:
            return ids
        time.sleep(0.1)
    return []


def test_demo_opens_the_window_logged_out(demo_site: Path) -> None:
    settings = demo_site.read_text()  # the demo rewrites its site file; the other tests' lockout stays
    proc = subprocess.Popen([sys.executable, "-m", "suite.demo", "--dir", str(demo_site.parent)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "VENUE_SUITE_LANG": "en"})
    try:
        assert _window_titled("Venue Suite: sign in"), "the login window did not appear"
        assert proc.poll() is None  # the window runs until it is closed
    finally:
        proc.terminate()
        out, _err = proc.communicate(timeout=30)
        demo_site.write_text(settings)
    assert "admin / admin-demo-2026" in out and "cashier / cashier-demo-2026" in out
    # the demo's simulators (printer, turnstile, card lab daemon) went with it
    left = subprocess.run(["pgrep", "-f", str(demo_site.parent)], capture_output=True, text=True).stdout.split()
    assert left == [], f"processes left running: {left}"
