"""The allow-list of the Pandas engine's SQL: every construct it accepts, and advice for others.

A Spark SQL step runs on the Pandas engine only when each of its constructs (function,
operator, cast, type, clause: sqlglot's node kinds, unmapped functions by name) is listed in
ALLOWED, and each operand whose type the translator infers has a kind the entry was verified
for. The list was derived (tests/sql/allowed_derive.py) from what is proven to give Spark's
values and types: Spark 4.0.1's golden files run through the engine, and the parity corpus.
Everything else is refused at validation (odibi_dbx.sql.allowlist) with the advice below, or
a generic one (rewrite, or `engine: spark`).

Kinds: int (TINYINT..BIGINT), decimal, double (FLOAT/DOUBLE), string, boolean, date,
timestamp, binary, array, map, struct, null, interval. `result`: the Spark result types seen
(a top-level column's type as Spark printed it, or the type the translator infers).
"""

from __future__ import annotations

from typing import NamedTuple

ANY = ("any",)  # operand kinds of constructs whose result does not depend on them


class Allowed(NamedTuple):
    spark: str  # how Spark SQL spells it
    operands: dict[str, tuple[str, ...]]  # argument -> operand kinds verified
    result: tuple[str, ...] = ()  # Spark result types seen


# construct -> (why, what to write instead)
REFUSED: dict[str, tuple[str, str]] = {
    "hash": (
        "hash() is Spark's Murmur3; DuckDB has no equal function.",
        "build keys with md5(...) or sha2(..., 256) over concat_ws('|', ...).",
    ),
    "xxhash64": (
        "xxhash64() has no equal function in DuckDB.",
        "build keys with md5(...) or sha2(..., 256) over concat_ws('|', ...).",
    ),
    "approx_count_distinct": (
        "approx_count_distinct() is a HyperLogLog estimate whose value differs between engines.",
        "use count(DISTINCT x).",
    ),
    "percentile_approx": (
        "percentile_approx()/approx_percentile() pick different values on each engine.",
        "use percentile(x, p) (exact, interpolated).",
    ),
    "to_json": (
        "to_json() formats numbers, NULL fields and nesting differently in DuckDB.",
        "keep the columns (or a struct) and serialise when writing, or build the "
        "string with concat/format_string.",
    ),
    "stack": (
        "stack() has no DuckDB equivalent.",
        "UNION ALL one SELECT per group, or use UNPIVOT.",
    ),
    "inline": (
        "inline() has no DuckDB equivalent.",
        "LATERAL VIEW explode(arr) t AS s, then select s.field1, s.field2.",
    ),
    "posexplode OUTER": (
        "posexplode_outer / LATERAL VIEW OUTER posexplode cannot be made "
        "to keep Spark's NULL rows on DuckDB.",
        "use LATERAL VIEW posexplode(...) and LEFT JOIN back to the source.",
    ),
    "json_tuple": (
        "json_tuple() has no DuckDB equivalent.",
        "use get_json_object(col, '$.field') once per field.",
    ),
    "implicit string/number comparison": (
        "comparing (or doing arithmetic on) a string with a number converts differently on "
        "each engine "
        "(and fails on dirty values only on one).",
        "CAST the string side explicitly, e.g. CAST(code AS INT) = 1 or id = CAST('1' AS INT).",
    ),
    "format_number": (
        "format_number() has no equal function in DuckDB.",
        "use round() and CAST(... AS STRING), or format in the reporting layer.",
    ),
    "mode": (
        "mode() breaks ties between equally frequent values differently on each engine.",
        "count per value and pick with max_by/ORDER BY ... LIMIT 1 and an explicit tie-breaker.",
    ),
    "skewness/kurtosis": (
        "DuckDB's skewness()/kurtosis() use the sample formulas; Spark's the population ones.",
        "compute the moments with avg() and power(), or run this step on the Spark engine.",
    ),
    "percentile WITHIN GROUP (ORDER BY ... DESC)": (
        "DuckDB ignores DESC in percentile_cont/percentile_disc WITHIN GROUP.",
        "use percentile(x, 1 - p) with ascending order.",
    ),
    "UNPIVOT": (
        "UNPIVOT is not translated to DuckDB correctly.",
        "UNION ALL one SELECT per unpivoted column.",
    ),
    "PIVOT on a table name": (
        "PIVOT directly on a table is dropped by the translation.",
        "PIVOT a subquery that selects the grouping, pivot and value columns: "
        "FROM (SELECT k, year, v FROM t) PIVOT (...).",
    ),
    "shift mixed with &, | or ^": (
        "the precedence of << and >> against &, | and ^ differs between the engines.",
        "add parentheses: 1 & (2 >> 1).",
    ),
    "lambda with an index": (
        "transform/filter lambdas with an index argument (x, i) count from 1 on DuckDB.",
        "use a one-argument lambda, or zip the array with sequence(0, size(arr) - 1).",
    ),
    "ordinal in GROUPING SETS": (
        "GROUPING SETS mixing column ordinals and names are grouped differently by DuckDB.",
        "name the columns instead of their positions.",
    ),
    "empty or NULL split delimiter": (
        "split/split_part with an empty or NULL delimiter give other results on DuckDB.",
        "handle the empty delimiter with CASE, or split on an explicit separator.",
    ),
    "index 0": (
        "index 0 is invalid in Spark (INVALID_INDEX_OF_ZERO): the query always fails there.",
        "array positions count from 1 (negative ones from the end).",
    ),
    "fractional timestamp_seconds": (
        "timestamp_seconds() of a fractional number rounds on DuckDB; Spark truncates or raises.",
        "timestamp_seconds(CAST(x AS BIGINT)), or timestamp_millis/timestamp_micros of integers.",
    ),
    "avg of dates or timestamps": (
        "avg() of dates or timestamps is computed differently on each engine.",
        "avg(unix_timestamp(ts)) and convert back with timestamp_seconds().",
    ),
    "decimal div/try_divide": (
        "div and try_divide of decimals round and type their results differently on DuckDB.",
        "CAST the operands to BIGINT (div) or use `/` (exact decimal division).",
    ),
    "decimal widening in a set operation": (
        "UNION/EXCEPT/INTERSECT of a decimal with a BIGINT, a FLOAT or a string, or of decimals "
        "needing more than 38 digits, widen to another type on DuckDB.",
        "CAST each branch's column to the same DECIMAL(p,s).",
    ),
    "typeof": (
        "typeof() names the types differently on each engine.",
        "compare the column types in the story, or run this step on the Spark engine.",
    ),
    "to_binary": (
        "to_binary() is translated with another meaning.",
        "use unhex(), encode() or CAST(... AS BINARY).",
    ),
    "date/timestamp subtraction": (
        "subtracting dates or timestamps gives a Spark INTERVAL, which has no DuckDB equal.",
        "use datediff(end, start) or unix_timestamp(end) - unix_timestamp(start).",
    ),
    "quoted datetime unit": (
        "Spark rejects a quoted unit in date_diff/datediff/timestampdiff "
        "(INVALID_PARAMETER_VALUE.DATETIME_UNIT).",
        "write the unit as a keyword: date_diff(DAY, start, end).",
    ),
    "get_json_object wildcard": (
        "get_json_object with a wildcard, filter or slice path returns a list on DuckDB.",
        "read each element with an explicit path such as '$.a[0].b', or use from_json with an "
        "ARRAY schema.",
    ),
    "GROUPING without ROLLUP/CUBE/GROUPING SETS": (
        "Spark rejects grouping()/grouping_id() under a plain GROUP BY "
        "(UNSUPPORTED_GROUPING_EXPRESSION).",
        "use GROUP BY ROLLUP/CUBE/GROUPING SETS, or drop grouping(): it is 0 on every row.",
    ),
    "window function without ORDER BY": (
        "Spark rejects row_number/rank/dense_rank/percent_rank/cume_dist/ntile/lag/lead over a "
        "window without ORDER BY; DuckDB answers in an arbitrary order.",
        "add ORDER BY to the window (OVER (PARTITION BY k ORDER BY ts)).",
    ),
    "ordered window of a percentile": (
        "Spark rejects median/percentile_cont/percentile_disc/percentile over a window with "
        "ORDER BY or a frame (INVALID_WINDOW_SPEC_FOR_AGGREGATION_FUNC).",
        "OVER (PARTITION BY ...) only, or aggregate with GROUP BY and join back.",
    ),
    "FILTER in a window": (
        "Spark rejects an aggregate with FILTER (WHERE ...) over a window.",
        "sum(CASE WHEN cond THEN x END) OVER (...), or count_if(cond) OVER (...).",
    ),
    "count() without a column": (
        "Spark rejects count() without arguments and count(t.*) (WRONG_NUM_ARGS).",
        "count(*) or count(col).",
    ),
    "date_add with BIGINT days": (
        "Spark's date_add/date_sub take INT days and reject a BIGINT (DATATYPE_MISMATCH).",
        "CAST(days AS INT), or an INT literal (1, not 1L).",
    ),
    "interval (x) unit": (
        "Spark reads `interval (x) unit` as a call of a function named interval and rejects it.",
        "write INTERVAL '-30' DAY, or make_dt_interval/make_ym_interval on the Spark engine.",
    ),
    "interval text with units": (
        "an interval literal whose string holds its units (interval '1 day 2 hours'), or that "
        "joins parts with a TO span, is read loosely by the translation (Spark rejects the "
        "second).",
        "write one unit or span per literal: INTERVAL '1' DAY + INTERVAL '2' HOUR, or "
        "INTERVAL '1 02' DAY TO HOUR.",
    ),
    "RANGE frame of a date with hours": (
        "Spark rejects a RANGE frame over a DATE whose bound has hours, minutes or seconds "
        "(DATATYPE_MISMATCH.RANGE_FRAME_INVALID_TYPE).",
        "order the window by a TIMESTAMP (CAST(d AS TIMESTAMP)), or use a frame of whole days.",
    ),
    "interval compared with another type": (
        "Spark rejects comparing an interval with a string or number, or a YEAR-MONTH interval "
        "with a DAY-TIME one (DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES).",
        "compare dates or timestamps (d + INTERVAL 1 DAY > x), or numbers of days/seconds.",
    ),
    "timestamp plus NULL": (
        "Spark rejects adding an untyped NULL to a timestamp (BINARY_OP_DIFF_TYPES).",
        "CAST(NULL AS TIMESTAMP), or an INTERVAL.",
    ),
    "percentile WITHIN GROUP (ORDER BY a, b) or DISTINCT": (
        "Spark needs exactly one ORDER BY key and no DISTINCT in percentile_cont/"
        "percentile_disc/mode WITHIN GROUP (INVALID_WITHIN_GROUP_EXPRESSION).",
        "one key: percentile_cont(0.5) WITHIN GROUP (ORDER BY x).",
    ),
    "regexp_replace position below 1": (
        "Spark rejects a regexp_replace position below 1 (VALUE_OUT_OF_RANGE).",
        "positions count from 1.",
    ),
    "from_json options": (
        "from_json options are not reproduced on the Pandas engine (Spark also rejects "
        "options that are not a map of strings).",
        "from_json(json, 'schema') without options, or run this step on the Spark engine.",
    ),
    "GROUP BY ordinal with SELECT *": (
        "Spark rejects a GROUP BY position when the select list is * (STAR_GROUP_BY_POS).",
        "name the columns in the select list, or group by column names.",
    ),
    "empty set in ROLLUP/CUBE": (
        "Spark rejects () inside ROLLUP/CUBE (empty grouping sets are for GROUPING SETS).",
        "GROUPING SETS ((a, b), (a), ()).",
    ),
    "ROWS frame bound beyond INT": (
        "Spark rejects a ROWS frame bound beyond the INT range "
        "(SPECIFIED_WINDOW_FRAME_UNACCEPTED_TYPE).",
        "UNBOUNDED FOLLOWING/PRECEDING, or a bound up to 2147483647.",
    ),
    "IN subquery with another number of columns": (
        "Spark rejects (a, b) IN (SELECT ...) when the subquery gives another number of "
        "columns (IN_SUBQUERY_LENGTH_MISMATCH); (SELECT (a, b) ...) is one struct column.",
        "select as many columns as the left side has: (a, b) IN (SELECT x, y FROM ...).",
    ),
    "PIVOT values that do not fit the pivot columns": (
        "Spark rejects PIVOT ... FOR (a, b) IN (v1, v2) unless each value is a tuple of as "
        "many values as there are pivot columns (PIVOT_VALUE_DATA_TYPE_MISMATCH).",
        "FOR (a, b) IN (('x', 1), ('y', 2)), or pivot on one column.",
    ),
    "array_size of a map": (
        "Spark's array_size takes an array only (DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE).",
        "size(map) or cardinality(map).",
    ),
    "map_contains_key with another key type": (
        "Spark rejects a key whose type differs from the map's key type "
        "(DATATYPE_MISMATCH.MAP_FUNCTION_DIFF_TYPES).",
        "CAST the key to the map's key type.",
    ),
    "non-deterministic function": (
        "rand/uuid/monotonically_increasing_id/input_file_name give different values on "
        "each engine.",
        "derive keys from the data (md5/sha2 of business columns).",
    ),
}


# allow-list keys refused with a named construct (its advice above) instead of the generic one
REFUSED_AS: dict[str, str] = {
    "hash": "hash",
    "xxhash64": "xxhash64",
    "json_tuple": "json_tuple",
    "approx_percentile": "percentile_approx",
    "format_number": "format_number",
    "monotonically_increasing_id": "non-deterministic function",
    "input_file_name": "non-deterministic function",
    "posexplode_outer": "posexplode OUTER",
    "PosexplodeOuter": "posexplode OUTER",
    "inline_outer": "inline",
    "ApproxDistinct": "approx_count_distinct",
    "ApproxQuantile": "percentile_approx",
    "JSONFormat": "to_json",
    "Stack": "stack",
    "Inline": "inline",
    "Rand": "non-deterministic function",
    "Uuid": "non-deterministic function",
    "Skewness": "skewness/kurtosis",
    "Kurtosis": "skewness/kurtosis",
    "Typeof": "typeof",
    **dict.fromkeys(
        (
            "JSONPathWildcard",
            "JSONPathRecursive",
            "JSONPathFilter",
            "JSONPathSlice",
            "JSONPathUnion",
            "JSONPathScript",
        ),
        "get_json_object wildcard",
    ),
}

# --- generated by tests/sql/allowed_derive.py ---
ALLOWED: dict[str, Allowed] = {
    "Abs": Allowed("abs()", {"this": ("decimal", "double", "int")}, ("decimal", "double", "int")),
    "Add": Allowed(
        "ADD",
        {
            "expression": ("date", "decimal", "int", "interval", "null", "timestamp"),
            "this": ("date", "decimal", "double", "int", "interval", "null", "timestamp"),
        },
        (
            "bigint",
            "date",
            "decimal",
            "double",
            "int",
            "interval day to second",
            "interval hour to second",
            "interval minute to second",
            "interval year to month",
            "timestamp",
        ),
    ),
    "AddMonths": Allowed("add_months()", {"expression": ("int",), "this": ("date",)}, ("date",)),
    "Alias": Allowed(
        "ALIAS",
        {},
        (
            "bigint",
            "boolean",
            "date",
            "decimal",
            "double",
            "int",
            "interval day",
            "map",
            "smallint",
            "string",
            "timestamp",
        ),
    ),
    "All": Allowed("ALL", {}, ()),
    "And": Allowed("AND", {"expression": ("boolean",), "this": ("boolean",)}, ("boolean",)),
    "Any": Allowed("ANY", {}, ()),
    "AnyValue": Allowed("any_value()", {"this": ("any",)}, ("string",)),
    "ArgMax": Allowed("max_by()", {"expression": ("int",), "this": ("string",)}, ("string",)),
    "ArgMin": Allowed("min_by()", {"expression": ("int",), "this": ("int",)}, ("int",)),
    "Array": Allowed(
        "array()",
        {
            "expressions": (
                "boolean",
                "decimal",
                "double",
                "int",
                "map",
                "null",
                "string",
                "timestamp",
            )
        },
        (),
    ),
    "ArrayAgg": Allowed("collect_list()", {"this": ("int", "string")}, ()),
    "ArrayAppend": Allowed(
        "array_append()", {"expression": ("int", "null", "string"), "this": ("array",)}, ("array",)
    ),
    "ArrayCompact": Allowed("array_compact()", {}, ("array",)),
    "ArrayContains": Allowed(
        "array_contains()",
        {
            "expression": ("boolean", "date", "double", "int", "string", "timestamp"),
            "this": ("array",),
        },
        ("boolean",),
    ),
    "ArrayDistinct": Allowed("array_distinct()", {}, ("array",)),
    "ArrayFilter": Allowed("filter()", {"this": ("array",)}, ("array",)),
    "ArrayInsert": Allowed(
        "array_insert()",
        {"expression": ("int",), "position": ("int",), "this": ("array",)},
        ("array",),
    ),
    "ArrayPosition": Allowed(
        "array_position()", {"expression": ("string",), "this": ("array",)}, ()
    ),
    "ArrayPrepend": Allowed(
        "array_prepend()", {"expression": ("int", "null", "string"), "this": ("array",)}, ("array",)
    ),
    "ArraySize": Allowed("size()", {"this": ("array", "map", "null")}, ("int",)),
    "ArraySort": Allowed(
        "sort_array()", {"nulls_first": ("boolean",), "this": ("array",)}, ("array",)
    ),
    "ArraysZip": Allowed("arrays_zip()", {"expressions": ("null",)}, ()),
    "ArrayToString": Allowed("array_join()", {"expression": ("string",), "this": ("array",)}, ()),
    "ArrayUniqueAgg": Allowed("collect_set()", {"this": ("string",)}, ()),
    "AtTimeZone": Allowed("ATTIMEZONE", {}, ("timestamp",)),
    "Avg": Allowed("avg()", {"this": ("decimal", "double", "int", "null")}, ("decimal", "double")),
    "Between": Allowed(
        "BETWEEN",
        {
            "high": ("date", "decimal", "int", "string"),
            "low": ("date", "int", "string"),
            "this": ("date", "decimal", "double", "int", "string", "timestamp"),
        },
        ("boolean",),
    ),
    "bin": Allowed("bin()", {"expressions": ("int",)}, ("string",)),
    "BitLength": Allowed("bit_length()", {"this": ("string",)}, ("int",)),
    "BitwiseAnd": Allowed("BITWISEAND", {"expression": ("int",), "this": ("int",)}, ()),
    "BitwiseAndAgg": Allowed("bit_and()", {}, ()),
    "BitwiseCount": Allowed("bit_count()", {"this": ("int", "null")}, ("int",)),
    "BitwiseLeftShift": Allowed(
        "BITWISELEFTSHIFT", {"expression": ("int",), "this": ("int",)}, ("int",)
    ),
    "BitwiseRightShift": Allowed(
        "BITWISERIGHTSHIFT", {"expression": ("int",), "this": ("int",)}, ("int",)
    ),
    "BitwiseXorAgg": Allowed(
        "bit_xor()", {"this": ("int",)}, ("bigint", "int", "smallint", "tinyint")
    ),
    "Boolean": Allowed("BOOLEAN", {}, ("boolean",)),
    "Bracket": Allowed(
        "BRACKET", {"expressions": ("int", "string"), "this": ("array", "map")}, ("int", "string")
    ),
    "bround": Allowed(
        "bround()",
        {"expressions": ("decimal", "double", "int")},
        ("bigint", "int", "smallint", "tinyint"),
    ),
    "cardinality": Allowed("cardinality()", {"expressions": ("array",)}, ()),
    "Case": Allowed(
        "CASE",
        {
            "default": ("decimal", "double", "int", "string"),
            "ifs": ("decimal", "double", "int", "string"),
            "this": ("int", "string"),
        },
        ("bigint", "double", "int", "string"),
    ),
    "Cast": Allowed(
        "cast()",
        {
            "this": ("boolean", "date", "decimal", "double", "int", "null", "string", "timestamp"),
            "to": (
                "array",
                "binary",
                "boolean",
                "date",
                "decimal",
                "double",
                "int",
                "interval",
                "map",
                "string",
                "timestamp",
                "timestamp_ntz",
            ),
        },
        (
            "array",
            "bigint",
            "binary",
            "boolean",
            "date",
            "decimal",
            "double",
            "float",
            "int",
            "interval day",
            "interval year",
            "map",
            "smallint",
            "string",
            "timestamp",
            "timestamp_ntz",
            "tinyint",
        ),
    ),
    "Ceil": Allowed("ceil()", {"this": ("decimal", "double", "int")}, ("bigint", "decimal")),
    "Coalesce": Allowed(
        "coalesce()",
        {
            "expressions": ("decimal", "double", "int", "interval", "string"),
            "this": ("double", "int", "interval", "null", "string"),
        },
        ("bigint", "double", "int", "interval day to minute", "interval year to month", "string"),
    ),
    "Column": Allowed("COLUMN", {}, ()),
    "Concat": Allowed(
        "concat()",
        {"expressions": ("date", "decimal", "double", "int", "string", "timestamp")},
        ("string",),
    ),
    "ConcatWs": Allowed("concat_ws()", {"expressions": ("array", "string")}, ("string",)),
    "Contains": Allowed(
        "contains()", {"expression": ("null", "string"), "this": ("null", "string")}, ("boolean",)
    ),
    "Cot": Allowed("cot()", {"this": ("int", "null")}, ("double",)),
    "Count": Allowed("count()", {"this": ("any",)}, ("bigint",)),
    "CountIf": Allowed("count_if()", {"this": ("boolean",)}, ("bigint",)),
    "CTE": Allowed("CTE", {}, ()),
    "Cube": Allowed("CUBE", {}, ()),
    "CumeDist": Allowed("cume_dist()", {}, ()),
    "CurrentDate": Allowed("CURRENTDATE", {}, ("date",)),
    "CurrentTimestamp": Allowed("current_timestamp()", {}, ("timestamp",)),
    "DataType": Allowed(
        "type STRING",
        {
            "type": (
                "array",
                "binary",
                "boolean",
                "date",
                "decimal",
                "double",
                "int",
                "interval",
                "map",
                "string",
                "timestamp",
                "timestamp_ntz",
            )
        },
        (),
    ),
    "DataTypeParam": Allowed("DATATYPEPARAM", {}, ()),
    "date_part": Allowed(
        "date_part()",
        {"expressions": ("date", "interval", "string", "timestamp_ntz")},
        ("decimal", "int", "tinyint"),
    ),
    "DateDiff": Allowed(
        "datediff()",
        {"expression": ("date", "timestamp"), "this": ("date", "string", "timestamp")},
        ("bigint", "int"),
    ),
    "datepart": Allowed(
        "datepart()", {"expressions": ("interval", "string", "timestamp_ntz")}, ("int",)
    ),
    "DateTrunc": Allowed("trunc()", {"this": ("date",), "unit": ("string",)}, ("date",)),
    "DayOfMonth": Allowed("dayofmonth()", {"this": ("date",)}, ("int",)),
    "DayOfWeek": Allowed("dayofweek()", {"this": ("date",)}, ("int",)),
    "DayOfYear": Allowed("dayofyear()", {"this": ("date",)}, ("int",)),
    "Decode": Allowed("decode()", {"charset": ("string",)}, ("string",)),
    "DecodeCase": Allowed("decode()", {"expressions": ("int", "null", "string")}, ("string",)),
    "DenseRank": Allowed("dense_rank()", {}, ()),
    "Distinct": Allowed("DISTINCT", {}, ()),
    "Div": Allowed(
        "DIV",
        {"expression": ("decimal", "int", "null"), "this": ("decimal", "double", "int", "null")},
        ("decimal", "double"),
    ),
    "Dot": Allowed("DOT", {}, ("string",)),
    "DPipe": Allowed("DPIPE", {"expression": ("int", "string"), "this": ("string",)}, ("string",)),
    "Encode": Allowed("encode()", {"charset": ("string",), "this": ("string",)}, ()),
    "EndsWith": Allowed(
        "endswith()", {"expression": ("null", "string"), "this": ("null", "string")}, ("boolean",)
    ),
    "EQ": Allowed(
        "EQ",
        {
            "expression": ("boolean", "date", "decimal", "int", "interval", "string", "timestamp"),
            "this": (
                "boolean",
                "date",
                "decimal",
                "double",
                "int",
                "interval",
                "string",
                "timestamp",
            ),
        },
        ("boolean",),
    ),
    "EqualNull": Allowed("equal_null()", {"expression": ("int",), "this": ("int",)}, ("boolean",)),
    "Escape": Allowed("ESCAPE", {"expression": ("string",), "this": ("boolean",)}, ("boolean",)),
    "every": Allowed("every()", {"expressions": ("boolean",)}, ()),
    "Except": Allowed("EXCEPT", {}, ()),
    "Exists": Allowed("exists()", {"this": ("array",)}, ("boolean",)),
    "Exp": Allowed("exp()", {"this": ("int",)}, ()),
    "Explode": Allowed("explode()", {"this": ("array", "map")}, ()),
    "Extract": Allowed(
        "extract()",
        {
            "expression": ("date", "interval", "string", "timestamp", "timestamp_ntz"),
            "this": ("string",),
        },
        ("decimal", "int", "tinyint"),
    ),
    "Filter": Allowed("FILTER", {}, ("bigint", "double", "int", "struct")),
    "First": Allowed("first()", {"this": ("any",)}, ()),
    "FirstValue": Allowed("first_value()", {"this": ("any",)}, ("string",)),
    "Flatten": Allowed("flatten()", {}, ()),
    "Floor": Allowed("floor()", {"this": ("decimal", "double", "int")}, ("bigint", "decimal")),
    "Format": Allowed(
        "format_string()", {"expressions": ("double", "int", "string"), "this": ("string",)}, ()
    ),
    "From": Allowed("FROM", {}, ()),
    "FromJson": Allowed(
        "from_json()", {"expression": ("string",), "this": ("string",)}, ("array", "map", "struct")
    ),
    "FromTimeZone": Allowed("FROMTIMEZONE", {}, ("timestamp",)),
    "GenerateSeries": Allowed(
        "sequence()", {"end": ("date", "int"), "start": ("date", "int"), "step": ("int",)}, ()
    ),
    "Greatest": Allowed(
        "greatest()",
        {"expressions": ("decimal", "int", "null"), "this": ("double", "int")},
        ("double", "int"),
    ),
    "Group": Allowed("GROUP", {}, ()),
    "Grouping": Allowed("grouping()", {"expressions": ("int", "string")}, ("tinyint",)),
    "GroupingId": Allowed("grouping_id()", {"expressions": ("int", "string")}, ("bigint",)),
    "GroupingSets": Allowed("GROUPINGSETS", {}, ()),
    "GT": Allowed(
        "GT",
        {
            "expression": ("date", "decimal", "double", "int", "interval", "string", "timestamp"),
            "this": ("date", "decimal", "double", "int", "interval", "string", "timestamp"),
        },
        ("boolean",),
    ),
    "GTE": Allowed(
        "GTE",
        {
            "expression": ("date", "int", "string", "timestamp"),
            "this": ("date", "double", "int", "timestamp"),
        },
        ("boolean",),
    ),
    "Having": Allowed("HAVING", {}, ()),
    "Hex": Allowed("hex()", {"this": ("binary",)}, ("string",)),
    "HexString": Allowed("HEXSTRING", {}, ("binary",)),
    "Hour": Allowed("hour()", {"this": ("timestamp",)}, ()),
    "Identifier": Allowed("IDENTIFIER", {}, ()),
    "If": Allowed(
        "IF",
        {
            "false": ("decimal", "double", "int", "string"),
            "this": ("boolean", "int", "string"),
            "true": ("decimal", "double", "int", "string"),
        },
        ("bigint", "decimal", "double", "int", "string"),
    ),
    "IgnoreNulls": Allowed("IGNORENULLS", {}, ("string",)),
    "ILike": Allowed(
        "ILIKE", {"expression": ("null", "string"), "this": ("null", "string")}, ("boolean",)
    ),
    "In": Allowed(
        "IN",
        {
            "expressions": ("decimal", "int", "null", "string"),
            "this": ("array", "double", "int", "null", "string"),
        },
        ("boolean",),
    ),
    "Initcap": Allowed("initcap()", {"expression": ("string",), "this": ("string",)}, ("string",)),
    "IntDiv": Allowed(
        "INTDIV", {"expression": ("int", "null"), "this": ("int", "null")}, ("bigint",)
    ),
    "Intersect": Allowed("INTERSECT", {}, ()),
    "Interval": Allowed(
        "INTERVAL",
        {},
        (
            "interval day",
            "interval day to hour",
            "interval day to minute",
            "interval day to second",
            "interval hour",
            "interval hour to minute",
            "interval hour to second",
            "interval minute",
            "interval minute to second",
            "interval month",
            "interval second",
            "interval year",
            "interval year to month",
        ),
    ),
    "IntervalSpan": Allowed("type YEAR TO MONTH", {"type": ("day", "hour", "minute", "year")}, ()),
    "Is": Allowed("IS", {"expression": ("null",), "this": ("any",)}, ("boolean",)),
    "Join": Allowed("JOIN", {}, ()),
    "json_array_length": Allowed(
        "json_array_length()", {"expressions": ("null", "string")}, ("int",)
    ),
    "JSONExtractScalar": Allowed("get_json_object()", {"this": ("string",)}, ("string",)),
    "JSONKeys": Allowed("json_object_keys()", {"this": ("null", "string")}, ("array",)),
    "JSONPath": Allowed("JSONPATH", {}, ()),
    "JSONPathKey": Allowed("JSONPATHKEY", {}, ()),
    "JSONPathRoot": Allowed("JSONPATHROOT", {}, ()),
    "JSONPathSubscript": Allowed("JSONPATHSUBSCRIPT", {}, ()),
    "Lag": Allowed("lag()", {"offset": ("int",), "this": ("any",)}, ("double", "int", "string")),
    "Lambda": Allowed("LAMBDA", {}, ()),
    "Last": Allowed("last()", {"this": ("any",)}, ()),
    "LastDay": Allowed("last_day()", {"this": ("date",)}, ("date",)),
    "LastValue": Allowed("last_value()", {"this": ("any",)}, ("string",)),
    "Lateral": Allowed("LATERAL", {}, ()),
    "Lead": Allowed(
        "lead()", {"default": ("int",), "offset": ("int",), "this": ("any",)}, ("int", "string")
    ),
    "Least": Allowed(
        "least()", {"expressions": ("decimal", "int"), "this": ("double", "int")}, ("double", "int")
    ),
    "Left": Allowed(
        "left()", {"expression": ("int", "null", "string"), "this": ("null", "string")}, ("string",)
    ),
    "Length": Allowed("length()", {"this": ("string",)}, ("int",)),
    "Like": Allowed("LIKE", {"expression": ("string",), "this": ("string",)}, ("boolean",)),
    "Limit": Allowed("LIMIT", {}, ()),
    "Literal": Allowed("LITERAL", {}, ()),
    "Ln": Allowed("ln()", {"this": ("int",)}, ()),
    "Localtimestamp": Allowed("LOCALTIMESTAMP", {}, ()),
    "Log": Allowed("log()", {"expression": ("int",), "this": ("int",)}, ()),
    "LogicalAnd": Allowed("bool_and()", {"this": ("boolean",)}, ()),
    "LogicalOr": Allowed("bool_or()", {"this": ("boolean",)}, ()),
    "Lower": Allowed("lower()", {"this": ("string",)}, ("string",)),
    "LT": Allowed(
        "LT",
        {
            "expression": ("binary", "date", "double", "int", "interval", "string", "timestamp"),
            "this": ("binary", "date", "double", "int", "interval", "string", "timestamp"),
        },
        ("boolean",),
    ),
    "LTE": Allowed(
        "LTE",
        {"expression": ("date", "int", "string", "timestamp"), "this": ("date", "decimal", "int")},
        ("boolean",),
    ),
    "luhn_check": Allowed(
        "luhn_check()", {"expressions": ("decimal", "int", "null", "string")}, ("boolean",)
    ),
    "make_date": Allowed("make_date()", {"expressions": ("int",)}, ("date",)),
    "MapContainsKey": Allowed(
        "map_contains_key()", {"key": ("decimal", "int", "string"), "this": ("map",)}, ("boolean",)
    ),
    "MapKeys": Allowed("map_keys()", {"this": ("map",)}, ()),
    "Max": Allowed(
        "max()",
        {"this": ("array", "date", "decimal", "double", "int", "string", "timestamp")},
        ("array", "date", "decimal", "double", "int", "smallint", "string", "struct", "timestamp"),
    ),
    "MD5": Allowed("MD5", {"this": ("string",)}, ("string",)),
    "mean": Allowed("mean()", {"expressions": ("double",)}, ()),
    "Median": Allowed("median()", {"this": ("double", "int")}, ("double",)),
    "Min": Allowed(
        "min()",
        {"this": ("array", "decimal", "double", "int", "string", "timestamp")},
        ("array", "bigint", "decimal", "double", "int", "string", "timestamp"),
    ),
    "Minute": Allowed("minute()", {"this": ("timestamp",)}, ()),
    "Mod": Allowed(
        "MOD",
        {"expression": ("decimal", "int", "null"), "this": ("decimal", "double", "int", "null")},
        ("bigint", "decimal", "double", "int"),
    ),
    "Mode": Allowed("mode()", {}, ()),
    "Month": Allowed("month()", {"this": ("date",)}, ("int",)),
    "MonthsBetween": Allowed(
        "months_between()",
        {
            "expression": ("date", "timestamp"),
            "roundoff": ("boolean",),
            "this": ("date", "timestamp"),
        },
        (),
    ),
    "Mul": Allowed(
        "MUL",
        {"expression": ("decimal", "double", "int"), "this": ("decimal", "double", "int", "null")},
        ("decimal", "double", "int"),
    ),
    "Neg": Allowed(
        "NEG",
        {"this": ("decimal", "double", "int", "interval")},
        (
            "bigint",
            "decimal",
            "double",
            "int",
            "interval day to second",
            "interval year",
            "interval year to month",
            "smallint",
            "tinyint",
        ),
    ),
    "NEQ": Allowed(
        "NEQ",
        {"expression": ("double", "int", "string"), "this": ("decimal", "int", "string")},
        ("boolean",),
    ),
    "NextDay": Allowed(
        "next_day()",
        {"expression": ("string",), "this": ("date", "timestamp", "timestamp_ntz")},
        ("date",),
    ),
    "Not": Allowed("NOT", {"this": ("boolean",)}, ("boolean",)),
    "NthValue": Allowed("nth_value()", {"offset": ("int",), "this": ("string",)}, ()),
    "Ntile": Allowed("ntile()", {"this": ("int",)}, ()),
    "Null": Allowed("NULL", {}, ()),
    "Nullif": Allowed(
        "nullif()",
        {"expression": ("decimal", "int", "string"), "this": ("double", "int", "string")},
        ("double", "int", "string"),
    ),
    "NullSafeEQ": Allowed(
        "NULLSAFEEQ", {"expression": ("string",), "this": ("string",)}, ("boolean",)
    ),
    "Nvl2": Allowed("NVL2", {"false": ("int",), "this": ("string",), "true": ("int",)}, ()),
    "Or": Allowed("OR", {"expression": ("boolean",), "this": ("boolean",)}, ("boolean",)),
    "Order": Allowed("ORDER", {}, ()),
    "Ordered": Allowed("ORDERED", {}, ()),
    "Pad": Allowed(
        "lpad()",
        {
            "expression": ("int", "string"),
            "fill_pattern": ("binary", "string"),
            "this": ("binary", "string"),
        },
        ("binary", "string"),
    ),
    "Paren": Allowed("PAREN", {}, ("bigint", "boolean", "decimal", "int", "string")),
    "PercentileCont": Allowed("percentile_cont()", {"this": ("decimal",)}, ()),
    "PercentileDisc": Allowed("percentile_disc()", {"this": ("decimal",)}, ()),
    "PercentRank": Allowed("percent_rank()", {}, ()),
    "Pivot": Allowed("PIVOT", {}, ()),
    "PivotAlias": Allowed("PIVOTALIAS", {}, ("int", "string")),
    "pmod": Allowed(
        "pmod()",
        {"expressions": ("decimal", "int", "null")},
        ("bigint", "decimal", "int", "smallint"),
    ),
    "Posexplode": Allowed("posexplode()", {"this": ("array",)}, ()),
    "Pow": Allowed("power()", {"expression": ("int",), "this": ("int",)}, ()),
    "printf": Allowed("printf()", {"expressions": ("int", "string")}, ()),
    "PropertyEQ": Allowed("PROPERTYEQ", {"expression": ("decimal", "int", "string")}, ()),
    "Quantile": Allowed(
        "percentile()", {"quantile": ("decimal",), "this": ("double", "int")}, ("double",)
    ),
    "Quarter": Allowed("quarter()", {"this": ("date",)}, ("int",)),
    "Rank": Allowed("rank()", {}, ()),
    "Reduce": Allowed("aggregate()", {"initial": ("int",), "this": ("array",)}, ("int",)),
    "RegexpCount": Allowed(
        "regexp_count()", {"expression": ("null", "string"), "this": ("null", "string")}, ("int",)
    ),
    "RegexpExtract": Allowed(
        "regexp_extract()",
        {"expression": ("string",), "group": ("int",), "this": ("string",)},
        ("string",),
    ),
    "RegexpExtractAll": Allowed(
        "regexp_extract_all()",
        {"expression": ("string",), "group": ("int",), "this": ("string",)},
        ("array",),
    ),
    "RegexpInstr": Allowed(
        "regexp_instr()",
        {"expression": ("null", "string"), "position": ("int",), "this": ("null", "string")},
        ("int",),
    ),
    "RegexpLike": Allowed(
        "regexp_like()", {"expression": ("string",), "this": ("string",)}, ("boolean",)
    ),
    "RegexpReplace": Allowed(
        "regexp_replace()",
        {
            "expression": ("string",),
            "position": ("int",),
            "replacement": ("string",),
            "this": ("string",),
        },
        ("string",),
    ),
    "RegexpSplit": Allowed(
        "split()", {"expression": ("string",), "this": ("null", "string")}, ("array",)
    ),
    "Repeat": Allowed("repeat()", {"this": ("string",), "times": ("int",)}, ()),
    "Replace": Allowed(
        "replace()",
        {"expression": ("string",), "replacement": ("string",), "this": ("string",)},
        ("string",),
    ),
    "Reverse": Allowed("reverse()", {"this": ("string",)}, ()),
    "Right": Allowed(
        "right()",
        {"expression": ("int", "null", "string"), "this": ("null", "string")},
        ("string",),
    ),
    "Rollup": Allowed("ROLLUP", {}, ()),
    "Round": Allowed(
        "round()",
        {"decimals": ("int",), "this": ("decimal", "double", "int")},
        ("bigint", "decimal", "double", "int", "smallint", "tinyint"),
    ),
    "RowNumber": Allowed("row_number()", {}, ()),
    "SafeAdd": Allowed("try_add()", {"expression": ("int",), "this": ("int",)}, ("bigint", "int")),
    "SafeDivide": Allowed(
        "try_divide()", {"expression": ("int", "string"), "this": ("int",)}, ("double",)
    ),
    "SafeMultiply": Allowed(
        "try_multiply()",
        {"expression": ("double", "int"), "this": ("int",)},
        ("bigint", "double", "int"),
    ),
    "SafeSubtract": Allowed(
        "try_subtract()",
        {"expression": ("int",), "this": ("double", "int")},
        ("bigint", "double", "int"),
    ),
    "Second": Allowed("second()", {"this": ("timestamp",)}, ()),
    "Select": Allowed("SELECT", {}, ()),
    "SHA": Allowed("sha()", {"this": ("string",)}, ()),
    "SHA2": Allowed("SHA2", {"length": ("int",), "this": ("string",)}, ("string",)),
    "Sign": Allowed("sign()", {"this": ("double",)}, ()),
    "SplitPart": Allowed(
        "split_part()",
        {"delimiter": ("string",), "part_index": ("int",), "this": ("null", "string")},
        ("string",),
    ),
    "Sqrt": Allowed("sqrt()", {"this": ("double",)}, ()),
    "Star": Allowed("STAR", {}, ()),
    "StartsWith": Allowed(
        "startswith()", {"expression": ("null", "string"), "this": ("null", "string")}, ("boolean",)
    ),
    "Stddev": Allowed("stddev()", {"this": ("double",)}, ()),
    "StddevPop": Allowed("stddev_pop()", {"this": ("int",)}, ()),
    "StrPosition": Allowed(
        "locate()", {"substr": ("null", "string"), "this": ("null", "string")}, ("int",)
    ),
    "StrToTime": Allowed(
        "to_timestamp()", {"format": ("string",), "this": ("string",)}, ("timestamp",)
    ),
    "StrToUnix": Allowed(
        "unix_timestamp()", {"format": ("string",), "this": ("string", "timestamp")}, ("bigint",)
    ),
    "Struct": Allowed("struct()", {}, ("struct",)),
    "Sub": Allowed(
        "SUB",
        {
            "expression": ("decimal", "int", "interval", "null"),
            "this": ("date", "decimal", "double", "int", "interval", "timestamp"),
        },
        (
            "bigint",
            "date",
            "decimal",
            "double",
            "int",
            "interval day to second",
            "interval year to month",
            "timestamp",
        ),
    ),
    "Subquery": Allowed("SUBQUERY", {}, ("bigint", "boolean", "int", "timestamp")),
    "Substring": Allowed(
        "substring()", {"length": ("int",), "start": ("int",), "this": ("string",)}, ("string",)
    ),
    "SubstringIndex": Allowed(
        "substring_index()", {"count": ("int",), "delimiter": ("string",), "this": ("string",)}, ()
    ),
    "Sum": Allowed(
        "sum()", {"this": ("decimal", "double", "int")}, ("bigint", "decimal", "double")
    ),
    "Table": Allowed("TABLE", {}, ()),
    "TableAlias": Allowed("TABLEALIAS", {}, ()),
    "timestamp_seconds": Allowed(
        "timestamp_seconds()", {"expressions": ("int", "null")}, ("timestamp",)
    ),
    "TimestampAdd": Allowed(
        "date_add()", {"expression": ("int",), "this": ("timestamp",)}, ("timestamp",)
    ),
    "TimestampDiff": Allowed(
        "timestampdiff()",
        {"expression": ("date", "timestamp"), "this": ("date", "timestamp")},
        ("bigint",),
    ),
    "TimestampFromParts": Allowed(
        "make_timestamp()",
        {
            "day": ("int",),
            "hour": ("int",),
            "min": ("int",),
            "month": ("int",),
            "sec": ("decimal", "int", "null"),
            "year": ("int",),
        },
        ("timestamp",),
    ),
    "TimestampTrunc": Allowed("date_trunc()", {"this": ("timestamp",)}, ("timestamp",)),
    "TimeStrToTime": Allowed("cast()", {"this": ("date", "timestamp")}, ()),
    "TimeToStr": Allowed("date_format()", {"format": ("string",)}, ("string",)),
    "to_timestamp_ntz": Allowed(
        "to_timestamp_ntz()", {"expressions": ("string",)}, ("timestamp_ntz",)
    ),
    "ToBinary": Allowed(
        "to_binary()", {"format": ("string",), "this": ("null", "string")}, ("binary",)
    ),
    "Transform": Allowed("transform()", {"this": ("array",)}, ("array",)),
    "Translate": Allowed(
        "translate()", {"from_": ("string",), "this": ("string",), "to": ("string",)}, ()
    ),
    "Trim": Allowed("trim()", {"expression": ("string",), "this": ("string",)}, ("string",)),
    "try_avg": Allowed("try_avg()", {"expressions": ("double", "int")}, ("double",)),
    "try_mod": Allowed(
        "try_mod()", {"expressions": ("decimal", "double", "int")}, ("decimal", "double", "int")
    ),
    "try_sum": Allowed("try_sum()", {"expressions": ("double",)}, ("double",)),
    "TryCast": Allowed(
        "try_cast()",
        {"this": ("null", "string"), "to": ("boolean", "date", "int", "timestamp")},
        ("bigint", "boolean", "date", "int", "timestamp"),
    ),
    "TsOrDsAdd": Allowed(
        "date_add()",
        {
            "expression": ("int", "null"),
            "this": ("date", "null", "string", "timestamp", "timestamp_ntz"),
        },
        ("date",),
    ),
    "TsOrDsToDate": Allowed(
        "to_date()",
        {"format": ("string",), "this": ("date", "null", "string", "timestamp", "timestamp_ntz")},
        ("date",),
    ),
    "Tuple": Allowed("TUPLE", {}, ()),
    "Unhex": Allowed("unhex()", {"this": ("string",)}, ("binary",)),
    "Union": Allowed("UNION", {}, ()),
    "UnixDate": Allowed("datediff()", {"this": ("date", "null")}, ("int",)),
    "UnixToStr": Allowed("from_unixtime()", {"format": ("string",), "this": ("int",)}, ("string",)),
    "Upper": Allowed("upper()", {"this": ("string",)}, ("string",)),
    "Values": Allowed("VALUES", {}, ()),
    "Var": Allowed("VAR", {}, ()),
    "Variance": Allowed("variance()", {"this": ("double",)}, ()),
    "VariancePop": Allowed("var_pop()", {"this": ("int",)}, ()),
    "VarMap": Allowed("map()", {}, ("map",)),
    "weekday": Allowed(
        "weekday()",
        {"expressions": ("date", "null", "string", "timestamp", "timestamp_ntz")},
        ("int",),
    ),
    "WeekOfYear": Allowed("weekofyear()", {"this": ("date",)}, ("int",)),
    "Where": Allowed("WHERE", {}, ()),
    "WidthBucket": Allowed(
        "width_bucket()",
        {
            "max_value": ("decimal", "int", "null", "string"),
            "min_value": ("decimal", "int", "null", "string"),
            "num_buckets": ("decimal", "int", "null", "string"),
            "this": ("decimal", "double", "int", "null", "string"),
        },
        ("bigint",),
    ),
    "Window": Allowed("WINDOW", {}, ("bigint", "date", "decimal", "double", "int", "string")),
    "WindowSpec": Allowed("WINDOWSPEC", {}, ()),
    "With": Allowed("WITH", {}, ()),
    "WithinGroup": Allowed("WITHINGROUP", {}, ("double", "int")),
    "Year": Allowed("year()", {"this": ("date",)}, ("int",)),
}
# --- end of generated ---

# Comparisons, conditionals, null handling and arithmetic behave alike on both engines for
# every kind of their family (IEEE doubles, exact decimals, booleans; NULL in, NULL out): the
# derived lists above name only the kinds Spark's golden files happened to use, which refused
# `price = 10.5` on a double column or `flag = true`. Mixed kinds are settled by the
# translator's Spark type rules, and the bind-time result-type check refuses any other type.
_NUMERIC = ("int", "decimal", "double")
_SCALAR = (*_NUMERIC, "boolean", "string", "date", "timestamp")
_FAMILIES = {
    _SCALAR: {
        "EQ": ("this", "expression"),
        "NEQ": ("this", "expression"),
        "GT": ("this", "expression"),
        "GTE": ("this", "expression"),
        "LT": ("this", "expression"),
        "LTE": ("this", "expression"),
        "NullSafeEQ": ("this", "expression"),
        "Between": ("this", "low", "high"),
        "In": ("this", "expressions"),
        "If": ("true", "false"),
        "Case": ("this", "ifs", "default"),
        "Coalesce": ("this", "expressions"),
        "Nullif": ("this", "expression"),
        "Greatest": ("this", "expressions"),
        "Least": ("this", "expressions"),
        "Max": ("this",),
        "Min": ("this",),
    },
    _NUMERIC: {
        "Abs": ("this",),
        "Neg": ("this",),
        "Add": ("this", "expression"),
        "Sub": ("this", "expression"),
        "Mul": ("this", "expression"),
        "Div": ("this", "expression"),
        "Mod": ("this", "expression"),
        "Sum": ("this",),
        "Avg": ("this",),
        "Ceil": ("this",),
        "Floor": ("this",),
    },
}


def _widened(entry: Allowed, args: tuple[str, ...], kinds: tuple[str, ...]) -> Allowed:
    operands = dict(entry.operands)
    for arg in args:
        operands[arg] = tuple(sorted({*operands.get(arg, ()), *kinds}))
    return entry._replace(operands=operands)


for _kinds, _entries in _FAMILIES.items():
    for _name, _args in _entries.items():
        ALLOWED[_name] = _widened(ALLOWED[_name], _args, _kinds)
