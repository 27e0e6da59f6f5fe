"""`type: local` — a folder on the driver (also /dbfs/... and /Volumes/... on Databricks).

`uri()` is the driver's path (what Python and the Pandas engine open). Spark resolves a bare
path against its default file system, which on Databricks is DBFS, so `spark_uri()` says
where Spark finds the same files there: `/Volumes/...` as is, `/dbfs/x` as `dbfs:/x`, every
other driver path (`/Workspace/...`) as `file:/...`. Off Databricks both are the same path.
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

    def spark_uri(self, path: str) -> str:
        from odibi_dbx.runtime import on_databricks

        local = self.uri(path)
        return spark_path_on_databricks(local) if on_databricks() else local

    def __repr__(self) -> str:
        return f"<LocalConnection {self.name!r} {self.root}>"


def spark_path_on_databricks(local: str) -> str:
    """A driver path as Spark on Databricks must be given it."""
    if local == "/Volumes" or local.startswith("/Volumes/"):
        return local
    if local == "/dbfs" or local.startswith("/dbfs/"):
        return "dbfs:" + (local[len("/dbfs") :] or "/")
    return "file:" + local
