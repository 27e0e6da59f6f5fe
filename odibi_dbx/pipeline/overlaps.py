"""Which nodes write a dataset that overlaps a read, found through an index of the writes (each
read costs the depth of its path, not a comparison with every write of the project).

Two datasets overlap when one holds the other: the same table; or, on one connection, the same
path, a folder and a path in it, or a whole connection (no path, or its root "." / "").
"""

from __future__ import annotations

from collections.abc import Iterable

from odibi_dbx.pipeline.plan import Dataset, PlanNode

_WHOLE = (None, "", ".")  # a dataset that is its whole connection


class WriteIndex:
    def __init__(self, nodes: Iterable[PlanNode]) -> None:
        self._tables: dict[str, set[str]] = {}
        self._connections: dict[str | None, set[str]] = {}  # every path write of a connection
        self._whole: dict[str | None, set[str]] = {}  # writes of a whole connection
        self._at: dict[tuple[str | None, str], set[str]] = {}  # writes of exactly this path
        self._under: dict[tuple[str | None, str], set[str]] = {}  # of this path or one in it
        for node in nodes:
            for ds in node.writes:
                self._add(node.key, ds)

    def _add(self, key: str, ds: Dataset) -> None:
        if ds.table:
            self._tables.setdefault(ds.table, set()).add(key)
            return
        c = ds.connection
        self._connections.setdefault(c, set()).add(key)
        if ds.path in _WHOLE:
            self._whole.setdefault(c, set()).add(key)
            return
        assert ds.path is not None
        self._at.setdefault((c, ds.path), set()).add(key)
        for folder in _folders(ds.path):
            self._under.setdefault((c, folder), set()).add(key)

    def writers(self, read: Dataset) -> set[str]:
        """Keys of the nodes that write a dataset overlapping `read`."""
        if read.table:
            return set(self._tables.get(read.table, ()))
        c = read.connection
        if read.path in _WHOLE:
            return set(self._connections.get(c, ()))
        assert read.path is not None
        found = set(self._whole.get(c, ()))
        found.update(self._under.get((c, read.path), ()))  # the read's path or a path in it
        for folder in _folders(read.path):  # a folder holding the read
            found.update(self._at.get((c, folder), ()))
        return found


def _folders(path: str) -> list[str]:
    """The path and every folder above it: "a/b/c" -> ["a", "a/b", "a/b/c"]."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
