"""Column profiles from the statistics DuckDB's Parquet writer returns (`COPY ... RETURN_STATS`),
so a node that writes Parquet gets its profile without scanning its output again.

Only statistics that give the exact answer are used: null counts, and min/max flagged exact for
types whose order Python shares with DuckDB and Spark (strings, integers, dates, booleans).
Every other value (floats and NaN, timestamps, partition columns, truncated strings) is left
for the aggregate query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from odibi_dbx.engines import quote

_EXACT_TYPES = (
    "VARCHAR",
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "TINYINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "HUGEINT",
    "DATE",
    "BOOLEAN",
)
_INTEGERS = {t for t in _EXACT_TYPES if t.endswith("INT") or t.endswith("INTEGER")}
_TEXT_ORDERED = {"VARCHAR", "BOOLEAN"}  # their statistics' text sorts as the values do
MISSING = object()  # a value the statistics cannot give


def known_values(
    con: Any,
    rows: int,
    plan: Sequence[tuple[str, bool]],
    types: Mapping[str, str],
    files: Iterable[Mapping[str, Mapping[str, str]]],
) -> list[Any]:
    """Per planned column its non-null count, then min and max (when they apply), as
    `profile.profile_from` takes them; MISSING where the statistics do not tell exactly."""
    files = list(files)
    out: list[Any] = []
    casts: list[tuple[int, str, str, str]] = []  # (slot, min|max, literal, type) to make typed
    for name, ordered in plan:
        key = quote.duckdb(name)
        stats = [f.get(key) for f in files]
        counts = [_int(s.get("null_count")) if s else None for s in stats]
        nulls = None if not files or None in counts else sum(c for c in counts if c is not None)
        out.append(MISSING if nulls is None else rows - nulls)
        if not ordered:
            continue
        typ = types.get(name, "")
        for end in ("min", "max"):
            slot = len(out)
            out.append(MISSING)
            if nulls is None or typ not in _EXACT_TYPES:
                continue
            have = [s for s in stats if s and end in s]
            if any(s.get(f"{end}_is_exact") != "true" for s in have):
                continue
            if not have:  # every value is NULL (or there is none): so is the min/max
                if nulls == rows:
                    out[slot] = None
                continue
            texts = [s[end] for s in have]
            pick = min if end == "min" else max  # one value per column, not one per file
            if typ in _INTEGERS:
                texts = [pick(texts, key=int)]
            elif typ in _TEXT_ORDERED:
                texts = [pick(texts)]
            casts += [(slot, end, text, typ) for text in texts]
    if casts:
        # DuckDB turns the statistics' text into the values its own min()/max() would return
        lits = ", ".join(f"CAST({_lit(v)} AS {t})" for _, _, v, t in casts)
        typed = con.execute(f"SELECT {lits}").fetchall()[0]
        by_slot: dict[int, tuple[str, list[Any]]] = {}
        for (slot, end, _, _), value in zip(casts, typed, strict=True):
            by_slot.setdefault(slot, (end, []))[1].append(value)
        for slot, (end, values) in by_slot.items():  # one value per part file
            out[slot] = min(values) if end == "min" else max(values)
    return out


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_footers(con: Any, files: str) -> tuple[int, list[dict[str, dict[str, str]]]]:
    """Rows and per-row-group column statistics of Parquet `files` (a read_parquet file list)
    from their footers, in the shape `RETURN_STATS` gives them (for `known_values`)."""
    got = con.execute(
        "SELECT file_name, row_group_id, row_group_num_rows, path_in_schema, stats_null_count, "
        f"stats_min_value, stats_max_value, min_is_exact, max_is_exact FROM parquet_metadata({files})"
    ).fetchall()
    groups: dict[tuple[str, int], dict[str, dict[str, str]]] = {}
    rows = 0
    for file, group, n, column, nulls, lo, hi, lo_exact, hi_exact in got:
        if (file, group) not in groups:
            groups[file, group] = {}
            rows += int(n)
        stats: dict[str, str] = {}
        if nulls is not None:
            stats["null_count"] = str(nulls)
        for end, value, exact in (("min", lo, lo_exact), ("max", hi, hi_exact)):
            if value is not None:
                stats[end], stats[f"{end}_is_exact"] = value, "true" if exact else "false"
        groups[file, group][quote.duckdb(column)] = stats
    return rows, list(groups.values())
