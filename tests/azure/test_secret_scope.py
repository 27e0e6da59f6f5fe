"""`auth_mode: secret_scope`: the account key from a Databricks secret scope (dbutils.secrets.get).

The Databricks runtime cannot run here, so dbutils is a small fake with `secrets.get`, put where
a Databricks notebook has it (the `dbutils` global of `__main__`, which runtime.get_dbutils
reads). Everything else is real: config loading, the Pandas engine on Azurite, the CLI.
"""

from __future__ import annotations

import base64
import logging
import sys
import traceback

import pytest

from odibi_dbx import ConfigError, Project, load_project
from odibi_dbx.connections.secret_scope import SecretScopeError
from tests.azure.adls_project import run_cli, uid, write_project
from tests.azure_fakes.azurite import Azurite, missing_reason

pytestmark = pytest.mark.azure

ACCOUNT = "odibiscope1"
KEY = base64.b64encode(b"ODIBI-CANARY-SCOPE-never-print-me-0123456789-abcdefghijklmnopq").decode()


class FakeSecrets:
    """dbutils.secrets as Databricks provides it: get(scope=, key=) -> str, or an error."""

    def __init__(self, values: dict[tuple[str, str], str]):
        self.values, self.calls = values, []

    def get(self, scope: str, key: str) -> str:
        self.calls.append((scope, key))
        if (scope, key) not in self.values:  # the message dbutils gives
            raise RuntimeError(f"Secret does not exist with scope: {scope} and key: {key}")
        return self.values[(scope, key)]


class FakeDbutils:
    def __init__(self, values: dict[tuple[str, str], str]):
        self.secrets = FakeSecrets(values)


@pytest.fixture
def dbutils(monkeypatch):
    """Install a fake dbutils as the notebook global Databricks provides."""

    def install(values: dict[tuple[str, str], str]) -> FakeDbutils:
        fake = FakeDbutils(values)
        monkeypatch.setattr(sys.modules["__main__"], "dbutils", fake, raising=False)
        return fake

    return install


@pytest.fixture(scope="module")
def scope_azurite():
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with Azurite({ACCOUNT: KEY}, keep_default=False) as az:
        yield az


def _project(tmp_path, container: str, endpoint: str, scope: str = "lake-scope") -> str:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "in.csv").write_text("id,v\n1,a\n2,b\n3,c\n")
    return write_project(
        tmp_path,
        f"""
        project: scoped
        engine: pandas
        connections:
          local: {{type: local, base_path: .}}
          lake:
            type: azure_adls
            account: {ACCOUNT}
            container: {container}
            auth_mode: secret_scope
            secret_scope: {scope}
            secret_key: adls-key
            endpoint: "{endpoint}"
          lake2:                          # the same key again: read once
            type: azure_adls
            account: {ACCOUNT}
            container: {container}
            path_prefix: copy/
            auth_mode: secret_scope
            secret_scope: {scope}
            secret_key: adls-key
            endpoint: "{endpoint}"
        story: {{connection: local, path: stories/}}
        logging: {{level: DEBUG}}
        pipelines:
          - pipeline: p
            nodes:
              - {{name: raw, read: {{connection: local, path: data/in.csv}}}}
              - name: to_lake
                depends_on: [raw]
                write: {{connection: lake, path: t, format: parquet}}
              - name: to_delta
                depends_on: [raw]
                write: {{connection: lake2, path: d, format: delta}}
              - {{name: back, read: {{connection: lake, path: t, format: parquet}}}}
              - name: count
                depends_on: [back]
                transform: {{steps: ["SELECT COUNT(*) AS n FROM back"]}}
        """,
    )


def _leaks(artefacts: dict[str, str]) -> list[str]:
    needles = {"raw": KEY, "fragment": KEY[20:44], "decoded": base64.b64decode(KEY).decode()}
    return [f"{a}: {n}" for a, t in artefacts.items() for n, v in needles.items() if v in t]


def test_the_leak_scanner_finds_each_form():
    decoded = base64.b64decode(KEY).decode()
    for text in (KEY, f"x{KEY[20:44]}x", f"key={decoded}"):
        assert _leaks({"t": text})
    assert not _leaks({"t": "***"})


def test_pandas_engine_on_azurite_with_the_key_from_a_secret_scope(
    scope_azurite, dbutils, tmp_path, caplog
):
    from deltalake import DeltaTable

    acct = scope_azurite.accounts[ACCOUNT]
    container = uid("scope")
    acct.create_container(container)
    fake = dbutils({("lake-scope", "adls-key"): KEY})
    path = _project(tmp_path, container, acct.blob_endpoint)
    caplog.set_level(logging.DEBUG)
    with Project.load(path) as project:
        result = project.run()
        assert result.ok, [n.error_message for n in result.nodes]
        reprs = "".join(repr(c) + str(c) for c in project.connections.values())
        story = str(project.story())
    assert fake.secrets.calls == [("lake-scope", "adls-key")]  # once for both connections
    assert result.node("to_lake").rows_out == 3 and result.node("to_delta").rows_out == 3
    assert result.node("count").rows_out == 1
    # the data is really in the container, written with the scope's key
    dt = DeltaTable(acct.abfss(container, "copy/d"), storage_options=acct.delta_options())
    assert sorted(dt.to_pandas()["id"].tolist()) == [1, 2, 3]
    assert "secret_scope 'lake-scope' key 'adls-key'" in reprs
    files = {str(p): p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()}
    art = {"reprs": reprs, "story": story, **files}
    art["logs"] = "\n".join(r.getMessage() for r in caplog.records)
    assert not _leaks(art)


def test_a_refused_or_missing_secret_names_the_connection_and_the_fix(
    scope_azurite, dbutils, tmp_path
):
    acct = scope_azurite.accounts[ACCOUNT]
    path = _project(tmp_path, uid("scope"), acct.blob_endpoint, scope="other-scope")
    dbutils({("lake-scope", "adls-key"): KEY})
    with pytest.raises(SecretScopeError) as err, Project.load(path) as project:
        project.run()
    text = str(err.value)
    assert "connection 'lake', 'lake2': key 'adls-key' in secret scope 'other-scope'" in text
    assert "databricks secrets list-secrets other-scope" in text
    assert "no node has run" in text
    assert not (tmp_path / "stories").exists()  # nothing ran


def test_wrong_key_in_the_scope_is_explained_without_the_key(scope_azurite, dbutils, tmp_path):
    acct = scope_azurite.accounts[ACCOUNT]
    container = uid("scope")
    acct.create_container(container)
    wrong = base64.b64encode(
        b"ODIBI-WRONG-SCOPE-KEY-never-print-me-012345678-abcdefghijklmn"
    ).decode()
    dbutils({("lake-scope", "adls-key"): wrong})
    path = _project(tmp_path, container, acct.blob_endpoint)
    with Project.load(path) as project:
        result = project.run()
    failed = result.node("to_lake")
    assert failed.status == "failed"
    message = failed.error_message + (failed.error.traceback if failed.error else "")
    assert "refused the key of connection 'lake'" in message
    assert "key 'adls-key' in Databricks secret scope 'lake-scope'" in message
    assert wrong not in message and wrong[20:44] not in message


# the CLI in a process whose __main__ has a dbutils global, as a Databricks notebook/job has
CLI_WITH_DBUTILS = """
import __main__, os, sys
from tests.azure.test_secret_scope import FakeDbutils
__main__.dbutils = FakeDbutils({("lake-scope", "adls-key"): os.environ.pop("SCOPE_VALUE")})
from odibi_dbx.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_cli_run_and_story_with_the_key_from_a_secret_scope(scope_azurite, tmp_path):
    import subprocess

    from tests.azure.adls_project import ROOT

    acct = scope_azurite.accounts[ACCOUNT]
    container = uid("scope")
    acct.create_container(container)
    path = _project(tmp_path, container, acct.blob_endpoint)
    env = {**_env(), "SCOPE_VALUE": KEY, "PYTHONPATH": str(ROOT)}
    out = {}
    for args in (["run", str(path), "--verbose"], ["story", "show", str(path), "--json"]):
        r = subprocess.run(
            [sys.executable, "-c", CLI_WITH_DBUTILS, *args],
            env=env,
            cwd=tmp_path.parent,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        out[f"{args[0]} stdout"], out[f"{args[0]} stderr"] = r.stdout, r.stderr
    url = f"abfss://{container}@{ACCOUNT}.dfs.core.windows.net"
    assert f"p.to_lake: {url}/t (3 rows)" in out["run stdout"]
    assert f"p.to_delta: {url}/copy/d (3 rows)" in out["run stdout"]
    assert not _leaks(out)


def test_off_databricks_the_cli_says_what_to_do(scope_azurite, tmp_path):
    acct = scope_azurite.accounts[ACCOUNT]
    path = _project(tmp_path, uid("scope"), acct.blob_endpoint)
    r = run_cli(["run", str(path)], {k: v for k, v in _env().items()}, tmp_path.parent)
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr
    assert "dbutils is not available here (not on Databricks)" in err
    assert "connection 'lake': secret scope 'lake-scope', key 'adls-key'" in err
    assert "connection 'lake2'" in err
    assert "auth_mode: key_vault" in err and "direct_key" in err and "run on Databricks" in err
    assert "Traceback" not in err
    assert not (tmp_path / "stories").exists()


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "ODIBI_"))}


# -- config ----------------------------------------------------------------------------------------

BASE = """\
project: p
connections:
  local: {type: local, base_path: .}
  lake: {type: azure_adls, account: acme, container: c, auth_mode: secret_scope%s}
story: {connection: local}
pipelines:
  - pipeline: p
    nodes:
      - {name: a, read: {connection: local, path: a.csv}}
"""


def _problems(tmp_path, fields: str) -> list:
    path = tmp_path / "project.yaml"
    path.write_text(BASE % fields)
    with pytest.raises(ConfigError) as info:
        load_project(path)
    return info.value.problems


def test_config_needs_scope_and_key_and_points_at_the_line(tmp_path, monkeypatch):
    monkeypatch.setenv("K", KEY)
    (p,) = _problems(tmp_path, ", secret_scope: s")
    assert p.line == 4 and "auth_mode secret_scope needs secret_key" in p.message
    (p,) = _problems(tmp_path, "")
    assert "needs secret_scope and secret_key" in p.message
    (p,) = _problems(tmp_path, ", secret_scope: s, secret_key: k, secret_name: x")
    assert "secret_name is only used with auth_mode: key_vault" in p.message
    (p,) = _problems(tmp_path, ', secret_scope: s, secret_key: k, account_key: "${K}"')
    assert "account_key is only used with auth_mode: direct_key" in p.message
    (p,) = _problems(tmp_path, ", secret_scope: 'a b', secret_key: k")
    assert "not a Databricks secret scope/key name" in p.message


@pytest.mark.parametrize("value", [KEY, KEY.rstrip("=") + "AB"], ids=["padded", "unpadded"])
def test_the_account_key_itself_in_secret_key_is_refused_and_never_echoed(tmp_path, value):
    (p,) = _problems(tmp_path, f", secret_scope: s, secret_key: '{value}'")
    assert p.line == 4 and "looks like an account key itself" in p.message
    shown = str(p) + p.message + (p.hint or "")
    assert value not in shown and value[20:44] not in shown


def test_valid_secret_scope_config_loads_and_key_vault_fields_stay_refused(tmp_path):
    path = tmp_path / "project.yaml"
    path.write_text(BASE % ", secret_scope: kv-backed.scope, secret_key: adls_key-1")
    cfg = load_project(path).config.connections["lake"]
    assert (cfg.secret_scope, cfg.secret_key) == ("kv-backed.scope", "adls_key-1")
    path.write_text(BASE.replace("secret_scope%s", "key_vault, secret_scope: s, secret_key: k"))
    with pytest.raises(ConfigError, match="needs key_vault_name"):
        load_project(path)


def test_error_and_traceback_never_hold_a_fetched_key(dbutils):
    """A failure after one key was read: the other connection's error carries nothing of it."""
    from odibi_dbx.connections import resolve_secrets
    from odibi_dbx.connections.adls import AdlsConnection, AdlsConnectionConfig

    def conn(name, scope):
        cfg = AdlsConnectionConfig(
            type="azure_adls",
            account="acme",
            container="c",
            auth_mode="secret_scope",
            secret_scope=scope,
            secret_key="k",
        )
        return AdlsConnection(name, cfg)

    class Echoing(FakeSecrets):  # a runtime whose error echoes an earlier value
        def get(self, scope, key):
            if scope == "bad":
                raise PermissionError(f"User does not have READ permission (last: {KEY})")
            return super().get(scope, key)

    fake = dbutils({})
    fake.secrets = Echoing({("good", "k"): KEY})
    conns = {"a": conn("a", "good"), "b": conn("b", "bad")}
    with pytest.raises(SecretScopeError) as err:
        resolve_secrets(conns)
    text = str(err.value) + "".join(traceback.format_exception(err.value))
    assert "put-acl bad <user-or-group-or-service-principal> READ" in text
    assert not _leaks({"error": text})
    assert conns["a"].account_key == KEY  # the good one was still read


# -- Spark conf on each compute (the decision; the engine on a real session: tests/spark) ---------


@pytest.mark.parametrize(
    ("compute", "connect", "expected"),
    [
        ("serverless", True, False),
        ("standard", False, False),  # standard access mode: classic pyspark, still refused
        ("standard", True, False),
        ("classic", False, True),
        ("classic", True, True),  # Databricks Connect to a dedicated cluster
        (None, False, True),  # local Spark
        (None, True, None),  # Spark Connect of unknown compute: try it
        ("unknown", True, None),
    ],
)
def test_keys_in_spark_conf(compute, connect, expected):
    from odibi_dbx.runtime import keys_in_spark_conf

    assert keys_in_spark_conf(compute, connect) is expected


class _RefusingConf:
    def __init__(self):
        self.values = {}

    def set(self, key, value):
        if key.startswith("fs.azure.account.key."):  # what serverless answers
            raise RuntimeError(f"[CONFIG_NOT_AVAILABLE] Configuration {key} is not available.")
        self.values[key] = value


def _scoped_connection():
    from odibi_dbx.connections.adls import AdlsConnection, AdlsConnectionConfig

    cfg = AdlsConnectionConfig(
        type="azure_adls",
        account="acme",
        container="c",
        auth_mode="secret_scope",
        secret_scope="s",
        secret_key="k",
    )
    conn = AdlsConnection("lake", cfg)
    conn.set_secret(KEY)
    return conn


def test_a_refusal_on_connect_becomes_the_note_and_on_classic_an_error():
    from odibi_dbx.engines.spark import SparkEngine
    from odibi_dbx.errors import OdibiError

    class Session:
        conf = _RefusingConf()

    engine = SparkEngine(spark=Session())
    engine._apply_conf(_scoped_connection(), None, None)  # Connect, compute unknown
    assert engine.notes == [
        "connection 'lake': Spark Connect (RuntimeError on setting it): account key not set in "
        "Spark conf; access to abfss://c@acme.dfs.core.windows.net/ goes through Unity Catalog "
        "external locations (one must cover it, with READ FILES / WRITE FILES granted to whoever "
        "runs the job)"
    ]
    assert Session.conf.values == {}  # nothing half-set
    with pytest.raises(OdibiError, match="does not allow setting") as err:
        engine._apply_conf(_scoped_connection(), True, "classic")
    assert KEY not in str(err.value) and err.value.__cause__ is None


# -- odibi-dbx setup -------------------------------------------------------------------------------


def test_setup_on_serverless_reads_the_key_and_names_the_external_location(
    scope_azurite, tmp_path, monkeypatch
):
    from odibi_dbx.setup import Setup

    acct = scope_azurite.accounts[ACCOUNT]
    container = uid("scope")
    acct.create_container(container)
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "client.2.1")  # serverless
    fake = FakeDbutils({("lake-scope", "adls-key"): KEY})
    report = Setup(
        _project(tmp_path, container, acct.blob_endpoint), dbutils=fake, workspace=False
    ).run()
    text = report.render()
    assert report.ok, text
    assert fake.secrets.calls == [("lake-scope", "adls-key")]
    assert (
        "✓ read key 'adls-key' in secret scope 'lake-scope' (used by lake, lake2): readable "
        "(value not shown)" in text
    )
    assert f"lake: container '{container}' in account '{ACCOUNT}': reachable" in text
    url = f"abfss://{container}@{ACCOUNT}.dfs.core.windows.net/"
    assert f"CREATE EXTERNAL LOCATION IF NOT EXISTS {ACCOUNT}_{container} URL '{url}'" in text
    assert f"EXTERNAL LOCATION IF NOT EXISTS {ACCOUNT}_{container}_copy URL '{url}copy'" in text
    assert "no Key Vault to reach" in text  # no identity needed: nothing fails for lack of one
    assert not _leaks({"report": text, "json": str(report.as_dict())})


def test_setup_off_databricks_fails_the_scope_check_with_what_to_do(scope_azurite, tmp_path):
    from odibi_dbx.setup import Setup

    acct = scope_azurite.accounts[ACCOUNT]
    path = _project(tmp_path, uid("scope"), acct.blob_endpoint)
    report = Setup(path, dbutils=False, workspace=False).run()
    text = report.render()
    assert not report.ok
    assert (
        "✗ read key 'adls-key' in secret scope 'lake-scope' (used by lake, lake2): dbutils" in text
    )
    assert "auth_mode: key_vault" in text and "auth_mode: direct_key" in text
    assert "not tested: the key 'adls-key' could not be read from secret scope 'lake-scope'" in text
