"""The SQL cache (odibi_dbx.sql.cache): a later run of an unchanged project loads no SQL parser
and gives what the first gave; anything its answers depend on misses; a damaged or unwritable
cache changes nothing but the time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow.parquet as pq

from odibi_dbx.sql import cache
from tests.conftest import ROOT, write

PROJECT = """
project: cached
engine: pandas
connections:
  local: {type: local, base_path: .}
story: {connection: local, path: stories}
pipelines:
  - pipeline: p
    nodes:
      - name: orders
        read: {connection: local, path: data/orders.csv, format: csv, options: {header: true},
               schema: "order_id BIGINT, customer_id BIGINT, amount DECIMAL(10,2), order_ts TIMESTAMP"}
      - name: months
        depends_on: [orders]
        transform:
          steps:
            - SELECT customer_id, date_format(order_ts, 'yyyy-MM') AS month, amount / 3 AS third
              FROM orders WHERE amount > 0
            - SELECT month, sum(third) AS total, count(*) AS n FROM this GROUP BY month
        write: {connection: local, path: out/months, format: parquet, mode: overwrite}
"""

# Runs the CLI in a fresh interpreter and says whether sqlglot was loaded.
_PROBE = (
    "import sys; from odibi_dbx.cli import main; rc = main(sys.argv[1:]); "
    "print('SQLGLOT LOADED' if 'sqlglot' in sys.modules else 'SQLGLOT NOT LOADED'); sys.exit(rc)"
)


def _cli(folder, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, cache.ENV: str(folder / "cache")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _executed(done: subprocess.CompletedProcess) -> list[str]:
    """The SQL each step ran, from the run's story (the path the CLI printed)."""
    story = next(w for w in done.stdout.split() if w.endswith(".json"))
    nodes = json.loads(open(story, encoding="utf-8").read())["nodes"]
    return [s.get("executed") for n in nodes for s in n.get("steps") or []]


def test_a_second_run_loads_no_parser_and_gives_the_same_result(project_dir):
    write(project_dir / "project.yaml", PROJECT)
    first = _cli(project_dir, "run", "project.yaml")
    assert first.returncode == 0, first.stderr
    assert "SQLGLOT LOADED" in first.stdout  # nothing cached yet: checked and translated
    rows = pq.read_table(project_dir / "out" / "months").sort_by("month").to_pylist()
    sql = _executed(first)

    second = _cli(project_dir, "run", "project.yaml")
    assert second.returncode == 0, second.stderr
    assert "SQLGLOT NOT LOADED" in second.stdout
    assert pq.read_table(project_dir / "out" / "months").sort_by("month").to_pylist() == rows
    assert rows and rows[0]["total"] is not None
    assert _executed(second) == sql and any(sql)
    assert "__odibi_input_" not in json.dumps(sql)  # the stand-ins never reach DuckDB


RULES = """
project: ruled
engine: pandas
connections:
  local: {type: local, base_path: .}
story: {connection: local, path: stories}
pipelines:
  - pipeline: p
    nodes:
      - name: orders
        read: {connection: local, path: data/orders.csv, format: csv, options: {header: true},
               schema: "order_id BIGINT, customer_id BIGINT, amount DOUBLE, order_ts TIMESTAMP"}
        validation:
          rules:
            - {name: positive, expr: "amount > 0", on_fail: quarantine}
            - {name: early, expr: "order_ts < TIMESTAMP '2025-02-01'", on_fail: warn}
          quarantine: {connection: local, path: out/quarantine, format: parquet}
        write: {connection: local, path: out/orders, format: parquet, mode: overwrite}
"""


def test_quality_rules_are_checked_and_translated_from_the_cache_too(project_dir):
    write(project_dir / "project.yaml", RULES)
    outputs = []
    for expected in ("SQLGLOT LOADED", "SQLGLOT NOT LOADED"):
        done = _cli(project_dir, "run", "project.yaml")
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout
        outputs.append(
            [
                sorted(pq.read_table(project_dir / "out" / name).column("order_id").to_pylist())
                for name in ("orders", "quarantine")
            ]
        )
    # the quarantine keeps every run's flagged rows (appended, with their run id)
    assert outputs == [[[1, 2, 4], [3]], [[1, 2, 4], [3, 3]]]


BAD = """
project: bad
engine: pandas
connections:
  local: {type: local, base_path: .}
story: {connection: local, path: stories}
pipelines:
  - pipeline: p
    nodes:
      - name: orders
        read: {connection: local, path: data/orders.csv, format: csv}
      - name: a
        depends_on: [orders]
        transform: {steps: ["SELECT * FROM ordrs"]}
      - name: b
        depends_on: [orders]
        transform: {steps: ["SELECT * FROM read_csv('x.csv')"]}
      - name: c
        depends_on: [orders]
        transform: {steps: ["SELECT FROM WHERE"]}
      - name: d
        depends_on: [orders]
        transform: {steps: ["SELECT reflect('java.lang.System', 'exit', 1) AS x FROM orders"]}
      - name: e
        depends_on: [orders]
        transform: {steps: ["SELECT percentile_approx(amount, 0.5) AS p FROM orders"]}
"""


def test_validation_reports_the_same_problems_from_the_cache(project_dir):
    write(project_dir / "project.yaml", BAD)
    first = _cli(project_dir, "validate", "project.yaml")
    second = _cli(project_dir, "validate", "project.yaml")
    assert first.returncode == second.returncode == 2
    assert "SQLGLOT NOT LOADED" in second.stdout
    assert second.stderr == first.stderr
    for text in ("'ordrs'", "read_csv", "SQL syntax error in node 'c'", "node 'd'", "node 'e' on"):
        assert text in first.stderr
    assert "5 problems" in first.stderr


def test_a_step_translated_for_other_input_types_misses(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    query = "SELECT a / b AS r FROM t"
    as_ints = cache.translate(query, None, {"t": {"a": "int", "b": "int"}}, {"t": "read_1"})
    store = cache.shared()
    assert store is not None and store.misses == 1
    again = cache.translate(query, None, {"t": {"a": "int", "b": "int"}}, {"t": "read_9"})
    assert store.hits == 1
    assert again[0] == as_ints[0].replace("read_1", "read_9") and "read_1" not in again[0]
    decimals = {"t": {"a": "decimal(10,2)", "b": "decimal(10,2)"}}
    as_decimals = cache.translate(query, None, decimals, {"t": "read_1"})
    assert store.misses == 2 and as_decimals[0] != as_ints[0]


def test_other_code_misses(tmp_path, monkeypatch):
    """An answer is keyed by the code that computed it: odibi_dbx's modules and sqlglot."""
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    store = cache.shared()
    assert store is not None
    key = store.key("ddl", "id BIGINT")
    monkeypatch.setattr(cache, "_STAMP", ["another build"])
    assert store.key("ddl", "id BIGINT") != key


def test_a_damaged_or_unwritable_cache_changes_nothing_but_the_time(project_dir):
    write(project_dir / "project.yaml", PROJECT)
    assert _cli(project_dir, "run", "project.yaml").returncode == 0
    rows = pq.read_table(project_dir / "out" / "months").to_pylist()
    for f in (project_dir / "cache").iterdir():
        f.write_bytes(b"not a database" * 100)
    damaged = _cli(project_dir, "run", "project.yaml")
    assert damaged.returncode == 0, damaged.stderr
    assert "SQLGLOT LOADED" in damaged.stdout  # computed again, as without a cache
    assert pq.read_table(project_dir / "out" / "months").to_pylist() == rows
    for f in (project_dir / "cache").iterdir():
        f.unlink()
    (project_dir / "cache").rmdir()
    (project_dir / "cache").write_text("a file where the cache folder would be")
    unwritable = _cli(project_dir, "run", "project.yaml")
    assert unwritable.returncode == 0, unwritable.stderr
    assert pq.read_table(project_dir / "out" / "months").to_pylist() == rows


def test_off_turns_it_off(project_dir, monkeypatch):
    write(project_dir / "project.yaml", PROJECT)
    monkeypatch.setenv(cache.ENV, "off")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, "run", "project.yaml"],
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "SQLGLOT LOADED" in done.stdout
    assert cache.folder() is None


def test_it_keeps_the_newest_answers(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "KEEP", 3)
    store = cache.SqlCache(tmp_path / "sql.sqlite")
    keys = [store.key("ddl", f"c{i} INT") for i in range(5)]
    for i, key in enumerate(keys):
        store.put(key, [[f"c{i}", "INTEGER"]])
        store.flush()
    assert [store.get(k) is not None for k in keys] == [False, False, True, True, True]


def test_a_step_that_spells_a_stand_in_is_translated_as_written(tmp_path, monkeypatch):
    """The translation reads stand-ins (__odibi_input_0__, ...) for the input relations and
    replaces them afterwards: a step that spells one itself must keep its own text."""
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    query = "SELECT a AS __odibi_input_0__ FROM t"
    text, _ = cache.translate(query, None, {"t": {"a": "int"}}, {"t": "read_1"})
    assert "AS __odibi_input_0__" in text and "FROM read_1" in text
