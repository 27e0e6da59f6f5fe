"""SCD type 2 as one Delta MERGE, the same on both engines (see docs/incremental.md).

The source is staged first: every source row once to match its key's current version, plus a
second copy of the rows whose tracked columns changed, which matches nothing and is inserted
as the new current version. One MERGE (one commit, with the incremental state) then
- closes the current version of a key whose tracked columns changed (`_valid_to` = the new
  version's `_valid_from`, `_is_current` = false),
- updates the current version in place when only untracked columns changed,
- inserts new keys and new versions (`_valid_to` NULL, `_is_current` true),
- with `deletes: close`, closes the current version of keys missing from the source.
NULL compared with NULL is no change (IS DISTINCT FROM), so rerunning a batch changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

VALID_FROM, VALID_TO, IS_CURRENT = "_valid_from", "_valid_to", "_is_current"
SCD_COLUMNS = (VALID_FROM, VALID_TO, IS_CURRENT)
MATCH = "__odibi_match"  # staged rows: true = match the current version, false = insert only


def _bt(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class Scd2Plan:
    keys: tuple[str, ...]
    track: tuple[str, ...]
    valid_from: str
    columns: tuple[str, ...]  # the data columns written (the target's order, new ones last)

    @classmethod
    def build(cls, spec_keys, scd2, columns: list[str]) -> Scd2Plan:
        missing = [c for c in (*spec_keys, *scd2.track, scd2.valid_from) if c not in columns]
        if missing:
            raise ValueError(
                f"scd2 columns {missing} are not in the output (columns: {', '.join(columns)})"
            )
        clash = [c for c in columns if c in SCD_COLUMNS or c == MATCH]
        if clash:
            raise ValueError(f"the output already has columns {clash} that scd2 adds; rename them")
        overlap = set(spec_keys) & set(scd2.track)
        if overlap:
            raise ValueError(f"merge_keys {sorted(overlap)} cannot also be tracked columns")
        return cls(tuple(spec_keys), tuple(scd2.track), scd2.valid_from, tuple(columns))

    @property
    def untracked(self) -> list[str]:
        return [c for c in self.columns if c not in self.keys and c not in self.track]

    # -- staging (DuckDB or Spark SQL; `q` quotes identifiers for that dialect) --
    def staged_sql(self, source: str, current: str, q: Callable[[str], str]) -> str:
        """`source`: the batch; `current`: the target's current versions (keys + tracked)."""
        cols = ", ".join(f"s.{q(c)}" for c in self.columns)
        on = " AND ".join(f"s.{q(k)} = c.{q(k)}" for k in self.keys)
        changed = " OR ".join(f"(s.{q(c)} IS DISTINCT FROM c.{q(c)})" for c in self.track)
        return (
            f"SELECT {cols}, true AS {q(MATCH)} FROM {source} s "
            f"UNION ALL SELECT {cols}, false AS {q(MATCH)} FROM {source} s "
            f"JOIN {current} c ON {on} WHERE {changed}"
        )

    def current_sql(self, target: str, q: Callable[[str], str]) -> str:
        cols = ", ".join(q(c) for c in (*self.keys, *self.track))
        return f"SELECT {cols} FROM {target} WHERE {q(IS_CURRENT)} = true"

    # -- the MERGE clauses (Spark SQL and delta-rs both read these) --
    @property
    def condition(self) -> str:
        on = " AND ".join(f"t.{_bt(k)} = s.{_bt(k)}" for k in self.keys)
        return f"{on} AND t.{_bt(IS_CURRENT)} = true AND s.{_bt(MATCH)} = true"

    @property
    def tracked_changed(self) -> str:
        return " OR ".join(f"(t.{_bt(c)} IS DISTINCT FROM s.{_bt(c)})" for c in self.track)

    @property
    def untracked_changed(self) -> str | None:
        cols = self.untracked
        return " OR ".join(f"(t.{_bt(c)} IS DISTINCT FROM s.{_bt(c)})" for c in cols) or None

    def close_set(self) -> dict[str, str]:
        return {_bt(VALID_TO): f"s.{_bt(self.valid_from)}", _bt(IS_CURRENT): "false"}

    def untracked_set(self) -> dict[str, str]:
        return {_bt(c): f"s.{_bt(c)}" for c in self.untracked}

    def insert_values(self, null_valid_to: str) -> dict[str, str]:
        """`null_valid_to`: a NULL of the valid_from column's type, in the engine's SQL."""
        values = {_bt(c): f"s.{_bt(c)}" for c in self.columns}
        values[_bt(VALID_FROM)] = f"s.{_bt(self.valid_from)}"
        values[_bt(VALID_TO)] = null_valid_to
        values[_bt(IS_CURRENT)] = "true"
        return values

    def delete_set(self, closed_at: str) -> dict[str, str]:
        """Close keys missing from the source at `closed_at` (a literal)."""
        return {_bt(VALID_TO): closed_at, _bt(IS_CURRENT): "false"}

    @staticmethod
    def delete_condition() -> str:
        return f"t.{_bt(IS_CURRENT)} = true"
