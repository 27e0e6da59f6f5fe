"""SQL steps read only their sources: no table functions or file paths, no file access in DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from odibi_dbx import ConfigError, Project
from odibi_dbx.sql import parse_spark, portability_problems
from tests.conftest import ORDERS_CSV, write

SECRET = "top-secret-line"

HEAD = """
project: Sandbox
engine: pandas
connections:
  raw: {type: local, base_path: ./data}
  out: {type: local, base_path: ./out}
story: {connection: out, path: stories/}
pipelines:
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
"""


@pytest.fixture
def secret_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("elsewhere")
    (folder / "secret.csv").write_text(f"a\n{SECRET}\n")
    (folder / "secret.parquet").write_bytes(b"")
    return folder / "secret.csv"


def _project(project_dir, step: str) -> Project:
    write(project_dir / "data" / "orders.csv", ORDERS_CSV)
    node = f"      - {{name: s, depends_on: [orders], transform: {{steps: [{step!r}]}}}}\n"
    return Project.load(write(project_dir / "project.yaml", HEAD + node))


@pytest.mark.parametrize(
    "template",
    [
        "SELECT content FROM read_text('{f}')",
        "SELECT * FROM read_csv('{f}')",
        "SELECT * FROM read_csv_auto('{f}')",
        "SELECT * FROM read_parquet('{d}/*.parquet')",
        "SELECT * FROM read_json('{f}')",
        "SELECT * FROM glob('{d}/*')",
        "SELECT * FROM `{f}`",
        "SELECT * FROM csv.`{f}`",
        "SELECT o.* FROM orders o JOIN read_csv('{f}') s ON true",
        "SELECT (SELECT max(a) FROM read_csv('{f}')) AS x FROM orders",
        "SELECT read_blob('{f}') AS x FROM orders",
        "COPY (SELECT 1) TO '{d}/x.csv'",
        "ATTACH '{d}/x.db'",
        "INSTALL httpfs",
    ],
)
def test_file_access_is_refused_at_validation(project_dir, secret_file, template):
    step = template.format(f=secret_file, d=secret_file.parent)
    with pytest.raises(ConfigError) as info:
        _project(project_dir, step)
    assert "node 's'" in str(info.value) or "SQL" in str(info.value)
    assert SECRET not in str(info.value)


def test_refusal_names_the_construct_and_the_way_out():
    (p,) = portability_problems(parse_spark("SELECT content FROM read_text('/etc/shadow')"))
    assert "read_text" in p.message and "read node" in p.advice
    (p,) = portability_problems(parse_spark("SELECT * FROM `/etc/passwd`"))
    assert "file path in FROM" in p.message
    assert portability_problems(parse_spark("SELECT * FROM orders o, explode(array(1, 2))")) == []


def test_duckdb_file_access_is_off_while_user_sql_runs(project_dir, secret_file):
    """Even SQL that got past validation cannot reach files: only the run's own folders."""
    p = _project(project_dir, "SELECT order_id, amount FROM orders WHERE amount > 0")
    with p:
        result = p.run()
        assert result.ok, [n.error for n in result.nodes]
        con = p.engine.con
        for sql in [
            f"SELECT * FROM read_text('{secret_file}')",
            f"SELECT * FROM read_csv('{secret_file}')",
            f"SELECT * FROM '{secret_file}'",
            f"SELECT * FROM glob('{secret_file.parent}/*')",
            f"COPY (SELECT 1) TO '{secret_file.parent}/leak.csv'",
            f"ATTACH '{secret_file.parent}/x.db'",
            "INSTALL httpfs",
            "SET enable_external_access = true",
        ]:
            with pytest.raises(duckdb.Error) as info:
                con.execute(sql).fetchall()
            assert SECRET not in str(info.value)
        assert not (secret_file.parent / "leak.csv").exists()


def test_engine_reads_and_writes_keep_working_after_sql_ran(project_dir):
    write(project_dir / "data" / "orders.csv", ORDERS_CSV)
    write(project_dir / "data" / "more" / "later.csv", "x\n1\n2\n")
    text = (
        HEAD
        + """
      - {name: s, depends_on: [orders], transform: {steps: ["SELECT count(*) AS n FROM orders"]}}
      - {name: later, depends_on: [s], read: {connection: raw, path: more/later.csv}}
      - {name: joined, depends_on: [s, later], transform: {steps: ["SELECT n, x FROM s, later"]}}
      - {name: save, depends_on: [joined], write: {connection: out, path: gold/joined.csv, format: csv}}
"""
    )
    with Project.load(write(project_dir / "project.yaml", text)) as p:
        result = p.run()
        assert result.ok, [n.error for n in result.nodes]
        assert sorted(p.output("joined")["x"].tolist()) == [1, 2]
    assert (project_dir / "out" / "gold" / "joined.csv").exists()
