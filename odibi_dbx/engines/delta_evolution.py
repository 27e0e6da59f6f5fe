"""`schema_evolution` for Delta appends, merges and scd2 writes, both engines: the batch's
columns are checked against the table's with `schema_check` before anything is written
(strict: any difference refused; add_columns: new columns added, missing ones written as NULL;
a type change always refused, naming both types)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from odibi_dbx.engines.schema_check import SchemaPlan, check_compatible

if TYPE_CHECKING:
    from deltalake import DeltaTable
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

    from odibi_dbx.engines.base import WriteSpec
    from odibi_dbx.engines.pandas import DuckFrame, PandasEngine


def check(
    target: list[tuple[str, str]],
    batch: list[tuple[str, str]],
    spec: WriteSpec,
    exclude: Iterable[str] = (),
) -> SchemaPlan:
    """`exclude`: target columns the write fills itself (scd2's validity columns)."""
    skip = set(exclude)
    return check_compatible(
        [c for c in target if c[0] not in skip],
        batch,
        mode=spec.schema_evolution,
        target_name=spec.target,
    )


def pandas_check(
    engine: PandasEngine,
    frame: DuckFrame,
    table: DeltaTable,
    spec: WriteSpec,
    exclude: Iterable[str] = (),
) -> SchemaPlan:
    import pyarrow as pa

    from odibi_dbx.engines.types import spark_type_name

    empty = pa.schema(table.schema().to_arrow()).empty_table()
    name = f"delta_schema_{id(empty)}"
    engine.con.register(name, empty)
    try:
        target = [
            (c[0], spark_type_name(c[1])) for c in engine.con.execute(f"DESCRIBE {name}").fetchall()
        ]
    finally:
        engine.con.unregister(name)
    batch = [(n, spark_type_name(t)) for n, t in engine._columns(frame).items()]
    return check(target, batch, spec, exclude)


def spark_check(
    df: DataFrame, table_schema: StructType, spec: WriteSpec, exclude: Iterable[str] = ()
) -> SchemaPlan:
    def cols(schema: StructType) -> list[tuple[str, str]]:
        return [(f.name, f.dataType.simpleString()) for f in schema.fields]

    return check(cols(table_schema), cols(df.schema), spec, exclude)
