"""Runtime detection: Databricks compute kinds from env + Spark conf, dbutils lookup, override."""

from __future__ import annotations

import sys

import pytest

from odibi_dbx import runtime

TAG = "spark.databricks.clusterUsageTags."


class FakeConf:
    def __init__(self, values: dict[str, str], raising: tuple[str, ...] = ()):
        self.values, self.raising = values, raising

    def get(self, key, default=None):
        if any(key.startswith(r) for r in self.raising):
            raise RuntimeError("[CONFIG_NOT_AVAILABLE] Configuration is not available.")
        return self.values.get(key, default)


class FakeSpark:
    def __init__(self, values=None, raising=()):
        self.conf = FakeConf(values or {}, raising)


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for k in ("DATABRICKS_RUNTIME_VERSION", "ODIBI_RUNTIME", "CI", "DATABRICKS_SERVERLESS"):
        monkeypatch.delenv(k, raising=False)


def test_local_and_ci(monkeypatch):
    info = runtime.detect()
    assert info.kind == "local" and info.databricks_runtime is None and info.compute is None
    monkeypatch.setenv("CI", "true")
    assert runtime.kind() == "ci"
    assert runtime.get_dbutils() is None


def test_override_is_validated(monkeypatch):
    monkeypatch.setenv("ODIBI_RUNTIME", "jupyter")
    assert runtime.kind() == "jupyter"
    monkeypatch.setenv("ODIBI_RUNTIME", "databrick")
    with pytest.raises(ValueError, match="ODIBI_RUNTIME='databrick' is not one of databricks"):
        runtime.kind()


def test_classic_dedicated(monkeypatch):
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "16.4")
    spark = FakeSpark(
        {
            TAG + "clusterId": "0101-abc",
            TAG + "dataSecurityMode": "SINGLE_USER",
            TAG + "clusterOwnerOrgId": "123",
            "spark.databricks.workspaceUrl": "adb-1.azuredatabricks.net",
        }
    )
    info = runtime.detect(spark)
    assert (info.kind, info.compute, info.cluster_id, info.workspace_id) == (
        "databricks",
        "classic",
        "0101-abc",
        "123",
    )
    assert info.dbr_version == (16, 4) and info.service_credentials_supported is True
    assert info.account_keys_allowed is True


def test_standard_access_mode(monkeypatch):
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    info = runtime.detect(
        FakeSpark({TAG + "clusterId": "c", TAG + "dataSecurityMode": "USER_ISOLATION"})
    )
    assert info.compute == "standard" and info.account_keys_allowed is False
    assert info.service_credentials_supported is False  # 15.4: preview only


def test_serverless(monkeypatch):
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "client.2.1")
    info = runtime.detect(FakeSpark(raising=(TAG,)))  # usage tags: CONFIG_NOT_AVAILABLE
    assert info.compute == "serverless" and info.cluster_id is None and info.dbr_version is None
    assert info.account_keys_allowed is False


def test_unknown_without_spark(monkeypatch):
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    assert runtime.detect().compute == "unknown"


def test_get_dbutils_from_notebook_globals(monkeypatch):
    sentinel = object()
    monkeypatch.setattr(sys.modules["__main__"], "dbutils", sentinel, raising=False)
    assert runtime.get_dbutils() is sentinel


def test_import_touches_nothing():
    import subprocess

    code = (
        "import sys, odibi_dbx.runtime, odibi_dbx.setup; "
        "heavy = ('pyspark', 'databricks.sdk', 'azure.identity', 'IPython'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


class FakeWidgets:
    def __init__(self, values):
        self.values, self.created = values, []

    def text(self, name, default, label):
        self.created.append((name, default, label))
        self.values.setdefault(name, default)

    def get(self, name):
        return self.values[name]


def test_widget_reads_dbutils_then_env(monkeypatch):
    class Dbutils:
        widgets = FakeWidgets({"project_file": " /Workspace/p.yaml "})

    monkeypatch.setattr(sys.modules["__main__"], "dbutils", Dbutils, raising=False)
    assert runtime.widget("project_file") == "/Workspace/p.yaml"
    assert runtime.widget("engine", "pandas") == "pandas"
    assert ("engine", "pandas", "engine") in Dbutils.widgets.created
    monkeypatch.delattr(sys.modules["__main__"], "dbutils")
    monkeypatch.setenv("ODIBI_ENGINE", "spark")
    assert runtime.widget("engine", "pandas") == "spark"
    assert runtime.widget("vault", env="MY_VAULT") == ""
