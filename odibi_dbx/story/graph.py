"""The run's pipeline graph as inline SVG: layered left to right (a node one column right of
its furthest upstream node), rows ordered to keep edges short, coloured by status.

A pure function of the nodes and edges, so any source of edges (one pipeline's `depends_on`,
or a plan with cross-pipeline edges) draws the same way."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

STATUS_FILL = {"success": "#d7f5df", "failed": "#fbdada", "skipped": "#eceef1"}
STATUS_STROKE = {"success": "#2e7d32", "failed": "#c62828", "skipped": "#9e9e9e"}
W, H, GAP_X, GAP_Y, PAD = 168, 36, 56, 12, 12
_MAX_LABEL = 22


def layers(keys: Sequence[str], edges: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Longest-path layering, then a few barycentre sweeps to reduce crossings."""
    ups: dict[str, list[str]] = {k: [] for k in keys}
    downs: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in edges:
        if a in ups and b in ups and a != b:
            ups[b].append(a)
            downs[a].append(b)
    level: dict[str, int] = {}

    def depth(k: str, seen: frozenset[str] = frozenset()) -> int:
        if k not in level:
            level[k] = 1 + max((depth(u, seen | {k}) for u in ups[k] if u not in seen), default=-1)
        return level[k]

    for k in keys:
        depth(k)
    cols: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for k in keys:  # input order breaks ties: pipelines stay together
        cols[level[k]].append(k)
    for sweep in range(4):
        order = range(1, len(cols)) if sweep % 2 == 0 else range(len(cols) - 2, -1, -1)
        for i in order:
            near = ups if sweep % 2 == 0 else downs
            pos = {k: j for col in cols for j, k in enumerate(col)}
            cols[i].sort(
                key=lambda k: sum(pos[n] for n in near[k]) / len(near[k]) if near[k] else pos[k]
            )
    return cols


def _label(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


def graph_svg(nodes: Sequence[dict[str, Any]], edges: Sequence[tuple[str, str]]) -> str:
    """`nodes`: dicts with key, name, pipeline, status and optionally changed (bool), seconds.
    Edges between pipelines are dashed."""
    if not nodes:
        return ""
    by_key = {n["key"]: n for n in nodes}
    cols = layers([n["key"] for n in nodes], edges)
    xy: dict[str, tuple[int, int]] = {}
    for i, col in enumerate(cols):
        for j, k in enumerate(col):
            xy[k] = (PAD + i * (W + GAP_X), PAD + j * (H + GAP_Y))
    width = PAD * 2 + len(cols) * (W + GAP_X) - GAP_X
    height = PAD * 2 + max(len(c) for c in cols) * (H + GAP_Y) - GAP_Y
    out = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="pipeline graph">'
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z" fill="#7a8594"/></marker></defs>'
    ]
    for a, b in edges:
        if a not in xy or b not in xy:
            continue
        (x1, y1), (x2, y2) = xy[a], xy[b]
        x1, y1, y2 = x1 + W, y1 + H // 2, y2 + H // 2
        mid = (x1 + x2) / 2
        cross = by_key[a]["pipeline"] != by_key[b]["pipeline"]
        style = ' class="edge cross" stroke-dasharray="5 4"' if cross else ' class="edge"'
        out.append(
            f'<path{style} d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" fill="none" '
            'stroke="#7a8594" stroke-width="1.3" marker-end="url(#arrow)"/>'
        )
    for k, (x, y) in xy.items():
        n = by_key[k]
        st = n["status"]
        tip = f"{n['pipeline']}.{n['name']} — {st}"
        if n.get("seconds") is not None:
            tip += f", {n['seconds']:.2f}s"
        out.append(
            f'<a href="#node-{escape(k)}"><g class="gnode" data-node="{escape(k)}">'
            f"<title>{escape(tip)}</title>"
            f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="6" '
            f'fill="{STATUS_FILL.get(st, "#fff3cd")}" stroke="{STATUS_STROKE.get(st, "#f9a825")}" '
            f'stroke-width="{2 if st == "failed" else 1.3}"/>'
            f'<text x="{x + 8}" y="{y + 15}" font-size="12" font-weight="600" fill="#1d232a">'
            f"{escape(_label(n['name']))}</text>"
            f'<text x="{x + 8}" y="{y + 29}" font-size="10" fill="#5b6570">'
            f"{escape(_label(n['pipeline']))}</text>"
            + (
                f'<circle class="changed" cx="{x + W - 9}" cy="{y + 9}" r="4.5" fill="#ef6c00">'
                "<title>changed since the previous successful run</title></circle>"
                if n.get("changed")
                else ""
            )
            + "</g></a>"
        )
    out.append("</svg>")
    return "".join(out)
