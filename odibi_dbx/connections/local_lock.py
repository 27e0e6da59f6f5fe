"""One writer per output, and nothing left behind by killed runs: `LocalConnection.write_lock`
(outputs on a local file system, which includes /dbfs and /Volumes paths on Databricks).

- **Lock.** A write holds an exclusive `flock` on `.<name>.odibi-lock` beside its output for as
  long as it writes. A second writer (another run, or another node of the same run) fails at
  once with `OutputBusy`, naming the holder; the last writer never silently wins. The operating
  system drops the lock when its process dies, `kill -9` included, so a stale lock never blocks.
- **Debris.** Writers stage beside the output (`.<name>.odibi-tmp-<run>-<id>`) and an overwrite
  moves the previous output aside (`.<name>.odibi-old-<run>-<id>`) before moving the new one in.
  A directory cannot be replaced in one atomic step, so a run killed between those two moves
  leaves no output at the target. `recover` puts that right under the lock: the previous output
  is moved back whole (the interrupted overwrite never happened), an aside copy left after a
  completed swap is deleted, and staging folders are removed. Every run calls `recover_outputs`
  for the project's outputs before its first node, and every write calls it for its own output.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from odibi_dbx.connections.base import ASIDE, STAGING, OutputBusy

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


def recover(target: Path) -> list[str]:
    """Repair what killed writers left at `target` (call with its lock held). Returns what was
    done, for the log."""
    done: list[str] = []
    prefix = f".{target.name}"
    if not target.parent.is_dir():
        return done
    leftovers = sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix))
    aside = [p for p in leftovers if p.name.startswith(prefix + ASIDE)]
    if aside and not target.exists():
        newest = max(aside, key=lambda p: p.stat().st_mtime)
        os.replace(newest, target)
        aside.remove(newest)
        done.append(f"restored the previous output from an interrupted overwrite ({newest.name})")
    for p in aside + [p for p in leftovers if p.name.startswith(prefix + STAGING)]:
        _remove(p)
        done.append(f"removed {p.name} left by an earlier run")
    return done


def recover_outputs(targets: Iterable[Path], owner: str) -> None:
    """`recover` every output whose lock is free (a busy one is being written right now)."""
    for target in dict.fromkeys(targets):
        if not target.parent.is_dir():  # never written: nothing to repair, nothing to create
            continue
        try:
            with locked(target, owner):
                for action in recover(target):
                    log.warning("%s: %s", target, action)
        except OutputBusy:
            continue
        except OSError as exc:  # a read-only or vanished folder: the write will say more
            log.warning("could not check %s for leftovers of earlier runs: %s", target, exc)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
