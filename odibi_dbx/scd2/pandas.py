"""SCD type 2 on the Pandas engine: staged in DuckDB, one delta-rs MERGE."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odibi_dbx.engines import quote
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
    from odibi_dbx.engines.pandas import DuckFrame, PandasEngine


def write(
    engine: PandasEngine, frame: DuckFrame, spec: WriteSpec, existing: Any, props: Any
) -> WriteResult:
    import pyarrow as pa

    from odibi_dbx.engines import delta_features, pandas_io

    con = engine.con
    columns = list(engine._columns(frame))
    plan = Scd2Plan.build(spec.merge_keys, spec.scd2, columns)
    _refuse_duplicate_keys(engine, frame, plan)
    uri = spec.connection.uri(spec.path or "")
    if existing is None:  # a new table: every row is the current version
        vf = quote.duckdb(plan.valid_from)
        sql = (
            f"SELECT *, {vf} AS {VALID_FROM}, CAST(NULL AS {engine._columns(frame)[plan.valid_from]})"
            f" AS {VALID_TO}, true AS {IS_CURRENT} FROM {frame.name}"
        )
        reader = con.sql(sql).to_arrow_reader(1_000_000)
        counter = pandas_io._Counting(reader)
        pandas_io._deltalake().write_deltalake(
            uri,
            counter.reader(nullable=True),
            mode="overwrite",
            partition_by=list(spec.partition_by) or None,
            storage_options=pandas_io._delta_options(spec),
            commit_properties=props,
        )
        return WriteResult(uri, counter.rows, {"mode": "scd2", "num_inserted_rows": counter.rows})

    from odibi_dbx.engines import delta_evolution

    delta_evolution.pandas_check(engine, frame, existing, spec, exclude=SCD_COLUMNS)
    # the checked batch has the table's types: staged as it is, new columns last
    table_schema = pa.schema(existing.schema().to_arrow())
    data = [f.name for f in table_schema if f.name not in SCD_COLUMNS]
    have = set(columns)
    ordered = [c for c in data if c in have] + [c for c in columns if c not in set(data)]
    plan = Scd2Plan.build(spec.merge_keys, spec.scd2, ordered, data)
    if plan.close_missing and frame.rows == 0:
        raise ValueError(EMPTY_SNAPSHOT)
    # read once: the staging query scans the current versions more than once
    cur = f"scd2_cur_{id(plan)}"
    current = delta_features.arrow_source(existing, uri, None, plan.current_sql("t", quote.duckdb))
    delta_features.load_into(con, current, cur)
    try:
        staged = con.sql(
            plan.staged_sql(frame.name, cur, quote.duckdb, "MATERIALIZED")
        ).to_arrow_table()
    finally:
        con.execute(f"DROP TABLE {cur}")
    vf_type = table_schema.field(VALID_FROM).type
    before = existing.version()
    added = _add_columns(existing, staged, [c for c in ordered if c not in set(data)])
    try:
        merger = existing.merge(
            staged,
            predicate=plan.condition,
            source_alias="s",
            target_alias="t",
            commit_properties=props,
        )
        merger = merger.when_matched_update(plan.close_set(), predicate=plan.closes)
        if plan.untracked:
            merger = merger.when_matched_update(plan.untracked_set(), predicate=plan.updates)
        null_vt = f"arrow_cast(NULL, '{_arrow_name(vf_type)}')"
        merger = merger.when_not_matched_insert(plan.insert_values(null_vt), predicate=plan.inserts)
        metrics = merger.execute()
    except BaseException:
        if added:  # the columns' commit goes too: the table is as it was
            existing.restore(before)
        raise
    # rows the write changed, as on Spark: versions closed (updated) plus versions inserted
    changed = metrics.get("num_target_rows_updated", 0) + metrics.get("num_target_rows_inserted", 0)
    return WriteResult(uri, changed, {"mode": "scd2", **dict(metrics)})


def _add_columns(existing: Any, staged: Any, new: list[str]) -> bool:
    """The batch's new columns (schema_evolution: add_columns, checked before) added to the
    table in a commit of their own, before the MERGE. delta-rs's `merge_schema` cannot serve:
    it fails on the target's columns the source lacks (`_valid_to`, `_is_current`), and it
    would fill a closed version's new columns from the batch (they stay NULL on Spark)."""
    if not new:
        return False
    import pyarrow as pa
    from deltalake import Schema

    fields = [staged.schema.field(c).with_nullable(True) for c in new]
    existing.alter.add_columns(Schema.from_arrow(pa.schema(fields)).fields)
    return True


def _refuse_duplicate_keys(engine: PandasEngine, frame: DuckFrame, plan: Scd2Plan) -> None:
    from odibi_dbx.engines.pandas_io import repeated_keys

    found = repeated_keys(engine, frame, plan.keys, 1)
    if found:
        raise duplicate_key(plan.keys, found[0])


def _arrow_name(t: Any) -> str:
    """DataFusion's arrow_cast name of an Arrow type."""
    import pyarrow as pa

    if pa.types.is_timestamp(t):
        tz = f'Some("{t.tz}")' if t.tz else "None"
        unit = {"s": "Second", "ms": "Millisecond", "us": "Microsecond", "ns": "Nanosecond"}[t.unit]
        return f"Timestamp({unit}, {tz})"
    if pa.types.is_date32(t):
        return "Date32"
    names = {"int64": "Int64", "int32": "Int32", "string": "Utf8", "large_string": "LargeUtf8"}
    if str(t) in names:
        return names[str(t)]
    raise ValueError(f"scd2 valid_from of type {t} is not supported; use a timestamp or date")
