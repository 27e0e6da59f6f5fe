"""Live progress for `odibi-dbx run`: a rich table on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from odibi_dbx.pipeline.events import NodeResult, RunInfo, RunListener

if TYPE_CHECKING:
    from rich.table import Table

_MARK = {"success": "✓", "failed": "✗", "skipped": "-"}


class PlainProgress(RunListener):
    """One line per event, flushed: readable in CI logs and Databricks job output."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._lock:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", file=self.stream, flush=True)

    def run_started(self, run: RunInfo) -> None:
        self._line(
            f"run {run.run_id}: {run.project} on {run.engine}"
            f"{f' (env {run.environment})' if run.environment else ''}"
        )

    def node_started(self, run: RunInfo, pipeline: str, node: str) -> None:
        self._line(f"  … {pipeline}.{node} started")

    def node_retrying(
        self,
        run: RunInfo,
        pipeline: str,
        node: str,
        attempt: int,
        error: BaseException,
        wait: float,
    ) -> None:
        self._line(
            f"  ↻ {pipeline}.{node} attempt {attempt} failed ({type(error).__name__}); "
            f"retrying in {wait:.1f}s"
        )

    def node_finished(self, run: RunInfo, r: NodeResult) -> None:
        rows = f"{r.rows_out:,} rows" if r.rows_out is not None else ""
        why = r.error_message if r.status != "success" else rows
        self._line(
            f"  {_MARK.get(r.status, '?')} {r.pipeline}.{r.name} {r.status} "
            f"{r.seconds:.2f}s {why}".rstrip()
        )


class LiveProgress(RunListener):
    """A live table of nodes (rich), redrawn as events arrive."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=False)
        self.rows: dict[str, list[str]] = {}
        self.started: dict[str, float] = {}
        self._lock = threading.Lock()
        self.live = Live(self._table(), console=self.console, refresh_per_second=8, transient=False)

    def _table(self) -> Table:
        from rich.table import Table

        t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("", "node", "status", "rows", "seconds", "note"):
            t.add_column(col)
        for key, row in self.rows.items():
            if row[1] == "running":
                row[3] = f"{time.perf_counter() - self.started[key]:.1f}"
            t.add_row(*row[:1], key, *row[1:])
        return t

    def _update(self) -> None:
        self.live.update(self._table())

    def node_started(self, run: RunInfo, pipeline: str, node: str) -> None:
        with self._lock:
            key = f"{pipeline}.{node}"
            self.started[key] = time.perf_counter()
            self.rows[key] = ["…", "running", "", "0.0", ""]
            self._update()

    def node_retrying(
        self,
        run: RunInfo,
        pipeline: str,
        node: str,
        attempt: int,
        error: BaseException,
        wait: float,
    ) -> None:
        with self._lock:
            self.rows[f"{pipeline}.{node}"][4] = f"retry {attempt} ({type(error).__name__})"
            self._update()

    def node_finished(self, run: RunInfo, r: NodeResult) -> None:
        with self._lock:
            note = r.error_message[:80] if r.status != "success" else ""
            rows = f"{r.rows_out:,}" if r.rows_out is not None else ""
            color = {"success": "green", "failed": "red", "skipped": "yellow"}.get(r.status, "")
            self.rows[f"{r.pipeline}.{r.name}"] = [
                _MARK.get(r.status, "?"),
                f"[{color}]{r.status}[/]",
                rows,
                f"{r.seconds:.2f}",
                note,
            ]
            self._update()


@contextmanager
def progress_listener(live: bool | None = None) -> Iterator[RunListener]:
    """A live table on a terminal (`live`, default: stdout is one), else plain lines."""
    if sys.stdout.isatty() if live is None else live:
        table = LiveProgress()
        with table.live:
            yield table
    else:
        yield PlainProgress()
