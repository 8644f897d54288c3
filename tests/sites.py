"""A site for end-to-end tests: a settings file in a temporary folder and the CLI run in-process."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from suite.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


def write_site(tmp_path: Path, db_url: str, **extra: str) -> Path:
    """``site.toml`` on ``db_url`` with a file keyring in ``tmp_path``; ``extra`` adds sections."""
    site = tmp_path / "site.toml"
    lines = [f'[suite]\nlanguage = "en"\ndata_dir = "{tmp_path / "data"}"\n',
             f'[database]\nurl = "{db_url}"\n',
             f'[keyring]\nbackend = "keyrings.alt.file.PlaintextKeyring"\nfile = "{tmp_path / "keyring.cfg"}"\n']
    lines += [f"[{section}]\n{body}\n" for section, body in extra.items()]
    site.write_text("\n".join(lines))
    return site


@dataclass
class Site:
    path: Path
    db_url: str
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def run(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
        """``venue-suite --config SITE ARGS`` in this process, with its exit code and output."""
        self.capsys.readouterr()
        with self.monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            patch.setattr(sys, "stdin", io.StringIO(stdin or ""))
            code = main(["--config", str(self.path), *args])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def sql(self, statement: str, **params: object) -> None:
        engine = create_engine(self.db_url)
        with engine.begin() as conn:
            conn.execute(text(statement), params)
        engine.dispose()

    def app(self) -> Any:
        from suite.bootstrap import build_app
        from suite.config import load_settings

        return build_app(load_settings(self.path))
