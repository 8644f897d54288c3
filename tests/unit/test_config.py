from __future__ import annotations

from pathlib import Path

import pytest

from suite.config import DEFAULT_FILE, load_settings, with_overrides
from suite.errors import ConfigError


def test_default_file_is_valid_and_loaded() -> None:
    settings = load_settings(environ={})
    assert settings.sources == (str(DEFAULT_FILE),)
    assert settings.suite.currency == "CNY"
    assert settings.security.lockout_threshold == 10


def test_site_file_then_environment_override(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[terminal]\nvenue_code = "CINEMA-01"\n[database]\nurl = "sqlite:///{data_dir}/x.db"\n'
                    '[suite]\ndata_dir = "%s"\n' % tmp_path)
    settings = load_settings(environ={"VENUE_SUITE_CONFIG": str(site), "VENUE_SUITE_TERMINAL__TERMINAL_CODE": "BOX-2",
                                      "VENUE_SUITE_SECURITY__LOCKOUT_MINUTES": "45"})
    assert settings.terminal.venue_code == "CINEMA-01"
    assert settings.terminal.terminal_code == "BOX-2"
    assert settings.security.lockout_minutes == 45
    assert settings.database_url == f"sqlite:///{tmp_path}/x.db"
    assert settings.sources[-1] == "environment"


def test_explicit_file_wins_over_environment_choice(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('[terminal]\nterminal_code = "A"\n')
    b.write_text('[terminal]\nterminal_code = "B"\n')
    assert load_settings(a, environ={"VENUE_SUITE_CONFIG": str(b)}).terminal.terminal_code == "A"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[security]\nlockout_threshold = "ten"\n', "[security] lockout_threshold: expected a whole number, got 'ten'"),
        ('[terminal]\nvenu_code = "X"\n', "[terminal] venu_code: unknown key"),
        ('[tickets]\nx = 1\n', "[tickets]: unknown section"),
        ('[database]\nurl = "mysql://x"\n', "[database] url: expected a sqlite:/// or postgresql"),
        ('[database\nurl = "x"\n', "not valid TOML"),
        ('[licensing]\npublic_keys = "abc"\n', "[licensing] public_keys: expected a list of a string"),
        ('[security]\nlockout_threshold = 0\n', "lockout_threshold and lockout_minutes must be at least 1"),
    ],
)
def test_bad_config_names_file_key_and_expectation(tmp_path: Path, content: str, expected: str) -> None:
    site = tmp_path / "site.toml"
    site.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(site, environ={})
    message = str(caught.value)
    assert expected in message
    if "unknown section" not in expected and "lockout_threshold and" not in expected and "url:" not in expected:
        assert str(site) in message


def test_missing_site_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_truncated_file_is_an_error(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_bytes(b'[suite]\nlanguage = "zh_')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(site, environ={})


def test_plugin_sections_are_kept_for_their_plugins(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[plugins.wallet]\noffline_cap = 20000\n')
    assert load_settings(site, environ={}).plugins == {"wallet": {"offline_cap": 20000}}


def test_overrides_are_validated() -> None:
    settings = load_settings(environ={})
    with pytest.raises(ConfigError):
        with_overrides(settings, security={"lockout_minutes": "soon"})
    assert with_overrides(settings, security={"lockout_minutes": 5}).security.lockout_minutes == 5


def test_config_error_in_chinese(tmp_path: Path) -> None:
    from suite.i18n import set_language

    site = tmp_path / "site.toml"
    site.write_text('[security]\nlockout_threshold = "x"\n')
    set_language("zh_CN")
    try:
        with pytest.raises(ConfigError) as caught:
            load_settings(site, environ={})
    finally:
        set_language("en")
    assert "整数" in str(caught.value)
