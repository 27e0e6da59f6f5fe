"""Where incremental state lives: with the output that consumed the rows.

- Delta target: in the commit that wrote the rows (`commitInfo.userMetadata`, which both
  delta-rs and Delta on Spark write and read), so state and data commit atomically. The state
  of a read is the one in the newest commit that carries it.
- csv/parquet/json target (a folder of part files): `.<folder>.odibi-incremental.json` beside
  the folder (readers of both engines skip dot files; an overwrite's folder swap keeps it),
  written after the output is in place.

The document: {"odibi_incremental": {"<pipeline>.<node>": {"mode": "column", "column": C,
"watermark": {"kind": ..., "value": ...}} | {"mode": "change_feed", "version": N}}}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from odibi_dbx.engines.base import WriteSpec

KEY = "odibi_incremental"


class StateError(Exception):
    """The stored state could not be read: never taken as a first run."""


def commit_metadata(states: Mapping[str, Any]) -> str | None:
    """The userMetadata text a Delta commit carries for these reads' states."""
    return json.dumps({KEY: dict(states)}, sort_keys=True) if states else None


def states_in(user_metadata: str | None) -> dict[str, Any] | None:
    """The states a commit's userMetadata carries; None when it is not ours."""
    if not user_metadata:
        return None
    try:
        doc = json.loads(user_metadata)
    except ValueError:
        return None  # someone else's free text
    found = doc.get(KEY) if isinstance(doc, dict) else None
    return found if isinstance(found, dict) else None


def newest_state(user_metadata_newest_first: Iterable[str | None], read_key: str) -> Any:
    """The newest commit's state of `read_key`, or None when no commit has it."""
    for text in user_metadata_newest_first:
        states = states_in(text)
        if states and read_key in states:
            return states[read_key]
    return None


# --- state file next to a csv/parquet/json output ----------------------------------------------


def _file(spec: WriteSpec) -> tuple[Any, str]:
    parent, _, name = spec.connection.uri(spec.path or "").rstrip("/").rpartition("/")
    return spec.connection.filesystem(), f"{parent}/.{name}.odibi-incremental.json"


def file_target_exists(spec: WriteSpec) -> bool:
    fs = spec.connection.filesystem()
    return bool(fs.exists(spec.connection.uri(spec.path or "")))


def read_file_states(spec: WriteSpec) -> dict[str, Any] | None:
    """The states stored beside the output; None when there is no state file."""
    fs, path = _file(spec)
    if not fs.exists(path):
        return None
    try:
        with fs.open(path, "r") as f:
            doc = json.load(f)
    except Exception as exc:
        raise StateError(f"cannot read the incremental state {path}: {exc}") from exc
    states = doc.get(KEY) if isinstance(doc, dict) else None
    if not isinstance(states, dict):
        raise StateError(f"{path} is not an incremental state file")
    return states


def write_file_states(spec: WriteSpec, states: Mapping[str, Any]) -> None:
    """Merge these states into the state file (other reads' entries stay); replace atomically
    where the file system can (local: write a sibling, then rename)."""
    fs, path = _file(spec)
    current = read_file_states(spec) or {}
    current.update(states)
    text = json.dumps({KEY: current}, sort_keys=True, indent=1)
    tmp = path + ".tmp"
    with fs.open(tmp, "w") as f:
        f.write(text)
    fs.mv(tmp, path)
