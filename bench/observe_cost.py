"""What the write's observation (row count, sample, column profile) costs on Spark, apart.

Usage: python bench/observe_cost.py [--data bench/data/1000000] [--rounds 3] [--variants ...]
One JVM with the engine's local session writes the bench's silver as Parquet once per variant
and round (after a warm-up round, so JIT and codegen caches are warm), interleaved, and prints
per run the JVM's allocated memory (exact, whatever the load), the JVM's CPU and the wall time.

Variants: `plain` (no observation), `count` (the row count alone), `sample` (+ the sample),
`counts` (+ a non-null count per column), `profile` (count + the engine's profile aggregates),
`full` (what the engine observes: count, profile and sample).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


def variants() -> dict[str, Callable[[Any], tuple[Any, Any]]]:
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    from odibi_dbx.engines import spark_metrics
    from odibi_dbx.engines.profile import profiled
    from odibi_dbx.engines.spark import _columns, _profile_aggs, _text

    def counted(df: Any, *aggs: Any) -> tuple[Any, Any]:
        obs = Observation(f"bench_{time.monotonic_ns()}")
        return df.observe(obs, F.count(F.lit(1)).alias("rows"), *aggs), obs

    def profile_aggs(df: Any) -> list[Any]:
        cols = _columns(df)
        return _profile_aggs(profiled(cols, 50), _text(cols))

    return {
        "plain": lambda df: (df, None),
        "count": lambda df: counted(df),
        "sample": lambda df: spark_metrics.observe(df, []),
        "counts": lambda df: counted(df, *[F.count(F.col(f"`{c}`")) for c in df.columns]),
        "profile": lambda df: counted(df, *profile_aggs(df)),
        "full": lambda df: spark_metrics.observe(df, profile_aggs(df)),
    }


def jvm_cpu(stat: Path) -> float:
    """The JVM's user + system CPU seconds (Linux /proc)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=BENCH / "data" / "1000000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default="plain,count,sample,counts,profile,full")
    a = ap.parse_args()
    import baseline_pyspark as bp
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from odibi_dbx.engines import spark_metrics
    from odibi_dbx.engines.spark_session import local_session

    spark = local_session()
    mx = spark._jvm.java.lang.management.ManagementFactory.getThreadMXBean()
    jvm_stat = Path(f"/proc/{spark._jvm.java.lang.ProcessHandle.current().pid()}/stat")
    out = Path(tempfile.mkdtemp(prefix="odibi-observe-"))

    def silver() -> Any:
        csv = spark.read.options(header=True, timestampFormat="yyyy-MM-dd HH:mm:ss")
        orders = csv.schema(bp.ORDERS).csv(str(a.data / "orders.csv"))
        customers = csv.schema(bp.CUSTOMERS).csv(str(a.data / "customers.csv"))
        latest = Window.partitionBy("order_id").orderBy(F.col("order_ts").desc())
        return (
            orders.where("quantity > 0 AND customer_id IS NOT NULL")
            .withColumn("_rn", F.row_number().over(latest))
            .where("_rn = 1")
            .withColumn("amount", F.col("quantity") * F.col("unit_price"))
            .join(customers.select("customer_id", "region"), "customer_id")
            .select(*bp.SILVER_COLS)
        )

    chosen = {n: f for n, f in variants().items() if n in a.variants.split(",")}
    totals: dict[str, Counter] = {n: Counter() for n in chosen}
    try:
        for rnd in range(a.rounds + 1):  # round 0 warms up
            for name, observe in chosen.items():
                df, obs = observe(silver())
                mb, cpu, t = (
                    mx.getTotalThreadAllocatedBytes(),
                    jvm_cpu(jvm_stat),
                    time.time(),
                )
                df.write.mode("overwrite").parquet(str(out / "silver"))
                if obs is not None:
                    spark_metrics.observed(obs)
                if rnd:
                    totals[name]["alloc_mb"] += (mx.getTotalThreadAllocatedBytes() - mb) / 1e6
                    totals[name]["jvm_cpu"] += jvm_cpu(jvm_stat) - cpu
                    totals[name]["wall"] += time.time() - t
    finally:
        spark.stop()
        shutil.rmtree(out, ignore_errors=True)
    print(f"per run, mean of {a.rounds} rounds (load {os.getloadavg()[0]:.1f})")
    print(f"{'variant':<8} {'alloc MB':>9} {'JVM CPU s':>10} {'wall s':>7}")
    for name, t in totals.items():
        r = a.rounds
        print(f"{name:<8} {t['alloc_mb'] / r:9.0f} {t['jvm_cpu'] / r:10.2f} {t['wall'] / r:7.2f}")


if __name__ == "__main__":
    main()
