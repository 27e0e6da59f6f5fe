"""The setup notebook and the job notebook, executed by nbmake in a real kernel
outside Databricks: parameters come from ODIBI_<NAME> env vars instead of widgets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.azure_fakes.azurite import missing_reason
from tests.azure_fakes.tokens import UNSET_ENV
from tests.databricks.dbx_helpers import adls_project, notebook_text, run_notebook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETUP_NB = os.path.join(ROOT, "setup", "databricks_setup.ipynb")
JOB_NB = os.path.join(ROOT, "notebooks", "run_pipeline.ipynb")
OID = "6b7c2f00-0000-4000-8000-00000000beef"

pytestmark = pytest.mark.notebook


def kernel_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in UNSET_ENV and not k.startswith(("ODIBI_", "DATABRICKS_"))
    }
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture
def fakes(tmp_path):
    """`python -m tests.azure_fakes.serve` in a subprocess, as a developer would run it."""
    reason = missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    cmd = [
        sys.executable,
        "-m",
        "tests.azure_fakes.serve",
        "--json",
        "--tokens",
        "--keyvault",
        "--azurite",
        "--accounts",
        "odibitest1",
        "--claims",
        f"oid={OID}",
        "--secrets",
        "adls-key=@azurite:odibitest1,reporting-db-password=not-shown-123",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT}
    )
    try:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"serve exited with {proc.wait(10)}")
        info = json.loads(line)
        acct = info["azurite"]["accounts"]["odibitest1"]
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(acct["connection_string"]) as svc:
            svc.create_container("raw")
        yield info
    finally:
        proc.terminate()
        proc.wait(15)


@pytest.mark.azure
def test_setup_notebook_against_local_fakes(fakes, tmp_path):
    acct = fakes["azurite"]["accounts"]["odibitest1"]
    project = adls_project(
        tmp_path / "proj", fakes["key_vault"]["url"], endpoint=acct["blob_endpoint"]
    )
    env = kernel_env(**fakes["env"], ODIBI_PROJECT_FILE=str(project))
    nb, err = run_notebook(SETUP_NB, env, tmp_path)
    text = notebook_text(nb)
    assert err is None, text
    assert f"oid        {OID}" in text  # identity shown
    assert "token from ManagedIdentityCredential" in text
    assert (
        f'az role assignment create --role "Key Vault Secrets User" --assignee-object-id {OID} '
        "--assignee-principal-type ServicePrincipal "
        '--scope "$(az keyvault show --name kv-odibi-test --query id -o tsv)"'
    ) in text
    assert (
        f"az keyvault set-policy --name kv-odibi-test --object-id {OID} "
        "--secret-permissions get list"
    ) in text
    assert (
        "az keyvault show --name kv-odibi-test --query properties.enableRbacAuthorization" in text
    )
    assert "2 secret(s): adls-key, reporting-db-password" in text  # secrets listed
    assert "lake: container 'raw' in account 'odibitest1': reachable" in text
    assert "setup: OK" in text
    assert acct["key"] not in text and "not-shown-123" not in text


@pytest.mark.azure
def test_setup_notebook_fails_with_next_step(fakes, tmp_path):
    project = adls_project(
        tmp_path / "proj",
        fakes["key_vault"]["url"],
        secret="missing-key",
        endpoint=fakes["azurite"]["accounts"]["odibitest1"]["blob_endpoint"],
    )
    env = kernel_env(**fakes["env"], ODIBI_PROJECT_FILE=str(project))
    nb, err = run_notebook(SETUP_NB, env, tmp_path)
    text = notebook_text(nb)
    assert err is not None and "RuntimeError: setup: FAILED" in text
    assert "az keyvault secret set --vault-name kv-odibi-test --name missing-key" in text


def sales_copy(tmp_path):
    src = os.path.join(ROOT, "examples", "sales")
    dst = tmp_path / "sales"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("output", "stories", "__pycache__"))
    return dst


def test_job_notebook_runs_the_sample_project(tmp_path):
    env = kernel_env(
        ODIBI_PROJECT_FILE=os.path.join(ROOT, "examples", "sales", "project.yaml"),
        ODIBI_ENGINE="pandas",
        ODIBI_ENVIRONMENT="dev",
        SALES_LAKE_PATH=str(tmp_path / "lake"),
    )
    nb, err = run_notebook(JOB_NB, env, tmp_path)
    text = notebook_text(nb)
    assert err is None, text
    # live progress: a line per node as it finishes, then the compact table
    assert "✓ bronze_to_silver.raw_orders  success" in text
    assert "✓ silver_to_gold.revenue_by_region_month  success" in text
    assert "11 rows" in text.split("✓ silver_to_gold.revenue_by_region_month")[1].splitlines()[0]
    assert "<table>" in text and "success</span></b>" in text
    assert "<html" in text.lower() or "<!doctype html" in text.lower()  # the story, inline
    assert (tmp_path / "lake" / "gold" / "revenue_by_region_month").exists()
    assert list((tmp_path / "lake" / "stories").glob("*.json"))


def test_job_notebook_one_pipeline_and_a_failing_node(tmp_path):
    proj = sales_copy(tmp_path)
    (proj / "data" / "bronze" / "customers.csv").unlink()  # raw_customers will fail
    env = kernel_env(
        ODIBI_PROJECT_FILE=str(proj / "project.yaml"),
        ODIBI_PIPELINES="bronze_to_silver",
        SALES_LAKE_PATH=str(tmp_path / "lake"),
    )
    nb, err = run_notebook(JOB_NB, env, tmp_path)
    text = notebook_text(nb)
    assert err is not None, "the job must fail when a node fails"
    assert "RunFailed: Run " in text and "bronze_to_silver.raw_customers" in text
    assert "✗ bronze_to_silver.raw_customers  failed" in text
    assert "silver_to_gold" not in text.split("run ")[1]  # only the chosen pipeline ran
    assert "<html" in text.lower() or "<!doctype html" in text.lower()  # story shown before failing
