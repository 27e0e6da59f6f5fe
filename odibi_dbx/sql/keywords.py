"""Words that cannot name a view in SQL steps: Spark's ANSI reserved keywords.

Node names become view names (`SELECT * FROM orders`); a node called `select` or `order` would
validate and then fail, or silently change the meaning of a step, when SQL names it.
"""

from __future__ import annotations

RESERVED = frozenset(
    """
    all and anti any as authorization both case cast check collate column constraint create
    cross current_date current_time current_timestamp current_user distinct else end escape
    except false fetch filter for foreign from full grant group having in inner intersect into
    is join lateral leading left minus natural not null offset on only or order outer overlaps
    primary references right select semi session_user setminus some table then this time to
    trailing true union unique unknown user using when where with
    """.split()
)


def is_reserved(name: str) -> bool:
    """True when `name` is a reserved SQL keyword (or `this`, the previous step's view)."""
    return name.lower() in RESERVED
