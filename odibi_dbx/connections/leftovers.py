"""What killed writers leave beside an output `<name>`, and how the next writer repairs it: the
rules, once, for every file system (an adapter per file system: `LocalFolders` here, the Spark
engine's Hadoop FS, the blob store of an ADLS connection).

- `.<name>.odibi-tmp-<run>-<id>`: a writer's staging. Its writer is dead (the caller holds the
  output's writer lock, so no live writer owns it): removed.
- `.<name>.odibi-old-<run>-<id>`: the previous output, moved aside by an overwrite before the
  new one is moved in. A folder cannot be replaced in one step, so a writer killed between the
  two moves leaves no output at `<name>`: the newest aside copy is moved back whole (the
  interrupted overwrite never happened). With an output at `<name>` the swap completed and the
  aside copy is deleted. A file system that cannot rename refuses the write instead, saying
  where the previous output is.

The engine's write wrapper calls `repair` under the output's writer lock (`Connection.write_lock`)
before every path write; a run calls `repair_outputs` for the project's outputs before its first
node, so a reader never finds an output missing because an overwrite was killed mid-swap.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from odibi_dbx.connections.base import ASIDE, STAGING, OutputBusy
from odibi_dbx.errors import OdibiError

if TYPE_CHECKING:
    from odibi_dbx.connections.base import Connection

log = logging.getLogger(__name__)


class HalfSwapped(OdibiError):
    """An output that a killed overwrite left aside, on a file system that cannot rename."""

    hint = (
        "run on classic Spark compute (its Hadoop FS moves the previous output back), or move "
        "it back to the output's path yourself; then run again"
    )


class Folders(Protocol):
    """The file-system moves the rules need; paths are the file system's own strings."""

    can_rename: bool  # False: an aside copy cannot be put back here (a blob store)

    def siblings(self, target: str) -> list[tuple[str, float]]:
        """(path, modification time) of every entry beside `target` whose name starts with
        `.<name>.odibi-` ([] when the parent folder does not exist)."""
        ...

    def exists(self, path: str) -> bool: ...

    def rename(self, src: str, dst: str) -> None: ...

    def delete(self, path: str) -> None: ...


def repair(fs: Folders, target: str) -> list[str]:
    """Repair what killed writers left beside `target`; returns what was done (for the log
    and the story)."""
    name = _name(target)
    found = fs.siblings(target)
    aside = [(p, t) for p, t in found if _name(p).startswith(f".{name}{ASIDE}")]
    staging = [p for p, _ in found if _name(p).startswith(f".{name}{STAGING}")]
    done: list[str] = []
    if aside and not fs.exists(target):
        newest = max(aside, key=lambda e: e[1])[0]
        if not fs.can_rename:  # writing now would let the next repair delete the aside copy
            raise HalfSwapped(
                f"{target} has no output: an interrupted overwrite left the previous output at "
                f"{newest}, which this file system cannot move back (write refused, nothing lost)"
            )
        fs.rename(newest, target)
        aside = [e for e in aside if e[0] != newest]
        done.append(
            f"{target}: restored the previous output from an interrupted overwrite "
            f"({_name(newest)})"
        )
    for path in [p for p, _ in aside] + staging:
        fs.delete(path)
        done.append(f"{target}: removed {_name(path)} left by an earlier run")
    return done


def repair_outputs(
    outputs: Iterable[tuple[Connection, str, Folders, str]], owner: str
) -> list[str]:
    """Before a run's first node: `repair` each output (connection, path, folders, target in
    them) that has leftovers, under its writer lock. An output being written right now is its
    writer's (skipped); one that cannot be checked is a warning (its write will say more)."""
    done: list[str] = []
    for conn, path, fs, target in outputs:
        try:
            if not fs.siblings(target):  # nothing left: no lock taken, nothing created
                continue
            with conn.write_lock(path, owner):
                done += repair(fs, target)
        except OutputBusy:
            continue
        except Exception as exc:
            log.warning("could not check %s for leftovers of earlier runs: %s", target, exc)
    for action in done:
        log.warning("%s", action)
    return done


def _name(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


class LocalFolders:
    """Folders on the driver's file system (local, /dbfs and /Volumes paths on Databricks)."""

    can_rename = True

    def siblings(self, target: str) -> list[tuple[str, float]]:
        parent, prefix = os.path.dirname(target), f".{_name(target)}.odibi-"
        if not os.path.isdir(parent):
            return []
        with os.scandir(parent) as entries:
            return [
                (e.path, e.stat(follow_symlinks=False).st_mtime)
                for e in entries
                if e.name.startswith(prefix)
            ]

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def delete(self, path: str) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)
