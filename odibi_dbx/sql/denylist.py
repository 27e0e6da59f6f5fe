"""Constructs that cannot be made to give Spark's result on DuckDB, each with advice."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot import exp

from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.parse import UNIT_WRITTEN
from odibi_dbx.sql.sandbox import sandbox_problems
from odibi_dbx.sql.types import (
    FLOATING,
    INTEGRAL,
    KEY,
    STRINGS,
    annotate,
    dec_ps,
    is_type,
    output_types,
    type_of,
)

T = exp.DataType.Type
_NUMERIC = {*INTEGRAL, *FLOATING, T.DECIMAL}

# construct -> (why, what to write instead)
DENIED: dict[str, tuple[str, str]] = {
    "hash": (
        "hash() is Spark's Murmur3; DuckDB has no equal function.",
        "build keys with md5(...) or sha2(..., 256) over concat_ws('|', ...).",
    ),
    "xxhash64": (
        "xxhash64() has no equal function in DuckDB.",
        "build keys with md5(...) or sha2(..., 256) over concat_ws('|', ...).",
    ),
    "approx_count_distinct": (
        "approx_count_distinct() is a HyperLogLog estimate whose value differs between engines.",
        "use count(DISTINCT x).",
    ),
    "percentile_approx": (
        "percentile_approx()/approx_percentile() pick different values on each engine.",
        "use percentile(x, p) (exact, interpolated).",
    ),
    "to_json": (
        "to_json() formats numbers, NULL fields and nesting differently in DuckDB.",
        "keep the columns (or a struct) and serialise when writing, or build the "
        "string with concat/format_string.",
    ),
    "stack": (
        "stack() has no DuckDB equivalent.",
        "UNION ALL one SELECT per group, or use UNPIVOT.",
    ),
    "inline": (
        "inline() has no DuckDB equivalent.",
        "LATERAL VIEW explode(arr) t AS s, then select s.field1, s.field2.",
    ),
    "posexplode OUTER": (
        "posexplode_outer / LATERAL VIEW OUTER posexplode cannot be made "
        "to keep Spark's NULL rows on DuckDB.",
        "use LATERAL VIEW posexplode(...) and LEFT JOIN back to the source.",
    ),
    "json_tuple": (
        "json_tuple() has no DuckDB equivalent.",
        "use get_json_object(col, '$.field') once per field.",
    ),
    "implicit string/number comparison": (
        "comparing (or doing arithmetic on) a string with a number converts differently on "
        "each engine "
        "(and fails on dirty values only on one).",
        "CAST the string side explicitly, e.g. CAST(code AS INT) = 1 or id = CAST('1' AS INT).",
    ),
    "TIMESTAMP_NTZ": (
        "TIMESTAMP_NTZ is not supported on the Pandas engine.",
        "use TIMESTAMP (an instant in the session time zone).",
    ),
    "format_number": (
        "format_number() has no equal function in DuckDB.",
        "use round() and CAST(... AS STRING), or format in the reporting layer.",
    ),
    "mode": (
        "mode() breaks ties between equally frequent values differently on each engine.",
        "count per value and pick with max_by/ORDER BY ... LIMIT 1 and an explicit tie-breaker.",
    ),
    "skewness/kurtosis": (
        "DuckDB's skewness()/kurtosis() use the sample formulas; Spark's the population ones.",
        "compute the moments with avg() and power(), or run this step on the Spark engine.",
    ),
    "percentile WITHIN GROUP (ORDER BY ... DESC)": (
        "DuckDB ignores DESC in percentile_cont/percentile_disc WITHIN GROUP.",
        "use percentile(x, 1 - p) with ascending order.",
    ),
    "UNPIVOT": (
        "UNPIVOT is not translated to DuckDB correctly.",
        "UNION ALL one SELECT per unpivoted column.",
    ),
    "PIVOT on a table name": (
        "PIVOT directly on a table is dropped by the translation.",
        "PIVOT a subquery that selects the grouping, pivot and value columns: "
        "FROM (SELECT k, year, v FROM t) PIVOT (...).",
    ),
    "shift mixed with &, | or ^": (
        "the precedence of << and >> against &, | and ^ differs between the engines.",
        "add parentheses: 1 & (2 >> 1).",
    ),
    "lambda with an index": (
        "transform/filter lambdas with an index argument (x, i) count from 1 on DuckDB.",
        "use a one-argument lambda, or zip the array with sequence(0, size(arr) - 1).",
    ),
    "ordinal in GROUPING SETS": (
        "GROUPING SETS mixing column ordinals and names are grouped differently by DuckDB.",
        "name the columns instead of their positions.",
    ),
    "empty or NULL split delimiter": (
        "split/split_part with an empty or NULL delimiter give other results on DuckDB.",
        "handle the empty delimiter with CASE, or split on an explicit separator.",
    ),
    "index 0": (
        "index 0 is invalid in Spark (INVALID_INDEX_OF_ZERO): the query always fails there.",
        "array positions count from 1 (negative ones from the end).",
    ),
    "fractional timestamp_seconds": (
        "timestamp_seconds() of a fractional number rounds on DuckDB; Spark truncates or raises.",
        "timestamp_seconds(CAST(x AS BIGINT)), or timestamp_millis/timestamp_micros of integers.",
    ),
    "avg of dates or timestamps": (
        "avg() of dates or timestamps is computed differently on each engine.",
        "avg(unix_timestamp(ts)) and convert back with timestamp_seconds().",
    ),
    "decimal div/try_divide": (
        "div and try_divide of decimals round and type their results differently on DuckDB.",
        "CAST the operands to BIGINT (div) or use `/` (exact decimal division).",
    ),
    "decimal widening in a set operation": (
        "UNION/EXCEPT/INTERSECT of a decimal with a BIGINT, a FLOAT or a string, or of decimals "
        "needing more than 38 digits, widen to another type on DuckDB.",
        "CAST each branch's column to the same DECIMAL(p,s).",
    ),
    "typeof": (
        "typeof() names the types differently on each engine.",
        "compare the column types in the story, or run this step on the Spark engine.",
    ),
    "to_binary": (
        "to_binary() is translated with another meaning.",
        "use unhex(), encode() or CAST(... AS BINARY).",
    ),
    "date/timestamp subtraction": (
        "subtracting dates or timestamps gives a Spark INTERVAL, which has no DuckDB equal.",
        "use datediff(end, start) or unix_timestamp(end) - unix_timestamp(start).",
    ),
    "quoted datetime unit": (
        "Spark rejects a quoted unit in date_diff/datediff/timestampdiff "
        "(INVALID_PARAMETER_VALUE.DATETIME_UNIT).",
        "write the unit as a keyword: date_diff(DAY, start, end).",
    ),
    "non-deterministic function": (
        "rand/uuid/monotonically_increasing_id/input_file_name give different values on "
        "each engine.",
        "derive keys from the data (md5/sha2 of business columns).",
    ),
}

_ANONYMOUS = {
    "hash": "hash",
    "xxhash64": "xxhash64",
    "json_tuple": "json_tuple",
    "approx_percentile": "percentile_approx",
    "format_number": "format_number",
    "monotonically_increasing_id": "non-deterministic function",
    "input_file_name": "non-deterministic function",
    "posexplode_outer": "posexplode OUTER",
    "to_timestamp_ntz": "TIMESTAMP_NTZ",
    "try_to_timestamp_ntz": "TIMESTAMP_NTZ",
    "explode_outer": None,
    "inline_outer": "inline",
}
_NODES: list[tuple[type, str]] = [
    (exp.ApproxDistinct, "approx_count_distinct"),
    (exp.ApproxQuantile, "percentile_approx"),
    (exp.JSONFormat, "to_json"),
    (exp.Stack, "stack"),
    (exp.Inline, "inline"),
    (exp.PosexplodeOuter, "posexplode OUTER"),
    (exp.Rand, "non-deterministic function"),
    (exp.Skewness, "skewness/kurtosis"),
    (exp.Kurtosis, "skewness/kurtosis"),
    (exp.Typeof, "typeof"),
    (exp.Uuid, "non-deterministic function"),
]


def problem(construct: str, detail: str = "") -> NotPortableError:
    why, advice = DENIED[construct]
    msg = f"Not portable to the Pandas engine: {construct}{detail}. {why}"
    return NotPortableError(construct, msg, advice)


def portability_problems(
    tree: exp.Expr,
    schema: Mapping[str, Mapping[str, str]] | None = None,
    *,
    annotated: bool = False,
) -> list[NotPortableError]:
    """Every deny-listed construct in the query, in order of appearance.

    With `schema` ({table: {column: type}}), comparisons of string columns with numbers (and
    number columns with strings) are found too, not only those between literals.
    `annotated`: the tree is the caller's own copy, already annotated with this schema.
    """
    if not annotated and (schema or KEY not in tree.meta):
        tree = tree.copy()
        annotate(tree, schema)
    found: list[NotPortableError] = sandbox_problems(tree)
    for node in tree.walk():
        for check in _CHECKS:
            p = check(node)
            if p is not None:
                found.append(p)
    return found


def _check_functions(node: exp.Expr) -> NotPortableError | None:
    if isinstance(node, exp.Anonymous):
        construct = _ANONYMOUS.get(node.name.lower())
        return problem(construct) if construct else None
    for cls, construct in _NODES:
        if isinstance(node, cls):
            return problem(construct)
    return None


def _check_posexplode_outer(node: exp.Expr) -> NotPortableError | None:
    if isinstance(node, exp.Lateral) and node.args.get("outer"):
        if isinstance(node.this, exp.Posexplode):
            return problem("posexplode OUTER")
    return None


def _check_ntz(node: exp.Expr) -> NotPortableError | None:
    if isinstance(node, exp.DataType) and (
        node.meta.get("ntz") or node.this == exp.DataType.Type.TIMESTAMPNTZ
    ):
        return problem("TIMESTAMP_NTZ")
    return None


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ)


def _kind(node: exp.Expr) -> str | None:
    """'string' / 'number' when known from a literal or an annotated column type."""
    if isinstance(node, exp.Literal):
        return "string" if node.is_string else "number"
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return _kind(node.this)
    return _type_kind(type_of(node))


def _type_kind(t: exp.DataType | None) -> str | None:
    if t is not None:
        if t.this in STRINGS:
            return "string"
        if t.this in _NUMERIC:
            return "number"
    return None


def _check_implicit_coercion(node: exp.Expr) -> NotPortableError | None:
    if isinstance(node, _COMPARISONS):
        kinds = {_kind(node.left), _kind(node.right)}
        if kinds == {"string", "number"}:
            return problem("implicit string/number comparison", f" ({node.sql('databricks')})")
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)):
        if {_kind(node.left), _kind(node.right)} == {"string", "number"}:
            return problem("implicit string/number comparison", f" ({node.sql('databricks')})")
    if isinstance(node, exp.SetOperation):
        left, right = output_types(node.left), output_types(node.right)
        for i, (a, b) in enumerate(zip(left or [], right or [], strict=False)):
            if {_type_kind(a), _type_kind(b)} == {"string", "number"}:
                return problem(
                    "implicit string/number comparison", f" (set operation column {i + 1})"
                )
    if isinstance(node, exp.In) and node.expressions:
        kinds = {_kind(node.this)} | {_kind(e) for e in node.expressions}
        if {"string", "number"} <= kinds:
            return problem("implicit string/number comparison", f" ({node.sql('databricks')})")
    return None


_SHIFTS = (exp.BitwiseLeftShift, exp.BitwiseRightShift)
_BITWISE = (exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor)
_DATETIME = {T.DATE, T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPLTZ}


def _check_constructs(node: exp.Expr) -> NotPortableError | None:
    """Constructs DuckDB parses or evaluates with another meaning than Spark."""
    if isinstance(node, exp.WithinGroup) and isinstance(node.parent, exp.Window):
        order = node.args.get("expression")
        if order is not None and any(o.args.get("desc") for o in order.find_all(exp.Ordered)):
            return problem("percentile WITHIN GROUP (ORDER BY ... DESC)")
    if isinstance(node, exp.Mode) and not isinstance(node.parent, exp.WithinGroup):
        return problem("mode")
    if node.meta.get(UNIT_WRITTEN) == "quoted":
        return problem("quoted datetime unit")
    if isinstance(node, exp.ToBinary):
        fmt = node.args.get("format")
        if not (isinstance(fmt, exp.Literal) and fmt.this in ("hex", "utf-8", "utf8", "base64")):
            return problem("to_binary")
    if isinstance(node, (exp.RegexpSplit, exp.SplitPart)):
        delim = node.args.get("expression") or node.args.get("delimiter")
        if isinstance(delim, exp.Null) or (isinstance(delim, exp.Literal) and delim.this == ""):
            return problem("empty or NULL split delimiter")
    if isinstance(node, exp.ArrayInsert):
        pos = node.args.get("position")
        if isinstance(pos, exp.Literal) and pos.this == "0":
            return problem("index 0")
    if isinstance(node, exp.Bracket) and node.args.get("safe") and node.args.get("offset") == 1:
        index = node.expressions[0] if node.expressions else None
        if isinstance(index, exp.Literal) and index.this == "0":
            return problem("index 0")
    if isinstance(node, exp.TsOrDsAdd) and _kind(node.expression) == "string":
        return problem("implicit string/number comparison", f" ({node.sql('databricks')})")
    if isinstance(node, exp.Anonymous) and node.name.lower() == "timestamp_seconds":
        if node.expressions and is_type(node.expressions[0], {*FLOATING, T.DECIMAL}):
            return problem("fractional timestamp_seconds")
    if isinstance(node, exp.Avg) and is_type(node.this, _DATETIME):
        return problem("avg of dates or timestamps")
    if isinstance(node, (exp.IntDiv, exp.SafeDivide)):
        if is_type(node.this, {T.DECIMAL}) or is_type(node.expression, {T.DECIMAL}):
            return problem("decimal div/try_divide")
    if isinstance(node, exp.SetOperation):
        left, right = output_types(node.left), output_types(node.right)
        for ta, tb in zip(left or [], right or [], strict=False):
            if ta is not None and tb is not None and not _same_widening(ta, tb):
                return problem("decimal widening in a set operation")
    if isinstance(node, exp.Pivot):
        if node.args.get("unpivot"):
            return problem("UNPIVOT")
        if isinstance(node.parent, exp.Table):
            return problem("PIVOT on a table name")
    if isinstance(node, _SHIFTS + _BITWISE):
        kinds = _SHIFTS if isinstance(node, _BITWISE) else _BITWISE
        if isinstance(node.this, kinds) or isinstance(node.expression, kinds):
            return problem("shift mixed with &, | or ^")
    if isinstance(node, exp.Lambda) and len(node.expressions) > 1:
        if isinstance(node.parent, (exp.Transform, exp.ArrayFilter)):
            return problem("lambda with an index")
    if isinstance(node, exp.GroupingSets):
        parts: list[exp.Expr] = []
        for e in node.expressions:
            inner = e.unnest() if isinstance(e, exp.Paren) else e
            parts += inner.expressions if isinstance(inner, exp.Tuple) else [inner]
        ordinals = [isinstance(p, exp.Literal) and not p.is_string for p in parts]
        if any(ordinals) and not all(ordinals):
            return problem("ordinal in GROUPING SETS")
    if isinstance(node, exp.Sub):
        sides = [type_of(node.left), type_of(node.right)]
        dated = [t is not None and t.this in _DATETIME for t in sides]
        date_minus_null = is_type(node.left, {T.DATE}) and isinstance(node.right, exp.Null)
        if all(dated) or (any(dated) and _has_null(node) and not date_minus_null):
            return problem("date/timestamp subtraction")
        if any(dated) and any(_kind(x) == "string" for x in (node.left, node.right)):
            return problem("date/timestamp subtraction")
    return None


def _same_widening(a: exp.DataType, b: exp.DataType) -> bool:
    """Do DuckDB and Spark widen these two set-operation column types alike?

    Both take the larger integer digits and scale of two decimals (TINYINT, SMALLINT, INT count
    as 3, 5, 10 digits); they part on BIGINT (19 vs 20 digits) and past 38 digits.
    """
    if T.DECIMAL not in (a.this, b.this) or a == b or T.DOUBLE in (a.this, b.this):
        return True  # (a decimal with a DOUBLE is a DOUBLE on both)
    pa, pb = (
        dec_ps(t) or ((INTEGRAL[t.this], 0) if t.this in _NARROW_INTS else None) for t in (a, b)
    )
    if pa is None or pb is None:
        return False
    (p1, s1), (p2, s2) = pa, pb
    return max(p1 - s1, p2 - s2) + max(s1, s2) <= 38


_NARROW_INTS = {T.TINYINT, T.SMALLINT, T.INT}


def _has_null(node: exp.Binary) -> bool:
    return isinstance(node.left, exp.Null) or isinstance(node.right, exp.Null)


_CHECKS: list[Callable[[exp.Expr], NotPortableError | None]] = [
    _check_constructs,
    _check_functions,
    _check_posexplode_outer,
    _check_ntz,
    _check_implicit_coercion,
]
