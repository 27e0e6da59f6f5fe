"""Parity: every corpus query gives Spark's values and types on DuckDB, or is rejected early.

Runs each query of corpus.yaml on a local Spark session and, translated by to_duckdb, on DuckDB
over the same fixtures (sql_fixtures.py). Queries with `reject:` must raise NotPortableError.
"""

from __future__ import annotations

import pytest
import sql_harness
from sql_harness import CORPUS

from odibi_dbx.sql import NotPortableError, to_duckdb

pytestmark = pytest.mark.spark

PORTABLE = [q for q in CORPUS if not q.get("reject")]
REJECTED = [q for q in CORPUS if q.get("reject")]


def test_corpus_is_large_enough():
    assert len(PORTABLE) >= 80
    assert len({q["id"] for q in CORPUS}) == len(CORPUS), "corpus ids must be unique"


@pytest.mark.parametrize("case", PORTABLE, ids=[q["id"] for q in PORTABLE])
def test_same_result_as_spark(case, spark, duck):
    con, types = duck
    sql, zone = case["sql"], case.get("tz", "UTC")
    spark.conf.set("spark.sql.session.timeZone", zone)
    con.execute(f"SET TimeZone = '{zone}'")
    try:
        spark_types, spark_rows = sql_harness.run_spark(spark, sql)
        duck_sql = to_duckdb(sql, schema=types)
        duck_types, duck_rows = sql_harness.run_duckdb(con, duck_sql)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        con.execute("SET TimeZone = 'UTC'")
    assert duck_types == spark_types, f"result types differ\nDuckDB SQL: {duck_sql}"
    diff = sql_harness.compare(spark_rows, duck_rows, sql_harness.is_ordered(sql))
    assert diff is None, f"values differ:\n{diff}\nDuckDB SQL: {duck_sql}"


@pytest.mark.parametrize("case", REJECTED, ids=[q["id"] for q in REJECTED])
def test_rejected_but_runs_on_spark(case, spark, duck):
    _, types = duck
    assert spark.sql(case["sql"]).schema  # valid Spark SQL: it analyses ...
    with pytest.raises(NotPortableError) as info:  # ... that we refuse to translate
        to_duckdb(case["sql"], schema=types)
    assert info.value.construct == case["reject"]
    assert info.value.advice
