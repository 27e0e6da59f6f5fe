"""DuckDB's data errors as the errors Spark raises for the same values (ANSI on).

A Spark SQL step on the Pandas engine fails where it fails on Spark: the translation raises
Spark's error where DuckDB would not (`error('[DIVIDE_BY_ZERO] ...')`, sql/rules/ansi.py), and
where DuckDB raises by itself (overflow, invalid cast, invalid date parts) its message is mapped
here to Spark's error class and wording, with a hint (usually the try_* variant). DuckDB's own
text stays in the error's detail.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

from odibi_dbx.data_errors import DataError, hint_for

# DuckDB's physical type names as Spark's SQL type names
_SPARK_TYPES = {
    "INT8": "TINYINT",
    "INT16": "SMALLINT",
    "INT32": "INT",
    "INT64": "BIGINT",
    "INT128": "DECIMAL(38,0)",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "BOOL": "BOOLEAN",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "VARCHAR": "STRING",
}
_LITERAL_SUFFIX = {"TINYINT": "Y", "SMALLINT": "S", "BIGINT": "L"}  # Spark prints 5L, 5S, 5Y
_OVERFLOW_WORD = {"INT8": "byte", "INT16": "short", "INT32": "integer", "INT64": "long"}
_TRY_FOR_OP = {
    "addition": "try_add",
    "subtract": "try_subtract",
    "subtraction": "try_subtract",
    "multiplication": "try_multiply",
}
# the DuckDB exceptions a value can cause (the translation's error() raises InvalidInput)
_DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.InvalidInputException,
)


def spark_data_error(exc: BaseException) -> DataError | None:
    """Spark's error for a DuckDB data error (None for any other error)."""
    if not isinstance(exc, _DATA_ERRORS):
        return None
    body = re.sub(r"^[\w ]+ Error: ", "", str(exc).strip())  # "Conversion Error: ..." -> "..."
    for pattern, build in _MAPPINGS:
        m = pattern.search(body)
        if m:
            error_class, message = build(m)
            own = build is _raised_by_translation  # DuckDB's text is Spark's already
            said = " ".join(body.split("\nLINE ")[0].split())  # not the engine's own SQL
            detail = None if own else f"DuckDB's message: {said}"
            return DataError(error_class, message, hint_for(error_class), detail=detail)
    return None


@contextmanager
def spark_errors() -> Iterator[None]:
    """Re-raise DuckDB data errors as Spark's (DataError); everything else as it is."""
    try:
        yield
    except duckdb.Error as exc:
        mapped = spark_data_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


# -- the mappings: DuckDB message -> (Spark error class, Spark's message) --
Build = Callable[[re.Match[str]], tuple[str, str]]


def _raised_by_translation(m: re.Match[str]) -> tuple[str, str]:
    return m.group(1), m.group(2).strip()


def _spark_type(duck: str) -> str:
    duck = duck.strip()
    if duck.startswith("DECIMAL"):
        return duck.replace(" ", "")
    return _SPARK_TYPES.get(duck, duck)


def _invalid_string(m: re.Match[str]) -> tuple[str, str]:
    value, target = m.group("v"), _spark_type(m.group("t"))
    if target.startswith("DECIMAL") and re.fullmatch(
        r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", value
    ):
        return _decimal_out_of_range(value, target)
    return "CAST_INVALID_INPUT", _cast_invalid(value, "STRING", target)


def _cast_invalid(value: str, source: str, target: str) -> str:
    return (
        f'The value \'{value}\' of the type "{source}" cannot be cast to "{target}" because '
        "it is malformed. Correct the value as per the syntax, or change its target type. Use "
        "`try_cast` to tolerate malformed input and return NULL instead."
    )


def _decimal_out_of_range(value: str, target: str) -> tuple[str, str]:
    p, s = re.findall(r"\d+", target)[:2] or ("38", "0")
    return (
        "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION",
        f"{value.strip()} cannot be represented as Decimal({p}, {s}).",
    )


def _invalid_datetime(m: re.Match[str]) -> tuple[str, str]:
    target = "DATE" if m.group("kind") == "date" else "TIMESTAMP"
    return "CAST_INVALID_INPUT", _cast_invalid(m.group("v"), "STRING", target)


def _cast_overflow(m: re.Match[str]) -> tuple[str, str]:
    source, value, target = m.group("s"), m.group("v"), m.group("t")
    if source == "INT128" and target == "INT64":
        # Spark has no 128-bit integer: the translation sums BIGINTs in one and casts back
        return "ARITHMETIC_OVERFLOW", _overflow_message("long", "try_add")
    spark_source, spark_target = _spark_type(source), _spark_type(target)
    if spark_target.startswith("DECIMAL"):
        return _decimal_out_of_range(value, spark_target)
    shown = value + _LITERAL_SUFFIX.get(spark_source, "")
    return (
        "CAST_OVERFLOW",
        f'The value {shown} of the type "{spark_source}" cannot be cast to "{spark_target}" '
        "due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead.",
    )


def _decimal_cast(m: re.Match[str]) -> tuple[str, str]:
    return _decimal_out_of_range(m.group("v"), m.group("t"))


def _overflow_message(word: str, try_fn: str) -> str:
    return f"{word} overflow. Use '{try_fn}' to tolerate overflow and return NULL instead."


def _arithmetic_overflow(m: re.Match[str]) -> tuple[str, str]:
    op, typ = m.group("op"), m.group("t")
    if typ.startswith(("DECIMAL", "INT128")):  # decimals are computed in DECIMAL/INT128
        return "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION", (
            f"The result of the decimal {op} does not fit DECIMAL(38) (at most 38 digits)."
        )
    word = _OVERFLOW_WORD.get(typ, "integer")
    return "ARITHMETIC_OVERFLOW", _overflow_message(word, _TRY_FOR_OP.get(op, "try_add"))


def _other_overflow(m: re.Match[str]) -> tuple[str, str]:
    return "ARITHMETIC_OVERFLOW", "Overflow."


def _date_parts(m: re.Match[str]) -> tuple[str, str]:
    year, month, day = (int(x) for x in m.groups())
    if not 1 <= month <= 12:
        return _field("MonthOfYear", "1 - 12", month)
    if not 1 <= day <= 31:
        return _field("DayOfMonth", "1 - 28/31", day)
    if day > calendar.monthrange(2000 if year == 0 else year, month)[1]:
        if (month, day) == (2, 29):
            return "DATETIME_FIELD_OUT_OF_BOUNDS", (
                f"Invalid date 'February 29' as '{year}' is not a leap year."
            )
        return "DATETIME_FIELD_OUT_OF_BOUNDS", (
            f"Invalid date '{calendar.month_name[month].upper()} {day}'."
        )
    return _field("Year", "-999999999 - 999999999", year)


def _time_parts(m: re.Match[str]) -> tuple[str, str]:
    hour, minute, second = int(m.group(1)), int(m.group(2)), float(m.group(3))
    if not 0 <= hour <= 23:
        return _field("HourOfDay", "0 - 23", hour)
    if not 0 <= minute <= 59:
        return _field("MinuteOfHour", "0 - 59", minute)
    return _field("SecondOfMinute", "0 - 59", int(second))


def _field(name: str, valid: str, value: int) -> tuple[str, str]:
    return (
        "DATETIME_FIELD_OUT_OF_BOUNDS",
        f"Invalid value for {name} (valid values {valid}): {value}.",
    )


def _too_many_rows(m: re.Match[str]) -> tuple[str, str]:
    return (
        "SCALAR_SUBQUERY_TOO_MANY_ROWS",
        "More than one row returned by a subquery used as an expression.",
    )


def _bad_pattern(m: re.Match[str]) -> tuple[str, str]:
    return "INVALID_PARAMETER_VALUE.PATTERN", f"The regular expression is invalid: {m.group(1)}."


_MAPPINGS: list[tuple[re.Pattern[str], Build]] = [
    # raised by the translation itself: error('[CLASS] message')
    (re.compile(r"^\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\]\s*(.*)$", re.S), _raised_by_translation),
    (
        re.compile(
            r"Could not convert string ['\"](?P<v>.*?)['\"] to (?P<t>[A-Z0-9_]+(?:\(\d+,\s*\d+\))?)",
            re.S,
        ),
        _invalid_string,
    ),
    (
        re.compile(r"invalid (?P<kind>date|timestamp) field format: \"(?P<v>.*?)\"", re.S),
        _invalid_datetime,
    ),
    (
        re.compile(r"(?P<kind>date|timestamp) field value out of range: \"(?P<v>.*?)\"", re.S),
        _invalid_datetime,
    ),
    (
        re.compile(
            r"Type (?P<s>[A-Z0-9]+) with value (?P<v>\S+) can't be cast because the value is out "
            r"of range for the destination type (?P<t>[A-Z0-9_]+(?:\(\d+,\s*\d+\))?)"
        ),
        _cast_overflow,
    ),
    (re.compile(r"Could not cast value (?P<v>\S+) to (?P<t>DECIMAL\(\d+,\s*\d+\))"), _decimal_cast),
    (re.compile(r"Overflow in (?P<op>\w+) of (?P<t>[A-Z0-9_]+)"), _arithmetic_overflow),
    (re.compile(r"Overflow (in|on) "), _other_overflow),
    (re.compile(r"Date out of range: (-?\d+)-(\d+)-(\d+)"), _date_parts),
    (re.compile(r"Time out of range: (\d+):(\d+):([\d.]+)"), _time_parts),
    (re.compile(r"More than one row returned by a subquery"), _too_many_rows),
    # a pattern Java's regex rejects too (RE2's missing features, e.g. look-ahead, are not)
    (
        re.compile(
            r"^(?:Pattern failed to parse, error: ')?((?:missing [\])]|unexpected \)|trailing \\|"
            r"bad repetition operator|missing argument to repetition operator)[^'\n]*)"
        ),
        _bad_pattern,
    ),
]
