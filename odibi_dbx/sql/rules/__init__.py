"""Ordered rewrite rules from Spark semantics to DuckDB semantics.

Each rule takes one node (its children already rewritten) and returns a replacement, the same
node changed in place, or None. Rules run in this order; the first replacement wins.
"""

from __future__ import annotations

from odibi_dbx.sql.rules import aggregates, ansi, collections, numeric, strict, strings, time
from odibi_dbx.sql.rules.base import Context, Rule

RULES: list[Rule] = [
    *ansi.FIRST,
    *strict.RULES,
    *time.RULES,
    *numeric.RULES,
    *aggregates.RULES,
    *strings.RULES,
    *collections.RULES,
    *ansi.LAST,
]

__all__ = ["RULES", "Context", "Rule"]
