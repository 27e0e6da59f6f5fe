"""Delta tables cross engines: delta-rs (pandas engine) <-> delta-spark, incl. after merges, and
Spark-only table features the pandas engine reads correctly or refuses clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.spark


def _conn(tmp: Path):
    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig

    return LocalConnection("lake", LocalConnectionConfig(type="local", base_path=str(tmp)), tmp)


@pytest.fixture
def engines(spark, tmp_path):
    from odibi_dbx.engines.pandas import PandasEngine
    from odibi_dbx.engines.spark import SparkEngine

    pe, se = PandasEngine(), SparkEngine(spark=spark)
    pe.start()
    se.start()
    yield pe, se, _conn(tmp_path)
    pe.stop()
    se.stop()


def _rows(engine, frame) -> list[tuple]:
    df = engine.to_user(frame)
    rows = df.collect() if hasattr(df, "collect") else df.itertuples(index=False)
    return sorted(tuple(r) for r in rows)


def _write(engine, frame, conn, path, mode, keys=(), evolution="strict"):
    from odibi_dbx.engines.base import WriteSpec

    return engine.write(
        frame,
        WriteSpec(
            node="w",
            connection=conn,
            format="delta",
            mode=mode,
            path=path,
            merge_keys=tuple(keys),
            schema_evolution=evolution,
        ),
    )


def _read(engine, conn, path):
    from odibi_dbx.engines.base import ReadSpec

    return engine.read(ReadSpec(node="r", connection=conn, format="delta", path=path))


def test_pandas_written_read_by_spark_and_back(engines, spark):
    import pandas as pd

    pe, se, conn = engines
    base = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "v": ["a", "b", "c"],
            "ts": pd.to_datetime(["2025-01-01 10:00"] * 3).tz_localize("UTC"),
        }
    )
    _write(pe, pe.from_user(base), conn, "t", "overwrite")
    _write(
        pe,
        pe.from_user(pd.DataFrame({"id": [2, 4], "v": ["B", "d"], "ts": base.ts[:2]})),
        conn,
        "t",
        "merge",
        ["id"],
    )
    got = _rows(se, _read(se, conn, "t"))
    assert [(r[0], r[1]) for r in got] == [(1, "a"), (2, "B"), (3, "c"), (4, "d")]
    # Spark merges into the delta-rs table; delta-rs reads Spark's commit
    src = se.from_user(spark.createDataFrame([(3, "C"), (5, "e")], "id BIGINT, v STRING"))
    res = _write(se, src, conn, "t", "merge", ["id"], evolution="add_columns")  # ts missing
    assert res.rows == 2 and res.metrics["num_updated_rows"] == 1
    got = _rows(pe, _read(pe, conn, "t"))
    assert [(r[0], r[1]) for r in got] == [(1, "a"), (2, "B"), (3, "C"), (4, "d"), (5, "e")]
    assert got[4][2] is None or pd.isna(got[4][2])  # missing column filled with NULL


def test_spark_written_read_by_pandas(engines, spark):
    pe, se, conn = engines
    df = spark.sql(
        "SELECT id, CAST(id * 1.5 AS DECIMAL(10,2)) AS amt, "
        "to_timestamp('2025-03-30 01:30:00') AS ts FROM range(5)"
    )
    _write(se, se.from_user(df), conn, "s", "overwrite")
    got = _rows(pe, _read(pe, conn, "s"))
    assert [(r[0], str(r[1])) for r in got] == [(i, f"{i * 1.5:.2f}") for i in range(5)]


def test_deletion_vectors_and_column_mapping(engines, spark, tmp_path):
    """Spark-only features: the pandas engine applies deletion vectors and column mapping
    (through DataFusion), as delta_features.py promises."""
    pe, _, conn = engines
    path = str(tmp_path / "dv")
    spark.sql(
        f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING) USING delta TBLPROPERTIES ("
        "'delta.enableDeletionVectors' = 'true', 'delta.columnMapping.mode' = 'name', "
        "'delta.minReaderVersion' = '3', 'delta.minWriterVersion' = '7')"
    )
    spark.sql(f"INSERT INTO delta.`{path}` SELECT id, CONCAT('n', id) FROM range(10)")
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id IN (0, 5)")
    spark.sql(f"ALTER TABLE delta.`{path}` RENAME COLUMN name TO label")
    frame = _read(pe, conn, "dv")
    got = _rows(pe, frame)
    assert [r[0] for r in got] == [1, 2, 3, 4, 6, 7, 8, 9]
    assert got[0][1] == "n1" and pe.to_user(frame).columns.tolist() == ["id", "label"]


def test_features_delta_rs_cannot_handle_are_refused(engines, spark, tmp_path):
    from odibi_dbx.errors import NodeError

    pe, _, conn = engines
    path = str(tmp_path / "rt")
    spark.sql(
        f"CREATE TABLE delta.`{path}` (id BIGINT) USING delta "
        "TBLPROPERTIES ('delta.enableRowTracking' = 'true')"
    )
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1), (2)")
    assert [r[0] for r in _rows(pe, _read(pe, conn, "rt"))] == [1, 2]  # readable
    frame = pe.from_user(__import__("pandas").DataFrame({"id": [3]}))
    with pytest.raises(NodeError, match=r"rowTracking.*Spark engine"):
        _write(pe, frame, conn, "rt", "append")
    path = str(tmp_path / "tw")
    spark.sql(
        f"CREATE TABLE delta.`{path}` (id INT) USING delta "
        "TBLPROPERTIES ('delta.enableTypeWidening' = 'true')"
    )
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1)")
    with pytest.raises(NodeError, match=r"typeWidening.*cannot read.*--engine spark"):
        _read(pe, conn, "tw")
