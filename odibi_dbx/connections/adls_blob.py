"""ADLS writes through the blob API (AdlsConnection.write_lock and .commit): one writer per
output, no staging left by killed runs, and server-side copies from staging into place.

A write holds a blob lease on `.<name>.odibi-lock` beside its output (an empty blob, created
when missing) for as long as it writes: LEASE_SECONDS, renewed by a thread. A second writer
cannot take the lease and fails at once with `OutputBusy`, naming the holder (kept in the lock
blob's metadata). A killed run stops renewing, so its lease lapses within LEASE_SECONDS and the
next run takes it. Under the lease, what killed runs left beside the output is repaired
(leftovers.py; `BlobFolders` lists and removes through adlfs, which cannot rename: an overwrite
that classic Spark left half-swapped is put back by classic Spark's Hadoop FS). The same lease
serves every engine (the Pandas engine's uploads, Spark's abfss:// writes), through the Azure
SDK with the connection's key.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from odibi_dbx.connections.base import OutputBusy, undo_copies

log = logging.getLogger(__name__)
LEASE_SECONDS = 60  # Azure allows 15..60 (or infinite, which a killed run would never free)
COPY_TIMEOUT = 600.0  # seconds to wait for one server-side copy


@contextlib.contextmanager
def leased(conn: Any, container: str, path: str, owner: str) -> Iterator[None]:
    """Hold the lease of output `path` in `container`, clearing killed runs' staging."""
    from azure.core.exceptions import HttpResponseError, ResourceExistsError

    parent, _, name = path.strip("/").rpartition("/")
    lock_name = f"{parent}/.{name}.odibi-lock" if parent else f".{name}.odibi-lock"
    service = conn.blob_service_client()
    with service:
        blob = service.get_blob_client(container, lock_name)
        with contextlib.suppress(ResourceExistsError):
            blob.upload_blob(b"", overwrite=False)
        try:
            lease = blob.acquire_lease(lease_duration=LEASE_SECONDS)
        except HttpResponseError as exc:
            if exc.status_code != 409:
                raise
            holder = (blob.get_blob_properties().metadata or {}).get("owner", "unknown")
            raise OutputBusy(
                f"output abfss://{container}@{conn.dfs_host}/{path.strip('/')} is being "
                f"written by another writer ({holder}); this write was refused and the output "
                "left to that writer"
            ) from None
        stop = threading.Event()
        renewer = threading.Thread(target=_renew, args=(lease, stop), daemon=True)
        try:
            blob.set_blob_metadata({"owner": owner}, lease=lease)
            renewer.start()
            yield
        finally:
            stop.set()
            if renewer.is_alive():
                renewer.join(timeout=5)
            with contextlib.suppress(Exception):
                lease.release()


def _renew(lease: Any, stop: threading.Event) -> None:
    while not stop.wait(LEASE_SECONDS / 3):
        try:
            lease.renew()
        except Exception as exc:  # the write will fail or finish on its own; say why
            log.warning("could not renew the write lock lease: %s", exc)


class BlobFolders:
    """What writers leave beside an output, through adlfs ("container/path" names)."""

    can_rename = False  # adlfs moves by copy and delete: a kill mid-move would half-restore

    def __init__(self, fs: Any):
        self.fs = fs

    def siblings(self, target: str) -> list[tuple[str, float]]:
        parent, _, name = target.rstrip("/").rpartition("/")
        try:
            entries = self.fs.ls(parent, detail=True)
        except FileNotFoundError:
            return []
        found = []
        for entry in entries:
            path = entry["name"].rstrip("/")
            if path.rpartition("/")[2].startswith(f".{name}.odibi-"):
                modified = entry.get("last_modified")
                found.append((path, modified.timestamp() if modified else 0.0))
        return found

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(path))

    def rename(self, src: str, dst: str) -> None:
        raise OSError(f"cannot rename {src} to {dst} through the blob API")

    def delete(self, path: str) -> None:
        self.fs.rm(path, recursive=True)


def commit(conn: Any, staged: list[str], dests: list[str]) -> None:
    """Server-side copy staged blobs ("container/path") into place; on failure remove what
    was copied and re-raise."""
    service = conn.blob_service_client()
    with service, undo_copies(conn.filesystem()) as done:
        for src, dst in zip(staged, dests, strict=True):
            _copy_blob(service, src, dst)
            done.append(dst)


def _copy_blob(service: Any, src: str, dst: str) -> None:
    sc, sb = src.split("/", 1)
    dc, db = dst.split("/", 1)
    source = service.get_blob_client(sc, sb)
    dest = service.get_blob_client(dc, db)
    status = dest.start_copy_from_url(source.url).get("copy_status")
    deadline = time.monotonic() + COPY_TIMEOUT
    while status == "pending":  # large blobs copy asynchronously
        if time.monotonic() > deadline:
            dest.abort_copy(dest.get_blob_properties().copy.id)
            raise TimeoutError(
                f"server-side copy of {src} to {dst} did not finish in {COPY_TIMEOUT:.0f}s"
            )
        time.sleep(0.5)
        status = dest.get_blob_properties().copy.status
    if status != "success":
        raise OSError(f"server-side copy of {src} to {dst} ended with status {status}")
