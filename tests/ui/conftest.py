"""GUI tests: a real Tk window on an Xvfb display started here, on the demo's data.

One Xvfb per session on a free display number (1280x800, 24-bit so screenshots work), one
demo site per session (``suite.demo`` as ``make demo`` sets it up, with a lockout after 3
failures), and a fresh application and Tk root per test. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.uihelpers import LOCKOUT_THRESHOLD, ROOTS


def _free_display() -> int:
    for number in range(90, 400):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number")


@pytest.fixture(scope="session", autouse=True)
def xvfb() -> Iterator[str]:
    """Start Xvfb (unless told to use an existing display with VENUE_SUITE_TEST_DISPLAY)."""
    given = os.environ.get("VENUE_SUITE_TEST_DISPLAY")
    if given:
        os.environ["DISPLAY"] = given
        yield given
        return
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed (make setup installs it)")
    previous = os.environ.get("DISPLAY")
    for _attempt in range(5):
        number = _free_display()
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.02)
        if proc.poll() is None:
            break
    else:
        pytest.fail("Xvfb did not start")
    display = f":{number}"
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder set up exactly as ``make demo`` does; returns its site file."""
    from suite import demo

    folder = tmp_path_factory.mktemp("demo")
    assert demo.main(["--dir", str(folder), "--no-window"]) == 0
    site = folder / "site.toml"
    site.write_text(site.read_text() + f"\n[security]\nlockout_threshold = {LOCKOUT_THRESHOLD}\n")
    return site


@pytest.fixture
def app(demo_site: Path) -> Iterator[Any]:
    from suite.bootstrap import build_app
    from suite.config import load_settings
    from suite.i18n import set_language

    application = build_app(load_settings(demo_site))
    set_language("en")
    try:
        yield application
    finally:
        application.close()
        set_language("en")


@pytest.fixture
def shell(app: Any, xvfb: str) -> Iterator[Any]:
    from suite.ui.app import Shell, create_root

    root, fonts = create_root()
    ROOTS.append(root)
    the_shell = Shell(root, app, fonts=fonts, ping_interval=0.3)
    the_shell.show_login()
    root.update()
    try:
        yield the_shell
    finally:
        the_shell.close()
        gc.collect()  # the window's cyclic garbage, here on the Tk thread




@pytest.fixture
def printer(tmp_path: Path) -> Iterator[Any]:
    """A virtual 80 mm receipt and ticket printer on a free TCP port (its output in tmp_path)."""
    from printers.virtual import VirtualPrinter

    virtual = VirtualPrinter(tmp_path / "printed", paper_mm=80, port=0).start()
    yield virtual
    virtual.stop()


@pytest.fixture
def devices(app: Any, shell: Any) -> Iterator[Any]:
    """The device host, as ``venue-suite gui`` starts it: events go to the window's pump."""
    from suite.bootstrap import build_device_host

    host = build_device_host(app, shell.pump.poster)
    app.extras["devices"] = host
    host.start()
    try:
        yield host
    finally:
        host.stop()
        app.extras.pop("devices", None)
