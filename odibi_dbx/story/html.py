"""Render a story document as one self-contained HTML page (inline CSS and SVG, no scripts, no
fetches): overview, graph (with a CSS-only "fit to width" toggle), timeline, then one section
per node (story/node_html.py)."""

from __future__ import annotations

from html import escape
from typing import Any

from odibi_dbx.pipeline.baseline import has_changes
from odibi_dbx.story.html_parts import CSS, badge, cell, delta, num
from odibi_dbx.story.node_html import node_section


def graph_nodes(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The graph's nodes and edges from a story document."""
    nodes = [
        {
            "key": f"{n['pipeline']}.{n['name']}",
            "name": n["name"],
            "pipeline": n["pipeline"],
            "status": n["status"],
            "seconds": n["seconds"],
            "changed": has_changes(n.get("vs_previous")),
        }
        for n in doc["nodes"]
    ]
    edges = [
        (u, f"{n['pipeline']}.{n['name']}") for n in doc["nodes"] for u in n.get("upstream", [])
    ]
    return nodes, edges


def render_html(doc: dict[str, Any]) -> str:
    from odibi_dbx.story.graph import graph_svg
    from odibi_dbx.story.timeline import timeline_svg

    s = doc["summary"]
    overview = "".join(
        f"<tr><td>{escape(n['pipeline'])}</td><td><a href='#node-{escape(n['pipeline'])}."
        f"{escape(n['name'])}'>{escape(n['name'])}</a></td><td>{badge(n['status'])}</td>"
        f"<td class='num'>{n['seconds']:.3f}</td><td class='num'>{num(n['rows_in'])}</td>"
        f"<td class='num'>{num(n['rows_out'])}</td>"
        f"<td>{delta((n.get('vs_previous') or {}).get('rows_out'))}</td></tr>"
        for n in doc["nodes"]
    )
    runtime = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{cell(v)}</td></tr>"
        for k, v in (doc.get("runtime") or {}).items()
    )
    notes = "".join(f"<li>{escape(str(n))}</li>" for n in doc.get("notes") or [])
    by_start = sorted(
        doc["nodes"], key=lambda n: (n.get("started") is None, n.get("started") or "")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(doc["project"])} — run {escape(doc["run_id"])}</title>
<style>{CSS}</style></head><body>
<header><h1>{escape(doc["project"])} {badge(doc["status"])}</h1>
<div class="meta">run {escape(doc["run_id"])} · engine {escape(doc["engine"])} · environment
{escape(str(doc.get("environment") or "base"))} · pipelines {escape(", ".join(doc["pipelines"]))} ·
{escape(doc["started"] or "")} · {doc["seconds"]:.2f}s · {s["success"]} succeeded, {s["failed"]} failed,
{s["skipped"]} skipped · time zone {escape(doc.get("timezone") or "")} ·
<a style="color:#fff" href="index.html">all runs</a></div></header>
<main>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Graph</h2><input type="checkbox" id="fit-graph" class="fit"><label for="fit-graph">fit to
width</label><div class="scroll graphbox">{graph_svg(*graph_nodes(doc))}</div>
<h2>Timeline</h2><div class="scroll">{timeline_svg(by_start, doc.get("started"))}</div>
<h2>Overview</h2>
<table><tr><th>pipeline</th><th>node</th><th>status</th><th>seconds</th><th>rows in</th><th>rows out</th>
<th>rows out vs previous run</th></tr>
{overview}</table>
<h2>Nodes</h2>
{"".join(node_section(n) for n in doc["nodes"])}
<details><summary class="muted">run details</summary><table>
<tr><th>config</th><td>{escape(doc.get("config_file") or "")}</td></tr>
<tr><th>odibi-dbx</th><td>{escape(doc.get("odibi_version") or "")}</td></tr>{runtime}</table></details>
</main></body></html>
"""
