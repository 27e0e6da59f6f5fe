"""Remote (ADLS) files for the Pandas engine, through fsspec/adlfs with per-connection options.

Reads download the files to the engine's temp folder and hand DuckDB the local copies: the very
same read_csv/read_parquet/read_json call as for local files (identical CSV type inference), and
no process-wide state, so any number of storage accounts with different keys work at once
(DuckDB's register_filesystem has one filesystem per protocol, so two accounts would clash).

Writes: DuckDB writes the part files locally; they are uploaded under a hidden staging prefix next
to the target (`.<name>.odibi-tmp-<tag>/`), copied into the target by the connection
(`Connection.commit`: server-side on ADLS), and only then are the target's previous files deleted
(overwrite), all under the connection's writer lock (taken by `Engine.write`). A failure before
that point leaves the previous output as it was and removes the staged and half-copied files.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odibi_dbx.engines.base import ReadSpec, WriteResult, WriteSpec

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from odibi_dbx.connections.base import Connection
    from odibi_dbx.engines.pandas import DuckFrame, PandasEngine

log = logging.getLogger(__name__)

# storage options users may not set in YAML: credentials come from the connection
CREDENTIAL_OPTIONS = frozenset(
    {
        "account_name",
        "account_key",
        "connection_string",
        "sas_token",
        "credential",
        "client_id",
        "client_secret",
        "tenant_id",
        "bearer_token",
        "token",
    }
)
_GLOB = re.compile(r"[*?\[]")


# --- options -------------------------------------------------------------------------------------


def split_options(spec: ReadSpec | WriteSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(format options, user storage_options) from a read/write `options:` mapping."""
    opts = dict(spec.options)
    user = opts.pop("storage_options", None) or {}
    if not isinstance(user, Mapping):
        raise ValueError("options.storage_options must be a mapping of fsspec/adlfs options")
    bad = sorted(k for k in user if str(k).lower() in CREDENTIAL_OPTIONS)
    if bad:
        raise ValueError(
            f"options.storage_options may not set {', '.join(bad)}: credentials come from "
            f"connection '{spec.connection.name}' (key_vault or direct_key)"
        )
    return opts, dict(user)


def storage_options(connection: Connection, user: Mapping[str, Any]) -> dict[str, Any]:
    """The connection's fsspec options with the user's merged over them (user wins)."""
    return {**connection.pandas_storage_options(), **user}


def delta_options(connection: Connection, user: Mapping[str, Any]) -> dict[str, str] | None:
    """delta-rs options: the connection's, the user's merged over them (values as strings)."""
    opts = {**connection.delta_storage_options(), **{str(k): str(v) for k, v in user.items()}}
    return opts or None


def filesystem(connection: Connection, user: Mapping[str, Any]) -> AbstractFileSystem:
    fs = connection.filesystem(user)
    fs.invalidate_cache()  # listings must reflect writes made through other clients
    return fs


@contextlib.contextmanager
def explained(connection: Connection) -> Iterator[None]:
    """Errors the connection can explain (e.g. a refused key) become its advice."""
    try:
        yield
    except Exception as exc:
        advice = connection.explain(exc)
        if advice is not None:
            raise advice from exc
        raise


def _scratch(engine: PandasEngine, prefix: str) -> Path:
    """A folder that lives as long as the engine (views over downloaded files stay valid)."""
    tmp = getattr(engine, "_tmp", None)
    base = Path(tmp.name) / "remote" if tmp is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def _hidden(rel: str) -> bool:
    return any(part.startswith((".", "_")) for part in rel.split("/"))


# --- reads ---------------------------------------------------------------------------------------


def local_copies(
    engine: PandasEngine, spec: ReadSpec, ext: str, user: Mapping[str, Any]
) -> list[str]:
    """Download what `spec` names (a file, a folder of part files, or a glob); local paths."""
    with explained(spec.connection):
        return _local_copies(engine, spec, ext, user)


def _local_copies(
    engine: PandasEngine, spec: ReadSpec, ext: str, user: Mapping[str, Any]
) -> list[str]:
    conn = spec.connection
    fs = filesystem(conn, user)
    uri = conn.uri(spec.path or "")
    stripped = fs._strip_protocol(uri).rstrip("/")
    glob = _GLOB.search(stripped) if _GLOB.search(spec.path or "") else None
    if glob:
        root = stripped[: glob.start()].rsplit("/", 1)[0]
        files = [f for f in fs.glob(uri) if fs.isfile(f)]
    elif fs.isdir(uri):
        root = stripped
        files = [f for f in fs.find(uri) if f.endswith(f".{ext}") and not _hidden(_rel(f, root))]
        if not files:
            raise FileNotFoundError(f"no .{ext} files in folder {uri}")
    elif fs.isfile(uri):
        root, files = stripped.rsplit("/", 1)[0], [stripped]
    else:
        raise FileNotFoundError(f"{uri} does not exist (connection '{conn.name}')")
    if not files:
        raise FileNotFoundError(f"no files match {uri}")
    dest = _scratch(engine, f"read-{conn.name}-")
    local = [str(dest / _rel(f, root)) for f in sorted(files)]
    for p in local:
        Path(p).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    fs.get(sorted(files), local)
    log.debug("downloaded %d file(s) from %s in %.2fs", len(files), uri, time.monotonic() - t0)
    return local


def _rel(path: str, root: str) -> str:
    return path[len(root) :].lstrip("/") if path.startswith(root) else posixpath.basename(path)


# --- writes --------------------------------------------------------------------------------------


AppendCheck = Callable[[list[str], list[str]], None]  # (new local files, existing local files)
# writes `frame` as part files into a local folder; returns the rows written
Copy = Callable[["PandasEngine", "DuckFrame", WriteSpec, Path, str], int]


def write_files(
    engine: PandasEngine,
    frame: DuckFrame,
    spec: WriteSpec,
    user: Mapping[str, Any],
    copy: Copy,
    check_append: AppendCheck | None = None,
) -> WriteResult:
    """Write `frame` as part files under the target folder: stage, copy in, then drop the old.
    An append first hands `check_append` the new files and a local copy of one existing file."""
    with explained(spec.connection):
        return _write_files(engine, frame, spec, user, copy, check_append)


def _write_files(
    engine: PandasEngine,
    frame: DuckFrame,
    spec: WriteSpec,
    user: Mapping[str, Any],
    copy: Copy,
    check_append: AppendCheck | None,
) -> WriteResult:
    conn = spec.connection
    fs = filesystem(conn, user)
    target_uri = conn.uri(spec.path or "")
    target = fs._strip_protocol(target_uri).rstrip("/")
    if "/" not in target:
        raise ValueError(
            f"write path of node '{spec.node}' is empty: name a folder under "
            f"connection '{conn.name}'"
        )
    # the connection's writer lock is held by Engine.write (engines.base._guarded)
    return _stage_and_commit(engine, frame, spec, fs, target, copy, check_append)


def _stage_and_commit(
    engine: PandasEngine,
    frame: DuckFrame,
    spec: WriteSpec,
    fs: AbstractFileSystem,
    target: str,
    copy: Copy,
    check_append: AppendCheck | None,
) -> WriteResult:
    conn = spec.connection
    target_uri = conn.uri(spec.path or "")
    parent, name = target.rsplit("/", 1)
    tag = f"{spec.run_id}-{uuid.uuid4().hex[:6]}"
    staging = f"{parent}/.{name}.odibi-tmp-{tag}"
    local = _scratch(engine, f"write-{conn.name}-")
    try:
        rows = copy(engine, frame, spec, local, tag)
        rels = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
        if spec.mode == "append" and fs.isfile(target):
            raise ValueError(
                f"cannot append to {target_uri}: it is a file, not a folder of part files"
            )
        if spec.mode == "append" and check_append is not None:
            _check_append(engine, fs, spec, target, [local / r for r in rels], check_append)
        old = [] if spec.mode == "append" else _existing(fs, target)
        fs.put([str(local / r) for r in rels], [f"{staging}/{r}" for r in rels])
        new = [f"{target}/{r}" for r in rels]
        conn.commit([f"{staging}/{r}" for r in rels], new)
        stale = sorted(set(old) - set(new))
        if stale:
            fs.rm(stale)
    finally:
        shutil.rmtree(local, ignore_errors=True)
        _remove_quietly(fs, staging)
        fs.invalidate_cache()
    return WriteResult(target_uri, rows, {"mode": spec.mode, "files": len(rels)})


def _check_append(
    engine: PandasEngine,
    fs: AbstractFileSystem,
    spec: WriteSpec,
    target: str,
    new: list[Path],
    check: AppendCheck,
) -> None:
    """Compare the new part files with one of the output's (downloaded with its partition
    folders, so hive columns read back the same); before anything is uploaded."""
    ext = f".{spec.format}"
    if not fs.isdir(target):
        return
    existing = sorted(
        f for f in fs.find(target) if f.endswith(ext) and not _hidden(_rel(f, target))
    )
    if not existing:
        return
    local = _scratch(engine, "append-check-") / _rel(existing[0], target)
    local.parent.mkdir(parents=True, exist_ok=True)
    fs.get(existing[0], str(local))
    check([str(p) for p in new if p.name.endswith(ext)], [str(local)])


def _existing(fs: AbstractFileSystem, target: str) -> list[str]:
    if fs.isfile(target):
        return [target]
    if fs.isdir(target):
        return list(fs.find(target))
    return []


def _remove_quietly(fs: AbstractFileSystem, paths: str | list[str]) -> None:
    try:
        if isinstance(paths, str):
            if fs.exists(paths):
                fs.rm(paths, recursive=True)
        elif paths:
            fs.rm(paths)
    except Exception as exc:  # cleanup must not hide the real outcome
        log.warning("could not remove temporary files %s: %s", paths, exc)
