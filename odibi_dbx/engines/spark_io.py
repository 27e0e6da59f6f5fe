"""Reads and writes for the Spark engine, with the Pandas engine's defaults and guarantees.

- csv: header and inferSchema on unless given; a `schema:` DDL wins. json: line-delimited.
- csv/parquet/json outputs are folders of part files; overwrite writes a staging sibling and
  swaps it in, so a failed write leaves the previous output as it was; append stages too and
  moves the new files in only when they read back with the output's columns and types
  (`schema_check`). Delta gives the same through its log.
- merge refuses merge_keys that are not output columns, and duplicate keys in the source.
- Delta append/merge cast to the table's schema and reject unknown columns, like
  `delta_features.cast_to_table` on the Pandas engine.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from odibi_dbx.engines.base import ReadSpec, WriteResult, WriteSpec

if TYPE_CHECKING:
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame


def _opts(options: Any) -> dict[str, str]:
    return {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in options.items()}


def read(engine: SparkEngine, spec: ReadSpec) -> Any:
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
    return reader.load(spec.connection.uri(spec.path or ""))


# --- writes ------------------------------------------------------------------------------------


def write(engine: SparkEngine, frame: SparkFrame, spec: WriteSpec) -> WriteResult:
    df = frame.df
    if spec.mode == "scd2":
        from odibi_dbx.scd2 import spark as scd2

        return scd2.write(engine, frame, spec)
    if spec.mode == "merge":
        check_merge_source(df, spec)
    if spec.format == "delta" and spec.mode in ("append", "merge"):
        schema = _delta_schema(engine, spec)
        if schema is not None:
            from odibi_dbx.engines import delta_evolution

            delta_evolution.spark_check(df, schema, spec)
            df = cast_to_schema(df, schema, spec.target, spec.schema_evolution == "add_columns")
            if spec.mode == "merge":
                return _merge(engine, df, spec)
    observed, done = engine.observed(df, frame.profile_columns)
    writer = observed.write.format(spec.format).options(**_write_opts(spec))
    if spec.partition_by:
        writer = writer.partitionBy(*spec.partition_by)
    mode = "append" if spec.mode == "append" else "overwrite"
    if spec.table:
        writer.mode(mode).saveAsTable(spec.table)
    elif spec.format == "delta":
        writer.mode(mode).save(spec.connection.uri(spec.path or ""))
    elif mode == "append":
        _append_checked(engine, writer, spec, df)
    else:
        _write_swapped(engine, writer, spec)
    rows = done(frame)
    return WriteResult(spec.target, rows, {"mode": spec.mode})


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


def _write_swapped(engine: SparkEngine, writer: Any, spec: WriteSpec) -> None:
    """Write to a staging sibling, then swap it in (Hadoop FS renames: local or abfss)."""
    path_cls, fs, target = _hadoop(engine, spec)
    tag = _tag(spec)
    parent, name = target.getParent(), target.getName()
    staging = path_cls(parent, f".{name}.odibi-tmp-{tag}")
    old = path_cls(parent, f".{name}.odibi-old-{tag}")
    try:
        writer.mode("overwrite").save(staging.toString())
        had_old = fs.exists(target)
        if had_old and not fs.rename(target, old):
            raise OSError(f"cannot move the previous output {target.toString()} aside")
        if not fs.rename(staging, target):
            if had_old:
                fs.rename(old, target)
            raise OSError(f"cannot move the new output into {target.toString()}")
        if had_old:
            fs.delete(old, True)
    finally:
        if fs.exists(staging):
            fs.delete(staging, True)


def _hadoop(engine: SparkEngine, spec: WriteSpec) -> tuple[Any, Any, Any]:
    """(Path class, file system, target path) for the write's target."""
    jvm = engine.spark._jvm
    path_cls = jvm.org.apache.hadoop.fs.Path
    target = path_cls(spec.connection.uri(spec.path or ""))
    return path_cls, target.getFileSystem(engine.spark._jsc.hadoopConfiguration()), target


def _append_checked(engine: SparkEngine, writer: Any, spec: WriteSpec, df: Any) -> None:
    """Append to a csv/parquet/json output only when the new files read back with the output's
    columns and types (as Delta refuses a schema change): stage, compare, then move the files in.
    Spark Connect has no Hadoop file system in Python: there the frame's own columns are compared
    with the output's before a plain append."""
    if getattr(engine.spark, "_jvm", None) is None:
        uri = spec.connection.uri(spec.path or "")
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


def check_merge_source(df: Any, spec: WriteSpec) -> None:
    """merge_keys are output columns and identify one source row each (also on the first merge,
    which creates the table)."""
    from pyspark.sql import functions as F

    from odibi_dbx.engines import schema_check

    schema_check.check_merge_keys(spec.merge_keys, df.columns, spec.target)
    keys = [F.col(f"`{k}`") for k in spec.merge_keys]
    dups = (
        df.groupBy(*keys)
        .count()
        .where(F.col("count") > 1)
        .orderBy(F.col("count").desc(), *keys)
        .limit(3)
        .collect()
    )
    if dups:
        raise schema_check.duplicate_keys_error(
            spec.merge_keys, [tuple(r) for r in dups], spec.target
        )


def _tag(spec: WriteSpec) -> str:
    return f"{spec.run_id}-{uuid.uuid4().hex[:6]}"


# --- Delta -------------------------------------------------------------------------------------


def _delta_table(engine: SparkEngine, spec: WriteSpec) -> Any:
    from delta.tables import DeltaTable

    if spec.table:
        return DeltaTable.forName(engine.spark, spec.table)
    return DeltaTable.forPath(engine.spark, spec.connection.uri(spec.path or ""))


def _delta_schema(engine: SparkEngine, spec: WriteSpec) -> Any:
    """The existing table's schema, or None when there is no table yet."""
    spark = engine.spark
    if spec.table:
        return spark.table(spec.table).schema if spark.catalog.tableExists(spec.table) else None
    from delta.tables import DeltaTable

    uri = spec.connection.uri(spec.path or "")
    if not DeltaTable.isDeltaTable(spark, uri):
        return None
    return spark.read.format("delta").load(uri).schema


def cast_to_schema(df: Any, schema: Any, target: str, add_columns: bool = False) -> Any:
    """Columns in the table's order and types; missing nullable ones become NULL;
    `add_columns`: new columns are kept, after the table's (the write adds them)."""
    from pyspark.sql import functions as F

    have = set(df.columns)
    names = [f.name for f in schema.fields]
    extra = [c for c in df.columns if c not in set(names)]
    if extra and not add_columns:
        raise ValueError(
            f"columns {extra} are not in the Delta table's schema ({', '.join(names)}); "
            "set schema_evolution: add_columns to add them, or overwrite the table to change "
            "its schema"
        )
    cols = []
    for f in schema.fields:
        if f.name in have:
            cols.append(F.col(f"`{f.name}`").cast(f.dataType).alias(f.name))
        elif f.nullable:
            cols.append(F.lit(None).cast(f.dataType).alias(f.name))
        else:
            raise ValueError(f"column '{f.name}' is missing and not nullable ({target})")
    return df.select(*cols, *[F.col(f"`{c}`") for c in extra])


@contextmanager
def commit_settings(engine: SparkEngine, spec: WriteSpec):
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
            for k, v in saved.items():
                if v is None:
                    spark.conf.unset(k)
                else:
                    spark.conf.set(k, v)


def _merge(engine: SparkEngine, source: Any, spec: WriteSpec) -> WriteResult:
    if not spec.merge_keys:
        raise ValueError("mode merge needs merge_keys")
    cond = " AND ".join(f"t.`{k}` = s.`{k}`" for k in spec.merge_keys)
    with commit_settings(engine, spec):
        result = (
            _delta_table(engine, spec)
            .alias("t")
            .merge(source.alias("s"), cond)
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute()
        )
    metrics: dict[str, Any] = {"mode": "merge"}
    rows = None
    if result is not None:  # Delta 3+: one local row of metrics, no Spark job
        row = result.first()
        if row is not None:
            metrics.update({k: int(v) for k, v in row.asDict().items() if v is not None})
            rows = metrics.get("num_updated_rows", 0) + metrics.get("num_inserted_rows", 0)
    return WriteResult(spec.target, rows, metrics)
