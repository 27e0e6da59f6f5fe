"""Cost of row rules (docs/data-quality.md) on the bench orders: node time with and without rules.

    .venv/bin/python bench/quality_bench.py [--rows 5000000] [--repeats 3] [--spark-rows 1000000]

The node `checked` reads the orders node's output, adds `amount` with a SQL step and writes
Delta. With rules it also checks five rules (two quarantine, one drop, two warn) and appends the
quarantined rows to a Delta quarantine. Pandas engine: the node's wall and CPU time, best and
median of `--repeats`, runs alternating (on a shared machine, CPU time is the steadier figure).
Spark engine (`--spark-rows`, 0 to skip): the Spark jobs the node runs with
and without rules, and those of a hand-written Delta append of the quarantined rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RULES = """
        validation:
          rules:
            - {name: positive_quantity, expr: "quantity > 0", on_fail: quarantine}
            - name: known_status
              expr: "status IN ('placed', 'paid', 'shipped', 'delivered', 'cancelled')"
              on_fail: quarantine
            - {name: has_customer, expr: "customer_id IS NOT NULL", on_fail: drop}
            - {name: sane_price, expr: "unit_price BETWEEN 1 AND 400", on_fail: warn}
            - {name: in_2025, expr: "order_ts >= TIMESTAMP '2025-01-01 00:00:00'", on_fail: warn}
          quarantine: {connection: out, path: quarantine/orders, format: delta}
"""

PROJECT = """
project: rules bench
connections:
  data: {{type: local, base_path: "{data}"}}
  out: {{type: local, base_path: ./out}}
story: {{connection: out, path: stories/}}
retry: {{enabled: false}}
pipelines:
  - pipeline: p
    nodes:
      - name: orders
        read:
          connection: data
          path: orders.csv
          format: csv
          schema: >-
            order_id BIGINT, customer_id BIGINT, order_ts TIMESTAMP, quantity INT,
            unit_price DOUBLE, status STRING
      - name: checked
        depends_on: [orders]
        transform: {{steps: ["SELECT *, quantity * unit_price AS amount FROM orders"]}}
        write: {{connection: out, path: silver/orders, format: delta}}
{rules}"""


def project(folder: Path, data: Path, rules: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "project.yaml"
    path.write_text(PROJECT.format(data=data, rules=RULES if rules else ""))
    return path


def data_for(rows: int, tmp: Path) -> Path:
    from bench.generate import generate

    folder = ROOT / "bench" / "data" / str(rows)
    if (folder / "orders.csv").exists():
        return folder
    return generate(rows, tmp / "data")


class NodeCpu:
    """CPU time of the process (all threads) while the node `checked` ran: it runs alone (its
    only input finished before it), so this is the node's CPU, less sensitive than wall time to
    other load on the machine."""

    def __init__(self):
        self.start = self.seconds = 0.0

    def node_started(self, run, pipeline, node):
        self.start = time.process_time()

    def node_finished(self, run, result):
        if result.name == "checked":
            self.seconds = time.process_time() - self.start

    def __getattr__(self, name):
        return lambda *a, **k: None


def node_seconds(path: Path, engine: str, listeners=()) -> tuple[float, float, object]:
    """The node's wall time and CPU time (see NodeCpu)."""
    from odibi_dbx import Project

    cpu = NodeCpu()
    with Project.load(path, engine=engine) as p:
        res = p.run(listeners=[*listeners, cpu])
    assert res.ok, [n.error_message for n in res.nodes]
    return res.node("checked").seconds, cpu.seconds, res


def pandas_bench(data: Path, tmp: Path, repeats: int) -> None:
    import statistics

    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    wall: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    for i in range(repeats):
        for rules in (False, True):
            folder = tmp / f"pandas-{rules}-{i}"
            seconds, node_cpu, res = node_seconds(project(folder, data, rules), "pandas")
            wall[rules].append(seconds)
            cpu[rules].append(node_cpu)
            print(
                f"  pandas rules={rules}: node {seconds:.2f}s, node CPU {node_cpu:.2f}s",
                flush=True,
            )

    def line(label: str, xs: dict[bool, list[float]], pick) -> str:
        a, b = pick(xs[False]), pick(xs[True])
        return f"{label} {a:.2f}s -> {b:.2f}s ({(b / a - 1) * 100:+.1f}%)"

    print(
        "pandas, without -> with 5 rules: "
        + "; ".join(
            (
                line("node best", wall, min),
                line("node median", wall, statistics.median),
                line("node CPU best", cpu, min),
                line("node CPU median", cpu, statistics.median),
            )
        )
    )
    print(f"pandas: {res.node('checked').quality}; load average after: {os.getloadavg()[0]:.1f}")


class Jobs:
    """Spark jobs started while the node `checked` ran."""

    def __init__(self, spark):
        self.tracker = spark.sparkContext.statusTracker()
        self.seen: set[int] = set()
        self.jobs = 0

    def _take(self) -> int:
        now = set(self.tracker.getJobIdsForGroup(None))
        new, self.seen = now - self.seen, now
        return len(new)

    def node_started(self, run, pipeline, node):
        self._take()

    def node_finished(self, run, result):
        n = self._take()
        if result.name == "checked":
            self.jobs = n

    def __getattr__(self, name):
        return lambda *a, **k: None


def spark_bench(data: Path, tmp: Path) -> None:
    from odibi_dbx.runtime import get_spark

    spark = get_spark("UTC")
    jobs = {}
    for rules in (False, True):
        counter = Jobs(spark)
        seconds, _, _ = node_seconds(
            project(tmp / f"spark-{rules}", data, rules), "spark", [counter]
        )
        jobs[rules] = counter.jobs
        print(
            f"  spark rules={rules}: checked node {seconds:.2f}s, {counter.jobs} jobs", flush=True
        )
    schema = (
        "order_id BIGINT, customer_id BIGINT, order_ts TIMESTAMP, quantity INT, "
        "unit_price DOUBLE, status STRING"
    )
    df = spark.read.schema(schema).option("header", True).csv(str(data / "orders.csv"))
    counter = Jobs(spark)
    counter._take()
    df.where("NOT coalesce(quantity > 0, false)").write.format("delta").save(str(tmp / "q"))
    q_jobs = counter._take()
    extra = jobs[True] - jobs[False] - q_jobs
    print(
        f"spark: node without rules {jobs[False]} jobs, with 5 rules {jobs[True]} jobs; "
        f"a hand-written Delta append of the quarantined rows {q_jobs} jobs; "
        f"jobs beyond the quarantine write: {extra}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--spark-rows", type=int, default=1_000_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="odibi-rules-bench-") as t:
        tmp = Path(t)
        t0 = time.perf_counter()
        data = data_for(a.rows, tmp)
        print(f"data: {data} ({time.perf_counter() - t0:.1f}s)", flush=True)
        pandas_bench(data, tmp, a.repeats)
        if a.spark_rows:
            spark_bench(data_for(a.spark_rows, tmp), tmp)


if __name__ == "__main__":
    main()
