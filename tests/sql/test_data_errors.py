"""Data errors fail a node as on Spark with ANSI on, with Spark's error class, on both engines.

One project (a node per error class, each writing its output) runs through the CLI on the Pandas
and on the Spark engine; every failing node names the same Spark error class on both, with a
hint, and the try_* variants give NULL instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import write
from tests.parity.parity_compare import read_output

DATA = """\
id,n,s,big,d,i
1,0,abc,2147483647,2024-01-01,2147483647
2,2,12,9223372036854775807,2024-02-30,5
"""
# node -> (Spark SQL over `src`, the error class Spark raises for these rows)
CASES = {
    "div0": ("SELECT id / n AS r FROM src", "DIVIDE_BY_ZERO"),
    "int_div0": ("SELECT id div n AS r FROM src", "DIVIDE_BY_ZERO"),
    "cast_text": ("SELECT CAST(s AS INT) AS r FROM src", "CAST_INVALID_INPUT"),
    "cast_date": ("SELECT CAST(d AS DATE) AS r FROM src", "CAST_INVALID_INPUT"),
    "to_date": ("SELECT to_date(d) AS r FROM src", "CAST_INVALID_INPUT"),
    "int_add": ("SELECT i + id AS r FROM src", "ARITHMETIC_OVERFLOW"),
    "long_mul": ("SELECT big * 2 AS r FROM src", "ARITHMETIC_OVERFLOW"),
    "long_sum": ("SELECT sum(big) AS r FROM src", "ARITHMETIC_OVERFLOW"),
    "cast_int": ("SELECT CAST(big AS INT) AS r FROM src", "CAST_OVERFLOW"),
    "cast_tiny": ("SELECT CAST(id * 200 AS TINYINT) AS r FROM src", "CAST_OVERFLOW"),
    "cast_double": (
        "SELECT CAST(CAST(big AS DOUBLE) * 10 AS BIGINT) AS r FROM src",
        "CAST_OVERFLOW",
    ),
    "cast_decimal": (
        "SELECT CAST(big AS DECIMAL(5, 1)) AS r FROM src",
        "NUMERIC_VALUE_OUT_OF_RANGE",
    ),
    "decimal_mul": (
        "SELECT CAST(big AS DECIMAL(38, 0)) * CAST(big AS DECIMAL(38, 0)) "
        "* CAST(big AS DECIMAL(38, 0)) AS r FROM src",
        "NUMERIC_VALUE_OUT_OF_RANGE",
    ),
    "array_index": ("SELECT array(1, 2)[id + 3] AS r FROM src", "INVALID_ARRAY_INDEX"),
    "element_at": (
        "SELECT element_at(array(1, 2), id + 3) AS r FROM src",
        "INVALID_ARRAY_INDEX_IN_ELEMENT_AT",
    ),
    "regex_group": (
        "SELECT regexp_extract(s, '(a)', 2) AS r FROM src",
        "INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX",
    ),
    "make_date": (
        "SELECT make_date(2024, id + 12, 1) AS r FROM src",
        "DATETIME_FIELD_OUT_OF_BOUNDS",
    ),
    "leap_day": (
        "SELECT make_date(2023, 2, 28 + id) AS r FROM src",
        "DATETIME_FIELD_OUT_OF_BOUNDS",
    ),
    "make_ts": (
        "SELECT make_timestamp(2024, 1, 1, id + 23, 0, 0) AS r FROM src",
        "DATETIME_FIELD_OUT_OF_BOUNDS",
    ),
    "scalar_subquery": ("SELECT (SELECT id FROM src) AS r", "SCALAR_SUBQUERY_TOO_MANY_ROWS"),
}
TRY = (
    "SELECT id, try_divide(id, n) AS q, try_cast(s AS INT) AS c, "
    "try_element_at(array(1, 2), id + 1) AS e, try_add(i, id) AS a, try_multiply(big, 2) AS m, "
    "date_format(try_cast(d AS TIMESTAMP), 'yyyy-MM-dd HH:mm') AS t, "
    "try_cast(nullif(s, '12') AS TIMESTAMP) AS u "
    "FROM src"
)


def _project(root: Path) -> Path:
    write(root / "data" / "t.csv", DATA)
    nodes = "".join(
        f"""
      - name: {name}
        depends_on: [src]
        transform: {{steps: [{{sql: {json.dumps(sql)}}}]}}
        write: {{connection: out, path: {name}, format: parquet}}"""
        for name, (sql, _) in {**CASES, "tries": (TRY, None)}.items()
    )
    return write(
        root / "project.yaml",
        """
        project: data-errors
        connections:
          data: {type: local, base_path: ./data}
          out: {type: local, base_path: ./out}
        story: {connection: out, path: stories/}
        retry: {enabled: false}
        pipelines:
          - pipeline: p
            nodes:
              - name: src
                read:
                  connection: data
                  path: t.csv
                  format: csv
                  schema: "id INT, n INT, s STRING, big BIGINT, d STRING, i INT"
        """
        + nodes.replace("\n", "\n        "),
    )


def test_data_errors_name_sparks_error_class(tmp_path, cli, engine_name):
    engine = engine_name
    project = _project(tmp_path)
    r = cli("run", str(project), "--engine", engine, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    story = json.loads(next((tmp_path / "out" / "stories").glob("2*.json")).read_text())
    nodes = {n["name"]: n for n in story["nodes"]}
    for name, (_, error_class) in CASES.items():
        node = nodes[name]
        assert node["status"] == "failed", name
        message = node["error"]["message"]
        assert f"[{error_class}" in message, f"{name}: {message}"
        # what the user sees: the node, Spark's error class (the CLI prints both)
        assert f"p.{name} failed" in out and f"[{error_class}" in out
        # a failure of the node's SQL, with what to do instead (Spark raises it while writing)
        assert node["error"]["stage"] == "transform", f"{name}: {node['error']}"
        assert node["error"]["hint"], name
        assert not (tmp_path / "out" / name).exists(), f"{name}: nothing is written"
    assert nodes["tries"]["status"] == "success", nodes["tries"].get("error")
    rows = sorted(read_output(tmp_path / "out" / "tries").to_pylist(), key=lambda x: x["id"])
    assert [(x["q"], x["c"], x["e"], x["a"], x["m"], x["t"], x["u"]) for x in rows] == [
        (None, None, 2, None, 4294967294, "2024-01-01 00:00", None),  # 'abc' as a time: NULL
        (1.0, 12, None, 7, None, None, None),  # 2024-02-30: NULL, not a failed node
    ]


def test_hint_names_the_try_variant(tmp_path, cli):
    project = _project(tmp_path)
    r = cli("run", str(project), "--engine", "pandas", "--node", "div0", "--node", "cast_text")
    out = r.stdout + r.stderr
    assert "p.div0 failed at transform: [DIVIDE_BY_ZERO]" in out
    assert "hint: try_divide(a, b) gives NULL" in out
    assert "hint: try_cast(x AS type) gives NULL for malformed values" in out
    assert "SQL: SELECT CAST(s AS INT) AS r FROM src" in out


# DuckDB's own messages -> Spark's error class and wording (guards a DuckDB upgrade's rewording)
@pytest.mark.parametrize(
    ("duck_sql", "error_class", "spark_text"),
    [
        ("SELECT CAST('abc' AS DOUBLE)", "CAST_INVALID_INPUT", "'abc' of the type \"STRING\""),
        ("SELECT CAST('2024-13-01' AS DATE)", "CAST_INVALID_INPUT", 'cast to "DATE"'),
        ("SELECT CAST('x' AS TIMESTAMPTZ)", "CAST_INVALID_INPUT", 'cast to "TIMESTAMP"'),
        ("SELECT CAST('123.45' AS DECIMAL(4, 2))", "NUMERIC_VALUE_OUT_OF_RANGE", "Decimal(4, 2)"),
        ("SELECT CAST(2147483648 AS INTEGER)", "CAST_OVERFLOW", '"BIGINT" cannot be cast to "INT"'),
        ("SELECT CAST(1e20 AS BIGINT)", "CAST_OVERFLOW", '"DOUBLE" cannot be cast to "BIGINT"'),
        ("SELECT CAST(12345 AS DECIMAL(3, 0))", "NUMERIC_VALUE_OUT_OF_RANGE", "Decimal(3, 0)"),
        ("SELECT 2147483647::INTEGER + 1", "ARITHMETIC_OVERFLOW", "integer overflow"),
        ("SELECT 9223372036854775807 * 2", "ARITHMETIC_OVERFLOW", "long overflow"),
        (
            "SELECT CAST(sum(x) AS BIGINT) FROM (VALUES (9223372036854775807), (1)) t(x)",
            "ARITHMETIC_OVERFLOW",
            "long overflow",
        ),
        ("SELECT 1e37::DECIMAL(38,0) * 100::DECIMAL(38,0)", "NUMERIC_VALUE_OUT_OF_RANGE", "38"),
        ("SELECT make_date(2024, 13, 1)", "DATETIME_FIELD_OUT_OF_BOUNDS", "MonthOfYear"),
        ("SELECT make_date(2024, 1, 32)", "DATETIME_FIELD_OUT_OF_BOUNDS", "DayOfMonth"),
        ("SELECT make_date(2023, 2, 29)", "DATETIME_FIELD_OUT_OF_BOUNDS", "not a leap year"),
        (
            "SELECT make_date(2024, 4, 31)",
            "DATETIME_FIELD_OUT_OF_BOUNDS",
            "Invalid date 'APRIL 31'",
        ),
        (
            "SELECT make_timestamp(2024, 1, 1, 25, 0, 0)",
            "DATETIME_FIELD_OUT_OF_BOUNDS",
            "HourOfDay",
        ),
        (
            "SELECT make_timestamp(2024, 1, 1, 1, 61, 0)",
            "DATETIME_FIELD_OUT_OF_BOUNDS",
            "MinuteOfHour",
        ),
        (
            "SELECT make_timestamp(2024, 1, 1, 1, 1, 61)",
            "DATETIME_FIELD_OUT_OF_BOUNDS",
            "SecondOfMinute",
        ),
        ("SELECT (SELECT * FROM range(2))", "SCALAR_SUBQUERY_TOO_MANY_ROWS", "More than one row"),
        (
            "SELECT regexp_matches('a', x) FROM (VALUES ('(')) t(x)",
            "INVALID_PARAMETER_VALUE.PATTERN",
            "missing )",
        ),
    ],
)
def test_duckdb_errors_map_to_sparks(duck_sql, error_class, spark_text):
    import duckdb

    from odibi_dbx.engines.duck_errors import spark_data_error

    with pytest.raises(duckdb.Error) as info:
        duckdb.sql(duck_sql).fetchall()
    mapped = spark_data_error(info.value)
    assert mapped is not None, str(info.value)
    assert mapped.error_class.startswith(error_class) and spark_text in mapped.message, mapped
    assert mapped.hint and "DuckDB" in (mapped.detail or "") and "LINE" not in mapped.detail


def test_other_duckdb_errors_are_not_data_errors():
    import duckdb

    from odibi_dbx.engines.duck_errors import spark_data_error

    with pytest.raises(duckdb.Error) as info:
        duckdb.sql("SELECT missing_column FROM range(1)").fetchall()
    assert spark_data_error(info.value) is None
