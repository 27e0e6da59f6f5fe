"""Row rule expressions, checked like SQL steps: one boolean Spark SQL expression over the
node's columns, no subquery, no aggregate or window, portable to the Pandas engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from odibi_dbx.errors import NodeError, did_you_mean, first_line

INPUT = "__odibi_rule_input"  # the table a rule is parsed against


def parse_rule(expr: str) -> Any:
    """The rule as `SELECT <expr> FROM <input>`; raises ValueError when it is not exactly one
    row-level expression (SqlSyntaxError, a ValueError, for syntax)."""
    from sqlglot import exp

    from odibi_dbx import sql as S

    tree = S.parse_spark(f"SELECT ({expr}) AS __odibi_rule FROM {INPUT}")
    sel = tree if isinstance(tree, exp.Select) else None
    if sel is None or len(sel.expressions) != 1 or S.referenced_tables(tree) != {INPUT}:
        raise ValueError("a rule is one boolean expression over the node's columns")
    body = sel.expressions[0]
    if any(True for _ in body.find_all(exp.Select)):
        raise ValueError("a row rule cannot contain a subquery")
    if any(True for _ in body.find_all(exp.Window)):
        raise ValueError("a row rule cannot use a window function")
    if any(True for _ in body.find_all(exp.AggFunc)):
        raise ValueError("a row rule cannot use an aggregate (it is checked row by row)")
    return tree


def columns_of(tree: Any) -> set[str]:
    """Lower-cased top-level column names the rule reads (lambda variables excluded)."""
    from sqlglot import exp

    bound = {p.name.lower() for lam in tree.find_all(exp.Lambda) for p in lam.expressions}
    out = set()
    for col in tree.find_all(exp.Column):
        root = col.table or col.name  # `s.a` reads the struct column s
        if root and root.lower() not in bound:
            out.add(root.lower())
    return out


def rule_problems(
    expr: str, engine: Any, known: Iterable[str] | None
) -> list[tuple[str, str | None]]:
    """(message, hint) for each problem of one rule; `known` are the node's output columns
    when they are known before the run (else None). Remembered between runs for odibi_dbx's
    own engines (odibi_dbx.sql.cache)."""
    from odibi_dbx.sql import cache

    known = None if known is None else list(known)
    if not cache.covers(engine):
        return _rule_problems(expr, engine, known)
    name = getattr(engine, "name", None)
    found = cache.remembered("rule", lambda: _rule_problems(expr, engine, known), expr, name, known)
    return [(msg, hint) for msg, hint in found]


def _rule_problems(expr: str, engine: Any, known: list[str] | None) -> list[tuple[str, str | None]]:
    from odibi_dbx import sql as S

    try:
        tree = parse_rule(expr)
    except S.SqlSyntaxError as exc:
        return [(f"syntax error: {exc.message}", "a rule is a Spark SQL boolean expression")]
    except ValueError as exc:
        return [(str(exc), 'e.g. expr: "amount > 0 AND customer_id IS NOT NULL"')]
    out: list[tuple[str, str | None]] = []
    if known is not None:
        names = {c.lower(): c for c in known}
        for col in sorted(columns_of(tree) - set(names)):
            out.append(
                (
                    f"no column '{col}' in the node's output",
                    did_you_mean(col, names.values()) or f"columns: {', '.join(names.values())}",
                )
            )
    from odibi_dbx.sql.sandbox import sandbox_problems

    sandbox = sandbox_problems(tree)  # every engine; the engine's checks assume none
    out += [(issue.message, issue.advice) for issue in sandbox]
    if engine is not None and not sandbox:
        for issue in engine.sql_problems(tree):
            text = getattr(issue, "message", None) or str(issue)
            out.append((f"on the {engine.name} engine: {text}", getattr(issue, "advice", None)))
    return out


def known_columns(node: dict) -> list[str] | None:
    """A node's output columns when the YAML fixes them: a read with a `schema:` DDL and no
    transform (else None: checked when the node runs)."""
    read = node.get("read")
    ddl = read.get("schema") if isinstance(read, dict) else None
    if node.get("transform") or not isinstance(ddl, str):
        return None
    from odibi_dbx.engines.types import ddl_columns

    try:
        return [name for name, _ in ddl_columns(ddl)]
    except Exception:  # a bad DDL is reported where the read is checked
        return None


def missing_columns(expr: str, columns: Iterable[str]) -> list[str]:
    """Columns a rule reads that the frame lacks (run time: the schema is known now)."""
    from odibi_dbx.sql import cache

    have = {c.lower() for c in columns}
    read = cache.remembered("rule-columns", lambda: sorted(columns_of(parse_rule(expr))), expr)
    return sorted(set(read) - have)


def check_columns(rules: Any, columns: list[str], node: str) -> None:
    """A rule naming a column the output lacks fails the node with the rule's name."""
    for r in rules:
        missing = missing_columns(r.expr, columns)
        if missing:
            raise NodeError(
                f"rule '{r.name}' reads column(s) {', '.join(missing)}, not in the node's output",
                node=node,
                stage="validation",
                detail=f"rule expression: {r.expr}",
                hint=did_you_mean(missing[0], columns) or f"columns: {', '.join(columns)}",
            )


def rule_error(rule: Any, exc: BaseException, node: str) -> NodeError:
    what = f"rule '{rule.name}'" if rule is not None else "the rules"
    return NodeError(
        f"cannot evaluate {what}: {first_line(exc)}",
        node=node,
        stage="validation",
        detail=f"rule expression: {rule.expr}" if rule is not None else None,
        hint="a rule is a boolean Spark SQL expression over the node's columns",
    )
