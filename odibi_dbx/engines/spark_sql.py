"""Point a Spark SQL step's table names at per-call temp views.

Concurrent nodes share one session, so each step's views get unique names. The query text is
kept as written: only the table identifiers are replaced, at the positions sqlglot reports,
so Spark runs exactly the user's SQL (no regeneration through sqlglot).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from odibi_dbx.engines import quote

if TYPE_CHECKING:
    from odibi_dbx.sql.cache import CachedStep


def with_view_names(
    query: str,
    views: Mapping[str, Any],
    name_for: Callable[[str], str],
    tree: exp.Expr | CachedStep | None = None,
) -> str:
    """`query` with every reference to a key of `views` (lower-case node names, and `this`)
    replaced by `name_for(key)`. CTEs and other tables are left alone. `tree` is the query as
    validation parsed it (the plan's); it is parsed here when not given (or cached)."""
    from odibi_dbx.sql.cache import CachedStep
    from odibi_dbx.sql.parse import parse_spark, source_tables, table_key

    tree = parse_spark(query) if tree is None or isinstance(tree, CachedStep) else tree
    edits: list[tuple[int, int, str]] = []
    for table in source_tables(tree):
        key = table_key(table)
        if key not in views:
            continue
        ident = table.this
        meta = ident.meta if isinstance(ident, exp.Identifier) else {}
        start, end = meta.get("start"), meta.get("end")
        if start is None or end is None or query[start : end + 1].strip("`").lower() != key:
            return _regenerate(tree, views, name_for)
        alias = "" if table.args.get("alias") else f" AS {quote.spark(ident.name)}"
        edits.append((start, end + 1, f"{quote.spark(name_for(key))}{alias}"))
    for start, end, text in sorted(edits, reverse=True):
        query = query[:start] + text + query[end:]
    return query


def _regenerate(tree: exp.Expr, views: Mapping[str, Any], name_for: Callable[[str], str]) -> str:
    """Fallback when positions are missing: rename in the AST and print it as Databricks SQL."""
    from odibi_dbx.sql.parse import source_tables, table_key

    tree = tree.copy()  # the plan's tree is shared: rename a copy
    for table in source_tables(tree):
        key = table_key(table)
        if key in views:
            if not table.args.get("alias"):
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            table.set("this", exp.to_identifier(name_for(key)))
    return tree.sql(dialect="databricks")
