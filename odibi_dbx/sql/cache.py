"""What checking and translating a SQL step found, kept between runs, so that running or
validating an unchanged project imports no SQL parser (SQLMesh and dbt keep their parse alike).

An entry's key is a hash of everything its answer depends on: the step's text, the engine, the
input schemas where the answer uses them, and the code that computed it (this package's files
and sqlglot's, by path, size and modification time). A change to any of them misses, so a stale
answer is never given; a miss computes the answer as without the cache, and stores it.

Answers are stored as JSON (never pickle) in one SQLite file: `$ODIBI_DBX_CACHE_DIR/sql.sqlite`,
by default under the user's cache folder (`$XDG_CACHE_HOME/odibi-dbx`, else ~/.cache/odibi-dbx).
`ODIBI_DBX_CACHE_DIR=off` turns it off. Deleting the file is always safe. The folder is created
private to the user: its answers include SQL that runs, so never point it at a shared folder.
A cache that cannot be opened, read or written is left alone for the run (logged at DEBUG): it
only saves time.
This module imports no sqlglot.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENV = "ODIBI_DBX_CACHE_DIR"
OFF = "off"
KEEP = 100_000  # the newest entries kept (older ones are dropped; a dropped one is recomputed)
_LAYOUT = 1  # bump when an entry's shape changes


@dataclass(frozen=True)
class CachedStep:
    """A SQL step an earlier run checked, in place of its parsed tree: the tables it reads
    (lower-cased). The engine translates it from the cache, or parses it again on a miss."""

    sql: str
    tables: frozenset[str]


def folder() -> Path | None:
    """Where the cache lives; None when it is turned off."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", OFF) else Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "odibi-dbx"


class SqlCache:
    """Answers by key, in one SQLite file; reads are immediate, writes go in at `flush`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: Any = None
        self._pending: dict[str, str] = {}
        self._lock = threading.Lock()
        self._broken = False
        self.hits = self.misses = 0

    def key(self, kind: str, *parts: Any) -> str:
        text = json.dumps([_LAYOUT, _code_stamp(), kind, *parts], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> Any:
        with self._lock:
            if key in self._pending:
                self.hits += 1
                return json.loads(self._pending[key])
            row = self._query("SELECT value FROM entries WHERE key = ?", (key,))
            try:
                found = None if row is None else json.loads(row[0])
            except ValueError:  # a damaged entry is a miss (and is replaced)
                found = None
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
            return found

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._pending[key] = json.dumps(value, separators=(",", ":"))

    def flush(self) -> None:
        """Store the new answers (one transaction; nothing to do when every answer was found);
        never raises."""
        with self._lock:
            pending, self._pending = self._pending, {}
            if not pending or self._open() is None:
                return
            now = time.time_ns()
            try:
                with self._con:
                    self._con.executemany(
                        "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                        [(k, v, now) for k, v in pending.items()],
                    )
                    self._con.execute(  # rowids grow with each insert: no sort, no scan
                        "DELETE FROM entries WHERE rowid <= (SELECT max(rowid) FROM entries) - ?",
                        (KEEP,),
                    )
            except Exception as exc:  # locked by another run, disk full, read-only: skip
                log.debug("SQL cache %s not written: %s", self.path, exc)

    def _query(self, sql: str, args: tuple) -> Any:
        if self._open() is None:
            return None
        try:
            return self._con.execute(sql, args).fetchone()
        except Exception as exc:
            log.debug("SQL cache %s not read: %s", self.path, exc)
            self._broken = True
            return None

    def _open(self) -> Any:
        if self._con is None and not self._broken:
            try:
                import sqlite3

                # private: the answers include SQL that runs
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                con = sqlite3.connect(self.path, timeout=1.0, check_same_thread=False)
                con.execute("PRAGMA journal_mode=WAL")  # readers never wait; commits need no fsync
                con.execute("PRAGMA synchronous=NORMAL")
                con.execute(
                    "CREATE TABLE IF NOT EXISTS entries "
                    "(key TEXT PRIMARY KEY, value TEXT NOT NULL, added INTEGER NOT NULL)"
                )
                self._con = con
            except Exception as exc:
                log.debug("SQL cache %s not opened: %s", self.path, exc)
                self._broken = True
        return None if self._broken else self._con


_SHARED: dict[Path | None, SqlCache | None] = {}
_SHARED_LOCK = threading.Lock()


def shared() -> SqlCache | None:
    """This process's cache for the folder the environment names (None when off)."""
    where = folder()
    with _SHARED_LOCK:
        if where not in _SHARED:
            _SHARED[where] = None if where is None else SqlCache(where / "sql.sqlite")
        return _SHARED[where]


def flush() -> None:
    """Store what this process's caches learned (the CLI and the notebook API call it after
    validating and after a run)."""
    for cache in list(_SHARED.values()):
        if cache is not None:
            cache.flush()


def covers(engine: Any) -> bool:
    """Can answers that depend on this engine's checks be kept? Only for odibi_dbx's own
    engines (or none): the key covers only odibi_dbx's code."""
    return str(getattr(engine, "__module__", "odibi_dbx.")).startswith("odibi_dbx.")


def remembered(kind: str, compute: Callable[[], Any], *parts: Any) -> Any:
    """compute()'s answer (JSON: tuples come back as lists) for these `parts`, from the cache
    when an earlier run computed it; an exception is raised, never kept."""
    store = shared()
    if store is None:
        return compute()
    key = store.key(kind, *parts)
    found = store.get(key)
    if found is None:
        found = compute()
        store.put(key, found)
    return found


_STAMP: list[str] = []


def _code_stamp() -> str:
    """The code an answer comes from: every module of odibi_dbx and the files of sqlglot's
    package folder (its version file, its compiled parser and generator when sqlglotc is
    installed), by path, size and modification time: a changed module or another sqlglot
    misses."""
    if not _STAMP:
        parts = [f"{sys.version_info[0]}.{sys.version_info[1]}"]
        package = Path(__file__).resolve().parents[1]
        files = sorted(package.rglob("*.py"))
        spec = find_spec("sqlglot")
        if spec is not None and spec.origin:
            files += sorted(p for p in Path(spec.origin).parent.iterdir() if p.is_file())
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
        _STAMP.append(hashlib.sha256("\n".join(parts).encode()).hexdigest())
    return _STAMP[0]


_STAND_IN = "__odibi_input_"  # + i + "__": a table the translation reads, put in after


def translate(
    query: str, tree: Any, schema: dict[str, dict[str, str]], tables: dict[str, str]
) -> tuple[str, list[str | None]]:
    """The step as DuckDB SQL reading `tables` (view name -> DuckDB relation), and its result
    hints (odibi_dbx.sql.types.result_hints); `schema` gives each view's Spark column types.
    The translation reads stand-ins, replaced by the relations afterwards, so that an earlier
    run's answer serves whatever names this run's relations got (a step that spells a stand-in
    itself is translated directly, uncached). `tree`: the step's parsed tree when validation
    kept one (else it is parsed here on a miss). Raises NotPortableError, never cached."""
    names = sorted(tables)
    direct = _STAND_IN in query
    stand_in = dict(tables) if direct else {n: f"{_STAND_IN}{i}__" for i, n in enumerate(names)}
    cache = None if direct else shared()
    key = None
    if cache is not None:
        key = cache.key("duckdb", query, [[n, list(schema.get(n, {}).items())] for n in names])
    found = cache.get(key) if cache is not None and key is not None else None
    if found is None:
        from odibi_dbx.sql.rewrite import to_duckdb
        from odibi_dbx.sql.types import result_hints

        inferred: list[Any] = []
        text = to_duckdb(
            query if tree is None or isinstance(tree, CachedStep) else tree,  # copied there
            tables=stand_in,
            schema=schema,
            result_types=inferred,
        )
        found = [text, result_hints(inferred)]
        if cache is not None and key is not None:
            cache.put(key, found)
    text, hints = found
    if not direct:
        for name in names:
            text = text.replace(stand_in[name], tables[name])
    return text, hints
