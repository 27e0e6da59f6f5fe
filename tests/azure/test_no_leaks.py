"""Secrets never leak: canary account keys through succeeding and failing runs, scanned everywhere.

The canaries are real keys of Azurite accounts (so runs succeed with them): one reaches the run
through Key Vault (fake IMDS + fake HTTPS vault), one through ${ENV_VAR} (direct_key). Scanned:
story JSON + HTML and every other file the runs left, stdout/stderr of `odibi-dbx validate`, `run`
(with --verbose tracebacks) and `story show`, every log record of an in-process run at DEBUG
(all loggers, Azure SDK included), exception messages and tracebacks, repr()/str() of the project,
config and connections, and pydantic dumps.
"""

from __future__ import annotations

import base64
import logging
import traceback
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.azure.adls_project import run_cli, uid, write_project
from tests.azure_fakes.azurite import Azurite, account_key, missing_reason

pytestmark = pytest.mark.azure

_TAIL = b"-never-print-me-0123456789-abcdefghijklmnop"
CANARY_KV = base64.b64encode(b"ODIBI-CANARY-KEYVAULT" + _TAIL + b"q").decode()  # 64 bytes
CANARY_DIRECT = base64.b64encode(b"ODIBI-CANARY-DIRECTKEY" + _TAIL).decode()
WRONG = "odibicanary3"  # its real key differs: the canary is a wrong key there


def _needles() -> dict[str, str]:
    out = {}
    for label, c in (("kv", CANARY_KV), ("direct", CANARY_DIRECT)):
        out[f"{label} raw"] = c
        out[f"{label} url-quoted"] = quote(c, safe="")
        out[f"{label} fragment"] = c[20:44]  # partial prints (truncated messages) count too
        out[f"{label} bytes"] = base64.b64decode(c).decode()
    return out


def assert_clean(artefacts: dict[str, str]) -> None:
    leaks = [
        f"{name}: {label}"
        for name, text in artefacts.items()
        for label, needle in _needles().items()
        if needle in (text or "")
    ]
    assert not leaks, "secret leaked into: " + "; ".join(leaks)
    assert artefacts  # something was scanned


@pytest.fixture(scope="module")
def canary_azurite():
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    accounts = {"odibicanary1": CANARY_KV, "odibicanary2": CANARY_DIRECT, WRONG: account_key(WRONG)}
    with Azurite(accounts, keep_default=False) as az:
        yield az


def _project(
    tmp: Path, az: Azurite, vault_url: str, containers: dict[str, str], failing: bool
) -> Path:
    a, b, w = (az.accounts[n] for n in ("odibicanary1", "odibicanary2", WRONG))
    (tmp / "data").mkdir(exist_ok=True)
    (tmp / "data" / "in.csv").write_text("id,v\n1,a\n2,b\n")
    extra = (
        """
              - {name: missing, read: {connection: bronze, path: does/not/exist, format: parquet}}
              - {name: wrong_key, read: {connection: wrong, path: any.csv}}
              - name: after_missing
                depends_on: [missing]
                write: {connection: silver, path: never, format: parquet}
    """
        if failing
        else ""
    )
    return write_project(
        tmp,
        f"""
        project: canary
        connections:
          local: {{type: local, base_path: .}}
          bronze: {{type: azure_adls, account: {a.name}, container: {containers["a"]},
                    key_vault_url: "{vault_url}", secret_name: bronze-key,
                    endpoint: "{a.blob_endpoint}"}}
          silver: {{type: azure_adls, account: {b.name}, container: {containers["b"]},
                    auth_mode: direct_key, account_key: "${{SILVER_KEY}}",
                    endpoint: "{b.blob_endpoint}"}}
          wrong: {{type: azure_adls, account: {w.name}, container: {containers["w"]},
                   auth_mode: direct_key, account_key: "${{SILVER_KEY}}",
                   endpoint: "{w.blob_endpoint}"}}
        story: {{connection: local, path: stories/, max_sample_rows: 100}}
        logging: {{level: DEBUG}}
        pipelines:
          - pipeline: p
            nodes:
              - {{name: raw, read: {{connection: local, path: data/in.csv}}}}
              - name: to_bronze
                depends_on: [raw]
                write: {{connection: bronze, path: t, format: parquet}}
              - name: to_silver
                depends_on: [raw]
                write: {{connection: silver, path: t, format: delta}}
              - name: back
                depends_on: [to_silver]
                transform: {{steps: ["SELECT * FROM to_silver"]}}
                write: {{connection: bronze, path: back, format: csv}}
{extra}
    """,
    )


def _files(root: Path) -> dict[str, str]:
    return {
        f"file {p.relative_to(root)}": p.read_text(errors="replace")
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("failing", [False, True], ids=["succeeding", "failing"])
def test_no_secret_anywhere(
    failing, canary_azurite, token_endpoint, key_vault, tmp_path, monkeypatch, caplog
):
    from odibi_dbx import Project
    from odibi_dbx.config import load_project

    az = canary_azurite
    containers = {k: uid(f"leak{k}") for k in "abw"}
    for k, n in (("a", "odibicanary1"), ("b", "odibicanary2"), ("w", WRONG)):
        az.accounts[n].create_container(containers[k])
    key_vault.set_secret("bronze-key", CANARY_KV)
    path = _project(tmp_path, az, key_vault.url, containers, failing)
    env = token_endpoint.env_for_subprocess()
    env.update(REQUESTS_CA_BUNDLE=str(key_vault.ca_path), SILVER_KEY=CANARY_DIRECT)
    monkeypatch.setenv("SILVER_KEY", CANARY_DIRECT)
    art: dict[str, str] = {}

    # the CLI, as a job runs it
    for args in (
        ["validate", str(path)],
        ["run", str(path), "--verbose"],
        ["story", "show", str(path), "--json"],
        ["story", "show", str(path)],
    ):
        r = run_cli(args, env, tmp_path.parent)
        art[f"{args[0]} stdout"], art[f"{args[0]} stderr"] = r.stdout, r.stderr
        expected = 1 if (failing and args[0] == "run") else 0
        assert r.returncode == expected, r.stdout + r.stderr
    if failing:
        assert "does/not/exist" in art["run stderr"]
        assert (
            "storage account 'odibicanary3' refused the key of connection 'wrong'"
            in art["run stderr"]
        )

    # in process: every log record (all loggers, DEBUG), the result, reprs and dumps
    caplog.set_level(logging.DEBUG)
    loaded = load_project(path)
    with Project(loaded) as project:
        result = project.run()
        assert result.ok is not failing
        art["repr project"] = repr(project) + str(project)
        art["repr connections"] = "".join(repr(c) + str(c) for c in project.connections.values())
        art["repr config"] = repr(loaded.config) + str(loaded.config)
        art["dump config"] = str(loaded.config.model_dump())
        art["dump config json"] = loaded.config.model_dump_json()
        art["dump config json mode"] = str(loaded.config.model_dump(mode="json"))
        art["result"] = repr(result) + "".join(
            f"{n!r}{n.error_message}{n.error.traceback if n.error else ''}" for n in result.nodes
        )
        art["story"] = str(project.story())
    art["log records"] = "\n".join(
        r.getMessage()
        + (("\n" + "".join(traceback.format_exception(*r.exc_info))) if r.exc_info else "")
        for r in caplog.records
    )
    assert caplog.records
    art.update(_files(tmp_path))
    assert any(k.endswith(".html") for k in art) and any(k.endswith(".json") for k in art)
    assert_clean(art)


def test_secret_failure_messages_are_clean(
    canary_azurite, token_endpoint, key_vault, tmp_path, monkeypatch, caplog
):
    """A run that stops at the secret fetch: the error, its traceback and CLI output."""
    from odibi_dbx import Project
    from odibi_dbx.connections.secrets import SecretFetchError

    containers = {k: uid(f"leak{k}") for k in "abw"}
    key_vault.set_secret("bronze-key", CANARY_KV)
    key_vault.inject("forbidden_access_policy", secret="bronze-key")
    path = _project(tmp_path, canary_azurite, key_vault.url, containers, failing=False)
    env = token_endpoint.env_for_subprocess()
    env.update(REQUESTS_CA_BUNDLE=str(key_vault.ca_path), SILVER_KEY=CANARY_DIRECT)
    monkeypatch.setenv("SILVER_KEY", CANARY_DIRECT)
    r = run_cli(["run", str(path), "--verbose"], env, tmp_path.parent)
    assert r.returncode == 2 and "az keyvault set-policy" in r.stderr
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SecretFetchError) as err, Project.load(path) as project:
        project.run()
    art = {
        "stdout": r.stdout,
        "stderr": r.stderr,
        "error": str(err.value),
        "traceback": "".join(traceback.format_exception(err.value)),
        "failures": repr(err.value.failures),
        "logs": "\n".join(rec.getMessage() for rec in caplog.records),
    }
    assert_clean(art)


def test_scanner_catches_leaks():
    for text in (f"key={CANARY_KV}", quote(CANARY_DIRECT, safe=""), CANARY_KV[10:60]):
        with pytest.raises(AssertionError, match="secret leaked"):
            assert_clean({"x": text})
