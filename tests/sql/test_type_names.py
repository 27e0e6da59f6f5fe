"""The type-name memo that parse_spark uses while sqlglot 30.30 checks each CAST's type
(odibi_dbx.sql.type_names): it gives what sqlglot's own parse gives, a fresh tree each time,
only while a step is parsed, in any number of threads, and only on the version it was verified
on."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlglot
import tomllib
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from odibi_dbx.sql import SqlSyntaxError, parse_spark
from odibi_dbx.sql import type_names as T

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["char", "varchar", "INT", "DECIMAL(10, 2)", "ARRAY<STRING>", "MAP<STRING, INT>"]


def test_the_memo_is_tied_to_the_pinned_sqlglot():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in pyproject["project"]["dependencies"] if re.match(r"sqlglot\s*==", d)]
    assert [p.split("==")[1].strip() for p in pins] == [T.VERIFIED_ON]
    assert sqlglot.__version__ == T.VERIFIED_ON  # so the memo is on here


def test_a_memoized_type_name_is_what_sqlglot_parses_and_a_new_tree_each_time():
    real = sqlglot.parse_one
    ignore = ErrorLevel.IGNORE
    with T.type_names_parsed_once():
        assert sqlglot.parse_one is not real
        for name in NAMES:
            first = sqlglot.parse_one(name, into=exp.DataType, error_level=ignore)
            first.set("this", exp.DType.BOOLEAN)  # a caller may change the tree it got
            again = sqlglot.parse_one(name, into=exp.DataType, error_level=ignore)  # memo
            assert again == real(name, into=exp.DataType, error_level=ignore)
            assert again is not first
        # anything else goes to sqlglot's own parse
        assert sqlglot.parse_one("SELECT 1", read="duckdb") == real("SELECT 1", read="duckdb")
        assert sqlglot.parse_one("INT", read="duckdb", into=exp.DataType) == real(
            "INT", read="duckdb", into=exp.DataType
        )
        with pytest.raises(sqlglot.ParseError):
            sqlglot.parse_one("(", into=exp.DataType)
    assert sqlglot.parse_one is real
    for name in [*NAMES, "x_udt"]:  # (not a type: a user-defined one, as sqlglot builds it)
        with T.type_names_parsed_once():
            inside = exp.DataType.build(name, udt=True)
        assert inside == exp.DataType.build(name, udt=True)


def test_sqlglot_is_itself_again_after_each_parse_even_a_failed_one_and_in_threads():
    real = sqlglot.parse_one
    steps = [
        f"SELECT CAST(a AS VARCHAR({i % 9 + 1})) AS s, CAST(b AS INT) AS i FROM t"
        for i in range(60)
    ]
    with ThreadPoolExecutor(4) as pool:
        trees = list(pool.map(parse_spark, steps))
    assert sqlglot.parse_one is real
    assert {t.sql("databricks") for t in trees} == {
        "SELECT CAST(a AS STRING) AS s, CAST(b AS INT) AS i FROM t"
    }  # Spark reads CHAR/VARCHAR casts as STRING (sqlglot's Hive parser)
    with pytest.raises(SqlSyntaxError):
        parse_spark("SELECT CAST(a AS INT) AS x, (b FROM t")
    assert sqlglot.parse_one is real


def test_off_on_another_sqlglot_version(monkeypatch):
    monkeypatch.setattr(T, "_ACTIVE", False)
    real = sqlglot.parse_one
    with T.type_names_parsed_once():
        assert sqlglot.parse_one is real
