"""Rules on the Pandas engine: one DuckDB query computes every rule's flag into a table; the
counts, samples, quarantined and kept rows are read from that table, never re-evaluated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from odibi_dbx.engines.checks import unique_key
from odibi_dbx.engines.pandas import DuckFrame, PandasEngine, q
from odibi_dbx.engines.types import spark_type_name
from odibi_dbx.quality import expressions as X
from odibi_dbx.quality import rules as R
from odibi_dbx.quality.expressions import check_columns, rule_error


class DuckRules:
    def __init__(
        self, engine: PandasEngine, frame: DuckFrame, validation: Any, node: str, sample_rows: int
    ):
        self.engine, self.source, self.v, self.node = engine, frame, validation, node
        self.sample_rows = sample_rows
        self.cols = list(engine._columns(frame))
        self._removed = 0
        self.flagged = self._flag()

    def columns(self) -> dict[str, str]:
        return {c: spark_type_name(t) for c, t in self.engine._columns(self.source).items()}

    def _flag(self) -> DuckFrame:
        """CREATE TABLE ... AS the rows plus one flag per rule and the row's fate: one query."""
        from odibi_dbx import sql as S

        rules = self.v.rules
        check_columns(rules, self.cols, self.node)
        for r in rules:
            self._probe(r)
        flags = ", ".join(
            f"NOT coalesce(({r.expr}), false) AS `{R.flag(i)}`" for i, r in enumerate(rules)
        )
        try:
            inner = S.to_duckdb(
                f"SELECT *, {flags} FROM {X.INPUT}",
                tables={X.INPUT: self.source.name},
                schema={X.INPUT: self.engine._columns(self.source)},
            )
        except Exception as exc:
            raise rule_error(None, exc, self.node) from exc
        quar = _any(R.indexes(rules, "quarantine"))
        drop = f"({_any(R.indexes(rules, 'drop'))}) AND NOT ({quar})"
        name = self.engine._new_name("rules")
        try:
            self.engine.con.execute(
                f"CREATE TABLE {name} AS SELECT *, {quar} AS {q(R.QUARANTINED)}, "
                f"{drop} AS {q(R.DROPPED)} FROM ({inner}) AS flagged"
            ).fetchall()
        except Exception as exc:
            raise rule_error(None, exc, self.node) from exc
        return DuckFrame(name, table=True)

    def _probe(self, rule: Any) -> None:
        """Translate and type one rule on its own (no data read): errors name the rule."""
        from odibi_dbx import sql as S

        try:
            sql = S.to_duckdb(
                f"SELECT ({rule.expr}) AS v FROM {X.INPUT}",
                tables={X.INPUT: self.source.name},
                schema={X.INPUT: self.engine._columns(self.source)},
            )
            typ = self.engine.con.execute(f"DESCRIBE {sql}").fetchall()[0][1]
        except Exception as exc:
            raise rule_error(rule, exc, self.node) from exc
        if typ not in ("BOOLEAN", '"NULL"', "NULL"):
            raise rule_error(
                rule, TypeError(f"it gives {spark_type_name(typ)}, not a boolean"), self.node
            )

    def measure_first(self, *, writes: bool, quarantine: bool) -> bool:
        return True  # an aggregate over the flag columns: cheap, and known before any write

    def measure(self) -> R.Measured:
        v, t = self.v, self.flagged.name
        keep = f"NOT {q(R.QUARANTINED)} AND NOT {q(R.DROPPED)}"
        exprs = ["count(*)", _count(q(R.QUARANTINED)), _count(q(R.DROPPED))]
        for i in range(len(v.rules)):
            f = q(R.flag(i))
            exprs += [
                _count(f),
                _count(f"{f} AND {q(R.QUARANTINED)}"),
                _count(f"{f} AND {q(R.DROPPED)}"),
            ]
        nulls = [c for c in v.no_nulls if c in self.cols]
        exprs += [_count(f"{keep} AND {q(c)} IS NULL") for c in nulls]
        key = unique_key(v, self.engine._columns(self.source))
        if key:
            distinct = f"count(DISTINCT ({', '.join(q(c) for c in key)})) FILTER (WHERE {keep})"
            exprs.append(f"{_count(keep)} - {distinct}")
        got = [
            int(x or 0)
            for x in self.engine.con.execute(f"SELECT {', '.join(exprs)} FROM {t}").fetchall()[0]
        ]
        self._removed = got[1] + got[2]
        n = len(v.rules)
        per = got[3 : 3 + 3 * n]
        tail = got[3 + 3 * n :]
        return R.Measured(
            rows=got[0],
            quarantined=got[1],
            dropped=got[2],
            failed=per[0::3],
            failed_quarantined=per[1::3],
            failed_dropped=per[2::3],
            nulls=dict(zip(nulls, tail[: len(nulls)], strict=True)),
            duplicates=tail[-1] if key else None,
            samples=self._samples(per[0::3]),
        )

    def _samples(self, failed: list[int]) -> list[list[dict[str, Any]]]:
        out = []
        cols = ", ".join(q(c) for c in self.cols)
        for i, n in enumerate(failed):
            if not n or self.sample_rows <= 0:
                out.append([])
                continue
            rel = self.engine.con.sql(
                f"SELECT {cols} FROM {self.flagged.name} WHERE {q(R.flag(i))} "
                f"LIMIT {int(self.sample_rows)}"
            )
            out.append([dict(zip(self.cols, row, strict=True)) for row in rel.fetchall()])
        return out

    def quarantined(
        self, run_id: str, node: str, at: datetime, as_text: bool, *, observe: bool
    ) -> DuckFrame:
        failed = (
            "list_concat("
            + ", ".join(
                f"CASE WHEN {q(R.flag(i))} THEN [{_lit(r.name)}] ELSE []::VARCHAR[] END"
                for i, r in enumerate(self.v.rules)
            )
            + ", []::VARCHAR[])"
        )  # declaration order
        if as_text:  # csv holds no arrays: the names joined by commas
            failed = f"array_to_string({failed}, ',')"
        stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        name = self.engine._new_name("quarantine")
        self.engine.con.execute(
            f"CREATE VIEW {name} AS SELECT {', '.join(q(c) for c in self.cols)}, "
            f"{_lit(run_id)} AS _run_id, {_lit(node)} AS _node, {failed} AS _failed_rules, "
            f"TIMESTAMPTZ {_lit(stamp)} AS _quarantined_at "
            f"FROM {self.flagged.name} WHERE {q(R.QUARANTINED)}"
        )
        return DuckFrame(name, temp=[("view", name)])

    def forget(self, frame: DuckFrame) -> None:
        self.engine.con.execute(f"DROP VIEW IF EXISTS {frame.name}")

    def kept(self, *, observe: bool) -> DuckFrame:
        """The kept rows as a table; the source itself when no row was removed."""
        con, t = self.engine.con, self.flagged.name
        if not self._removed:
            return self.source
        name = self.engine._new_name("kept")
        rows = con.execute(
            f"CREATE TABLE {name} AS SELECT {', '.join(q(c) for c in self.cols)} FROM {t} "
            f"WHERE NOT {q(R.QUARANTINED)} AND NOT {q(R.DROPPED)}"
        ).fetchall()[0][0]
        return DuckFrame(name, rows=int(rows), table=True)

    def close(self) -> None:
        """Drop the flagged rows once the quarantine (if any) is written."""
        self.engine.release(self.flagged)

    def observed(self) -> R.Measured:  # pragma: no cover - measure_first is always True here
        raise AssertionError("the Pandas engine measures before writing")


def _any(idx: list[int]) -> str:
    return " OR ".join(q(R.flag(i)) for i in idx) if idx else "false"


def _count(cond: str) -> str:
    return f"count(*) FILTER (WHERE {cond})"


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"
