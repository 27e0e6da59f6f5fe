"""SCD type 2 as one Delta MERGE, the same on both engines (see docs/incremental.md).

The batch is compared with the target's current versions first and staged as only the rows
that change something, each with an action:
- `close`: a key whose tracked columns changed; its current version is closed (`_valid_to` =
  the new version's `_valid_from`, `_is_current` = false);
- `update`: a key whose untracked columns only changed; its current version is updated in place
  (the valid_from column alone moving is no change: it dates a version, it is not data);
- `insert`: a new key, or the new version of a key whose tracked columns changed;
- `close` too (`deletes: close`): a current key missing from the batch (a full snapshot), closed
  at the snapshot's latest valid_from.
The tracked-column comparison happens once, while staging; the MERGE only reads the action.
Unchanged rows are not staged, so the MERGE rewrites only files with changed keys, and
rerunning a batch changes nothing. NULL compared with NULL is no change (IS DISTINCT FROM).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from odibi_dbx.engines import quote
from odibi_dbx.engines.schema_check import WriteRefused

VALID_FROM, VALID_TO, IS_CURRENT = "_valid_from", "_valid_to", "_is_current"
SCD_COLUMNS = (VALID_FROM, VALID_TO, IS_CURRENT)
EMPTY_SNAPSHOT = (
    "scd2 deletes: close got an empty snapshot, which would close every key; nothing was written"
)
ACTION = "__odibi_scd2"  # staged rows: close | update | insert
NEW, TRACKED, CHANGED = "__odibi_new", "__odibi_tracked", "__odibi_changed"  # staging flags


if TYPE_CHECKING:
    from odibi_dbx.config.models import Scd2Config


@dataclass(frozen=True)
class Scd2Plan:
    keys: tuple[str, ...]
    track: tuple[str, ...]
    valid_from: str
    columns: tuple[str, ...]  # the data columns written (the target's order, new ones last)
    existing: tuple[str, ...] = ()  # the target's data columns (new ones compare with NULL)
    close_missing: bool = False  # deletes: close

    @classmethod
    def build(
        cls,
        spec_keys: Sequence[str],
        scd2: Scd2Config,
        columns: list[str],
        existing: Sequence[str] = (),
    ) -> Scd2Plan:
        missing = [c for c in (*spec_keys, *scd2.track, scd2.valid_from) if c not in columns]
        if missing:
            raise ValueError(
                f"scd2 columns {missing} are not in the output (columns: {', '.join(columns)})"
            )
        clash = [c for c in columns if c in SCD_COLUMNS or c in (ACTION, NEW, TRACKED, CHANGED)]
        if clash:
            raise ValueError(f"the output already has columns {clash} that scd2 adds; rename them")
        overlap = set(spec_keys) & set(scd2.track)
        if overlap:
            raise ValueError(f"merge_keys {sorted(overlap)} cannot also be tracked columns")
        return cls(
            tuple(spec_keys),
            tuple(scd2.track),
            scd2.valid_from,
            tuple(columns),
            tuple(existing),
            scd2.deletes == "close",
        )

    @property
    def untracked(self) -> list[str]:
        return [c for c in self.columns if c not in self.keys and c not in self.track]

    # -- staging (DuckDB or Spark SQL; `q` quotes identifiers for that dialect) --
    def current_sql(self, target: str, q: Callable[[str], str]) -> str:
        """The target's current versions, with NULL for columns it does not have yet."""
        cols = ", ".join(q(c) if c in self.existing else f"NULL AS {q(c)}" for c in self.columns)
        return f"SELECT {cols} FROM {target} WHERE {q(IS_CURRENT)} = true"

    def staged_sql(
        self, source: str, current: str, q: Callable[[str], str], materialized: str = ""
    ) -> str:
        """`source`: the batch; `current`: `current_sql` of the target. The batch is joined with
        the current versions once; `materialized` ("MATERIALIZED" in DuckDB) keeps that join
        from being computed again for each part."""
        cols = ", ".join(q(c) for c in self.columns)
        on = " AND ".join(f"s.{q(k)} = c.{q(k)}" for k in self.keys)

        def differ(names: Iterable[str]) -> str:
            return " OR ".join(f"(s.{q(c)} IS DISTINCT FROM c.{q(c)})" for c in names) or "false"

        # the valid_from column dates versions: its move alone changes nothing (unless tracked)
        data = [
            c
            for c in self.columns
            if c not in self.keys and (c != self.valid_from or c in self.track)
        ]
        joined = (
            f"WITH j AS {materialized} (SELECT s.*, c.{q(self.keys[0])} IS NULL AS {q(NEW)}, "
            f"{differ(self.track)} AS {q(TRACKED)}, {differ(data)} AS {q(CHANGED)} "
            f"FROM {source} s LEFT JOIN {current} c ON {on}) "
        )
        action = f"CASE WHEN {q(TRACKED)} THEN 'close' ELSE 'update' END"
        parts = [
            f"SELECT {cols}, {action} AS {q(ACTION)} FROM j WHERE NOT {q(NEW)} AND {q(CHANGED)}",
            f"SELECT {cols}, 'insert' AS {q(ACTION)} FROM j WHERE {q(NEW)} OR {q(TRACKED)}",
        ]
        if self.close_missing:
            present = ", ".join(f"{q(k)}" for k in self.keys)
            on_p = " AND ".join(f"p.{q(k)} = c.{q(k)}" for k in self.keys)
            vals = ", ".join(
                f"c.{q(c)}"
                if c in self.keys
                else f"(SELECT max({q(c)}) FROM {source})"
                if c == self.valid_from
                else "NULL"
                for c in self.columns
            )
            parts.append(
                f"SELECT {vals}, 'close' AS {q(ACTION)} FROM {current} c "
                f"LEFT JOIN (SELECT DISTINCT {present}, true AS {q(ACTION)} FROM {source}) p "
                f"ON {on_p} WHERE p.{q(ACTION)} IS NULL"
            )
        return joined + " UNION ALL ".join(parts)

    # -- the MERGE clauses (Spark SQL and delta-rs both read these) --
    @property
    def condition(self) -> str:
        on = " AND ".join(f"t.{quote.spark(k)} = s.{quote.spark(k)}" for k in self.keys)
        return (
            f"{on} AND t.{quote.spark(IS_CURRENT)} = true AND s.{quote.spark(ACTION)} <> 'insert'"
        )

    @property
    def closes(self) -> str:
        """Matched rows whose current version ends: a tracked change, or the key is gone."""
        return f"s.{quote.spark(ACTION)} = 'close'"

    @property
    def updates(self) -> str:
        """Matched rows whose untracked columns changed: updated in place."""
        return f"s.{quote.spark(ACTION)} = 'update'"

    def close_set(self) -> dict[str, str]:
        return {
            quote.spark(VALID_TO): f"s.{quote.spark(self.valid_from)}",
            quote.spark(IS_CURRENT): "false",
        }

    def untracked_set(self) -> dict[str, str]:
        return {quote.spark(c): f"s.{quote.spark(c)}" for c in self.untracked}

    @property
    def inserts(self) -> str:
        return f"s.{quote.spark(ACTION)} = 'insert'"

    def insert_values(self, null_valid_to: str) -> dict[str, str]:
        """`null_valid_to`: a NULL of the valid_from column's type, in the engine's SQL."""
        values = {quote.spark(c): f"s.{quote.spark(c)}" for c in self.columns}
        values[quote.spark(VALID_FROM)] = f"s.{quote.spark(self.valid_from)}"
        values[quote.spark(VALID_TO)] = null_valid_to
        values[quote.spark(IS_CURRENT)] = "true"
        return values


def duplicate_key(keys: Sequence[str], row: Sequence) -> WriteRefused:
    """The refusal of a source holding a key more than once: `row` is the key's values, then
    how many rows hold it."""
    key = dict(zip(keys, row[:-1], strict=False))
    return WriteRefused(
        f"scd2 source has {row[-1]} rows for key {key}; one row per key is needed",
        "keep the latest row per key in a transform step, e.g. "
        "ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...) = 1",
    )
