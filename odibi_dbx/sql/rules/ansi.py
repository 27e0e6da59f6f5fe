"""Spark's ANSI data errors and result types that DuckDB does not give by itself.

* `/`, `div`, `%`, `pmod` by zero raise DIVIDE_BY_ZERO (DuckDB: NULL or Infinity);
  `try_divide` keeps giving NULL; `try_add`/`try_subtract`/`try_multiply` give NULL on overflow.
* `split_part(s, d, 0)` raises INVALID_INDEX_OF_ZERO; a regex group index the pattern does not
  have raises INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX.
* functions whose DuckDB result type differs get Spark's (bit_count -> INT, ...).
* a DECIMAL without precision is Spark's DECIMAL(10,0) (DuckDB: DECIMAL(18,3)).
"""

from __future__ import annotations

import re

from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.rules.base import (
    INTEGRAL,
    Context,
    T,
    cast,
    duck,
    fn_name,
    is_a,
    literal_str,
    on,
)
from odibi_dbx.sql.rules.numeric import decimal_result_type
from odibi_dbx.sql.types import KEY


def spark_error(error_class: str, message: str) -> exp.Expr:
    """A DuckDB expression that raises Spark's error (error() fails the query when reached)."""
    text = f"[{error_class}] {message}".replace("'", "''")
    return duck(f"error('{text}')")


def _zero_guard(divisor: exp.Expr) -> exp.Expr:
    guarded = duck(
        "CASE WHEN {d} = 0 THEN {err} ELSE {d} END",
        d=divisor,
        err=spark_error(
            "DIVIDE_BY_ZERO",
            "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead.",
        ),
    )
    if KEY in divisor.meta:
        guarded.meta[KEY] = divisor.meta[KEY]
    return guarded


@on(exp.Div, exp.IntDiv, exp.Mod, exp.Anonymous)
def division_by_zero_raises(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    """Guard the divisor in place (returns None so the typing rules still apply)."""
    if isinstance(node, (exp.Div, exp.IntDiv, exp.Mod)) and not node.meta.get("guarded"):
        divisor = node.expression
        nonzero = (
            isinstance(divisor, exp.Literal) and not divisor.is_string and float(divisor.this) != 0
        )
        if not nonzero and not isinstance(divisor, exp.Null):
            node.set("expression", _zero_guard(divisor))
        node.meta["guarded"] = True
    elif fn_name(node) == "pmod" and len(node.expressions) == 2:
        node.set("expressions", [node.expressions[0], _zero_guard(node.expressions[1])])
    return None


_TRY_OPS: dict[type[exp.Expr], str] = {
    exp.SafeAdd: "+",
    exp.SafeSubtract: "-",
    exp.SafeMultiply: "*",
}
_INTEGRAL_RANGE = {
    exp.DataType.Type.TINYINT: ("TINYINT", 7),
    exp.DataType.Type.SMALLINT: ("SMALLINT", 15),
    exp.DataType.Type.INT: ("INTEGER", 31),
    exp.DataType.Type.BIGINT: ("BIGINT", 63),
}


@on(exp.SafeAdd, exp.SafeSubtract, exp.SafeMultiply)
def try_arithmetic_gives_null(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    """try_add/try_subtract/try_multiply: NULL where the integral result overflows its type
    (computed in HUGEINT, then range-checked); with a double operand the plain operator (Spark
    does not raise there). Decimals and unknown types stay untranslated (refused at bind)."""
    op = _TRY_OPS.get(type(node))
    if op is None:
        return None
    (a, ta), (b, tb) = _operand(node.this), _operand(node.expression)
    if ta is None or tb is None:
        return None
    if ta.this in _INTEGRAL_RANGE and tb.this in _INTEGRAL_RANGE:
        name, bits = max(_INTEGRAL_RANGE[ta.this], _INTEGRAL_RANGE[tb.this], key=lambda x: x[1])
        return duck(
            f"CASE WHEN (CAST({{a}} AS HUGEINT) {op} CAST({{b}} AS HUGEINT)) "
            f"BETWEEN {-(2**bits)} AND {2**bits - 1} "
            f"THEN CAST(CAST({{a}} AS HUGEINT) {op} CAST({{b}} AS HUGEINT) AS {name}) END",
            a=a,
            b=b,
        )
    numeric = set(_INTEGRAL_RANGE) | {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
    if ta.this in numeric and tb.this in numeric:
        return cast(duck(f"{{a}} {op} {{b}}", a=a, b=b), "DOUBLE")
    return None


def _operand(node: exp.Expr) -> tuple[exp.Expr, exp.DataType | None]:
    """An operand and its Spark type; integer literals folded with their sign (Spark types
    -2147483648 as INT and -9223372036854775808L as BIGINT, like the values they are)."""
    sign, inner = 1, node
    if isinstance(inner, exp.Neg):
        sign, inner = -1, inner.this
    suffix = None
    if isinstance(inner, exp.Cast) and inner.to.this in _INTEGRAL_RANGE:
        suffix, inner = inner.to.this, inner.this  # 5L, 5S, 5Y
    if not (isinstance(inner, exp.Literal) and not inner.is_string and inner.this.isdigit()):
        return node, ty.type_of(node)
    value = sign * int(inner.this)
    kind = suffix or (exp.DataType.Type.INT if -(2**31) <= value < 2**31 else None)
    if kind is None:
        kind = exp.DataType.Type.BIGINT if -(2**63) <= value < 2**63 else None
    if (
        kind is None
        or not -(2 ** _INTEGRAL_RANGE[kind][1]) <= value < 2 ** _INTEGRAL_RANGE[kind][1]
    ):
        return node, None  # beyond the type: Spark's literal is a DECIMAL (or fails)
    return exp.Literal.number(value), exp.DataType(this=kind)


_TRY_AGGREGATES = {"try_sum": exp.Sum, "try_avg": exp.Avg}


@on(exp.Anonymous)
def try_mod_and_aggregates(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    """try_mod: NULL for a zero divisor, else `%` (Spark's types). try_sum of a DOUBLE and
    try_avg of an integer or a DOUBLE cannot overflow (Spark sums them as DOUBLE): the plain
    aggregate. Integer try_sum and decimal try_sum/try_avg give NULL when a partial sum
    overflows, in Spark's (row-order dependent) summing order: refused, not guessed."""
    name = fn_name(node)
    if name == "try_mod" and len(node.expressions) == 2:
        a, b = node.expressions
        divisor = duck("NULLIF({b}, 0)", b=b)
        divisor.meta[KEY] = b.meta.get(KEY)
        mod = exp.Mod(this=a, expression=divisor)
        mod.meta[KEY] = node.meta.get(KEY)
        return decimal_result_type(mod, ctx) or mod
    aggregate = _TRY_AGGREGATES.get(name)
    if aggregate is None or len(node.expressions) != 1:
        return None
    (x,) = node.expressions
    if is_a(x, T.DOUBLE, T.FLOAT) or (name == "try_avg" and is_a(x, *INTEGRAL)):
        return aggregate(this=x)
    operand = ty.type_of(x)
    raise NotPortableError(
        name,
        f"{name}() of {operand.sql('databricks') if operand else 'this operand'} is not "
        "reproduced on the Pandas engine: Spark gives NULL when a partial sum overflows, which "
        "depends on its order of rows.",
        f"{name[4:]}(x) (it raises ARITHMETIC_OVERFLOW like Spark), {name}(CAST(x AS DOUBLE)), "
        "or run this step on the Spark engine (engine: spark).",
    )


@on(exp.SplitPart)
def split_part_index_zero_raises(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    if isinstance(node, exp.SplitPart):
        index = node.args.get("part_index")
        if index is None:
            return None
        return exp.Anonymous(
            this="SPLIT_PART",
            expressions=[
                node.this,
                node.args.get("delimiter"),
                duck(
                    "CASE WHEN {i} = 0 THEN {err} ELSE {i} END",
                    i=index,
                    err=spark_error("INVALID_INDEX_OF_ZERO", "The index 0 is invalid."),
                ),
            ],
        )
    return None


@on(exp.RegexpExtract, exp.RegexpExtractAll)
def regex_group_must_exist(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    if not isinstance(node, (exp.RegexpExtract, exp.RegexpExtractAll)):
        return None
    pattern = literal_str(node.expression)
    group = node.args.get("group")
    index = 1 if group is None else _int(group)
    if pattern is None or index is None:
        return None
    try:
        groups = re.compile(pattern).groups
    except re.error:
        return None
    if 0 <= index <= groups:
        return None
    error = spark_error(
        "INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX",
        f"The value of parameter(s) `idx` in `{node.sql_name().lower()}` is invalid: Expects "
        f"group index between 0 and {groups}, but got {index}.",
    )
    # raised for each row with a subject, as on Spark; typed like the function's result
    typ = "VARCHAR[]" if isinstance(node, exp.RegexpExtractAll) else "VARCHAR"
    return duck(
        f"CAST(CASE WHEN {{s}} IS NULL THEN NULL ELSE {{e}} END AS {typ})", s=node.this, e=error
    )


def _int(node: exp.Expr) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        return int(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return -int(node.this.this)
    return None


# Spark's result type where DuckDB's differs
_RESULT_TYPES: dict[type, str] = {
    exp.BitwiseCount: "INTEGER",
    exp.RegexpCount: "INTEGER",
    exp.RegexpInstr: "INTEGER",
    exp.UnixDate: "INTEGER",
    exp.BitLength: "INTEGER",
}
_ANONYMOUS_RESULT_TYPES = {"octet_length": "INTEGER"}


@on(*_RESULT_TYPES, exp.Anonymous, exp.WithinGroup, exp.RegexpExtractAll, exp.JSONKeys)
def spark_result_types(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    for cls, typ in _RESULT_TYPES.items():
        if type(node) is cls:
            return cast(node, typ)
    anonymous = _ANONYMOUS_RESULT_TYPES.get(fn_name(node))
    if anonymous:
        return cast(node, anonymous)
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileDisc):
        return cast(node, "DOUBLE")
    if isinstance(node, exp.RegexpExtractAll):  # a group that did not take part is ''
        return duck("list_transform({m}, x -> coalesce(x, ''))", m=node)
    if fn_name(node) == "json_array_length" and len(node.expressions) == 1:
        j = node.expressions[0]
        return duck(
            "CASE WHEN json_valid({j}) AND json_type({j}::JSON) = 'ARRAY' "
            "THEN CAST(json_array_length({j}::JSON) AS INTEGER) END",
            j=j,
        )
    if isinstance(node, exp.JSONKeys):
        j = node.this
        return duck(
            "CASE WHEN json_valid({j}) AND json_type({j}::JSON) = 'OBJECT' THEN json_keys({j}::JSON) END",
            j=j,
        )
    return None


@on(exp.DataType)
def decimal_default_precision(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    if (
        isinstance(node, exp.DataType)
        and node.this == exp.DataType.Type.DECIMAL
        and not node.expressions
    ):
        return ty.build_type("DECIMAL(10, 0)")
    return None


FIRST = [division_by_zero_raises, decimal_default_precision]
LAST = [
    try_arithmetic_gives_null,
    try_mod_and_aggregates,
    split_part_index_zero_raises,
    regex_group_must_exist,
    spark_result_types,
]
