"""Ordered rewrite rules from Spark semantics to DuckDB semantics.

Each rule takes one node (its children already rewritten) and returns a replacement, the same
node changed in place, or None. Rules run in this order; the first replacement wins. A rule
marked @on(types) is tried only on nodes of those types (rules_for).
"""

from __future__ import annotations

from functools import cache

from odibi_dbx.sql.node_types import for_type
from odibi_dbx.sql.rules import (
    aggregates,
    ansi,
    clauses,
    collections,
    intervals,
    numeric,
    strict,
    strings,
    time,
)
from odibi_dbx.sql.rules.base import Context, Rule

RULES: list[Rule] = [
    *ansi.FIRST,
    *strict.RULES,
    *intervals.RULES,
    *clauses.RULES,
    *time.RULES,
    *numeric.RULES,
    *aggregates.RULES,
    *strings.RULES,
    *collections.RULES,
    *ansi.LAST,
]


@cache
def rules_for(node_type: type) -> tuple[Rule, ...]:
    """The rules, in order, that can rewrite a node of this type."""
    return for_type(RULES, node_type)


__all__ = ["RULES", "Context", "Rule", "rules_for"]
