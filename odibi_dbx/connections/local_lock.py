"""One writer per output, and nothing left behind by killed runs: `LocalConnection.write_lock`
(outputs on a local file system, which includes /dbfs and /Volumes paths on Databricks).

- **Lock.** A write holds an exclusive `flock` on `.<name>.odibi-lock` beside its output for as
  long as it writes. A second writer (another run, or another node of the same run) fails at
  once with `OutputBusy`, naming the holder; the last writer never silently wins. The operating
  system drops the lock when its process dies, `kill -9` included, so a stale lock never blocks.
- **Debris.** What killed writers leave beside the output (staging, and the previous output moved
  aside by an interrupted overwrite) is repaired under this lock (leftovers.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from odibi_dbx.connections.base import OutputBusy

log = logging.getLogger(__name__)


def lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.odibi-lock"


@contextlib.contextmanager
def locked(target: Path, owner: str) -> Iterator[None]:
    """Hold the output's lock, or raise OutputBusy at once when another writer has it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(target), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise OutputBusy(
                f"output {target} is being written by another writer ({holder}); "
                "this write was refused and the output left to that writer"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{owner}, pid {os.getpid()}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
