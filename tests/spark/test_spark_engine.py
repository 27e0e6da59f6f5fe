"""The Spark engine on a local session: session settings, SQL views, writes, no wasted jobs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from odibi_dbx.engines.spark_sql import with_view_names
from tests.spark.spark_fixtures import is_connect, plan_text

pytestmark = pytest.mark.spark

ORDERS = "order_id,customer_id,amount,order_ts\n" + "".join(
    f"{i},{10 + i % 3},{(i % 7) - 1}.5,2025-0{1 + i % 3}-0{1 + i % 9} 10:00:00\n"
    for i in range(1, 41)
)
SCHEMA = "order_id BIGINT, customer_id BIGINT, amount DOUBLE, order_ts TIMESTAMP"


def project(tmp: Path, nodes: str, more: str = "") -> Path:
    (tmp / "data").mkdir(exist_ok=True)
    (tmp / "data" / "orders.csv").write_text(ORDERS)
    text = (
        textwrap.dedent("""\
        project: spark-tests
        engine: spark
        connections:
          data: {type: local, base_path: ./data}
          out: {type: local, base_path: ./out}
        story: {connection: out, path: stories/, max_sample_rows: 5}
        retry: {enabled: false}
        pipelines:
          - pipeline: p
            nodes:
        """)
        + textwrap.indent(textwrap.dedent(nodes), " " * 6)
        + textwrap.indent(more, "  ")
    )
    path = tmp / "project.yaml"
    path.write_text(text)
    return path


# -- no Spark needed ---------------------------------------------------------------------------


def test_import_without_pyspark():
    code = (
        "import sys; sys.modules['pyspark'] = None; sys.modules['delta'] = None\n"
        "import odibi_dbx; from odibi_dbx.engines import engine_class\n"
        "cls = engine_class('spark'); assert cls.name == 'spark'\n"
        "assert cls.capabilities.frames == 'spark' and cls.capabilities.catalog_tables\n"
        "from odibi_dbx.errors import MissingExtraError\n"
        "try:\n    cls().start()\nexcept MissingExtraError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "' in out.stdout and '"pyspark' in out.stdout


def test_view_names_keep_the_query_text():
    q = (
        "WITH x AS (SELECT * FROM Orders o WHERE o.a > 1)\n"
        "SELECT x.*, this.b FROM x JOIN this ON x.id = this.id"
    )
    out = with_view_names(q, {"orders": 1, "this": 2}, lambda k: f"v_{k}")
    assert out == (
        "WITH x AS (SELECT * FROM `v_orders` o WHERE o.a > 1)\n"
        "SELECT x.*, this.b FROM x JOIN `v_this` AS `this` ON x.id = this.id"
    )
    # CTE names shadowing a node name are left alone
    q2 = "WITH orders AS (SELECT 1 AS a) SELECT * FROM orders"
    assert with_view_names(q2, {"orders": 1}, lambda k: "v") == q2


# -- with Spark --------------------------------------------------------------------------------


def test_forbidden_conf_is_explained(spark):
    from odibi_dbx.connections.base import Connection
    from odibi_dbx.engines.spark import SparkEngine
    from odibi_dbx.errors import OdibiError

    class Locked(Connection):
        type = "azure_adls"

        def uri(self, path):
            return path

        def spark_conf(self):  # a static conf: setting it at run time raises, like serverless
            return {"spark.sql.warehouse.dir": "s3cr3t-value"}

    eng = SparkEngine(connections={"lake": Locked("lake")})
    if is_connect(spark):  # compute unknown over Connect: a refusal is noted, as on serverless
        eng.start()
        assert [n for n in eng.notes if "'lake'" in n and "Unity Catalog" in n], eng.notes
        assert not any("s3cr3t-value" in n for n in eng.notes)
        eng.stop()
        return
    with pytest.raises(OdibiError, match="Unity Catalog external locations") as err:
        eng.start()
    assert "s3cr3t-value" not in str(err.value) and "'lake'" in str(err.value)
    eng.stop()


def test_concurrent_sql_steps_do_not_share_views(spark):
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame

    eng = SparkEngine(spark=spark)
    eng.start()

    def run(i: int) -> list[int]:
        frame = SparkFrame(spark.range(i * 100, i * 100 + 50))
        out, _ = eng.sql("SELECT min(id) AS lo, count(*) AS n FROM src", {"src": frame})
        return list(out.df.first())

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(run, range(8)))
    # a persisted output stays cached (and is used) after SQL steps read it through a view
    src = eng.finish(SparkFrame(spark.range(10)), key="k", consumers=2)
    out, _ = eng.sql("SELECT count(*) AS n FROM src", {"src": src})
    assert "InMemoryTableScan" in plan_text(out.df)
    eng.release(src)
    assert src.cached  # `out` is lazy and still to run: src stays cached
    eng.release(out)  # the last frame built on it: now it goes
    assert not src.cached and not eng._cached
    eng.stop()
    assert got == [[i * 100, 50] for i in range(8)]
    if not is_connect(spark):  # Spark Connect cannot drop a view without uncaching its plan
        assert not [t for t in spark.catalog.listTables() if t.name.startswith("odibi_view")]


def test_failed_overwrite_keeps_previous_output(spark, tmp_path):
    import pyarrow.dataset as ds

    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig
    from odibi_dbx.engines.base import WriteSpec
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame
    from odibi_dbx.errors import NodeError

    conn = LocalConnection(
        "out", LocalConnectionConfig(type="local", base_path=str(tmp_path)), tmp_path
    )
    eng = SparkEngine(spark=spark)
    eng.start()
    for fmt in ("parquet", "csv", "json"):
        spec = WriteSpec(node="w", connection=conn, format=fmt, path=f"t_{fmt}")
        eng.write(SparkFrame(spark.range(3)), spec)
        bad = spark.range(5).selectExpr("IF(id = 4, raise_error('boom'), id) AS id")
        with pytest.raises(NodeError, match="previous output was left"):
            eng.write(SparkFrame(bad), spec)
        kept = ds.dataset(
            tmp_path / f"t_{fmt}",
            format=fmt if fmt != "json" else "json",
            exclude_invalid_files=True,
        ).to_table()
        assert kept.num_rows == 3, fmt
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".odibi-lock"))
    assert left == ["t_csv", "t_json", "t_parquet"]  # no staging or aside folders left
    eng.stop()


@pytest.mark.parametrize("kind", ["local", "hadoop_folder"])
def test_an_overwrite_killed_mid_swap_is_put_back_before_spark_reads(spark, tmp_path, kind):
    """What a run killed between the swap's two renames leaves (the previous output aside, the
    new one staged, no output) is repaired by the next run before anything reads it: with the
    driver's moves for a local connection, through the session's Hadoop FS for other
    connections (abfss:// on Databricks; `hadoop_folder` reaches a folder by a `file:` URI).
    Spark Connect has no Hadoop FS in Python: it leaves the latter as it is."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig
    from odibi_dbx.engines.base import ReadSpec, WriteSpec
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame
    from tests.core.hadoop_folder import HadoopFolderConfig, HadoopFolderConnection

    if kind == "local":
        conn = LocalConnection(
            "out", LocalConnectionConfig(type="local", base_path=str(tmp_path)), tmp_path
        )
    else:
        config = HadoopFolderConfig(type="hadoop_folder", base_path=str(tmp_path))
        conn = HadoopFolderConnection("out", config, tmp_path)

    def leave(name: str, rows: int) -> None:
        (tmp_path / name).mkdir()
        pq.write_table(pa.table({"id": list(range(rows))}), tmp_path / name / "part-0.parquet")

    def leftovers() -> list[str]:
        return sorted(p.name for p in tmp_path.iterdir() if ".odibi-" in p.name)

    leave(".orders.odibi-old-r0-abc123", 3)
    leave(".orders.odibi-tmp-r0-abc123", 1)
    eng = SparkEngine(spark=spark)
    eng.start()
    try:
        done = eng.repair_outputs([(conn, "orders")], "run start")
        if kind == "hadoop_folder" and is_connect(spark):
            assert done == [] and len(leftovers()) == 2
            return
        target = conn.uri("orders")
        assert done == [
            f"{target}: restored the previous output from an interrupted overwrite "
            "(.orders.odibi-old-r0-abc123)",
            f"{target}: removed .orders.odibi-tmp-r0-abc123 left by an earlier run",
        ]
        assert [n for n in leftovers() if "lock" not in n] == []
        read = ReadSpec(node="r", connection=conn, format="parquet", path="orders")
        assert eng.read(read).df.count() == 3  # the whole previous output
        # a completed swap's aside copy and a dead writer's staging go before the next write
        leave(".orders.odibi-old-r1-def456", 3)
        leave(".orders.odibi-tmp-r2-0a1b2c", 1)
        spec = WriteSpec(node="w", connection=conn, format="parquet", path="orders", run_id="r3")
        eng.write(SparkFrame(spark.range(5)), spec)
        assert [n for n in leftovers() if "lock" not in n] == []
        assert eng.read(read).df.count() == 5
    finally:
        eng.stop()


class JobsPerNode:
    """A run listener: Spark jobs started while each node ran (nodes run one after another)."""

    def __init__(self, counter):
        self.counter, self.jobs = counter, {}

    def node_started(self, run, pipeline, node):
        self.counter.take()

    def node_finished(self, run, result):
        self.jobs[result.name] = self.counter.take()

    def __getattr__(self, name):  # every other event: nothing
        return lambda *a, **k: None


def test_story_adds_no_spark_job(spark, tmp_path, job_counter):
    """read -> transform -> write: the write node runs exactly the jobs the same hand-written
    PySpark write runs; read and transform nodes run none. Rows and sample still reach the story."""
    from odibi_dbx import Project

    path = project(
        tmp_path,
        f"""\
        - name: orders
          read: {{connection: data, path: orders.csv, format: csv, schema: "{SCHEMA}"}}
        - name: clean
          depends_on: [orders]
          transform:
            steps:
              - "SELECT order_id, customer_id, amount * 2 AS amount2 FROM orders WHERE amount > 0"
              - "SELECT customer_id, count(*) AS n, sum(amount2) AS total FROM this
                 GROUP BY customer_id"
        - name: save
          depends_on: [clean]
          write: {{connection: out, path: clean, format: parquet, mode: overwrite}}
        """,
        more=textwrap.dedent(f"""\
          - pipeline: q
            nodes:
              - name: orders2
                depends_on: [p.save]  # one node at a time: jobs are counted per node
                read: {{connection: data, path: orders.csv, format: csv, schema: "{SCHEMA}"}}
              - name: save_delta
                depends_on: [orders2]
                write: {{connection: out, path: orders_delta, format: delta, mode: overwrite}}
          """),
    )
    expected = {}
    for fmt, name in (("parquet", "save"), ("delta", "save_delta")):
        src = str(tmp_path / "data" / "orders.csv")
        df = spark.read.schema(SCHEMA).option("header", True).csv(src)
        if fmt == "parquet":
            df = (
                df.where("amount > 0")
                .selectExpr("customer_id", "amount * 2 AS amount2")
                .groupBy("customer_id")
                .agg({"*": "count", "amount2": "sum"})
            )
        job_counter.take()
        df.write.format(fmt).mode("overwrite").save(str(tmp_path / f"baseline_{fmt}"))
        expected[name] = job_counter.take()
    jobs = JobsPerNode(job_counter)
    with Project.load(path, engine="spark") as p:
        res = p.run(listeners=[jobs])
    assert res.ok, [n.error_message for n in res.nodes]
    if job_counter.available:
        assert jobs.jobs == {
            "orders": 0,
            "clean": 0,
            "save": expected["save"],
            "orders2": 0,
            "save_delta": expected["save_delta"],
        }
    save = res.node("save")
    assert save.rows_out == 3 and len(save.sample) == 3
    assert set(save.sample[0]) == {"customer_id", "n", "total"}
    assert res.node("save_delta").rows_out == 40
    assert len(res.node("save_delta").sample) == 5
    print("jobs per node:", jobs.jobs)


def test_cached_when_read_twice_and_validation(spark, tmp_path, job_counter):
    from odibi_dbx import Project

    path = project(
        tmp_path,
        f"""\
        - name: orders
          read: {{connection: data, path: orders.csv, format: csv, schema: "{SCHEMA}"}}
          validation: {{not_empty: true, no_nulls: [order_id], unique: [order_id]}}
        - name: a
          depends_on: [orders]
          transform: {{steps: ["SELECT * FROM orders WHERE amount > 0"]}}
          write: {{connection: out, path: a, format: parquet}}
        - name: b
          depends_on: [orders]
          transform: {{steps: ["SELECT * FROM orders WHERE amount <= 0"]}}
          write: {{connection: out, path: b, format: json}}
        """,
    )
    with Project.load(path, engine="spark", keep_outputs=False) as p:
        res = p.run()
        assert res.ok, [n.error_message for n in res.nodes]
        assert res.node("orders").rows_out == 40
        assert [c.passed for c in res.node("orders").validation] == [True, True, True]
        assert res.node("a").rows_out + res.node("b").rows_out == 40
        # every node's output was released after its last use
        assert not p.engine._cached


def test_later_readers_read_the_parquet_a_write_only_node_wrote(spark, tmp_path, monkeypatch):
    """An output that a write-only node writes as Parquet and another node reads too is not
    cached: the reader runs after the write and reads the folder written (the hand-written
    job's way); results, rows and sample are as before. Where the write fails, the reader still
    runs, from the output's plan."""
    from odibi_dbx import Project
    from odibi_dbx.engines.spark import SparkEngine

    nodes = f"""\
        - name: orders
          read: {{connection: data, path: orders.csv, format: csv, schema: "{SCHEMA}"}}
        - name: clean
          depends_on: [orders]
          transform: {{steps: ["SELECT *, amount * 2 AS amount2 FROM orders WHERE amount > 0"]}}
        - name: save_clean
          depends_on: [clean]
          write: {{connection: out, path: clean, format: parquet}}
        - name: totals
          depends_on: [clean]
          transform:
            steps: ["SELECT customer_id, count(*) AS n, sum(amount2) AS total FROM clean
                     GROUP BY customer_id"]
          write: {{connection: out, path: totals, format: parquet}}
        """
    plans: dict[str, str] = {}
    write = SparkEngine._write

    def recorded(self, frame, spec):
        plans[spec.node] = plan_text(frame.df)
        return write(self, frame, spec)

    monkeypatch.setattr(SparkEngine, "_write", recorded)
    path = project(tmp_path, nodes)
    with Project.load(path, engine="spark", keep_outputs=False) as p:
        res = p.run()
        assert res.ok, [n.error_message for n in res.nodes]
        assert not p.engine._cached
    save, totals = res.node("save_clean"), res.node("totals")
    assert totals.started >= save.ended  # ordered after the write
    assert "InMemoryTableScan" not in plans["totals"] + plans["save_clean"]
    assert "FileScan parquet" in plans["totals"] and "FileScan csv" not in plans["totals"]
    assert save.rows_out == 35 and len(save.sample) == 5 and totals.rows_out == 3
    got = {r["customer_id"]: (r["n"], r["total"]) for r in totals.sample}
    rows = [line.split(",") for line in ORDERS.splitlines()[1:]]
    want: dict[int, tuple[int, float]] = {}
    for _, cust, amount, _ in rows:
        if float(amount) > 0:
            n, total = want.get(int(cust), (0, 0.0))
            want[int(cust)] = (n + 1, total + float(amount) * 2)
    assert got == want

    # the write fails: the reader computes the output from its plan
    from odibi_dbx.engines import spark_io

    def failing(engine, frame, spec):
        if spec.node == "save_clean":
            raise OSError("disk full")
        return io_write(engine, frame, spec)

    io_write = spark_io.write
    monkeypatch.setattr(spark_io, "write", failing)
    plans.clear()
    (tmp_path / "fail").mkdir()
    path = project(tmp_path / "fail", nodes)
    with Project.load(path, engine="spark", keep_outputs=False) as p:
        res = p.run()
    assert res.node("save_clean").status == "failed"
    assert res.node("totals").status == "success" and res.node("totals").rows_out == 3
    assert "FileScan csv" in plans["totals"]


def test_catalog_tables_overwrite_append_merge(spark, tmp_path):
    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig
    from odibi_dbx.engines.base import ReadSpec, WriteSpec
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame

    conn = LocalConnection(
        "c", LocalConnectionConfig(type="local", base_path=str(tmp_path)), tmp_path
    )
    eng = SparkEngine(spark=spark)
    eng.start()
    spark.sql("DROP TABLE IF EXISTS default.odibi_t")

    def write(sql: str, mode: str, evolution: str = "strict"):
        spec = WriteSpec(
            node="w",
            connection=conn,
            format="delta",
            mode=mode,
            table="default.odibi_t",
            merge_keys=("id",),
            schema_evolution=evolution,
        )
        return eng.write(SparkFrame(spark.sql(sql)), spec)

    assert write("SELECT id, 'a' AS v FROM range(3)", "overwrite").rows == 3
    assert write("SELECT 3L AS id", "append", "add_columns").rows == 1  # v missing: NULL
    res = write("SELECT id, 'm' AS v FROM range(2, 5)", "merge")
    assert res.rows == 3 and res.metrics["num_inserted_rows"] == 1
    frame = eng.read(ReadSpec(node="r", connection=conn, format="delta", table="default.odibi_t"))
    got = sorted(tuple(r) for r in frame.df.collect())
    assert got == [(0, "a"), (1, "a"), (2, "m"), (3, "m"), (4, "m")]
    spark.sql("DROP TABLE default.odibi_t")
    eng.stop()
