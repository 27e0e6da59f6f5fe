"""The allow-list check: every construct of a query must be listed in odibi_dbx.sql.allowed.

A construct is a sqlglot node kind (a function, operator, cast, type or clause; an unmapped
function by its lower-case name). Its operands' kinds, where the type inference knows them,
must be among those the entry was verified for. Anything else is refused with advice.
"""

from __future__ import annotations

from sqlglot import exp

from odibi_dbx.sql.allowed import ALLOWED, ANY, REFUSED, REFUSED_AS
from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.types import type_of

T = exp.DataType.Type
_KINDS = {
    **dict.fromkeys((T.TINYINT, T.SMALLINT, T.INT, T.BIGINT), "int"),
    T.DECIMAL: "decimal",
    **dict.fromkeys((T.DOUBLE, T.FLOAT), "double"),
    **dict.fromkeys((T.VARCHAR, T.TEXT, T.CHAR), "string"),
    T.BOOLEAN: "boolean",
    T.DATE: "date",
    **dict.fromkeys((T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPLTZ), "timestamp"),
    **dict.fromkeys((T.BINARY, T.VARBINARY), "binary"),
    T.ARRAY: "array",
    T.MAP: "map",
    T.STRUCT: "struct",
    T.NULL: "null",
    T.INTERVAL: "interval",
    T.TIMESTAMPNTZ: "timestamp_ntz",
}
# nodes whose children are operands (functions, operators, casts); the rest are clauses
_OPERATIONS = (exp.Func, exp.Binary, exp.Unary, exp.Predicate, exp.Bracket, exp.DataType)
_NOT_OPERATIONS = (exp.Paren, exp.Alias, exp.Column, exp.Star)
GENERIC_ADVICE = (
    "write it with the constructs listed in odibi_dbx/sql/allowed.py (see "
    "docs/sql-portability.md), or run this pipeline on the Spark engine (engine: spark)."
)


def construct_of(node: exp.Expr) -> str:
    """The allow-list key of a node: its sqlglot kind, or an unmapped function's name."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return type(node).__name__


def kind_of(node: exp.Expr) -> str | None:
    """The coarse Spark type of a value ('int', 'string', 'array', ...), None when unknown."""
    if isinstance(node, exp.Null):
        return "null"
    t = node if isinstance(node, exp.DataType) else type_of(node)
    if t is None:
        return None
    if isinstance(t.this, exp.Interval):  # Spark's ANSI interval types carry their fields
        return "interval"
    return _KINDS.get(t.this) or t.this.name.lower()


def operand_kinds(node: exp.Expr) -> list[tuple[str, str]]:
    """(argument name, kind) of each operand whose kind is known; a type: ('type', its kind)."""
    if isinstance(node, exp.DataType):
        kind = kind_of(node)
        return [("type", kind)] if kind else []
    if not isinstance(node, _OPERATIONS) or isinstance(node, _NOT_OPERATIONS):
        return []
    out = []
    for child in node.iter_expressions():
        kind = kind_of(child)
        if kind is not None:
            out.append((child.arg_key or "", kind))
    return out


def allowlist_problem(node: exp.Expr) -> NotPortableError | None:
    """None when the node's construct is listed and its known operand kinds were verified."""
    if isinstance(node, exp.DataType) and not isinstance(node.parent, (exp.DataType, type(None))):
        if isinstance(node.parent, _OPERATIONS):
            return None  # an operand of the cast (or function) that checks it
    name = construct_of(node)
    entry = ALLOWED.get(name)
    if entry is None:
        return _refusal(name, node, "")
    for arg, kind in operand_kinds(node):
        verified = entry.operands.get(arg, ())
        if kind not in verified and kind != "null" and verified != ANY:
            shown = ", ".join(verified) or "no known type"
            detail = f" with {kind} as its {arg} (verified for {shown})"
            return _refusal(REFUSED_AS.get(f"type {kind}", name), node, detail)
    return None


def problem(construct: str, detail: str = "") -> NotPortableError:
    """The refusal of a construct named in allowed.REFUSED, with its reason and advice."""
    why, advice = REFUSED[construct]
    msg = f"Not portable to the Pandas engine: {construct}{detail}. {why}"
    return NotPortableError(construct, msg, advice)


def _refusal(name: str, node: exp.Expr, detail: str) -> NotPortableError:
    if name in REFUSED:
        return problem(name)
    construct = REFUSED_AS.get(name)
    if construct is None and isinstance(node, exp.DataType):
        construct = REFUSED_AS.get(f"type {kind_of(node)}")
    if construct is not None:
        return problem(construct)
    spelled = _spelling(name, node)
    return NotPortableError(
        spelled,
        f"Not portable to the Pandas engine: {spelled}{detail} is not on the Pandas engine's "
        "allow-list (constructs verified to give Spark's values and types on DuckDB).",
        GENERIC_ADVICE,
    )


def _spelling(name: str, node: exp.Expr) -> str:
    entry = ALLOWED.get(name)
    if entry is not None:
        return entry.spark
    if isinstance(node, exp.Func):
        text = node.sql("databricks")
        return text.split("(", 1)[0].lower() + "()" if "(" in text else text
    if isinstance(node, exp.DataType):
        return f"the type {node.sql('databricks')}"
    return f"{name} ({node.sql('databricks')[:60]})"
