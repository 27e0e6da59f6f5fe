"""The story's "Data quality rules" section: per rule its action, counts and failing rows."""

from __future__ import annotations

from html import escape
from typing import Any


def _num(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else ""


def _cell(v: Any) -> str:
    import json

    if v is None:
        return '<span class="muted">null</span>'
    return escape(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str))


def rules_section(n: dict[str, Any]) -> str:
    """Empty when the node has no row rules."""
    rules = [c for c in n.get("validation") or [] if "expr" in c]
    if not rules:
        return ""
    rows = "".join(
        f"<tr><td>{escape(c['check'])}</td><td><code>{escape(c['expr'])}</code></td>"
        f"<td>{escape(c['on_fail'])}</td><td>{_result(c)}</td>"
        + "".join(
            f"<td class='num'>{_num(c.get(k))}</td>"
            for k in ("rows", "failed", "kept", "dropped", "quarantined")
        )
        + "</tr>"
        for c in rules
    )
    q = n.get("quality") or {}
    totals = ""
    if q:
        target = (q.get("quarantine") or {}).get("target")
        totals = (
            f"<p class='muted'>{_num(q.get('rows'))} rows checked: {_num(q.get('kept'))} kept, "
            f"{_num(q.get('dropped'))} dropped, {_num(q.get('quarantined'))} quarantined"
            + (f" (appended to {escape(target)})" if target else "")
            + "</p>"
        )
    samples = "".join(_sample(c) for c in rules if c.get("sample"))
    return (
        "<h3>Data quality rules</h3>"
        "<table><tr><th>rule</th><th>expression</th><th>on fail</th><th>result</th>"
        "<th>rows</th><th>failed</th><th>kept</th><th>dropped</th><th>quarantined</th></tr>"
        f"{rows}</table>{totals}{samples}"
    )


def _result(c: dict[str, Any]) -> str:
    """passed (green); failed a `fail` rule (red); rows warned, dropped or quarantined (amber)."""
    css = "success" if c["passed"] else "failed" if c["on_fail"] == "fail" else "running"
    return f"<span class='badge {css}'>{'passed' if c['passed'] else 'failed'}</span>"


def _sample(c: dict[str, Any]) -> str:
    sample = c["sample"]
    cols = list(dict.fromkeys(k for r in sample for k in r))
    head = "".join(f"<th>{escape(k)}</th>" for k in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r.get(k))}</td>" for k in cols) + "</tr>" for r in sample
    )
    return (
        f"<details><summary class='muted'>rows failing {escape(c['check'])} "
        f"({len(sample)} of {_num(c.get('failed'))})</summary>"
        f"<div style='overflow:auto'><table><tr>{head}</tr>{body}</table></div></details>"
    )
