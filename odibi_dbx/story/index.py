"""`index.html` beside the stories: every kept run (newest first) with its status, time,
duration and link, and each pipeline's row trend as a sparkline. Self-contained, no scripts."""

from __future__ import annotations

from html import escape
from typing import Any

from odibi_dbx.story.html_parts import CSS, badge
from odibi_dbx.story.timeline import sparkline_svg

TREND_RUNS = 30  # runs a sparkline spans


def render_index(project: str, entries: list[dict[str, Any]]) -> str:
    """`entries` oldest first, as `history.index_entry` makes them."""
    pipes: list[str] = []
    for e in entries:
        pipes += [p for p in e["rows"] if p not in pipes]
    recent = entries[-TREND_RUNS:]
    trends = "".join(
        f"<tr><td>{escape(p)}</td><td>{sparkline_svg([e['rows'].get(p) for e in recent])}</td>"
        f"<td class='num'>{_last(recent, p)}</td></tr>"
        for p in pipes
    )
    rows = []
    for e in reversed(entries):
        s = e["summary"]
        per_pipe = ", ".join(
            f"{escape(p)} {'—' if r is None else f'{r:,}'}" for p, r in e["rows"].items()
        )
        rows.append(
            f"<tr><td><a href='{escape(e['run_id'])}.html'>{escape(e['run_id'])}</a></td>"
            f"<td>{badge(e['status'])}</td><td>{escape((e['started'] or '')[:19])}</td>"
            f"<td class='num'>{e['seconds']:.2f}s</td><td>{escape(e['engine'])}</td>"
            f"<td class='num'>{s['success']}/{s['nodes']}</td><td>{per_pipe}</td></tr>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(project)} — runs</title><style>{CSS}</style></head><body>
<header><h1>{escape(project)} — {len(entries)} runs</h1>
<div class="meta">newest first; each run links to its story</div></header>
<main>
<h2>Rows per pipeline (last {len(recent)} runs)</h2>
<table class="trends"><tr><th>pipeline</th><th>trend</th><th>last</th></tr>{trends}</table>
<h2>Runs</h2>
<table class="runs"><tr><th>run</th><th>status</th><th>started (UTC)</th><th>duration</th>
<th>engine</th><th>nodes ok</th><th>rows per pipeline</th></tr>{"".join(rows)}</table>
</main></body></html>
"""


def _last(entries: list[dict[str, Any]], pipe: str) -> str:
    for e in reversed(entries):
        if e["rows"].get(pipe) is not None:
            return f"{e['rows'][pipe]:,}"
    return "—"
