"""The Spark dialect uses sqlglot's own Databricks parser (which sqlglotc compiles, and a
compiled parser refuses Python subclasses); our differences are applied to its tree."""

from __future__ import annotations

import pytest
from sqlglot import exp

from odibi_dbx.sql import SqlSyntaxError, parse_spark, portability_problems
from odibi_dbx.sql.parse import READ_DIALECT, UNIT_WRITTEN


def test_the_spark_dialect_parses_with_sqlglots_own_parser_class():
    # a parser class of ours cannot be built on the compiled build (sqlglotc)
    assert READ_DIALECT.parser_class.__module__.startswith("sqlglot.")


def _marks(sql: str) -> list[tuple[str, str | None]]:
    tree = parse_spark(sql)
    return [(type(n).__name__, n.meta.get(UNIT_WRITTEN)) for n in tree.find_all(exp.Func)]


@pytest.mark.parametrize(
    ("sql", "want"),
    [
        ("SELECT datediff(day, a, b) FROM t", [("DateDiff", "name")]),
        ("SELECT date_diff('day', a, b) FROM t", [("DateDiff", "quoted")]),
        ('SELECT DateAdd("MONTH", 1, a) FROM t', [("TimestampAdd", "quoted")]),
        ("SELECT timestampadd(HOUR, 1, a) FROM t", [("TimestampAdd", "name")]),
        ("SELECT datediff(b, a) FROM t", [("DateDiff", None)]),  # two arguments: no unit
        ("SELECT date_add(a, 1) FROM t", [("TsOrDsAdd", None)]),
        ("SELECT datediff( /* unit */ 'day', a, b) FROM t", [("DateDiff", "quoted")]),
    ],
)
def test_the_unit_is_marked_as_written(sql, want):
    assert _marks(sql) == want


def test_nested_unit_calls_are_marked_each_by_its_own_arguments():
    sql = "SELECT datediff('day', a, timestampdiff(HOUR, b, datediff(c, d))) AS x FROM t"
    marks = {(type(n).__name__, n.meta.get(UNIT_WRITTEN)) for n in parse_spark(sql).walk()}
    assert {("DateDiff", "quoted"), ("TimestampDiff", "name"), ("DateDiff", None)} <= marks


def test_spark4_timediff_is_timestampdiff_with_its_unit_marked():
    tree = parse_spark("SELECT timediff('MINUTE', a, b) AS m, TIMEDIFF(hour, a, b) AS h FROM t")
    diffs = list(tree.find_all(exp.TimestampDiff))
    assert [d.meta.get(UNIT_WRITTEN) for d in diffs] == ["quoted", "name"]
    assert [d.unit.name for d in diffs] == ["MINUTE", "HOUR"]
    assert not list(tree.find_all(exp.Anonymous))
    assert [p.construct for p in portability_problems(tree)] == ["quoted datetime unit"]


def test_timediff_with_missing_arguments_is_a_syntax_error_at_the_call():
    with pytest.raises(SqlSyntaxError) as info:
        parse_spark("SELECT\n  timediff(x) FROM t")
    assert info.value.line == 2
