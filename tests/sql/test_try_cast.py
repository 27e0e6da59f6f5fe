"""TRY_CAST gives NULL where Spark's does, for every target a cast rule rewrites.

The rules registered on exp.Cast also receive TRY_CAST nodes (a subclass); a rule that rebuilt
one as a plain CAST would fail the node on a malformed value. This checks the rules themselves
(`checked=True` skips the allow-list), so a target the allow-list admits later is covered too.
"""

from __future__ import annotations

import duckdb
import pytest

from odibi_dbx.sql.rewrite import to_duckdb

# texts every Spark reader of these types rejects: try_cast gives NULL on Spark
MALFORMED = ["abc", "", "2024-02-30", "2024-13-45 10:00:00"]
TARGETS = [
    "TIMESTAMP",
    "TIMESTAMP_NTZ",
    "DATE",
    "INT",
    "BIGINT",
    "DOUBLE",
    "DECIMAL(10,2)",
    "BOOLEAN",
]


@pytest.mark.parametrize("target", TARGETS)
def test_try_cast_of_malformed_text_is_null(target):
    sql = to_duckdb(
        f"SELECT TRY_CAST(s AS {target}) AS v FROM t", schema={"t": {"s": "string"}}, checked=True
    )
    con = duckdb.connect()
    con.execute("CREATE TABLE t (s VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in MALFORMED])
    assert con.execute(sql).fetchall() == [(None,)] * len(MALFORMED), sql
