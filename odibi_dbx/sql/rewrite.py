"""Translate a Spark SQL query to DuckDB SQL: portability checks, rewrite rules, table substitution."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, UnsupportedError

from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.node_types import copy_tree
from odibi_dbx.sql.parse import parse_spark, source_tables, table_key
from odibi_dbx.sql.portability import portability_problems
from odibi_dbx.sql.rules import Context, rules_for
from odibi_dbx.sql.rules.time import TWO_DIGIT_YEAR, two_digit_year_in_2000s
from odibi_dbx.sql.types import KEY, output_types

WRITE_DIALECT = "duckdb"


def to_duckdb(
    sql_or_tree: str | exp.Expr,
    *,
    tables: Mapping[str, str] | None = None,
    schema: Mapping[str, Mapping[str, str]] | None = None,
    checked: bool = False,
    copy: bool = True,
    annotated: bool = False,
    result_types: list[exp.DataType | None] | None = None,
) -> str:
    """Spark SQL -> DuckDB SQL giving Spark's result, or NotPortableError.

    `tables` maps a referenced table name (lower-case) to the DuckDB relation to read instead.
    `schema` optionally maps table names to {column: type} (Spark or DuckDB type names); with
    it, type-dependent rules (decimal division, sum/avg of decimals) match Spark's result types.
    `checked`: the caller already ran portability_problems on this tree and found none.
    `copy=False`: rewrite the given tree in place (the caller's own copy).
    `annotated`: the caller already stored the types on this tree (types.annotate, same schema).
    `result_types`: a list filled with the Spark types inferred for the output columns (None
    where unknown; empty when the columns are not known).
    """
    if isinstance(sql_or_tree, str):
        tree = parse_spark(sql_or_tree)
    else:
        tree = copy_tree(sql_or_tree) if copy else sql_or_tree
    ctx = Context(has_schema=bool(schema)) if annotated else Context.build(tree, schema)
    if result_types is not None:
        result_types[:] = output_types(tree) or []
    # the tree is this call's own and annotated with this schema: checked without a copy
    problems = [] if checked else portability_problems(tree, schema, annotated=True)
    if problems:
        raise problems[0]
    if tables:
        _substitute_tables(tree, {k.lower(): v for k, v in tables.items()})
    tree = apply_rules(tree, ctx)
    try:  # the tree is this call's own (a copy, or the caller's with copy=False): no 2nd copy
        return _writer().generate(tree, copy=False, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        msg = str(e).splitlines()[0]
        raise NotPortableError(
            msg,
            f"Not supported on the Pandas engine: {msg}.",
            "rewrite the expression with the portable functions in docs/sql-portability.md, "
            "or run this step on the Spark engine.",
        ) from None


@cache
def _writer() -> Dialect:
    """The DuckDB dialect, looked up once (tree.sql(dialect=...) builds one per call)."""
    return Dialect.get_or_raise(WRITE_DIALECT)


def apply_rules(tree: exp.Expr, ctx: Context) -> exp.Expr:
    """Post-order walk: children are rewritten first; the first matching rule wins per node."""
    for child in list(tree.iter_expressions()):
        key, index = child.arg_key, child.index  # child.parent is tree
        rewritten = apply_rules(child, ctx)
        if rewritten is not child and key is not None:
            tree.set(key, rewritten, index)
    out = tree
    node_type: type = type(tree)  # the rules are looked up, and cached, per node class
    for rule in rules_for(node_type):
        new = rule(tree, ctx)
        if new is not None and new is not tree:
            if KEY in tree.meta:
                new.meta[KEY] = tree.meta[KEY]
            out = new
            break
    if tree.meta.get(TWO_DIGIT_YEAR):
        out = two_digit_year_in_2000s(out, tree)
    return out


def _substitute_tables(tree: exp.Expr, tables: Mapping[str, str]) -> None:
    for table in source_tables(tree):
        target = tables.get(table_key(table))
        if target is None:
            continue
        new = exp.to_table(target, dialect=WRITE_DIALECT)
        alias = table.args.get("alias")
        if alias is None:
            alias = exp.TableAlias(this=exp.to_identifier(table.name))
        new.set("alias", alias)
        table.replace(new)
