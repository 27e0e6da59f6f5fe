"""One-line errors keep the engine's own hints (DuckDB's candidate columns and caret position)
and never show parser objects."""

from __future__ import annotations

import duckdb

from odibi_dbx.errors import first_line
from odibi_dbx.sql.errors import SqlSyntaxError
from odibi_dbx.sql.parse import parse_spark
from tests.scaffold.test_init import cli


def test_duckdb_hints_stay_on_the_line():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (region INT, status INT)")
    try:
        con.execute("SELECT regoin FROM t")
    except duckdb.Error as exc:
        line = first_line(exc)
    assert "\n" not in line
    assert 'Referenced column "regoin" not found' in line
    assert 'Candidate bindings: "region"' in line and '(at "regoin")' in line


def test_sql_syntax_errors_show_token_text():
    try:
        parse_spark("SELECT a FROM WHERE x")
    except SqlSyntaxError as exc:
        text = str(exc)
    assert "<Token" not in text and "'WHERE'" in text


def test_failed_run_prints_the_candidates(tmp_path):
    assert cli("init", "shop", cwd=tmp_path).returncode == 0
    proj = tmp_path / "shop"
    yaml_file = proj / "project.yaml"
    yaml_file.write_text(
        yaml_file.read_text().replace("SELECT region, COUNT(*)", "SELECT regoin, COUNT(*)")
    )
    p = cli("run", "project.yaml", "--pipeline", "silver", "--pipeline", "gold", cwd=proj)
    assert p.returncode == 1
    err = [ln for ln in p.stderr.splitlines() if "✗ gold.revenue_by_region failed" in ln]
    assert err and 'Candidate bindings: "region"' in err[0], p.stderr
