"""What every story page shares: the stylesheet and small HTML pieces (cells, numbers, status
badges, tables, before → after changes)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

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


def cell(v: Any) -> str:
    if v is None:
        return '<span class="muted">null</span>'
    if not isinstance(v, str):
        v = json.dumps(v, ensure_ascii=False, default=str)
    return escape(v)


def num(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else cell(v)


def badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status)}</span>'


def rows_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return f"<div style='overflow:auto'><table><tr>{head}</tr>{body}</table></div>"


def kv(d: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td class='num'>{num(v)}</td></tr>" for k, v in d.items()
    )
    return f"<table class='kv'>{rows}</table>"


def delta(c: dict[str, Any] | None, pct: bool = True) -> str:
    """'1,000 → 800 (-200, -20%)' with the change coloured; '' when nothing to compare."""
    if not c or c.get("before") is None:
        return ""
    if not c["changed"]:
        return f"<span class='muted'>same as before ({num(c['before'])})</span>"
    text = f"{num(c['before'])} → {num(c['after'])}"
    if c.get("change") is not None:
        sign = "+" if c["change"] > 0 else ""
        extra = f", {sign}{c['pct']}%" if pct and c.get("pct") is not None else ""
        cls = "up" if c["change"] > 0 else "down"
        text += f" <span class='{cls}'>({sign}{num(c['change'])}{extra})</span>"
    return f"<span class='chg'>{text}</span>"
