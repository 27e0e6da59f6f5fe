"""Parse one Spark SQL (Databricks dialect) query and list the tables it reads."""

from __future__ import annotations

import logging
import re
import threading
from itertools import pairwise
from typing import Any

from sqlglot import exp
from sqlglot.dialects.databricks import Databricks
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from odibi_dbx.sql.errors import SqlSyntaxError
from odibi_dbx.sql.type_names import type_names_parsed_once

UNIT_WRITTEN = "unit_written"
SPELLED = "spelled"
# Calls sqlglot parses alike, told apart on the node's meta (_mark_calls): datediff(end, start)
# (INT, calendar days) and date_diff(unit, start, end) (BIGINT, complete units): with three
# arguments or more, UNIT_WRITTEN is how the unit is written ("quoted" or "name"); Spark 4's
# timediff is timestampdiff; size and array_size: SPELLED is "array_size" for the latter.
_UNIT_FUNCTIONS = frozenset(
    {"DATEDIFF", "DATE_DIFF", "TIMESTAMPDIFF", "DATEADD", "DATE_ADD", "TIMESTAMPADD", "TIMEDIFF"}
)
_MARKED = _UNIT_FUNCTIONS | {"ARRAY_SIZE"}
_MARKED_CALL = re.compile(r"\b(?:" + "|".join(_MARKED) + r")\s*\(", re.IGNORECASE)
_OPEN = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSE = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}


class SparkSQL(Databricks):
    """Databricks SQL that keeps datetime patterns as written (Java letters).

    "databricks" keeps ANSI CAST ("spark" would turn every CAST into TRY_CAST); an empty
    TIME_MAPPING stops sqlglot from half-translating patterns such as 'yyyy-MM-dd\'T\'HH'.
    Our rules translate them (odibi_dbx.sql.formats) or reject them.

    The parser is Databricks' own (compiled by sqlglotc when installed, which refuses Python
    subclasses): our differences are applied to its tree afterwards (_mark_calls).
    """

    TIME_MAPPING: dict[str, str] = {}  # noqa: RUF012 - sqlglot's own (class-level) setting


READ_DIALECT = SparkSQL
_DIALECT = SparkSQL()
_READERS = threading.local()  # this thread's tokenizer and parser (each parse resets them)


def _reader() -> tuple[Any, Any]:
    """A tokenizer and a parser of the dialect, built once per thread: building them costs
    about as much as tokenizing a step, and both reset their state at every call."""
    pair = getattr(_READERS, "pair", None)
    if pair is None:
        pair = _READERS.pair = (_DIALECT.tokenizer(), _DIALECT.parser())
    return pair


class _CommandFallbackFilter(logging.Filter):
    """sqlglot warns on stderr when it keeps a statement it cannot parse as a raw command
    (ADD JAR, LOAD DATA, ...); such a statement is refused as a step anyway, with advice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_CommandFallbackFilter())
_QUERY_TYPES = (exp.Query, exp.Values)
_SHIFTS = (exp.BitwiseLeftShift, exp.BitwiseRightShift)


def parse_spark(sql: str) -> exp.Expr:
    """Parse exactly one query (SELECT / WITH / set operation / VALUES)."""
    try:
        tokenizer, parser = _reader()
        tokens = tokenizer.tokenize(sql)
        with type_names_parsed_once():  # each CAST's type is checked by name (sqlglot 30.30)
            trees = parser.parse(tokens, sql)
        upper = sql.upper()  # a marked call's name is in it (as its token's upper-case text)
        if any(name in upper for name in _MARKED) and _MARKED_CALL.search(sql):
            trees = [_mark_calls(t, tokens, parser) for t in trees]
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
    # (the shift check needs two '<' or two '>' tokens: with fewer, no walk over the tree)
    if max(sql.count("<"), sql.count(">")) > 1 and tree.find(*_SHIFTS):
        _shifts_written_whole(sql, tokens)
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


def _shifts_written_whole(sql: str, tokens: list) -> None:
    """`a > > b` is no shift in Spark (a syntax error); sqlglot reads it as `a >> b`."""
    for a, b in pairwise(tokens):
        if a.token_type == b.token_type and a.text in ("<", ">") and b.start > a.end + 1:
            line, col = _line_col(sql, b.start)
            raise SqlSyntaxError(
                f"'{a.text} {b.text}' is not an operator (write {a.text * 2})", line, col
            )


def _marked_calls(tokens: list) -> dict[int, tuple[str, str | None]]:
    """Start offset of each marked function's name token -> (its name, how its first argument
    is written: "quoted" for a string literal, "name" otherwise, None with < 3 arguments)."""
    out = {}
    for i, tok in enumerate(tokens[:-1]):
        name = tok.text.upper()
        if name not in _MARKED or tokens[i + 1].token_type != TokenType.L_PAREN:
            continue
        depth, commas = 0, 0
        for inner in tokens[i + 1 :]:
            if inner.token_type in _OPEN:
                depth += 1
            elif inner.token_type in _CLOSE:
                depth -= 1
                if depth == 0:
                    break
            elif inner.token_type == TokenType.COMMA and depth == 1:
                commas += 1
        written = None
        if commas >= 2:
            written = "quoted" if tokens[i + 2].token_type == TokenType.STRING else "name"
        out[tok.start] = (name, written)
    return out


def _mark_calls(tree: exp.Expr | None, tokens: list, parser: Any) -> exp.Expr | None:
    """Mark units as written and array_size as spelled; timediff becomes timestampdiff."""
    calls = _marked_calls(tokens)
    if tree is None or not calls:
        return tree
    for func in list(tree.find_all(exp.Func)):
        call = calls.get(func.meta.get("start", -1))
        if call is None:
            continue
        name, written = call
        node: exp.Expr = func
        if name == "TIMEDIFF" and isinstance(func, exp.Anonymous):
            node = _timestampdiff(func, parser)
        if name == "ARRAY_SIZE":
            node.meta[SPELLED] = "array_size"
        elif written is not None:
            node.meta[UNIT_WRITTEN] = written
    return tree


def _timestampdiff(node: exp.Anonymous, parser: Any) -> exp.Expr:
    """Spark 4's timediff(unit, start, end), built as sqlglot builds timestampdiff."""
    args = node.expressions
    build = type(parser).FUNCTIONS["TIMESTAMPDIFF"]
    try:
        new = build(args)
    except TypeError:  # builders that take the dialect (see sqlglot's parser)
        new = build(args, dialect=parser.dialect)
    errors = new.error_messages(args)
    if errors:  # as the parser validates a known function's arguments
        raise SqlSyntaxError(errors[0], node.meta.get("line"), node.meta.get("col"))
    new.meta.update(node.meta)
    new.add_comments(node.comments)
    node.replace(new)
    return new


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
    return [table for table in tree.find_all(exp.Table) if is_source(table)]


def is_source(table: exp.Table) -> bool:
    """Does this table node read a real table or view (not a CTE, not a table function)?"""
    return (
        isinstance(table.this, exp.Identifier) and bool(table.name) and not is_cte_reference(table)
    )


def referenced_tables(tree: exp.Expr) -> set[str]:
    """Lower-cased names of the tables and views the query reads, CTE names excluded."""
    return {table_key(t) for t in source_tables(tree)}
