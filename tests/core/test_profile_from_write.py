"""Pandas engine: a node that writes Parquet takes its column profile from the statistics of the
files it wrote, and it must equal the profile the aggregate query gives (the one Spark matches)."""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pytest

from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig
from odibi_dbx.engines import write_stats
from odibi_dbx.engines.base import WriteSpec
from odibi_dbx.engines.pandas import PandasEngine

LONG = "é" * 3000  # longer than DuckDB keeps in Parquet string statistics


def _table() -> pa.Table:
    n = 40
    return pa.table(
        {
            "name": [LONG + str(i) if i % 9 == 0 else f"ü{i % 7}x" for i in range(n)],
            "city": [
                None if i % 4 == 0 else ["Zürich", "Åre", "Berlin", "aachen"][i % 4]
                for i in range(n)
            ],
            "qty": [None if i % 5 == 0 else (i * 37) % 101 - 50 for i in range(n)],
            "day": [dt.date(2024, 1, 1) + dt.timedelta(days=(i * 13) % 90) for i in range(n)],
            "ok": [i % 3 == 0 for i in range(n)],
            "price": [math.nan if i == 7 else i / 3 for i in range(n)],
            "at": [
                dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i)
                for i in range(n)
            ],
            "empty": pa.array([None] * n, pa.string()),
            "region": [["north", "south"][i % 2] for i in range(n)],
        }
    )


@pytest.mark.parametrize("partition_by", [(), ("region",)])
def test_profile_from_parquet_statistics_equals_the_aggregate(tmp_path, monkeypatch, partition_by):
    conn = LocalConnection(
        "out", LocalConnectionConfig(type="local", base_path=str(tmp_path)), tmp_path
    )
    eng = PandasEngine(connections={"out": conn})
    eng.start()
    try:
        expected = eng.summarize(eng.finish(eng.from_user(_table()), key="a", consumers=0), 0, 50)
        used = []
        real = write_stats.known_values

        def spy(*args):
            used.append(real(*args))
            return used[-1]

        monkeypatch.setattr("odibi_dbx.engines.pandas.known_values", spy)
        frame = eng.finish(eng.from_user(_table()), key="b", consumers=0)
        before = eng.summarize(frame, 0, 50, defer_profile=True)
        assert before.profile is None  # nothing scanned yet: the write gives it
        spec = WriteSpec(
            node="b", connection=conn, format="parquet", path="out", partition_by=partition_by
        )
        eng.write(frame, spec)
        got = eng.summarize(frame, 0, 50).profile
    finally:
        eng.stop()
    assert _comparable(got) == _comparable(expected.profile)
    assert got["name"]["min"] == "é" * 100 + "…" and got["name"]["max"] == "ü6x"
    assert got["city"] == {"nulls": 10, "null_fraction": 0.25, "min": "Berlin", "max": "Åre"}
    assert got["empty"] == {"nulls": 40, "null_fraction": 1.0, "min": None, "max": None}
    # the statistics answered the string, integer and date columns (only the long strings,
    # floats and timestamps, and the partition column, were left to the aggregate)
    (values,) = used
    answered = [v is not write_stats.MISSING for v in values]
    assert answered[3:7] == [True, True, True, True]  # city: count, min, max; qty: count
    assert values[4:6] == ["Berlin", "Åre"]


def _comparable(profile):
    return {
        c: {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in p.items()}
        for c, p in profile.items()
    }


@pytest.mark.parametrize("partition_by", [(), ("region",)])
def test_a_streamed_write_gives_the_story_what_a_materialised_output_gives(tmp_path, partition_by):
    """A node whose only reader is its own write streams into it (no table in between); its
    rows, sample and profile then come from the write and the files it wrote, and equal what
    the materialised output gives (partition columns keep their type and place)."""
    conn = LocalConnection(
        "out", LocalConnectionConfig(type="local", base_path=str(tmp_path)), tmp_path
    )
    eng = PandasEngine(connections={"out": conn})
    eng.start()
    try:
        table = eng.finish(eng.from_user(_table()), key="a", consumers=0)
        expected = eng.summarize(table, 10, 50)
        every_row = [_row(r) for r in eng._head(table.name, 100)]
        frame = eng.finish(eng.from_user(_table()), key="b", consumers=0, streamed=True)
        assert not frame.table
        before = eng.summarize(frame, 10, 50, defer_profile=True)
        assert (before.rows, before.sample, before.profile) == (None, [], None)
        spec = WriteSpec(
            node="b", connection=conn, format="parquet", path="out", partition_by=partition_by
        )
        result = eng.write(frame, spec)
        after = eng.summarize(frame, 10, 50)
    finally:
        eng.stop()
    assert result.rows == after.rows == expected.rows == 40
    assert after.columns == expected.columns
    assert _comparable(after.profile) == _comparable(expected.profile)
    assert len(after.sample) == 10
    assert all(list(r) == [c for c, _ in expected.columns] for r in after.sample)
    assert all(_row(r) in every_row for r in after.sample)


def _row(record):
    return {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}


@pytest.mark.parametrize("partition_by", [[], ["region"]])
def test_a_lazy_parquet_read_profiles_from_its_footers_as_the_aggregate_does(
    tmp_path, partition_by
):
    """A Parquet read left lazy for later nodes takes rows and exact statistics from the files'
    footers (here written by pyarrow, not DuckDB) and equals the profile of a copy."""
    import pyarrow.parquet as pq

    from odibi_dbx.engines.base import ReadSpec

    pq.write_to_dataset(_table(), tmp_path / "in", partition_cols=partition_by or None)
    conn = LocalConnection(
        "in", LocalConnectionConfig(type="local", base_path=str(tmp_path)), tmp_path
    )
    eng = PandasEngine(connections={"in": conn})
    eng.start()
    try:
        spec = ReadSpec("r", conn, "parquet", path="in")
        copy = eng.finish(eng.read(spec), key="a", consumers=1)
        expected = eng.summarize(copy, 10, 50)
        lazy = eng.finish(eng.read(spec), key="b", consumers=1, stable=True)
        assert not lazy.table
        got = eng.summarize(lazy, 10, 50)
    finally:
        eng.stop()
    assert got.rows == expected.rows == 40 and got.columns == expected.columns
    assert _comparable(got.profile) == _comparable(expected.profile)
    assert [_row(r) for r in got.sample] == [_row(r) for r in expected.sample]
