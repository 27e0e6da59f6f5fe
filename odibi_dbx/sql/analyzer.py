"""More queries Spark's analyzer rejects, refused by general rules (the engine must not answer
what Spark refuses): shapes of GROUP BY, ROLLUP/CUBE, window frames, IN and PIVOT arities,
and functions whose operand types Spark does not coerce."""

from __future__ import annotations

from sqlglot import exp

from odibi_dbx.sql.allowlist import kind_of, problem
from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.node_types import on
from odibi_dbx.sql.parse import SPELLED
from odibi_dbx.sql.types import type_of

_INT_MAX = 2**31 - 1
_NUMBERS = {"int", "decimal", "double"}


@on(
    exp.Group,
    exp.Rollup,
    exp.Cube,
    exp.WindowSpec,
    exp.In,
    exp.Pivot,
    exp.ArraySize,
    exp.MapContainsKey,
)
def analyzer_problem(node: exp.Expr) -> NotPortableError | None:
    if isinstance(node, exp.Group) and _star_select(node) and _has_ordinal(node):
        return problem("GROUP BY ordinal with SELECT *")
    if isinstance(node, (exp.Rollup, exp.Cube)):
        if any(isinstance(e, exp.Tuple) and not e.expressions for e in node.expressions):
            return problem("empty set in ROLLUP/CUBE")
    if isinstance(node, exp.WindowSpec) and str(node.args.get("kind")).upper() == "ROWS":
        for bound in (node.args.get("start"), node.args.get("end")):
            if isinstance(bound, exp.Literal) and bound.is_int and int(bound.this) > _INT_MAX:
                return problem("ROWS frame bound beyond INT")
    if isinstance(node, exp.In) and isinstance(node.args.get("query"), exp.Expr):
        select = node.args["query"].unnest()
        if isinstance(select, exp.Select) and not any(s.is_star for s in select.selects):
            width = len(node.this.expressions) if isinstance(node.this, exp.Tuple) else 1
            if width != len(select.selects):
                return problem("IN subquery with another number of columns")
    if isinstance(node, exp.Pivot):
        for field in node.args.get("fields") or []:
            if isinstance(field, exp.In) and not _pivot_values_fit(field):
                return problem("PIVOT values that do not fit the pivot columns")
    if isinstance(node, exp.ArraySize) and node.meta.get(SPELLED) == "array_size":
        if kind_of(node.this) == "map":
            return problem("array_size of a map")
    if isinstance(node, exp.MapContainsKey):
        key, map_type = kind_of(node.args["key"]), type_of(node.this)
        if key not in (None, "null") and map_type is not None and map_type.expressions:
            map_key = kind_of(map_type.expressions[0])
            if map_key is not None and key != map_key and not {key, map_key} <= _NUMBERS:
                return problem("map_contains_key with another key type")
    return None


def _star_select(group: exp.Group) -> bool:
    select = group.parent
    return isinstance(select, exp.Select) and any(s.is_star for s in select.selects)


def _has_ordinal(group: exp.Group) -> bool:
    return any(isinstance(e, exp.Literal) and e.is_int for e in group.expressions)


def _pivot_values_fit(field: exp.In) -> bool:
    width = len(field.this.expressions) if isinstance(field.this, exp.Tuple) else 1
    for value in field.expressions:
        inner = value.this if isinstance(value, exp.PivotAlias) else value
        inner = inner.unalias() if isinstance(inner, exp.Alias) else inner
        got = len(inner.expressions) if isinstance(inner, exp.Tuple) else 1
        if got != width:
            return False
    return True
