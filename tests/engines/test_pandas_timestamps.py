"""Timestamps on the Pandas engine are Spark's `timestamp` (an instant in microseconds) whatever
unit a user frame or a file carries: pandas < 2 (DBR 15.4/16.4 run pandas 1.5.3) hands over
nanoseconds, which must merge into a Delta table like any other instant, while a real type
change is still refused."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from odibi_dbx.engines.base import ReadSpec, WriteSpec
from odibi_dbx.errors import NodeError

pytest.importorskip("deltalake")

T0 = datetime(2025, 1, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)


@pytest.fixture
def engine(tmp_path: Path):
    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig
    from odibi_dbx.engines.pandas import PandasEngine

    eng = PandasEngine(timezone="UTC")
    eng.start()
    eng.conn = LocalConnection("lake", LocalConnectionConfig(type="local", base_path="."), tmp_path)
    yield eng
    eng.stop()


def _table(ids, ts, unit: str, ts_type=None) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "ts": pa.array(ts, ts_type or pa.timestamp(unit, tz="UTC")),
        }
    )


def _write(engine, table, mode: str, path="t", fmt="delta"):
    spec = WriteSpec("w", engine.conn, fmt, mode=mode, path=path, merge_keys=("id",))
    return engine.write(engine.from_user(table), spec)


def _rows(engine, path="t", fmt="delta"):
    df = engine.to_user(engine.read(ReadSpec("r", engine.conn, fmt, path=path)))
    return sorted((int(r.id), r.ts.to_pydatetime()) for r in df.itertuples(index=False))


def test_nanosecond_instants_are_the_engines_timestamp(engine):
    frame = engine.from_user(_table([1], [T0], "ns"))
    assert engine._columns(frame) == {"id": "BIGINT", "ts": "TIMESTAMP WITH TIME ZONE"}


def test_nanosecond_frame_merges_into_a_microsecond_delta_table(engine):
    _write(engine, _table([1, 2], [T0, T0], "us"), "overwrite")
    later = T0.replace(hour=11)
    _write(engine, _table([2, 3], [later, later], "ns"), "merge")
    assert _rows(engine) == [(1, T0), (2, later), (3, later)]
    whole = later.replace(microsecond=0)
    _write(engine, _table([1], [whole], "ms"), "merge")  # any unit is the same type
    assert _rows(engine)[0] == (1, whole)


def test_a_real_type_change_is_still_refused(engine):
    _write(engine, _table([1], [T0], "ns"), "overwrite")
    for other, name in ((pa.string(), "string"), (pa.int64(), "bigint")):
        value = "2025-01-01" if other == pa.string() else 1
        with pytest.raises(NodeError, match=f"column 'ts' is {name}, the target has timestamp"):
            _write(engine, _table([1], [value], "", ts_type=other), "merge")
    assert _rows(engine) == [(1, T0)]


def test_parquet_files_in_nanoseconds_take_an_append(engine, tmp_path):
    (tmp_path / "p").mkdir()
    pq.write_table(_table([1], [T0], "ns"), tmp_path / "p" / "part-0.parquet")  # pandas 1.5
    _write(engine, _table([2], [T0], "us"), "append", path="p", fmt="parquet")
    assert [r[0] for r in _rows(engine, "p", "parquet")] == [1, 2]
