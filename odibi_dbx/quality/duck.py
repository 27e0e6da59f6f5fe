"""Rules on the Pandas engine. One DuckDB query computes every rule's flag into a narrow table
(row id + one boolean per rule + the row's fate); counts, samples, quarantined rows and the
removal of dropped/quarantined rows all read that table, never the rule expressions again.

The kept rows are the node's own output table with the removed rows deleted in place (no copy);
an output shared with an upstream node (a write-only node) is copied instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from odibi_dbx.engines.pandas import DuckFrame, PandasEngine, q
from odibi_dbx.engines.types import spark_type_name
from odibi_dbx.errors import NodeError
from odibi_dbx.quality import expressions as X
from odibi_dbx.quality import rules as R
from odibi_dbx.quality.expressions import check_columns, rule_error

RID = f"{R.PREFIX}rid"


class DuckRules:
    def __init__(
        self,
        engine: PandasEngine,
        frame: DuckFrame,
        validation: Any,
        node: str,
        sample_rows: int,
        shared: bool = False,
    ):
        self.engine, self.source, self.v, self.node = engine, frame, validation, node
        self.sample_rows, self.shared = sample_rows, shared
        self.cols = list(engine._columns(frame))
        self.types = {c: spark_type_name(t) for c, t in engine._columns(frame).items()}
        self.out: DuckFrame = frame
        self.quarantine_rows: str | None = None
        self.flags = self._flag()

    def columns(self) -> dict[str, str]:
        return self.types

    def _translate(self, select: str, view: str) -> str:
        from odibi_dbx import sql as S

        schema = {RID: "BIGINT", **self.engine._columns(self.source)}
        return S.to_duckdb(select, tables={X.INPUT: view}, schema={X.INPUT: schema})

    def _flag(self) -> str:
        rules, con = self.v.rules, self.engine.con
        check_columns(rules, self.cols, self.node)
        view = self.engine._new_name("rowids")
        con.execute(f"CREATE VIEW {view} AS SELECT rowid AS {q(RID)}, * FROM {self.source.name}")
        try:
            for r in rules:
                self._probe(r, view)
            flags = ", ".join(
                f"NOT coalesce(({r.expr}), false) AS `{R.flag(i)}`" for i, r in enumerate(rules)
            )
            inner = self._translate(f"SELECT `{RID}`, {flags} FROM {X.INPUT}", view)
            quar = _any(R.indexes(rules, "quarantine"))
            drop = f"({_any(R.indexes(rules, 'drop'))}) AND NOT ({quar})"
            name = self.engine._new_name("rule_flags")
            con.execute(
                f"CREATE TABLE {name} AS SELECT *, {quar} AS {q(R.QUARANTINED)}, "
                f"{drop} AS {q(R.DROPPED)} FROM ({inner}) AS flagged"
            ).fetchall()
        except NodeError:
            raise
        except Exception as exc:
            raise rule_error(None, exc, self.node) from exc
        finally:
            con.execute(f"DROP VIEW IF EXISTS {view}")
        return name

    def _probe(self, rule: Any, view: str) -> None:
        """Translate and type one rule on its own (no data read): errors name the rule."""
        try:
            sql = self._translate(f"SELECT ({rule.expr}) AS v FROM {X.INPUT}", view)
            typ = self.engine.con.execute(f"DESCRIBE {sql}").fetchall()[0][1]
        except Exception as exc:
            raise rule_error(rule, exc, self.node) from exc
        if typ not in ("BOOLEAN", '"NULL"', "NULL"):
            why = TypeError(f"it gives {spark_type_name(typ)}, not a boolean")
            raise rule_error(rule, why, self.node)

    def measure_first(self, *, writes: bool, quarantine: bool) -> bool:
        return True  # an aggregate over the narrow flags table: cheap, known before any write

    def measure(self) -> R.Measured:
        """Counts from the flags; samples and quarantined rows set aside; then the removed rows
        go and the column checks run on the kept rows (the engine's own aggregate)."""
        con, f = self.engine.con, self.flags
        exprs = ["count(*)", _count(q(R.QUARANTINED)), _count(q(R.DROPPED))]
        for i in range(len(self.v.rules)):
            flag = q(R.flag(i))
            exprs += [
                _count(flag),
                _count(f"{flag} AND {q(R.QUARANTINED)}"),
                _count(f"{flag} AND {q(R.DROPPED)}"),
            ]
        got = [
            int(x or 0) for x in con.execute(f"SELECT {', '.join(exprs)} FROM {f}").fetchall()[0]
        ]
        per = got[3:]
        m = R.Measured(
            rows=got[0],
            quarantined=got[1],
            dropped=got[2],
            failed=per[0::3],
            failed_quarantined=per[1::3],
            failed_dropped=per[2::3],
            samples=self._samples(per[0::3]),
        )
        if R.indexes(self.v.rules, "quarantine"):
            self._set_aside_quarantined()
        if m.removed:
            self.out = self._remove()
        if self.v.has_checks:
            m.checks = self.engine.check(self.out, self.v)
        return m

    def _rows(self, rids: str) -> str:
        cols = ", ".join(q(c) for c in self.cols)
        return f"SELECT {cols} FROM {self.source.name} WHERE rowid IN ({rids})"

    def _samples(self, failed: list[int]) -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = []
        for i, n in enumerate(failed):
            if not n or self.sample_rows <= 0:
                out.append([])
                continue
            rids = f"SELECT {q(RID)} FROM {self.flags} WHERE {q(R.flag(i))} LIMIT {int(self.sample_rows)}"
            rel = self.engine.con.sql(self._rows(rids))
            out.append([dict(zip(self.cols, row, strict=True)) for row in rel.fetchall()])
        return out

    def _set_aside_quarantined(self) -> None:
        """The quarantined rows with the names of the rules each failed (declaration order)."""
        failed = (
            "list_concat("
            + ", ".join(
                f"CASE WHEN f.{q(R.flag(i))} THEN [{_lit(r.name)}] ELSE []::VARCHAR[] END"
                for i, r in enumerate(self.v.rules)
            )
            + ", []::VARCHAR[])"
        )
        cols = ", ".join(f"s.{q(c)}" for c in self.cols)
        name = self.engine._new_name("quarantined")
        self.engine.con.execute(
            f"CREATE TABLE {name} AS SELECT {cols}, {failed} AS _failed_rules "
            f"FROM {self.source.name} AS s JOIN {self.flags} AS f ON s.rowid = f.{q(RID)} "
            f"WHERE f.{q(R.QUARANTINED)}"
        ).fetchall()
        self.quarantine_rows = name

    def _remove(self) -> DuckFrame:
        con, src = self.engine.con, self.source
        removed = f"SELECT {q(RID)} FROM {self.flags} WHERE {q(R.QUARANTINED)} OR {q(R.DROPPED)}"
        if not self.shared:  # the node's own output: delete in place
            con.execute(f"DELETE FROM {src.name} WHERE rowid IN ({removed})").fetchall()
            rows = con.execute(f"SELECT count(*) FROM {src.name}").fetchall()[0][0]
            src.rows, src.profile = int(rows), None
            return src
        name = self.engine._new_name("kept")
        cols = ", ".join(q(c) for c in self.cols)
        rows = con.execute(
            f"CREATE TABLE {name} AS SELECT {cols} FROM {src.name} WHERE rowid NOT IN ({removed})"
        ).fetchall()[0][0]
        return DuckFrame(name, rows=int(rows), table=True)

    def quarantined(
        self, run_id: str, node: str, at: datetime, as_text: bool, *, observe: bool
    ) -> DuckFrame:
        assert self.quarantine_rows is not None
        failed = "array_to_string(_failed_rules, ',')" if as_text else "_failed_rules"  # csv
        stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        name = self.engine._new_name("quarantine")
        self.engine.con.execute(
            f"CREATE VIEW {name} AS SELECT {', '.join(q(c) for c in self.cols)}, "
            f"{_lit(run_id)} AS _run_id, {_lit(node)} AS _node, {failed} AS _failed_rules, "
            f"TIMESTAMPTZ {_lit(stamp)} AS _quarantined_at FROM {self.quarantine_rows}"
        )
        return DuckFrame(name, temp=[("view", name)])

    def forget(self, frame: DuckFrame) -> None:
        self.engine.con.execute(f"DROP VIEW IF EXISTS {frame.name}")

    def kept(self, *, observe: bool) -> DuckFrame:
        return self.out

    def close(self) -> None:
        """Drop the flags and the set-aside quarantined rows."""
        for name in (self.flags, self.quarantine_rows):
            if name is not None:
                self.engine.con.execute(f"DROP TABLE IF EXISTS {name}")

    def observed(self) -> R.Measured:  # pragma: no cover - measure_first is always True here
        raise AssertionError("the Pandas engine measures before writing")


def _any(idx: list[int]) -> str:
    return " OR ".join(q(R.flag(i)) for i in idx) if idx else "false"


def _count(cond: str) -> str:
    return f"count(*) FILTER (WHERE {cond})"


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"
