"""The last check before a translated step runs: DuckDB must bind it to types Spark can give.

The engine binds the translated query (no data is read) and passes its column types here. A
column of a type no Spark query produces (INTERVAL: Spark has typed day-time/year-month
intervals; HUGEINT/unsigned integers: DuckDB's sum/count-like results; the NULL type; naive
TIMESTAMP) means a rule did not know the operand types, so the step is refused instead of
answering with another type. A query DuckDB cannot bind is refused the same way.
Loads no parser: the Spark types the translation inferred arrive as hints
(odibi_dbx.sql.types.result_hints), so that a step translated from the cache is checked alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from odibi_dbx.sql.errors import NotPortableError

_FOREIGN = {
    "INTERVAL": "an interval (Spark's INTERVAL DAY TO SECOND / YEAR TO MONTH types have no "
    "DuckDB equal)",
    "HUGEINT": "a 128-bit integer (the operand types of sum/avg-like functions are unknown)",
    "UHUGEINT": "an unsigned integer",
    "UBIGINT": "an unsigned integer",
    "UINTEGER": "an unsigned integer",
    "USMALLINT": "an unsigned integer",
    "UTINYINT": "an unsigned integer",
    "NULL": "an untyped NULL",
    "TIMESTAMP": "a timestamp without time zone",
    "TIMESTAMP_NS": "a timestamp without time zone",
    "TIMESTAMP_MS": "a timestamp without time zone",
    "TIMESTAMP_S": "a timestamp without time zone",
    "TIME": "a time of day",
    "BIT": "a bit string",
    "UUID": "a UUID",
    "UNION": "a union",
}
ADVICE = (
    "give the operands explicit types (CAST(x AS BIGINT), CAST(x AS DECIMAL(p,s))), keep "
    "intervals inside date arithmetic (d + INTERVAL 1 DAY), or run this step on the Spark engine."
)


def typed_results(columns: Mapping[str, str], hints: Sequence[str | None]) -> dict[str, str]:
    """The result columns whose DuckDB type is ambiguous but whose Spark type the translation
    inferred (`hints`, one per column): an INTERVAL of a known interval type ('interval day to
    second'), a naive TIMESTAMP that is Spark's TIMESTAMP_NTZ. Column -> Spark type; the rest
    stays refused."""
    if len(hints) != len(columns):
        return {}
    out = {}
    for (name, duck_type), hint in zip(columns.items(), hints, strict=True):
        if duck_type == "INTERVAL" and hint and hint.startswith("interval"):
            out[name] = hint
        elif duck_type == "TIMESTAMP" and hint == "timestamp_ntz":
            out[name] = hint
    return out


def result_type_problem(columns: Mapping[str, str]) -> NotPortableError | None:
    """A NotPortableError when a DuckDB result column has a type Spark never gives."""
    for name, duck_type in columns.items():
        for base in base_types(duck_type):
            why = _FOREIGN.get(base)
            if why:
                return NotPortableError(
                    "result type",
                    f"Not portable to the Pandas engine: column {name!r} would be {why} "
                    f"({duck_type}) where Spark gives another type.",
                    ADVICE,
                )
    return None


def base_types(duck_type: str) -> list[str]:
    """The scalar types inside a DuckDB type: 'STRUCT(a INTEGER[], b MAP(VARCHAR, TIME))' ->
    ['INTEGER', 'VARCHAR', 'TIME'] (field names left out)."""
    t = duck_type.strip()
    if t.endswith("[]"):
        return base_types(t[:-2])
    m = re.fullmatch(r"(STRUCT|MAP|UNION)\((.*)\)", t, flags=re.S)
    if m:
        out = []
        for part in _split(m.group(2)):
            if m.group(1) != "MAP":  # "name TYPE"
                part = re.sub(r'^("(?:[^"]|"")*"|\S+)\s+', "", part)
            out += base_types(part)
        return out + (["UNION"] if m.group(1) == "UNION" else [])
    return [re.sub(r"\(.*", "", t).strip('"').upper()]


def _split(text: str) -> list[str]:
    out, depth, cur, quoted = [], 0, "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        elif not quoted:
            depth += ch in "(["
            depth -= ch in ")]"
        cur += ch
    return [*out, cur.strip()] if cur.strip() else out


_USER_MISTAKES = re.compile(
    r"Referenced (column|table)|not found in FROM clause|Table with name", re.I
)


def bind_problem(error: Exception) -> NotPortableError | None:
    """A query DuckDB cannot bind for want of a function or of argument types: refused before
    running. None for the user's own mistakes (unknown column/table): the engine's error, with
    its candidates, says more."""
    text = str(error).splitlines()[0]
    if _USER_MISTAKES.search(text):
        return None
    return NotPortableError(
        "unsupported",
        f"Not supported on the Pandas engine: {text}.",
        "rewrite the expression with the portable functions in docs/sql-portability.md, or run "
        "this step on the Spark engine.",
    )
