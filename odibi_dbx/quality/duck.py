"""Rules on the Pandas engine, in the pass that materialises the node's output.

One `CREATE TABLE AS` writes the node's rows with every rule's flag packed into small bit-mask
columns (bit i of a mask: row rule i did not pass). The counts come from the masks' histogram,
samples are read by mask, the quarantined rows are set aside as one Arrow batch, and the removed
rows are deleted in place; dropping the mask columns leaves the kept rows as the node's output
table, with no copy of the data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from odibi_dbx.engines.pandas import DuckFrame, PandasEngine, q
from odibi_dbx.engines.types import spark_type_name
from odibi_dbx.quality import expressions as X
from odibi_dbx.quality import rules as R
from odibi_dbx.quality.expressions import check_columns, rule_error

CHUNK = 32  # rules per mask column
MASK_TYPES = ((8, "UTINYINT"), (16, "USMALLINT"), (32, "UINTEGER"))


def _mask(chunk: int) -> str:
    return q(f"{R.PREFIX}m{chunk}")


class DuckRules:
    materialises = True  # reads the node's unmaterialised output: the runner does not `finish` it

    def __init__(
        self,
        engine: PandasEngine,
        frame: DuckFrame,
        validation: Any,
        node: str,
        sample_rows: int,
        shared: bool = False,  # never changed in place: the rules' pass writes a new table
    ):
        self.engine, self.source, self.v, self.node = engine, frame, validation, node
        engine.settle(frame)  # its rules' pass reads the frame: exact types first
        self.sample_rows = sample_rows
        self.types = {c: spark_type_name(t) for c, t in engine._columns(frame).items()}
        self.cols = list(self.types)
        self.masks = [_mask(c) for c in range(-(-len(validation.rules) // CHUNK))]
        self.removed: str | None = None  # the quarantined rows (Arrow), registered under this name
        self.out = self._flag()
        self._handed_over = False  # kept() gave the output table to the runner

    def columns(self) -> dict[str, str]:
        return self.types

    def _translate(self, select: str) -> str:
        from odibi_dbx import sql as S

        schema = {X.INPUT: self.engine._columns(self.source)}
        return S.to_duckdb(select, tables={X.INPUT: self.source.name}, schema=schema)

    def _flag(self) -> DuckFrame:
        """The node's output table, with the mask columns."""
        rules, con = self.v.rules, self.engine.con
        check_columns(rules, self.cols, self.node)
        values = ", ".join(f"({r.expr}) AS `{R.flag(i)}`" for i, r in enumerate(rules))
        try:  # translated and typed once for all rules (no data read)
            inner = self._translate(f"SELECT *, {values} FROM {X.INPUT}")
            types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {inner}").fetchall()}
        except Exception as exc:
            for r in rules:  # name the rule at fault
                self._probe(r)
            raise rule_error(None, exc, self.node) from exc
        for i, r in enumerate(rules):
            self._boolean(r, types[R.flag(i)])
        try:
            masks = []
            for c, col in enumerate(self.masks):
                idx = range(c * CHUNK, min(len(rules), (c + 1) * CHUNK))
                typ = next(t for n, t in MASK_TYPES if len(idx) <= n)
                bits = " + ".join(  # NULL fails: the ELSE branch
                    f"CASE WHEN {q(R.flag(i))} THEN 0::{typ} ELSE {1 << (i % CHUNK)}::{typ} END"
                    for i in idx
                )
                masks.append(f"({bits}) AS {col}")
            exclude = ", ".join(q(R.flag(i)) for i in range(len(rules)))
            name = self.engine._new_name("out")
            con.execute(
                f"CREATE TABLE {name} AS SELECT * EXCLUDE ({exclude}), {', '.join(masks)} "
                f"FROM ({inner}) AS flagged"
            ).fetchall()
        except Exception as exc:
            raise rule_error(None, exc, self.node) from exc
        if not (self.source.table or self.source.shared):  # shared: other nodes read it too
            self.engine._drop(self.source)  # the views it was built from, as `finish` does
        return DuckFrame(name, table=True)

    def _probe(self, rule: Any) -> None:
        """Translate and type one rule on its own (no data read): errors name the rule."""
        try:
            sql = self._translate(f"SELECT ({rule.expr}) AS v FROM {X.INPUT}")
            typ = self.engine.con.execute(f"DESCRIBE {sql}").fetchall()[0][1]
        except Exception as exc:
            raise rule_error(rule, exc, self.node) from exc
        self._boolean(rule, typ)

    def _boolean(self, rule: Any, typ: str) -> None:
        if typ not in ("BOOLEAN", '"NULL"', "NULL"):
            why = TypeError(f"it gives {spark_type_name(typ)}, not a boolean")
            raise rule_error(rule, why, self.node)

    def _failed(self, i: int) -> str:
        return self._fails_any([i])

    def _fails_any(self, idx: list[int]) -> str:
        """The row fails at least one of these rules: one AND per mask column."""
        bits = _bits(idx)
        parts = [
            f"({col} & {part}) <> 0"
            for c, col in enumerate(self.masks)
            if (part := (bits >> (CHUNK * c)) & ((1 << CHUNK) - 1))
        ]
        return " OR ".join(parts) or "false"

    def measure_first(self, *, writes: bool, quarantine: bool) -> bool:
        return True  # an aggregate over the mask columns: cheap, known before any write

    def measure(self) -> R.Measured:
        """Counts from the masks' histogram; samples; the removed rows out (quarantined ones
        kept aside); then the column checks on the kept rows (the engine's own aggregate)."""
        rules, masks = self.v.rules, ", ".join(self.masks)
        hist = self.engine.con.execute(
            f"SELECT {masks}, count(*) FROM {self.out.name} GROUP BY ALL"
        ).fetchall()
        quar = _bits(R.indexes(rules, "quarantine"))
        drop = _bits(R.indexes(rules, "drop"))
        n = len(rules)
        m = R.Measured(0, [0] * n, [0] * n, [0] * n, quarantined=0, dropped=0)
        for *parts, rows in hist:
            bits = sum(int(part) << (CHUNK * c) for c, part in enumerate(parts))
            q_, d_ = bool(bits & quar), bool(bits & drop) and not bits & quar
            m.rows += rows
            m.quarantined += rows if q_ else 0
            m.dropped += rows if d_ else 0
            for i in range(n):
                if bits >> i & 1:
                    m.failed[i] += rows
                    m.failed_quarantined[i] += rows if q_ else 0
                    m.failed_dropped[i] += rows if d_ else 0
        m.samples = self._samples(m.failed)
        self._remove(m)
        if self.v.has_checks:
            m.checks = self.engine.check(self.out, self.v)
        return m

    def _samples(self, failed: list[int]) -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = []
        cols = ", ".join(q(c) for c in self.cols)
        for i, n in enumerate(failed):
            if not n or self.sample_rows <= 0:
                out.append([])
                continue
            rel = self.engine.con.sql(
                f"SELECT {cols} FROM {self.out.name} WHERE {self._failed(i)} "
                f"LIMIT {int(self.sample_rows)}"
            )
            out.append([dict(zip(self.cols, row, strict=True)) for row in rel.fetchall()])
        return out

    def _remove(self, m: R.Measured) -> None:
        """Set the quarantined rows aside (one Arrow batch, with their masks), delete the removed
        rows in place, drop the mask columns: the table holds exactly the kept rows."""
        con, t = self.engine.con, self.out.name
        rules = self.v.rules
        quar = self._fails_any(R.indexes(rules, "quarantine"))
        removed = self._fails_any(R.indexes(rules, "quarantine") + R.indexes(rules, "drop"))
        if R.indexes(rules, "quarantine"):  # also with 0 rows: the target gets its schema
            cols = ", ".join(q(c) for c in self.cols)
            limit = "" if m.quarantined else " LIMIT 0"
            rows = con.sql(
                f"SELECT {cols}, {', '.join(self.masks)} FROM {t} WHERE {quar}{limit}"
            ).to_arrow_table()
            self.removed = self.engine._new_name("quarantined")
            con.register(self.removed.strip('"'), rows)
        if m.removed:
            con.execute(f"DELETE FROM {t} WHERE {removed}").fetchall()
        for col in self.masks:
            con.execute(f"ALTER TABLE {t} DROP COLUMN {col}")
        self.out.rows, self.out.columns = m.kept, None

    def quarantined(
        self, run_id: str, node: str, at: datetime, as_text: bool, *, observe: bool
    ) -> DuckFrame:
        assert self.removed is not None
        failed = (
            "list_concat("
            + ", ".join(
                f"CASE WHEN {self._failed(i)} THEN [{_lit(r.name)}] ELSE []::VARCHAR[] END"
                for i, r in enumerate(self.v.rules)
            )
            + ", []::VARCHAR[])"
        )
        if as_text:  # csv
            failed = f"array_to_string({failed}, ',')"
        stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        name = self.engine._new_name("quarantine")
        self.engine.con.execute(
            f"CREATE VIEW {name} AS SELECT {', '.join(q(c) for c in self.cols)}, "
            f"{_lit(run_id)} AS _run_id, {_lit(node)} AS _node, {failed} AS _failed_rules, "
            f"TIMESTAMPTZ {_lit(stamp)} AS _quarantined_at FROM {self.removed}"
        )
        return DuckFrame(name, temp=[("view", name)])

    def forget(self, frame: DuckFrame) -> None:
        self.engine.con.execute(f"DROP VIEW IF EXISTS {frame.name}")

    def kept(self, *, observe: bool) -> DuckFrame:
        self._handed_over = True
        return self.out

    def close(self) -> None:
        """Free the set-aside removed rows, and the output table if the node failed first."""
        if self.removed is not None:
            self.engine.con.unregister(self.removed.strip('"'))
            self.removed = None
        if not self._handed_over:
            self.engine.release(self.out)

    def observed(self) -> R.Measured:  # pragma: no cover - measure_first is always True here
        raise AssertionError("the Pandas engine measures before writing")


def _bits(idx: list[int]) -> int:
    return sum(1 << i for i in idx)


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"
