"""A node's section of the story page, built by the NODE_SECTIONS functions in order (add a
section by adding a function there): error, read, steps, validation, rules, failing rows,
changes since the previous run, columns, write, sample."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from odibi_dbx.pipeline.baseline import has_changes
from odibi_dbx.story.html_parts import badge, cell, delta, kv, num, rows_table
from odibi_dbx.story.quality_html import rules_section


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
    return f"<h3>Read</h3>{kv(n['read'])}" if n.get("read") else ""


def _incremental(n: dict[str, Any]) -> str:
    """Watermark (or change feed version) before and after, and the rows the batch held."""
    inc = n.get("incremental")
    if not inc:
        return ""
    what = f"column {inc['column']}" if inc.get("column") else "change data feed"
    refresh = " (full refresh: stored state ignored)" if inc.get("full_refresh") else ""
    return (
        f"<h3>Incremental: {escape(what)}{refresh}</h3><pre>"
        f"before: {cell(inc.get('before'))}\nafter:  {cell(inc.get('after'))}\n"
        f"rows read: {num(inc.get('rows_read'))}</pre>"
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
                f"<pre>params: {cell(s.get('params') or {})}</pre>"
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
    return f"<h3>Failing rows ({len(rows)} shown)</h3>" + rows_table(rows, cols)


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
        f"<tr><th>rows in</th><td>{delta(cmp['rows_in']) or '—'}</td></tr>"
        f"<tr><th>rows out</th><td>{delta(cmp['rows_out']) or '—'}</td></tr>"
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
            null_txt = f"{num(p['nulls'])} ({100 * p['null_fraction']:.2f}%)"
            if nf and nf["changed"] and nf.get("before") is not None:
                null_txt += f" <span class='muted'>was {100 * nf['before']:.2f}%</span>"
            cells.append(f"<td class='num{' chg' if nf and nf['changed'] else ''}'>{null_txt}</td>")
            for k in ("min", "max"):
                ch = d.get(k)
                txt = cell(p.get(k)) if k in p else "<span class='muted'>—</span>"
                if ch and ch["changed"]:
                    txt += f" <span class='muted'>was {cell(ch['before'])}</span>"
                cells.append(f"<td class='{'chg' if ch and ch['changed'] else ''}'>{txt}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<h3>Columns</h3><table><tr><th>column</th><th>type</th><th>nulls</th><th>min</th>"
        f"<th>max</th></tr>{''.join(rows)}</table>"
    )


def _write(n: dict[str, Any]) -> str:
    return f"<h3>Write</h3>{kv(n['write'])}" if n.get("write") else ""


def _sample(n: dict[str, Any]) -> str:
    if not n.get("sample"):
        return ""
    cols = [c["name"] for c in n.get("columns", [])] or None
    return f"<h3>Sample ({len(n['sample'])} rows)</h3>" + rows_table(n["sample"], cols)


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


def node_section(n: dict[str, Any]) -> str:
    key = f"{n['pipeline']}.{n['name']}"
    out = delta((n.get("vs_previous") or {}).get("rows_out"))
    return (
        f'<details class="node" id="node-{escape(key)}"{" open" if n["status"] == "failed" else ""}>'
        f"<summary>{badge(n['status'])} {escape(n['pipeline'])} / {escape(n['name'])}"
        f' <span class="muted">— {n["seconds"]:.3f}s, rows in {num(n["rows_in"])}, '
        f"out {num(n['rows_out'])}</span> {out if has_changes(n.get('vs_previous')) else ''}</summary>"
        + "".join(section(n) for section in NODE_SECTIONS)
        + "</details>"
    )
