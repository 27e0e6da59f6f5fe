"""Function steps declared for one engine, or written once for both (Narwhals)."""

from __future__ import annotations

import pytest

from odibi_dbx import Project
from odibi_dbx.transforms import transform
from tests.conftest import ORDERS_CSV, write

STEPS = """
import narwhals.stable.v2 as nw
from odibi_dbx import transform

@transform(engine="spark")
def spark_only(context):
    return context.get("orders").withColumn("x", 1)

@transform(engine="pandas")
def pandas_only(context):
    df = context.get("orders")
    df["double"] = df["amount"] * 2
    return df

@transform(narwhals=True)
def both(context):
    return context.get("orders").with_columns(double=nw.col("amount") * 2).select("order_id", "double")

@transform
def undeclared(context):
    return context.get("orders").withColumn("x", 1)
"""


def _run(project_dir, function: str):
    write(project_dir / "data" / "orders.csv", ORDERS_CSV)
    write(project_dir / "steps.py", STEPS)
    text = f"""
project: Functions
engine: pandas
connections:
  raw: {{type: local, base_path: ./data}}
  out: {{type: local, base_path: ./out}}
story: {{connection: out, path: stories/}}
imports: [steps.py]
pipelines:
  - pipeline: p
    nodes:
      - {{name: orders, read: {{connection: raw, path: orders.csv}}}}
      - {{name: f, depends_on: [orders], transform: {{steps: [{{function: {function}}}]}}}}
"""
    p = Project.load(write(project_dir / "project.yaml", text))
    return p, p.run()


def test_function_for_the_other_engine_says_so(project_dir):
    p, result = _run(project_dir, "spark_only")
    err = result.node("f").error
    assert "written for the spark engine" in err.message and "uses the pandas engine" in err.message
    assert "narwhals=True" in (err.hint or "")
    p.close()


def test_function_for_this_engine_runs(project_dir):
    p, result = _run(project_dir, "pandas_only")
    assert result.ok
    assert sorted(p.output("f")["double"].tolist()) == [-2.0, 11.0, 14.5, 24.0]
    p.close()


def test_narwhals_function_gets_a_lazy_frame_and_returns_rows(project_dir):
    p, result = _run(project_dir, "both")
    assert result.ok, [n.error for n in result.nodes]
    out = p.output("f")
    assert list(out.columns) == ["order_id", "double"]
    assert sorted(out["double"].tolist()) == [-2.0, 11.0, 14.5, 24.0]
    p.close()


def test_undeclared_function_failing_names_what_it_received(project_dir):
    p, result = _run(project_dir, "undeclared")
    err = result.node("f").error
    assert "context.get() gives pandas DataFrames" in (err.hint or "")
    p.close()


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="expected one of pandas, spark"):
        transform(engine="polars")
    with pytest.raises(ValueError, match="narwhals=True runs on both engines"):
        transform(engine="spark", narwhals=True)


def test_cli_runs_function_steps_with_the_garbage_collector_on(project_dir, cli):
    """The CLI pauses the cyclic collector only while loading the project: user code runs with
    it on, and every object loading left behind (config, plan, parsed SQL) survives."""
    write(
        project_dir / "gc_steps.py",
        """
        import gc
        import sys
        from odibi_dbx import transform

        @transform(engine="pandas")
        def collector_state(context):
            df = context.get("orders")
            df["gc_enabled"] = gc.isenabled()
            df["gc_frozen"] = gc.get_freeze_count()
            # frozen objects are in no generation: the engine's library was loaded before the
            # freeze (its objects are never scanned again)
            engine_lib = sys.modules["duckdb"].__dict__
            df["engine_frozen"] = not any(o is engine_lib for o in gc.get_objects())
            return df
        """,
    )
    write(
        project_dir / "project.yaml",
        """
        project: Collector
        connections:
          raw: {type: local, base_path: ./data}
          out: {type: local, base_path: ./out}
        story: {connection: out, path: stories/}
        imports: [gc_steps.py]
        pipelines:
          - pipeline: p
            nodes:
              - {name: orders, read: {connection: raw, path: orders.csv}}
              - name: f
                depends_on: [orders]
                transform: {steps: [{function: collector_state}]}
                write: {connection: out, path: f.parquet, format: parquet}
        """,
    )
    r = cli("run", str(project_dir / "project.yaml"))
    assert r.returncode == 0, r.stderr
    import duckdb

    rows = duckdb.sql(
        f"SELECT DISTINCT gc_enabled, gc_frozen > 0, engine_frozen "
        f"FROM '{project_dir / 'out' / 'f.parquet'}/*.parquet'"
    ).fetchall()
    assert rows == [(True, True, True)]
