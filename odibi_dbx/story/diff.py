"""What changed between two runs' stories, node by node: `odibi-dbx story diff` and
`Project.story_diff()`."""

from __future__ import annotations

from typing import Any

from odibi_dbx.pipeline.baseline import compare, node_key

SLOWER = (0.5, 0.25)  # a duration change counts from 0.5 s and 25%


def diff_runs(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per node whose status, rows, schema, profile or (notably) duration differ
    between story `a` (before) and story `b` (after)."""
    old = {node_key(n["pipeline"], n["name"]): n for n in a["nodes"]}
    new = {node_key(n["pipeline"], n["name"]): n for n in b["nodes"]}
    out = []
    for key in list(dict.fromkeys([*old, *new])):
        na, nb = old.get(key), new.get(key)
        if na is None or nb is None:
            out.append(
                _row(
                    key, na, nb, "only in " + ("the second run" if na is None else "the first run")
                )
            )
            continue
        if not (na["columns"] and nb["columns"]):  # no output on one side: only status/rows
            na, nb = {**na, "columns": [], "profile": {}}, {**nb, "columns": [], "profile": {}}
        cmp = compare({**na, "run_id": a["run_id"]}, nb)
        assert cmp is not None
        s = cmp["schema"]
        schema = " ".join(
            [f"+{c}" for c in s["added"]]
            + [f"-{c}" for c in s["removed"]]
            + [f"~{t['column']}:{t['before']}→{t['after']}" for t in s["type_changed"]]
        )
        profile = "; ".join(_profile_changes(cmp["columns"]))
        secs = cmp["seconds"]
        slower = (
            secs.get("change") is not None
            and abs(secs["change"]) >= SLOWER[0]
            and abs(secs["change"]) >= SLOWER[1] * max(secs["before"], 1e-9)
        )
        if (
            na["status"] != nb["status"]
            or cmp["rows_out"]["changed"]
            or cmp["rows_in"]["changed"]
            or schema
            or profile
            or slower
        ):
            out.append(_row(key, na, nb, "", schema, profile))
    return out


def _row(
    key: str,
    na: dict[str, Any] | None,
    nb: dict[str, Any] | None,
    note: str,
    schema: str = "",
    profile: str = "",
) -> dict[str, Any]:
    def pair(field: str) -> dict[str, Any]:
        before, after = (na or {}).get(field), (nb or {}).get(field)
        change = (
            after - before
            if isinstance(before, (int, float)) and isinstance(after, (int, float))
            else None
        )
        return {"before": before, "after": after, "change": change}

    secs = pair("seconds")
    if secs["change"] is not None:
        secs["change"] = round(secs["change"], 3)
    return {
        "node": key,
        "status": {"before": (na or {}).get("status"), "after": (nb or {}).get("status")},
        "rows_in": pair("rows_in"),
        "rows_out": pair("rows_out"),
        "seconds": secs,
        "schema": schema,
        "profile": profile,
        "note": note,
    }


def _profile_changes(columns: dict[str, Any]) -> list[str]:
    out = []
    for col, c in columns.items():
        nf = c["null_fraction"]
        if nf["changed"] and nf["before"] is not None and nf["after"] is not None:
            out.append(f"nulls {col} {100 * nf['before']:.1f}%→{100 * nf['after']:.1f}%")
        for k in ("min", "max"):
            if c[k]["changed"]:
                out.append(f"{k} {col} {c[k]['before']}→{c[k]['after']}")
    return out


def diff_text(a: dict[str, Any], b: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The diff as an aligned plain-text table."""
    head = f"{a['run_id']} ({a['status']}) → {b['run_id']} ({b['status']})"
    if not rows:
        return head + "\nno node changed (rows, schema, profiles, status, duration)"

    def arrow(p: dict[str, Any], fmt: str = "{}") -> str:
        if p["before"] == p["after"]:
            return "=" if p["before"] is None else fmt.format(p["after"])
        before, after = (("—" if v is None else fmt.format(v)) for v in (p["before"], p["after"]))
        text = f"{before}→{after}"
        return text + (f" ({p['change']:+,})" if isinstance(p.get("change"), int) else "")

    table = [("node", "status", "rows out", "seconds", "schema", "profile / note")]
    for r in rows:
        st = r["status"]
        table.append(
            (
                r["node"],
                st["after"] if st["before"] == st["after"] else f"{st['before']}→{st['after']}",
                arrow(r["rows_out"], "{:,}"),
                arrow(r["seconds"], "{:.2f}"),
                r["schema"],
                r["profile"] or r["note"],
            )
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(5)]
    lines = [
        "  ".join(str(v).ljust(w) for v, w in zip(row[:5], widths, strict=True)) + "  " + row[5]
        for row in table
    ]
    return head + "\n" + "\n".join(line.rstrip() for line in lines)
