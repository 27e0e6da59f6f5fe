"""The run's pipeline graph as inline SVG: layered left to right (a node one column right of
its furthest upstream node), rows ordered to keep edges short, coloured by status.

A pure function of the nodes and edges, so any source of edges (one pipeline's `depends_on`,
or a plan with cross-pipeline edges) draws the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

STATUS_FILL = {"success": "#d7f5df", "failed": "#fbdada", "skipped": "#eceef1"}
STATUS_STROKE = {"success": "#2e7d32", "failed": "#c62828", "skipped": "#9e9e9e"}
W, H, GAP_X, GAP_Y, PAD = 150, 36, 44, 10, 12
DUMMY_H = 8  # the slot a long edge takes in each column it passes
_MAX_LABEL = 20


def layers(
    keys: Sequence[str],
    edges: Sequence[tuple[str, str]],
    groups: Mapping[str, str] | None = None,
) -> tuple[list[list[str]], dict[tuple[str, str], list[str]], dict[str, list[str]]]:
    """Columns of node keys, left to right: longest-path layering; an edge spanning several
    columns passes through a placeholder ("~n") in each column between, so it runs in its own
    lane instead of under other nodes; a few barycentre sweeps then order each column to keep
    edges short and uncrossed, keeping each group (pipeline) in its own band. Returns the
    columns, per edge the placeholders it passes, and per item what it is drawn from."""
    band = {g: i for i, g in enumerate(dict.fromkeys((groups or {}).values()))}
    group = {k: band.get((groups or {}).get(k, ""), 0) for k in keys}
    ups: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in edges:
        if a in ups and b in ups and a != b and a not in ups[b]:
            ups[b].append(a)
    level: dict[str, int] = {}
    for k in keys:  # iterative longest path (cycles cannot happen in a plan; guard anyway)
        stack, seen = [k], set()
        while stack:
            cur = stack[-1]
            todo = [u for u in ups[cur] if u not in level and u not in seen]
            if todo:
                seen.add(cur)
                stack += todo
                continue
            stack.pop()
            level[cur] = 1 + max((level.get(u, 0) for u in ups[cur]), default=-1)
    near_up: dict[str, list[str]] = {k: list(v) for k, v in ups.items()}
    near_down: dict[str, list[str]] = {k: [] for k in keys}
    via: dict[tuple[str, str], list[str]] = {}
    for b in keys:
        for a in ups[b]:
            chain, prev = [], a
            for lv in range(level[a] + 1, level[b]):
                d = f"~{len(level)}"
                level[d], group[d] = lv, group[a]
                near_up[d], near_down[d] = [prev], []
                near_down[prev].append(d)
                chain.append(d)
                prev = d
            if chain:
                near_up[b] = [chain[-1] if u == a else u for u in near_up[b]]
            near_down[prev].append(b)
            via[(a, b)] = chain
    cols: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for k in level:  # input order breaks ties: pipelines stay together
        cols[level[k]].append(k)
    for sweep in range(6):
        down = sweep % 2 == 0
        near = near_up if down else near_down
        for i in range(1, len(cols)) if down else range(len(cols) - 2, -1, -1):
            pos = {k: j for col in cols for j, k in enumerate(col)}
            # nodes above the lanes of their band: chains stay level, long edges run beneath
            cols[i].sort(
                key=lambda k: (group[k], k[0] == "~", _mean([pos[n] for n in near[k]], pos[k]))
            )
    return cols, via, near_up


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _height(k: str) -> int:
    return DUMMY_H if k.startswith("~") else H


def place(cols: list[list[str]], near_up: Mapping[str, list[str]]) -> dict[str, tuple[int, int]]:
    """Top-left corners: each item as level as it can be with what it is drawn from (chains
    run straight), pushed down only as far as the item above needs."""
    xy: dict[str, tuple[int, int]] = {}
    for i, col in enumerate(cols):
        bottom = PAD - GAP_Y
        for k in col:
            near = [u for u in near_up.get(k, []) if u in xy]
            near = [u for u in near if u[0] != "~"] or near  # level with nodes before lanes
            ups = [xy[u][1] + _height(u) / 2 for u in near]
            want = _mean(ups, 0) - _height(k) / 2 if ups else PAD
            y = int(max(want, bottom + GAP_Y))
            xy[k] = (PAD + i * (W + GAP_X), y)
            bottom = y + _height(k)
    return xy


def _label(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


def graph_svg(nodes: Sequence[dict[str, Any]], edges: Sequence[tuple[str, str]]) -> str:
    """`nodes`: dicts with key, name, pipeline, status and optionally changed (bool), seconds.
    Edges between pipelines are dashed."""
    if not nodes:
        return ""
    by_key = {n["key"]: n for n in nodes}
    groups = {n["key"]: n["pipeline"] for n in nodes}
    cols, via, near_up = layers([n["key"] for n in nodes], edges, groups)
    xy = place(cols, near_up)
    width = PAD * 2 + len(cols) * (W + GAP_X) - GAP_X
    height = PAD + max(y + _height(k) for k, (_, y) in xy.items())
    out = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="pipeline graph">'
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z" fill="#7a8594"/></marker></defs>'
    ]

    def mid(k: str) -> int:
        return xy[k][1] + _height(k) // 2

    for a, b in edges:
        if (a, b) not in via:
            continue
        x, y = xy[a][0] + W, mid(a)
        d = [f"M{x},{y}"]
        for k in [*via[(a, b)], b]:
            nx, ny = xy[k][0], mid(k)
            half = (x + nx) / 2
            d.append(f"C{half},{y} {half},{ny} {nx},{ny}")
            x, y = nx, ny
            if k.startswith("~"):  # straight through the placeholder's column
                x += W
                d.append(f"L{x},{y}")
        cross = by_key[a]["pipeline"] != by_key[b]["pipeline"]
        style = ' class="edge cross" stroke-dasharray="5 4"' if cross else ' class="edge"'
        out.append(
            f'<path{style} d="{" ".join(d)}" fill="none" stroke="#7a8594" stroke-width="1.3" '
            'marker-end="url(#arrow)"/>'
        )
    for k, (x, y) in xy.items():
        if k.startswith("~"):
            continue
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
