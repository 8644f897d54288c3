"""GUI tests: a real Tk window on the session's Xvfb display, on the demo's data.

The session's Xvfb (tests/conftest.py: 1280x800, 24-bit so screenshots work), one
demo site per session (``suite.demo`` as ``make demo`` sets it up, with a lockout after 3
failures), and a fresh application and Tk root per test. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.uihelpers import LOCKOUT_THRESHOLD, ROOTS


@pytest.fixture(scope="session", autouse=True)
def display(xvfb: str) -> str:
    """Every GUI test runs on the session's Xvfb (``xvfb`` in tests/conftest.py)."""
    return xvfb


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
