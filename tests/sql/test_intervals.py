"""Spark's ANSI interval types on the Pandas engine, step to step.

A SQL step may give an interval column (typed as Spark types it: YEAR TO MONTH or DAY TO SECOND
with its fields) that a later step uses; one whose Spark type the translation cannot tell is
refused, and no interval column is ever written (Spark cannot write one either).
"""

from __future__ import annotations

import pytest

from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig
from odibi_dbx.engines.base import WriteSpec
from odibi_dbx.engines.pandas import PandasEngine
from odibi_dbx.errors import NodeError
from odibi_dbx.sql import NotPortableError


@pytest.fixture
def engine(tmp_path):
    conn = LocalConnection(
        "out", LocalConnectionConfig(type="local", base_path=str(tmp_path)), tmp_path
    )
    eng = PandasEngine(timezone="America/Los_Angeles", connections={"out": conn})
    eng.start()
    yield eng
    eng.stop()


def _step(engine: PandasEngine, sql: str, **views):
    frame, _ = engine.sql(sql, views)
    return engine.finish(frame, key=sql, consumers=1)


def test_an_interval_column_feeds_a_later_step(engine):
    src = _step(engine, "SELECT TIMESTAMP '2024-03-09 12:00:00' AS ts")
    step = _step(
        engine,
        "SELECT ts, INTERVAL '1 12' DAY TO HOUR AS i, -INTERVAL '1-2' YEAR TO MONTH AS ym FROM src",
        src=src,
    )
    assert engine.spark_type_names(step) == {
        "ts": "timestamp",
        "i": "interval day to hour",
        "ym": "interval year to month",
    }
    later = _step(
        engine,
        "SELECT extract(HOUR FROM i) AS h, CAST(ts + i AS STRING) AS t, "
        "extract(MONTH FROM ym) AS m, i > INTERVAL '36' HOUR AS longer FROM step",
        step=step,
    )
    rows = engine.con.sql(f"SELECT * FROM {later.name}").fetchall()
    # the wall time moves 36 hours across the DST change of 2024-03-10, as on Spark
    assert rows == [(12, "2024-03-11 00:00:00", -2, False)]


def test_an_interval_of_untold_type_is_refused(engine):
    src = _step(engine, "SELECT INTERVAL '3' DAY AS d")
    with pytest.raises(NotPortableError, match="interval"):
        engine.sql("SELECT d * 2 AS twice FROM src", {"src": src})


def test_an_interval_column_is_not_written(engine, tmp_path):
    step = _step(engine, "SELECT 1 AS id, INTERVAL '2' HOUR AS wait")
    spec = WriteSpec(node="w", connection=engine.connections["out"], format="parquet", path="w")
    with pytest.raises(NodeError, match=r"column\(s\) wait hold intervals, which parquet cannot"):
        engine.write(step, spec)
    assert not (tmp_path / "w").exists()
