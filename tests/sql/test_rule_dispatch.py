"""Rules marked @on(types) are tried only on those node types: each must leave every other
node alone, or a rewrite would be silently skipped (odibi_dbx.sql.rules.rules_for)."""

from __future__ import annotations

from pathlib import Path

import yaml

from odibi_dbx.sql.parse import parse_spark
from odibi_dbx.sql.rules import RULES, Context, rules_for
from odibi_dbx.sql.types import annotate

CORPUS = Path(__file__).with_name("corpus.yaml")


def _acting_outside(functions: list, call) -> dict[tuple[str, str], str]:
    """(function, node type) -> a corpus query where a function marked @on(types) did not
    return None on a node of another type; `call(function, node)` runs it."""
    from tests.sql.test_translate import DENIED_EXAMPLES  # a query per refused construct

    marked = [f for f in functions if hasattr(f, "node_types")]
    wrong: dict[tuple[str, str], str] = {}
    cases = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    cases += [{"id": name, "sql": sql} for name, sql in DENIED_EXAMPLES.items()]
    for case in cases:
        tree = parse_spark(case["sql"])
        annotate(tree, None)
        for node in list(tree.walk()):
            for function in marked:
                if isinstance(node, function.node_types):
                    continue
                try:
                    out = call(function, node)
                except Exception as exc:  # a refusal is a rewrite too
                    out = exc
                if out is not None:
                    wrong.setdefault((function.__name__, type(node).__name__), case["id"])
    return wrong


def test_marked_rules_leave_other_node_types_alone():
    assert sum(hasattr(r, "node_types") for r in RULES) > len(RULES) // 2  # the walk's speed
    wrong = _acting_outside(RULES, lambda rule, node: rule(node, Context()))
    assert not wrong, f"rules acting outside their @on types (rule, node type): query id: {wrong}"


def test_marked_portability_checks_leave_other_node_types_alone():
    # the portability walk calls a marked check only on its types (portability._checks_for)
    from odibi_dbx.sql import portability

    assert sum(hasattr(c, "node_types") for c in portability._CHECKS) == 5  # all but the list
    wrong = _acting_outside(portability._CHECKS, lambda check, node: check(node))
    assert not wrong, f"checks acting outside their @on types (check, node type): query id: {wrong}"


def test_rules_for_keeps_the_order_and_the_unmarked_rules():
    from sqlglot import exp

    for node_type in (exp.Cast, exp.Anonymous, exp.Column, exp.Window):
        chosen = rules_for(node_type)
        assert [r for r in RULES if r in chosen] == list(chosen)
        assert all(r in chosen for r in RULES if not hasattr(r, "node_types"))
