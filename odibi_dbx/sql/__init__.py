"""Spark SQL steps on DuckDB: parse, check portability, translate.

Every construct either gives Spark's result on DuckDB or is rejected before running with
NotPortableError and advice. See docs/sql-portability.md.
"""

from __future__ import annotations

from odibi_dbx.sql.errors import NotPortableError, SqlSyntaxError
from odibi_dbx.sql.parse import parse_spark, referenced_tables
from odibi_dbx.sql.portability import portability_problems
from odibi_dbx.sql.result_types import bind_problem, result_type_problem, typed_results
from odibi_dbx.sql.rewrite import to_duckdb

__all__ = [
    "NotPortableError",
    "SqlSyntaxError",
    "bind_problem",
    "parse_spark",
    "portability_problems",
    "referenced_tables",
    "result_type_problem",
    "to_duckdb",
    "typed_results",
]
