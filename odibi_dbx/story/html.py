"""Render a story document as one self-contained HTML page (inline CSS, no scripts, no fetches)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d2a3a;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:20px} header .meta{opacity:.85;font-size:13px}
main{padding:18px 28px;max-width:1400px}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-size:12px;font-weight:600}
.success{background:#d7f5df;color:#11652c}.failed{background:#fbdada;color:#8d1515}
.skipped{background:#eceef1;color:#555}.running{background:#fff3cd;color:#7a5a00}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0 14px}
th,td{border:1px solid #e1e4e8;padding:4px 8px;text-align:left;vertical-align:top;font-size:13px}
th{background:#f0f2f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
details.node{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:10px 0;padding:0 14px}
details.node>summary{cursor:pointer;padding:10px 0;font-weight:600;list-style:none}
details.node[open]>summary{border-bottom:1px solid #eee;margin-bottom:8px}
pre{background:#f4f5f7;padding:8px 10px;border-radius:4px;overflow:auto;font-size:12px;white-space:pre-wrap}
.err{border-left:4px solid #c62828;padding:6px 12px;background:#fff5f5;margin:8px 0}
.hint{color:#555;font-style:italic}
h3{font-size:14px;margin:12px 0 4px} .muted{color:#666}
"""


def _e(v: Any) -> str:
    if v is None:
        return '<span class="muted">null</span>'
    if not isinstance(v, str):
        v = json.dumps(v, ensure_ascii=False, default=str)
    return escape(v)


def _num(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else _e(v)


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status)}</span>'


def _node(n: dict[str, Any]) -> str:
    parts = [
        f'<details class="node"{" open" if n["status"] == "failed" else ""}>'
        f"<summary>{_badge(n['status'])} {escape(n['pipeline'])} / {escape(n['name'])}"
        f' <span class="muted">— {n["seconds"]:.3f}s, rows in {_num(n["rows_in"])}, '
        f"out {_num(n['rows_out'])}</span></summary>"
    ]
    if n.get("skipped_because"):
        parts.append(f'<p class="muted">skipped: {escape(n["skipped_because"])}</p>')
    err = n.get("error")
    if err:
        parts.append(
            f'<div class="err"><b>{escape(err["stage"])}</b>: {escape(err["message"])}'
            + (f"<br>{escape(err['detail'])}" if err.get("detail") else "")
            + (
                f'<br><span class="hint">hint: {escape(err["hint"])}</span>'
                if err.get("hint")
                else ""
            )
            + f"<details><summary>traceback</summary><pre>{escape(err['traceback'])}</pre></details></div>"
        )
    if n.get("read"):
        parts.append(f"<h3>Read</h3><pre>{_e(n['read'])}</pre>")
    for i, s in enumerate(n.get("steps", []), 1):
        if s["kind"] == "sql":
            parts.append(
                f"<h3>Step {i}: SQL <span class='muted'>({s['seconds']:.3f}s)</span></h3>"
                f"<pre>{escape(s['text'])}</pre>"
            )
            if s.get("executed"):
                parts.append(
                    f"<details><summary class='muted'>as run by the engine</summary>"
                    f"<pre>{escape(s['executed'])}</pre></details>"
                )
        else:
            parts.append(
                f"<h3>Step {i}: function <code>{escape(s['text'])}</code> "
                f"<span class='muted'>({s['seconds']:.3f}s)</span></h3>"
                f"<pre>params: {_e(s.get('params') or {})}</pre>"
            )
    if n.get("validation"):
        rows = "".join(
            f"<tr><td>{escape(c['check'])}</td><td>{_badge('success' if c['passed'] else 'failed')}"
            f"</td><td>{escape(c['detail'])}</td></tr>"
            for c in n["validation"]
        )
        parts.append(
            f"<h3>Validation</h3><table><tr><th>check</th><th>result</th><th>detail</th></tr>{rows}</table>"
        )
    if n.get("write"):
        parts.append(f"<h3>Write</h3><pre>{_e(n['write'])}</pre>")
    if n.get("columns"):
        rows = "".join(
            f"<tr><td>{escape(c['name'])}</td><td>{escape(c['type'])}</td></tr>"
            for c in n["columns"]
        )
        parts.append(f"<h3>Schema</h3><table><tr><th>column</th><th>type</th></tr>{rows}</table>")
    if n.get("sample"):
        cols = [c["name"] for c in n.get("columns", [])] or list(n["sample"][0])
        head = "".join(f"<th>{escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(r.get(c))}</td>" for c in cols) + "</tr>"
            for r in n["sample"]
        )
        parts.append(
            f"<h3>Sample ({len(n['sample'])} rows)</h3><div style='overflow:auto'>"
            f"<table><tr>{head}</tr>{body}</table></div>"
        )
    parts.append("</details>")
    return "".join(parts)


def render_html(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    overview = "".join(
        f"<tr><td>{escape(n['pipeline'])}</td><td>{escape(n['name'])}</td><td>{_badge(n['status'])}</td>"
        f"<td class='num'>{n['seconds']:.3f}</td><td class='num'>{_num(n['rows_in'])}</td>"
        f"<td class='num'>{_num(n['rows_out'])}</td></tr>"
        for n in doc["nodes"]
    )
    runtime = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{_e(v)}</td></tr>"
        for k, v in (doc.get("runtime") or {}).items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(doc["project"])} — run {escape(doc["run_id"])}</title>
<style>{_CSS}</style></head><body>
<header><h1>{escape(doc["project"])} {_badge(doc["status"])}</h1>
<div class="meta">run {escape(doc["run_id"])} · engine {escape(doc["engine"])} · environment
{escape(str(doc.get("environment") or "base"))} · pipelines {escape(", ".join(doc["pipelines"]))} ·
{escape(doc["started"] or "")} · {doc["seconds"]:.2f}s · {s["success"]} succeeded, {s["failed"]} failed,
{s["skipped"]} skipped · time zone {escape(doc.get("timezone") or "")}</div></header>
<main>
<table><tr><th>pipeline</th><th>node</th><th>status</th><th>seconds</th><th>rows in</th><th>rows out</th></tr>
{overview}</table>
{"".join(_node(n) for n in doc["nodes"])}
<details><summary class="muted">run details</summary><table>
<tr><th>config</th><td>{escape(doc.get("config_file") or "")}</td></tr>
<tr><th>odibi-dbx</th><td>{escape(doc.get("odibi_version") or "")}</td></tr>{runtime}</table></details>
</main></body></html>
"""
