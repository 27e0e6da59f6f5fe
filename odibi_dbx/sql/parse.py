"""Parse one Spark SQL (Databricks dialect) query and list the tables it reads."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from itertools import pairwise
from typing import Any, ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.databricks import Databricks
from sqlglot.errors import ParseError, TokenError

from odibi_dbx.sql.errors import SqlSyntaxError

# a sqlglot function builder: the call's arguments -> its node
Builder = Callable[[list[exp.Expr]], exp.Expr]


def _unit_marked(build: Builder) -> Builder:
    """datediff(end, start) (INT, calendar days) and date_diff(unit, start, end) (BIGINT,
    complete units) parse alike; keep the unit as written on the node's meta."""

    def wrapped(args: list[exp.Expr]) -> exp.Expr:
        node = build(args)
        if len(args) >= 3:
            node.meta[UNIT_WRITTEN] = "quoted" if args[0].is_string else "name"
        return node

    return wrapped


def _spelled(name: str, build: Builder) -> Builder:
    """Functions sqlglot parses alike (size and array_size): keep the name as written."""

    def wrapped(args: list[exp.Expr]) -> exp.Expr:
        node = build(args)
        node.meta[SPELLED] = name
        return node

    return wrapped


UNIT_WRITTEN = "unit_written"
SPELLED = "spelled"
# sqlglot builds each dialect's Parser class in its metaclass, so type checkers see a variable
_DatabricksParser: Any = Databricks.Parser


class SparkSQL(Databricks):
    """Databricks SQL that keeps datetime patterns as written (Java letters).

    "databricks" keeps ANSI CAST ("spark" would turn every CAST into TRY_CAST); an empty
    TIME_MAPPING stops sqlglot from half-translating patterns such as 'yyyy-MM-dd\'T\'HH'.
    Our rules translate them (odibi_dbx.sql.formats) or reject them.
    """

    TIME_MAPPING: dict[str, str] = {}  # noqa: RUF012 - sqlglot's own (class-level) setting

    class Parser(_DatabricksParser):
        FUNCTIONS: ClassVar[dict] = {
            **Databricks.Parser.FUNCTIONS,
            **{
                name: _unit_marked(Databricks.Parser.FUNCTIONS[name])
                for name in (
                    "DATEDIFF",
                    "DATE_DIFF",
                    "TIMESTAMPDIFF",
                    "DATEADD",
                    "DATE_ADD",
                    "TIMESTAMPADD",
                )
            },
            "TIMEDIFF": _unit_marked(Databricks.Parser.FUNCTIONS["TIMESTAMPDIFF"]),  # Spark 4
            "ARRAY_SIZE": _spelled("array_size", Databricks.Parser.FUNCTIONS["ARRAY_SIZE"]),
        }


READ_DIALECT = SparkSQL


class _CommandFallbackFilter(logging.Filter):
    """sqlglot warns on stderr when it keeps a statement it cannot parse as a raw command
    (ADD JAR, LOAD DATA, ...); such a statement is refused as a step anyway, with advice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_CommandFallbackFilter())
_QUERY_TYPES = (exp.Query, exp.Values)


def parse_spark(sql: str) -> exp.Expr:
    """Parse exactly one query (SELECT / WITH / set operation / VALUES)."""
    try:
        trees = sqlglot.parse(sql, read=READ_DIALECT)
    except ParseError as e:
        err = e.errors[0] if e.errors else {}
        desc = str(err.get("description") or e).splitlines()[0]
        raise SqlSyntaxError(desc, err.get("line"), err.get("col")) from None
    except TokenError as e:
        raise SqlSyntaxError(str(e).splitlines()[0], *_token_error_position(sql)) from None
    statements = [t for t in trees if t is not None]
    if not statements:
        raise SqlSyntaxError("empty SQL: a SQL step is one SELECT query", 1, 1)
    if len(statements) > 1:
        line, col = _second_statement(sql)
        raise SqlSyntaxError(
            "more than one statement: a SQL step is one SELECT query (remove the ';')", line, col
        )
    tree = statements[0]
    if not isinstance(tree, _QUERY_TYPES):
        kind = (tree.name if isinstance(tree, exp.Command) else tree.key).upper()
        raise SqlSyntaxError(f"{kind} statement: a SQL step is one SELECT query", 1, 1)
    if tree.find(exp.BitwiseLeftShift, exp.BitwiseRightShift):
        _shifts_written_whole(sql)
    if "interval" in sql.lower():
        tree.meta[INTERVAL_TEXT] = interval_text_problems(sql)
    return tree


INTERVAL_TEXT = "interval_text"  # on a parsed tree: interval literals sqlglot reads loosely
_UNIT = r"(?:year|month|week|day|hour|minute|second|millisecond|microsecond)s?"
_VALUE = r"(?:[-+]\s*)?(?:'[^']*'|\d+(?:\.\d+)?)"
_ONE_UNIT_TEXT = rf"(?i)\s*(?:interval\s+)?[-+]?\d+(?:\.\d+)?\s+{_UNIT}\s*"
_PART = rf"{_VALUE}\s+{_UNIT}\b(?:\s+to\s+{_UNIT}\b)?"


def interval_text_problems(sql: str) -> list[str]:
    """Interval literals that sqlglot parses loosely (it drops text or joins parts): the
    function-call form `interval (x) day`, a literal whose string holds its units
    (`interval '1 day 2'`), and a multi-part literal with a `TO` span, which Spark rejects."""
    found = []
    for m in re.finditer(r"(?i)\binterval\b\s*", sql):
        rest = re.sub(r"\\[tnr]", " ", sql[m.end() :])  # Spark's escapes: whitespace
        if rest.startswith("("):
            found.append("interval (x) unit")
            continue
        if not re.match(r"[-+'\d]", rest):
            continue  # a type (CAST(x AS INTERVAL DAY)), not a literal
        parts = re.match(rf"(?i)(?:{_PART}\s*)+", rest)
        text = parts.group(0) if parts else ""
        if not text:  # one string with its unit inside: read right only when that simple
            string = re.match(r"(?:[-+]\s*)?'([^']*)'", rest)
            if not (string and re.fullmatch(_ONE_UNIT_TEXT, string.group(1))):
                found.append("interval text with units")
        elif any(re.search("[a-z]", t, re.I) for t in re.findall(r"'([^']*)'", text)):
            found.append("interval text with units")
        elif len(re.findall(rf"(?i){_PART}", text)) > 1 and re.search(r"(?i)\bto\b", text):
            found.append("interval text with units")
    return found


def _shifts_written_whole(sql: str) -> None:
    """`a > > b` is no shift in Spark (a syntax error); sqlglot reads it as `a >> b`."""
    tokens = READ_DIALECT().tokenize(sql)
    for a, b in pairwise(tokens):
        if a.token_type == b.token_type and a.text in ("<", ">") and b.start > a.end + 1:
            line, col = _line_col(sql, b.start)
            raise SqlSyntaxError(
                f"'{a.text} {b.text}' is not an operator (write {a.text * 2})", line, col
            )


def _second_statement(sql: str) -> tuple[int, int]:
    """Best-effort 1-based line/column of the start of a later statement."""
    cut = sql.find(";")
    offset = cut + 1 if cut >= 0 else 0
    while offset < len(sql) and sql[offset].isspace():
        offset += 1
    return _line_col(sql, offset)


def _token_error_position(sql: str) -> tuple[int | None, int | None]:
    # sqlglot's tokenizer errors carry no position; an unterminated quote is the usual cause
    for quote in ("'", '"', "`"):
        if sql.count(quote) % 2:
            return _line_col(sql, sql.rfind(quote))
    return None, None


def _line_col(sql: str, offset: int) -> tuple[int, int]:
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return line, col


def table_key(table: exp.Table) -> str:
    """Lower-cased dotted name of a table reference ("catalog.db.name")."""
    parts = [p.name for p in table.parts]
    return ".".join(parts).lower()


def is_cte_reference(table: exp.Table) -> bool:
    """True when an unqualified name refers to a CTE visible at this point of the query."""
    if table.args.get("db") or table.args.get("catalog"):
        return False
    name = table.name.lower()
    path: list[exp.Expr] = [table]
    node = table.parent
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With):
            inside = path[-2] if len(path) > 1 and path[-1] is with_ else None
            visible = []
            for cte in with_.expressions:
                if cte is inside:
                    break  # a CTE sees only the CTEs defined before it
                visible.append(cte.alias_or_name.lower())
            if name in visible:
                return True
        path.append(node)
        node = node.parent
    return False


def source_tables(tree: exp.Expr) -> list[exp.Table]:
    """Table nodes that read a real table or view (not a CTE, not a table function)."""
    out = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or not table.name:
            continue
        if not is_cte_reference(table):
            out.append(table)
    return out


def referenced_tables(tree: exp.Expr) -> set[str]:
    """Lower-cased names of the tables and views the query reads, CTE names excluded."""
    return {table_key(t) for t in source_tables(tree)}
