"""Checks on plugin manifests: each on its own, across plugins, and their references.

Pure functions over ``PluginManifest`` values; the plugin host marks a plugin failed with the
problems they return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from suite.declarations import PluginManifest
from suite.i18n import _
from suite.licensing import FEATURE_ID_RE

PERMISSION_ID_RE = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
CLI_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")


def is_ref(value: str) -> bool:
    module_name, sep, attr = value.partition(":")
    return bool(sep and module_name and attr)


def declared_ids(m: PluginManifest) -> list[tuple[str, list[str]]]:
    return [
        (_("permission"), [p.id for p in m.permissions]),
        (_("tab"), [t.id for t in m.tabs]),
        (_("report"), [r.id for r in m.reports]),
        (_("CLI command"), [c.name for c in m.cli_commands]),
        (_("device kind"), [d.id for d in m.device_kinds]),
        (_("print template"), [p.id for p in m.print_templates]),
    ]


def _refs(m: PluginManifest) -> list[tuple[str, str]]:
    refs = [(_("tab factory"), t.factory) for t in m.tabs]
    refs += [(_("report spec"), r.spec) for r in m.reports]
    refs += [(_("CLI configure"), c.configure) for c in m.cli_commands]
    refs += [(_("CLI run"), c.run) for c in m.cli_commands]
    refs += [(_("device driver"), d.driver) for d in m.device_kinds]
    refs += [(_("print layout"), p.layout) for p in m.print_templates]
    refs += [(_("gate runner"), m.gate_runner)] if m.gate_runner else []
    return refs


def manifest_problems(m: PluginManifest, reserved_cli: Iterable[str]) -> list[str]:
    """What is wrong with one manifest by itself: malformed ids, ids declared twice, CLI
    names taken by the host, references that are not ``module:attribute``."""
    reserved = frozenset(reserved_cli)
    problems: list[str] = []
    if not FEATURE_ID_RE.match(m.id):
        problems.append(_("plugin id {id!r} is malformed (lower case letters, digits, '_' or '-')").format(id=m.id))
    if m.feature is not None and not FEATURE_ID_RE.match(m.feature):
        problems.append(_("feature id {id!r} is malformed (lower case letters, digits, '_' or '-')")
                        .format(id=m.feature))
    if not m.name.strip() or not m.version.strip():
        problems.append(_("name and version must not be empty"))
    for kind, ids in declared_ids(m):
        seen: set[str] = set()
        for item_id in ids:
            if item_id in seen:
                problems.append(_("declares {kind} {id!r} twice").format(kind=kind, id=item_id))
            seen.add(item_id)
    for perm in m.permissions:
        if not PERMISSION_ID_RE.match(perm.id):
            problems.append(_("permission id {id!r} is malformed (dotted lower-case words)").format(id=perm.id))
    for cmd in m.cli_commands:
        if not CLI_NAME_RE.match(cmd.name):
            problems.append(_("CLI command name {name!r} is malformed").format(name=cmd.name))
        elif cmd.name in reserved:
            problems.append(_("CLI command {name!r} clashes with a command of the host").format(name=cmd.name))
    for what, ref in _refs(m):
        if not is_ref(ref):
            problems.append(_("{what} {ref!r} is not a 'module:attribute' reference").format(what=what, ref=ref))
    if m.id in m.depends_on:
        problems.append(_("depends on itself"))
    return problems


def duplicate_problems(plugins: Sequence[tuple[str, PluginManifest]]) -> list[list[str]]:
    """For each (source, manifest) in load order, the ids it declares that an earlier,
    accepted plugin already declared (the first one keeps them)."""
    owners: dict[tuple[str, str], str] = {}
    result: list[list[str]] = []
    for source, m in plugins:
        problems = []
        if ("plugin", m.id) in owners:
            problems.append(_("plugin id {id!r} is already used by {source}").format(
                id=m.id, source=owners[("plugin", m.id)]))
        for kind, ids in declared_ids(m):
            for item_id in ids:
                owner = owners.get((kind, item_id))
                if owner is not None:
                    problems.append(_("{kind} {id!r} is already declared by plugin {owner!r}").format(
                        kind=kind, id=item_id, owner=owner))
        result.append(problems)
        if problems:
            continue
        owners[("plugin", m.id)] = source
        for kind, ids in declared_ids(m):
            for item_id in ids:
                owners[(kind, item_id)] = m.id
    return result


def _permission_refs(m: PluginManifest) -> list[tuple[str, str, str | None]]:
    refs = [(_("tab"), t.id, t.permission) for t in m.tabs]
    refs += [(_("report"), r.id, r.permission) for r in m.reports]
    refs += [(_("CLI command"), c.name, c.permission) for c in m.cli_commands]
    return refs


def cycle_from(start: str, manifests: Mapping[str, PluginManifest]) -> list[str] | None:
    path: list[str] = []

    def visit(pid: str) -> list[str] | None:
        if pid in path:
            return [*path[path.index(pid):], pid]
        manifest = manifests.get(pid)
        if manifest is None:
            return None
        path.append(pid)
        for dep in manifest.depends_on:
            found = visit(dep)
            if found and start in found:
                return found
        path.pop()
        return None

    return visit(start)


def reference_problems(manifests: Mapping[str, PluginManifest], failed: set[str]) -> dict[str, list[str]]:
    """Per plugin id: permissions its tabs/reports/commands need that no plugin declares,
    dependencies that failed or are missing, and dependency cycles."""
    permissions = {p.id for m in manifests.values() for p in m.permissions}
    result: dict[str, list[str]] = {}
    for plugin_id, m in manifests.items():
        problems = []
        for what, item_id, perm in _permission_refs(m):
            if perm is not None and perm not in permissions:
                problems.append(_("{what} {id!r} needs permission {perm!r}, which no plugin declares")
                                .format(what=what, id=item_id, perm=perm))
        for dep in m.depends_on:
            if dep in failed:
                problems.append(_("depends on plugin {dep!r}, which failed to load").format(dep=dep))
            elif dep not in manifests:
                problems.append(_("depends on plugin {dep!r}, which is not installed").format(dep=dep))
        cycle = cycle_from(m.id, manifests)
        if cycle:
            problems.append(_("dependency cycle {cycle}").format(cycle=" -> ".join(cycle)))
        if problems:
            result[plugin_id] = problems
    return result
