"""`type: local` — a folder on the driver (also /dbfs/... and /Volumes/... on Databricks).

`uri()` is the driver's path (what Python and the Pandas engine open); the Spark engine maps it
to what Spark on Databricks resolves (`spark_io.spark_uri`). Writers lock with `flock`
(local_lock); what killed writers left is repaired with the driver's moves (leftovers).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from odibi_dbx.config.base import ConnectionModel
from odibi_dbx.connections import leftovers, local_lock
from odibi_dbx.connections.base import Connection

log = logging.getLogger(__name__)


class LocalConnectionConfig(ConnectionModel):
    type: Literal["local"]
    base_path: str = "."


class LocalConnection(Connection):
    type = "local"
    config_model = LocalConnectionConfig

    def __init__(self, name: str, config: LocalConnectionConfig, base_dir: Path):
        super().__init__(name)
        root = Path(config.base_path).expanduser()
        self.root = root if root.is_absolute() else (base_dir / root)
        self.root = Path(str(self.root.resolve()))

    @property
    def is_local(self) -> bool:
        return True

    def uri(self, path: str) -> str:
        p = Path(path).expanduser()
        return str(p if p.is_absolute() else self.root / p)

    @contextlib.contextmanager
    def write_lock(self, path: str, owner: str) -> Iterator[None]:
        with local_lock.locked(Path(self.uri(path)), owner):
            yield

    def folders(self, path: str) -> tuple[leftovers.Folders, str]:
        return leftovers.LocalFolders(), self.uri(path)

    def __repr__(self) -> str:
        return f"<LocalConnection {self.name!r} {self.root}>"
