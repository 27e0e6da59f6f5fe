"""Numbers: integral casts, rounding, decimal result types, pmod, sign, floor/ceil."""

from __future__ import annotations

from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.rules.base import (
    FRACTIONAL,
    INTEGRAL,
    STRINGS,
    Context,
    T,
    cast,
    duck,
    fn_name,
    is_a,
    kind_in,
    on,
    spark_cast,
)

_INTEGRAL_TARGETS = {T.TINYINT, T.SMALLINT, T.INT, T.BIGINT}


@on(exp.Cast)
def integral_cast_truncates(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark truncates fractions when casting numbers to integers (DuckDB rounds) and rejects
    # fractional strings ('3.7' is CAST_INVALID_INPUT; DuckDB would give 4)
    if not (isinstance(node, exp.Cast) and node.to.this in _INTEGRAL_TARGETS):
        return None
    x = node.this
    if is_a(x, *INTEGRAL) or is_a(x, T.BOOLEAN):
        return None
    kind = type(node)  # a TRY_CAST stays one: NULL instead of the error
    if is_a(x, *STRINGS):
        target = node.to.sql("databricks").upper()
        invalid = "NULL" if kind is exp.TryCast else _cast_invalid_input(target)
        checked = duck(
            "CASE WHEN {x} IS NULL OR REGEXP_FULL_MATCH({x}, '\\s*[+-]?[0-9]+\\s*') THEN {x} "
            f"ELSE {invalid} END",
            x=x,
        )
        return kind(this=checked, to=node.to)
    return kind(this=exp.func("TRUNC", x), to=node.to)


# Java's Character.isWhitespace and the ISO control characters: what Spark's trimAll removes
_TRIM_ALL = (
    "[\\x{0}-\\x{20}\\x{7f}-\\x{9f}\\x{1680}\\x{2000}-\\x{2006}\\x{2008}-\\x{200a}"
    "\\x{2028}\\x{2029}\\x{205f}\\x{3000}]"
)


@on(exp.Cast)
def boolean_cast_from_string(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark reads t/true/y/yes/1 and f/false/n/no/0 (any case) after trimming whitespace and
    # control characters; DuckDB trims nothing
    if not (isinstance(node, exp.Cast) and node.to.this == T.BOOLEAN and is_a(node.this, *STRINGS)):
        return None
    invalid = "NULL" if type(node) is exp.TryCast else _cast_invalid_input("BOOLEAN")
    word = f"LOWER(REGEXP_REPLACE({{x}}, '^{_TRIM_ALL}+|{_TRIM_ALL}+$', '', 'g'))"
    return duck(
        f"CASE WHEN {{x}} IS NULL THEN CAST(NULL AS BOOLEAN) "
        f"WHEN {word} IN ('t', 'true', 'y', 'yes', '1') THEN true "
        f"WHEN {word} IN ('f', 'false', 'n', 'no', '0') THEN false "
        f"ELSE CAST({invalid} AS BOOLEAN) END",
        x=node.this,
    )


def _cast_invalid_input(target: str) -> str:
    """DuckDB SQL raising Spark's CAST_INVALID_INPUT for the string {x} (a template)."""
    return (
        "ERROR('[CAST_INVALID_INPUT] The value ''' || {x} || ''' of the type \"STRING\" cannot be "
        f'cast to "{target}" because it is malformed. Correct the value as per the syntax, or '
        "change its target type. Use `try_cast` to tolerate malformed input and return NULL "
        "instead.')"
    )


def _half_up_double(x: exp.Expr, d: exp.Expr) -> exp.Expr:
    # Spark rounds doubles via BigDecimal of the shortest decimal repr (2.675 -> 2.68)
    return duck(
        "CASE WHEN ISFINITE({x}) AND ABS({x}) < 1e15 "
        "THEN CAST(ROUND(CAST(CAST({x} AS VARCHAR) AS DECIMAL(38, 18)), {d}) AS DOUBLE) "
        "ELSE ROUND({x}, {d}) END",
        x=x,
        d=d,
    )


def _round_decimal_type(x: exp.Expr, d: exp.Expr) -> str | None:
    ps = ty.dec_ps(ty.type_of(x))
    if ps and isinstance(d, exp.Literal) and not d.is_string and int(d.this) >= 0:
        p, s = ps
        scale = min(int(d.this), s)
        return f"DECIMAL({min(38, p - s + scale + 1)}, {scale})"
    return None


@on(exp.Round)
def round_half_up(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # ROUND of a double differs at .xx5 ties; decimals keep Spark's result precision
    if not isinstance(node, exp.Round):
        return None
    x, d = node.this, node.args.get("decimals") or exp.Literal.number(0)
    if is_a(x, T.DOUBLE, T.FLOAT):
        return _half_up_double(x, d)
    dec = _round_decimal_type(x, d)
    if dec:
        return cast(exp.Round(this=x, decimals=d), dec)
    return None


@on(exp.Anonymous)
def bround_half_even(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # bround is HALF_EVEN: DuckDB ROUND_EVEN, on the decimal repr for doubles
    if fn_name(node) != "bround":
        return None
    x = node.expressions[0]
    d = node.expressions[1] if len(node.expressions) > 1 else exp.Literal.number(0)
    if is_a(x, T.DOUBLE, T.FLOAT):
        return duck(
            "CASE WHEN ISFINITE({x}) AND ABS({x}) < 1e15 "
            "THEN CAST(ROUND_EVEN(CAST(CAST({x} AS VARCHAR) AS DECIMAL(38, 18)), {d}) AS DOUBLE) "
            "ELSE ROUND_EVEN({x}, {d}) END",
            x=x,
            d=d,
        )
    out = exp.func("ROUND_EVEN", x, d)
    dec = _round_decimal_type(x, d)
    return cast(out, dec) if dec else out


def _unscaled(x: exp.Expr, scale: int) -> exp.Expr:
    # widen first: DuckDB checks the product against the operand's own precision
    return duck(
        f"CAST(CAST({{x}} AS DECIMAL(38, {scale})) * {{m}} AS HUGEINT)",
        x=x,
        m=exp.Literal.number(10**scale),
    )


@on(exp.Div)
def decimal_division(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark divides decimals exactly and rounds HALF_UP to its result scale; DuckDB gives DOUBLE
    if not isinstance(node, exp.Div):
        return None
    out = ty.dec_ps(ty.type_of(node))
    a, b = ty.as_decimal(node.left), ty.as_decimal(node.right)
    if not (out and a and b):
        return None
    p, s = out
    k = s - a[1] + b[1]
    num = duck("{n} * {m}", n=_unscaled(node.left, a[1]), m=exp.Literal.number(10**k))
    return _decimal_quotient(num, _unscaled(node.right, b[1]), p, s)


def _decimal_quotient(num: exp.Expr, den: exp.Expr, p: int, s: int) -> exp.Expr:
    q = duck("SIGN({n}) * SIGN({d}) * ((ABS({n}) * 2 + ABS({d})) // (2 * ABS({d})))", n=num, d=den)
    return duck(
        f"CAST(CAST({{q}} AS DECIMAL(38, 0)) * CAST('1e-{s}' AS DECIMAL(38, {s})) "
        f"AS DECIMAL({p}, {s}))",
        q=q,
    )


@on(exp.Add, exp.Sub, exp.Mul, exp.Mod)
def decimal_result_type(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # + - * % on decimals: same value, but Spark's precision rules differ from DuckDB's
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Mod)):
        ps = ty.dec_ps(ty.type_of(node))
        a, b = ty.as_decimal(node.left), ty.as_decimal(node.right)
        if ps and a and b:
            if ps[0] > 18:  # DuckDB overflows 64-bit intermediates unless operands are wide
                node.set("this", cast(node.left, f"DECIMAL(38, {a[1]})"))
                node.set("expression", cast(node.right, f"DECIMAL(38, {b[1]})"))
            return cast(node, f"DECIMAL({ps[0]}, {ps[1]})")
    return None


@on(exp.Sum)
def sum_result_type(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark: sum(int/bigint) is BIGINT (DuckDB HUGEINT), sum(decimal(p,s)) is DECIMAL(p+10,s)
    if isinstance(node, exp.Sum):
        t = ty.type_of(node)
        if t is not None and t.this in (T.BIGINT, T.DECIMAL):
            return cast(node, t.sql("duckdb"))
    return None


@on(exp.Avg)
def avg_decimal(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark avg(decimal(p,s)) is DECIMAL(p+4, s+4), exact and HALF_UP; DuckDB gives DOUBLE
    if not isinstance(node, exp.Avg) or isinstance(node.parent, exp.Window):
        return None
    src, out = ty.dec_ps(ty.type_of(node.this)), ty.dec_ps(ty.type_of(node))
    if not (src and out):
        return None
    return decimal_average(
        exp.Sum(this=node.this.copy()), exp.Count(this=node.this.copy()), src, out
    )


def decimal_average(
    total: exp.Expr, count: exp.Expr, src: tuple[int, int], out: tuple[int, int]
) -> exp.Expr:
    """sum/count as Spark's exact decimal average (NULL when nothing was counted)."""
    num = _unscaled(total, src[1])
    num = duck("{n} * {m}", n=num, m=exp.Literal.number(10 ** (out[1] - src[1])))
    den = duck("CAST({c} AS HUGEINT)", c=count)
    return duck(
        "CASE WHEN {c} = 0 THEN NULL ELSE {q} END", c=count, q=_decimal_quotient(num, den, *out)
    )


@on(exp.IntDiv)
def int_div_bigint(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark `div` is BIGINT
    if isinstance(node, exp.IntDiv):
        return cast(node, "BIGINT")
    return None


@on(exp.Anonymous)
def pmod(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # pmod: the non-negative remainder (for a positive divisor)
    if fn_name(node) == "pmod" and len(node.expressions) == 2:
        a, n = node.expressions
        out = duck(
            "CASE WHEN {a} % {n} < 0 THEN ({a} % {n} + {n}) % {n} ELSE {a} % {n} END", a=a, n=n
        )
        t = ty.type_of(node)  # Spark types pmod like %; DuckDB widens the CASE's decimal
        return cast(out, t.sql("duckdb")) if t is not None and t.this == T.DECIMAL else out
    return None


@on(exp.Neg)
def negative_typed_literal(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # -9223372036854775808L is one BIGINT literal in Spark; negating CAST(9223372036854775808
    # AS BIGINT) would overflow
    # (and -2147483648 is an INT, DuckDB's a BIGINT)
    inner = node.this
    if isinstance(inner, exp.Cast) and isinstance(inner.this, exp.Literal) and inner.this.is_int:
        return exp.Cast(this=exp.Literal.number("-" + inner.this.this), to=inner.to)
    if isinstance(inner, exp.Literal) and inner.is_int and int(inner.this) == 2**31:
        return cast(exp.Literal.number("-" + inner.this), "INTEGER")
    return None


@on(exp.Sign)
def sign_double(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark sign/signum always returns DOUBLE
    if isinstance(node, exp.Sign):
        return cast(node, "DOUBLE")
    return None


@on(exp.Floor, exp.Ceil)
def floor_ceil_types(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark floor/ceil of a double or an integer is BIGINT; of DECIMAL(p,s) is DECIMAL(p-s+1,0)
    if isinstance(node, (exp.Floor, exp.Ceil)) and not node.args.get("decimals"):
        x = node.this
        if is_a(x, T.DOUBLE, T.FLOAT, *INTEGRAL):
            return cast(node, "BIGINT")
        ps = ty.dec_ps(ty.type_of(x))
        if ps:
            return cast(node, f"DECIMAL({min(38, ps[0] - ps[1] + 1)}, 0)")
    return None


@on(exp.Pow)
def power_double(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark power/pow is DOUBLE
    if isinstance(node, exp.Pow):
        return cast(node, "DOUBLE")
    return None


@on(exp.WidthBucket)
def width_bucket(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark's WidthBucket: value/min/max as DOUBLE, the count as BIGINT (implicit casts); NULL
    # for a count <= 0 or Long.MaxValue, min = max, NaN or infinite bounds; 0 below the range,
    # count + 1 above it, buckets numbered from min towards max (also when min > max)
    if not isinstance(node, exp.WidthBucket):
        return None
    args = [node.this, *(node.args.get(k) for k in ("min_value", "max_value", "num_buckets"))]
    if not all(kind_in(a, *INTEGRAL, *FRACTIONAL, *STRINGS) for a in args):
        return None  # intervals and unknown types stay untranslated (refused at bind)
    v, lo, hi = (spark_cast(a, "DOUBLE", ctx) for a in args[:3])
    n = spark_cast(args[3], "BIGINT", ctx)
    return duck(
        "CAST(CASE WHEN {v} IS NULL OR {lo} IS NULL OR {hi} IS NULL OR {n} IS NULL THEN NULL "
        "WHEN {n} <= 0 OR {n} = 9223372036854775807 OR ISNAN({v}) OR {lo} = {hi} "
        "OR NOT ISFINITE({lo}) OR NOT ISFINITE({hi}) THEN NULL "
        "WHEN {lo} < {hi} THEN CASE WHEN {v} < {lo} THEN 0 WHEN {v} >= {hi} THEN {n} + 1 "
        "ELSE CAST(TRUNC({n} * ({v} - {lo}) / ({hi} - {lo})) AS BIGINT) + 1 END "
        "ELSE CASE WHEN {v} > {lo} THEN 0 WHEN {v} <= {hi} THEN {n} + 1 "
        "ELSE CAST(TRUNC({n} * ({lo} - {v}) / ({lo} - {hi})) AS BIGINT) + 1 END END AS BIGINT)",
        v=v,
        lo=lo,
        hi=hi,
        n=n,
    )


RULES = [
    integral_cast_truncates,
    boolean_cast_from_string,
    round_half_up,
    bround_half_even,
    decimal_division,
    decimal_result_type,
    sum_result_type,
    avg_decimal,
    int_div_bigint,
    pmod,
    sign_double,
    floor_ceil_types,
    power_double,
    negative_typed_literal,
    width_bucket,
]
