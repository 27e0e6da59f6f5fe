"""Overwrite a csv/parquet/json folder so that a failed write keeps the previous output.

Spark writes the new output to a staging sibling (`.<name>.odibi-tmp-<tag>`); then the old
folder is renamed aside, the staging folder renamed in, and the old one deleted. The renames
go through whichever file system reaches the target:
- the Hadoop FS of a classic session (local, dbfs:, abfss:, /Volumes) through its JVM;
- the driver's own file system when there is no JVM (Spark Connect) and the target is a
  folder the driver sees (a local connection: a local Connect server, /Volumes, /dbfs);
- otherwise (Spark Connect writing to abfss://) no rename is possible: Spark overwrites in
  place, and a failed write may leave the target empty or partly written. Use Delta there
  (its commits are all or nothing on every compute), as docs/spark-engine.md says.
Each failure says what is known of the previous output (`note`, read by the engine). A run
killed between the two renames leaves no output at the target and the previous one aside: the
next write (or run start) puts it back before anything reads it (connections/leftovers.py, through
`HadoopFolders` here on classic compute, the driver's moves for a local connection).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from odibi_dbx.connections.base import ASIDE, STAGING
from odibi_dbx.connections.leftovers import LocalFolders

log = logging.getLogger("odibi_dbx.engine.spark")
NOTE = "odibi_previous_output"


def note(exc: BaseException, text: str | None) -> None:
    """Attach what is known of the previous output to `exc`, unless a finer note is there."""
    if text and not getattr(exc, NOTE, None):
        try:
            setattr(exc, NOTE, text)
        except Exception:  # an exception type without a __dict__: the note is lost, not the error
            log.debug("cannot annotate %s", type(exc).__name__)


def overwrite(spark: Any, writer: Any, uri: str, local: str, spec: Any) -> None:
    """Overwrite the output Spark finds at `uri` (the driver sees it at `local` when the
    connection is local)."""
    tag = f"{spec.run_id}-{uuid.uuid4().hex[:6]}"
    fs = hadoop_folders(spark, uri) or _driver_fs(spec.connection, local, uri)
    if fs is None:
        try:
            writer.mode("overwrite").save(uri)
        except Exception as exc:
            note(
                exc,
                "the previous output may be gone: on Spark Connect an overwrite of csv/parquet/json "
                "outside the driver's file system cannot be staged (use Delta for atomic writes)",
            )
            raise
        return
    target, staging, old = fs.names(tag)
    try:
        try:
            writer.mode("overwrite").save(fs.spark_path(staging))
        except Exception as exc:
            note(exc, "the previous output was left as it was (the new one failed while staging)")
            raise
        _swap(fs, target, staging, old)
    finally:
        try:
            if fs.exists(staging):
                fs.delete(staging)
        except Exception:
            log.warning("could not remove the staging folder %s", staging)


def _swap(fs: Any, target: str, staging: str, old: str) -> None:
    had_old = fs.exists(target)
    if had_old and not _moved(fs, target, old):
        err = OSError(f"cannot move the previous output {target} aside")
        note(err, "the previous output was left as it was (it could not be moved aside)")
        raise err
    if not _moved(fs, staging, target):
        err = OSError(f"cannot move the new output into {target}")
        if not had_old:
            note(err, "there was no previous output")
        elif _moved(fs, old, target):
            note(err, "the previous output was put back as it was")
        else:
            note(err, f"the previous output was moved to {old}: the next run puts it back")
        raise err
    if had_old:
        try:
            fs.delete(old)
        except Exception:  # the new output is in place: the next run removes the leftover
            log.warning("the new output is in place; could not delete the old one at %s", old)


def _moved(fs: Any, src: str, dst: str) -> bool:
    try:
        fs.rename(src, dst)
    except OSError as exc:
        log.warning("rename %s -> %s failed: %s", src, dst, exc)
        return False
    return True


def _siblings(target: str, tag: str) -> tuple[str, str, str]:
    parent, _, name = target.rstrip("/").rpartition("/")
    return (
        f"{parent}/{name}",
        f"{parent}/.{name}{STAGING}{tag}",
        f"{parent}/.{name}{ASIDE}{tag}",
    )


class HadoopFolders:
    """Moves through the session's Hadoop FileSystem (classic compute only): the swap's
    renames, and the repair of what killed writers left (connections.leftovers.Folders)."""

    can_rename = True

    def __init__(self, spark: Any, uri: str):
        jvm = spark._jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        self.uri = uri
        self.fs = self._path(uri).getFileSystem(spark._jsc.hadoopConfiguration())

    def names(self, tag: str) -> tuple[str, str, str]:
        return _siblings(self.uri, tag)

    def spark_path(self, path: str) -> str:
        return path

    def siblings(self, target: str) -> list[tuple[str, float]]:
        path = self._path(target)
        parent, prefix = path.getParent(), f".{path.getName()}.odibi-"
        if parent is None or not self.fs.exists(parent):
            return []
        return [
            (
                f"{target.rstrip('/').rpartition('/')[0]}/{st.getPath().getName()}",
                st.getModificationTime() / 1000,
            )
            for st in self.fs.listStatus(parent)
            if st.getPath().getName().startswith(prefix)
        ]

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self._path(path)))

    def rename(self, src: str, dst: str) -> None:
        if not self.fs.rename(self._path(src), self._path(dst)):
            raise OSError(f"the file system refused to rename {src} to {dst}")

    def delete(self, path: str) -> None:
        self.fs.delete(self._path(path), True)


class _DriverFs(LocalFolders):
    """Moves on the driver's file system, for a folder Spark reaches at `spark_uri`."""

    def __init__(self, local: Path, spark_uri: str):
        self.local, self.spark_uri = local, spark_uri

    def names(self, tag: str) -> tuple[str, str, str]:
        return _siblings(str(self.local), tag)

    def spark_path(self, path: str) -> str:
        parent = self.spark_uri.rstrip("/").rpartition("/")[0]
        return f"{parent}/{Path(path).name}"


def hadoop_folders(spark: Any, uri: str) -> HadoopFolders | None:
    """The session's Hadoop FS for `uri`; None on Spark Connect (no JVM in Python)."""
    from odibi_dbx.runtime import is_spark_connect

    if is_spark_connect(spark):
        return None
    return HadoopFolders(spark, uri)


def _driver_fs(connection: Any, local: str, uri: str) -> _DriverFs | None:
    """A local connection's folder, when the driver sees it (its parent exists here)."""
    if not connection.is_local or not Path(local).parent.is_dir():
        return None
    return _DriverFs(Path(local), uri)
