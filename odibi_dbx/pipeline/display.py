"""How a run looks in a notebook: one line per node as it finishes, a compact table at the end,
and RunResult's repr / _repr_html_."""

from __future__ import annotations

import html
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from odibi_dbx.pipeline.events import NodeResult, RunInfo, RunListener

if TYPE_CHECKING:
    from odibi_dbx.pipeline.events import RunResult

MARK = {"success": "✓", "failed": "✗", "skipped": "-"}
_COLOR = {"success": "#1a7f37", "failed": "#cf222e", "skipped": "#9a6700"}


def in_notebook() -> bool:
    """An IPython kernel (Jupyter, Databricks) is running this code."""
    ip = sys.modules.get("IPython")
    get = getattr(ip, "get_ipython", None)
    return get is not None and get() is not None


def _rows(n: NodeResult) -> str:
    return "" if n.rows_out is None else f"{n.rows_out:,} rows"


def node_line(n: NodeResult) -> str:
    note = n.error_message if n.status != "success" else _rows(n)
    return f"{MARK.get(n.status, '?')} {n.pipeline}.{n.name}  {n.status}  {n.seconds:.2f}s  {note}"


def result_text(r: RunResult) -> str:
    counts = {s: sum(n.status == s for n in r.nodes) for s in ("success", "failed", "skipped")}
    head = (
        f"RunResult {r.run_id}: {r.status} — {counts['success']} succeeded, "
        f"{counts['failed']} failed, {counts['skipped']} skipped"
    )
    cells = [
        (MARK.get(n.status, "?"), f"{n.pipeline}.{n.name}", n.status, _rows(n), f"{n.seconds:.2f}s")
        for n in r.nodes
    ]
    widths = [max((len(c[i]) for c in cells), default=0) for i in range(5)]
    lines = [
        "  "
        + "  ".join(
            c.rjust(w) if i in (3, 4) else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    notes = [
        f"  {n.pipeline}.{n.name}: {n.error_message}" for n in r.nodes if n.status != "success"
    ]
    notes += [f"  note: {note}" for note in r.run.notes]
    story = [f"story: {r.story_html_path}"] if r.story_html_path else []
    return "\n".join([head, *lines, *notes, *story])


def result_html(r: RunResult) -> str:
    e = html.escape
    body = "".join(
        f"<tr><td style='color:{_COLOR.get(n.status, '')}'>{MARK.get(n.status, '?')} {e(n.status)}</td>"
        f"<td><code>{e(n.pipeline)}.{e(n.name)}</code></td>"
        f"<td style='text-align:right'>{'' if n.rows_out is None else f'{n.rows_out:,}'}</td>"
        f"<td style='text-align:right'>{n.seconds:.2f}s</td>"
        f"<td>{e(n.error_message if n.status != 'success' else '')}</td></tr>"
        for n in r.nodes
    )
    story = f"<div>story: <code>{e(r.story_html_path)}</code></div>" if r.story_html_path else ""
    return (
        f"<div><b>run {e(r.run_id)}: <span style='color:{_COLOR.get(r.status, '')}'>"
        f"{e(r.status)}</span></b><table><thead><tr><th>status</th><th>node</th><th>rows</th>"
        f"<th>time</th><th>note</th></tr></thead><tbody>{body}</tbody></table>{story}</div>"
    )


class NotebookProgress(RunListener):
    """A line per node as it finishes (flushed, so it shows while the run goes on), then the
    compact table."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def run_started(self, run: RunInfo) -> None:
        with self._lock:
            print(
                f"run {run.run_id}: {', '.join(run.pipelines)} on {run.engine}",
                file=self.stream,
                flush=True,
            )

    def node_finished(self, run: RunInfo, result: NodeResult) -> None:
        with self._lock:
            print("  " + node_line(result).rstrip(), file=self.stream, flush=True)

    def run_finished(self, result: RunResult) -> None:
        try:
            from IPython.display import HTML, display
        except ImportError:
            print(result_text(result), file=self.stream, flush=True)
            return
        display(HTML(result_html(result)))
