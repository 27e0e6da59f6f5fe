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


DUCKDB_ESCAPES = [
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
]


@pytest.mark.parametrize("template", DUCKDB_ESCAPES)
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


# -- both engines: Spark SQL reads files, calls Java, reads secrets unless validation refuses --
SPARK_ESCAPES = {
    "parquet_path": "SELECT * FROM parquet.`{d}`",
    "csv_path": "SELECT * FROM csv.`{f}`",
    "text_path": "SELECT value FROM text.`{f}` JOIN orders ON true",
    "json_path": "SELECT * FROM orders WHERE order_id IN (SELECT 1 FROM json.`{f}`)",
    "delta_path": "WITH t AS (SELECT * FROM delta.`{d}`) SELECT * FROM t",
    "binary_path": "SELECT * FROM binaryFile.`{d}`",
    "quoted_path": "SELECT * FROM `{f}`",
    "cloud_path": "SELECT * FROM delta.`abfss://lake@acct.dfs.core.windows.net/gold`",
    "read_files": "SELECT * FROM read_files('{f}')",
    "tvf": "SELECT * FROM orders o, LATERAL read_files('{f}')",
    "reflect": "SELECT reflect('java.lang.System', 'getenv', 'HOME') AS x FROM orders",
    "java_method": "SELECT java_method('java.lang.System', 'getProperty', 'user.home') AS x",
    "secret": "SELECT secret('scope', 'key') AS x FROM orders",
    "script": "SELECT TRANSFORM(order_id) USING 'cat {f}' AS (x) FROM orders",
    "load_data": "LOAD DATA LOCAL INPATH '{f}' INTO TABLE orders",
    "add_jar": "ADD JAR '{d}/x.jar'",
    "create_location": "CREATE TABLE t USING csv LOCATION '{d}' AS SELECT 1",
    "insert_directory": "INSERT OVERWRITE DIRECTORY '{d}' SELECT * FROM orders",
}


def _escapes_project(root, secret_file, engine: str):
    write(root / "data" / "orders.csv", ORDERS_CSV)
    nodes = "".join(
        f"      - {{name: {name}, depends_on: [orders], transform: {{steps: "
        f"[{sql.format(f=secret_file, d=secret_file.parent)!r}]}}}}\n"
        for name, sql in SPARK_ESCAPES.items()
    )
    legit = "      - {name: ok, depends_on: [orders], transform: {steps: [%r]}}\n" % (
        "SELECT o.* FROM orders o JOIN main.sales.regions r ON o.customer_id = r.id"
        if engine == "spark"  # and a catalog table the project declares (Spark only)
        else "SELECT * FROM orders"
    )
    if engine == "spark":
        legit += "      - {name: regions, read: {connection: raw, table: main.sales.regions}}\n"
    text = HEAD.replace("engine: pandas", f"engine: {engine}") + nodes + legit
    return write(root / "project.yaml", text)


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_validate_refuses_file_access_on_both_engines(project_dir, secret_file, cli, engine):
    project = _escapes_project(project_dir, secret_file, engine)
    r = cli("validate", str(project))
    out = r.stdout + r.stderr
    assert r.returncode == 2, out
    lines = project.read_text().splitlines()
    for name in SPARK_ESCAPES:
        line = next(i for i, t in enumerate(lines, 1) if f"name: {name}," in t)
        problem = next((p for p in out.split("\n  - ") if f"project.yaml:{line} " in p), None)
        assert problem is not None, f"{name} not refused:\n{out}"
        # where (file:line, node), what, and what to do instead
        assert f"node '{name}'" in problem or "one SELECT query" in problem, problem
        assert "hint: " in problem and ("read node" in problem or "connections" in problem)
    assert "nodes[ok]" not in out and "nodes[regions]" not in out  # legitimate sources pass
    assert SECRET not in out


def test_spark_run_refuses_before_reading(project_dir, secret_file, cli):
    """`run` validates first: no Spark session starts, nothing is read or written."""
    project = _escapes_project(project_dir, secret_file, "spark")
    r = cli("run", str(project), "--node", "csv_path")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "node 'csv_path': Not allowed in a SQL step: a file read in FROM" in r.stderr
    assert "hint: a SQL step reads only the nodes it depends on" in r.stderr
    assert SECRET not in r.stdout + r.stderr
    assert not (project_dir / "out").exists()


def test_row_rules_are_sandboxed_on_both_engines():
    from odibi_dbx.engines import engine_class
    from odibi_dbx.quality.expressions import rule_problems

    for engine in ("pandas", "spark"):
        ((msg, hint),) = rule_problems(
            "reflect('java.lang.System', 'getenv', 'HOME') IS NOT NULL",
            engine_class(engine),
            None,
        )
        assert "reflect()" in msg and "function step" in hint
        assert rule_problems("amount > 0", engine_class(engine), None) == []


def test_the_sandbox_visits_only_the_node_classes_that_can_offend():
    # sandbox_problems looks at sandbox._SUSPECTS only: a node of any other class must never be
    # file access, or a new refusal would be silently skipped
    from pathlib import Path

    import yaml

    from odibi_dbx.sql import SqlSyntaxError, sandbox

    corpus = yaml.safe_load(Path(__file__).with_name("corpus.yaml").read_text(encoding="utf-8"))
    escapes = [*DUCKDB_ESCAPES, *SPARK_ESCAPES.values()]
    queries = [c["sql"] for c in corpus] + [e.format(f="/x/s.csv", d="/x") for e in escapes]
    offending = 0
    for sql in queries:
        try:
            tree = parse_spark(sql)
        except SqlSyntaxError:
            continue  # a statement, refused before the sandbox
        for node in tree.walk():
            if isinstance(node, sandbox._SUSPECTS):
                offending += sandbox._offending(node) is not None
            else:
                assert sandbox._offending(node) is None, (sql, type(node).__name__)
    assert offending >= 15  # the escapes are there
