"""`type: local` — a folder on the driver (also /dbfs/... and /Volumes/... on Databricks).

`uri()` is the driver's path (what Python and the Pandas engine open); the Spark engine maps it
to what Spark on Databricks resolves (`spark_io.spark_uri`).
"""

from __future__ import annotations

from pathlib import Path

from odibi_dbx.config.models import LocalConnectionConfig
from odibi_dbx.connections.base import Connection


class LocalConnection(Connection):
    type = "local"

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

    def __repr__(self) -> str:
        return f"<LocalConnection {self.name!r} {self.root}>"
