"""Counted work, a deterministic stand-in for time in tests (speed itself is measured in
bench/): the lines of given source files executed while some work runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path


def lines_in(files: tuple[str, ...], work: Callable[[], object]) -> int:
    """Lines executed in `files` while `work` runs, in the calling thread and in the threads it
    starts (a run's nodes execute on a thread pool)."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename in files else None

    sys.settrace(tracer)
    threading.settrace(tracer)
    try:
        work()
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
    return count


def cli_run_facts(path: Path, probe: str, setup: str = "") -> list:
    """Run `odibi-dbx run path` in a fresh interpreter; `probe` (Python code run after the
    run; `setup` runs before it) prints one JSON line of facts about the process, returned."""
    code = (
        f"import json, sys\n{setup}\nfrom odibi_dbx import cli\n"
        f"rc = cli.main(['run', {str(path)!r}])\n{probe}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.splitlines()[-1])
