"""Render a story document as one self-contained HTML page (inline CSS and SVG, no scripts, no
fetches): overview, graph, timeline, then one section per node built by the NODE_SECTIONS
functions (add a section by adding a function there)."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from typing import Any

from odibi_dbx.pipeline.baseline import has_changes
from odibi_dbx.story.quality_html import rules_section

CSS = """
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
h2{font-size:16px;margin:18px 0 6px}
.scroll{overflow:auto;background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:6px}
label[for=fit-graph]{font-size:12px;color:#555} .fit:checked~.graphbox svg{width:100%;height:auto}
td.chg,span.chg{background:#fff1dc;font-weight:600} .down{color:#b71c1c} .up{color:#1b5e20}
table.kv{width:auto} table.kv th{width:auto}
"""


def _e(v: Any) -> str:
    if v is None:
        return '<span class="muted">null</span>'
    if not isinstance(v, str):
        v = json.dumps(v, ensure_ascii=False, default=str)
    return escape(v)


def _num(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else _e(v)


def badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status)}</span>'


def _rows_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return f"<div style='overflow:auto'><table><tr>{head}</tr>{body}</table></div>"


def _kv(d: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td class='num'>{_num(v)}</td></tr>" for k, v in d.items()
    )
    return f"<table class='kv'>{rows}</table>"


def _delta(c: dict[str, Any] | None, pct: bool = True) -> str:
    """'1,000 → 800 (-200, -20%)' with the change coloured; '' when nothing to compare."""
    if not c or c.get("before") is None:
        return ""
    if not c["changed"]:
        return f"<span class='muted'>same as before ({_num(c['before'])})</span>"
    text = f"{_num(c['before'])} → {_num(c['after'])}"
    if c.get("change") is not None:
        sign = "+" if c["change"] > 0 else ""
        extra = f", {sign}{c['pct']}%" if pct and c.get("pct") is not None else ""
        cls = "up" if c["change"] > 0 else "down"
        text += f" <span class='{cls}'>({sign}{_num(c['change'])}{extra})</span>"
    return f"<span class='chg'>{text}</span>"


def _error(n: dict[str, Any]) -> str:
    out = (
        f'<p class="muted">skipped: {escape(n["skipped_because"])}</p>'
        if n.get("skipped_because")
        else ""
    )
    err = n.get("error")
    if not err:
        return out
    return out + (
        f'<div class="err"><b>{escape(err["stage"])}</b>: {escape(err["message"])}'
        + (f"<br>{escape(err['detail'])}" if err.get("detail") else "")
        + (f'<br><span class="hint">hint: {escape(err["hint"])}</span>' if err.get("hint") else "")
        + f"<details><summary>traceback</summary><pre>{escape(err['traceback'])}</pre></details></div>"
    )


def _read(n: dict[str, Any]) -> str:
    return f"<h3>Read</h3>{_kv(n['read'])}" if n.get("read") else ""


def _incremental(n: dict[str, Any]) -> str:
    """Watermark (or change feed version) before and after, and the rows the batch held."""
    inc = n.get("incremental")
    if not inc:
        return ""
    what = f"column {inc['column']}" if inc.get("column") else "change data feed"
    refresh = " (full refresh: stored state ignored)" if inc.get("full_refresh") else ""
    return (
        f"<h3>Incremental: {escape(what)}{refresh}</h3><pre>"
        f"before: {_e(inc.get('before'))}\nafter:  {_e(inc.get('after'))}\n"
        f"rows read: {_num(inc.get('rows_read'))}</pre>"
    )


def _steps(n: dict[str, Any]) -> str:
    parts = []
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
    return "".join(parts)


def _validation(n: dict[str, Any]) -> str:
    checks = [c for c in n.get("validation") or [] if "expr" not in c]  # rules: rules_section
    if not checks:
        return ""
    rows = "".join(
        f"<tr><td>{escape(c['check'])}</td><td>{badge('success' if c['passed'] else 'failed')}"
        f"</td><td>{escape(c['detail'])}</td></tr>"
        for c in checks
    )
    return f"<h3>Validation</h3><table><tr><th>check</th><th>result</th><th>detail</th></tr>{rows}</table>"


def _failing_rows(n: dict[str, Any]) -> str:
    rows = n.get("failing_rows")
    if not rows:
        return ""
    cols = [c["name"] for c in n.get("columns", [])] or None
    return f"<h3>Failing rows ({len(rows)} shown)</h3>" + _rows_table(rows, cols)


def _changes(n: dict[str, Any]) -> str:
    cmp = n.get("vs_previous")
    if n["status"] == "skipped":
        return ""
    if not cmp:
        return (
            "<h3>Compared with the previous run</h3><p class='muted'>no previous successful run</p>"
        )
    s = cmp["schema"]
    schema = []
    if s["added"]:
        schema.append(f"added {', '.join(s['added'])}")
    if s["removed"]:
        schema.append(f"removed {', '.join(s['removed'])}")
    schema += [f"{t['column']}: {t['before']} → {t['after']}" for t in s["type_changed"]]
    rows = (
        f"<tr><th>rows in</th><td>{_delta(cmp['rows_in']) or '—'}</td></tr>"
        f"<tr><th>rows out</th><td>{_delta(cmp['rows_out']) or '—'}</td></tr>"
        f"<tr><th>schema</th><td>{escape('; '.join(schema)) if schema else '<span class=muted>same</span>'}"
        f"</td></tr>"
    )
    cls = "chg" if schema else ""
    return (
        f"<h3>Compared with run {escape(str(cmp['previous_run']))}</h3>"
        f"<table class='kv {cls}'>{rows}</table>"
    )


def _columns(n: dict[str, Any]) -> str:
    if not n.get("columns"):
        return ""
    prof = n.get("profile") or {}
    cmp = (n.get("vs_previous") or {}).get("columns", {})
    added = set((n.get("vs_previous") or {}).get("schema", {}).get("added", []))
    rows = []
    for c in n["columns"]:
        name, p, d = c["name"], prof.get(c["name"]), cmp.get(c["name"], {})
        cells = [
            f"<td>{escape(name)}{' <span class=chg>new</span>' if name in added else ''}</td>",
            f"<td>{escape(c['type'])}</td>",
        ]
        if p is None:
            cells.append("<td colspan=3 class='muted'>not profiled</td>")
        else:
            nf = d.get("null_fraction")
            null_txt = f"{_num(p['nulls'])} ({100 * p['null_fraction']:.2f}%)"
            if nf and nf["changed"] and nf.get("before") is not None:
                null_txt += f" <span class='muted'>was {100 * nf['before']:.2f}%</span>"
            cells.append(f"<td class='num{' chg' if nf and nf['changed'] else ''}'>{null_txt}</td>")
            for k in ("min", "max"):
                ch = d.get(k)
                txt = _e(p.get(k)) if k in p else "<span class='muted'>—</span>"
                if ch and ch["changed"]:
                    txt += f" <span class='muted'>was {_e(ch['before'])}</span>"
                cells.append(f"<td class='{'chg' if ch and ch['changed'] else ''}'>{txt}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<h3>Columns</h3><table><tr><th>column</th><th>type</th><th>nulls</th><th>min</th>"
        f"<th>max</th></tr>{''.join(rows)}</table>"
    )


def _write(n: dict[str, Any]) -> str:
    return f"<h3>Write</h3>{_kv(n['write'])}" if n.get("write") else ""


def _sample(n: dict[str, Any]) -> str:
    if not n.get("sample"):
        return ""
    cols = [c["name"] for c in n.get("columns", [])] or None
    return f"<h3>Sample ({len(n['sample'])} rows)</h3>" + _rows_table(n["sample"], cols)


NODE_SECTIONS: list[Callable[[dict[str, Any]], str]] = [
    _error,
    _read,
    _incremental,
    _steps,
    _validation,
    rules_section,
    _failing_rows,
    _changes,
    _columns,
    _write,
    _sample,
]


def _node(n: dict[str, Any]) -> str:
    key = f"{n['pipeline']}.{n['name']}"
    out = _delta((n.get("vs_previous") or {}).get("rows_out"))
    return (
        f'<details class="node" id="node-{escape(key)}"{" open" if n["status"] == "failed" else ""}>'
        f"<summary>{badge(n['status'])} {escape(n['pipeline'])} / {escape(n['name'])}"
        f' <span class="muted">— {n["seconds"]:.3f}s, rows in {_num(n["rows_in"])}, '
        f"out {_num(n['rows_out'])}</span> {out if has_changes(n.get('vs_previous')) else ''}</summary>"
        + "".join(section(n) for section in NODE_SECTIONS)
        + "</details>"
    )


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
        f"<td class='num'>{n['seconds']:.3f}</td><td class='num'>{_num(n['rows_in'])}</td>"
        f"<td class='num'>{_num(n['rows_out'])}</td>"
        f"<td>{_delta((n.get('vs_previous') or {}).get('rows_out'))}</td></tr>"
        for n in doc["nodes"]
    )
    runtime = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{_e(v)}</td></tr>"
        for k, v in (doc.get("runtime") or {}).items()
    )
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
<h2>Graph</h2><input type="checkbox" id="fit-graph" class="fit"><label for="fit-graph">fit to
width</label><div class="scroll graphbox">{graph_svg(*graph_nodes(doc))}</div>
<h2>Timeline</h2><div class="scroll">{timeline_svg(by_start, doc.get("started"))}</div>
<h2>Overview</h2>
<table><tr><th>pipeline</th><th>node</th><th>status</th><th>seconds</th><th>rows in</th><th>rows out</th>
<th>rows out vs previous run</th></tr>
{overview}</table>
<h2>Nodes</h2>
{"".join(_node(n) for n in doc["nodes"])}
<details><summary class="muted">run details</summary><table>
<tr><th>config</th><td>{escape(doc.get("config_file") or "")}</td></tr>
<tr><th>odibi-dbx</th><td>{escape(doc.get("odibi_version") or "")}</td></tr>{runtime}</table></details>
</main></body></html>
"""
