"""Spark's ANSI data errors and result types that DuckDB does not give by itself.

* `/`, `div`, `%`, `pmod` by zero raise DIVIDE_BY_ZERO (DuckDB: NULL or Infinity);
  `try_divide` keeps giving NULL.
* `split_part(s, d, 0)` raises INVALID_INDEX_OF_ZERO; a regex group index the pattern does not
  have raises INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX.
* functions whose DuckDB result type differs get Spark's (bit_count -> INT, ...).
* a DECIMAL without precision is Spark's DECIMAL(10,0) (DuckDB: DECIMAL(18,3)).
"""

from __future__ import annotations

import re

from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.rules.base import Context, cast, duck, fn_name, literal_str, on
from odibi_dbx.sql.types import KEY


def spark_error(error_class: str, message: str) -> exp.Expression:
    """A DuckDB expression that raises Spark's error (error() fails the query when reached)."""
    text = f"[{error_class}] {message}".replace("'", "''")
    return duck(f"error('{text}')")


def _zero_guard(divisor: exp.Expression) -> exp.Expression:
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
def division_by_zero_raises(node: exp.Expression, ctx: Context) -> exp.Expression | None:
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


@on(exp.SplitPart)
def split_part_index_zero_raises(node: exp.Expression, ctx: Context) -> exp.Expression | None:
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
def regex_group_must_exist(node: exp.Expression, ctx: Context) -> exp.Expression | None:
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


def _int(node: exp.Expression) -> int | None:
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
def spark_result_types(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    for cls, typ in _RESULT_TYPES.items():
        if type(node) is cls:
            return cast(node, typ)
    typ = _ANONYMOUS_RESULT_TYPES.get(fn_name(node))
    if typ:
        return cast(node, typ)
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
def decimal_default_precision(node: exp.Expression, ctx: Context) -> exp.Expression | None:
    if (
        isinstance(node, exp.DataType)
        and node.this == exp.DataType.Type.DECIMAL
        and not node.expressions
    ):
        return ty.build_type("DECIMAL(10, 0)")
    return None


FIRST = [division_by_zero_raises, decimal_default_precision]
LAST = [split_part_index_zero_raises, regex_group_must_exist, spark_result_types]
