"""Unit tests of odibi_dbx.sql: parsing, table references, deny-list, translation (no Spark)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from odibi_dbx.sql import (
    NotPortableError,
    SqlSyntaxError,
    parse_spark,
    portability_problems,
    referenced_tables,
    to_duckdb,
)
from odibi_dbx.sql.allowed import REFUSED
from odibi_dbx.sql.formats import java_to_strftime


def run(sql: str, **kw) -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.sql(to_duckdb(sql, **kw)).fetchall()


# ---------------------------------------------------------------- parse_spark
def test_parse_spark_returns_a_query():
    tree = parse_spark("SELECT a FROM t WHERE b > 1")
    assert tree.key == "select"


@pytest.mark.parametrize(
    "sql",
    ["WITH x AS (SELECT 1 AS a) SELECT * FROM x", "SELECT 1 UNION ALL SELECT 2", "VALUES (1, 2)"],
)
def test_parse_spark_accepts_query_shapes(sql):
    parse_spark(sql)


def test_syntax_error_has_line_and_column():
    with pytest.raises(SqlSyntaxError) as info:
        parse_spark("SELECT a,\n  b\nFROM t WHERE (a > 1")
    err = info.value
    assert err.line == 3
    assert err.col is not None and err.col >= 1
    assert "line 3" in str(err)
    assert err.message


def test_unterminated_string_is_a_syntax_error():
    with pytest.raises(SqlSyntaxError) as info:
        parse_spark("SELECT 'abc FROM t")
    assert info.value.line == 1 and info.value.col == 8


def test_a_command_is_refused_without_sqlglot_noise(caplog):
    # sqlglot keeps ADD JAR as a raw command and logs a warning (stderr); the refusal says it all
    with pytest.raises(SqlSyntaxError, match="ADD JAR statement: a SQL step is one SELECT"):
        parse_spark("ADD JAR /tmp/udf.jar")
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]


def test_spaced_shift_is_a_syntax_error():
    # Spark reads `a > > b` as a syntax error; sqlglot as `a >> b`
    with pytest.raises(SqlSyntaxError, match="'> >' is not an operator") as info:
        parse_spark("SELECT a > > 2 FROM t")
    assert info.value.col == 12
    parse_spark("SELECT a >> 2, a << 1, '> >' FROM t")


def test_two_statements_are_rejected_with_position():
    with pytest.raises(SqlSyntaxError, match="one SELECT query") as info:
        parse_spark("SELECT 1;\nSELECT 2")
    assert info.value.line == 2 and info.value.col == 1


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t SELECT 1",
        "CREATE TABLE t (a INT)",
        "DROP TABLE t",
        "UPDATE t SET a = 1",
        "DELETE FROM t",
    ],
)
def test_ddl_and_dml_are_rejected(sql):
    with pytest.raises(SqlSyntaxError, match="a SQL step is one SELECT query"):
        parse_spark(sql)


def test_empty_sql_is_rejected():
    with pytest.raises(SqlSyntaxError, match="empty"):
        parse_spark("   ")


# ---------------------------------------------------------------- referenced_tables
def test_referenced_tables_excludes_ctes_and_lowercases():
    sql = """
    WITH a AS (SELECT * FROM Raw_Orders), b AS (SELECT * FROM a JOIN Cat.Db.Customers c ON 1=1)
    SELECT * FROM b WHERE x IN (SELECT x FROM lookup) UNION SELECT * FROM other
    """
    assert referenced_tables(parse_spark(sql)) == {
        "raw_orders",
        "cat.db.customers",
        "lookup",
        "other",
    }


def test_referenced_tables_nested_cte_and_lateral_view():
    sql = """
    WITH outer_cte AS (WITH inner_cte AS (SELECT * FROM src) SELECT * FROM inner_cte)
    SELECT o.id, t.tag FROM outer_cte o LATERAL VIEW explode(o.tags) t AS tag
    LEFT ANTI JOIN blocked ON blocked.id = o.id
    """
    assert referenced_tables(parse_spark(sql)) == {"src", "blocked"}


def test_cte_name_used_inside_its_own_definition_is_a_table():
    # a CTE only sees the CTEs defined before it, so the inner `a` is the table
    tree = parse_spark("WITH a AS (SELECT * FROM a) SELECT * FROM a")
    assert referenced_tables(tree) == {"a"}


def test_referenced_tables_in_scalar_and_exists_subqueries():
    sql = "SELECT (SELECT max(x) FROM m), y FROM t WHERE EXISTS (SELECT 1 FROM e WHERE e.k = t.k)"
    assert referenced_tables(parse_spark(sql)) == {"m", "t", "e"}


# ---------------------------------------------------------------- table substitution
def test_tables_are_substituted_and_aliases_kept():
    out = to_duckdb(
        "SELECT load_raw.a, x.b FROM Load_Raw JOIN this AS x ON load_raw.id = x.id",
        tables={"load_raw": '"n_load_raw"', "this": '"s_3"'},
    )
    assert '"n_load_raw" as load_raw' in out.lower()
    assert '"s_3" AS x' in out


def test_substituted_query_runs_on_duckdb():
    con = duckdb.connect()
    con.execute("CREATE TABLE \"n_raw\" AS SELECT 1 AS id, 'a' AS v")
    sql = to_duckdb(
        "WITH raw AS (SELECT * FROM load_raw) SELECT raw.v FROM raw", tables={"load_raw": '"n_raw"'}
    )
    assert con.sql(sql).fetchall() == [("a",)]


def test_cte_named_like_a_mapped_table_is_not_substituted():
    out = to_duckdb("WITH t AS (SELECT 1 AS a) SELECT * FROM t", tables={"t": "other"})
    assert "other" not in out


# ---------------------------------------------------------------- deny-list
DENIED_EXAMPLES = {
    "hash": "SELECT hash(a) FROM t",
    "xxhash64": "SELECT xxhash64(a) FROM t",
    "approx_count_distinct": "SELECT approx_count_distinct(a) FROM t",
    "percentile_approx": "SELECT percentile_approx(a, 0.5) FROM t",
    "to_json": "SELECT to_json(named_struct('a', a)) FROM t",
    "stack": "SELECT stack(2, 'a', a, 'b', b) FROM t",
    "inline": "SELECT inline(arr) FROM t",
    "posexplode OUTER": "SELECT * FROM t LATERAL VIEW OUTER posexplode(arr) x AS p, v",
    "json_tuple": "SELECT json_tuple(j, 'a') FROM t",
    "implicit string/number comparison": "SELECT * FROM t WHERE 1 = '1'",
    "format_number": "SELECT format_number(a, 2) FROM t",
    "non-deterministic function": "SELECT uuid() FROM t",
    "mode": "SELECT mode(a) FROM t",
    "skewness/kurtosis": "SELECT skewness(a) FROM t",
    "percentile WITHIN GROUP (ORDER BY ... DESC)": (
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a DESC) OVER (PARTITION BY b) FROM t"
    ),
    "UNPIVOT": "SELECT * FROM t UNPIVOT (v FOR y IN (a, b))",
    "PIVOT on a table name": "SELECT * FROM t PIVOT (sum(a) FOR y IN (1, 2))",
    "shift mixed with &, | or ^": "SELECT a & b >> 1 FROM t",
    "lambda with an index": "SELECT transform(arr, (x, i) -> x + i) FROM t",
    "ordinal in GROUPING SETS": "SELECT a, b, count(1) FROM t GROUP BY GROUPING SETS ((1), (b))",
    "typeof": "SELECT typeof(a) FROM t",
    "to_binary": "SELECT to_binary(a) FROM t",
    "date/timestamp subtraction": "SELECT DATE '2001-10-01' - DATE '2001-09-28' FROM t",
    "empty or NULL split delimiter": "SELECT split_part(a, '', 1) FROM t",
    "index 0": "SELECT try_element_at(array(1, 2), 0) FROM t",
    "fractional timestamp_seconds": "SELECT timestamp_seconds(1.5) FROM t",
    "avg of dates or timestamps": "SELECT avg(CAST(a AS TIMESTAMP)) FROM t",
    "decimal div/try_divide": "SELECT CAST(a AS DECIMAL(10, 2)) div 2 FROM t",
    "decimal widening in a set operation": (
        "SELECT CAST(a AS BIGINT) FROM t UNION ALL SELECT CAST(a AS DECIMAL(10, 2)) FROM t"
    ),
    "quoted datetime unit": "SELECT date_diff('DAY', a, b) FROM t",
    "get_json_object wildcard": "SELECT get_json_object(a, '$.b[*]') FROM t",
    "GROUPING without ROLLUP/CUBE/GROUPING SETS": "SELECT a, grouping(a) FROM t GROUP BY a",
    "window function without ORDER BY": "SELECT row_number() OVER (PARTITION BY a) FROM t",
    "ordered window of a percentile": (
        "SELECT median(a) OVER w FROM t WINDOW w AS (PARTITION BY b ORDER BY a)"
    ),
    "FILTER in a window": "SELECT count(a) FILTER (WHERE a > 1) OVER (PARTITION BY b) FROM t",
    "count() without a column": "SELECT count(t.*) FROM t",
    "date_add with BIGINT days": "SELECT date_add(DATE '2024-01-01', 1L) FROM t",
    "interval compared with another type": "SELECT INTERVAL 1 MONTH > INTERVAL 20 DAYS FROM t",
    "interval (x) unit": "SELECT CAST(b AS DATE) + interval (-30) day FROM t",
    "interval text with units": "SELECT CAST(b AS DATE) + INTERVAL '1 day 2 hours' FROM t",
    "RANGE frame of a date with hours": (
        "SELECT sum(a) OVER (ORDER BY CAST(b AS DATE) RANGE INTERVAL '1 02' DAY TO HOUR "
        "PRECEDING) FROM t"
    ),
    "timestamp plus NULL": "SELECT TIMESTAMP '2024-01-01 00:00:00' + NULL FROM t",
    "percentile WITHIN GROUP (ORDER BY a, b) or DISTINCT": (
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a, b) FROM t"
    ),
    "regexp_replace position below 1": "SELECT regexp_replace(a, 'x', 'y', 0) FROM t",
    "from_json options": "SELECT from_json(a, 'x INT', map('mode', 'FAILFAST')) FROM t",
    "GROUP BY ordinal with SELECT *": "SELECT * FROM t GROUP BY a, b, 1",
    "empty set in ROLLUP/CUBE": "SELECT a, count(*) FROM t GROUP BY ROLLUP(a, ())",
    "ROWS frame bound beyond INT": (
        "SELECT sum(a) OVER (ORDER BY a ROWS BETWEEN CURRENT ROW AND 2147483648 FOLLOWING) FROM t"
    ),
    "IN subquery with another number of columns": (
        "SELECT 1 FROM t WHERE (a, b) IN (SELECT (a, b) FROM t)"
    ),
    "PIVOT values that do not fit the pivot columns": (
        "SELECT * FROM (SELECT a, b, c FROM t) PIVOT (sum(c) FOR (a, b) IN ('x', 'y'))"
    ),
    "array_size of a map": "SELECT array_size(map('a', 1)) FROM t",
    "map_contains_key with another key type": "SELECT map_contains_key(map(1, 'a'), '1') FROM t",
}


def test_every_denied_construct_has_an_example():
    assert set(DENIED_EXAMPLES) == set(REFUSED)


@pytest.mark.parametrize("construct", sorted(DENIED_EXAMPLES))
def test_denied_constructs_raise_with_advice(construct):
    sql = DENIED_EXAMPLES[construct]
    problems = portability_problems(parse_spark(sql))
    assert [p.construct for p in problems] == [construct]
    with pytest.raises(NotPortableError) as info:
        to_duckdb(sql)
    err = info.value
    assert err.construct == construct
    assert err.advice and err.advice in str(err)
    assert "Instead:" in str(err)


def test_implicit_comparison_found_through_schema():
    tree = parse_spark("SELECT * FROM t WHERE code = 1")
    assert portability_problems(tree) == []
    problems = portability_problems(tree, schema={"t": {"code": "string"}})
    assert [p.construct for p in problems] == ["implicit string/number comparison"]


def test_set_operation_of_star_branches_sees_the_column_types():
    # Spark casts the string column to a number (and fails on 'a'); DuckDB would make it text
    sql = "SELECT * FROM s UNION ALL SELECT * FROM n"
    schema = {"s": {"id": "int", "code": "string"}, "n": {"id": "int", "code": "int"}}
    problems = portability_problems(parse_spark(sql), schema=schema)
    assert [p.construct for p in problems] == ["implicit string/number comparison"]
    same = {"s": {"id": "int", "code": "string"}, "n": {"id": "int", "code": "string"}}
    assert portability_problems(parse_spark(sql), schema=same) == []


def test_decimal_set_operation_widens_like_spark():
    sql = (
        "SELECT CAST(20 AS DECIMAL(4, 1)) AS x "
        "UNION ALL SELECT pmod(CAST(10 AS DECIMAL(10, 2)), CAST(3 AS DECIMAL(5, 1)))"
    )
    con = duckdb.connect()
    assert [str(t) for t in con.sql(to_duckdb(sql)).types] == ["DECIMAL(6,2)"]


def test_date_diff_with_a_unit_counts_complete_units_as_bigint():
    # datediff(end, start): calendar days, INT; date_diff(unit, start, end): complete units
    rel = duckdb.connect().sql(
        to_duckdb(
            "SELECT datediff(DATE'2024-01-02', DATE'2024-01-01'),"
            " date_diff(HOUR, TIMESTAMP'2024-01-01 01:59:00', TIMESTAMP'2024-01-01 02:01:00'),"
            " timestampdiff(DAY, TIMESTAMP'2024-01-01 23:00:00', TIMESTAMP'2024-01-02 22:00:00')"
        )
    )
    assert rel.fetchall() == [(1, 0, 0)]
    assert [str(t) for t in rel.types] == ["INTEGER", "BIGINT", "BIGINT"]


def test_make_timestamp_with_a_fraction_of_the_60th_second_raises():
    assert run("SELECT make_timestamp(2021, 7, 11, 6, 30, 60)")[0][0].minute == 31
    with pytest.raises(duckdb.Error, match="INVALID_FRACTION_OF_SECOND"):
        run("SELECT make_timestamp(2021, 7, 11, 6, 30, 60.007)")


def test_explicit_cast_comparison_is_fine():
    assert portability_problems(parse_spark("SELECT * FROM t WHERE CAST(code AS INT) = 1")) == []


def test_unsupported_datetime_pattern_is_rejected():
    with pytest.raises(NotPortableError, match="YYYY"):
        to_duckdb("SELECT date_format(ts, 'YYYY') FROM t")


def test_sqlglot_unsupported_output_becomes_not_portable():
    with pytest.raises(NotPortableError):
        to_duckdb("SELECT soundex(a) FROM t")


# ---------------------------------------------------------------- translation (DuckDB only)
def test_cast_timestamp_is_timestamptz():
    assert "TIMESTAMPTZ" in to_duckdb("SELECT CAST(x AS TIMESTAMP) FROM t")


def test_reading_databricks_keeps_ansi_cast():
    out = to_duckdb("SELECT CAST(x AS INT) FROM t")
    assert "TRY_CAST" not in out


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT CAST(2.7 AS INT)", 2),
        ("SELECT CAST(-2.7 AS BIGINT)", -2),
        ("SELECT round(2.675D, 2)", 2.68),
        ("SELECT bround(2.5D)", 2.0),
        ("SELECT pmod(-7, 3)", 2),
        ("SELECT dayofweek(DATE'2024-01-07')", 1),
        ("SELECT date_add(DATE'2024-01-31', 1)", date(2024, 2, 1)),
        ("SELECT add_months(DATE'2024-01-31', 1)", date(2024, 2, 29)),
        ("SELECT trunc(DATE'2024-05-17', 'MM')", date(2024, 5, 1)),
        ("SELECT months_between(DATE'2024-03-31', DATE'2024-02-29')", 1.0),
        ("SELECT months_between(DATE'2024-03-15', DATE'2024-02-01')", 1.4516129),
        ("SELECT regexp_replace('A-12', '([A-Z])-(\\\\d+)', '$2$1')", "12A"),
        ("SELECT get_json_object('not json', '$.a')", None),
        ("SELECT size(array(1, 2))", 2),
        ("SELECT 7 div 2", 3),
        ("SELECT CAST(1e7D AS STRING)", "1.0E7"),
        ("SELECT CAST(1.5e-5 AS STRING)", "1.5E-5"),
        (
            "SELECT date_format(TIMESTAMP'2024-03-05 14:07:09', 'dd/MM/yyyy HH:mm')",
            "05/03/2024 14:07",
        ),
        ("SELECT 'a_b' LIKE 'a\\\\_b'", True),
        ("SELECT format_string('%.2f', 2.675D)", "2.68"),
    ],
)
def test_translated_values(sql, expected):
    assert run(sql) == [(expected,)]


def test_empty_group_aggregates_match_spark():
    sql = "SELECT count_if(a > 0), collect_list(a) FROM VALUES (1) AS t(a) WHERE a < 0"
    assert run(sql) == [(0, [])]


def test_decimal_division_uses_spark_precision():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1.00::DECIMAL(10,2) AS a")
    sql = to_duckdb("SELECT a / 3 AS q FROM t", schema={"t": {"a": "decimal(10,2)"}})
    rel = con.sql(sql)
    assert [str(t) for t in rel.types] == ["DECIMAL(14,6)"]
    assert rel.fetchall() == [(Decimal("0.333333"),)]


def test_an_unknown_column_in_a_typed_expression_is_named_with_the_inputs_columns():
    schema = {"t": {"amount": "double", "region": "string"}}
    with pytest.raises(NotPortableError, match=r"UNRESOLVED_COLUMN.*'amountt'.*'amount'\?"):
        to_duckdb("SELECT ROUND(SUM(amountt), 2) FROM t", schema=schema)
    with pytest.raises(NotPortableError, match=r"columns: a, region\.") as err:  # a subquery's
        to_duckdb("SELECT AVG(b) FROM (SELECT amount AS a, region FROM t) s", schema=schema)
    assert "did you mean" not in str(err.value)
    # a lateral alias resolves on Spark: not called unresolved (its type is unknown here)
    with pytest.raises(NotPortableError, match="Cannot tell the type") as err:
        to_duckdb("SELECT amount + 1 AS a, ROUND(a, 1) FROM t", schema=schema)
    assert "UNRESOLVED" not in str(err.value)
    assert "to_duckdb" not in str(err.value)  # the schema was given: the advice is a CAST
    # an input without a known schema: the type is unknown, the column may exist
    with pytest.raises(NotPortableError, match="Cannot tell the type"):
        to_duckdb("SELECT ROUND(x, 1) FROM u", schema=schema)


def test_string_to_int_cast_rejects_fractions_like_spark():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT '3.7' AS s")
    sql = to_duckdb("SELECT CAST(s AS INT) FROM t", schema={"t": {"s": "string"}})
    with pytest.raises(duckdb.Error, match="CAST_INVALID_INPUT"):
        con.sql(sql).fetchall()


def test_lateral_view_outer_keeps_rows():
    sql = (
        "SELECT id, v FROM VALUES (1, array('a')), (2, CAST(array() AS ARRAY<STRING>)) "
        "AS t(id, arr) LATERAL VIEW OUTER explode(arr) x AS v"
    )
    assert sorted(run(sql)) == [(1, "a"), (2, None)]


def test_java_pattern_translation():
    assert java_to_strftime("yyyy-MM-dd'T'HH:mm:ss.SSS", parsing=False) == "%Y-%m-%dT%H:%M:%S.%g"
    assert java_to_strftime("d/M/yy", parsing=True) == "%d/%m/%y"  # + a century fix (rules/time.py)
    assert java_to_strftime("h:mm a", parsing=False) == "%-I:%M %p"
    assert java_to_strftime("'it''s' yyyy", parsing=False) == "it's %Y"


def test_import_does_not_load_pyspark():
    code = "import sys, odibi_dbx.sql; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT array(1, 2)[5]", "INVALID_ARRAY_INDEX"),
        ("SELECT array(1, 2)[-1]", "INVALID_ARRAY_INDEX"),
        ("SELECT element_at(array(1, 2), 3)", "INVALID_ARRAY_INDEX_IN_ELEMENT_AT"),
        ("SELECT element_at(array(1, 2), 0)", "INVALID_INDEX_OF_ZERO"),
    ],
)
def test_out_of_range_array_index_raises_like_spark_ansi(sql, error):
    with pytest.raises(duckdb.Error, match=error):
        run(sql)


def test_safe_and_map_access_give_null():
    assert run("SELECT try_element_at(array(1, 2), 5), map('a', 1)['b']") == [(None, None)]


def test_schema_accepts_duckdb_type_names():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE t AS SELECT TIMESTAMPTZ '2024-01-01 10:00:00+00' AS ts, "
        "2.5::DECIMAL(10,2) AS d"
    )
    schema = {"t": {"ts": "TIMESTAMP WITH TIME ZONE", "d": "DECIMAL(10,2)"}}
    sql = to_duckdb("SELECT CAST(max(ts) AS STRING), avg(d) FROM t", schema=schema)
    rel = con.sql(sql)
    assert rel.fetchall() == [("2024-01-01 10:00:00", Decimal("2.500000"))]
    assert [str(t) for t in rel.types] == ["VARCHAR", "DECIMAL(14,6)"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT CAST(ts AS STRING) FROM t",
        "SELECT concat('at ', ts) FROM t",
        "SELECT a / b FROM t",
        "SELECT avg(a) FROM t",
        "SELECT round(a, 2) FROM t",
    ],
)
def test_type_dependent_constructs_need_known_types(sql):
    with pytest.raises(NotPortableError, match="schema=") as info:
        to_duckdb(sql)
    assert info.value.construct == "unknown operand type"
    schema = {"t": {"ts": "timestamp", "a": "decimal(10,2)", "b": "int"}}
    assert to_duckdb(sql, schema=schema)


def test_known_types_through_case_and_windows():
    schema = {"t": {"a": "double", "k": "string"}}
    sql = (
        "SELECT CAST(CASE WHEN k = 'x' THEN a ELSE NULL END AS STRING), "
        "round(lag(a) OVER (ORDER BY k), 1) FROM t"
    )
    assert "ROUND" in to_duckdb(sql, schema=schema)


def test_try_arithmetic_gives_null_on_integer_overflow_only():
    schema = {"t": {"i": "int", "b": "bigint", "d": "double"}}
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT 2147483647 AS i, 9223372036854775807 AS b, 1.5::DOUBLE AS d"
    )
    sql = to_duckdb(
        "SELECT try_add(i, 1), try_add(i, CAST(1 AS BIGINT)), try_multiply(b, 2), "
        "try_subtract(-2147483648, 1), try_subtract(d, 1) FROM t",
        schema=schema,
    )
    rel = con.sql(sql)
    assert rel.fetchall() == [(None, 2147483648, None, None, 0.5)]
    assert [str(t) for t in rel.types] == ["INTEGER", "BIGINT", "BIGINT", "INTEGER", "DOUBLE"]
    with pytest.raises(duckdb.Error, match="Overflow"):  # outside try_add: raises, as on Spark
        con.sql(to_duckdb("SELECT try_add(1, i + 1) FROM t", schema=schema)).fetchall()


def test_allow_list_refuses_unlisted_functions_and_unverified_operand_kinds():
    schema = {"t": {"s": "string", "m": "map<string,int>", "d": "date"}}
    assert to_duckdb("SELECT upper(s) FROM t", schema=schema)
    for sql in (
        "SELECT soundex(s) FROM t",
        "SELECT upper(m) FROM t",
        "SELECT try_add(d, 1) FROM t",
    ):
        with pytest.raises(NotPortableError, match="allow-list") as info:
            to_duckdb(sql, schema=schema)
        assert "engine: spark" in info.value.advice
