"""Aggregates and window functions whose empty-group, NULL or type behaviour differs."""

from __future__ import annotations

from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.rules.base import Context, cast, duck, fn_name, on
from odibi_dbx.sql.rules.numeric import decimal_average


@on(exp.CountIf)
def count_if_zero(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # DuckDB COUNT_IF is NULL on an empty group and HUGEINT; Spark gives 0 as BIGINT
    if isinstance(node, exp.CountIf):
        return duck("COUNT(CASE WHEN {c} THEN 1 END)", c=node.this)
    return None


@on(exp.ArrayAgg, exp.ArrayUniqueAgg)
def collect_list_empty(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # collect_list/collect_set skip NULLs and give [] (not NULL) when nothing is left
    if isinstance(node, (exp.ArrayAgg, exp.ArrayUniqueAgg)) and not isinstance(
        node.parent, exp.Window
    ):
        distinct = "DISTINCT " if isinstance(node, exp.ArrayUniqueAgg) else ""
        return duck(
            f"COALESCE(LIST({distinct}{{x}}) FILTER (WHERE {{x}} IS NOT NULL), [])", x=node.this
        )
    return None


@on(exp.ArgMax, exp.ArgMin)
def max_by_keeps_null_values(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark max_by/min_by return the value of the max row even if it is NULL
    if isinstance(node, exp.ArgMax):
        return exp.func("ARG_MAX_NULL", node.this, node.expression)
    if isinstance(node, exp.ArgMin):
        return exp.func("ARG_MIN_NULL", node.this, node.expression)
    return None


@on(exp.Quantile, exp.Median)
def percentile_interpolates(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark percentile/median interpolate (QUANTILE_CONT) and return DOUBLE
    if isinstance(node, exp.Quantile):
        q = node.args.get("quantile")
        out = "DOUBLE[]" if isinstance(q, exp.Array) else "DOUBLE"
        return cast(exp.func("QUANTILE_CONT", node.this, q), out)
    if isinstance(node, exp.Median):
        return cast(exp.func("QUANTILE_CONT", node.this, exp.Literal.number(0.5)), "DOUBLE")
    return None


@on(exp.Anonymous)
def every_is_bool_and(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # every(x) is bool_and(x)
    if fn_name(node) == "every" and len(node.expressions) == 1:
        return exp.func("BOOL_AND", node.expressions[0])
    return None


@on(exp.IgnoreNulls)
def first_last_ignore_nulls(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # first/last(x, true) as aggregates: the first/last non-NULL value in input order
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, (exp.First, exp.Last)):
        if isinstance(node.parent, exp.Window):
            return None
        idx = "1" if isinstance(node.this, exp.First) else "-1"
        return duck(f"(LIST({{x}}) FILTER (WHERE {{x}} IS NOT NULL))[{idx}]", x=node.this.this)
    return None


@on(exp.Window)
def window_ignore_nulls(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # first/last(x, true) OVER (...): sqlglot drops IGNORE NULLS unless written as *_value
    if isinstance(node, exp.Window) and isinstance(node.this, exp.IgnoreNulls):
        inner = node.this.this
        if isinstance(inner, (exp.First, exp.Last)):
            cls = exp.FirstValue if isinstance(inner, exp.First) else exp.LastValue
            node.this.set("this", cls(this=inner.this))
            return node
    return None


@on(exp.Window)
def window_aggregate_types(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # a rule that typed an aggregate with CAST(agg) must cast the whole window instead
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Cast):
        c = node.this
        node.set("this", c.this)
        return exp.Cast(this=node, to=c.to)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Avg):
        return _window_avg_decimal(node)
    return None


def _window_avg_decimal(node: exp.Window) -> exp.Expr | None:
    avg = node.this
    src, out = ty.dec_ps(ty.type_of(avg.this)), ty.dec_ps(ty.type_of(avg))
    if not (src and out):
        return None
    total, count = node.copy(), node.copy()
    total.set("this", exp.Sum(this=avg.this.copy()))
    count.set("this", exp.Count(this=avg.this.copy()))
    return decimal_average(total, count, src, out)


_INT_WINDOW_FNS = (exp.Rank, exp.DenseRank, exp.RowNumber, exp.Ntile)


@on(exp.Window)
def rank_int(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark rank/dense_rank/row_number/ntile are INT (DuckDB BIGINT)
    if isinstance(node, exp.Window) and isinstance(node.this, _INT_WINDOW_FNS):
        return cast(node, "INTEGER")
    return None


@on(exp.Grouping)
def grouping_tinyint(node: exp.Expr, ctx: Context) -> exp.Expr | None:
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
    window_aggregate_types,
    rank_int,
    grouping_tinyint,
]
