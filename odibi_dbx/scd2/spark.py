"""SCD type 2 on the Spark engine: staged with Spark SQL, one `MERGE INTO` (SQL, so Spark
Connect runs it too)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from odibi_dbx.engines import quote, spark_metrics
from odibi_dbx.engines.base import WriteResult
from odibi_dbx.scd2.plan import (
    EMPTY_SNAPSHOT,
    IS_CURRENT,
    SCD_COLUMNS,
    VALID_FROM,
    VALID_TO,
    Scd2Plan,
    duplicate_key,
)

if TYPE_CHECKING:
    from odibi_dbx.engines.base import WriteSpec
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame

_ids = itertools.count(1)


def write(engine: SparkEngine, frame: SparkFrame, spec: WriteSpec) -> WriteResult:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from odibi_dbx.engines import spark_io
    from odibi_dbx.engines.spark import SparkFrame

    spark = engine.spark
    df = frame.df
    plan = Scd2Plan.build(spec.merge_keys, spec.scd2, df.columns)
    _refuse_duplicate_keys(df, plan)
    schema = spark_io._delta_schema(engine, spec)
    if schema is None:  # a new table: every row is the current version
        vf_type = df.schema[plan.valid_from].dataType
        first = (
            df.withColumn(VALID_FROM, spark_metrics.column(plan.valid_from))
            .withColumn(VALID_TO, F.lit(None).cast(vf_type))
            .withColumn(IS_CURRENT, F.lit(True))
        )
        out = spark_io.write(engine, SparkFrame(first), replace(spec, mode="overwrite"))
        return WriteResult(out.target, out.rows, {"mode": "scd2", "num_inserted_rows": out.rows})

    from odibi_dbx.engines import delta_evolution

    delta_evolution.spark_check(df, schema, spec, exclude=SCD_COLUMNS)
    data = T.StructType([f for f in schema.fields if f.name not in SCD_COLUMNS])
    add_columns = spec.schema_evolution == "add_columns"
    df = spark_io.cast_to_schema(df, data, spec.target, add_columns)
    plan = Scd2Plan.build(spec.merge_keys, spec.scd2, df.columns, data.fieldNames())
    if plan.close_missing and df.isEmpty():
        raise ValueError(EMPTY_SNAPSHOT)
    ref = spec.table or f"delta.{quote.spark(spark_io.spark_uri(spec))}"
    tag = next(_ids)
    src, cur, staged = (f"odibi_scd2_{n}_{tag}" for n in ("src", "cur", "staged"))
    df.createOrReplaceTempView(src)
    try:
        spark.sql(plan.current_sql(ref, quote.spark)).createOrReplaceTempView(cur)
        spark.sql(plan.staged_sql(src, cur, quote.spark)).createOrReplaceTempView(staged)
        vf_sql = schema[VALID_FROM].dataType.simpleString()
        sql = _merge_sql(plan, ref, staged, f"CAST(NULL AS {vf_sql})")
        with spark_io.commit_settings(engine, spec):
            result = spark.sql(sql).first()
    finally:
        for view in (staged, cur, src):
            engine._drop_view(view)
    metrics: dict[str, Any] = {"mode": "scd2"}
    if result is not None:
        metrics.update({k: int(v) for k, v in result.asDict().items() if v is not None})
    rows = metrics.get("num_updated_rows", 0) + metrics.get("num_inserted_rows", 0)
    return WriteResult(spec.target, rows, metrics)


def _merge_sql(plan: Scd2Plan, ref: str, staged: str, null_vt: str) -> str:
    def assign(pairs: dict[str, str]) -> str:
        return ", ".join(f"{k} = {v}" for k, v in pairs.items())

    insert = plan.insert_values(null_vt)
    parts = [
        f"MERGE INTO {ref} t USING {staged} s ON {plan.condition}",
        f"WHEN MATCHED AND ({plan.closes}) THEN UPDATE SET {assign(plan.close_set())}",
    ]
    if plan.untracked:
        parts.append(
            f"WHEN MATCHED AND {plan.updates} THEN UPDATE SET {assign(plan.untracked_set())}"
        )
    parts.append(
        f"WHEN NOT MATCHED AND {plan.inserts} "
        f"THEN INSERT ({', '.join(insert)}) VALUES ({', '.join(insert.values())})"
    )
    return "\n".join(parts)


def _refuse_duplicate_keys(df: Any, plan: Scd2Plan) -> None:
    from odibi_dbx.engines.spark_io import repeated_keys

    dup = repeated_keys(df, plan.keys, 1)
    if dup:
        raise duplicate_key(plan.keys, dup[0])
