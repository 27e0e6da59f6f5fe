"""A node compared with the same node in its last successful run: the numbers the story shows
and the `validation.vs_previous` gates check before the node writes.

Both sides are plain dicts shaped like a story's node entry (`rows_in`, `rows_out`, `columns`
as [{name, type}], `profile` as {column: {nulls, null_fraction, min, max}}, `seconds`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from odibi_dbx.engines.base import CheckResult

_EPS = 1e-9  # fractions at a gate's edge pass (0.1 + 0.05 is not exactly 0.15 in floats)


def node_key(pipeline: str, node: str) -> str:
    return f"{pipeline}.{node}"


def _number(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def change(before: Any, after: Any) -> dict[str, Any]:
    """{before, after, change, pct} for numbers; {before, after, changed} otherwise."""
    out: dict[str, Any] = {"before": before, "after": after, "changed": before != after}
    if _number(before) and _number(after):
        out["change"] = after - before
        out["pct"] = None if before == 0 else round(100.0 * (after - before) / before, 2)
    return out


def schema_change(before: list[dict[str, str]], after: list[dict[str, str]]) -> dict[str, Any]:
    old = {c["name"]: c["type"] for c in before}
    new = {c["name"]: c["type"] for c in after}
    return {
        "added": [c for c in new if c not in old],
        "removed": [c for c in old if c not in new],
        "type_changed": [
            {"column": c, "before": old[c], "after": new[c]}
            for c in new
            if c in old and old[c] != new[c]
        ],
    }


def compare(prev: Mapping[str, Any] | None, cur: Mapping[str, Any]) -> dict[str, Any] | None:
    """What changed in a node since `prev` (None when there is no previous successful run)."""
    if prev is None:
        return None
    schema = schema_change(prev.get("columns") or [], cur.get("columns") or [])
    old_prof, new_prof = prev.get("profile") or {}, cur.get("profile") or {}
    columns = {}
    for col, p in new_prof.items():
        if col not in old_prof:
            continue
        o = old_prof[col]
        columns[col] = {
            "null_fraction": change(o.get("null_fraction"), p.get("null_fraction")),
            "min": change(o.get("min"), p.get("min")),
            "max": change(o.get("max"), p.get("max")),
        }
    return {
        "previous_run": prev.get("run_id"),
        "rows_in": change(prev.get("rows_in"), cur.get("rows_in")),
        "rows_out": change(prev.get("rows_out"), cur.get("rows_out")),
        "seconds": change(prev.get("seconds"), cur.get("seconds")),
        "schema": schema,
        "columns": columns,
    }


def has_changes(cmp: Mapping[str, Any] | None) -> bool:
    """Rows, schema or a column profile differ (durations always do: not counted)."""
    if not cmp:
        return False
    s = cmp["schema"]
    return bool(
        cmp["rows_in"]["changed"]
        or cmp["rows_out"]["changed"]
        or s["added"]
        or s["removed"]
        or s["type_changed"]
        or any(v["changed"] for c in cmp["columns"].values() for v in c.values())
    )


def _pct(x: float) -> str:
    return f"{100 * x:.4g}%"


def gate_results(
    gates: Any, prev: Mapping[str, Any] | None, cur: Mapping[str, Any]
) -> list[CheckResult]:
    """Check `validation.vs_previous` (a VsPreviousConfig); each detail says before → after."""
    if prev is None:
        return [CheckResult("vs_previous", True, "no previous successful run: nothing to compare")]
    cmp = compare(prev, cur)
    assert cmp is not None
    run = prev.get("run_id") or "previous run"
    out: list[CheckResult] = []
    if gates.max_row_drop is not None:
        before, after = prev.get("rows_out"), cur.get("rows_out")
        if not (_number(before) and _number(after)):
            out.append(CheckResult("vs_previous:max_row_drop", True, "rows not counted: skipped"))
        else:
            drop = 0.0 if before == 0 else (before - after) / before
            out.append(
                CheckResult(
                    "vs_previous:max_row_drop",
                    drop <= gates.max_row_drop + _EPS,
                    f"rows out {before:,} → {after:,} ({'+' if drop <= 0 else '-'}{_pct(abs(drop))};"
                    f" limit -{_pct(gates.max_row_drop)}) vs run {run}",
                )
            )
    if gates.max_null_increase is not None:
        worst = None
        for col, c in cmp["columns"].items():
            b, a = c["null_fraction"]["before"], c["null_fraction"]["after"]
            if _number(b) and _number(a) and (worst is None or a - b > worst[1]):
                worst = (col, a - b, b, a)
        if worst is None:
            detail, ok = "no column profiled in both runs", True
        else:
            col, rise, b, a = worst
            ok = rise <= gates.max_null_increase + _EPS
            detail = (
                f"null fraction of '{col}' {_pct(b)} → {_pct(a)} (limit "
                f"+{_pct(gates.max_null_increase)}) vs run {run}"
            )
        out.append(CheckResult("vs_previous:max_null_increase", ok, detail))
    if gates.schema_ == "stable":
        s = cmp["schema"]
        bad = [f"added {s['added']}"] if s["added"] else []
        bad += [f"removed {s['removed']}"] if s["removed"] else []
        bad += [f"{t['column']} {t['before']} → {t['after']}" for t in s["type_changed"]]
        out.append(
            CheckResult(
                "vs_previous:schema",
                not bad,
                "; ".join(bad) + f" vs run {run}"
                if bad
                else f"same columns and types as run {run}",
            )
        )
    return out
