"""PluginHost: a real third-party package through its entry point, plus in-process plugins
that fail in every way a plugin can, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from suite.declarations import CliCommand, Permission, PluginManifest, ReportDecl, TabSpec
from suite.errors import Conflict, ConfigError, FeatureNotLicensed, LicenceError, NotFound
from suite.hookspecs import hookimpl
from suite.licensing import LicenceService, Purpose, generate_keypair, issue
from suite.plugin_state import PluginStateRow
from suite.plugins import CORE_PLUGIN_ID, PluginHost, PluginState, PluginUnavailable, resolve_ref

REPO = Path(__file__).resolve().parents[2]
HELLO_SRC = REPO / "tests" / "fixtures" / "hello_plugin"
PRIVATE, PUBLIC = generate_keypair()
TODAY = dt.date(2026, 6, 1)


def clock() -> dt.datetime:
    return dt.datetime.combine(TODAY, dt.time(12, tzinfo=dt.timezone.utc))


def licence_text(features: list[str], expires: dt.date = dt.date(2099, 12, 31), grace_days: int = 0) -> str:
    return issue(PRIVATE, chain_id="CHAIN-A", licensee="Test Park", features=features, max_terminals=5,
                 max_activated_cards=10, issued=dt.date(2026, 1, 1), expires=expires, grace_days=grace_days)


# ---------------------------------------------------------------- the external package

SCRIPT = r"""
import json, sys
from suite.db.engine import create_database_engine
from suite.db.schema import create_schema
from suite.db.uow import UnitOfWorkFactory
from suite.licensing import LicenceService
from suite.plugins import PluginHost, resolve_ref

db_url, public_key, licence_path, settings_json = sys.argv[1:5]
engine = create_database_engine(db_url)
create_schema(engine)
uow_factory = UnitOfWorkFactory(engine)
licences = LicenceService(uow_factory, [public_key])
if licence_path:
    licences.install(open(licence_path, encoding="utf-8").read(), "test")
host = PluginHost(uow_factory, licences, reserved_cli_names={"license", "db", "plugins"},
                  builtin_modules=("suite.core_plugin",))
host.load(json.loads(settings_json))


class Everyone:
    def has_permission(self, permission):
        return True


commands = host.cli_commands()
print(json.dumps({
    "plugins": [p.as_dict() for p in host.plugins()],
    "permissions": [p.id for p in host.permissions()],
    "tabs": [{"plugin": host.owner_of_tab(t.id), "id": t.id, "factory": t.factory} for t in host.tabs(Everyone())],
    "commands": [{"plugin": host.owner_of_command(c.name), "name": c.name} for c in commands],
    "run": [resolve_ref(c.run)(None, None) for c in commands if c.name == "hello"],
}))
"""


@pytest.fixture(scope="module")
def hello_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hello plugin installed by pip into its own folder, as a site would install it."""
    work = tmp_path_factory.mktemp("hello")
    source = work / "src"
    shutil.copytree(HELLO_SRC, source)  # keep build/ and *.egg-info out of the repository
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                    "--no-index", "--disable-pip-version-check", "--quiet", "--target", str(target),
                    str(source)], check=True, capture_output=True, text=True)
    assert (target / "venue_suite_hello" / "__init__.py").exists()
    return target


def run_host(target: Path, tmp_path: Path, licence: str | None, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    licence_path = ""
    if licence is not None:
        (tmp_path / "licence.txt").write_text(licence, encoding="utf-8")
        licence_path = str(tmp_path / "licence.txt")
    return run_script(SCRIPT, target, tmp_path, licence_path, settings or {})


def run_script(script: str, target: Path, tmp_path: Path, licence_path: str, settings: dict[str, Any]) -> dict[str, Any]:
    pythonpath = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{tmp_path / 'suite.db'}", PUBLIC, licence_path,
         json.dumps(settings)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": pythonpath}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def by_id(plugins: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in plugins}


def test_external_plugin_without_its_feature_is_unlicensed(hello_target: Path, tmp_path: Path) -> None:
    out = run_host(hello_target, tmp_path, licence_text(["wallet"]))
    plugins = by_id(out["plugins"])
    assert plugins["core"]["state"] == "active"
    hello = plugins["hello"]
    assert hello["state"] == "unlicensed" and hello["feature"] == "hello"
    assert hello["source"] == "entry point hello = venue_suite_hello"
    assert "'hello'" in hello["reason"]
    assert "hello.greet" in out["permissions"]  # declared even while unlicensed, to seed roles
    assert [t["plugin"] for t in out["tabs"]] == ["core", "core"]  # the host's own Reports and Administration
    assert out["commands"] == [] and out["run"] == []


def test_external_plugin_with_its_feature_is_active_with_tab_and_command(hello_target: Path, tmp_path: Path) -> None:
    out = run_host(hello_target, tmp_path, licence_text(["hello"]), {"hello": {"greeting": "nihao"}})
    assert by_id(out["plugins"])["hello"]["state"] == "active"
    assert [t for t in out["tabs"] if t["plugin"] == "hello"] == [
        {"plugin": "hello", "id": "hello.main", "factory": "venue_suite_hello:build_tab"}]
    assert out["commands"] == [{"plugin": "hello", "name": "hello"}]
    assert out["run"] == [{"greeting": "hello"}]


def test_external_plugin_with_bad_settings_fails_with_its_message(hello_target: Path, tmp_path: Path) -> None:
    out = run_host(hello_target, tmp_path, licence_text(["hello"]), {"hello": {"greeting": 42}})
    hello = by_id(out["plugins"])["hello"]
    assert hello["state"] == "failed"
    assert hello["error"] == "[plugins.hello] greeting: expected a string, got 42"
    assert by_id(out["plugins"])["core"]["state"] == "active"


def test_reserved_cli_name_fails_the_external_plugin(hello_target: Path, tmp_path: Path) -> None:
    script = SCRIPT.replace('reserved_cli_names={"license", "db", "plugins"}', 'reserved_cli_names={"hello"}')
    assert script != SCRIPT
    hello = by_id(run_script(script, hello_target, tmp_path, "", {})["plugins"])["hello"]
    assert hello["state"] == "failed" and "'hello' clashes with a command of the host" in hello["error"]


# ---------------------------------------------------------------- in-process plugins

@dataclass(eq=False)
class Plugin:
    """A configurable test plugin; ``calls`` records every hook the host called."""

    manifest: PluginManifest
    __name__: str = "test-plugin"
    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail_in: set[str] = field(default_factory=set)

    def _hook(self, name: str, arg: Any = None) -> None:
        self.calls.append((name, arg))
        if name in self.fail_in:
            raise RuntimeError(f"{name} exploded in {self.manifest.id}")

    @hookimpl
    def venue_suite_manifest(self) -> PluginManifest:
        self._hook("manifest")
        return self.manifest

    @hookimpl
    def venue_suite_validate_settings(self, settings: dict[str, Any]) -> None:
        self._hook("validate_settings", settings)
        if settings.get("broken"):
            raise ConfigError(f"[plugins.{self.manifest.id}] broken: must be false")

    @hookimpl
    def venue_suite_startup(self, app: Any) -> None:
        self._hook("startup", app)
        app.log.append(("startup", self.manifest.id))

    @hookimpl
    def venue_suite_shutdown(self, app: Any) -> None:
        app.log.append(("shutdown", self.manifest.id))
        self._hook("shutdown", app)

    @hookimpl
    def venue_suite_event(self, app: Any, event: object) -> None:
        self._hook("event", event)


def plugin(pid: str, **kwargs: Any) -> Plugin:
    fail_in = kwargs.pop("fail_in", set())
    return Plugin(PluginManifest(id=pid, name=pid.title(), version="1.0", **kwargs), __name__=pid, fail_in=fail_in)


@dataclass
class App:
    log: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Actor:
    permissions: set[str]

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


@pytest.fixture
def licences(uow_factory) -> LicenceService:
    return LicenceService(uow_factory, [PUBLIC], clock=clock)


def make_host(uow_factory, licences: LicenceService, *plugins: object, **kwargs: Any) -> PluginHost:
    kwargs.setdefault("builtin_modules", ("suite.core_plugin",))  # only the host's own, whatever else is built in
    return PluginHost(uow_factory, licences, entry_point_group=None, extra_plugins=plugins, **kwargs).load()


def states(host: PluginHost) -> dict[str, str]:
    return {p.id: str(p.state) for p in host.plugins()}


def test_core_plugin_declares_the_host_permissions(uow_factory, licences) -> None:
    host = make_host(uow_factory, licences)
    (core,) = host.plugins()
    assert (core.id, core.state, core.feature, core.source) == ("core", PluginState.ACTIVE, None, "builtin suite.core_plugin")
    perms = {p.id: p for p in host.permissions()}
    assert set(perms) == {"admin.users", "admin.roles", "admin.plugins", "admin.licence", "admin.settings",
                          "admin.backup", "ledger.view", "ledger.check", "audit.view", "audit.verify",
                          "reports.view", "reports.export", "reports.chain", "gates.emergency",
                          "gates.emergency_reset"}
    assert {"statistician", "finance", "local_statistician", "manager"} <= set(perms["reports.view"].default_roles)
    assert perms["admin.users"].default_roles == ()
    assert host.manifests() == [core.manifest]


def test_failing_manifest_is_marked_failed_and_the_others_load(uow_factory, licences) -> None:
    broken = plugin("broken", fail_in={"manifest"})
    good = plugin("good", permissions=(Permission("good.use", "Use"),))

    class NotAManifest:
        __name__ = "liar"

        @hookimpl
        def venue_suite_manifest(self) -> object:
            return {"id": "liar"}

    host = make_host(uow_factory, licences, broken, NotAManifest(), good)
    infos = {p.id: p for p in host.plugins()}
    assert infos["broken"].state is PluginState.FAILED
    assert infos["broken"].error == "venue_suite_manifest raised RuntimeError: manifest exploded in broken"
    assert infos["liar"].state is PluginState.FAILED and "not a PluginManifest" in (infos["liar"].error or "")
    assert infos["good"].state is PluginState.ACTIVE and infos["core"].state is PluginState.ACTIVE
    assert "good.use" in {p.id for p in host.permissions()}


def test_unimportable_builtin_and_misspelt_hook_fail_alone(uow_factory, licences) -> None:
    class Misspelt:
        __name__ = "misspelt"

        @hookimpl
        def venue_suite_manifest(self) -> PluginManifest:
            return PluginManifest(id="misspelt", name="M", version="1")

        @hookimpl
        def venue_suite_startpu(self, app: Any) -> None: ...

    host = make_host(uow_factory, licences, Misspelt(),
                     builtin_modules=("suite.core_plugin", "suite.no_such_plugin"))
    infos = {p.id: p for p in host.plugins()}
    assert infos["suite.no_such_plugin"].state is PluginState.FAILED
    assert "cannot be loaded" in (infos["suite.no_such_plugin"].error or "")
    assert "venue_suite_startpu" in (infos["misspelt"].error or "")
    assert infos["core"].state is PluginState.ACTIVE


def test_duplicate_plugin_ids_are_rejected_with_a_clear_error(uow_factory, licences) -> None:
    first, second = plugin("dup"), plugin("dup")
    host = make_host(uow_factory, licences, first, second)
    infos = host.plugins()
    dups = [p for p in infos if p.id == "dup"]
    assert [p.state for p in dups] == [PluginState.ACTIVE, PluginState.FAILED]
    assert "plugin id 'dup' is already used by object dup" in (dups[1].error or "")


@pytest.mark.parametrize("kwargs, message", [
    ({"permissions": (Permission("admin.users", "Again"),)}, "permission 'admin.users' is already declared by plugin 'core'"),
    ({"feature": "Not A Feature"}, "feature id 'Not A Feature' is malformed"),
    ({"tabs": (TabSpec("x.tab", "X", "x:build", permission="x.nobody"),)},
     "tab 'x.tab' needs permission 'x.nobody', which no plugin declares"),
    ({"reports": (ReportDecl("x.r", "R", "x:spec", permission="x.nobody"),)}, "report 'x.r' needs permission"),
    ({"cli_commands": (CliCommand("x", "X", "x:configure", "x:run", permission="x.nobody"),)},
     "CLI command 'x' needs permission"),
    ({"depends_on": ("ghost",)}, "depends on plugin 'ghost', which is not installed"),
    ({"tabs": (TabSpec("x.tab", "X", "no-colon"),)}, "is not a 'module:attribute' reference"),
    ({"permissions": (Permission("x.a", "A"), Permission("x.a", "A"))}, "declares permission 'x.a' twice"),
    ({"cli_commands": (CliCommand("license", "X", "x:c", "x:r"),)}, "'license' clashes with a command of the host"),
])
def test_invalid_declarations_fail_that_plugin_only(uow_factory, licences, kwargs: dict[str, Any], message: str) -> None:
    host = make_host(uow_factory, licences, plugin("x", **kwargs), plugin("fine"),
                     reserved_cli_names={"license"})
    infos = {p.id: p for p in host.plugins()}
    assert infos["x"].state is PluginState.FAILED
    assert message in (infos["x"].error or "")
    assert infos["fine"].state is PluginState.ACTIVE and infos["core"].state is PluginState.ACTIVE


def test_cross_plugin_duplicates_and_failed_dependencies_cascade(uow_factory, licences) -> None:
    a = plugin("a", tabs=(TabSpec("shared.tab", "A", "a:build"),), cli_commands=(CliCommand("go", "Go", "a:c", "a:r"),))
    b = plugin("b", tabs=(TabSpec("shared.tab", "B", "b:build"),))
    c = plugin("c", cli_commands=(CliCommand("go", "Go", "c:c", "c:r"),))
    broken = plugin("broken", fail_in={"manifest"})
    needs_broken = plugin("needs-broken", depends_on=("broken",))
    cycle1, cycle2 = plugin("cy1", depends_on=("cy2",)), plugin("cy2", depends_on=("cy1",))
    host = make_host(uow_factory, licences, a, b, c, broken, needs_broken, cycle1, cycle2)
    infos = {p.id: p for p in host.plugins()}
    assert infos["a"].state is PluginState.ACTIVE
    assert "tab 'shared.tab' is already declared by plugin 'a'" in (infos["b"].error or "")
    assert "CLI command 'go' is already declared by plugin 'a'" in (infos["c"].error or "")
    assert "depends on plugin 'broken', which failed to load" in (infos["needs-broken"].error or "")
    assert "dependency cycle" in (infos["cy1"].error or "") and infos["cy2"].state is PluginState.FAILED


def test_validate_settings_gets_its_own_table_and_config_errors_fail_it(uow_factory, licences) -> None:
    ok, bad = plugin("ok"), plugin("bad")
    host = make_host(uow_factory, licences, ok, bad,
                     plugin_settings={"ok": {"colour": "red"}, "bad": {"broken": True}, "gone": {}})
    assert ("validate_settings", {"colour": "red"}) in ok.calls
    infos = {p.id: p for p in host.plugins()}
    assert infos["bad"].state is PluginState.FAILED and infos["bad"].error == "[plugins.bad] broken: must be false"
    assert infos["ok"].state is PluginState.ACTIVE
    assert host.warnings == ["[plugins.gone]: no plugin 'gone' is installed; the table is ignored"]


def test_enable_disable_is_persisted_in_the_database(uow_factory, licences) -> None:
    host = make_host(uow_factory, licences, plugin("greeter"))
    assert host.plugin("greeter").enabled and host.plugin("greeter").state is PluginState.ACTIVE
    info = host.disable("greeter", "alice")
    assert info.state is PluginState.DISABLED and not info.enabled
    with uow_factory() as uow:
        row = uow.session.scalars(select(PluginStateRow)).one()
        assert (row.plugin_id, row.enabled, row.changed_by) == ("greeter", False, "alice")
        assert row.changed_at.tzinfo is not None
    again = make_host(uow_factory, licences, plugin("greeter"))  # a new app on the same database
    assert again.plugin("greeter").state is PluginState.DISABLED
    assert again.active_manifests() == [again.plugin("core").manifest]
    again.enable("greeter", "bob")
    assert make_host(uow_factory, licences, plugin("greeter")).plugin("greeter").state is PluginState.ACTIVE
    with pytest.raises(Conflict, match="cannot be disabled"):
        again.disable(CORE_PLUGIN_ID, "alice")
    with pytest.raises(NotFound, match="'nope'"):
        again.enable("nope", "alice")


def test_licence_decides_unlicensed_or_active(uow_factory, licences) -> None:
    host = make_host(uow_factory, licences, plugin("wallet", feature="wallet"), plugin("free"))
    assert states(host) == {"core": "active", "wallet": "unlicensed", "free": "active"}
    with pytest.raises(FeatureNotLicensed, match="'wallet'"):
        host.require_active("wallet", Purpose.SALE)
    host.require_active("wallet", Purpose.SAFETY)
    licences.install(licence_text(["tickets"]), "admin")
    with pytest.raises(FeatureNotLicensed) as refused:
        host.require_active("wallet", Purpose.ADMIN)
    assert refused.value.message == "This terminal's licence does not include the feature 'wallet'."
    licences.install(licence_text(["wallet"]), "admin")
    assert states(host)["wallet"] == "active"
    host.require_active("wallet", Purpose.SALE)


def test_expired_licence_makes_plugins_unlicensed_but_admin_and_safety_pass(uow_factory, licences) -> None:
    licences.install(licence_text(["wallet"], expires=dt.date(2026, 5, 1), grace_days=45), "admin")
    host = make_host(uow_factory, licences, plugin("wallet", feature="wallet"))
    assert states(host)["wallet"] == "active"  # in grace
    expired = LicenceService(uow_factory, [PUBLIC], clock=lambda: clock() + dt.timedelta(days=30))
    later = make_host(uow_factory, expired, plugin("wallet", feature="wallet"))
    info = later.plugin("wallet")
    assert info.state is PluginState.UNLICENSED and "expired on 2026-05-01" in (info.reason or "")
    with pytest.raises(LicenceError, match="expired on 2026-05-01"):
        later.require_active("wallet", Purpose.SALE)
    later.require_active("wallet", Purpose.ADMIN)
    later.require_active("wallet", Purpose.SAFETY)


def test_require_active_refuses_disabled_and_failed_plugins_except_for_safety(uow_factory, licences) -> None:
    host = make_host(uow_factory, licences, plugin("gates"), plugin("bad", fail_in={"manifest"}))
    host.disable("gates", "alice")
    with pytest.raises(PluginUnavailable, match="disabled"):
        host.require_active("gates", Purpose.ADMIN)
    with pytest.raises(PluginUnavailable, match="manifest exploded"):
        host.require_active("bad", Purpose.SALE)
    host.require_active("gates", Purpose.SAFETY)
    host.require_active("bad", Purpose.SAFETY)


def test_dependencies_start_first_and_follow_their_dependency_state(uow_factory, licences) -> None:
    child = plugin("child", depends_on=("parent",))
    parent = plugin("parent")
    host = make_host(uow_factory, licences, child, parent)
    app = App()
    host.start(app)
    assert app.log == [("startup", "parent"), ("startup", "child")]
    host.disable("parent", "alice")
    info = host.plugin("child")
    assert info.state is PluginState.DISABLED and "'parent'" in (info.reason or "")
    assert app.log[-2:] == [("shutdown", "child"), ("shutdown", "parent")]
    host.enable("parent", "alice")
    assert host.started() == ["core", "parent", "child"]


def test_startup_failure_marks_the_plugin_failed_and_the_others_run(uow_factory, licences) -> None:
    first, crashing, last = plugin("first"), plugin("crashing", fail_in={"startup"}), plugin("last")
    dependant = plugin("dependant", depends_on=("crashing",))
    host = make_host(uow_factory, licences, first, crashing, last, dependant)
    app = App()
    host.start(app)
    infos = {p.id: p for p in host.plugins()}
    assert infos["crashing"].state is PluginState.FAILED
    assert infos["crashing"].error == "venue_suite_startup raised RuntimeError: startup exploded in crashing"
    assert infos["dependant"].state is PluginState.FAILED
    assert host.started() == ["core", "first", "last"]
    host.shutdown(app)
    assert [entry for entry in app.log if entry[0] == "shutdown"] == [("shutdown", "last"), ("shutdown", "first")]
    assert ("shutdown", app) not in crashing.calls
    assert host.started() == []


def test_events_reach_active_started_plugins_and_errors_do_not_spread(uow_factory, licences) -> None:
    listener, noisy = plugin("listener"), plugin("noisy", fail_in={"event"})
    unlicensed = plugin("paid", feature="paid")
    host = make_host(uow_factory, licences, noisy, listener, unlicensed)
    app = App()
    host.start(app)
    event = ("card_presented", "04A1B2C3")
    errors = host.dispatch_event(app, event)
    assert ("event", event) in listener.calls
    assert not any(name == "event" for name, _ in unlicensed.calls)
    assert [(e.plugin_id, str(e.error)) for e in errors] == [("noisy", "event exploded in noisy")]
    assert host.plugin("noisy").state is PluginState.ACTIVE
    licences.install(licence_text(["paid"]), "admin")
    host.refresh()
    host.dispatch_event(app, event)
    assert ("event", event) in unlicensed.calls


def test_tabs_reports_and_commands_of_active_plugins_filtered_by_permission(uow_factory, licences) -> None:
    sales = plugin("sales", permissions=(Permission("sales.sell", "Sell"),),
                   tabs=(TabSpec("sales.tab", "Sales", "sales:build", permission="sales.sell", order=20),
                         TabSpec("sales.info", "Info", "sales:info", order=5)),
                   reports=(ReportDecl("sales.daily", "Daily", "sales:daily", permission="reports.view"),),
                   cli_commands=(CliCommand("sell", "Sell", "sales:configure", "sales:run", permission="sales.sell"),))
    paid = plugin("paid", feature="paid", tabs=(TabSpec("paid.tab", "Paid", "paid:build"),))
    host = make_host(uow_factory, licences, sales, paid)
    cashier, nobody = Actor({"sales.sell"}), Actor(set())
    assert [t.id for t in host.tabs(cashier)] == ["sales.info", "sales.tab"]
    assert [t.id for t in host.tabs(nobody)] == ["sales.info"]
    assert host.reports(cashier) == [] and [r.id for r in host.reports(Actor({"reports.view"}))] == ["sales.daily"]
    assert [c.name for c in host.cli_commands()] == ["sell"]
    assert (host.owner_of_command("sell"), host.owner_of_tab("sales.tab"), host.owner_of_report("sales.daily")) == \
        ("sales", "sales", "sales")
    assert host.owner_of_tab("paid.tab") == "paid"  # declared, though not licensed
    with pytest.raises(NotFound, match="'nope'"):
        host.owner_of_command("nope")
    host.disable("sales", "alice")
    assert host.tabs(cashier) == [] and host.cli_commands() == []
    assert "sales.sell" in {p.id for p in host.permissions()}
    assert [m.id for m in host.manifests()] == ["core", "sales", "paid"]  # migrations need them all


def test_resolve_ref_imports_and_reports_bad_references() -> None:
    assert resolve_ref("suite.plugins:PluginHost") is PluginHost
    with pytest.raises(PluginUnavailable, match="'suite.plugins:Nope'"):
        resolve_ref("suite.plugins:Nope")
    with pytest.raises(PluginUnavailable, match="module:attribute"):
        resolve_ref("no-colon")


def test_load_manifests_and_permissions_read_no_database(tmp_path: Path) -> None:
    """bootstrap loads plugins before migrating: a database without tables must do."""
    from suite.db.engine import create_database_engine
    from suite.db.uow import UnitOfWorkFactory

    engine = create_database_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        uow_factory = UnitOfWorkFactory(engine)
        with_tables = plugin("stock", model_modules=("stock.models",), migrations="/plugins/stock/migrations")
        host = PluginHost(uow_factory, LicenceService(uow_factory, [PUBLIC]), entry_point_group=None,
                          extra_plugins=[with_tables], builtin_modules=("suite.core_plugin",))
        host.load({"stock": {"colour": "red"}})
        assert ("validate_settings", {"colour": "red"}) in with_tables.calls
        assert [(m.id, m.migrations) for m in host.manifests()] == [("core", None), ("stock", "/plugins/stock/migrations")]
        assert len(host.permissions()) == 15
        with pytest.raises(Exception, match="no such table"):
            host.plugins()  # states do need the schema
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the external verb through the CLI

def test_external_plugin_verb_appears_in_the_cli_once_licensed(hello_target: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    site = tmp_path / "site.toml"
    base = (f'[suite]\nlanguage = "en"\ndata_dir = "{data}"\n'
            f'[keyring]\nbackend = "keyrings.alt.file.PlaintextKeyring"\nfile = "{tmp_path / "keyring.cfg"}"\n')
    site.write_text(base)
    env = {**os.environ, "PYTHONPATH": str(hello_target), "VENUE_SUITE_ADMIN_PASSWORD": "admin-pass-123"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "suite.cli", "--config", str(site), *args],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=120)

    assert cli("init").returncode == 0
    listed = json.loads(cli("--json", "plugins", "list").stdout)
    hello = next(p for p in listed if p["id"] == "hello")
    assert hello["state"] == "unlicensed" and hello["commands"] == ["hello"] and hello["tabs"] == ["hello.main"]
    refused = cli("hello")
    assert refused.returncode == 1
    assert "'hello'" in refused.stderr and "licen" in refused.stderr.lower()
    assert "hello" not in cli("--help").stdout.split("positional arguments")[-1].split()

    public = json.loads(cli("--json", "license", "keygen").stdout)["public_key"]
    site.write_text(base + f'[licensing]\npublic_keys = ["{public}"]\n')
    licence = tmp_path / "hello.lic"
    assert cli("license", "issue", "--chain", "C", "--licensee", "Test", "--features", "hello", "--max-terminals", "2",
               "--max-cards", "10", "--expires", "2099-01-01", "--out", str(licence)).returncode == 0
    assert cli("license", "install", str(licence)).returncode == 0
    ran = cli("--json", "hello")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"greeting": "hello"}
    assert "hello" in cli("--help").stdout
