"""Which Delta tables delta-rs reads and writes correctly (see docs: delta-without-spark).

Tables with features delta-rs would read wrongly or refuse are rejected with a clear message
instead of failing deep inside delta-rs, or worse, returning wrong values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    from arro3.core import RecordBatchReader
    from deltalake import DeltaTable
    from duckdb import DuckDBPyConnection

# delta-rs refuses to read these at all
_UNREADABLE = {
    "vacuumProtocolCheck",
    "typeWidening",
    "typeWidening-preview",
    "catalogManaged",
    "catalogOwned-preview",
    "collations-preview",
}
# readable, but delta-rs cannot write them correctly
_READ_ONLY = {
    "identityColumns",
    "allowColumnDefaults",
    "domainMetadata",
    "rowTracking",
    "clustering",
    "inCommitTimestamp",
    "icebergCompatV1",
    "icebergCompatV2",
} | _UNREADABLE


def _features(table: DeltaTable) -> tuple[set[str], set[str], int, int]:
    p = table.protocol()
    return (
        set(p.reader_features or []),
        set(p.writer_features or []),
        p.min_reader_version,
        p.min_writer_version,
    )


def arrow_source(
    table: DeltaTable, uri: str, where: str | None = None, sql: str | None = None
) -> RecordBatchReader:
    """An Arrow stream of the table's rows for DuckDB to scan once.

    Always through delta-rs's query engine (DataFusion): it applies deletion vectors and
    column mapping correctly where `to_pyarrow_*` refuses them or returns NULL columns."""
    readers, _, _, _ = _features(table)
    bad = readers & _UNREADABLE
    if bad:
        raise ValueError(
            f"the Delta table {uri} uses {', '.join(sorted(bad))}, which the pandas engine "
            "(delta-rs) cannot read; read it with the Spark engine (--engine spark)"
        )
    from deltalake import QueryBuilder

    sql = sql or "SELECT * FROM t" + (f" WHERE {where}" if where else "")
    return QueryBuilder().register("t", table).execute(sql)


def load_into(
    con: DuckDBPyConnection,
    stream: RecordBatchReader | pa.Table,
    table: str,
    select: str = "SELECT * FROM {src}",
) -> int:
    """Copy an Arrow stream from delta-rs into a new DuckDB table (`select` over `{src}`);
    returns its row count. DuckDB reads the stream itself: pyarrow < 15 (DBR 15.4 LTS has 14)
    has no `RecordBatchReader.from_stream` and cannot import delta-rs's string views."""
    src = f"arrow_src_{uuid.uuid4().hex[:12]}"
    con.register(src, stream)
    try:
        return int(
            con.execute(f"CREATE TABLE {table} AS {select.format(src=src)}").fetchall()[0][0]
        )
    finally:
        con.unregister(src)


def check_writable(table: DeltaTable, uri: str) -> None:
    _, writers, _, _ = _features(table)
    bad = writers & _READ_ONLY
    if bad:
        raise ValueError(
            f"the Delta table {uri} uses {', '.join(sorted(bad))}; the pandas engine (delta-rs) "
            "cannot write it correctly. Write it with the Spark engine (--engine spark)"
        )


def cast_to_table(
    reader: pa.RecordBatchReader, table: DeltaTable, add_columns: bool = False
) -> pa.RecordBatchReader:
    """Cast incoming batches to the table's schema (missing nullable columns become null);
    `add_columns`: new columns are kept, after the table's (the write adds them)."""
    import pyarrow as pa

    return cast_to_schema(reader, pa.schema(table.schema().to_arrow()), add_columns)


def cast_to_schema(
    reader: pa.RecordBatchReader, target: pa.Schema, add_columns: bool = False
) -> pa.RecordBatchReader:
    """`cast_to_table` for a given Arrow schema."""
    import pyarrow as pa

    names = set(reader.schema.names)
    extra = [n for n in reader.schema.names if n not in set(target.names)]
    if extra and add_columns:
        target = pa.schema([*target, *(reader.schema.field(n).with_nullable(True) for n in extra)])
    elif extra:
        raise ValueError(
            f"columns {extra} are not in the Delta table's schema "
            f"({', '.join(target.names)}); set schema_evolution: add_columns to add them, "
            "or overwrite the table to change its schema"
        )

    def gen() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            cols = []
            for field in target:
                if field.name in names:
                    cols.append(batch.column(field.name).cast(field.type))
                elif field.nullable:
                    cols.append(pa.nulls(batch.num_rows, field.type))
                else:
                    raise ValueError(f"column '{field.name}' is missing and not nullable")
            yield pa.RecordBatch.from_arrays(cols, schema=target)

    return pa.RecordBatchReader.from_batches(target, gen())
