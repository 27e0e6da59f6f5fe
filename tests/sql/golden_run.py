"""Run Spark's golden-file queries through the Pandas engine's own SQL path and classify them.

Per file: temp views and tables are built first (the engine's translation when it accepts the
body, else plain sqlglot: only the inputs, not what is measured), cast to the column types Spark
gives them (analyzer-results). Each query then goes through validation (the sandbox, then
`PandasEngine.sql_problems`), translation with the input schemas and DuckDB (`engine.sql`), in
the session zone America/Los_Angeles, and its rows and types are compared with Spark's.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlglot
from sqlglot import exp

from odibi_dbx import sql as S
from odibi_dbx.engines.pandas import DuckFrame, PandasEngine
from odibi_dbx.engines.quote import duckdb as q
from odibi_dbx.sql.sandbox import sandbox_problems
from tests.sql.golden_files import (
    Block,
    blocks,
    has_order_by,
    is_query,
    schema_types_match,
    view_types,
)
from tests.sql.hive_format import hive_rows

ZONE = "America/Los_Angeles"
SUMMARY: list[str] = []  # the counts, printed by conftest.pytest_terminal_summary
QUERY_TIMEOUT = 10.0  # seconds; a query running longer counts as a runtime error

# outcome per query
SAME = "same"  # Spark's values and types
REFUSED = "refused"  # NotPortableError / SqlSyntaxError at validation
RUNTIME = "runtime error"  # accepted, then failed while running
DIFFERENT = "different"  # accepted and ran, but a different result: must never happen
# Spark raised a data error (division by zero, invalid cast, ...) and the engine ...
RAISES = "raises like Spark"  # ... raised while running, naming Spark's error class
RAISES_OTHER = "raises, another error than Spark's"  # ... raised while running, another error
REFUSED_RAISES = "refused where Spark raises"  # ... refused the query at validation
ANSWERED = "answered where Spark raises"  # Spark raised a data error; the engine gave rows
REJECTED_SPARK = "Spark rejects (analysis)"  # Spark refused the query at parse/analysis
SKIPPED = "skipped (non-default Spark config)"
NO_INPUT = "skipped (input view not built on DuckDB)"

_DEFAULTS = {  # settings whose value here is Spark's default (anything else: queries skipped)
    "spark.sql.groupbyaliases": "true",
    "spark.sql.groupbyordinal": "true",
    "spark.sql.decimaloperations.allowprecisionloss": "true",
    "spark.sql.optimizer.optimizeonerowrelationsubquery.alwaysinline": "true",
    "spark.sql.legacy.setopsprecedence.enabled": "false",
}


@dataclass
class Result:
    block: Block
    outcome: str
    detail: str = ""

    @property
    def key(self) -> str:
        return f"{self.block.file}#{self.block.index}"


class FileRun:
    """One golden file on one Pandas engine (fresh DuckDB database per file)."""

    def __init__(self, name: str):
        self.name = name
        self.types = view_types(name)
        self.engine = PandasEngine(timezone=ZONE)
        self.engine.start()
        self.views: dict[str, DuckFrame] = {}
        self.config: dict[str, str] = {}
        self.zone = ZONE

    def run(self) -> list[Result]:
        out = []
        try:
            for block in blocks(self.name):
                if is_query(block.sql):
                    out.append(self.query(block))
                else:
                    self.statement(block)
        finally:
            self.engine.stop()
        return out

    # -- set-up statements --
    def statement(self, block: Block) -> None:
        sql = block.sql.strip().rstrip(";")
        if block.error:
            return
        m = re.match(r"(?is)set\s+time\s+zone\s+'([^']+)'$", sql)
        if m:
            self._zone(m.group(1))
            return
        m = re.match(r"(?is)set\s+([\w.]+)\s*=\s*(\S*)$", sql)
        if m:
            key, value = m.group(1).lower(), m.group(2).lower()
            if key == "spark.sql.session.timezone":
                self._zone(value.strip("'\""))
            elif _DEFAULTS.get(key, "false" if ".legacy." in key else None) == value:
                self.config.pop(key, None)
            else:
                self.config[key] = value
            return
        if re.match(r"(?is)set\s+time\s+zone", sql):
            self.config["time zone"] = sql
            return
        m = re.match(r"(?is)drop\s+(?:view|table)\s+(?:if\s+exists\s+)?([\w.`]+)", sql)
        if m:
            self.views.pop(_name(m.group(1)), None)
            return
        m = re.match(
            r"(?is)create\s+(?:or\s+replace\s+)?(?:global\s+)?(?:temp|temporary)?\s*view\s+"
            r"(?:if\s+not\s+exists\s+)?([\w.`]+)\s*(\([^)]*\))?\s+as\s+(.*)$",
            sql,
        )
        if m:
            cols = (
                [c.strip().strip("`").split()[0] for c in m.group(2)[1:-1].split(",")]
                if m.group(2)
                else None
            )
            self._table(_name(m.group(1)), m.group(3), cols)
            return
        m = re.match(r"(?is)create\s+table\s+([\w.`]+)\s*\((.*?)\)\s*using\s+\w+\s*$", sql)
        if m:
            cols = [c.strip().split(None, 1) for c in _split_top(m.group(2))]
            body = (
                "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in cols) + " WHERE false"
            )
            self._table(_name(m.group(1)), body, None)
            return
        m = re.match(r"(?is)create\s+table\s+([\w.`]+)\s+using\s+\w+\s+as\s+(.*)$", sql)
        if m:
            self._table(_name(m.group(1)), m.group(2), None)
            return
        m = re.match(r"(?is)insert\s+(?:into|overwrite)\s+(?:table\s+)?([\w.`]+)\s+(.*)$", sql)
        if m and _name(m.group(1)) in self.views:
            name = _name(m.group(1))
            frame = self.views[name]
            rel = self._duck(m.group(2))
            if rel is not None:
                if re.match(r"(?i)insert\s+overwrite", sql):
                    self.engine.con.execute(f"DELETE FROM {frame.name}")
                self.engine.con.execute(f"INSERT INTO {frame.name} SELECT * FROM ({rel})")

    def _zone(self, zone: str) -> None:
        self.zone = zone
        self.engine.timezone = zone
        self.engine.con.execute(f"SET TimeZone = '{zone}'")

    def _duck(self, body: str) -> str | None:
        """DuckDB SQL for a set-up query: the engine's translation, else plain sqlglot."""
        if re.match(r"(?is)\s*values\b", body):
            body = f"SELECT * FROM {body}"
        for checked in (False, True):  # an input built with constructs the list does not hold
            try:
                return S.to_duckdb(
                    body, tables=self._tables(), schema=self._schemas(), checked=checked
                )
            except Exception:
                pass
        try:
            tree = sqlglot.parse_one(body, read="spark")
            for t in tree.find_all(exp.Table):
                frame = self.views.get(t.name.lower())
                if frame is not None and not t.args.get("db"):
                    t.set("this", exp.to_identifier(frame.name.strip('"'), quoted=True))
            return tree.sql("duckdb")
        except Exception:
            return None

    def _table(self, name: str, body: str, cols: list[str] | None) -> None:
        duck = self._duck(body)
        if duck is None:
            return
        con = self.engine.con
        table = q(f"golden_{len(self.views)}_{name}")
        try:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {duck}")
            described = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            names = cols or described
            typed = dict(self.types.get(name, []))
            parts, intervals = [], {}
            for src, col in zip(described, names, strict=False):
                spark_t = typed.get(col)
                expr = q(src)
                if spark_t:
                    expr = f"CAST({expr} AS {_duck_type(spark_t)})"
                    if spark_t.startswith("interval"):  # DuckDB's INTERVAL: the family is kept
                        intervals[col] = spark_t  # by the frame, as the engine does
                parts.append(f"{expr} AS {q(col)}")
            final = q(f"golden_{len(self.views)}_{name}_t")
            con.execute(
                f"CREATE OR REPLACE TABLE {final} AS SELECT {', '.join(parts)} FROM {table}"
            )
        except Exception:
            return
        self.views[name] = DuckFrame(final, table=True, spark_types=intervals)

    def _tables(self) -> dict[str, str]:
        return {k: v.name for k, v in self.views.items()}

    def _schemas(self) -> dict[str, dict[str, str]]:
        return {k: self.engine.spark_schema(v) for k, v in self.views.items()}

    # -- queries --
    def query(self, block: Block) -> Result:
        if self.config:
            return Result(block, SKIPPED, ", ".join(sorted(self.config)))
        engine = self.engine
        try:
            tree = S.parse_spark(block.sql)
            missing = S.referenced_tables(tree) - set(self.views)
            if missing:  # a view the harness could not build (its body failed on DuckDB)
                return Result(block, NO_INPUT, ", ".join(sorted(missing)))
            problems = sandbox_problems(tree) or engine.sql_problems(tree)  # as validation
            if problems:
                raise problems[0]
            frame, _translated = engine.sql(block.sql, self.views)
        except (S.NotPortableError, S.SqlSyntaxError) as e:
            return self._spark_raised(block, REFUSED, e) or Result(block, REFUSED, str(e))
        except Exception as e:
            return self._spark_raised(block, RUNTIME, e) or Result(block, RUNTIME, _first(e))
        timer = threading.Timer(QUERY_TIMEOUT, engine.con.interrupt)
        try:
            timer.start()
            frame = engine.finish(frame, key=block.sql, consumers=1)  # the engine's own run
            table = engine.con.sql(f"SELECT * FROM {frame.name}").to_arrow_table()
            types = list(engine.spark_type_names(frame).values())
            rows = hive_rows(table, ZoneInfo(self.zone), types)
        except Exception as e:
            return self._spark_raised(block, RUNTIME, e) or Result(block, RUNTIME, _first(e))
        finally:
            timer.cancel()
        if block.error:
            return Result(
                block,
                ANSWERED if block.data_error else REJECTED_SPARK,
                f"Spark: {block.error_class or block.error}; engine: {rows[:3]}",
            )
        expected = block.rows
        if rows in ([""],):
            rows = []
        if expected in ([""],):
            expected = []
        if not has_order_by(block.sql):
            rows, expected = sorted(rows), sorted(expected)
        elif rows != expected and sorted(rows) == sorted(expected):
            rows = self._ties_in_spark_order(block, expected) or rows
        if rows != expected and not _doubles_close(rows, expected, types):
            return Result(block, DIFFERENT, f"values: engine {rows[:5]} Spark {expected[:5]}")
        if not schema_types_match(block.schema, types):
            return Result(block, DIFFERENT, f"types: engine {types} Spark {block.schema}")
        return Result(block, SAME)

    def _ties_in_spark_order(self, block: Block, expected: list[str]) -> list[str] | None:
        """Spark's rows when they differ from the engine's only in the order of ORDER BY ties.

        The query runs again with its ORDER BY keys as extra columns; consecutive rows with
        equal keys form a group, and each group must hold the same rows as Spark's at the same
        positions (in any order). None when the keys cannot be added or a group differs.
        """
        tree = S.parse_spark(block.sql)
        order = tree.args.get("order")
        if not isinstance(tree, exp.Select) or order is None or tree.args.get("distinct"):
            return None
        width = len(tree.selects)
        for i, key in enumerate(order.expressions):
            tree.select(exp.alias_(_order_key(tree, key.this), f"__tie_key_{i}"), copy=False)
        try:
            frame, _ = self.engine.sql(tree.sql("databricks"), self.views)
            table = self.engine.con.sql(f"SELECT * FROM {frame.name}").to_arrow_table()
        except Exception:
            return None
        types = list(self.engine.spark_type_names(frame).values())
        zone = ZoneInfo(self.zone)
        shown = hive_rows(table.select(list(range(width))), zone, types[:width])
        keys = hive_rows(table.select(list(range(width, table.num_columns))), zone, types[width:])
        if len(shown) != len(expected):
            return None
        start = 0
        for end in range(1, len(keys) + 1):
            if end == len(keys) or keys[end] != keys[start]:
                if sorted(shown[start:end]) != sorted(expected[start:end]):
                    return None
                start = end
        return expected

    @staticmethod
    def _spark_raised(block: Block, outcome: str, error: BaseException) -> Result | None:
        if block.data_error:
            detail = f"Spark: {block.error_class or block.error}; engine: {_first(error)}"
            if outcome == REFUSED:
                return Result(block, REFUSED_RAISES, detail)
            named = block.error_class is None or f"[{block.error_class}]" in str(error)
            return Result(block, RAISES if named else RAISES_OTHER, detail)
        if block.error:
            return Result(block, REJECTED_SPARK + f" / engine {outcome}")
        return None


def run_all(files: list[str]) -> list[Result]:
    out = []
    for name in files:
        out.extend(FileRun(name).run())
    return out


def counts(results: list[Result]) -> Counter:
    return Counter(r.outcome for r in results)


def _doubles_close(rows: list[str], expected: list[str], types: list[str]) -> bool:
    """Equal but for the last bits of DOUBLE columns (aggregates sum in another order)."""
    if len(rows) != len(expected) or not {"double", "float"} & set(types):
        return False
    for got, want in zip(rows, expected, strict=True):
        a, b = got.split("\t"), want.split("\t")
        if len(a) != len(b) or len(a) != len(types):
            return False
        for x, y, t in zip(a, b, types, strict=True):
            if x == y:
                continue
            if t not in ("double", "float"):
                return False
            try:
                fx, fy = float(x), float(y)
            except ValueError:
                return False
            if abs(fx - fy) > 1e-12 * max(abs(fx), abs(fy)):
                return False
    return True


def _order_key(select: exp.Select, key: exp.Expression) -> exp.Expression:
    """An ORDER BY key as an expression over the FROM (ordinals and aliases resolved)."""
    if isinstance(key, exp.Literal) and not key.is_string:
        return select.selects[int(key.this) - 1].unalias().copy()
    if isinstance(key, exp.Column) and not key.table:
        for sel in select.selects:
            if isinstance(sel, exp.Alias) and sel.alias.lower() == key.name.lower():
                return sel.this.copy()
    return key.copy()


def _name(ident: str) -> str:
    return ident.replace("`", "").split(".")[-1].lower()


def _split_top(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch in "(<"
        depth -= ch in ")>"
        cur += ch
    return [c for c in [*out, cur] if c.strip()]


def _duck_type(spark_type: str) -> str:
    dt = exp.DataType.build(spark_type, dialect="spark")
    if isinstance(dt.this, exp.Interval):
        return "INTERVAL"
    for node in dt.find_all(exp.DataType):
        if node.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPLTZ):
            node.set("this", exp.DataType.Type.TIMESTAMPTZ)
    return dt.sql("duckdb")


def _first(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
