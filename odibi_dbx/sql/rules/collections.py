"""Arrays, maps and LATERAL VIEW."""

from __future__ import annotations

from sqlglot import exp

from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.rules.base import INTEGRAL, Context, T, cast, duck, is_a, on


@on(exp.ArraySize)
def size_int(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # size(array|map) is INT in Spark; DuckDB needs CARDINALITY for maps
    if isinstance(node, exp.ArraySize):
        if is_a(node.this, T.MAP):
            return cast(exp.func("CARDINALITY", node.this), "INTEGER")
        return cast(exp.func("LEN", node.this), "INTEGER")
    return None


@on(exp.Anonymous)
def cardinality_int(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # cardinality is size()
    if isinstance(node, exp.Anonymous) and node.name.lower() == "cardinality":
        return size_int(exp.ArraySize(this=node.expressions[0]), ctx)
    return None


@on(exp.ArrayPosition)
def array_position_zero(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark array_position is BIGINT and 0 when absent (DuckDB: NULL)
    if isinstance(node, exp.ArrayPosition):
        return duck(
            "CASE WHEN {a} IS NULL OR {x} IS NULL THEN NULL "
            "ELSE CAST(COALESCE(LIST_POSITION({a}, {x}), 0) AS BIGINT) END",
            a=node.this,
            x=node.expression,
        )
    return None


@on(exp.ArrayContains)
def array_contains_nulls(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark array_contains is NULL (not FALSE) when absent but the array holds a NULL
    if isinstance(node, exp.ArrayContains):
        return duck(
            "CASE WHEN {a} IS NULL OR {x} IS NULL THEN NULL "
            "WHEN LIST_CONTAINS({a}, {x}) THEN TRUE "
            "WHEN LEN(LIST_FILTER({a}, lambda __e: __e IS NULL)) > 0 THEN NULL "
            "ELSE FALSE END",
            a=node.this,
            x=node.expression,
        )
    return None


def _is_index(node: exp.Expr) -> bool:
    if isinstance(node, exp.Literal):
        return not node.is_string
    if isinstance(node, exp.Neg):
        return _is_index(node.this)
    return is_a(node, *INTEGRAL)


@on(exp.Bracket)
def array_index_out_of_bounds(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark (ANSI) raises on an out-of-range arr[i] / element_at(arr, i); DuckDB gives NULL
    if not isinstance(node, exp.Bracket) or node.args.get("safe") or len(node.expressions) != 1:
        return None
    arr, idx = node.this, node.expressions[0]
    if is_a(arr, T.MAP) or not (is_a(arr, T.ARRAY) or _is_index(idx)):
        return None
    if node.args.get("offset"):  # element_at: 1-based, negative counts from the end
        return duck(
            "CASE WHEN {a} IS NULL OR {i} IS NULL THEN NULL "
            "WHEN {i} = 0 THEN ERROR('[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index "
            "shall be either < 0 or > 0 (the first element has index 1).') "
            "WHEN ABS({i}) > LEN({a}) THEN ERROR('[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index ' "
            "|| {i} || ' is out of bounds. The array has ' || LEN({a}) || ' elements. Use "
            "`try_element_at` to tolerate accessing element at invalid index and return NULL "
            "instead.') ELSE LIST_EXTRACT({a}, {i}) END",
            a=arr,
            i=idx,
        )
    return duck(
        "CASE WHEN {a} IS NULL OR {i} IS NULL THEN NULL "
        "WHEN {i} < 0 OR {i} >= LEN({a}) THEN ERROR('[INVALID_ARRAY_INDEX] The index ' || {i} "
        "|| ' is out of bounds. The array has ' || LEN({a}) || ' elements. Use the SQL function "
        "`get()` to tolerate accessing element at invalid index and return NULL instead.') "
        "ELSE LIST_EXTRACT({a}, {i} + 1) END",
        a=arr,
        i=idx,
    )


@on(exp.MapContainsKey)
def map_contains_key(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # sqlglot swaps the arguments of map_contains_key for DuckDB
    if isinstance(node, exp.MapContainsKey):
        return duck("LIST_CONTAINS(MAP_KEYS({m}), {k})", m=node.this, k=node.args["key"])
    return None


@on(exp.ArrayDistinct, exp.Anonymous)
def array_distinct_ordered(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark keeps first-occurrence order and one NULL; DuckDB LIST_DISTINCT does neither
    if isinstance(node, exp.ArrayDistinct) or (
        isinstance(node, exp.Anonymous) and node.name.lower() == "list_distinct"
    ):
        arr = node.this if isinstance(node, exp.ArrayDistinct) else node.expressions[0]
        return duck("LIST_FILTER({a}, lambda __x, __i: LIST_POSITION({a}, __x) = __i)", a=arr)
    return None


@on(exp.Exists)
def exists_three_valued(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # exists(arr, x -> p): TRUE if any TRUE, else NULL if any NULL, else FALSE
    if isinstance(node, exp.Exists) and isinstance(node.args.get("expression"), exp.Lambda):
        lam = node.expression
        params = [p.name for p in lam.expressions]
        if len(params) != 1:
            return None
        body = lam.this
        p = params[0]
        return duck(
            "CASE WHEN {a} IS NULL THEN NULL "
            f"WHEN LEN(LIST_FILTER({{a}}, lambda {p}: {{b}})) > 0 THEN TRUE "
            f"WHEN LEN(LIST_FILTER({{a}}, lambda {p}: ({{b}}) IS NULL)) > 0 THEN NULL "
            "ELSE FALSE END",
            a=node.this,
            b=body,
        )
    return None


@on(exp.Select)
def lateral_views_to_joins(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # LATERAL VIEW [OUTER] explode/posexplode: sqlglot drops OUTER and cannot unnest maps;
    # we write each as a LATERAL join after the FROM clause's joins
    if not (isinstance(node, exp.Select) and node.args.get("laterals")):
        return None
    joins = list(node.args.get("joins") or [])
    keep = []
    for lat in node.args["laterals"]:
        join = _lateral_view(lat)
        if join is None:
            keep.append(lat)
        else:
            joins.append(join)
    node.set("laterals", keep or None)
    node.set("joins", joins)
    return node


def _lateral_view(node: exp.Lateral) -> exp.Expr | None:
    if not node.args.get("view"):
        return None
    fn, outer = node.this, bool(node.args.get("outer"))
    alias = node.args.get("alias")
    cols = [c.name for c in alias.columns] if alias else []
    tname = alias.name if alias and alias.name else "__lv"
    if isinstance(fn, (exp.ExplodeOuter, exp.PosexplodeOuter)):
        outer = True
    if isinstance(fn, exp.Posexplode) or isinstance(fn, exp.PosexplodeOuter):
        if outer:
            return None  # refused by the portability checks
        pos, val = cols[:2] if len(cols) >= 2 else ("pos", "col")
        sub = duck(
            f"SELECT CAST(__i - 1 AS INTEGER) AS {pos}, __v AS {val} "
            "FROM UNNEST({a}) WITH ORDINALITY AS __u(__v, __i)",
            a=fn.this,
        )
        return _join(sub, tname, outer=False)
    if not isinstance(fn, exp.Explode):
        return None
    arr = fn.this
    if is_a(arr, T.MAP) or len(cols) == 2:
        k, v = cols if len(cols) == 2 else ("key", "value")
        src = "MAP_ENTRIES({a})"
        sub = duck(f"SELECT __e.key AS {k}, __e.value AS {v} FROM UNNEST({src}) AS __u(__e)", a=arr)
        return _join(sub, tname, outer=outer)
    col = cols[0] if cols else "col"
    sub = duck(f"SELECT __v AS {col} FROM UNNEST({{a}}) AS __u(__v)", a=arr)
    return _join(sub, tname, outer=outer)


def _join(sub: exp.Expr, name: str, outer: bool) -> exp.Expr:
    subq = exp.Subquery(this=sub, alias=exp.TableAlias(this=exp.to_identifier(name)))
    lat = exp.Lateral(this=subq)
    if outer:
        return exp.Join(this=lat, side="LEFT", on=exp.true())
    return exp.Join(this=lat, kind="CROSS")


@on(exp.ExplodeOuter)
def explode_outer_select(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # explode_outer in the select list: one NULL row for a NULL or empty array
    if isinstance(node, exp.ExplodeOuter) and not isinstance(node.parent, exp.Lateral):
        if is_a(node.this, T.MAP):
            raise NotPortableError(
                "explode_outer(map)",
                "explode_outer of a map in the select list is not supported on the Pandas engine.",
                "use LATERAL VIEW OUTER explode(m) t AS k, v.",
            )
        return exp.func(
            "UNNEST", duck("CASE WHEN LEN({a}) > 0 THEN {a} ELSE [NULL] END", a=node.this)
        )
    return None


RULES = [
    size_int,
    cardinality_int,
    array_index_out_of_bounds,
    array_contains_nulls,
    array_position_zero,
    map_contains_key,
    array_distinct_ordered,
    exists_three_valued,
    explode_outer_select,
    lateral_views_to_joins,
]
