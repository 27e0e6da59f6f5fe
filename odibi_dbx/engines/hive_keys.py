"""Partition folder keys (`key=value`) whose names a writer escaped, for the Pandas engine.

Both engines escape a partition column's name in its folder name (`q"t` -> `q%22t=A`; DuckDB
also escapes a space or any non-ASCII letter, Spark does not). Spark decodes the name when it
reads the folder; DuckDB keeps it as spelled on disk (a column `q%22t`), so these give DuckDB
the decoded names: a partitioned output reads back with the columns it was written from, on
either engine, and in Spark's order (the keys last, outermost folder first).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from odibi_dbx.engines import quote

if TYPE_CHECKING:
    import duckdb


def decoded(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """A SELECT of the parquet files `source` (a DuckDB file list literal) with hive
    partitioning as Spark reads them: each escaped key renamed to its decoded name, and the
    keys after the files' columns in the folders' nesting order (DuckDB sorts them by name)."""
    read = f"read_parquet({source}, hive_partitioning=true)"
    if "=" not in source:  # no key=value folder in any path: nothing to rename or order
        return f"SELECT * FROM {read}"
    plain = f"SELECT * FROM read_parquet({source}, hive_partitioning=false)"
    in_files = [row[0] for row in con.execute(f"DESCRIBE {plain}").fetchall()]
    got = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()]
    files = set(in_files)
    keys = [k for k in got if k not in files]
    nesting = _first_path_keys(source)
    keys.sort(key=lambda k: nesting.index(k) if k in nesting else len(nesting))
    if got == in_files + keys and all(unquote(k) == k for k in keys):
        return f"SELECT * FROM {read}"
    cols = [quote.duckdb(c) for c in in_files] + [
        quote.duckdb(k) + (f" AS {quote.duckdb(unquote(k))}" if unquote(k) != k else "")
        for k in keys
    ]
    return f"SELECT {', '.join(cols)} FROM {read}"


def _first_path_keys(source: str) -> list[str]:
    """The keys of the key=value folders in the first path of `source`, outermost first."""
    first = re.match(r"\[?'((?:[^']|'')*)'", source)
    path = first.group(1).replace("''", "'") if first else ""
    return [part.partition("=")[0] for part in path.split("/")[:-1] if "=" in part]


def on_disk(folder: Path, names: list[str]) -> dict[str, str]:
    """Each partition column of `names` (outermost first) -> its key as spelled in the folder
    names a write just made under `folder` (the name itself where no folder shows it)."""
    spelled: dict[str, str] = {}
    here = folder
    for name in names:
        sub = next((e for e in os.scandir(here) if e.is_dir() and "=" in e.name), None)
        if sub is None:
            break
        key = sub.name.partition("=")[0]
        if unquote(key) != name:
            break
        spelled[name] = key
        here = Path(sub.path)
    return {n: spelled.get(n, n) for n in names}
