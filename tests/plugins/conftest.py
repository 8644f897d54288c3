"""Shared fixtures of the plugin tests: a CLI site licensed for the wallet."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sites import Site, write_site

ADMIN_PASSWORD = "correct-horse-42"


@pytest.fixture
def site(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Site:
    """A site whose host loads the wallet as a built-in, licensed for the feature ``wallet``."""
    import suite.plugins as host

    class WalletHost(host.PluginHost):
        def __init__(self, *args, **kwargs) -> None:
            builtins = tuple(kwargs.pop("builtin_modules", host.BUILTIN_PLUGINS))
            if "plugins.wallet" not in builtins:
                builtins += ("plugins.wallet",)
            super().__init__(*args, builtin_modules=builtins, **kwargs)

    monkeypatch.setattr(host, "PluginHost", WalletHost)
    s = Site(write_site(tmp_path, db_url), db_url, capsys, monkeypatch)
    assert s.run("--json", "init", stdin=ADMIN_PASSWORD + "\n").code == 0
    public = s.run("--json", "license", "keygen").json["public_key"]
    s.path.write_text(s.path.read_text() + f'\n[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "chain.lic"
    issued = s.run("license", "issue", "--chain", "CHAIN-1", "--licensee", "River Cinemas", "--features", "wallet",
                   "--max-terminals", "3", "--max-cards", "500", "--expires", "2099-12-31", "--out", str(licence))
    assert issued.code == 0, issued.err
    assert s.run("license", "install", str(licence)).code == 0
    return s
