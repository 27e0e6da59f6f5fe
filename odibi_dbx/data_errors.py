"""Errors a value causes (ANSI on): Spark's error class, its message and what to do instead.

Both engines fail a node with Spark's error class when a value makes its SQL fail: the Pandas
engine maps DuckDB's errors to Spark's (engines/duck_errors.py), the Spark engine raises them
itself. The hints are the same on both.
"""

from __future__ import annotations

import re

from odibi_dbx.errors import OdibiError, first_line


class DataError(OdibiError):
    """A value makes a SQL step fail as it fails on Spark with ANSI on (division by zero, an
    invalid cast, an overflow, ...): `error_class` is Spark's error class."""

    def __init__(
        self, error_class: str, message: str, hint: str | None = None, detail: str | None = None
    ):
        self.error_class, self.message, self.hint, self.detail = error_class, message, hint, detail
        super().__init__(f"[{error_class}] {message}")


HINTS = {
    "DIVIDE_BY_ZERO": "try_divide(a, b) gives NULL for a zero divisor; or filter the zeros out",
    "CAST_INVALID_INPUT": "try_cast(x AS type) gives NULL for malformed values; or clean the "
    "column first (the story shows a sample of the input)",
    "CAST_OVERFLOW": "try_cast(x AS type) gives NULL when the value does not fit; or cast to a "
    "wider type (BIGINT, DECIMAL(38, 0))",
    "ARITHMETIC_OVERFLOW": "try_add / try_subtract / try_multiply give NULL on overflow; or cast "
    "an operand (or the summed column) to a wider type (BIGINT, DECIMAL(38, 0)) first",
    "NUMERIC_VALUE_OUT_OF_RANGE": "give the decimal more digits (DECIMAL(p, s) with a larger p), "
    "or try_cast(x AS DECIMAL(p, s)) for NULL instead",
    "INVALID_ARRAY_INDEX": "get(arr, i) or try_element_at(arr, i + 1) give NULL for an index "
    "outside the array",
    "INVALID_ARRAY_INDEX_IN_ELEMENT_AT": "try_element_at(arr, i) gives NULL for an index outside "
    "the array",
    "INVALID_INDEX_OF_ZERO": "indexes of element_at/split_part start at 1 (negative ones count "
    "from the end)",
    "DATETIME_FIELD_OUT_OF_BOUNDS": "check the date/time parts (month 1-12, a day that exists in "
    "the month, hour 0-23, minute and second 0-59); try_cast(text AS DATE) or "
    "try_to_timestamp(text, fmt) give NULL for invalid dates",
    "INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX": "the group index must be between 0 and the "
    "number of groups in the pattern",
    "INVALID_PARAMETER_VALUE.PATTERN": "fix the regular expression (Java regex syntax)",
    "SCALAR_SUBQUERY_TOO_MANY_ROWS": "make the subquery return one row (an aggregate, or a "
    "filter on a key), or join instead",
    "INVALID_FRACTION_OF_SECOND": "seconds may have a fraction only below 60",
}


def hint_for(error_class: str) -> str | None:
    return HINTS.get(error_class) or HINTS.get(error_class.split(".")[0])


def data_error_in(exc: BaseException) -> DataError | None:
    """The data error an engine's exception reports with Spark's error class (Spark's own
    exceptions, through py4j or Spark Connect), else None."""
    if isinstance(exc, DataError):
        return exc
    m = _CLASS.match(first_line(exc))
    if m is None or hint_for(m.group(1)) is None:
        return None
    return DataError(m.group(1), m.group(2).strip(), hint_for(m.group(1)))


_CLASS = re.compile(r"^\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\]\s*(.*)$", re.S)
