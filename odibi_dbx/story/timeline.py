"""The run's timeline (a Gantt chart) and small row-trend sparklines, as inline SVG."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from typing import Any

from odibi_dbx.story.graph import STATUS_STROKE

LABEL_W, CHART_W, ROW_H = 230, 760, 20


def _t(iso: str | None) -> float | None:
    return dt.datetime.fromisoformat(iso).timestamp() if iso else None


def timeline_svg(nodes: Sequence[dict[str, Any]], run_started: str | None) -> str:
    """One row per node, a bar from its start to its end; bars that overlap ran in parallel."""
    if not nodes:
        return ""
    t0 = _t(run_started)
    spans = [(_t(n.get("started")), _t(n.get("ended"))) for n in nodes]
    starts = [s for s, _ in spans if s is not None]
    if t0 is None:
        t0 = min(starts, default=0.0)
    end = max([e for _, e in spans if e is not None] + [t0 + 1e-3])
    total = max(end - t0, 1e-3)
    scale = CHART_W / total
    height = 24 + ROW_H * len(nodes)
    width = LABEL_W + CHART_W + 60
    out = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="run timeline">'
    ]
    for i in range(6):  # time axis
        x = LABEL_W + i * CHART_W / 5
        out.append(
            f'<line x1="{x:.1f}" y1="16" x2="{x:.1f}" y2="{height}" stroke="#e1e4e8"/>'
            f'<text x="{x:.1f}" y="11" font-size="10" fill="#5b6570" text-anchor="middle">'
            f"{total * i / 5:.2f}s</text>"
        )
    for i, (n, (s, e)) in enumerate(zip(nodes, spans, strict=True)):
        y = 20 + i * ROW_H
        key = f"{n['pipeline']}.{n['name']}"
        label = key if len(key) <= 34 else key[:33] + "…"
        bar = ""
        if s is not None:
            x = LABEL_W + (s - t0) * scale
            w = max(2.0, ((e if e is not None else end) - s) * scale)
            colour = STATUS_STROKE.get(n["status"], "#f9a825")
            bar = (
                f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW_H - 6}" '
                f'rx="2" fill="{colour}"><title>{escape(key)}: {n["seconds"]:.3f}s '
                f"({n['status']})</title></rect>"
                f'<text x="{x + w + 4:.1f}" y="{y + 14}" font-size="10" fill="#5b6570">'
                f"{n['seconds']:.2f}s</text>"
            )
        else:
            bar = (
                f'<text x="{LABEL_W + 4}" y="{y + 14}" font-size="10" fill="#9e9e9e">'
                f"{escape(n['status'])}: did not run</text>"
            )
        out.append(
            f'<g class="trow" data-node="{escape(key)}"><text x="{LABEL_W - 8}" y="{y + 14}" '
            f'font-size="11" text-anchor="end" fill="#1d232a">{escape(label)}</text>{bar}</g>'
        )
    out.append("</svg>")
    return "".join(out)


def sparkline_svg(values: Sequence[int | None], width: int = 120, height: int = 24) -> str:
    """A small line of row counts (oldest left); gaps where a run counted none."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if not pts:
        return '<span class="muted">—</span>'
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span_x = max(len(values) - 1, 1)

    def xy(i: int, v: int) -> str:
        y = height / 2 if hi == lo else 3 + (height - 6) * (1 - (v - lo) / (hi - lo))
        return f"{2 + (width - 4) * i / span_x:.1f},{y:.1f}"

    line = " ".join(xy(i, v) for i, v in pts)
    li, lv = pts[-1]
    last = xy(li, lv).split(",")
    return (
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>rows: {", ".join(str(v) for _, v in pts)}</title>'
        f'<polyline points="{line}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>'
        f'<circle cx="{last[0]}" cy="{last[1]}" r="2.2" fill="#1f6feb"/></svg>'
    )
