"""A column or table name as an identifier in the engines' SQL text, whatever characters it
holds (`a``b`, `x.y`, `has space`): the quote character inside the name is doubled.
`spark_metrics.column` gives the Spark Column of a name."""

from __future__ import annotations


def spark(name: str) -> str:
    """Spark / Databricks SQL: backticks."""
    return "`" + name.replace("`", "``") + "`"


def duckdb(name: str) -> str:
    """DuckDB SQL: double quotes."""
    return '"' + name.replace('"', '""') + '"'
