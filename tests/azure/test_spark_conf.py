"""Spark side of multi-account ADLS: each connection's key under its own account-scoped conf key.

Only the conf is checked: real ABFS I/O cannot be emulated here (Azurite has no dfs endpoint and
PyPI pyspark ships without hadoop-azure); that needs a Databricks integration run.
"""

from __future__ import annotations

import pytest

from odibi_dbx.config.models import ProjectConfig
from odibi_dbx.connections import build_connections, resolve_secrets
from odibi_dbx.engines.spark import SparkEngine

pytestmark = [pytest.mark.azure, pytest.mark.spark]

KEYS = {f"acct{i}": f"c3Bhcmsta2V5LWZvci1hY2N0{i}LTAxMjM0NTY3ODk=" for i in range(3)}


def _project(monkeypatch, tmp_path) -> ProjectConfig:
    conns = {"local": {"type": "local", "base_path": str(tmp_path)}}
    for i, (acct, key) in enumerate(KEYS.items()):
        monkeypatch.setenv(f"KEY_{i}", key)
        conns[f"lake{i}"] = {
            "type": "azure_adls",
            "account": acct,
            "container": "data",
            "auth_mode": "direct_key",
            "account_key": key,
        }
    conns["gov"] = {
        "type": "azure_adls",
        "account": "acctgov",
        "container": "data",
        "auth_mode": "direct_key",
        "account_key": KEYS["acct0"][::-1],
        "endpoint": "https://acctgov.blob.core.usgovcloudapi.net",
    }
    return ProjectConfig.model_validate(
        {
            "project": "p",
            "connections": conns,
            "story": {"connection": "local"},
            "pipelines": [
                {
                    "pipeline": "p",
                    "nodes": [{"name": "n", "read": {"connection": "lake0", "path": "x.csv"}}],
                }
            ],
        }
    )


def test_conf_keys_for_several_accounts(spark, monkeypatch, tmp_path):
    connections = build_connections(_project(monkeypatch, tmp_path), tmp_path)
    resolve_secrets(connections)  # nothing to fetch: all direct_key
    engine = SparkEngine(connections=connections, spark=spark)
    engine.start()  # applies each connection's Spark conf
    engine.stop()
    for acct, key in KEYS.items():
        host = f"{acct}.dfs.core.windows.net"
        assert spark.conf.get(f"fs.azure.account.key.{host}") == key
        # the ABFS driver's own retries are bounded for each account (30 by default)
        assert spark.conf.get(f"fs.azure.io.retry.max.retries.{host}") == "2"
        assert spark.conf.get(f"fs.azure.io.retry.max.backoff.interval.{host}") == "4000"
    assert (
        spark.conf.get("fs.azure.account.key.acctgov.dfs.core.usgovcloudapi.net")
        == KEYS["acct0"][::-1]
    )
    assert spark.conf.get("fs.azure.io.retry.max.retries.acctgov.dfs.core.usgovcloudapi.net") == "2"
    assert spark.conf.get("fs.azure.io.retry.max.retries", None) is None  # no global default moved
    assert connections["lake1"].uri("t") == "abfss://data@acct1.dfs.core.windows.net/t"
    assert connections["local"].spark_conf() == {}
