"""Clauses Spark spells differently: GROUP BY ... WITH CUBE/ROLLUP, CROSS JOIN ... ON,
the grouping__id column."""

from __future__ import annotations

from sqlglot import exp

from odibi_dbx.sql.rules.base import Context, on

_GROUPINGS = (exp.Cube, exp.Rollup, exp.GroupingSets)


@on(exp.Group)
def group_with_cube_or_rollup(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # GROUP BY a, b WITH CUBE (WITH ROLLUP) is GROUP BY CUBE(a, b) (ROLLUP(a, b))
    if not isinstance(node, exp.Group) or not node.expressions:
        return None
    for key, kind in (("cube", exp.Cube), ("rollup", exp.Rollup)):
        marks = node.args.get(key) or []
        if len(marks) == 1 and not marks[0].expressions:
            node.set(key, [kind(expressions=node.expressions)])
            node.set("expressions", [])
            return node
    return None


@on(exp.Join)
def cross_join_on(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark reads CROSS JOIN ... ON as an inner join on the condition
    if isinstance(node, exp.Join) and node.kind == "CROSS" and node.args.get("on") is not None:
        node.set("kind", None)
        return node
    return None


@on(exp.Column)
def grouping_id_column(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # grouping__id is Spark's grouping_id() of every grouping column (CUBE, ROLLUP, GROUPING SETS)
    if not (
        isinstance(node, exp.Column) and not node.table and node.name.lower() == "grouping__id"
    ):
        return None
    select = node.find_ancestor(exp.Select)
    group = select.args.get("group") if select is not None else None
    if group is None:
        return None
    columns: list[exp.Expr] = []
    groupings = list(group.find_all(*_GROUPINGS))
    if any(not g.expressions for g in groupings):  # WITH CUBE/ROLLUP (maybe not rewritten yet)
        groupings = [group]
    for grouping in groupings:
        for part in grouping.find_all(exp.Column):
            if not any(part == seen for seen in columns):
                columns.append(part)
    if not columns:
        return None
    return exp.GroupingId(expressions=[c.copy() for c in columns])


RULES = [group_with_cube_or_rollup, cross_join_on, grouping_id_column]
