"""Running projects on the Pandas engine: DAG, failures, retries, validation, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from odibi_dbx import Project, RunFailed
from odibi_dbx.engines.pandas import PandasEngine
from odibi_dbx.pipeline.events import RunListener
from tests.conftest import write

HEAD = """
project: Runner test
connections:
  raw: {type: local, base_path: ./data}
  out: {type: local, base_path: ./out}
story: {connection: out, path: stories/, max_sample_rows: 2}
retry: {enabled: true, max_attempts: 3, backoff: constant, initial_delay: 0}
imports: [steps.py]
pipelines:
"""

STEPS = """
import threading, time
from odibi_dbx import transform

SEEN = []

@transform
def slow(context, name, seconds=0.4):
    SEEN.append((name, "start", time.perf_counter(), threading.get_ident()))
    time.sleep(seconds)
    SEEN.append((name, "end", time.perf_counter(), threading.get_ident()))
    return context.get("orders")

@transform
def boom(context):
    raise ValueError("bad input in boom")

@transform
def dtypes(context):
    df = context.get("orders")
    df["dtype_of_id"] = str(df["order_id"].dtype)
    return df
"""


def make(project_dir: Path, pipelines: str) -> Project:
    write(project_dir / "steps.py", STEPS)
    return Project.load(write(project_dir / "project.yaml", HEAD + pipelines))


class Recorder(RunListener):
    def __init__(self):
        self.events = []

    def node_started(self, run, pipeline, node):
        self.events.append(("start", node))

    def node_finished(self, run, result):
        self.events.append((result.status, result.name))


def test_independent_nodes_run_concurrently_and_dependents_wait(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - {name: a, depends_on: [orders], transform: {steps: [{function: slow, params: {name: a}}]}}
      - {name: b, depends_on: [orders], transform: {steps: [{function: slow, params: {name: b}}]}}
      - {name: c, depends_on: [a, b], transform: {steps: ["SELECT count(*) AS n FROM a JOIN b USING (order_id)"]}}
""",
    )
    rec = Recorder()
    result = p.run(listeners=[rec])
    assert result.ok, [n.error for n in result.nodes]
    import sys

    seen = {
        (n, kind): (t, tid) for n, kind, t, tid in sys.modules[p.loaded.functions.modules[0]].SEEN
    }
    # a and b overlapped in time, on different threads
    assert (
        seen[("a", "start")][0] < seen[("b", "end")][0]
        and seen[("b", "start")][0] < seen[("a", "end")][0]
    )
    assert seen[("a", "start")][1] != seen[("b", "start")][1]
    order = [e for e in rec.events if e[1] == "c" or e[0] != "start"]
    assert order.index(("start", "c")) > order.index(("success", "a"))
    assert order.index(("start", "c")) > order.index(("success", "b"))
    assert p.output("c")["n"].tolist() == [4]


def test_failed_node_skips_dependents_not_siblings(project_dir, cli):
    text = """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - {name: bad, depends_on: [orders], transform: {steps: [{function: boom}]}}
      - {name: after_bad, depends_on: [bad], write: {connection: out, path: bad.parquet}}
      - {name: good, depends_on: [orders], transform: {steps: ["SELECT * FROM orders WHERE amount > 0"]}}
      - {name: save_good, depends_on: [good], write: {connection: out, path: good.parquet}}
"""
    p = make(project_dir, text)
    result = p.run()
    status = {n.name: n.status for n in result.nodes}
    assert status == {
        "orders": "success",
        "bad": "failed",
        "after_bad": "skipped",
        "good": "success",
        "save_good": "success",
    }
    assert not result.ok
    bad = result.node("bad")
    assert "bad input in boom" in bad.error.message and "ValueError" in bad.error.traceback
    assert result.node("after_bad").skipped_because == "upstream node 'bad' failed"
    assert pq.read_table(project_dir / "out" / "good.parquet").num_rows == 3
    assert not (project_dir / "out" / "bad.parquet").exists()
    with pytest.raises(RunFailed, match="bad"):
        p.run(raise_on_failure=True)


class FlakyEngine(PandasEngine):
    """Fails the first reads with a connection reset: the shape of a transient network error."""

    failures = 2
    calls = 0

    def _read(self, spec):
        type(self).calls += 1
        if type(self).calls <= self.failures:
            raise ConnectionResetError(104, "Connection reset by peer")
        return super()._read(spec)


def test_transient_read_errors_are_retried_and_sql_errors_are_not(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - {name: bad_sql, depends_on: [orders], transform: {steps: ["SELECT no_such_column FROM orders"]}}
""",
    )
    FlakyEngine.calls = 0
    p._engine = FlakyEngine(timezone="UTC", connections=p.connections)
    retries = []

    class R(RunListener):
        def node_retrying(self, run, pipeline, node, attempt, error, wait):
            retries.append((node, attempt, type(error.__cause__).__name__))

    result = p.run(listeners=[R()])
    assert result.node("orders").status == "success" and result.node("orders").attempts == 3
    assert retries == [("orders", 1, "ConnectionResetError"), ("orders", 2, "ConnectionResetError")]
    bad = result.node("bad_sql")
    assert bad.status == "failed" and bad.attempts == 0 and bad.error.stage == "transform"
    assert "no_such_column" in bad.error.message and "SELECT no_such_column" in bad.error.detail


def test_retry_gives_up_after_max_attempts(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
""",
    )
    FlakyEngine.calls = 0
    FlakyEngine.failures = 10
    try:
        p._engine = FlakyEngine(timezone="UTC", connections=p.connections)
        result = p.run()
    finally:
        FlakyEngine.failures = 2
    node = result.node("orders")
    assert node.status == "failed" and node.attempts == 3 and node.error.stage == "read"


def test_missing_input_file_fails_with_path_and_hint_without_retrying(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: nope.csv}}
""",
    )
    node = p.run().node("orders")
    assert node.status == "failed" and node.attempts == 1
    assert "nope.csv" in node.error.message and "base_path" in node.error.hint


def test_validation_runs_before_write_and_a_failure_writes_nothing(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - name: checked
        depends_on: [orders]
        transform: {steps: ["SELECT *, CASE WHEN amount < 0 THEN NULL ELSE amount END AS pos FROM orders"]}
        validation: {not_empty: true, no_nulls: [order_id, pos], unique: [customer_id], schema: {order_id: bigint, pos: double}}
        write: {connection: out, path: checked.parquet}
""",
    )
    node = p.run().node("checked")
    assert node.status == "failed" and node.error.stage == "validation"
    checks = {c.check: (c.passed, c.detail) for c in node.validation}
    assert checks["not_empty"] == (True, "4 rows")
    assert checks["no_nulls:order_id"][0] and checks["no_nulls:pos"] == (False, "1 null values")
    assert checks["unique:customer_id"] == (False, "1 duplicate rows")
    assert checks["schema:order_id"] == (
        False,
        "type int, expected bigint",
    )  # CSV inference as on Spark
    assert checks["schema:pos"][0]
    assert "nothing was written" in node.error.detail
    assert not (project_dir / "out" / "checked.parquet").exists()


def test_failed_write_leaves_previous_output(project_dir):
    base = """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - name: save
        depends_on: [orders]
        write: {connection: out, path: %s, format: %s, mode: overwrite%s}
"""
    for path, fmt in (("o.parquet", "parquet"), ("o_csv", "csv"), ("o_delta", "delta")):
        ok = make(project_dir, base % (path, fmt, ""))
        assert ok.run().ok
        before = sorted(p.name for p in (project_dir / "out" / path).rglob("*"))
        broken = make(project_dir, base % (path, fmt, ", partition_by: [no_such_column]"))
        node = broken.run().node("save")
        assert node.status == "failed" and node.error.stage == "write", fmt
        assert "previous output was left as it was" in node.error.detail
        assert sorted(p.name for p in (project_dir / "out" / path).rglob("*")) == before, fmt
        leftovers = [p.name for p in (project_dir / "out").iterdir() if "odibi-tmp" in p.name]
        assert leftovers == []


def test_write_only_node_writes_its_dependency_and_formats_round_trip(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: write
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - {name: csv_out, depends_on: [orders], write: {connection: out, path: o_csv, format: csv}}
      - {name: json_out, depends_on: [orders], write: {connection: out, path: o_json, format: json}}
      - {name: pq_out, depends_on: [orders], write: {connection: out, path: o.parquet}}
      - {name: delta_out, depends_on: [orders], write: {connection: out, path: o_delta, format: delta}}
  - pipeline: read_back
    nodes:
      - {name: c, read: {connection: out, path: o_csv, format: csv}}
      - {name: j, read: {connection: out, path: o_json, format: json}}
      - {name: q, read: {connection: out, path: o.parquet}}
      - {name: d, read: {connection: out, path: o_delta, format: delta}}
""",
    )
    result = p.run()
    assert result.ok, [n.error for n in result.nodes if n.error]
    expected = p.output("orders")
    for name in ("c", "j", "q", "d"):
        got = p.output(name)
        assert got["order_id"].tolist() == expected["order_id"].tolist(), name
        assert got["amount"].tolist() == expected["amount"].tolist(), name
        assert result.node(name).rows_out == 4
    assert all(n.write["rows"] == 4 for n in result.nodes if n.write)
    # part-file folders, like Spark writes them
    assert [f.suffix for f in (project_dir / "out" / "o.parquet").iterdir()] == [".parquet"]


def test_delta_append_and_merge(project_dir):
    write(
        project_dir / "data" / "updates.csv",
        "order_id,customer_id,amount,order_ts\n"
        "2,11,99.0,2025-01-02 11:30:00\n9,13,1.0,2025-03-01 00:00:00\n",
    )
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - {name: init, depends_on: [orders], write: {connection: out, path: t, format: delta}}
  - pipeline: upsert
    nodes:
      - {name: updates, read: {connection: raw, path: updates.csv}}
      - {name: merge, depends_on: [updates], write: {connection: out, path: t, format: delta, mode: merge, merge_keys: [order_id]}}
  - pipeline: add
    nodes:
      - {name: updates2, read: {connection: raw, path: updates.csv}}
      - {name: append, depends_on: [updates2], write: {connection: out, path: t, format: delta, mode: append}}
""",
    )
    from deltalake import DeltaTable

    assert p.run(["p", "upsert"]).ok
    t = DeltaTable(str(project_dir / "out" / "t")).to_pandas().sort_values("order_id")
    assert t["order_id"].tolist() == [1, 2, 3, 4, 9]
    assert t.set_index("order_id")["amount"][2] == 99.0
    m = p.last_result.node("merge").write
    assert m["num_target_rows_updated"] == 1 and m["num_target_rows_inserted"] == 1
    assert p.run(["add"]).ok
    table = DeltaTable(str(project_dir / "out" / "t"))
    assert len(table.to_pandas()) == 7
    assert all(f.nullable for f in table.schema().fields)  # as Spark writes them


def test_function_steps_get_arrow_backed_pandas_and_this(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - name: f
        depends_on: [orders]
        transform:
          steps:
            - {function: dtypes}
            - "SELECT order_id, dtype_of_id, order_ts FROM this WHERE amount > 0"
""",
    )
    result = p.run()
    assert result.ok, result.node("f").error
    out = p.output("f")
    assert set(out["dtype_of_id"]) == {"int32[pyarrow]"}  # CSV ints inferred as INT, as on Spark
    assert isinstance(out["order_ts"].dtype, pd.ArrowDtype)
    assert str(out["order_ts"].dtype.pyarrow_dtype) == "timestamp[us, tz=UTC]"
    assert [s.kind for s in result.node("f").steps] == ["function", "sql"]


def test_session_time_zone_is_explicit(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - name: local
        depends_on: [orders]
        transform: {steps: ["SELECT order_id, date_format(order_ts, 'yyyy-MM-dd HH:mm') AS s, hour(order_ts) AS h FROM orders"]}
""".replace("project: Runner test", "project: Runner test"),
    )
    assert p.run().ok
    assert p.output("local")["s"].tolist()[0] == "2025-01-01 10:00"
    text = (
        (project_dir / "project.yaml")
        .read_text()
        .replace("project: Runner test", "project: Runner test\ntimezone: Asia/Kolkata")
    )
    write(project_dir / "project.yaml", text)
    p2 = Project.load(project_dir / "project.yaml")
    assert p2.run().ok
    # the CSV's naive times are read as Kolkata wall-clock times, as Spark reads them
    assert p2.output("local")["s"].tolist()[0] == "2025-01-01 10:00"
    ts = p2.output("orders")["order_ts"].tolist()[0]
    assert ts.tz_convert("UTC").strftime("%H:%M") == "04:30"


def test_run_one_node_runs_its_upstream_only(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - {name: pos, depends_on: [orders], transform: {steps: ["SELECT * FROM orders WHERE amount > 0"]}}
      - {name: other, depends_on: [orders], transform: {steps: [{function: boom}]}}
""",
    )
    result = p.run_node("pos")
    assert [n.name for n in result.nodes] == ["orders", "pos"] and result.ok
    assert len(p.output("pos")) == 3


def test_outputs_are_released_when_no_longer_needed(project_dir):
    p = make(
        project_dir,
        """
  - pipeline: p
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - {name: a, depends_on: [orders], transform: {steps: ["SELECT * FROM orders"]}}
      - {name: b, depends_on: [a], transform: {steps: ["SELECT * FROM a"]}}
""",
    )
    p.keep_outputs = False
    assert p.run().ok
    tables = p.engine.con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]
    views = p.engine.con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE NOT internal"
    ).fetchone()[0]
    assert tables == 0 and views == 0
