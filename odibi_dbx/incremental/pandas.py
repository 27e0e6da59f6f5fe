"""Incremental reads on the Pandas engine: DuckDB for the batch, delta-rs for history and the
change data feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from odibi_dbx.engines import quote
from odibi_dbx.incremental.watermark import (
    Watermark,
    datafusion_literal,
    duckdb_literal,
    from_epoch_micros,
)

if TYPE_CHECKING:
    from odibi_dbx.engines.base import ReadSpec, WriteSpec
    from odibi_dbx.engines.pandas import DuckFrame, PandasEngine

CDF_COLUMNS = ("_change_type", "_commit_version")

_NUMBER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _table(spec: ReadSpec | WriteSpec, version: int | None = None) -> Any:
    """The Delta table, or None when there is none at the path."""
    from odibi_dbx.engines.pandas_io import _delta_options, _deltalake

    dl = _deltalake()
    try:
        return dl.DeltaTable(
            spec.connection.uri(spec.path or ""),
            version=version,
            storage_options=_delta_options(spec),
        )
    except dl.exceptions.TableNotFoundError:
        return None


def delta_history(engine: PandasEngine, spec: WriteSpec) -> Iterator[str | None] | None:
    """userMetadata of the commits, newest first, read lazily; None when the table does not
    exist."""
    table = _table(spec)
    if table is None:
        return None
    return _walk_back(table)


def _walk_back(table: Any) -> Iterator[str | None]:
    """Walk the log back from the newest commit in growing pages: delta-rs reads only the
    `limit` newest commit files, so finding a recent state does not read the whole history."""
    seen, limit = 0, 8
    while True:
        page = table.history(limit)
        for commit in page[seen:]:
            yield commit.get("userMetadata")
        if len(page) < limit:
            return
        seen, limit = len(page), limit * 8


def keep_after(engine: PandasEngine, frame: DuckFrame, column: str, bound: Watermark) -> DuckFrame:
    """The rows whose `column` is past `bound`, materialized once: the watermark and the write
    then see the same rows even if the source files change meanwhile."""
    from odibi_dbx.engines.pandas import DuckFrame

    engine.settle(frame)  # the watermark reads the rows once more: exact types first
    name = engine._new_name("incr")
    where = f"WHERE {quote.duckdb(column)} > {duckdb_literal(bound)}" if bound is not None else ""
    rows = engine.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {frame.name} {where}")
    count = int(rows.fetchall()[0][0])
    if not frame.table:
        engine._drop(frame)
    else:
        engine.release(frame)
    return DuckFrame(name, rows=count, table=True)


def batch_stats(
    engine: PandasEngine, frame: DuckFrame, column: str
) -> tuple[int, Watermark | None]:
    """Rows in the batch and the highest value of the watermark column (one aggregate)."""
    types = engine._columns(frame)
    if column not in types:
        raise ValueError(
            f"incremental column '{column}' is not in the source (columns: {', '.join(types)})"
        )
    typ = types[column].upper()
    if typ.startswith("TIMESTAMP"):
        kind, expr = "timestamp", f"epoch_us(max({quote.duckdb(column)}))"
    elif typ == "DATE":
        kind, expr = "date", f"CAST(max({quote.duckdb(column)}) AS VARCHAR)"
    elif typ.startswith(_NUMBER) or typ.startswith("U"):
        kind, expr = "number", f"CAST(max({quote.duckdb(column)}) AS VARCHAR)"
    elif typ == "VARCHAR":
        kind, expr = "string", f"max({quote.duckdb(column)})"
    else:
        raise ValueError(
            f"incremental column '{column}' has type {typ}; use a timestamp, date, number or "
            "string column"
        )
    rows, top = engine.con.execute(f"SELECT count(*), {expr} FROM {frame.name}").fetchall()[0]
    if top is None:
        return int(rows), None
    return int(rows), from_epoch_micros(top) if kind == "timestamp" else Watermark(kind, str(top))


def delta_where(engine: PandasEngine, spec: ReadSpec, table: Any) -> str | None:
    """The incremental bound as a predicate for delta-rs's SQL, so it skips files by their
    statistics instead of scanning the whole table."""
    import pyarrow as pa

    if spec.after is None:
        return None
    column, bound = spec.after
    schema = pa.schema(table.schema().to_arrow())
    if column not in schema.names:
        return None  # the batch check names the missing column
    typ = schema.field(column).type
    naive = pa.types.is_timestamp(typ) and typ.tz is None
    literal = datafusion_literal(bound, engine.timezone if naive else None)
    return f"{quote.duckdb(column)} > {literal}"


# --- change data feed --------------------------------------------------------------------------


def read_change_feed(
    engine: PandasEngine, spec: ReadSpec, after_version: int | None
) -> tuple[DuckFrame, int]:
    """Rows changed after `after_version` (inserts, deletes, update post-images), or the whole
    table as inserts on a first run; and the version read up to."""
    import pyarrow as pa

    from odibi_dbx.engines import delta_features
    from odibi_dbx.engines.pandas import DuckFrame

    table = _table(spec)
    uri = spec.connection.uri(spec.path or "")
    if table is None:
        raise FileNotFoundError(f"no Delta table at {uri}")
    version = table.version()
    name = engine._new_name("cdf")
    if after_version is None:  # first run: the snapshot, every row an insert
        source = delta_features.arrow_source(table, uri)
        select = f"SELECT *, 'insert' AS _change_type, CAST({version} AS BIGINT) AS _commit_version"
    elif after_version >= version:
        source = pa.table(
            {f.name: pa.array([], type=f.type) for f in pa.schema(table.schema().to_arrow())}
        )
        select = "SELECT *, CAST(NULL AS VARCHAR) AS _change_type, CAST(NULL AS BIGINT) AS _commit_version"
    else:
        _check_cdf_enabled(table, uri)
        reader = table.load_cdf(starting_version=after_version + 1, ending_version=version)
        source = reader  # DuckDB reads it: pyarrow 14 (DBR 15.4) has no from_stream
        data = [n for n in reader.schema.names if n not in (*CDF_COLUMNS, "_commit_timestamp")]
        cols = ", ".join(quote.duckdb(c) for c in data)
        select = f"SELECT {cols}, _change_type, CAST(_commit_version AS BIGINT) AS _commit_version"
        select += " FROM {src} WHERE _change_type <> 'update_preimage'"
    if "{src}" not in select:
        select += " FROM {src}"
    rows = delta_features.load_into(engine.con, source, name, select)
    return engine._tz_aware(DuckFrame(name, rows=int(rows), table=True)), version


def _check_cdf_enabled(table: Any, uri: str) -> None:
    conf = table.metadata().configuration or {}
    if str(conf.get("delta.enableChangeDataFeed", "false")).lower() != "true":
        raise ValueError(
            f"the Delta table {uri} does not record its change data feed; set the table property "
            "delta.enableChangeDataFeed = true (ALTER TABLE ... SET TBLPROPERTIES), then run "
            "with --full-refresh once"
        )
