"""Serverless / standard access mode compute: no account key goes into Spark conf, and the story
says once, as a run-level note, that access goes through Unity Catalog external locations.

The compute is told the way Databricks tells it (DATABRICKS_RUNTIME_VERSION `client.*` on
serverless), the secret scope is a fake dbutils in the notebook globals (the Databricks runtime
cannot run here). The session is the real one: local Spark, or Spark Connect on the Connect leg.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import write

pytestmark = pytest.mark.spark

KEY = "c2VydmVybGVzcy1rZXktbmV2ZXItaW4tc3BhcmstY29uZi0wMTIzNDU2Nzg5YWJjZGVmZ2hpams="
ACCOUNT = "odibiserverless1"


class _Secrets:
    def get(self, scope: str, key: str) -> str:
        return KEY


class _Dbutils:
    secrets = _Secrets()


PROJECT = f"""
project: uc
engine: spark
connections:
  local: {{type: local, base_path: .}}
  lake:
    type: azure_adls
    account: {ACCOUNT}
    container: bronze
    path_prefix: sales
    auth_mode: secret_scope
    secret_scope: lake-scope
    secret_key: adls-key
story: {{connection: local, path: stories/}}
pipelines:
  - pipeline: p
    nodes:
      - {{name: raw, read: {{connection: local, path: data/in.csv}}}}
      - name: out
        depends_on: [raw]
        write: {{connection: local, path: out, format: parquet}}
"""


def test_serverless_sets_no_key_and_says_so_once_in_the_story(spark, tmp_path, monkeypatch, capsys):
    from odibi_dbx import Project
    from odibi_dbx.cli import main

    monkeypatch.setenv("ODIBI_RUNTIME", "databricks")
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "client.2.1")  # serverless
    monkeypatch.setattr(sys.modules["__main__"], "dbutils", _Dbutils(), raising=False)
    write(tmp_path / "data" / "in.csv", "id,v\n1,a\n2,b\n")
    path = write(tmp_path / "project.yaml", PROJECT)
    with Project.load(path, engine_options={"spark": spark}) as project:
        result = project.run()
    host = f"{ACCOUNT}.dfs.core.windows.net"
    assert spark.conf.get(f"fs.azure.account.key.{host}", None) is None
    assert spark.conf.get(f"fs.azure.io.retry.max.retries.{host}", None) is None
    expected = (
        "connection 'lake': serverless compute: account key not set in Spark conf; access to "
        f"abfss://bronze@{host}/sales goes through Unity Catalog external locations"
    )
    assert result.ok, [n.error_message for n in result.nodes]
    doc = json.loads(Path(result.story_path).read_text())
    assert len(doc["notes"]) == 1 and doc["notes"][0].startswith(expected), doc["notes"]
    html = Path(result.story_html_path).read_text()
    assert html.count("account key not set in Spark conf") == 1
    assert KEY not in json.dumps(doc) and KEY not in html
    assert repr(result).count("note: " + expected) == 1
    # a second run (the CLI) says it once too, and `story show` once for its story
    capsys.readouterr()
    assert main(["run", str(path)]) == 0
    assert main(["story", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("note: " + expected) == 2, out
    assert KEY not in out


def test_classic_compute_still_sets_the_key(spark, tmp_path, monkeypatch):
    from odibi_dbx import Project

    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.setenv("ODIBI_RUNTIME", "local")
    monkeypatch.setattr(sys.modules["__main__"], "dbutils", _Dbutils(), raising=False)
    write(tmp_path / "data" / "in.csv", "id,v\n1,a\n")
    path = write(tmp_path / "project.yaml", PROJECT.replace(ACCOUNT, ACCOUNT + "c"))
    with Project.load(path, engine_options={"spark": spark}) as project:
        result = project.run()
    assert result.ok
    assert spark.conf.get(f"fs.azure.account.key.{ACCOUNT}c.dfs.core.windows.net") == KEY
    assert json.loads(Path(result.story_path).read_text())["notes"] == []
