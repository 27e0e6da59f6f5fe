"""Aggregates and window functions whose empty-group, NULL or type behaviour differs."""

from __future__ import annotations

from sqlglot import exp

from odibi_dbx.sql.rules.base import Context, cast, duck, fn_name


def count_if_zero(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # DuckDB COUNT_IF is NULL on an empty group and HUGEINT; Spark gives 0 as BIGINT
    if isinstance(node, exp.CountIf):
        return duck("COUNT(CASE WHEN {c} THEN 1 END)", c=node.this)
    return None


def collect_list_empty(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # collect_list/collect_set skip NULLs and give [] (not NULL) when nothing is left
    if isinstance(node, (exp.ArrayAgg, exp.ArrayUniqueAgg)) and not isinstance(
        node.parent, exp.Window
    ):
        distinct = "DISTINCT " if isinstance(node, exp.ArrayUniqueAgg) else ""
        return duck(f"COALESCE(LIST({distinct}{{x}}) FILTER (WHERE {{x}} IS NOT NULL), [])",
                    x=node.this)
    return None


def max_by_keeps_null_values(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # Spark max_by/min_by return the value of the max row even if it is NULL
    if isinstance(node, exp.ArgMax):
        return exp.func("ARG_MAX_NULL", node.this, node.expression)
    if isinstance(node, exp.ArgMin):
        return exp.func("ARG_MIN_NULL", node.this, node.expression)
    return None


def percentile_interpolates(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # Spark percentile/median interpolate (QUANTILE_CONT) and return DOUBLE
    if isinstance(node, exp.Quantile):
        q = node.args.get("quantile")
        out = "DOUBLE[]" if isinstance(q, exp.Array) else "DOUBLE"
        return cast(exp.func("QUANTILE_CONT", node.this, q), out)
    if isinstance(node, exp.Median):
        return cast(exp.func("QUANTILE_CONT", node.this, exp.Literal.number(0.5)), "DOUBLE")
    return None


def every_is_bool_and(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # every(x) is bool_and(x)
    if fn_name(node) == "every" and len(node.expressions) == 1:
        return exp.func("BOOL_AND", node.expressions[0])
    return None


def first_last_ignore_nulls(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # first/last(x, true) as aggregates: the first/last non-NULL value in input order
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, (exp.First, exp.Last)):
        if isinstance(node.parent, exp.Window):
            return None
        idx = "1" if isinstance(node.this, exp.First) else "-1"
        return duck(f"(LIST({{x}}) FILTER (WHERE {{x}} IS NOT NULL))[{idx}]", x=node.this.this)
    return None


def window_ignore_nulls(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # first/last(x, true) OVER (...): sqlglot drops IGNORE NULLS; DuckDB has it on the value fns
    if isinstance(node, exp.Window) and isinstance(node.this, exp.IgnoreNulls):
        inner = node.this.this
        if isinstance(inner, (exp.First, exp.Last, exp.FirstValue, exp.LastValue)):
            name = "FIRST_VALUE" if isinstance(inner, (exp.First, exp.FirstValue)) else "LAST_VALUE"
            fn = exp.Anonymous(this=name, expressions=[exp.IgnoreNulls(this=inner.this.copy())])
            node.set("this", fn)
            return node
    return None


_INT_WINDOW_FNS = (exp.Rank, exp.DenseRank, exp.RowNumber, exp.Ntile)


def rank_int(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # Spark rank/dense_rank/row_number/ntile are INT (DuckDB BIGINT)
    if isinstance(node, exp.Window) and isinstance(node.this, _INT_WINDOW_FNS):
        return cast(node, "INTEGER")
    return None


def grouping_tinyint(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    # Spark grouping() is TINYINT
    if isinstance(node, exp.Grouping) and len(node.expressions) == 1:
        return cast(node, "TINYINT")
    return None


RULES = [
    count_if_zero,
    collect_list_empty,
    max_by_keeps_null_values,
    percentile_interpolates,
    every_is_bool_and,
    first_last_ignore_nulls,
    window_ignore_nulls,
    rank_int,
    grouping_tinyint,
]
