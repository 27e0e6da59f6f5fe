"""One writer per ADLS output, and no staging left by killed runs (the Pandas engine's remote
csv/parquet/json writes; local outputs: see write_guard).

A write holds a blob lease on `.<name>.odibi-lock` beside its output (an empty blob, created
when missing) for as long as it writes: LEASE_SECONDS, renewed by a thread. A second writer
cannot take the lease and fails at once with `OutputBusy`, naming the holder (kept in the lock
blob's metadata). A killed run stops renewing, so its lease lapses within LEASE_SECONDS and the
next run takes it. Under the lease, staging prefixes (`.<name>.odibi-tmp-*`) that killed runs
left are removed before the write starts.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from odibi_dbx.engines.write_guard import STAGING, OutputBusy

log = logging.getLogger(__name__)
LEASE_SECONDS = 60  # Azure allows 15..60 (or infinite, which a killed run would never free)


@contextlib.contextmanager
def leased(conn: Any, fs: Any, target: str, owner: str) -> Iterator[None]:
    """Hold the output's lease (target: "container/path/name"), clearing killed runs' staging."""
    from azure.core.exceptions import HttpResponseError, ResourceExistsError

    container, _, path = target.partition("/")
    parent, _, name = path.rpartition("/")
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
                f"output {conn.uri(path)} is being written by another writer ({holder}); "
                "this write was refused and the output left to that writer"
            ) from None
        stop = threading.Event()
        renewer = threading.Thread(target=_renew, args=(lease, stop), daemon=True)
        try:
            blob.set_blob_metadata({"owner": owner}, lease=lease)
            renewer.start()
            _remove_staging(fs, f"{container}/{parent}".rstrip("/"), name)
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


def _remove_staging(fs: Any, parent: str, name: str) -> None:
    prefix = f".{name}{STAGING}"
    try:
        entries = fs.ls(parent, detail=False) if fs.isdir(parent) else []
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.rstrip("/").rsplit("/", 1)[-1].startswith(prefix):
            fs.rm(entry, recursive=True)
            log.warning("removed %s left by an earlier run", entry)
