"""Dates and timestamps. Spark TIMESTAMP is an instant shown in the session zone: DuckDB
TIMESTAMPTZ with `SET TimeZone` = spark.sql.session.timeZone. Rules keep that contract."""

from __future__ import annotations

import re

from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.formats import java_to_strftime
from odibi_dbx.sql.parse import UNIT_WRITTEN
from odibi_dbx.sql.rules.ansi import spark_error
from odibi_dbx.sql.rules.base import (
    STRINGS,
    TIMESTAMPS,
    Context,
    T,
    cast,
    duck,
    fn_name,
    is_a,
    literal_str,
    on,
)

_PARSERS = (exp.StrToTime, exp.StrToDate, exp.TsOrDsToDate, exp.StrToUnix)
_FORMATTERS = (exp.TimeToStr, exp.UnixToStr)


@on(*_PARSERS, *_FORMATTERS)
def java_datetime_patterns(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark patterns are Java DateTimeFormatter letters; DuckDB wants strftime directives
    if isinstance(node, (*_PARSERS, *_FORMATTERS)):
        fmt = node.args.get("format")
        if fmt is None:
            return None
        text = literal_str(fmt)
        if text is None:
            raise NotPortableError(
                "datetime pattern",
                "A datetime pattern must be a string literal on the Pandas engine.",
                "write the pattern as a literal, e.g. 'yyyy-MM-dd'.",
            )
        parsing = isinstance(node, _PARSERS)
        node.set("format", exp.Literal.string(java_to_strftime(text, parsing=parsing)))
        if parsing and re.search(r"(?<!y)yy(?!y)", re.sub(r"'(?:[^']|'')*'", "", text)):
            if isinstance(node, exp.StrToUnix):
                raise java_to_strftime_error(text)
            node.meta[TWO_DIGIT_YEAR] = True  # see two_digit_year_in_2000s
        return node
    return None


TWO_DIGIT_YEAR = "spark_yy"


def two_digit_year_in_2000s(parsed: exp.Expr, original: exp.Expr) -> exp.Expr:
    """Spark reads 'yy' as 2000-2099; DuckDB's %y as 1969-2068: move 1969-1999 up a century."""
    fixed = duck("CASE WHEN year({r}) < 2000 THEN {r} + INTERVAL 100 YEAR ELSE {r} END", r=parsed)
    if isinstance(original, (exp.StrToDate, exp.TsOrDsToDate)):
        fixed = exp.Cast(this=fixed, to=ty.build_type("DATE"))
    return fixed


def java_to_strftime_error(pattern: str) -> NotPortableError:
    return NotPortableError(
        "datetime pattern",
        f"The datetime pattern '{pattern}' uses a two-digit year 'yy' in unix_timestamp, which "
        "the Pandas engine cannot reproduce exactly.",
        "parse with to_timestamp(s, pattern) first, then unix_timestamp() of the result.",
    )


def earlier_if_ambiguous(instant: exp.Expr) -> exp.Expr:
    """A wall time read in the session zone that occurs twice (DST end): Java takes the
    earlier instant, DuckDB the later one."""
    return duck(
        "CASE WHEN CAST({c} - INTERVAL 1 HOUR AS TIMESTAMP) = CAST({c} AS TIMESTAMP) "
        "THEN {c} - INTERVAL 1 HOUR ELSE {c} END",
        c=instant,
    )


SPECIAL_VALUES = r"^\s*(epoch|now|today|yesterday|tomorrow)"  # Spark's special datetime values
_NAIVE_TEXT = r"\s*\d{4}-\d\d?-\d\d?([ T]\d\d?:\d\d(:\d\d(\.\d+)?)?)?\s*"


@on(exp.Cast)
def string_to_timestamp(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # CAST(s AS TIMESTAMP) / to_timestamp(s): an instant in the session zone (sqlglot gives a
    # naive TIMESTAMP for to_timestamp); wall times without an offset take the earlier instant
    if not (isinstance(node, exp.Cast) and node.to.this in (T.TIMESTAMP, T.TIMESTAMPTZ)):
        return None
    x = node.this
    tz = exp.Cast(this=x, to=ty.build_type("TIMESTAMPTZ"))
    if not is_a(x, *STRINGS):
        return tz if node.to.this == T.TIMESTAMP else None
    if isinstance(node, exp.TryCast):
        # a text of the shape both parsers read alike gives NULL when its parts are invalid
        # ('2024-02-30'), a text without a digit ('', 'n/a') too, as on Spark, unless it is one
        # of Spark's special values ('now', read from a literal); other texts keep the plain
        # cast, which fails loudly where Spark reads forms DuckDB does not ('2024', '10:00')
        return duck(
            f"CASE WHEN REGEXP_FULL_MATCH({{x}}, '{_NAIVE_TEXT}') THEN {{fixed}} "
            "WHEN NOT REGEXP_MATCHES({x}, '[0-9]') AND NOT REGEXP_MATCHES(lower({x}), "
            f"'{SPECIAL_VALUES}') THEN NULL ELSE {{tz}} END",
            x=x,
            fixed=earlier_if_ambiguous(exp.TryCast(this=x.copy(), to=tz.to.copy())),
            tz=tz,
        )
    return duck(
        f"CASE WHEN REGEXP_FULL_MATCH({{x}}, '{_NAIVE_TEXT}') THEN {{fixed}} ELSE {{tz}} END",
        x=x,
        fixed=earlier_if_ambiguous(tz),
        tz=tz,
    )


@on(exp.StrToTime)
def to_timestamp_with_format(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # STRPTIME gives a naive wall time (unless the pattern has an offset); Spark reads it in
    # the session zone
    if isinstance(node, exp.StrToTime):
        fmt = literal_str(node.args.get("format")) or ""
        if "%z" in fmt:
            return cast(node, "TIMESTAMPTZ")
        return earlier_if_ambiguous(cast(node, "TIMESTAMPTZ"))
    return None


@on(exp.Cast)
def timestamp_to_string(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # DuckDB prints TIMESTAMPTZ with an offset ('+00'); Spark prints the session wall time only
    if isinstance(node, exp.Cast) and node.to.this in (T.VARCHAR, T.TEXT):
        if is_a(node.this, *TIMESTAMPS):
            return cast(cast(node.this, "TIMESTAMP"), "VARCHAR")
    return None


@on(exp.Cast)
def double_to_string(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark prints doubles like Java (1.0E7, 1.0E-4, NaN); DuckDB prints 10000000.0, 0.0001, nan
    if isinstance(node, exp.Cast) and node.to.this in (T.VARCHAR, T.TEXT):
        if is_a(node.this, T.DOUBLE, T.FLOAT):
            return java_double_string(node.this)
    return None


def java_double_string(x: exp.Expr) -> exp.Expr:
    """Java's Double.toString in DuckDB SQL (shortest digits, E notation outside [1e-3, 1e7))."""
    return duck(
        "CASE WHEN {x} IS NULL THEN NULL WHEN ISNAN({x}) THEN 'NaN' "
        "WHEN ISINF({x}) THEN CASE WHEN {x} > 0 THEN 'Infinity' ELSE '-Infinity' END "
        "WHEN {x} = 0 OR (ABS({x}) >= 1e-3 AND ABS({x}) < 1e7) THEN CAST({x} AS VARCHAR) "
        "ELSE (CASE WHEN {x} < 0 THEN '-' ELSE '' END) || {m} END",
        x=x,
        m=_java_sci(duck("CAST(ABS({x}) AS VARCHAR)", x=x)),
    )


def _java_sci(s: exp.Expr) -> exp.Expr:
    # digits and exponent from DuckDB's shortest repr, either '1.5e-05' or '12345678.9'
    digits = duck(
        "CASE WHEN CONTAINS({s}, 'e') THEN REPLACE(SPLIT_PART({s}, 'e', 1), '.', '') "
        "ELSE RTRIM(LTRIM(REPLACE({s}, '.', ''), '0'), '0') END",
        s=s,
    )
    exponent = duck(
        "CASE WHEN CONTAINS({s}, 'e') THEN CAST(SPLIT_PART({s}, 'e', 2) AS INTEGER) "
        "WHEN STARTS_WITH({s}, '0.') THEN -(LENGTH(SPLIT_PART({s}, '.', 2)) "
        "- LENGTH(LTRIM(SPLIT_PART({s}, '.', 2), '0')) + 1) "
        "ELSE LENGTH(SPLIT_PART({s}, '.', 1)) - 1 END",
        s=s,
    )
    return duck(
        "LEFT({d}, 1) || '.' || COALESCE(NULLIF(RTRIM(SUBSTRING({d}, 2), '0'), ''), '0') "
        "|| 'E' || CAST({e} AS VARCHAR)",
        d=digits,
        e=exponent,
    )


@on(exp.Concat, exp.ConcatWs, exp.DPipe)
def implicit_string_in_concat(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # concat/|| cast timestamps and doubles to string implicitly: same printing as CAST
    if isinstance(node, (exp.Concat, exp.ConcatWs, exp.DPipe)):
        changed = False
        for child in list(node.iter_expressions()):
            if is_a(child, *TIMESTAMPS):
                child.replace(cast(cast(child.copy(), "TIMESTAMP"), "VARCHAR"))
                changed = True
            elif is_a(child, T.DOUBLE, T.FLOAT):
                child.replace(java_double_string(child.copy()))
                changed = True
        return node if changed else None
    return None


_TRUNC_UNITS = {
    "YEAR": "year",
    "YYYY": "year",
    "YY": "year",
    "QUARTER": "quarter",
    "MONTH": "month",
    "MM": "month",
    "MON": "month",
    "WEEK": "week",
}


@on(exp.DateTrunc)
def trunc_date(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark trunc(date, fmt) returns DATE and accepts 'MM'/'MON'/'YY' spellings
    if isinstance(node, exp.DateTrunc):
        written = node.args.get("unit")
        unit = (literal_str(written) or (written.name if written else "")).upper()
        if unit not in _TRUNC_UNITS:
            raise NotPortableError(
                f"trunc({unit})",
                f"trunc(date, '{unit}') is not supported on the Pandas engine.",
                "use one of YEAR, QUARTER, MONTH, WEEK (or date_trunc for timestamps).",
            )
        return duck(
            "CAST(DATE_TRUNC('{u}', CAST({d} AS DATE)) AS DATE)", u=_TRUNC_UNITS[unit], d=node.this
        )
    return None


@on(exp.TsOrDsAdd)
def date_add_returns_date(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # date + INTERVAL n DAY is a TIMESTAMP in DuckDB; Spark date_add/date_sub return DATE
    if isinstance(node, exp.TsOrDsAdd):
        written = node.args.get("unit")
        unit = (written.name if written else "DAY").upper()
        if unit == "DAY":
            return duck("CAST({d} AS DATE) + CAST({n} AS INTEGER)", d=node.this, n=node.expression)
    return None


@on(exp.DateDiff)
def datediff_int(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark datediff(end, start) is INT and compares calendar dates in the session zone
    if isinstance(node, exp.DateDiff) and UNIT_WRITTEN not in node.meta:
        return duck(
            "CAST(DATE_DIFF('day', CAST({b} AS DATE), CAST({a} AS DATE)) AS INTEGER)",
            a=node.this,
            b=node.expression,
        )
    return None


@on(exp.DateDiff, exp.TimestampDiff)
def timestampdiff_complete_units(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # date_diff(unit, start, end) / timestampdiff: BIGINT count of *complete* units between the
    # wall times in the session zone (Java ChronoUnit.between); DuckDB DATE_DIFF counts the
    # boundaries crossed instead, DATE_SUB counts complete units
    if isinstance(node, (exp.DateDiff, exp.TimestampDiff)) and UNIT_WRITTEN in node.meta:
        unit = node.args["unit"].name.lower()
        end, start = (
            a.this if isinstance(a, exp.TsOrDsToDate) else a for a in (node.this, node.expression)
        )
        return duck(
            "DATE_SUB('{u}', CAST(CAST({s} AS TIMESTAMPTZ) AS TIMESTAMP),"
            " CAST(CAST({e} AS TIMESTAMPTZ) AS TIMESTAMP))",
            u=unit,
            s=start,
            e=end,
        )
    return None


@on(exp.AddMonths)
def add_months_date(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # DuckDB date + INTERVAL n MONTH is a TIMESTAMP (end-of-month clamping matches Spark)
    if isinstance(node, exp.AddMonths):
        return duck(
            "CAST(CAST({d} AS DATE) + TO_MONTHS(CAST({n} AS INTEGER)) AS DATE)",
            d=node.this,
            n=node.expression,
        )
    return None


@on(exp.MonthsBetween)
def months_between_spark(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark's formula: whole months when same day or both month ends, else a 31-day fraction
    # including the time of day, rounded to 8 digits unless roundOff=false
    if not isinstance(node, exp.MonthsBetween):
        return None
    round_off = node.args.get("roundoff")
    a = duck("CAST(CAST({x} AS TIMESTAMPTZ) AS TIMESTAMP)", x=node.this)
    b = duck("CAST(CAST({x} AS TIMESTAMPTZ) AS TIMESTAMP)", x=node.expression)
    body = duck(
        "CASE WHEN DAY({a}) = DAY({b}) OR (CAST({a} AS DATE) = LAST_DAY({a}) "
        "AND CAST({b} AS DATE) = LAST_DAY({b})) "
        "THEN CAST((YEAR({a}) * 12 + MONTH({a})) - (YEAR({b}) * 12 + MONTH({b})) AS DOUBLE) "
        "ELSE ((YEAR({a}) * 12 + MONTH({a})) - (YEAR({b}) * 12 + MONTH({b}))) + "
        "((DAY({a}) - DAY({b})) * 86400 + (FLOOR(EPOCH({a})) - EPOCH(DATE_TRUNC('day', {a}))) "
        "- (FLOOR(EPOCH({b})) - EPOCH(DATE_TRUNC('day', {b})))) / 2678400.0 END",
        a=a,
        b=b,
    )
    if isinstance(round_off, exp.Boolean) and not round_off.this:
        return body
    return duck("FLOOR({x} * 1e8 + 0.5) / 1e8", x=exp.Paren(this=body))


@on(exp.DayOfWeek, exp.Anonymous)
def day_of_week_spark(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark dayofweek: 1 = Sunday .. 7; DuckDB: 0 = Sunday. weekday: 0 = Monday
    if isinstance(node, exp.DayOfWeek):
        return duck("CAST(DAYOFWEEK(CAST({d} AS DATE)) + 1 AS INTEGER)", d=node.this)
    if fn_name(node) == "weekday":
        return duck("CAST(ISODOW(CAST({d} AS DATE)) - 1 AS INTEGER)", d=node.expressions[0])
    return None


_INT_PARTS = (
    exp.DayOfMonth,
    exp.DayOfYear,
    exp.WeekOfYear,
    exp.Month,
    exp.Year,
    exp.Quarter,
    exp.Hour,
    exp.Minute,
)


_SECONDS = {"SECOND", "S", "SEC", "SECONDS", "SECS"}
_EXTRACT_AS = {  # Spark field -> DuckDB expression of the datetime {x}
    **dict.fromkeys(("DAYOFWEEK", "DOW"), "EXTRACT(DOW FROM {x}) + 1"),  # 1 = Sunday
    **dict.fromkeys(("DAYOFWEEK_ISO", "DOW_ISO"), "EXTRACT(ISODOW FROM {x})"),
}


def extract_part(node: exp.Expr) -> tuple[str, exp.Expr] | None:
    """(FIELD, source) of extract(field FROM x) / date_part('field', x) / datepart(...);
    the field is '' when not a literal."""
    if isinstance(node, exp.Extract):
        return node.this.name.upper(), node.expression
    if fn_name(node) in ("date_part", "datepart") and len(node.expressions) == 2:
        return (literal_str(node.expressions[0]) or "").upper(), node.expressions[1]
    return None


@on(*_INT_PARTS, exp.Second, exp.Extract, exp.Anonymous)
def date_part_int(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark date-part functions return INT (DuckDB: BIGINT); second() too. extract(SECOND ...)
    # is DECIMAL(8,6) with the fraction; dayofweek counts from 1 = Sunday
    if isinstance(node, _INT_PARTS) or (isinstance(node, exp.Second)):
        return cast(node, "INTEGER")
    part = extract_part(node)
    if part is None or not part[0]:
        return None
    unit, source = part
    if unit in _SECONDS:
        if not is_a(source, *TIMESTAMPS, T.TIMESTAMPNTZ):
            return None
        return cast(duck("EXTRACT(MICROSECONDS FROM {x}) / 1000000.0", x=source), "DECIMAL(8, 6)")
    if unit in _EXTRACT_AS:
        return cast(duck(_EXTRACT_AS[unit], x=source), "INTEGER")
    return cast(exp.Extract(this=exp.var(unit), expression=source), "INTEGER")


_TIME_FIELDS = {"HOUR", "H", "HOURS", "HR", "HRS", "MINUTE", "M", "MIN", "MINS", "MINUTES"}
_TIME_FIELDS |= {"SECOND", "S", "SEC", "SECONDS", "SECS"}


@on(exp.Extract, exp.Anonymous)
def extract_from_string(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # extract(field FROM s) / date_part('field', s) of a string: Spark casts s to DATE for the
    # date fields and to TIMESTAMP (read in the session zone) for hour, minute and second
    part = extract_part(node)
    if part is None or not part[0] or not is_a(part[1], *STRINGS):
        return None
    field, source = part
    to = "TIMESTAMP" if field in _TIME_FIELDS else "DATE"
    typed = exp.Cast(this=source.copy(), to=ty.build_type(to, dialect="databricks"))
    typed.meta[ty.KEY] = typed.to
    converted = (string_to_timestamp(typed, ctx) if to == "TIMESTAMP" else None) or typed
    converted.meta[ty.KEY] = typed.to
    new = exp.Extract(this=exp.var(field), expression=converted)
    new.meta.update(node.meta)
    return date_part_int(new, ctx) or new


@on(exp.StrToUnix)
def unix_timestamp_spark(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # unix_timestamp(ts|date) is the instant's seconds; of a string it parses in the session zone
    if not isinstance(node, exp.StrToUnix):
        return None
    x = node.this
    if x is None:
        return duck("CAST(TRUNC(EPOCH(CURRENT_TIMESTAMP)) AS BIGINT)")
    if is_a(x, *TIMESTAMPS, T.DATE):
        return duck("CAST(TRUNC(EPOCH(CAST({x} AS TIMESTAMPTZ))) AS BIGINT)", x=x)
    fmt = node.args.get("format")
    parsed = exp.StrToTime(this=x, format=fmt) if fmt is not None else x
    return duck("CAST(TRUNC(EPOCH(CAST({p} AS TIMESTAMPTZ))) AS BIGINT)", p=parsed)


@on(exp.Anonymous)
def timestamp_seconds(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # timestamp_seconds(n) -> the instant n seconds after the epoch
    if fn_name(node) == "timestamp_seconds":
        return duck("TO_TIMESTAMP({n})", n=node.expressions[0])
    return None


def local_to_instant(wall: exp.Expr, zone: exp.Expr) -> exp.Expr:
    """Wall time in `zone` -> instant, choosing the earlier offset when ambiguous (like Java)."""
    return duck(
        "CASE WHEN TIMEZONE({z}, TIMEZONE({z}, {w}) - INTERVAL 1 HOUR) = {w} "
        "THEN TIMEZONE({z}, {w}) - INTERVAL 1 HOUR ELSE TIMEZONE({z}, {w}) END",
        z=zone,
        w=wall,
    )


@on(exp.AtTimeZone)
def from_utc_timestamp(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark: take the instant's wall time in `zone`, read it as UTC
    if isinstance(node, exp.AtTimeZone):
        ts = node.this.this if isinstance(node.this, exp.Cast) else node.this
        return duck(
            "TIMEZONE('UTC', TIMEZONE({z}, CAST({t} AS TIMESTAMPTZ)))", z=node.args["zone"], t=ts
        )
    return None


@on(exp.FromTimeZone)
def to_utc_timestamp(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark: take the instant's wall time in UTC, read it in `zone`
    if isinstance(node, exp.FromTimeZone):
        ts = node.this.this if isinstance(node.this, exp.Cast) else node.this
        wall = duck("TIMEZONE('UTC', CAST({t} AS TIMESTAMPTZ))", t=ts)
        return local_to_instant(wall, node.args["zone"])
    return None


@on(exp.TimestampFromParts)
def make_timestamp_tz(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # make_timestamp builds a wall time in the session zone
    if isinstance(node, exp.TimestampFromParts) and not node.args.get("zone"):
        sec = node.args.get("sec")
        if sec is not None and not isinstance(sec, exp.Null):
            # Spark takes 60 as the next minute, but 60 with a fraction is an error
            node.set(
                "sec",
                duck(
                    "CASE WHEN {s} > 60 AND {s} < 61 THEN {err} ELSE {s} END",
                    s=sec,
                    err=spark_error(
                        "INVALID_FRACTION_OF_SECOND",
                        "Valid range for seconds is [0, 60] (inclusive), but the provided value"
                        " has a fraction of a second with 60.",
                    ),
                ),
            )
        return cast(node, "TIMESTAMPTZ")
    return None


@on(exp.Add, exp.Sub)
def date_plus_interval(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # DATE +/- INTERVAL n DAY|MONTH|YEAR stays a DATE in Spark (TIMESTAMP in DuckDB)
    if isinstance(node, (exp.Add, exp.Sub)) and is_a(node.left, T.DATE):
        iv = node.right
        span = ty.interval_span(ty.type_of(iv))
        if span is not None and span[1] in ("YEAR", "MONTH", "DAY"):
            return cast(node, "DATE")  # Spark's YEAR TO MONTH / DAY intervals keep a DATE
        if isinstance(iv, exp.Interval):
            unit = iv.unit.name.upper() if iv.unit else ""
            if unit.rstrip("S") in ("DAY", "WEEK", "MONTH", "YEAR"):
                return cast(node, "DATE")
    return None


@on(exp.GenerateSeries)
def sequence_dates(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # sequence(date, date[, step]) gives DATE[]; sequence(int, int) gives INT[] in Spark
    if not isinstance(node, exp.GenerateSeries):
        return None
    start, end, step = node.args.get("start"), node.args.get("end"), node.args.get("step")
    if start is None or end is None:
        return None
    if is_a(start, T.DATE) and is_a(end, T.DATE):
        step = (
            step
            if step is not None
            else exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY"))
        )
        return duck(
            "CAST(GENERATE_SERIES(CAST({a} AS TIMESTAMP), CAST({b} AS TIMESTAMP), {s}) AS DATE[])",
            a=start,
            b=end,
            s=step,
        )
    if is_a(start, T.INT) and is_a(end, T.INT) and (step is None or is_a(step, T.INT)):
        return cast(node, "INTEGER[]")
    return None


RULES = [
    java_datetime_patterns,
    string_to_timestamp,
    to_timestamp_with_format,
    timestamp_to_string,
    double_to_string,
    implicit_string_in_concat,
    trunc_date,
    date_add_returns_date,
    datediff_int,
    timestampdiff_complete_units,
    add_months_date,
    months_between_spark,
    day_of_week_spark,
    extract_from_string,
    date_part_int,
    unix_timestamp_spark,
    timestamp_seconds,
    from_utc_timestamp,
    to_utc_timestamp,
    make_timestamp_tz,
    date_plus_interval,
    sequence_dates,
]
