"""The bench job hand-written in PySpark: the yardstick for the Spark engine.

Usage: python bench/baseline_pyspark.py --data bench/data/1000000 --out bench/out/run [--delta]
Writes <out>/silver/orders.parquet (a folder; the Delta table <out>/silver/orders with --delta)
and <out>/gold/revenue.parquet (a folder). Exits 3 with a clear message when pyspark is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path

IVY = Path(__file__).resolve().parents[1] / ".ivy2"
# Keep in step with the settings odibi_dbx's Spark engine uses for a local session.
SESSION_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.jars.ivy": str(IVY),
}
DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
ORDERS = (
    "order_id BIGINT, customer_id BIGINT, order_ts TIMESTAMP, quantity INT, "
    "unit_price DOUBLE, status STRING"
)
CUSTOMERS = "customer_id BIGINT, name STRING, region STRING"
SILVER_COLS = [
    "order_id",
    "customer_id",
    "order_ts",
    "quantity",
    "unit_price",
    "status",
    "amount",
    "region",
]


def session(delta: bool):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("odibi-bench")
    for k, v in {**SESSION_CONF, **(DELTA_CONF if delta else {})}.items():
        builder = builder.config(k, v)
    if delta:  # prefer jars already fetched into .ivy2/jars: no Ivy resolution per run
        jars = sorted(IVY.glob("jars/*.jar"))
        if any(j.name.startswith("io.delta_delta-spark") for j in jars):
            builder = builder.config("spark.jars", ",".join(map(str, jars)))
        else:
            from delta import configure_spark_with_delta_pip

            builder = configure_spark_with_delta_pip(builder)
    return builder.getOrCreate()


def run(data: Path, out: Path, delta: bool = False) -> None:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    shutil.rmtree(out, ignore_errors=True)
    spark = session(delta)
    csv = spark.read.options(header=True, timestampFormat="yyyy-MM-dd HH:mm:ss")
    orders = csv.schema(ORDERS).csv(str(data / "orders.csv"))
    customers = csv.schema(CUSTOMERS).csv(str(data / "customers.csv"))

    latest = Window.partitionBy("order_id").orderBy(F.col("order_ts").desc())
    silver = (
        orders.where("quantity > 0 AND customer_id IS NOT NULL")
        .withColumn("_rn", F.row_number().over(latest))
        .where("_rn = 1")
        .withColumn("amount", F.col("quantity") * F.col("unit_price"))
        .join(customers.select("customer_id", "region"), "customer_id")
        .select(*SILVER_COLS)
    )
    fmt, silver_path = (
        ("delta", out / "silver" / "orders")
        if delta
        else ("parquet", out / "silver" / "orders.parquet")
    )
    silver.write.format(fmt).mode("overwrite").save(str(silver_path))

    # Gold from the silver just written (the medallion way; no recomputation, no cache).
    gold = (
        spark.read.format(fmt)
        .load(str(silver_path))
        .groupBy("region", F.date_trunc("month", "order_ts").alias("month"))
        .agg(F.sum("amount").alias("revenue"), F.count("*").alias("order_count"))
        .orderBy("region", "month")
    )
    gold.coalesce(1).write.mode("overwrite").parquet(str(out / "gold" / "revenue.parquet"))
    spark.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--delta", action="store_true", help="write silver as a Delta table")
    a = ap.parse_args()
    for module, needed in (("pyspark", True), ("delta", a.delta)):
        if needed and importlib.util.find_spec(module) is None:
            print(
                f"pyspark: skipped ({module} is not installed: pip install 'odibi-dbx[spark]')",
                file=sys.stderr,
            )
            sys.exit(3)
    run(a.data, a.out, a.delta)


if __name__ == "__main__":
    main()
