"""Counted work, a deterministic stand-in for time in tests (speed itself is measured in
bench/): the lines of given source files executed while some work runs."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


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
