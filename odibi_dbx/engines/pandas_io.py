"""File and Delta I/O for the Pandas engine.

Layout matches Spark's: a csv/parquet/json output is a folder of part files, so either engine
reads what the other wrote. Writes go to a temporary sibling first and are swapped in only
when complete, so a failed write leaves the previous output as it was.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import duckdb

from odibi_dbx.engines import quote
from odibi_dbx.engines.base import ReadSpec, WriteResult, WriteSpec
from odibi_dbx.engines.types import ddl_columns, spark_type_name
from odibi_dbx.errors import MissingExtraError

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import CommitProperties

    from odibi_dbx.engines.pandas import DuckFrame, PandasEngine

_EXT = {"csv": "csv", "parquet": "parquet", "json": "json"}
GUESS_ROWS = 20_480  # rows a CSV read judges its INT columns on (DuckDB's sniffer sample)

# Spark reader options -> DuckDB read_csv parameters
_CSV_OPTIONS = {
    "header": "header",
    "sep": "delim",
    "delimiter": "delim",
    "quote": "quote",
    "escape": "escape",
    "nullvalue": "nullstr",
    "encoding": "encoding",
}


def _lit(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.strip().lower() == "true")


def source(engine: PandasEngine, spec: ReadSpec) -> tuple[str, dict[str, Any]]:
    """The files to read (a DuckDB file list literal; remote ones copied locally first) and the
    format options, for `format_sql` (Delta: see `read_delta_into`)."""
    if spec.connection.is_local:
        return _files(spec), {k.lower(): v for k, v in spec.options.items()}
    return _remote_files(engine, spec)


def format_sql(
    engine: PandasEngine,
    fmt: str,
    source: str,
    opts: dict[str, Any],
    schema: str | None,
    guessed: list[str] | None = None,
) -> str:
    """A SELECT reading `source` (a DuckDB file list literal) as Spark reads `fmt`. `guessed`:
    see `_spark_int_inference`."""
    if fmt == "csv":
        return csv_sql(engine, source, opts, schema, guessed)
    if fmt == "parquet":
        from odibi_dbx.engines import hive_keys

        return hive_keys.decoded(engine.con, source)
    if fmt == "json":
        if schema:
            cols = ", ".join(f"{_lit(n)}: {_lit(t)}" for n, t in ddl_columns(schema))
            return f"SELECT * FROM read_json({source}, columns={{{cols}}})"
        # Spark infers strings for date-like JSON values; keep them strings too
        sql = (
            f"SELECT * FROM read_json({source}, format='newline_delimited', "
            "dateformat='%Y-%m-%d %H:%M:%S.%f %Z', timestampformat='%Y-%m-%d %H:%M:%S.%f %Z')"
        )
        return _spark_field_order(engine, sql)
    raise ValueError(f"unsupported format {fmt}")


def csv_sql(
    engine: PandasEngine,
    source: str,
    options: dict[str, Any],
    schema: str | None,
    guessed: list[str] | None = None,
) -> str:
    """read_csv with Spark's defaults: header, sep ',', PERMISSIVE rows (a row with fewer fields
    than the header gets NULLs, extra fields are dropped)."""
    opts = dict(options)
    args: dict[str, Any] = {"header": True, "delim": ","}
    infer = _truthy(opts.pop("inferschema", True))
    for key, value in opts.items():
        if key not in _CSV_OPTIONS:
            raise ValueError(
                f"csv option '{key}' is not supported by the pandas engine; "
                f"supported: {', '.join(sorted(_CSV_OPTIONS))}, inferSchema"
            )
        args[_CSV_OPTIONS[key]] = _truthy(value) if key == "header" else value
    if schema:
        return _csv_with_columns(source, args, ddl_columns(schema))
    if not infer:
        args["all_varchar"] = True
    sql = f"SELECT * FROM read_csv({source}, {_args(args)})"
    try:  # the sniffer fails on rows of another length than the header
        if not infer:
            return _described(engine, sql)
        return _spark_int_inference(engine, *_sniffed(engine, source, args, sql), guessed)
    except duckdb.InvalidInputException:
        sql = _csv_with_columns(source, args, _ragged_columns(engine, source, args))
        return _spark_int_inference(engine, sql, None, guessed) if infer else sql


def _sniffed(
    engine: PandasEngine, source: str, args: dict[str, Any], sql: str
) -> tuple[str, list[tuple[str, str]] | None]:
    """`sql` (a read_csv call) with what DuckDB's sniffer finds spelled out (dialect, columns,
    types, formats), so binding the view again never sniffs the file again, and its columns;
    `sql` itself (columns unknown) when the spelled-out call would read the file any
    differently. The file is sniffed once: the spelled-out call is checked against the columns
    and types the sniffer found."""
    try:
        first = engine.con.execute(f"SELECT {source}").fetchall()[0][0]
        first = first[0] if isinstance(first, list) else first
        got = engine.con.execute(
            f"SELECT Prompt, Columns FROM sniff_csv({_lit(first)}, {_args(args)})"
        )
        (prompt, found), head = got.fetchall()[0], f"FROM read_csv({_lit(first)}, "
    except duckdb.Error:  # the auto-detecting read says why (a ragged file: InvalidInputException)
        return _described(engine, sql), None
    if prompt.startswith(head) and prompt.endswith(");"):
        spelled = f"SELECT * FROM read_csv({source}, {prompt[len(head) : -2]})"
        try:
            cols = [(c[0], c[1]) for c in engine.con.execute(f"DESCRIBE {spelled}").fetchall()]
        except duckdb.Error:
            cols = []
        if cols == [(c["name"], c["type"]) for c in found]:
            return spelled, cols
    return sql, None


def _described(engine: PandasEngine, sql: str) -> str:
    engine.con.execute(f"DESCRIBE {sql}")
    return sql


def _args(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_lit(v)}" for k, v in args.items())


def _csv_with_columns(source: str, args: dict[str, Any], cols: list[tuple[str, str]]) -> str:
    """read_csv with the given columns; short rows padded with NULL, extra fields dropped."""
    spec = ", ".join(f"{_lit(n)}: {_lit(t)}" for n, t in cols)
    return (
        f"SELECT * FROM read_csv({source}, {_args(args)}, columns={{{spec}}}, "
        "auto_detect=false, null_padding=true, strict_mode=false)"
    )


def _ragged_columns(
    engine: PandasEngine, source: str, args: dict[str, Any]
) -> list[tuple[str, str]]:
    """The header's columns with inferred types, for a file whose rows vary in length."""
    padded = f"read_csv({source}, {_args({**args, 'null_padding': True, 'strict_mode': False})})"
    cols = [(c[0], c[1]) for c in engine.con.execute(f"DESCRIBE SELECT * FROM {padded}").fetchall()]
    if args.get("header", True) is False:
        return cols
    plain = {k: v for k, v in args.items() if k not in ("header", "all_varchar")}
    first = f"read_csv({source}, {_args(plain)}, header=false, all_varchar=true, null_padding=true)"
    header = next(iter(engine.con.execute(f"SELECT * FROM {first} LIMIT 1").fetchall()), ())
    width = next((i for i, v in enumerate(header) if v is None), len(header))
    return cols[:width]


def _spark_int_inference(
    engine: PandasEngine,
    sql: str,
    columns: list[tuple[str, str]] | None = None,
    guessed: list[str] | None = None,
) -> str:
    """Spark's CSV inference gives INT when every value fits, BIGINT only beyond; DuckDB
    always BIGINT. Narrow like Spark (Spark's inference scans the file too).

    With `guessed` (a list), the columns are judged on the first rows only and the narrowed
    ones are added to it: the file is then read once, by the query that uses it, and a later
    value beyond INT fails that query with a ConversionException (never a wrong value), on
    which the reader settles with the exact check (PandasEngine.settle). `columns`: the
    (name, type) pairs `sql` reads, when already described."""
    if columns is None:
        columns = [(c[0], c[1]) for c in engine.con.execute(f"DESCRIBE {sql}").fetchall()]
    cols = [name for name, typ in columns if typ == "BIGINT"]
    if not cols:
        return sql
    checks = ", ".join(
        f"bool_and({quote.duckdb(c)} BETWEEN -2147483648 AND 2147483647)" for c in cols
    )
    scope = sql if guessed is None else f"SELECT * FROM ({sql}) LIMIT {GUESS_ROWS}"
    fits = engine.con.execute(f"SELECT {checks} FROM ({scope})").fetchall()[0]
    narrow = [c for c, ok in zip(cols, fits, strict=True) if ok is not False]
    if not narrow:
        return sql
    if guessed is not None:
        guessed += narrow
    repl = ", ".join(f"CAST({quote.duckdb(c)} AS INTEGER) AS {quote.duckdb(c)}" for c in narrow)
    return f"SELECT * REPLACE ({repl}) FROM ({sql})"


def _spark_field_order(engine: PandasEngine, sql: str) -> str:
    """Spark's JSON inference orders columns and struct fields by name; DuckDB keeps the
    file's order. Reorder like Spark."""
    from odibi_dbx.engines.types import _split

    def expr(e: str, typ: str) -> str:
        if typ.startswith("STRUCT(") and typ.endswith(")"):
            fields = []
            for f in _split(typ[7:-1]):
                name, _, ftyp = f.strip().partition(" ")
                fields.append((name.strip('"'), ftyp.strip()))
            inner = ", ".join(
                f"{quote.duckdb(n)} := {expr(f'{e}.{quote.duckdb(n)}', t)}"
                for n, t in sorted(fields)
            )
            return f"CASE WHEN {e} IS NULL THEN NULL ELSE struct_pack({inner}) END"
        if typ.endswith("[]"):
            var = f"x{e.count('list_transform')}{len(e)}"  # unique per nesting level
            body = expr(var, typ[:-2])
            return e if body == var else f"list_transform({e}, lambda {var}: {body})"
        return e

    cols = engine.con.execute(f"DESCRIBE {sql}").fetchall()
    parts = [
        f"{expr(quote.duckdb(c[0]), c[1])} AS {quote.duckdb(c[0])}"
        for c in sorted(cols, key=lambda c: c[0])
    ]
    return f"SELECT {', '.join(parts)} FROM ({sql})"


def _files(spec: ReadSpec) -> str:
    """DuckDB file list for a file or a Spark-style folder of part files."""
    uri = spec.connection.uri(spec.path or "")
    p = Path(uri)
    if p.is_dir():
        ext = _EXT[spec.format]
        files = sorted(str(f) for f in p.rglob(f"*.{ext}") if not _hidden(f, p))
        if not files:
            raise FileNotFoundError(f"no .{ext} files in folder {p}")
        return "[" + ", ".join(_lit(f) for f in files) + "]"
    if not p.exists() and not any(ch in uri for ch in "*?["):
        raise FileNotFoundError(f"{uri} does not exist")
    return _lit(uri)


def _remote_files(engine: PandasEngine, spec: ReadSpec) -> tuple[str, dict[str, Any]]:
    """Local copies of remote files (see pandas_remote) and the format options."""
    from odibi_dbx.engines import pandas_remote

    opts, user = pandas_remote.split_options(spec)
    files = pandas_remote.local_copies(engine, spec, _EXT[spec.format], user)
    return "[" + ", ".join(_lit(f) for f in files) + "]", {k.lower(): v for k, v in opts.items()}


def _delta_options(spec: ReadSpec | WriteSpec) -> dict[str, str] | None:
    if spec.connection.is_local:
        return spec.connection.delta_storage_options() or None
    from odibi_dbx.engines import pandas_remote

    return pandas_remote.delta_options(spec.connection, pandas_remote.split_options(spec)[1])


def _hidden(f: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in f.relative_to(root).parts)


# --- Delta -------------------------------------------------------------------------------------


def _deltalake() -> ModuleType:
    try:
        import deltalake
    except ImportError:
        raise MissingExtraError("Delta on the pandas engine", "delta", "deltalake") from None
    return deltalake


def read_delta_into(engine: PandasEngine, spec: ReadSpec, table: str) -> int:
    """Stream a Delta table into a new DuckDB table; returns its row count."""
    from odibi_dbx.engines import delta_features

    dl = _deltalake()
    uri = spec.connection.uri(spec.path or "")
    opts = _delta_options(spec)
    try:
        delta = dl.DeltaTable(uri, version=spec.version, storage_options=opts)
    except dl.exceptions.TableNotFoundError:
        raise FileNotFoundError(f"no Delta table at {uri}") from None
    from odibi_dbx.incremental.pandas import delta_where

    stream = delta_features.arrow_source(delta, uri, delta_where(engine, spec, delta))
    return delta_features.load_into(engine.con, stream, table)


def _arrow_reader(
    engine: PandasEngine, frame: DuckFrame, batch_rows: int = 1_000_000
) -> pa.RecordBatchReader:
    return engine.con.sql(f"SELECT * FROM {frame.name}").to_arrow_reader(batch_rows)


def _write_delta(engine: PandasEngine, frame: DuckFrame, spec: WriteSpec) -> WriteResult:
    from odibi_dbx.engines import delta_features

    dl = _deltalake()
    uri = spec.connection.uri(spec.path or "")
    opts = _delta_options(spec)
    if spec.mode == "merge":
        check_merge_source(engine, frame, spec)
    existing = None
    try:
        existing = dl.DeltaTable(uri, storage_options=opts)
    except dl.exceptions.TableNotFoundError:
        existing = None
    if existing is not None:
        delta_features.check_writable(existing, uri)
    props = _commit_properties(dl, spec)
    add_columns = spec.schema_evolution == "add_columns"
    if spec.mode == "scd2":
        from odibi_dbx.scd2 import pandas as scd2

        return scd2.write(engine, frame, spec, existing, props)
    if existing is not None and spec.mode in ("append", "merge"):
        from odibi_dbx.engines import delta_evolution

        delta_evolution.pandas_check(engine, frame, existing, spec)
    reader = _arrow_reader(engine, frame)
    if existing is not None and spec.mode in ("append", "merge"):
        reader = delta_features.cast_to_table(reader, existing, add_columns)
    if spec.mode == "merge" and existing is not None:
        source = reader.read_all()
        pred = " AND ".join(f"t.{quote.spark(k)} = s.{quote.spark(k)}" for k in spec.merge_keys)
        # every column by name, quoted here: delta-rs's update_all / insert_all do not escape a
        # backtick inside a column name
        sets = {quote.spark(c): f"s.{quote.spark(c)}" for c in source.column_names}
        metrics = (
            existing.merge(
                source,
                predicate=pred,
                source_alias="s",
                target_alias="t",
                merge_schema=add_columns,
                commit_properties=props,
            )
            .when_matched_update(sets)
            .when_not_matched_insert(sets)
            .execute()
        )
        return WriteResult(uri, source.num_rows, dict(metrics))
    counter = _Counting(reader)
    mode = "append" if spec.mode == "append" else "overwrite"
    # a new schema has nullable columns, as Spark writes them (DuckDB marks group keys NOT NULL)
    fresh = existing is None or mode == "overwrite"
    dl.write_deltalake(
        uri,
        counter.reader(nullable=fresh),
        mode=mode,
        partition_by=list(spec.partition_by) or None,
        storage_options=opts,
        schema_mode=_schema_mode(mode, existing is not None, add_columns),
        commit_properties=props,
    )
    return WriteResult(uri, counter.rows, {"mode": mode})


def _schema_mode(mode: str, exists: bool, add_columns: bool) -> str | None:
    if mode == "overwrite" and exists:
        return "overwrite"
    return "merge" if mode == "append" and exists and add_columns else None


def _commit_properties(dl: ModuleType, spec: WriteSpec) -> CommitProperties | None:
    """The commit's userMetadata (incremental state), as Delta on Spark writes it."""
    if not spec.commit_metadata:
        return None
    return dl.CommitProperties(custom_metadata={"userMetadata": spec.commit_metadata})


def check_merge_source(engine: PandasEngine, frame: DuckFrame, spec: WriteSpec) -> None:
    """merge_keys are output columns and identify one source row each (also on the first merge,
    which creates the table)."""
    from odibi_dbx.engines import schema_check

    cols = [c[0] for c in engine.con.execute(f"DESCRIBE {frame.name}").fetchall()]
    schema_check.check_merge_keys(spec.merge_keys, cols, spec.target)
    dups = repeated_keys(engine, frame, spec.merge_keys, 3)
    if dups:
        raise schema_check.duplicate_keys_error(spec.merge_keys, dups, spec.target)


def repeated_keys(
    engine: PandasEngine, frame: DuckFrame, keys: Sequence[str], limit: int
) -> list[tuple]:
    """Up to `limit` values of `keys` that more than one row holds, the most repeated first:
    each the key's values, then its row count (a merge's and an SCD2's source check)."""
    cols = ", ".join(quote.duckdb(k) for k in keys)
    return engine.con.execute(  # fetchall: DuckDB keeps a fetchone() result open on the cursor
        f"SELECT {cols}, count(*) FROM {frame.name} GROUP BY ALL HAVING count(*) > 1 "
        f"ORDER BY count(*) DESC, {cols} LIMIT {int(limit)}"
    ).fetchall()


class _Counting:
    """Counts rows as a RecordBatchReader is consumed (the write itself is the only scan)."""

    def __init__(self, reader: pa.RecordBatchReader) -> None:
        self._reader = reader
        self.rows = 0

    def reader(self, nullable: bool = False) -> pa.RecordBatchReader:
        import pyarrow as pa

        schema = self._reader.schema
        if nullable:
            schema = pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)

        def gen() -> Iterator[pa.RecordBatch]:
            for batch in self._reader:
                self.rows += batch.num_rows
                yield (
                    pa.RecordBatch.from_arrays(batch.columns, schema=schema) if nullable else batch
                )

        return pa.RecordBatchReader.from_batches(schema, gen())


# --- files -------------------------------------------------------------------------------------


def write(engine: PandasEngine, frame: DuckFrame, spec: WriteSpec) -> WriteResult:
    if spec.format == "delta":
        return _write_delta(engine, frame, spec)
    if not spec.connection.is_local:
        from odibi_dbx.engines import pandas_remote

        _, user = pandas_remote.split_options(spec)

        def check(new: list[str], existing: list[str]) -> None:
            check_append(engine, spec, new, existing)

        return pandas_remote.write_files(engine, frame, spec, user, _copy, check)
    target = Path(spec.connection.uri(spec.path or ""))
    target.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{spec.run_id}-{uuid.uuid4().hex[:6]}"
    staging = target.parent / f".{target.name}.odibi-tmp-{tag}"
    staging.mkdir()
    try:
        rows = _copy(engine, frame, spec, staging, tag)
        if spec.mode == "append" and target.exists():
            check_append(
                engine, spec, _part_files(staging, spec.format), _part_files(target, spec.format)
            )
            _append_into(staging, target)
        else:
            _swap(staging, target, tag)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WriteResult(str(target), rows, {"mode": spec.mode})


def _part_files(folder: Path, fmt: str) -> list[str]:
    if folder.is_file():
        return [str(folder)]
    return sorted(str(f) for f in folder.rglob(f"*.{_EXT[fmt]}") if not _hidden(f, folder))


def check_append(
    engine: PandasEngine, spec: WriteSpec, new: list[str], existing: list[str]
) -> None:
    """Refuse an append whose files a reader would see with other columns or types than the
    output's files (as Delta refuses it); compared as read back, csv inference included."""
    from odibi_dbx.engines.schema_check import check_compatible

    if not existing or not new:
        return
    opts = {k.lower(): v for k, v in spec.options.items() if k.lower() in _CSV_OPTIONS}
    opts = opts if spec.format == "csv" else {}

    def columns(files: list[str]) -> list[tuple[str, str]]:
        source = "[" + ", ".join(_lit(f) for f in files) + "]"
        sql = format_sql(engine, spec.format, source, opts, None)
        return [
            (c[0], spark_type_name(c[1])) for c in engine.con.execute(f"DESCRIBE {sql}").fetchall()
        ]

    target, incoming = columns(existing), columns(new)
    # strict even under schema_evolution: add_columns: readers of a folder of part files take
    # one file's columns, so an added column would be hidden (Delta outputs evolve instead)
    check_compatible(
        target,
        incoming,
        target_name=spec.target,
        ordered=spec.format == "csv",
        ignore_types=spec.partition_by,
    )


def _copy(engine: PandasEngine, frame: DuckFrame, spec: WriteSpec, folder: Path, tag: str) -> int:
    fmt = spec.format
    opts = {k.lower(): v for k, v in spec.options.items()}
    copy_opts = {
        "parquet": "FORMAT parquet, COMPRESSION snappy",
        "csv": f"FORMAT csv, HEADER {str(_truthy(opts.get('header', True))).lower()}",
        "json": "FORMAT json",
    }[fmt]
    if fmt == "csv" and ("sep" in opts or "delimiter" in opts):
        copy_opts += f", DELIMITER {_lit(opts.get('sep', opts.get('delimiter')))}"
    if spec.partition_by:
        cols = ", ".join(quote.duckdb(c) for c in spec.partition_by)
        dest = folder
        copy_opts += f", PARTITION_BY ({cols}), FILENAME_PATTERN 'part-{{i}}-{tag}'"
    else:
        dest = folder / f"part-00000-{tag}.{_EXT[fmt]}"
    stats = fmt == "parquet" and frame.profile_plan is not None  # the node's profile, for free
    if stats:
        copy_opts += ", RETURN_STATS"
    sql = f"COPY (SELECT * FROM {frame.name}) TO {_lit(str(dest))} ({copy_opts})"
    got = engine.con.execute(sql).fetchall()
    if not stats:
        rows = int(got[0][0])
    else:  # one row per part file: (file, rows, bytes, footer bytes, column stats, partition)
        frame.file_stats = (frame.file_stats or []) + [row[4] for row in got]
        rows = sum(int(row[1]) for row in got)
    if frame.streamed:
        engine.written(frame, _read_back(engine, frame, spec, folder), rows)
    return rows


def reads_back(spec: WriteSpec) -> bool:
    """The written files give back the frame's rows and types as they were (Parquet)."""
    return spec.format == "parquet" and spec.mode in ("overwrite", "append")


def _read_back(engine: PandasEngine, frame: DuckFrame, spec: WriteSpec, folder: Path) -> str:
    """A SELECT of the frame's columns, in order and types, from the part files in `folder`."""
    from odibi_dbx.engines import hive_keys

    cols = engine._columns(frame)
    keys = hive_keys.on_disk(folder, list(spec.partition_by))  # as DuckDB spelled them
    hive = ", ".join(f"{_lit(keys[c])}: {_lit(cols[c])}" for c in spec.partition_by)
    source = _lit(str(folder / "**" / "*.parquet"))
    args = f", hive_partitioning=true, hive_types={{{hive}}}" if hive else ""
    select = ", ".join(
        quote.duckdb(keys.get(c, c)) + (f" AS {quote.duckdb(c)}" if keys.get(c, c) != c else "")
        for c in cols
    )
    return f"(SELECT {select} FROM read_parquet({source}{args}))"


def _swap(staging: Path, target: Path, tag: str) -> None:
    """Replace target by staging; the old output is removed only after the new one is in place."""
    old = target.parent / f".{target.name}.odibi-old-{tag}"
    had_old = target.exists()
    if had_old:
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if had_old:
            os.replace(old, target)
        raise
    if had_old:
        (shutil.rmtree if old.is_dir() else os.remove)(old)


def _append_into(staging: Path, target: Path) -> None:
    if not target.is_dir():
        raise ValueError(f"cannot append to {target}: it is a file, not a folder of part files")
    for f in sorted(staging.rglob("*")):
        if f.is_file():
            dest = target / f.relative_to(staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
