"""`type: local` — a folder on the driver (also /dbfs/... and /Volumes/... on Databricks).

`uri()` is the driver's path (what Python and the Pandas engine open); the Spark engine maps it
to what Spark on Databricks resolves (`spark_io.spark_uri`). Writers lock with `flock` and
repair what killed writers left (local_lock).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from odibi_dbx.config.base import ConnectionModel
from odibi_dbx.connections import local_lock
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
        target = Path(self.uri(path))
        with local_lock.locked(target, owner):
            for action in local_lock.recover(target):
                log.warning("%s: %s", target, action)
            yield

    def __repr__(self) -> str:
        return f"<LocalConnection {self.name!r} {self.root}>"
