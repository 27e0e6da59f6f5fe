"""Spark's SQL golden files (sql-tests/results/*.sql.out of spark-sql_2.13:4.0.1:tests).

Each block is `-- !query` SQL, `-- !query schema` struct<...>, `-- !query output` rows (tab
separated, printed by Spark's HiveResult) or an exception: class name then a JSON body.
`analyzer-results/` holds the analysed plans, which give the column types of temp views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / ".golden" / "sql-tests"

# The data-engineering files the Pandas engine is measured on (issue 9).
FILES = """
group-by group-by-filter group-by-ordinal group-by-alias group-analytics grouping_set having count
percentiles mode pivot unpivot window date timestamp datetime-formatting datetime-parsing
datetime-special extract timezone timestamp-ltz interval string-functions regexp-functions
json-functions like-all like-any ilike cast try_cast math decimalArithmeticOperations
try_arithmetic operators null-handling null-propagation conditional-functions
predicate-functions comparator bitwise array map struct higher-order-functions try_element_at
inner-join outer-join natural-join using-join cross-join union except except-all intersect-all
order-by-nulls-ordering order-by limit cte cte-nested inline-table table-aliases
subquery/exists-subquery/exists-basic subquery/in-subquery/in-basic
subquery/scalar-subquery/scalar-subquery-select
""".split()

# exceptions Spark raises while running (data errors), as opposed to parse/analysis errors
_COMPILE_ERRORS = ("ParseException", "AnalysisException", "SparkUnsupportedOperationException")


@dataclass
class Block:
    file: str
    index: int
    sql: str
    schema: str
    output: str

    @property
    def error(self) -> str | None:
        """Spark's exception class when the query failed, else None."""
        first = self.output.split("\n", 1)[0]
        if self.schema == "struct<>" and re.match(r"^[\w.$]+(Exception|Error)$", first):
            return first.rsplit(".", 1)[-1]
        return None

    @property
    def error_class(self) -> str | None:
        m = re.search(r'"errorClass" : "([^"]+)"', self.output)
        return m.group(1) if m else None

    @property
    def data_error(self) -> bool:
        """Spark raised while running the query (a data error), not while compiling it."""
        return self.error is not None and not self.error.endswith(_COMPILE_ERRORS)

    @property
    def rows(self) -> list[str]:
        return [line.rstrip() for line in self.output.split("\n")] if self.output else []


def blocks(name: str, folder: str = "results") -> list[Block]:
    text = (ROOT / folder / f"{name}.sql.out").read_text(encoding="utf-8")
    out = []
    for i, part in enumerate(text.split("-- !query\n")[1:]):
        sql, _, rest = part.partition("\n-- !query schema\n")
        if not rest:  # analyzer-results: "-- !query analysis"
            sql, _, rest = part.partition("\n-- !query analysis\n")
            out.append(Block(name, i, sql.strip(), "", rest.rstrip("\n")))
            continue
        schema, _, output = rest.partition("\n-- !query output\n")
        out.append(Block(name, i, sql.strip(), schema.strip(), output.rstrip("\n")))
    return out


_VIEW_CASTS = re.compile(r"View \(`([^`]+)`, \[[^\]]*\]\)\n\s*\+- Project \[(.*)\]\n", re.MULTILINE)
_CAST = re.compile(r"cast\((.+?)#\w+ as (.+?)\) AS (.+?)#\w+(?:, |$)")


def view_types(name: str) -> dict[str, list[tuple[str, str]]]:
    """Temp view name (lower-case) -> [(column, Spark type)] from the analysed plans."""
    path = ROOT / "analyzer-results" / f"{name}.sql.out"
    if not path.exists():
        return {}
    found: dict[str, list[tuple[str, str]]] = {}
    for view, project in _VIEW_CASTS.findall(path.read_text(encoding="utf-8")):
        cols = [(col, typ) for _src, typ, col in _CAST.findall(project)]
        if cols and view.lower() not in found:
            found[view.lower()] = cols
    return found


def is_query(sql: str) -> bool:
    head = re.sub(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", "", sql, flags=re.S).lower()
    return bool(re.match(r"(select|with|values|from|table|\()\b", head))


def has_order_by(sql: str) -> bool:
    """A top-level ORDER BY (outside parentheses): Spark then keeps the rows' order."""
    depth, text = 0, re.sub(r"'[^']*'", "''", sql.lower())
    for m in re.finditer(r"[()]|\border\s+by\b", text):
        tok = m.group(0)
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
        elif depth == 0:
            return True
    return False


def schema_types_match(schema: str, types: list[str]) -> bool:
    """Does Spark's `struct<name:type,...>` have exactly these column types (names ignored)?"""
    if not types:
        return schema == "struct<>"
    pattern = "struct<" + ",".join(r".*?:" + re.escape(t) for t in types) + ">"
    return re.fullmatch(pattern, schema, flags=re.S) is not None
