"""`type: hadoop_folder` (tests only): a driver folder that engines reach by a `file:` URI and
treat as remote storage (not `is_local`, no driver-side moves), so the Spark engine swaps and
repairs its outputs through the session's Hadoop FS, as it does on abfss:// (no endpoint for
that here). Its writer lock is the local flock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from odibi_dbx import registry
from odibi_dbx.config.base import ConnectionModel
from odibi_dbx.connections import local_lock
from odibi_dbx.connections.base import Connection


class HadoopFolderConfig(ConnectionModel):
    type: Literal["hadoop_folder"]
    base_path: str


class HadoopFolderConnection(Connection):
    type = "hadoop_folder"
    config_model = HadoopFolderConfig

    def __init__(self, name: str, config: HadoopFolderConfig, base_dir: Path):
        super().__init__(name)
        self.root = (base_dir / config.base_path).resolve()

    def uri(self, path: str) -> str:
        return f"file:{self.root / path}"

    @contextlib.contextmanager
    def write_lock(self, path: str, owner: str) -> Iterator[None]:
        with local_lock.locked(self.root / path, owner):
            yield


def register() -> None:
    registry.register_connection_type("hadoop_folder", f"{__name__}:HadoopFolderConnection")
