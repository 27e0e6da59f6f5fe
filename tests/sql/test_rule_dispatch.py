"""Rules marked @on(types) are tried only on those node types: each must leave every other
node alone, or a rewrite would be silently skipped (odibi_dbx.sql.rules.rules_for)."""

from __future__ import annotations

from pathlib import Path

import yaml

from odibi_dbx.sql.parse import parse_spark
from odibi_dbx.sql.rules import RULES, Context, rules_for
from odibi_dbx.sql.types import annotate

CORPUS = Path(__file__).with_name("corpus.yaml")


def test_marked_rules_leave_other_node_types_alone():
    marked = [r for r in RULES if hasattr(r, "node_types")]
    assert len(marked) > len(RULES) // 2  # the walk's speed rests on most rules being marked
    wrong: dict[tuple[str, str], str] = {}
    for case in yaml.safe_load(CORPUS.read_text(encoding="utf-8")):
        tree = parse_spark(case["sql"])
        annotate(tree, None)
        for node in list(tree.walk()):
            for rule in marked:
                if isinstance(node, rule.node_types):
                    continue
                try:
                    out = rule(node, Context())
                except Exception as exc:  # a refusal is a rewrite too
                    out = exc
                if out is not None:
                    wrong.setdefault((rule.__name__, type(node).__name__), case["id"])
    assert not wrong, f"rules acting outside their @on types (rule, node type): query id: {wrong}"


def test_rules_for_keeps_the_order_and_the_unmarked_rules():
    from sqlglot import exp

    for node_type in (exp.Cast, exp.Anonymous, exp.Column, exp.Window):
        chosen = rules_for(node_type)
        assert [r for r in RULES if r in chosen] == list(chosen)
        assert all(r in chosen for r in RULES if not hasattr(r, "node_types"))
