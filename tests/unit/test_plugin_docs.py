"""Every hook is typed, follows the docstring template, is documented in docs/plugins.md and
is exercised by a test; every declaration field is documented."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import suite.declarations as declarations
import suite.hookspecs as hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
SPEC_MARK = f"{hookspecs.PROJECT}_spec"


def hook_names() -> list[str]:
    return sorted(name for name, obj in vars(hookspecs).items()
                  if inspect.isfunction(obj) and hasattr(obj, SPEC_MARK))


def declaration_classes() -> list[type]:
    return [obj for obj in vars(declarations).values()
            if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and obj.__module__ == declarations.__name__]


def test_the_contract_has_the_expected_hooks() -> None:
    assert {"venue_suite_manifest", "venue_suite_validate_settings", "venue_suite_startup",
            "venue_suite_shutdown", "venue_suite_event"} <= set(hook_names())


def doc_section(title: str) -> str:
    match = re.search(rf"^### `{re.escape(title)}`\n(.*?)(?=^##)", DOC + "\n##", re.M | re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("name", hook_names())
def test_hook_is_documented_in_docs(name: str) -> None:
    section = doc_section(name)
    assert section, f"docs/plugins.md has no '### `{name}`' section"
    for part in ("**What**", "**When**", "**Args**", "**Returns**", "**Errors**"):
        assert part in section, f"docs/plugins.md: {name} does not say {part}"


def test_docs_describe_no_hook_that_does_not_exist() -> None:
    documented = set(re.findall(r"^### `(venue_suite_\w+)`", DOC, re.M))
    assert documented == set(hook_names())


@pytest.mark.parametrize("name", hook_names())
def test_hook_is_exercised_by_a_test(name: str) -> None:
    this = Path(__file__).resolve()
    users = [p for p in (ROOT / "tests").rglob("*.py") if p.resolve() != this and name in p.read_text(encoding="utf-8")]
    assert users, f"no test under tests/ implements or calls {name}"


@pytest.mark.parametrize("name", hook_names())
def test_hook_is_typed_and_follows_the_docstring_template(name: str) -> None:
    func = getattr(hookspecs, name)
    signature = inspect.signature(func)
    assert signature.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
    for param in signature.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{name}({param.name}) has no type"
    doc = inspect.getdoc(func) or ""
    summary, _blank, rest = doc.partition("\n\n")
    assert summary and "\n" not in summary, f"{name}: the docstring starts with a one-line summary"
    positions = [rest.find(f"{label}:") for label in ("When", "Args", "Returns", "Errors")]
    assert -1 not in positions and positions == sorted(positions), \
        f"{name}: the docstring needs When:, Args:, Returns:, Errors: in that order"


@pytest.mark.parametrize("cls", declaration_classes(), ids=lambda c: c.__name__)
def test_declaration_and_every_field_is_documented(cls: type) -> None:
    section = doc_section(cls.__name__)
    assert section, f"docs/plugins.md has no '### `{cls.__name__}`' section"
    missing = [f.name for f in dataclasses.fields(cls) if f"`{f.name}`" not in section]
    assert not missing, f"docs/plugins.md: {cls.__name__} fields not documented: {missing}"
