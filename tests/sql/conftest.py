"""Fixtures for the SQL translation tests: the run's shared Spark session (tests/conftest.py,
`spark_session`), tuned per module, and one DuckDB connection."""

from __future__ import annotations

import pytest

# runtime settings that make many tiny queries faster (no effect on results)
_FAST = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",  # interpreted: no Janino compile per query
}


@pytest.fixture(scope="module")
def spark(spark_session):
    """The shared session, in UTC and tuned for tiny queries while this module runs."""
    saved = {k: spark_session.conf.get(k, None) for k in _FAST}
    for k, v in _FAST.items():
        spark_session.conf.set(k, v)
    yield spark_session
    for k, v in saved.items():
        if v is None:
            spark_session.conf.unset(k)
        else:
            spark_session.conf.set(k, v)


@pytest.fixture(scope="module")
def spark_schemas(spark):
    """Register the parity fixtures as temp views; their Spark schemas by table name."""
    import sql_harness

    return sql_harness.load_spark(spark)


@pytest.fixture(scope="module")
def duck(spark_schemas):
    """DuckDB in UTC with the same fixtures as Arrow tables; yields (connection, column types)."""
    import duckdb
    import sql_harness

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    types = sql_harness.load_duckdb(con, spark_schemas)
    yield con, types
    con.close()


def pytest_terminal_summary(terminalreporter):
    """The golden-file counts (tests/sql/test_golden.py), whether the test passed or not."""
    from tests.sql.golden_run import SUMMARY

    for line in SUMMARY:
        terminalreporter.write_line(line)
