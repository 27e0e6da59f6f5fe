"""Refuse type-dependent constructs whose operand type is unknown.

Some Spark results depend on operand types that DuckDB SQL cannot branch on (printing a
timestamp or a double as a string, dividing or averaging decimals, rounding doubles). When
the translator cannot infer the type (no `schema`, or an expression it does not model) it
rejects the construct instead of risking a silently different result.
"""

from __future__ import annotations

from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.rules.base import Context, T, on

_ADVICE = (
    "pass schema={table: {column: type}} to to_duckdb (the Pandas engine does), or add an "
    "explicit CAST(... AS <type>) around the operand."
)
_ADVICE_WITH_SCHEMA = "add an explicit CAST(... AS <type>) around the operand."


def _unknown(node: exp.Expr | None) -> bool:
    if node is None or isinstance(node, exp.Null):
        return False
    return ty.type_of(node) is None


def _reject(what: str, node: exp.Expr, ctx: Context) -> NotPortableError:
    for col in node.find_all(exp.Column):  # a misspelt column: say so, in Spark's words
        if ty.UNRESOLVED in col.meta:
            from difflib import get_close_matches

            names = col.meta[ty.UNRESOLVED]
            near = get_close_matches(col.name.lower(), names, n=3)
            return NotPortableError(
                "unresolved column",
                f"[UNRESOLVED_COLUMN] No input has a column named {col.name!r}"
                + (f"; did you mean {', '.join(map(repr, near))}?" if near else ".")
                + f" The inputs' columns: {', '.join(names)}.",
                "correct the column name.",
            )
    return NotPortableError(
        "unknown operand type",
        f"Cannot tell the type of {node.sql('databricks')!r} in {what}; Spark's result depends "
        "on it.",
        _ADVICE_WITH_SCHEMA if ctx.has_schema else _ADVICE,
    )


@on(exp.Cast, exp.Concat, exp.ConcatWs, exp.DPipe, exp.Div, exp.Avg, exp.Round, exp.Anonymous)
def unknown_types_are_refused(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # runs on the original Spark nodes, before the type-dependent rules replace them
    if isinstance(node, exp.Cast) and node.to.this in (T.VARCHAR, T.TEXT, T.CHAR):
        if _unknown(node.this):
            raise _reject("CAST(... AS STRING)", node.this, ctx)
    elif isinstance(node, (exp.Concat, exp.ConcatWs, exp.DPipe)):
        for part in node.iter_expressions():
            if _unknown(part) and not isinstance(part, exp.Array):
                raise _reject("a string concatenation", part, ctx)
    elif isinstance(node, exp.Div):
        for arg in (node.left, node.right):
            if _unknown(arg):
                raise _reject("a division", arg, ctx)
    elif isinstance(node, (exp.Avg, exp.Round)):
        if _unknown(node.this):
            raise _reject(f"{node.key}()", node.this, ctx)
    elif isinstance(node, exp.Anonymous) and node.name.lower() == "bround":
        if node.expressions and _unknown(node.expressions[0]):
            raise _reject("bround()", node.expressions[0], ctx)
    return None


RULES = [unknown_types_are_refused]
