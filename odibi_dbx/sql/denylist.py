"""Constructs that cannot be made to give Spark's result on DuckDB, each with advice."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot import exp

from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.sandbox import sandbox_problems
from odibi_dbx.sql.types import FLOATING, INTEGRAL, STRINGS, annotate, type_of

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
    (exp.Uuid, "non-deterministic function"),
]


def problem(construct: str, detail: str = "") -> NotPortableError:
    why, advice = DENIED[construct]
    msg = f"Not portable to the Pandas engine: {construct}{detail}. {why}"
    return NotPortableError(construct, msg, advice)


def portability_problems(
    tree: exp.Expression, schema: Mapping[str, Mapping[str, str]] | None = None
) -> list[NotPortableError]:
    """Every deny-listed construct in the query, in order of appearance.

    With `schema` ({table: {column: type}}), comparisons of string columns with numbers (and
    number columns with strings) are found too, not only those between literals.
    """
    if schema:
        tree = tree.copy()
        annotate(tree, schema)
    found: list[NotPortableError] = sandbox_problems(tree)
    for node in tree.walk():
        for check in _CHECKS:
            p = check(node)
            if p is not None:
                found.append(p)
    return found


def _check_functions(node: exp.Expression) -> NotPortableError | None:
    if isinstance(node, exp.Anonymous):
        construct = _ANONYMOUS.get(node.name.lower())
        return problem(construct) if construct else None
    for cls, construct in _NODES:
        if isinstance(node, cls):
            return problem(construct)
    return None


def _check_posexplode_outer(node: exp.Expression) -> NotPortableError | None:
    if isinstance(node, exp.Lateral) and node.args.get("outer"):
        if isinstance(node.this, exp.Posexplode):
            return problem("posexplode OUTER")
    return None


def _check_ntz(node: exp.Expression) -> NotPortableError | None:
    if isinstance(node, exp.DataType) and (
        node.meta.get("ntz") or node.this == exp.DataType.Type.TIMESTAMPNTZ
    ):
        return problem("TIMESTAMP_NTZ")
    return None


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ)


def _kind(node: exp.Expression) -> str | None:
    """'string' / 'number' when known from a literal or an annotated column type."""
    if isinstance(node, exp.Literal):
        return "string" if node.is_string else "number"
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return _kind(node.this)
    t = type_of(node)
    if t is not None:
        if t.this in STRINGS:
            return "string"
        if t.this in _NUMERIC:
            return "number"
    return None


def _check_implicit_coercion(node: exp.Expression) -> NotPortableError | None:
    if isinstance(node, _COMPARISONS):
        kinds = {_kind(node.left), _kind(node.right)}
        if kinds == {"string", "number"}:
            return problem("implicit string/number comparison", f" ({node.sql('databricks')})")
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)):
        if {_kind(node.left), _kind(node.right)} == {"string", "number"}:
            return problem("implicit string/number comparison", f" ({node.sql('databricks')})")
    if isinstance(node, exp.In) and node.expressions:
        kinds = {_kind(node.this)} | {_kind(e) for e in node.expressions}
        if {"string", "number"} <= kinds:
            return problem("implicit string/number comparison", f" ({node.sql('databricks')})")
    return None


_CHECKS: list[Callable[[exp.Expression], NotPortableError | None]] = [
    _check_functions,
    _check_posexplode_outer,
    _check_ntz,
    _check_implicit_coercion,
]
