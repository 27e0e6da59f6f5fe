"""Portability checks of a Spark SQL step: the allow-list (odibi_dbx.sql.allowlist), the sandbox,
and the listed constructs whose result depends on their context (operand values, nesting)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from sqlglot import exp

from odibi_dbx.sql.allowed import REFUSED
from odibi_dbx.sql.allowlist import allowlist_problem, problem
from odibi_dbx.sql.analyzer import analyzer_problem
from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.node_types import copy_tree, for_type, on
from odibi_dbx.sql.parse import INTERVAL_TEXT, UNIT_WRITTEN
from odibi_dbx.sql.sandbox import sandbox_problems
from odibi_dbx.sql.types import (
    FLOATING,
    INTEGRAL,
    KEY,
    STRINGS,
    annotate,
    dec_ps,
    interval_span,
    is_type,
    output_types,
    type_of,
)

T = exp.DataType.Type
_NUMERIC = {*INTEGRAL, *FLOATING, T.DECIMAL}


def portability_problems(
    tree: exp.Expr,
    schema: Mapping[str, Mapping[str, str]] | None = None,
    *,
    annotated: bool = False,
    sandbox: bool = True,
) -> list[NotPortableError]:
    """Every construct of the query refused on the Pandas engine, in order of appearance.

    With `schema` ({table: {column: type}}), comparisons of string columns with numbers (and
    number columns with strings) are found too, not only those between literals.
    `annotated`: the tree is the caller's own copy, already annotated with this schema.
    `sandbox=False`: the caller ran sandbox_problems on this query and found nothing.
    """
    if not annotated and (schema or KEY not in tree.meta):
        tree = copy_tree(tree)
        annotate(tree, schema)
    found: list[NotPortableError] = sandbox_problems(tree) if sandbox else []
    if found:
        return found  # reads outside the step's sources: nothing else matters
    unlisted: list[
        NotPortableError
    ] = []  # after the named refusals: their advice is the more useful
    for form in dict.fromkeys(tree.meta.get(INTERVAL_TEXT, ())):
        unlisted.append(problem(form))
    for node in tree.walk():
        node_type: type = type(node)  # the checks are looked up, and cached, per node class
        for check in _checks_for(node_type):
            p = check(node)
            if p is not None:
                (found if p.construct in REFUSED else unlisted).append(p)
                break  # one problem per node
    return found + unlisted


@on(exp.Lateral)
def _check_posexplode_outer(node: exp.Expr) -> NotPortableError | None:
    if isinstance(node, exp.Lateral) and node.args.get("outer"):
        if isinstance(node.this, exp.Posexplode):
            return problem("posexplode OUTER")
    return None


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)


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


@on(*_COMPARISONS, *_ARITHMETIC, exp.SetOperation, exp.In)
def _check_implicit_coercion(node: exp.Expr) -> NotPortableError | None:
    if isinstance(node, _COMPARISONS):
        kinds = {_kind(node.left), _kind(node.right)}
        if kinds == {"string", "number"}:
            return problem("implicit string/number comparison", f" ({node.sql('databricks')})")
    if isinstance(node, _ARITHMETIC):
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


@on(
    exp.Func,  # a quoted datetime unit: parse._mark_calls marks functions only
    exp.WithinGroup,
    exp.Mode,
    exp.ToBinary,
    exp.RegexpSplit,
    exp.SplitPart,
    exp.ArrayInsert,
    exp.Bracket,
    exp.TsOrDsAdd,
    exp.Anonymous,
    exp.Avg,
    exp.IntDiv,
    exp.SafeDivide,
    exp.SetOperation,
    exp.Pivot,
    *_SHIFTS,
    *_BITWISE,
    exp.Lambda,
    exp.GroupingSets,
    exp.Sub,
)
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


_RANKING = (
    exp.RowNumber,
    exp.Rank,
    exp.DenseRank,
    exp.PercentRank,
    exp.CumeDist,
    exp.Ntile,
    exp.Lag,
    exp.Lead,
)
_PERCENTILES = (exp.Median, exp.PercentileCont, exp.PercentileDisc, exp.Quantile)
_GROUPINGS = (exp.Rollup, exp.Cube, exp.GroupingSets)


@on(
    exp.Grouping,
    exp.GroupingId,
    exp.Window,
    exp.WithinGroup,
    exp.Count,
    exp.TsOrDsAdd,
    *_COMPARISONS,
    exp.Add,
    exp.RegexpReplace,
    exp.FromJson,
)
def _check_spark_rejects(node: exp.Expr) -> NotPortableError | None:
    """Queries Spark's analyzer rejects (so must the Pandas engine), by general rules."""
    if isinstance(node, (exp.Grouping, exp.GroupingId)):
        select = node.find_ancestor(exp.Select)
        group = select.args.get("group") if select else None
        if group is None or not any(group.find_all(*_GROUPINGS)):
            if not (group and (group.args.get("rollup") or group.args.get("cube"))):
                return problem("GROUPING without ROLLUP/CUBE/GROUPING SETS")
    if isinstance(node, exp.Window) and node.args.get("over"):
        func = node.this.this if isinstance(node.this, exp.IgnoreNulls) else node.this
        spec = _window_spec(node)
        ordered = spec.args.get("order") is not None
        if isinstance(func, _RANKING) and not ordered:
            return problem("window function without ORDER BY")
        inner = func.this if isinstance(func, exp.WithinGroup) else func
        if isinstance(inner, _PERCENTILES) and (ordered or spec.args.get("spec") is not None):
            return problem("ordered window of a percentile")
        if isinstance(func, exp.Filter):
            return problem("FILTER in a window")
        if _date_range_with_time(spec):
            return problem("RANGE frame of a date with hours")
    if isinstance(node, exp.WithinGroup):
        order = node.args.get("expression")
        keys = order.expressions if isinstance(order, exp.Order) else []
        if len(keys) > 1 or isinstance(node.this.this, exp.Distinct):
            return problem("percentile WITHIN GROUP (ORDER BY a, b) or DISTINCT")
    if isinstance(node, exp.Count):
        arg = node.this
        if arg is None or (isinstance(arg, exp.Column) and arg.is_star and arg.table):
            return problem("count() without a column")
    if isinstance(node, exp.TsOrDsAdd) and is_type(node.expression, {T.BIGINT}):
        return problem("date_add with BIGINT days")
    if isinstance(node, _COMPARISONS):
        sides = [node.left, node.right]
        families = {_interval_family(x) for x in sides}
        if families != {"other"} and len(families) > 1:
            return problem("interval compared with another type")
    if isinstance(node, exp.Add) and _has_null(node):
        if any(is_type(x, _DATETIME - {T.DATE}) for x in (node.left, node.right)):
            return problem("timestamp plus NULL")
    if isinstance(node, exp.RegexpReplace):
        pos = node.args.get("position")
        lit = pos.this if isinstance(pos, exp.Neg) else pos
        if isinstance(lit, exp.Literal) and lit.is_int:
            if isinstance(pos, exp.Neg) or int(lit.this) < 1:
                return problem("regexp_replace position below 1")
    if isinstance(node, exp.FromJson) and node.args.get("options") is not None:
        return problem("from_json options")
    return None


def _window_spec(node: exp.Window) -> exp.Expr:
    """The window's own spec, or that of the named window it refers to (OVER w)."""
    name = node.args.get("alias")
    if isinstance(name, exp.Identifier) and not node.args.get("partition_by"):
        select = node.find_ancestor(exp.Select)
        for named in (select.args.get("windows") or []) if select else []:
            if named.alias_or_name.lower() == name.name.lower():
                return named
    return node


def _date_range_with_time(spec: exp.Expr) -> bool:
    """A RANGE frame over a DATE key whose bound is an interval with hours/minutes/seconds."""
    frame, order = spec.args.get("spec"), spec.args.get("order")
    if frame is None or order is None or str(frame.args.get("kind", "")).upper() != "RANGE":
        return False
    if not (order.expressions and is_type(order.expressions[0].this, {T.DATE})):
        return False
    for bound in (frame.args.get("start"), frame.args.get("end")):
        span = interval_span(type_of(bound)) if isinstance(bound, exp.Expr) else None
        if span is not None and span[1] in ("HOUR", "MINUTE", "SECOND"):
            return True
    return False


def _interval_family(node: exp.Expr) -> str:
    span = interval_span(type_of(node))
    if span is not None:
        return "year-month" if span[0] in ("YEAR", "MONTH") else "day-time"
    if not isinstance(node, exp.Interval):
        return "other"
    unit = (node.unit.name if node.unit else "").upper()
    return "year-month" if unit.startswith(("YEAR", "MONTH")) else "day-time"


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


# names and literals: listed, and no check is about them alone (most of a tree's nodes)
_PLAIN = {exp.Identifier, exp.Column, exp.Literal, exp.Star, exp.TableAlias}

# in order; a check marked @on(types) is called only on nodes of those types (_checks_for)
_CHECKS: list[Callable[[exp.Expr], NotPortableError | None]] = [
    _check_constructs,
    _check_spark_rejects,
    analyzer_problem,
    _check_posexplode_outer,
    _check_implicit_coercion,
    allowlist_problem,
]


@cache
def _checks_for(node_type: type) -> tuple[Callable[[exp.Expr], NotPortableError | None], ...]:
    """The checks, in order, that can refuse a node of this type."""
    return () if node_type in _PLAIN else for_type(_CHECKS, node_type)
