"""Spark's ANSI interval types and TIMESTAMP_NTZ on DuckDB.

Spark has two interval families: YEAR TO MONTH (a count of months) and DAY TO SECOND (a count
of microseconds), each typed with its start and end fields. DuckDB has one INTERVAL (months,
days, microseconds, never normalised), so the Spark type is inferred on the tree
(types.interval_span) and the rules here compute Spark's values from DuckDB's fields:

* typed literals with a span (`INTERVAL '1-2' YEAR TO MONTH`, `INTERVAL '1 02:03:04' DAY TO
  SECOND`) are parsed here with Spark's field ranges (DuckDB cannot read them);
* `extract`/`date_part` of an interval: Spark's fields of the total (`extract(HOUR FROM
  INTERVAL 100 HOUR)` is 4: DuckDB keeps 100 hours), with Spark's result types.

TIMESTAMP_NTZ is DuckDB's naive TIMESTAMP (a wall time): CAST(... AS TIMESTAMP_NTZ) and
to_timestamp_ntz(s) read only text DuckDB reads like Spark (`yyyy-MM-dd[ HH:mm[:ss[.f]]]`,
fraction truncated to microseconds).
"""

from __future__ import annotations

import re

from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.rules.ansi import spark_error
from odibi_dbx.sql.rules.base import STRINGS, Context, cast, duck, fn_name, literal_str, on
from odibi_dbx.sql.rules.time import SPECIAL_VALUES, earlier_if_ambiguous, extract_part

T = exp.DataType.Type
MICROS = {"DAY": 86_400_000_000, "HOUR": 3_600_000_000, "MINUTE": 60_000_000, "SECOND": 1_000_000}
MAX_MONTHS = 2**31 - 1  # Spark's YEAR TO MONTH is an INT of months
MAX_MICROS = 2**63 - 1  # DAY TO SECOND: a BIGINT of microseconds

# the text of each span, as Spark reads it (IntervalUtils): the leading field unbounded
_NUM, _FRAC = r"(\d+)", r"(\d+)(?:\.(\d{1,9}))?"
_SPAN_TEXT = {
    ("YEAR", "MONTH"): rf"{_NUM}-{_NUM}",
    ("DAY", "HOUR"): rf"{_NUM} {_NUM}",
    ("DAY", "MINUTE"): rf"{_NUM} {_NUM}:{_NUM}",
    ("DAY", "SECOND"): rf"{_NUM} {_NUM}:{_NUM}:{_FRAC}",
    ("HOUR", "MINUTE"): rf"{_NUM}:{_NUM}",
    ("HOUR", "SECOND"): rf"{_NUM}:{_NUM}:{_FRAC}",
    ("MINUTE", "SECOND"): rf"{_NUM}:{_FRAC}",
}
_BOUND = {"MONTH": 11, "HOUR": 23, "MINUTE": 59, "SECOND": 59}  # a field after the first

# extract/date_part field names Spark accepts for intervals
_FIELDS = {
    **dict.fromkeys(("YEAR", "Y", "YEARS", "YR", "YRS"), "YEAR"),
    **dict.fromkeys(("MONTH", "MON", "MONS", "MONTHS"), "MONTH"),
    **dict.fromkeys(("DAY", "D", "DAYS"), "DAY"),
    **dict.fromkeys(("HOUR", "H", "HOURS", "HR", "HRS"), "HOUR"),
    **dict.fromkeys(("MINUTE", "M", "MIN", "MINS", "MINUTES"), "MINUTE"),
    **dict.fromkeys(("SECOND", "S", "SEC", "SECONDS", "SECS"), "SECOND"),
}
_PART_TYPES = {"YEAR": "INTEGER", "MONTH": "TINYINT", "DAY": "INTEGER", "HOUR": "TINYINT"}
_PART_TYPES["MINUTE"] = "TINYINT"


def _refuse(what: str, why: str) -> NotPortableError:
    return NotPortableError(
        what,
        f"Not portable to the Pandas engine: {what}. {why}",
        "write the interval as Spark documents it (INTERVAL '1-2' YEAR TO MONTH, INTERVAL "
        "'1 02:03:04' DAY TO SECOND), or run this step on the Spark engine (engine: spark).",
    )


@on(exp.Neg)
def negated_sum(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # -(a + b) (Spark's `-interval -1 year 1 month` is one literal): sqlglot drops the parens
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Binary):
        return exp.Neg(this=exp.Paren(this=node.this))
    return None


_UNIT_NUMBER = r"\s*([+-]?)\s*(\d+)(?:\.(\d+))?\s*"


@on(exp.Interval)
def interval_span_literal(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # INTERVAL '<text>' <start> TO <end>: DuckDB cannot read the span; Spark's value, exactly.
    # A one-unit literal is normalised too: DuckDB rounds seconds past microseconds (Spark
    # truncates) and overflows its microseconds past 2562047 hours (Spark's limit is higher)
    if not isinstance(node, exp.Interval):
        return None
    span = ty.interval_span(ty.type_of(node))
    if not isinstance(node.unit, exp.IntervalSpan):
        return _one_unit(node, span)
    text = literal_str(node.this)
    if text is None or span is None:
        raise _refuse(f"INTERVAL {node.unit.sql('databricks')}", "its value is not a literal.")
    start, end = span
    m = re.fullmatch(rf"\s*([+-]?){_SPAN_TEXT.get(span, '$^')}\s*", text)  # as Spark trims
    if m is None:
        raise _refuse(
            f"INTERVAL '{text}' {start} TO {end}", "the text is not in Spark's form for the span."
        )
    sign = -1 if m.group(1) == "-" else 1
    if span == ("YEAR", "MONTH"):
        years, months = int(m.group(2)), int(m.group(3))
        if months > _BOUND["MONTH"] or 12 * years + months > MAX_MONTHS:
            raise _refuse(f"INTERVAL '{text}' YEAR TO MONTH", "a field is out of Spark's range.")
        total = sign * (12 * years + months)
        return exp.Interval(this=exp.Literal.string(str(total)), unit=exp.var("MONTH"))
    units = [u for u in ("DAY", "HOUR", "MINUTE", "SECOND") if _between(u, start, end)]
    values = list(m.groups()[1:])
    micros = 0
    for i, unit in enumerate(units):
        n = int(values[i])
        if i and n > _BOUND[unit]:
            raise _refuse(f"INTERVAL '{text}' {start} TO {end}", "a field is out of its range.")
        micros += n * MICROS[unit]
    if end == "SECOND" and values[len(units)]:
        micros += int(values[len(units)][:6].ljust(6, "0"))  # nanoseconds: truncated
    if micros > MAX_MICROS:
        raise _refuse(f"INTERVAL '{text}' {start} TO {end}", "it is out of Spark's range.")
    days, rest = divmod(micros, MICROS["DAY"])
    return exp.Interval(
        this=exp.Literal.string(f"{sign * days} days {sign * rest} microseconds"), unit=None
    )


def _one_unit(node: exp.Interval, span: tuple[str, str] | None) -> exp.Expr | None:
    value = node.this
    text = value.this if isinstance(value, exp.Literal) else None
    m = re.fullmatch(_UNIT_NUMBER, text) if text is not None and span is not None else None
    if m is None or span is None:
        return None  # kept as written
    unit = span[0]
    sign = -1 if m.group(1) == "-" else 1
    whole, frac = int(m.group(2)), m.group(3)
    if frac and unit != "SECOND":
        return None
    if unit in ("YEAR", "MONTH"):
        months = whole * (12 if unit == "YEAR" else 1)
        if months > MAX_MONTHS:
            raise _refuse(f"INTERVAL {text} {unit}", "it is out of Spark's range.")
        return exp.Interval(this=exp.Literal.string(str(sign * months)), unit=exp.var("MONTH"))
    micros = whole * MICROS[unit] + int((frac or "")[:6].ljust(6, "0"))
    if micros > MAX_MICROS:
        raise _refuse(f"INTERVAL {text} {unit}", "it is out of Spark's range.")
    days, rest = divmod(micros, MICROS["DAY"])
    return exp.Interval(
        this=exp.Literal.string(f"{sign * days} days {sign * rest} microseconds"), unit=None
    )


def _between(unit: str, start: str, end: str) -> bool:
    order = ("DAY", "HOUR", "MINUTE", "SECOND")
    return order.index(start) <= order.index(unit) <= order.index(end)


@on(exp.Extract, exp.Anonymous)
def extract_from_interval(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # extract(field FROM interval) / date_part('field', interval): Spark's fields of the total
    found = extract_part(node)
    if found is None:
        return None
    field, source = found
    t = ty.type_of(source)
    span = ty.interval_span(t)
    if span is None:
        if t is None and source.find(exp.Interval):
            raise _refuse("extract from an interval of unknown type", "its fields are unknown.")
        return None
    part = _FIELDS.get(field.upper())
    start, end = span
    ym = start in ("YEAR", "MONTH")
    if part is None or (part in ("YEAR", "MONTH")) != ym or not _in_span(part, start, end):
        raise _refuse(f"extract({field} FROM INTERVAL {start} TO {end})", "Spark rejects it.")
    if ym:
        months = duck("(datepart('year', {x}) * 12 + datepart('month', {x}))", x=source)
        value = duck("{m} // 12" if part == "YEAR" else "{m} % 12", m=months)
        return cast(value, _PART_TYPES[part])
    us = duck("epoch_us({x})", x=source)
    if part == "SECOND":
        return cast(duck("({u} % 60000000) / 1000000.0", u=us), "DECIMAL(8, 6)")
    per = {"DAY": "{u} // 86400000000", "HOUR": "({u} // 3600000000) % 24"}
    per["MINUTE"] = "({u} // 60000000) % 60"
    return cast(duck(per[part], u=us), _PART_TYPES[part])


def _in_span(part: str, start: str, end: str) -> bool:
    order = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")
    return order.index(start) <= order.index(part) <= order.index(end)


@on(exp.Add, exp.Sub)
def datetime_plus_day_time(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # TIMESTAMP +/- a DAY TO SECOND interval moves the session-zone wall time on Spark
    # (12:00 + INTERVAL 48 HOUR is 12:00 two days later across a DST change); DuckDB adds hours
    # to the instant. DATE +/- one with hours, minutes or seconds: from the date's midnight.
    if not isinstance(node, (exp.Add, exp.Sub)):
        return None
    left, right = node.left, node.right
    if isinstance(node, exp.Add) and ty.interval_span(ty.type_of(left)):
        left, right = right, left
    span = ty.interval_span(ty.type_of(right))
    if span is None or span[0] in ("YEAR", "MONTH"):
        return None
    lt = ty.type_of(left)
    if lt is None or lt.this not in (T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPLTZ, T.DATE):
        return None
    if lt.this == T.DATE and span[1] == "DAY":
        return None  # a DATE (time.date_plus_interval)
    op = "+" if isinstance(node, exp.Add) else "-"
    wall = duck(f"CAST({{t}} AS TIMESTAMP) {op} {{i}}", t=left, i=right)
    return earlier_if_ambiguous(cast(wall, "TIMESTAMPTZ"))


@on(exp.Cast, exp.TryCast)
def cast_of_interval(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark prints an interval as its typed literal and casts it by its end field: not built
    if isinstance(node, (exp.Cast, exp.TryCast)) and ty.interval_span(ty.type_of(node.this)):
        raise _refuse("CAST of an interval", "Spark converts it by its fields (not reproduced).")
    return None


_NAIVE = r"\s*\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d{1,9})?)?)?\s*"


@on(exp.Cast, exp.Anonymous)
def to_timestamp_ntz(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # CAST(x AS TIMESTAMP_NTZ) / to_timestamp_ntz(x): DuckDB's naive TIMESTAMP (a wall time)
    if fn_name(node) == "to_timestamp_ntz" and len(node.expressions) == 1:
        x = node.expressions[0]
    elif isinstance(node, exp.Cast) and node.to.this == T.TIMESTAMPNTZ:
        x = node.this
    else:
        return None
    t = ty.type_of(x)
    if t is None:
        raise _refuse("TIMESTAMP_NTZ of an operand of unknown type", "its reading depends on it.")
    if t.this not in STRINGS:
        return cast(x, "TIMESTAMP")  # a date: midnight; a timestamp: its session wall time
    err = spark_error(
        "CAST_INVALID_INPUT",
        "The Pandas engine reads TIMESTAMP_NTZ text only as yyyy-MM-dd[ HH:mm[:ss[.f]]].",
    )
    if isinstance(node, exp.TryCast):
        # as TRY_CAST(s AS TIMESTAMP): NULL for a text of the shape read alike with invalid
        # parts ('2024-02-30') or without a digit (not Spark's special values); other texts
        # fail loudly, since Spark may read them
        return duck(
            f"CASE WHEN {{x}} IS NULL THEN NULL WHEN REGEXP_FULL_MATCH({{x}}, '{_NAIVE}') "
            "THEN {naive} WHEN NOT REGEXP_MATCHES({x}, '[0-9]') AND NOT REGEXP_MATCHES("
            f"lower({{x}}), '{SPECIAL_VALUES}') THEN NULL ELSE {{err}} END",
            x=x,
            naive=exp.TryCast(
                this=duck("trim({x})", x=x), to=ty.build_type("TIMESTAMP", dialect="duckdb")
            ),
            err=err,
        )
    return duck(
        f"CASE WHEN {{x}} IS NULL OR REGEXP_FULL_MATCH({{x}}, '{_NAIVE}') THEN {{naive}} "
        "ELSE {err} END",
        x=x,
        naive=cast(duck("trim({x})", x=x), "TIMESTAMP"),
        err=err,
    )


RULES = [
    negated_sum,
    interval_span_literal,
    extract_from_interval,
    datetime_plus_day_time,
    cast_of_interval,
    to_timestamp_ntz,
]
