"""Run one query on Spark and (translated) on DuckDB over the fixtures and compare.

Values are normalised to plain Python (datetimes as naive UTC, rows as dicts) and types are
compared through a Spark -> DuckDB type-name mapping.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from sql_fixtures import TABLES

# the queries every translation test runs on both engines
CORPUS = yaml.safe_load((Path(__file__).with_name("corpus.yaml")).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- types
def spark_to_duckdb_type(dt: Any) -> str:
    from pyspark.sql import types as T

    simple = {
        T.IntegerType: "INTEGER",
        T.LongType: "BIGINT",
        T.ShortType: "SMALLINT",
        T.ByteType: "TINYINT",
        T.DoubleType: "DOUBLE",
        T.FloatType: "FLOAT",
        T.StringType: "VARCHAR",
        T.BooleanType: "BOOLEAN",
        T.DateType: "DATE",
        T.TimestampType: "TIMESTAMP WITH TIME ZONE",
        T.TimestampNTZType: "TIMESTAMP",
        T.BinaryType: "BLOB",
        T.NullType: '"NULL"',
    }
    for cls, name in simple.items():
        if isinstance(dt, cls):
            return name
    if isinstance(dt, T.DecimalType):
        return f"DECIMAL({dt.precision},{dt.scale})"
    if isinstance(dt, T.ArrayType):
        return spark_to_duckdb_type(dt.elementType) + "[]"
    if isinstance(dt, T.MapType):
        k, v = spark_to_duckdb_type(dt.keyType), spark_to_duckdb_type(dt.valueType)
        return f"MAP({k}, {v})"
    if isinstance(dt, T.StructType):
        fields = ", ".join(f"{_q(f.name)} {spark_to_duckdb_type(f.dataType)}" for f in dt.fields)
        return f"STRUCT({fields})"
    return dt.simpleString().upper()


def _q(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def spark_to_arrow_type(dt: Any) -> pa.DataType:
    from pyspark.sql import types as T

    simple = {
        T.IntegerType: pa.int32(),
        T.LongType: pa.int64(),
        T.DoubleType: pa.float64(),
        T.StringType: pa.string(),
        T.BooleanType: pa.bool_(),
        T.DateType: pa.date32(),
        T.TimestampType: pa.timestamp("us", tz="UTC"),
    }
    for cls, t in simple.items():
        if isinstance(dt, cls):
            return t
    if isinstance(dt, T.DecimalType):
        return pa.decimal128(dt.precision, dt.scale)
    if isinstance(dt, T.ArrayType):
        return pa.list_(spark_to_arrow_type(dt.elementType))
    if isinstance(dt, T.MapType):
        return pa.map_(spark_to_arrow_type(dt.keyType), spark_to_arrow_type(dt.valueType))
    raise TypeError(f"no arrow type for {dt}")


# ---------------------------------------------------------------- loading
def load_spark(spark: Any) -> dict[str, Any]:
    """Register every fixture as a temp view; return the Spark schemas by table name."""
    schemas = {}
    for name, (ddl, rows) in TABLES.items():
        df = spark.createDataFrame(rows, schema=ddl)
        df.createOrReplaceTempView(name)
        schemas[name] = df.schema
    return schemas


def load_duckdb(con: Any, schemas: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Register each fixture as an Arrow table typed like Spark's; return column types."""
    types: dict[str, dict[str, str]] = {}
    for name, (_, rows) in TABLES.items():
        schema = schemas[name]
        arrays = []
        for i, f in enumerate(schema.fields):
            t = spark_to_arrow_type(f.dataType)
            vals = [r[i] for r in rows]
            if pa.types.is_map(t):
                vals = [None if v is None else list(v.items()) for v in vals]
            arrays.append(pa.array(vals, type=t))
        con.register(name, pa.Table.from_arrays(arrays, names=[f.name for f in schema.fields]))
        types[name] = {f.name: f.dataType.simpleString() for f in schema.fields}
    return types


# ---------------------------------------------------------------- values
def norm(v: Any, local_naive: bool = False) -> Any:
    """Plain Python values; datetimes become naive UTC.

    PySpark returns TIMESTAMP values as naive datetimes in the process's local time zone
    (`local_naive=True`); DuckDB returns TIMESTAMPTZ values as aware datetimes.
    """
    from pyspark.sql import Row

    if isinstance(v, Row):
        return {k: norm(x, local_naive) for k, x in v.asDict(recursive=False).items()}
    if isinstance(v, dict):
        return {norm(k, local_naive): norm(x, local_naive) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [norm(x, local_naive) for x in v]
    if isinstance(v, datetime) and (v.tzinfo is not None or local_naive):
        return v.astimezone(timezone.utc).replace(tzinfo=None)
    return v


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or math.isclose(a, b, rel_tol=1e-9)
    if type(a) is not type(b) and not (isinstance(a, Decimal) and isinstance(b, Decimal)):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _key(row: list[Any]) -> str:
    return repr(row)


def is_ordered(sql: str) -> bool:
    """True when the outermost query has an ORDER BY (rows then compare in order)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="databricks")
    return isinstance(tree, exp.Query) and tree.args.get("order") is not None


def compare(spark_rows: list[list[Any]], duck_rows: list[list[Any]], ordered: bool) -> str | None:
    """None when equal, else a short description of the first difference."""
    if len(spark_rows) != len(duck_rows):
        return f"row count spark={len(spark_rows)} duckdb={len(duck_rows)}"
    if not ordered:
        spark_rows, duck_rows = sorted(spark_rows, key=_key), sorted(duck_rows, key=_key)
    for s, d in zip(spark_rows, duck_rows, strict=True):
        if not same(s, d):
            return f"spark={s!r}\nduckdb={d!r}"
    return None


def run_spark(spark: Any, sql: str) -> tuple[list[str], list[list[Any]]]:
    df = spark.sql(sql)
    types = [spark_to_duckdb_type(f.dataType) for f in df.schema.fields]
    return types, [[norm(v, local_naive=True) for v in row] for row in df.collect()]


def run_duckdb(con: Any, sql: str) -> tuple[list[str], list[list[Any]]]:
    rel = con.sql(sql)
    types = [str(t) for t in rel.types]
    return types, [[norm(v) for v in row] for row in rel.fetchall()]
