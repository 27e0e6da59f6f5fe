"""Rule signature, the rewrite context and helpers to build DuckDB expressions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.node_types import on  # noqa: F401 - the rules' marker, re-exported


@dataclass
class Context:
    """What rules may know about the query (column types live on the nodes' meta)."""

    has_schema: bool = False

    @classmethod
    def build(cls, tree: exp.Expr, schema: Mapping[str, Mapping[str, str]] | None) -> Context:
        ty.annotate(tree, schema)
        return cls(has_schema=bool(schema))


Rule = Callable[[exp.Expr, Context], "exp.Expr | None"]


def duck(template: str, **args: exp.Expr | str | int) -> exp.Expr:
    """Parse a DuckDB template; `{name}` placeholders become the given nodes (or literal text)."""
    text = template
    nodes = {}
    for name, value in args.items():
        if isinstance(value, exp.Expr):
            nodes[name] = value
            text = text.replace("{" + name + "}", f"__arg_{name}__")
        else:
            text = text.replace("{" + name + "}", str(value))
    tree = _parsed_template(text).copy()  # the cached tree stays as parsed
    for col in list(tree.find_all(exp.Column)):
        if col.name.startswith("__arg_") and not col.table:
            col.replace(nodes[col.name[6:-2]].copy())
    return tree


@lru_cache(maxsize=1024)
def _parsed_template(text: str) -> exp.Expr:
    """Rules build the same few templates for every query: parse each text once."""
    return sqlglot.parse_one(text, read="duckdb")


def cast(node: exp.Expr, to: str) -> exp.Cast:
    return exp.Cast(this=node, to=ty.build_type(to, dialect="duckdb"))


def spark_cast(node: exp.Expr, to: str, ctx: Context) -> exp.Expr:
    """CAST(node AS to) with Spark's semantics, for an implicit cast a rule adds: the rewrite
    rules for casts run on the new node (its operand is already rewritten)."""
    from odibi_dbx.sql.rules import rules_for  # the rule list imports this module

    out = exp.Cast(this=node, to=ty.build_type(to, dialect="databricks"))
    out.meta[ty.KEY] = out.to
    for rule in rules_for(exp.Cast):
        new = rule(out, ctx)
        if new is not None and new is not out:
            return new
    return out


def kind_in(node: exp.Expr | None, *kinds: exp.DType) -> bool:
    """A NULL literal, or a value of one of these types (False when its type is unknown)."""
    return isinstance(node, exp.Null) or is_a(node, *kinds)


def spark_type(node: exp.Expr | None) -> exp.DataType | None:
    return ty.type_of(node)


def is_a(node: exp.Expr | None, *kinds: exp.DType) -> bool:  # DType: DataType.Type
    t = ty.type_of(node)
    return t is not None and t.this in kinds


def fn_name(node: exp.Expr) -> str:
    """Lower-case name of an unmapped (Anonymous) function call, else ''."""
    return node.name.lower() if isinstance(node, exp.Anonymous) else ""


def literal_str(node: exp.Expr | None) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


T = exp.DataType.Type
TIMESTAMPS = (T.TIMESTAMPTZ, T.TIMESTAMPLTZ, T.TIMESTAMP)
STRINGS = (T.VARCHAR, T.TEXT, T.CHAR)
INTEGRAL = (T.TINYINT, T.SMALLINT, T.INT, T.BIGINT)
FRACTIONAL = (T.DECIMAL, T.DOUBLE, T.FLOAT)
BINARY = (T.BINARY, T.VARBINARY)
