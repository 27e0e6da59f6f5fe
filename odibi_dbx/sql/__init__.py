"""Spark SQL steps on DuckDB: parse, check portability, translate.

Every construct either gives Spark's result on DuckDB or is rejected before running with
NotPortableError and advice. See docs/sql-portability.md. The names below load their module
(and sqlglot) on first use: `odibi_dbx.sql.cache`, `errors`, `keywords` and `result_types` load
no parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from odibi_dbx.lazy import lazy_attributes

if TYPE_CHECKING:
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
__getattr__ = lazy_attributes(
    __name__,
    {
        "NotPortableError": "odibi_dbx.sql.errors",
        "SqlSyntaxError": "odibi_dbx.sql.errors",
        "parse_spark": "odibi_dbx.sql.parse",
        "referenced_tables": "odibi_dbx.sql.parse",
        "portability_problems": "odibi_dbx.sql.portability",
        "bind_problem": "odibi_dbx.sql.result_types",
        "result_type_problem": "odibi_dbx.sql.result_types",
        "typed_results": "odibi_dbx.sql.result_types",
        "to_duckdb": "odibi_dbx.sql.rewrite",
    },
)
