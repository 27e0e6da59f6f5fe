"""Rules on the Pandas engine, in the pass that materialises the node's output.

One `CREATE TABLE AS` writes the node's rows with every rule's flag packed into small bit-mask
columns (bit i of a mask: row rule i did not pass). The counts come from the masks' histogram and
samples are read by mask. Nothing is copied or deleted afterwards: the kept rows are a view over
that table filtered on the masks (the node's output), and the quarantined rows another, whose
`_failed_rules` comes from a small lookup per mask value. Each write reads its view once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from odibi_dbx.engines import quote
from odibi_dbx.engines.pandas import DuckFrame, PandasEngine
from odibi_dbx.engines.types import spark_type_name
from odibi_dbx.quality import expressions as X
from odibi_dbx.quality import rules as R
from odibi_dbx.quality.expressions import check_columns, rule_error

CHUNK = 32  # rules per mask column
MASK_TYPES = ((8, "UTINYINT"), (16, "USMALLINT"), (32, "UINTEGER"))


def _mask(chunk: int) -> str:
    return quote.duckdb(f"{R.PREFIX}m{chunk}")


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
        self.quarantine_masks: list[tuple[int, ...]] = []  # mask values of quarantined rows
        self.kept_rows: DuckFrame | None = None  # a view over `out`: the node's output
        self.out = self._flag()
        self._handed_over = False  # kept() gave the output table to the runner

    def columns(self) -> dict[str, str]:
        return self.types

    def _translate(self, select: str) -> str:
        from odibi_dbx.sql import cache

        schema = {X.INPUT: self.engine._columns(self.source)}
        return cache.translate(select, None, schema, {X.INPUT: self.source.name})[0]

    def _flag(self) -> DuckFrame:
        """The node's output table, with the mask columns."""
        rules, con = self.v.rules, self.engine.con
        check_columns(rules, self.cols, self.node)
        values = ", ".join(f"({r.expr}) AS {quote.spark(R.flag(i))}" for i, r in enumerate(rules))
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
                    f"CASE WHEN {quote.duckdb(R.flag(i))} THEN 0::{typ} ELSE {1 << (i % CHUNK)}::{typ} END"
                    for i in idx
                )
                masks.append(f"({bits}) AS {col}")
            exclude = ", ".join(quote.duckdb(R.flag(i)) for i in range(len(rules)))
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

    def measure_first(self, *, writes: str | None, quarantine: bool) -> bool:
        return True  # an aggregate over the mask columns: cheap, known before any write

    def measure(self) -> R.Measured:
        """Counts from the masks' histogram; samples; then the column checks on the kept rows
        (the engine's own aggregate over the kept-rows view)."""
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
            if q_:
                self.quarantine_masks.append(tuple(int(p) for p in parts))
            for i in range(n):
                if bits >> i & 1:
                    m.failed[i] += rows
                    m.failed_quarantined[i] += rows if q_ else 0
                    m.failed_dropped[i] += rows if d_ else 0
        m.samples = self._samples(m.failed)
        self.kept_rows = self._kept(m)
        if self.v.has_checks:
            m.checks = self.engine.check(self.kept_rows, self.v)
        return m

    def _samples(self, failed: list[int]) -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = []
        cols = ", ".join(quote.duckdb(c) for c in self.cols)
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

    def _kept(self, m: R.Measured) -> DuckFrame:
        """The kept rows: a view over the flagged table without the mask columns, filtered on
        the masks (no copy, no delete: the writes read it once)."""
        rules = self.v.rules
        removed = self._fails_any(R.indexes(rules, "quarantine") + R.indexes(rules, "drop"))
        where = f" WHERE NOT ({removed})" if m.removed else ""
        name = self.engine._new_name("kept")
        self.engine.con.execute(
            f"CREATE VIEW {name} AS SELECT {', '.join(quote.duckdb(c) for c in self.cols)} "
            f"FROM {self.out.name}{where}"
        )
        return DuckFrame(name, rows=m.kept, table=True, backing=self.out.name)

    def quarantined(
        self, run_id: str, node: str, at: datetime, as_text: bool, *, observe: bool
    ) -> DuckFrame:
        """The quarantined rows read from the flagged table; `_failed_rules` comes from a small
        lookup per mask value (from the histogram), joined to the rows."""
        rules, t = self.v.rules, self.out.name
        cols = ", ".join(f"{t}.{quote.duckdb(c)}" for c in self.cols)
        keys = [quote.duckdb(f"{R.PREFIX}k{c}") for c in range(len(self.masks))]
        names = quote.duckdb(f"{R.PREFIX}failed")
        lookup = []
        for parts in self.quarantine_masks:
            bits = sum(part << (CHUNK * c) for c, part in enumerate(parts))
            failed = [r.name for i, r in enumerate(rules) if bits >> i & 1]  # declaration order
            text = _lit(",".join(failed)) if as_text else f"[{', '.join(map(_lit, failed))}]"
            lookup.append(f"({', '.join(map(str, parts))}, {text})")
        if lookup:
            on = " AND ".join(f"{t}.{col} = {k}" for col, k in zip(self.masks, keys, strict=True))
            source = (
                f"{t} JOIN (VALUES {', '.join(lookup)}) AS {quote.duckdb(R.PREFIX + 'l')}"
                f"({', '.join(keys)}, {names}) ON {on}"
            )
        else:  # no quarantined row: the target still gets its schema
            empty = "''" if as_text else "[]::VARCHAR[]"
            source = f"(SELECT *, {empty} AS {names} FROM {t} WHERE false) AS {t}"
        stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        name = self.engine._new_name("quarantine")
        self.engine.con.execute(
            f"CREATE VIEW {name} AS SELECT {cols}, {_lit(run_id)} AS _run_id, "
            f"{_lit(node)} AS _node, {names} AS _failed_rules, "
            f"TIMESTAMPTZ {_lit(stamp)} AS _quarantined_at FROM {source}"
        )
        return DuckFrame(name, temp=[("view", name)])

    def forget(self, frame: DuckFrame) -> None:
        self.engine.con.execute(f"DROP VIEW IF EXISTS {frame.name}")

    def kept(self, *, observe: bool) -> DuckFrame:
        assert self.kept_rows is not None
        self._handed_over = True
        return self.kept_rows

    def close(self) -> None:
        """Free the flagged table (and the kept-rows view) if the node failed first."""
        if not self._handed_over:
            self.engine.release(self.kept_rows or self.out)

    def observed(self) -> R.Measured:  # pragma: no cover - measure_first is always True here
        raise AssertionError("the Pandas engine measures before writing")


def _bits(idx: list[int]) -> int:
    return sum(1 << i for i in idx)


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"
