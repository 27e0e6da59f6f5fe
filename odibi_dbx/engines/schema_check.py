"""Schema compatibility of a write with the output it adds to (append, merge).

One check for every engine and format, run before anything reaches the target: the target's
columns and the incoming columns, both as (name, Spark type name) pairs, are compared under a
`schema_evolution` mode:

- ``strict`` (the default): any difference is refused: a new column, a missing column, another
  type or (for csv, which is read by position) another column order;
- ``add_columns``: new columns may be added and missing ones are written as NULL; a type change
  is still refused. (The writers that honour it say how they add the columns.)

    changes = schema_changes(target_cols, frame_cols)
    plan = check_compatible(target_cols, frame_cols, mode="strict", target="abfss://...")

`check_compatible` raises `SchemaMismatch` (a `WriteRefused`, a ValueError with a `hint`, which
the engines' write wrapper turns into a node error) listing every difference; otherwise it returns what the writer
must do (`added`: columns to add to the target, `missing`: columns to write as NULL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from odibi_dbx.engines.types import normalize_spark_type

MODES = ("strict", "add_columns")
Columns = Sequence[tuple[str, str]]  # (name, Spark type name), in the output's order


@dataclass(frozen=True)
class SchemaChange:
    kind: str  # added | missing | type | order
    column: str
    target_type: str | None = None
    frame_type: str | None = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"new column '{self.column}' ({self.frame_type})"
        if self.kind == "missing":
            return f"column '{self.column}' ({self.target_type}) is missing"
        if self.kind == "type":
            return f"column '{self.column}' is {self.frame_type}, the target has {self.target_type}"
        return f"column '{self.column}' is in another position than in the target"


@dataclass(frozen=True)
class SchemaPlan:
    """What a compatible write must do: add `added` columns, fill `missing` ones with NULL."""

    added: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)


class WriteRefused(ValueError):
    """A write refused before anything reached the target; `hint` says what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(f"{message}. Nothing was written")
        self.hint = hint


class SchemaMismatch(WriteRefused):
    """The incoming columns do not fit the target under the schema_evolution mode."""

    def __init__(self, target: str, changes: list[SchemaChange], mode: str):
        self.target, self.changes, self.mode = target, changes, mode
        type_change = any(c.kind == "type" for c in changes)
        hint = (
            "cast the column in a SQL step to the target's type, or overwrite the output "
            "to change its schema"
            if type_change
            else "select the target's columns in a SQL step, or overwrite the output to change "
            "its schema"
        )
        super().__init__(
            f"the schema differs from the target {target} (schema_evolution: {mode}): "
            + "; ".join(str(c) for c in changes),
            hint,
        )


def _type(name: str) -> str:
    return normalize_spark_type(name)


def schema_changes(target: Columns, frame: Columns, *, ordered: bool = False) -> list[SchemaChange]:
    """Every difference between the target's and the incoming columns. `ordered`: the format
    binds columns by position (csv), so the same columns in another order are a change too."""
    tgt = {n: t for n, t in target}
    new = {n: t for n, t in frame}
    out = [SchemaChange("added", n, None, t) for n, t in frame if n not in tgt]
    out += [SchemaChange("missing", n, t, None) for n, t in target if n not in new]
    out += [
        SchemaChange("type", n, tgt[n], t)
        for n, t in frame
        if n in tgt and _type(t) != _type(tgt[n])
    ]
    if ordered and not out:
        out += [
            SchemaChange("order", a) for (a, _), (b, _) in zip(frame, target, strict=True) if a != b
        ][:1]
    return out


def check_compatible(
    target: Columns,
    frame: Columns,
    *,
    mode: str = "strict",
    target_name: str = "output",
    ordered: bool = False,
    ignore_types: Iterable[str] = (),
) -> SchemaPlan:
    """Raise SchemaMismatch unless `frame` may be written into `target` under `mode`.

    ignore_types: columns compared by name only (e.g. hive partition columns, whose type a
    reader infers from the folder names)."""
    if mode not in MODES:
        raise ValueError(f"unknown schema_evolution mode '{mode}'; modes: {', '.join(MODES)}")
    skip = set(ignore_types)
    changes = [
        c
        for c in schema_changes(target, frame, ordered=ordered)
        if not (c.kind == "type" and c.column in skip)
    ]
    allowed = {"added", "missing"} if mode == "add_columns" else set()
    refused = [c for c in changes if c.kind not in allowed]
    if refused:
        raise SchemaMismatch(target_name, refused, mode)
    return SchemaPlan(
        added=[(c.column, c.frame_type or "") for c in changes if c.kind == "added"],
        missing=[(c.column, c.target_type or "") for c in changes if c.kind == "missing"],
    )


def check_merge_keys(keys: Sequence[str], columns: Iterable[str], target_name: str) -> None:
    """merge_keys must be columns of the output; raise ValueError naming what is missing."""
    have = list(columns)
    missing = [k for k in keys if k not in have]
    if missing:
        raise WriteRefused(
            f"merge_keys {missing} are not columns of the output written to {target_name} "
            f"(columns: {', '.join(have)})",
            "name existing columns in merge_keys, or select them in the node's SQL",
        )


def duplicate_keys_error(
    keys: Sequence[str], examples: list[tuple], target_name: str
) -> ValueError:
    """The error for a merge source holding the same key more than once."""
    shown = ", ".join(
        "(" + ", ".join(f"{k}={v!r}" for k, v in zip(keys, ex, strict=False)) + f": {ex[-1]} rows)"
        for ex in examples
    )
    return WriteRefused(
        f"the rows merged into {target_name} repeat merge_keys {list(keys)}: {shown}",
        "make the keys unique in the node's SQL, e.g. keep the latest row per key with "
        "ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...) = 1",
    )
