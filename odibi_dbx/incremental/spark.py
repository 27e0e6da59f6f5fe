"""Incremental reads on the Spark engine: Delta history through SQL (`DESCRIBE HISTORY`, which
Spark Connect runs too), the change data feed through `readChangeFeed`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from odibi_dbx.engines import quote, spark_metrics
from odibi_dbx.incremental.watermark import Watermark, from_epoch_micros, spark_literal

if TYPE_CHECKING:
    from odibi_dbx.engines.base import ReadSpec, WriteSpec
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame

CDF_COLUMNS = ("_change_type", "_commit_version")


def _delta_ref(engine: SparkEngine, spec: ReadSpec | WriteSpec) -> str | None:
    """`name` or delta.`path` for SQL; None when there is no Delta table there. SQL only, no
    `DeltaTable` handle: a Spark Connect server without Delta's Connect plugin refuses those."""
    from odibi_dbx.engines.spark_io import _no_delta_table, spark_uri

    spark = engine.spark
    if spec.table:
        return spec.table if spark.catalog.tableExists(spec.table) else None
    ref = f"delta.{quote.spark(spark_uri(spec))}"
    try:
        spark.sql(f"DESCRIBE HISTORY {ref} LIMIT 1").collect()  # as isDeltaTable: reads the log
    except Exception as exc:
        if _no_delta_table(exc):
            return None
        raise
    return ref


def delta_history(engine: SparkEngine, spec: WriteSpec) -> list[str | None] | None:
    ref = _delta_ref(engine, spec)
    if ref is None:
        return None
    rows = engine.spark.sql(f"DESCRIBE HISTORY {ref}").select("version", "userMetadata").collect()
    return [r["userMetadata"] for r in sorted(rows, key=lambda r: -int(r["version"]))]


def keep_after(engine: SparkEngine, frame: SparkFrame, column: str, bound: Watermark) -> SparkFrame:
    """The rows past `bound`, persisted: the watermark job and the write see the same rows."""
    from odibi_dbx.engines.spark import SparkFrame

    df = frame.df
    if bound is not None:
        df = df.where(f"{quote.spark(column)} > {spark_literal(bound)}")
    out = SparkFrame(df)
    engine._persist(out)
    return out


def batch_stats(
    engine: SparkEngine, frame: SparkFrame, column: str
) -> tuple[int, Watermark | None]:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    fields = {f.name: f.dataType for f in frame.df.schema.fields}
    if column not in fields:
        raise ValueError(
            f"incremental column '{column}' is not in the source (columns: {', '.join(fields)})"
        )
    typ, col = fields[column], F.max(spark_metrics.column(column))
    if isinstance(typ, T.TimestampType) or type(typ).__name__ == "TimestampNTZType":
        kind, expr = "timestamp", F.unix_micros(col.cast("timestamp"))
    elif isinstance(typ, T.DateType):
        kind, expr = "date", col.cast("string")
    elif isinstance(typ, T.NumericType):
        kind, expr = "number", col.cast("string")
    elif isinstance(typ, T.StringType):
        kind, expr = "string", col
    else:
        raise ValueError(
            f"incremental column '{column}' has type {typ.simpleString()}; use a timestamp, date, "
            "number or string column"
        )
    got = frame.df.agg(F.count(F.lit(1)).alias("n"), expr.alias("top")).first()
    assert got is not None  # an aggregation without groups has one row
    rows, top = int(got["n"]), got["top"]
    frame.rows = rows
    if top is None:
        return rows, None
    return rows, from_epoch_micros(top) if kind == "timestamp" else Watermark(kind, str(top))


def read_change_feed(
    engine: SparkEngine, spec: ReadSpec, after_version: int | None
) -> tuple[SparkFrame, int]:
    from pyspark.sql import functions as F

    from odibi_dbx.engines import spark_io
    from odibi_dbx.engines.spark import SparkFrame

    spark = engine.spark
    ref = _delta_ref(engine, spec)
    if ref is None:
        raise FileNotFoundError(f"no Delta table at {spec.target}")
    last = spark.sql(f"DESCRIBE HISTORY {ref} LIMIT 1").first()
    assert last is not None  # a Delta table has at least its creating commit
    version = int(last["version"])
    reader = spark.read.format("delta")
    if after_version is not None and after_version < version:
        reader = (
            reader.option("readChangeFeed", "true")
            .option("startingVersion", str(after_version + 1))
            .option("endingVersion", str(version))
        )
    else:
        reader = reader.option("versionAsOf", str(version))
    df = reader.table(spec.table) if spec.table else reader.load(spark_io.spark_uri(spec))
    if after_version is None:
        df = df.withColumn("_change_type", F.lit("insert")).withColumn(
            "_commit_version", F.lit(version).cast("bigint")
        )
    elif after_version >= version:
        df = (
            df.withColumn("_change_type", F.lit(None).cast("string"))
            .withColumn("_commit_version", F.lit(None).cast("bigint"))
            .limit(0)
        )
    else:
        df = df.where("_change_type <> 'update_preimage'")
    data = [c for c in df.columns if c not in (*CDF_COLUMNS, "_commit_timestamp")]
    df = df.select(*[spark_metrics.column(c) for c in data], "_change_type", "_commit_version")
    out = SparkFrame(df)
    engine._persist(out)
    out.rows = out.df.count()  # fills the cache the write then reads
    return out, version
