"""Reads and writes for the Spark engine, with the Pandas engine's defaults and guarantees.

- csv: header and inferSchema on unless given; a `schema:` DDL wins. json: line-delimited.
- csv/parquet/json outputs are folders of part files; overwrite writes a staging sibling and
  swaps it in where a file system can rename (spark_swap.py), so a failed write leaves the
  previous output as it was; append stages too and moves the new files in only when they read
  back with the output's columns and types (`schema_check`; classic compute, through the
  Hadoop FS). Delta gives the same through its log. A failure carries what is known of the
  previous output (spark_swap.note), which the error message repeats.
- merge refuses merge_keys that are not output columns, and duplicate keys in the source; it
  runs as SQL `MERGE INTO` (classic and Spark Connect alike), metrics from its result rows or
  the commit in DESCRIBE HISTORY. Row counts of other writes ride on the write's own job
  (spark_metrics.py).
- Delta append/merge cast to the table's schema and reject unknown columns, like
  `delta_features.cast_to_table` on the Pandas engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from odibi_dbx.engines import quote, spark_metrics
from odibi_dbx.engines import spark_swap as swap
from odibi_dbx.engines.base import ReadSpec, WriteResult, WriteSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, DataFrameWriter
    from pyspark.sql.types import StructType

    from odibi_dbx.connections.base import Connection
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame


def _opts(options: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in options.items()}


def read(engine: SparkEngine, spec: ReadSpec) -> DataFrame:
    spark = engine.spark
    opts = _opts(spec.options)
    lower = {k.lower() for k in opts}
    reader = spark.read
    if spec.format == "csv":
        if "header" not in lower:
            opts["header"] = "true"
        if "inferschema" not in lower and not spec.schema:
            opts["inferSchema"] = "true"
    if spec.format == "delta" and spec.version is not None:
        opts["versionAsOf"] = str(spec.version)
    if spec.schema and spec.format != "delta":
        reader = reader.schema(spec.schema)
    reader = reader.format(spec.format).options(**opts)
    if spec.table:
        return reader.table(spec.table)
    return reader.load(spark_uri(spec))


# --- writes ------------------------------------------------------------------------------------


RIDES = ("overwrite", "append")  # write modes whose job observes its rows (a Ride can join)


def write(engine: SparkEngine, frame: SparkFrame, spec: WriteSpec) -> WriteResult:
    # the rules' counts ride on the node's own write (once): it reads all the rules' rows
    ride = frame.ride if spec.mode in RIDES and frame.write_observes else None
    df = frame.df if ride is None else ride.rows
    hidden = ride.hidden if ride else ()
    if spec.mode == "scd2":
        from odibi_dbx.scd2 import spark as scd2

        return scd2.write(engine, frame, spec)
    if spec.mode == "merge":
        check_merge_source(df, spec)
    if spec.format == "delta" and spec.mode in ("append", "merge"):
        schema = _delta_schema(engine, spec)
        if schema is not None:
            from odibi_dbx.engines import delta_evolution

            delta_evolution.spark_check(df.drop(*hidden) if hidden else df, schema, spec)
            add = spec.schema_evolution == "add_columns"
            df = cast_to_schema(df, schema, spec.target, add, keep=hidden)
            if spec.mode == "merge":
                return _merge(engine, df, spec, schema.fieldNames())
    if frame.write_observes:
        observed, done = engine.observed(df, frame.profile_columns, ride)
    else:  # rows from the commit (Delta), no sample
        observed, done = df, lambda frame: None
    writer = observed.write.format(spec.format).options(**_write_opts(spec))
    if spec.partition_by:
        writer = writer.partitionBy(*spec.partition_by)
    mode = "append" if spec.mode == "append" else "overwrite"
    uri = spark_uri(spec)
    try:
        if spec.table:
            # a table's first write is a CREATE TABLE AS SELECT, whose commit drops the
            # writer's userMetadata option: the session setting carries the state there too
            with commit_settings(engine, spec):
                writer.mode(mode).saveAsTable(spec.table)
        elif spec.format == "delta":
            writer.mode(mode).save(uri)
        elif mode == "append":
            _append_checked(engine, writer, spec, observed)
        else:
            swap.overwrite(engine.spark, writer, uri, spec.connection.uri(spec.path or ""), spec)
    except Exception as exc:
        swap.note(exc, _kept_on_failure(spec))
        raise
    return _written(engine, frame, spec, done)


def spark_uri(spec: ReadSpec | WriteSpec) -> str:
    return uri_of(spec.connection, spec.path or "")


def uri_of(connection: Connection, path: str) -> str:
    """Where Spark finds the path. A local connection names driver files; Spark on Databricks
    resolves a bare path against DBFS, so there `/Volumes/...` stays, `/dbfs/x` becomes
    `dbfs:/x` and any other driver path (`/Workspace/...`) `file:/...`."""
    from odibi_dbx.runtime import on_databricks

    uri = connection.uri(path)
    if not (connection.is_local and on_databricks()):
        return uri
    if uri == "/Volumes" or uri.startswith("/Volumes/"):
        return uri
    if uri == "/dbfs" or uri.startswith("/dbfs/"):
        return "dbfs:" + (uri[len("/dbfs") :] or "/")
    return "file:" + uri


def _kept_on_failure(spec: WriteSpec) -> str | None:
    """What a failed write of this kind is known to leave behind (before any finer note)."""
    if spec.format == "delta":
        return "the previous output was left as it was (a Delta commit is all or nothing)"
    if spec.mode == "append" and not spec.table:
        return "the previous files were kept (an append adds its files when its job commits)"
    return None


def _written(
    engine: SparkEngine,
    frame: SparkFrame,
    spec: WriteSpec,
    done: Callable[[SparkFrame], int | None],
) -> WriteResult:
    """The write succeeded: row count and sample from its own job's observation, else (Delta)
    from the commit just made; never an error from here on."""
    done(frame)
    frame.ride = None  # counted: a write-only node after this one writes the kept rows as they are
    # a frame carrying its own observation is counted by it (DESCRIBE HISTORY would cost a job
    # on Spark Connect, which runs Delta's history read as one)
    if frame.rows is None and spec.format == "delta" and frame.write_observes:
        ident = spark_metrics.delta_ident(spec.table, spark_uri(spec))
        commit = spark_metrics.last_commit(engine.spark, ident)
        if commit and "numOutputRows" in commit["metrics"]:
            frame.rows = commit["metrics"]["numOutputRows"]
    return WriteResult(spec.target, frame.rows, {"mode": spec.mode})


def _write_opts(spec: WriteSpec) -> dict[str, str]:
    opts = _opts(spec.options)
    lower = {k.lower() for k in opts}
    if spec.format == "csv" and "header" not in lower:
        opts["header"] = "true"
    if spec.format == "delta" and spec.mode == "overwrite" and "overwriteschema" not in lower:
        opts["overwriteSchema"] = "true"  # as the Pandas engine: overwrite replaces the schema
    if spec.format == "delta" and spec.mode == "append" and spec.schema_evolution == "add_columns":
        opts["mergeSchema"] = "true"
    if spec.commit_metadata and (spec.format == "delta" or spec.table):
        opts["userMetadata"] = spec.commit_metadata  # incremental state, in the same commit
    return opts


def _hadoop(engine: SparkEngine, spec: WriteSpec) -> tuple[Any, Any, Any]:
    """(Path class, file system, target path) for the write's target (py4j handles)."""
    jvm = engine.spark._jvm
    assert jvm is not None  # classic Spark: the caller checked
    path_cls = jvm.org.apache.hadoop.fs.Path
    target = path_cls(spark_uri(spec))
    return path_cls, target.getFileSystem(engine.spark._jsc.hadoopConfiguration()), target


def _append_checked(
    engine: SparkEngine, writer: DataFrameWriter, spec: WriteSpec, df: DataFrame
) -> None:
    """Append to a csv/parquet/json output only when the new files read back with the output's
    columns and types (as Delta refuses a schema change): stage, compare, then move the files in.
    Spark Connect has no Hadoop file system in Python: there the frame's own columns are compared
    with the output's before a plain append."""
    if getattr(engine.spark, "_jvm", None) is None:
        uri = spark_uri(spec)
        existing = _existing_columns(engine, spec, uri)
        if existing is not None:
            _check_append_schema(
                spec, [(f.name, f.dataType.simpleString()) for f in df.schema.fields], existing
            )
        writer.mode("append").save(uri)
        return
    path_cls, fs, target = _hadoop(engine, spec)
    if not fs.exists(target):
        writer.mode("append").save(target.toString())
        return
    staging = path_cls(target.getParent(), f".{target.getName()}.odibi-tmp-{_tag(spec)}")
    try:
        writer.mode("overwrite").save(staging.toString())
        _check_append_schema(
            spec,
            _read_columns(engine, spec, staging.toString()),
            _read_columns(engine, spec, target.toString()),
        )
        files = fs.listFiles(staging, True)
        root = len(staging.toUri().getPath().rstrip("/")) + 1
        while files.hasNext():
            src = files.next().getPath()
            rel = src.toUri().getPath()[root:]
            if any(part.startswith((".", "_")) for part in rel.split("/")):
                continue
            dest = path_cls(target, rel)
            fs.mkdirs(dest.getParent())
            if not fs.rename(src, dest):
                raise OSError(f"cannot move {src.toString()} into {target.toString()}")
    finally:
        if fs.exists(staging):
            fs.delete(staging, True)


def _read_columns(engine: SparkEngine, spec: WriteSpec, path: str) -> list[tuple[str, str]]:
    """The columns a reader sees at `path`, read with the write's csv options."""
    opts = {
        k: v for k, v in _write_opts(spec).items() if k.lower() in ("header", "sep", "delimiter")
    }
    if spec.format == "csv":
        opts["inferSchema"] = "true"
    schema = engine.spark.read.format(spec.format).options(**opts).load(path).schema
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


def _existing_columns(
    engine: SparkEngine, spec: WriteSpec, uri: str
) -> list[tuple[str, str]] | None:
    try:
        return _read_columns(engine, spec, uri)
    except Exception as exc:  # no output yet: nothing to compare with
        if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in str(exc):
            return None
        raise


def _check_append_schema(
    spec: WriteSpec, incoming: list[tuple[str, str]], existing: list[tuple[str, str]]
) -> None:
    from odibi_dbx.engines.schema_check import check_compatible

    # strict even under schema_evolution: add_columns: readers of a folder of part files take
    # one file's columns, so an added column would be hidden (Delta outputs evolve instead)
    check_compatible(
        existing,
        incoming,
        target_name=spec.target,
        ordered=spec.format == "csv",
        ignore_types=spec.partition_by,
    )


def check_merge_source(df: DataFrame, spec: WriteSpec) -> None:
    """merge_keys are output columns and identify one source row each (also on the first merge,
    which creates the table)."""
    from odibi_dbx.engines import schema_check

    schema_check.check_merge_keys(spec.merge_keys, df.columns, spec.target)
    dups = repeated_keys(df, spec.merge_keys, 3)
    if dups:
        raise schema_check.duplicate_keys_error(spec.merge_keys, dups, spec.target)


def repeated_keys(df: DataFrame, keys: Sequence[str], limit: int) -> list[tuple]:
    """Up to `limit` values of `keys` that more than one row holds, the most repeated first:
    each the key's values, then its row count (a merge's and an SCD2's source check). The
    count takes a name no key has (groupBy().count() would call it `count`)."""
    from pyspark.sql import functions as F

    cols = [spark_metrics.column(k) for k in keys]
    n = spark_metrics.fresh_name("rows", keys)
    return [
        tuple(r)
        for r in df.groupBy(*cols)
        .agg(F.count(F.lit(1)).alias(n))
        .where(F.col(n) > 1)
        .orderBy(F.col(n).desc(), *cols)
        .limit(limit)
        .collect()
    ]


def _tag(spec: WriteSpec) -> str:
    return f"{spec.run_id}-{uuid.uuid4().hex[:6]}"


# --- Delta -------------------------------------------------------------------------------------


def _delta_schema(engine: SparkEngine, spec: WriteSpec) -> StructType | None:
    """The existing table's schema, or None when there is no table yet (SQL and the reader
    only: no DeltaTable handle, which Spark Connect lacks)."""
    spark = engine.spark
    if spec.table:
        return spark.table(spec.table).schema if spark.catalog.tableExists(spec.table) else None
    try:
        return spark.read.format("delta").load(spark_uri(spec)).schema
    except Exception as exc:
        if _no_delta_table(exc):
            return None
        raise


def _no_delta_table(exc: Exception) -> bool:
    text = str(exc)
    return any(
        s in text
        for s in (
            "is not a Delta table",
            "DELTA_MISSING_DELTA_TABLE",
            "DELTA_TABLE_NOT_FOUND",
            "DELTA_PATH_DOES_NOT_EXIST",
            "PATH_NOT_FOUND",
            "Path does not exist",
            "doesn't exist",
        )
    )


def cast_to_schema(
    df: DataFrame,
    schema: StructType,
    target: str,
    add_columns: bool = False,
    keep: Sequence[str] = (),
) -> DataFrame:
    """Columns in the table's order and types; missing nullable ones become NULL;
    `add_columns`: new columns are kept, after the table's (the write adds them);
    `keep`: columns kept as they are, last (not written: a Ride's hidden ones)."""
    from pyspark.sql import functions as F

    have = set(df.columns)
    names = [f.name for f in schema.fields]
    extra = [c for c in df.columns if c not in {*names, *keep}]
    if extra and not add_columns:
        raise ValueError(
            f"columns {extra} are not in the Delta table's schema ({', '.join(names)}); "
            "set schema_evolution: add_columns to add them, or overwrite the table to change "
            "its schema"
        )
    cols = []
    for f in schema.fields:
        if f.name in have:
            cols.append(spark_metrics.column(f.name).cast(f.dataType).alias(f.name))
        elif f.nullable:
            cols.append(F.lit(None).cast(f.dataType).alias(f.name))
        else:
            raise ValueError(f"column '{f.name}' is missing and not nullable ({target})")
    return df.select(*cols, *[spark_metrics.column(c) for c in [*extra, *keep]])


@contextmanager
def commit_settings(engine: SparkEngine, spec: WriteSpec) -> Iterator[None]:
    """Session settings a MERGE commit needs (its userMetadata; schema evolution where the
    merge builder cannot say it), held under the engine's lock: they are session-wide."""
    conf: dict[str, str] = {}
    if spec.commit_metadata:
        conf["spark.databricks.delta.commitInfo.userMetadata"] = spec.commit_metadata
    if spec.schema_evolution == "add_columns":
        conf["spark.databricks.delta.schema.autoMerge.enabled"] = "true"
    if not conf:
        yield
        return
    spark = engine.spark
    with engine._lock:
        saved = {k: spark.conf.get(k, None) for k in conf}
        for k, v in conf.items():
            spark.conf.set(k, v)
        try:
            yield
        finally:
            for k, old in saved.items():
                if old is None:
                    spark.conf.unset(k)
                else:
                    spark.conf.set(k, old)


def _merge(
    engine: SparkEngine, source: DataFrame, spec: WriteSpec, table_columns: list[str]
) -> WriteResult:
    """MERGE INTO on `merge_keys` (update all matched, insert the rest) through SQL, which
    every Spark and Spark Connect runs; metrics from its result rows or else from the commit
    in DESCRIBE HISTORY (delta-spark 3.x's Python builder returns none)."""
    if not spec.merge_keys:
        raise ValueError("mode merge needs merge_keys")
    spark = engine.spark
    view = f"odibi_merge_{uuid.uuid4().hex[:12]}"
    cond = " AND ".join(f"t.{quote.spark(k)} = s.{quote.spark(k)}" for k in spec.merge_keys)
    ident = spark_metrics.delta_ident(spec.table, spark_uri(spec))
    source.createOrReplaceTempView(view)
    try:
        with commit_settings(engine, spec):
            rows = spark.sql(
                f"MERGE INTO {ident} AS t USING {quote.spark(view)} AS s ON {cond} "
                + _merge_actions(source.columns, table_columns)
            ).collect()  # a command's result: local rows, no job
    except Exception as exc:
        swap.note(exc, _kept_on_failure(spec))
        raise
    finally:
        engine._drop_view(view)
    metrics: dict[str, Any] = {"mode": "merge"}
    got = {k: int(v) for k, v in rows[0].asDict().items() if v is not None} if rows else {}
    if "num_inserted_rows" not in got:
        got = spark_metrics.merge_metrics_from_history(spark_metrics.last_commit(spark, ident))
    metrics.update(got)
    changed = None
    if "num_inserted_rows" in got:
        changed = got.get("num_updated_rows", 0) + got["num_inserted_rows"]
    return WriteResult(spec.target, changed, metrics)


def _merge_actions(columns: list[str], table_columns: list[str]) -> str:
    """Update every matched row, insert the rest. Every column by name, quoted here: without
    schema auto-merge Delta's `UPDATE SET *` / `INSERT *` fail on a backtick inside a column
    name (INVALID_ATTRIBUTE_NAME_SYNTAX). New columns (schema_evolution: add_columns, so
    auto-merge is on) take `*`, which adds them and resolves such names there (Delta 3.2-4.x;
    tests/parity/test_quoted_features.py)."""
    if not set(columns) <= set(table_columns):
        return "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    names = [quote.spark(c) for c in columns]
    sets = ", ".join(f"t.{c} = s.{c}" for c in names)
    values = ", ".join(f"s.{c}" for c in names)
    return (
        f"WHEN MATCHED THEN UPDATE SET {sets} "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(names)}) VALUES ({values})"
    )
