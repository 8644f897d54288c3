"""Typed settings: the shipped ``config/default.toml``, a site file, then the environment.

The site file is chosen by ``--config`` or ``VENUE_SUITE_CONFIG``. Environment variables
``VENUE_SUITE_<SECTION>__<KEY>`` override single keys (``VENUE_SUITE_DATABASE__URL=...``).
Everything is validated at start; an error names the file, the key and what was expected.
Secrets never live here: only the *names* of keyring entries do (see ``suite.secrets``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from suite.errors import ConfigError
from suite.i18n import _

REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_FILE = REPO_CONFIG_DIR / "default.toml"
ENV_FILE = "VENUE_SUITE_CONFIG"
ENV_PREFIX = "VENUE_SUITE_"


@dataclass(frozen=True)
class SuiteSettings:
    language: str = "zh_CN"
    currency: str = "CNY"
    data_dir: str = "~/.local/share/venue-suite"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///{data_dir}/venue-suite.db"
    # keyring entry holding the password for a PostgreSQL url without one
    password_secret: str = ""
    echo: bool = False
    pool_size: int = 5


@dataclass(frozen=True)
class TerminalSettings:
    venue_code: str = "HQ"
    terminal_code: str = "T01"


@dataclass(frozen=True)
class KeyringSettings:
    # a keyring backend class ("keyrings.alt.file.PlaintextKeyring"); empty = the OS default
    backend: str = ""
    service: str = "venue-suite"
    # for file backends: where the file lives ("{data_dir}/keyring.cfg"); empty = backend default
    file: str = ""


@dataclass(frozen=True)
class LicensingSettings:
    # trusted vendor public keys, base64 of the raw 32-byte Ed25519 key
    public_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecuritySettings:
    lockout_threshold: int = 10
    lockout_minutes: int = 30


@dataclass(frozen=True)
class BackupSettings:
    directory: str = "{data_dir}/backups"
    keep: int = 14


@dataclass(frozen=True)
class Settings:
    suite: SuiteSettings = field(default_factory=SuiteSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    terminal: TerminalSettings = field(default_factory=TerminalSettings)
    keyring: KeyringSettings = field(default_factory=KeyringSettings)
    licensing: LicensingSettings = field(default_factory=LicensingSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    # plugin sections ([plugins.wallet] ...) are validated by their plugins
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    # devices of this terminal: [devices.<id>] kind = "...", plus the kind's options
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    @property
    def data_dir(self) -> Path:
        return Path(os.path.expanduser(self.suite.data_dir))

    def expand(self, value: str) -> str:
        """Fill ``{data_dir}`` in a path or URL setting."""
        return value.replace("{data_dir}", str(self.data_dir))

    @property
    def database_url(self) -> str:
        return self.expand(self.database.url)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (tuple, list):
        return _("a list of {item}").format(item=_type_name(get_args(tp)[0]))
    return {str: _("a string"), int: _("a whole number"), bool: _("true or false")}.get(tp, str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = get_origin(tp)
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise ConfigError(_("{where}: expected {what}, got {got!r}").format(where=where, what=_type_name(tp), got=value))
        (item,) = get_args(tp)[:1]
        return tuple(_coerce(v, item, where) for v in value)
    ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
    if not ok:
        raise ConfigError(_("{where}: expected {what}, got {got!r}").format(where=where, what=_type_name(tp), got=value))
    return value


def _parse_env_value(raw: str, tp: Any) -> Any:
    if tp is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if tp is int:
        try:
            return int(raw)
        except ValueError:
            return raw
    if get_origin(tp) in (tuple, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def _section_types() -> dict[str, type]:
    hints = get_type_hints(Settings)
    return {name: tp for name, tp in hints.items() if is_dataclass(tp)}


def _merge(settings: Settings, data: dict[str, Any], source: str) -> Settings:
    sections = _section_types()
    changes: dict[str, Any] = {}
    for section, values in data.items():
        if section in ("plugins", "devices"):
            if not isinstance(values, dict) or not all(isinstance(t, dict) for t in values.values()):
                raise ConfigError(_("{where}: expected a table").format(where=f"{source}: [{section}]"))
            merged = {**getattr(settings, section)}
            for item_id, table in values.items():
                merged[item_id] = {**merged.get(item_id, {}), **table}
            changes[section] = merged
            continue
        if section not in sections:
            raise ConfigError(_("{where}: unknown section; expected one of {names}").format(
                where=f"{source}: [{section}]", names=", ".join(sorted([*sections, "plugins", "devices"]))))
        if not isinstance(values, dict):
            raise ConfigError(_("{where}: expected a table").format(where=f"{source}: [{section}]"))
        section_type = sections[section]
        hints = get_type_hints(section_type)
        current = changes.get(section, getattr(settings, section))
        updates = {}
        for key, value in values.items():
            where = f"{source}: [{section}] {key}"
            if key not in hints:
                raise ConfigError(_("{where}: unknown key; expected one of {names}").format(
                    where=where, names=", ".join(f.name for f in fields(section_type))))
            updates[key] = _coerce(value, hints[key], where)
        changes[section] = replace(current, **updates)
    return replace(settings, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(_("{path}: configuration file not found").format(path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_("{path}: not valid TOML: {reason}").format(path=path, reason=exc)) from None
    except OSError as exc:
        raise ConfigError(_("{path}: cannot read: {reason}").format(path=path, reason=exc.strerror)) from None


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    sections = _section_types()
    overrides: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _sep, key = name[len(ENV_PREFIX):].lower().partition("__")
        if section not in sections:
            continue
        tp = get_type_hints(sections[section]).get(key, str)
        overrides.setdefault(section, {})[key] = _parse_env_value(raw, tp)
    return overrides


def load_settings(site_file: str | os.PathLike[str] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Load default + site file + environment overrides, validating as it goes."""
    env = dict(os.environ if environ is None else environ)
    settings = Settings()
    sources: list[str] = []
    if DEFAULT_FILE.exists():
        settings = _merge(settings, _read_toml(DEFAULT_FILE), str(DEFAULT_FILE))
        sources.append(str(DEFAULT_FILE))
    site = site_file or env.get(ENV_FILE)
    if site:
        path = Path(site)
        settings = _merge(settings, _read_toml(path), str(path))
        sources.append(str(path))
    overrides = _env_overrides(env)
    if overrides:
        settings = _merge(settings, overrides, _("environment"))
        sources.append("environment")
    _validate(settings)
    return replace(settings, sources=tuple(sources))


def _validate(settings: Settings) -> None:
    from suite.i18n import SUPPORTED, normalise

    if normalise(settings.suite.language) not in SUPPORTED:
        raise ConfigError(_("[suite] language: expected one of {names}").format(names=", ".join(SUPPORTED)))
    url = settings.database.url
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(_("[database] url: expected a sqlite:/// or postgresql+psycopg:// URL, got {url!r}").format(url=url))
    if settings.security.lockout_threshold < 1 or settings.security.lockout_minutes < 1:
        raise ConfigError(_("[security]: lockout_threshold and lockout_minutes must be at least 1"))
    if len(settings.suite.currency) != 3 or not settings.suite.currency.isalpha():
        raise ConfigError(_("[suite] currency: expected a three-letter ISO 4217 code"))


def with_overrides(settings: Settings, **sections: dict[str, Any]) -> Settings:
    """A copy of ``settings`` with some keys changed, validated like a file (for tests and tools)."""
    return _merge(settings, sections, "overrides")


__all__ = ["Settings", "load_settings", "with_overrides"]
