"""Column profiles (null count and fraction, min, max) from one aggregate pass, the same on every
engine: engines only run the aggregates this module plans and hand back the values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_NO_ORDER = ("array", "struct", "map", "binary", "variant", "void", "null")
MAX_TEXT = 100  # longer string min/max values are cut in the story


def profiled(columns: Sequence[tuple[str, str]], limit: int) -> list[tuple[str, bool]]:
    """The first `limit` columns, each with whether min/max apply (Spark type names in)."""
    return [(name, not typ.lower().startswith(_NO_ORDER)) for name, typ in columns[:limit]]


def profile_from(
    rows: int, plan: Sequence[tuple[str, bool]], values: Sequence[Any]
) -> dict[str, dict[str, Any]]:
    """`values` holds, per planned column, its non-null count then min and max (when they apply)."""
    out: dict[str, dict[str, Any]] = {}
    it = iter(values)
    for name, ordered in plan:
        nulls = rows - int(next(it) or 0)
        entry: dict[str, Any] = {
            "nulls": nulls,
            "null_fraction": nulls / rows if rows else 0.0,
        }
        if ordered:
            entry["min"], entry["max"] = _short(next(it)), _short(next(it))
        out[name] = entry
    return out


def _short(v: Any) -> Any:
    return v[:MAX_TEXT] + "…" if isinstance(v, str) and len(v) > MAX_TEXT else v
