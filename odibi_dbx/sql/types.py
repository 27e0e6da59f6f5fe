"""A small Spark type inference, enough for the type-dependent rewrite rules.

sqlglot's annotate_types is not Spark-accurate (e.g. DECIMAL x DOUBLE), so we infer the few
types the rules need: literals, casts, columns of known tables, arithmetic, sum/avg. Unknown
stays None. Each node's Spark type is stored in node.meta["spark_type"].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from odibi_dbx.sql.node_types import copy_tree
from odibi_dbx.sql.parse import table_key

T = exp.DataType.Type
KEY = "spark_type"
UNRESOLVED = "spark_unresolved"  # on a column no known input has: the inputs' column names
SELECT_TYPES = "spark_select_types"  # on a SELECT: its output column types (`*` expanded)
INTEGRAL = {T.TINYINT: 3, T.SMALLINT: 5, T.INT: 10, T.BIGINT: 20}
FLOATING = {T.DOUBLE, T.FLOAT}
STRINGS = {T.VARCHAR, T.TEXT, T.CHAR}
MAX_P = 38


@lru_cache(maxsize=1024)
def _parsed_type(text: str, dialect: str | None) -> exp.DataType:
    return exp.DataType.build(text, dialect=dialect)


def build_type(text: str, dialect: str | None = None) -> exp.DataType:
    """exp.DataType.build of a type name, parsed once per (text, dialect): a fresh copy each call."""
    return copy_tree(_parsed_type(text, dialect))


def dtype(text: str) -> exp.DataType | None:
    for dialect in ("databricks", "duckdb"):
        try:
            return build_type(text, dialect=dialect)
        except Exception:
            continue
    return None


def decimal(p: int, s: int) -> exp.DataType:
    return build_type(f"DECIMAL({p}, {s})")


def dec_ps(t: exp.DataType | None) -> tuple[int, int] | None:
    """(precision, scale) of a DECIMAL type (Spark's default DECIMAL is (10, 0))."""
    if t is None or t.this != T.DECIMAL:
        return None
    ps = [int(e.this.name if isinstance(e, exp.DataTypeParam) else e.name) for e in t.expressions]
    return (ps + [10, 0][len(ps) :])[0], (ps + [10, 0][len(ps) :])[1]


def type_of(node: exp.Expr | None) -> exp.DataType | None:
    return None if node is None else node.meta.get(KEY)


def is_type(node: exp.Expr | None, types: set) -> bool:
    t = type_of(node)
    return t is not None and t.this in types


def annotate(tree: exp.Expr, schema: Mapping[str, Mapping[str, str]] | None) -> None:
    """Store Spark types on the tree's nodes (columns only when a schema is given)."""
    tables = {
        k.lower(): {c.lower(): dtype(t) for c, t in cols.items()}
        for k, cols in (schema or {}).items()
    }
    scopes: list[Scope] = []
    if tables:
        try:
            scopes = list(traverse_scope(tree))
        except Exception:
            scopes = []
    for scope in scopes:
        for col in scope.columns:
            t = _column_type(scope, col, tables)
            if t is not None:
                col.meta[KEY] = t
            else:
                _mark_unresolved(scope, col, tables)
        _annotate_all(scope.expression)
        if isinstance(scope.expression, exp.Select):
            scope.expression.meta[SELECT_TYPES] = _select_types(scope.expression, scope, tables)
    _annotate_all(tree)


def _select_types(
    select: exp.Select, scope: Scope, tables: dict
) -> list[exp.DataType | None] | None:
    """Types of a SELECT's output columns, `*` expanded over its one source; None if unknown."""
    out: list[exp.DataType | None] = []
    for sel in select.selects:
        if not (isinstance(sel, exp.Star) or (isinstance(sel, exp.Column) and sel.is_star)):
            out.append(type_of(sel))
            continue
        if len(scope.sources) != 1:
            return None
        (src,) = scope.sources.values()
        if isinstance(src, exp.Table) and table_key(src) in tables:
            out += tables[table_key(src)].values()
        elif isinstance(src, Scope) and src.expression.meta.get(SELECT_TYPES) is not None:
            out += src.expression.meta[SELECT_TYPES]
        else:
            return None
    return out


def output_types(query: exp.Expr) -> list[exp.DataType | None] | None:
    """Output column types of a query (a set operation: its first branch's), None if unknown."""
    if isinstance(query, exp.Subquery):
        return output_types(query.this)
    if isinstance(query, exp.SetOperation):
        return output_types(query.left)
    if isinstance(query, exp.Select):
        known = query.meta.get(SELECT_TYPES)
        if known is not None:
            return known
        if any(isinstance(s, exp.Star) or s.is_star for s in query.selects):
            return None
        return [type_of(s) for s in query.selects]
    return None


def _sources(scope: Scope, col: exp.Column) -> list[Any]:
    """The inputs a column may come from: the one its qualifier names, else all of the scope's."""
    if col.table:
        return [v for k, v in scope.sources.items() if k.lower() == col.table.lower()]
    return list(scope.sources.values())


def _column_type(scope: Scope, col: exp.Column, tables: dict) -> exp.DataType | None:
    name = col.name.lower()
    sources = _sources(scope, col)
    found = []
    for src in sources:
        if isinstance(src, exp.Table):
            cols = tables.get(table_key(src))
            if cols is None:
                return None
            if name in cols:
                found.append(cols[name])
        elif isinstance(src, Scope) and isinstance(src.expression, exp.Select):
            for sel in src.expression.selects:
                if isinstance(sel, exp.Star) or (isinstance(sel, exp.Column) and sel.is_star):
                    return None
                if sel.alias_or_name.lower() == name:
                    found.append(type_of(sel))
        else:
            return None
    return found[0] if len(found) == 1 else None


def _mark_unresolved(scope: Scope, col: exp.Column, tables: dict) -> None:
    """Mark a column that none of its scope's inputs has, when every input's columns are
    known (only to name it in an error: the query fails on Spark too)."""
    if isinstance(scope.expression, exp.Select) and col.name.lower() in {
        s.alias_or_name.lower() for s in scope.expression.selects
    }:
        return  # an alias of the same SELECT (Spark resolves lateral aliases)
    sources = _sources(scope, col)
    names: list[str] = []
    for src in sources:
        if isinstance(src, exp.Table) and table_key(src) in tables:
            names += tables[table_key(src)]
        elif isinstance(src, Scope) and isinstance(src.expression, exp.Select):
            if any(isinstance(s, exp.Star) or s.is_star for s in src.expression.selects):
                return
            names += [s.alias_or_name.lower() for s in src.expression.selects]
        else:
            return
    if sources and col.name.lower() not in names:
        col.meta[UNRESOLVED] = names


_UNITS = {"YEARS": "YEAR", "MONTHS": "MONTH", "DAYS": "DAY", "HOURS": "HOUR"}
_UNITS.update(MINUTES="MINUTE", SECONDS="SECOND")
_SPAN_ORDER = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")


def interval_type(start: str, end: str) -> exp.DataType:
    text = start if start == end else f"{start} TO {end}"
    return build_type(f"INTERVAL {text}", dialect="databricks")


def result_hints(types: list[exp.DataType | None]) -> list[str | None]:
    """Per output column, the Spark type name the result check needs (result_types.
    typed_results): a known interval type ('interval day to second'), 'timestamp_ntz', else
    None. Plain strings, so that the cache can keep them."""
    out: list[str | None] = []
    for t in types:
        if t is not None and interval_span(t) is not None:
            out.append(t.sql("databricks").lower())
        elif t is not None and t.this == exp.DataType.Type.TIMESTAMPNTZ:
            out.append("timestamp_ntz")
        else:
            out.append(None)
    return out


def interval_span(t: exp.DataType | None) -> tuple[str, str] | None:
    """(start, end) fields of a Spark ANSI interval type ('YEAR', 'MONTH'), else None."""
    if t is None or not isinstance(t.this, exp.Interval):
        return None
    unit = t.this.unit
    if isinstance(unit, exp.IntervalSpan):
        return _unit(unit.this), _unit(unit.expression)
    return (_unit(unit), _unit(unit)) if unit is not None else None


def _unit(node: exp.Expr) -> str:
    name = node.name.upper()
    return _UNITS.get(name, name)


def _interval_literal_type(node: exp.Interval) -> exp.DataType | None:
    unit = node.unit
    if isinstance(unit, exp.IntervalSpan):
        start, end = _unit(unit.this), _unit(unit.expression)
    elif unit is not None:
        start = end = _unit(unit)
    else:
        return None
    if start not in _SPAN_ORDER or end not in _SPAN_ORDER:
        return None
    ym = {start, end} <= {"YEAR", "MONTH"}
    if not ym and {start, end} & {"YEAR", "MONTH"}:
        return None
    return interval_type(start, end)


def _interval_sum_type(lt: exp.DataType | None, rt: exp.DataType | None) -> exp.DataType | None:
    """interval +/- interval of one family: the span covering both (Spark widens the fields)."""
    a, b = interval_span(lt), interval_span(rt)
    if a is None or b is None or (a[0] in ("YEAR", "MONTH")) != (b[0] in ("YEAR", "MONTH")):
        return None
    fields = [_SPAN_ORDER.index(f) for f in (*a, *b)]
    return interval_type(_SPAN_ORDER[min(fields)], _SPAN_ORDER[max(fields)])


def _datetime_plus_interval_type(
    lt: exp.DataType | None, rt: exp.DataType | None
) -> exp.DataType | None:
    """x +/- interval: an interval of one family, a datetime (a DATE stays one with a YEAR TO
    MONTH or DAY interval), else unknown."""
    if interval_span(lt):
        return _interval_sum_type(lt, rt)
    span = interval_span(rt)
    if lt is None or span is None:
        return None
    if lt.this == T.DATE:
        return lt if span[1] in ("YEAR", "MONTH", "DAY") else build_type("TIMESTAMP")
    return lt if lt.this in (T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPNTZ) else None


def _annotate_all(tree: exp.Expr) -> None:
    by_class = _RULES_BY_CLASS
    for node in reversed(list(tree.walk(bfs=False))):
        cls = type(node)  # most nodes' classes have no typing rule: passed over without a call
        if (by_class[cls] if cls in by_class else _rules_for(cls)) and KEY not in node.meta:
            t = infer(node)
            if t is not None:
                node.meta[KEY] = t


_NEXT: exp.DataType = exp.DataType(this=T.UNKNOWN)  # a typing rule that does not apply here


def infer(node: exp.Expr) -> exp.DataType | None:
    """Spark result type of one node from its children's stored types: the first of its class's
    rules (_RULES, in order) that applies."""
    rules = _RULES_BY_CLASS.get(type(node))
    for rule in _rules_for(type(node)) if rules is None else rules:
        t = rule(node)
        if t is not _NEXT:
            return t
    return None


def _rules_for(cls: type) -> tuple[_Rule, ...]:
    """The typing rules that may apply to a node class, in order (most classes have none: an
    identifier, a column without a schema, a FROM are passed over without a test); kept in
    _RULES_BY_CLASS."""
    rules = tuple(rule for kinds, rule in _RULES if issubclass(cls, kinds))
    _RULES_BY_CLASS[cls] = rules
    return rules


def _neg_int(node: exp.Neg) -> exp.DataType | None:
    if isinstance(node.this, exp.Literal) and node.this.is_int:
        return build_type("INT" if int(node.this.this) <= 2**31 else "BIGINT")  # -2147483648: INT
    return _NEXT


def _interval_right(node: exp.Add | exp.Sub) -> exp.DataType | None:
    if interval_span(type_of(node.right)):
        return _datetime_plus_interval_type(type_of(node.left), type_of(node.right))
    return _NEXT


def _interval_left(node: exp.Add) -> exp.DataType | None:
    if interval_span(type_of(node.left)):
        return _datetime_plus_interval_type(type_of(node.right), type_of(node.left))
    return _NEXT


def _anonymous(node: exp.Anonymous) -> exp.DataType | None:
    name, args = node.name.lower(), node.expressions
    if name == "to_timestamp_ntz":
        return build_type("TIMESTAMP_NTZ", dialect="databricks") if len(args) == 1 else None
    if name in ("pmod", "try_mod") and len(args) == 2:
        a, b = args  # pmod and try_mod are typed like %
        return arith_type(exp.Mod(this=a.copy(), expression=b.copy()), type_of(a), type_of(b))
    if name in ("try_sum", "try_avg"):
        arg = args[0] if len(args) == 1 else None
        return (_sum_type if name == "try_sum" else _avg_type)(type_of(arg))
    if name in _ANONYMOUS_TYPES:
        return build_type(_ANONYMOUS_TYPES[name])
    return _NEXT


def _pad(node: exp.Pad) -> exp.DataType | None:
    """lpad/rpad of binary (and a binary or default pad): binary."""
    binary = {T.BINARY, T.VARBINARY}
    fill = node.args.get("fill_pattern")
    if is_type(node.this, binary) and (fill is None or is_type(fill, binary)):
        return build_type("BINARY")
    return build_type("STRING", dialect="databricks")


def _var_map(node: exp.VarMap) -> exp.DataType | None:
    """map(k1, v1, ...): MAP<k, v> when each side has one type."""
    keys, values = _one_type(node.args.get("keys")), _one_type(node.args.get("values"))
    if keys is None or values is None:
        return build_type("MAP", dialect="databricks")
    return exp.DataType(this=T.MAP, expressions=[keys.copy(), values.copy()], nested=True)


def _map_value(node: exp.Bracket) -> exp.DataType | None:
    if not is_type(node.this, {T.MAP}):
        return _NEXT
    map_type = type_of(node.this)
    return map_type.expressions[1] if map_type and len(map_type.expressions) == 2 else None


def _widened_interval(node: exp.Coalesce | exp.Greatest | exp.Least) -> exp.DataType | None:
    """Intervals of one family: the span covering all."""
    widened = type_of(node.this)
    if not interval_span(widened):
        return _NEXT
    for arg in node.expressions:
        widened = _interval_sum_type(widened, type_of(arg))
    return widened


def _branches(node: exp.Case | exp.If) -> exp.DataType | None:
    branches = [i.args.get("true") for i in node.args.get("ifs") or []]
    branches += [node.args.get("true"), node.args.get("default"), node.args.get("false")]
    known = [type_of(b) for b in branches if b is not None and not isinstance(b, exp.Null)]
    return known[0] if known and all(k == known[0] for k in known) else None


def _named(name: str, dialect: str | None = None) -> Callable[[exp.Expr], exp.DataType]:
    return lambda _node: build_type(name, dialect=dialect)


def _first_arg(node: exp.Expr) -> exp.DataType | None:
    return type_of(node.this)


_SAME_AS_FIRST = (
    exp.Max,
    exp.Min,
    exp.Coalesce,
    exp.Abs,
    exp.Lag,
    exp.Lead,
    exp.First,
    exp.Last,
    exp.FirstValue,
    exp.LastValue,
    exp.ArgMax,
    exp.ArgMin,
    exp.AnyValue,
    exp.Greatest,
    exp.Least,
    exp.Nullif,
    exp.IgnoreNulls,
    exp.Round,
)
_PREDICATES = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.And,
    exp.Or,
    exp.Not,
    exp.Is,
    exp.In,
    exp.Like,
    exp.ILike,
    exp.RegexpLike,
    exp.Between,
    exp.Boolean,
    exp.Exists,
    exp.ArrayContains,
)

_RESULT_TYPES = (
    (
        (
            exp.TsOrDsToDate,
            exp.StrToDate,
            exp.TsOrDsAdd,
            exp.AddMonths,
            exp.LastDay,
            exp.NextDay,
            exp.CurrentDate,
            exp.DateTrunc,
            exp.DateFromParts,
        ),
        "DATE",
    ),
    (
        (
            exp.StrToTime,
            exp.TimestampTrunc,
            exp.CurrentTimestamp,
            exp.AtTimeZone,
            exp.FromTimeZone,
            exp.UnixToTime,
            exp.TimestampFromParts,
        ),
        "TIMESTAMP",
    ),
    (
        (
            exp.Upper,
            exp.Lower,
            exp.Concat,
            exp.ConcatWs,
            exp.Substring,
            exp.Trim,
            exp.TimeToStr,
            exp.UnixToStr,
            exp.RegexpReplace,
            exp.RegexpExtract,
            exp.JSONExtractScalar,
            exp.Initcap,
            exp.MD5,
            exp.SHA2,
            exp.DPipe,
        ),
        "STRING",
    ),
    (
        (
            exp.Length,
            exp.StrPosition,
            exp.ArraySize,
            exp.DateDiff,
            exp.DayOfWeek,
            exp.DayOfMonth,
            exp.DayOfYear,
            exp.WeekOfYear,
            exp.Month,
            exp.Year,
            exp.Quarter,
        ),
        "INT",
    ),
    ((exp.StrToUnix, exp.WidthBucket), "BIGINT"),
    ((exp.HexString, exp.Unhex), "BINARY"),
    ((exp.Map,), "MAP"),
)
_ANONYMOUS_TYPES = {"luhn_check": "BOOLEAN"}

_Rule = Callable[[Any], exp.DataType | None]
# (node classes, rule) in the order they are tried; a rule returns _NEXT when it does not apply
_RULES: tuple[tuple[type | tuple[type, ...], _Rule], ...] = (
    (exp.Literal, lambda node: _literal_type(node)),
    ((exp.Cast, exp.TryCast), lambda node: node.to),
    (exp.Neg, _neg_int),
    ((exp.Paren, exp.Alias, exp.Neg), _first_arg),
    (exp.Interval, lambda node: _interval_literal_type(node)),
    ((exp.Add, exp.Sub), _interval_right),
    (exp.Add, _interval_left),
    (exp.Anonymous, _anonymous),
    (
        (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod),
        lambda node: arith_type(node, type_of(node.left), type_of(node.right)),
    ),
    (
        (exp.SafeAdd, exp.SafeSubtract, exp.SafeMultiply),
        lambda node: _try_arith_type(type_of(node.this), type_of(node.expression)),
    ),
    (exp.IntDiv, _named("BIGINT")),
    (exp.Pad, _pad),
    (exp.VarMap, _var_map),
    (exp.Bracket, _map_value),
    (exp.Sum, lambda node: _sum_type(type_of(node.this))),
    (exp.Avg, lambda node: _avg_type(type_of(node.this))),
    ((exp.Count, exp.CountIf), _named("BIGINT")),
    ((exp.Coalesce, exp.Greatest, exp.Least), _widened_interval),
    (_SAME_AS_FIRST, _first_arg),
    (_PREDICATES, _named("BOOLEAN")),
    ((exp.Case, exp.If), _branches),
    (exp.Window, _first_arg),
    *((kinds, _named(name, "databricks")) for kinds, name in _RESULT_TYPES),
)
_RULES_BY_CLASS: dict[type, tuple[_Rule, ...]] = {}


def _one_type(array: exp.Expr | None) -> exp.DataType | None:
    """The one type of an array constructor's elements (NULLs aside), None if unknown or mixed."""
    if not isinstance(array, exp.Array):
        return None
    known = [type_of(e) for e in array.expressions if not isinstance(e, exp.Null)]
    if not known or any(t is None or t != known[0] for t in known):
        return None
    return known[0]


def _literal_type(lit: exp.Literal) -> exp.DataType | None:
    if lit.is_string:
        return build_type("STRING", dialect="databricks")
    text = lit.this.lower()
    if "e" in text:
        return build_type("DOUBLE")
    if "." not in text:
        n = int(text)
        return build_type("INT" if abs(n) < 2**31 else "BIGINT")
    whole, frac = text.split(".")
    digits = len(whole.lstrip("0")) + len(frac)
    return decimal(max(digits, len(frac), 1), len(frac))


def as_decimal(node: exp.Expr) -> tuple[int, int] | None:
    """Decimal view of an operand in decimal arithmetic (integer literals use their digits)."""
    t = type_of(node)
    ps = dec_ps(t)
    if ps:
        return ps
    if t is not None and t.this in INTEGRAL:
        if isinstance(node, exp.Literal):
            return max(len(node.this.lstrip("-")), 1), 0
        return INTEGRAL[t.this], 0
    return None


def adjust(p: int, s: int) -> tuple[int, int]:
    """Spark's DecimalType.adjustPrecisionScale (allowPrecisionLoss=true)."""
    if p <= MAX_P:
        return p, s
    int_digits = p - s
    return MAX_P, max(MAX_P - int_digits, min(s, 6))


def arith_type(
    node: exp.Binary, lt: exp.DataType | None, rt: exp.DataType | None
) -> exp.DataType | None:
    if lt is None or rt is None:
        return None
    if lt.this in FLOATING or rt.this in FLOATING:
        return build_type("DOUBLE")
    if lt.this in INTEGRAL and rt.this in INTEGRAL:
        if isinstance(node, exp.Div):
            return build_type("DOUBLE")
        return lt if INTEGRAL[lt.this] >= INTEGRAL[rt.this] else rt
    a, b = as_decimal(node.left), as_decimal(node.right)
    if not (a and b):
        return None
    (p1, s1), (p2, s2) = a, b
    if isinstance(node, (exp.Add, exp.Sub)):
        s = max(s1, s2)
        p, s = adjust(max(p1 - s1, p2 - s2) + s + 1, s)
    elif isinstance(node, exp.Mul):
        p, s = adjust(p1 + p2 + 1, s1 + s2)
    elif isinstance(node, exp.Div):
        s = max(6, s1 + p2 + 1)
        p, s = adjust(p1 - s1 + s2 + s, s)
    else:  # Mod
        p, s = adjust(min(p1 - s1, p2 - s2) + max(s1, s2), max(s1, s2))
    return decimal(p, s)


def _try_arith_type(lt: exp.DataType | None, rt: exp.DataType | None) -> exp.DataType | None:
    """try_add/try_subtract/try_multiply of integers (the wider) or with a double (DOUBLE);
    None for other operands (decimals, dates, intervals: not translated)."""
    if lt is None or rt is None:
        return None
    if lt.this in INTEGRAL and rt.this in INTEGRAL:
        return lt if INTEGRAL[lt.this] >= INTEGRAL[rt.this] else rt
    numeric = {*INTEGRAL, *FLOATING, T.DECIMAL}
    if lt.this in numeric and rt.this in numeric and FLOATING & {lt.this, rt.this}:
        return build_type("DOUBLE")
    return None


def _sum_type(t: exp.DataType | None) -> exp.DataType | None:
    ps = dec_ps(t)
    if ps:
        return decimal(min(MAX_P, ps[0] + 10), ps[1])
    if t is not None and t.this in INTEGRAL:
        return build_type("BIGINT")
    if t is not None and t.this in FLOATING:
        return build_type("DOUBLE")
    return None


def _avg_type(t: exp.DataType | None) -> exp.DataType | None:
    ps = dec_ps(t)
    if ps:
        return decimal(min(MAX_P, ps[0] + 4), min(MAX_P, ps[1] + 4))
    if t is not None and (t.this in INTEGRAL or t.this in FLOATING):
        return build_type("DOUBLE")
    return None
