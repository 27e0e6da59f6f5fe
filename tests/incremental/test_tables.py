"""Catalog `table:` sources and targets (Spark; the local session's metastore): an incremental
read from a table whose watermark lives in the target table's commit, the change feed of a
table, SCD2 and merge into tables with schema evolution. The Pandas engine refuses `table:` at
validation."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import write
from tests.incremental.conftest import project, run

spark_only = pytest.mark.spark


@pytest.fixture
def tables(spark):
    """Unique table names in `default`, dropped afterwards (the session is shared)."""
    made: list[str] = []

    def name(stem: str) -> str:
        made.append(f"default.odibi_{stem}_{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield name
    for t in made:
        spark.sql(f"DROP TABLE IF EXISTS {t}")


def _rows(spark, table: str, columns: str) -> list[tuple]:
    return sorted(tuple(r) for r in spark.sql(f"SELECT {columns} FROM {table}").collect())


def _commits(spark, table: str) -> list[dict]:
    """version and userMetadata, newest first."""
    rows = spark.sql(f"DESCRIBE HISTORY {table}").select("version", "userMetadata").collect()
    return [r.asDict() for r in sorted(rows, key=lambda r: -r["version"])]


@spark_only
def test_table_source_watermark_in_table_target_and_failed_write_rereads(tmp_path, spark, tables):
    src, out = tables("src"), tables("out")
    spark.sql(f"CREATE TABLE {src} (id INT, amount INT, ts TIMESTAMP) USING delta")
    spark.sql(f"INSERT INTO {src} VALUES (1, 10, TIMESTAMP'2025-01-01 10:00:00')")
    proj = project(
        tmp_path,
        f"""
- name: load
  read: {{connection: lake, table: {src}, incremental: {{column: ts}}}}
  validation: {{no_nulls: [amount]}}
  write: {{connection: lake, table: {out}, mode: append}}
""",
    )
    first = run(proj, "spark")
    assert first.ok, first.nodes[0].error_message
    assert first.node("load").incremental["rows_read"] == 1
    state = json.loads(_commits(spark, out)[0]["userMetadata"])["odibi_incremental"]["p.load"]
    assert state["watermark"]["value"].startswith("2025-01-01T10:00:00")

    # a batch with a NULL amount: the fail rule aborts the write; nothing lands, state stays
    spark.sql(
        f"INSERT INTO {src} VALUES (2, NULL, TIMESTAMP'2025-01-01 11:00:00'), "
        "(3, 30, TIMESTAMP'2025-01-01 12:00:00')"
    )
    versions = len(_commits(spark, out))
    failed = run(proj, "spark")
    assert failed.node("load").status == "failed"
    assert len(_commits(spark, out)) == versions
    assert _rows(spark, out, "id, amount") == [(1, 10)]

    # fixed upstream: the next run reads the same two rows again, once
    spark.sql(f"UPDATE {src} SET amount = 20 WHERE id = 2")
    fixed = run(proj, "spark")
    assert fixed.ok, fixed.nodes[0].error_message
    inc = fixed.node("load").incremental
    assert inc["before"].startswith("2025-01-01T10:00:00") and inc["rows_read"] == 2
    assert _rows(spark, out, "id, amount") == [(1, 10), (2, 20), (3, 30)]


@spark_only
def test_change_feed_of_a_table_merged_into_a_table_with_add_columns(tmp_path, spark, tables):
    src, out = tables("cdf"), tables("latest")
    spark.sql(
        f"CREATE TABLE {src} (id INT, v STRING) USING delta "
        "TBLPROPERTIES (delta.enableChangeDataFeed = true)"
    )
    spark.sql(f"INSERT INTO {src} VALUES (1, 'a'), (2, 'b')")
    node = f"""
- name: changes
  read: {{connection: lake, table: {src}, incremental: {{change_feed: true}}}}
  write:
    connection: lake
    table: {out}
    mode: merge
    merge_keys: [id]
    schema_evolution: EVOLUTION
"""
    proj = project(tmp_path, node.replace("EVOLUTION", "add_columns"))
    first = run(proj, "spark")
    assert first.ok, first.nodes[0].error_message
    assert first.node("changes").incremental["after"] == {"version": 1}

    # the source gains a column, one row is updated, one deleted, one inserted
    spark.sql(f"ALTER TABLE {src} ADD COLUMNS (extra STRING)")
    spark.sql(f"UPDATE {src} SET v = 'b2', extra = 'x' WHERE id = 2")
    spark.sql(f"DELETE FROM {src} WHERE id = 1")
    spark.sql(f"INSERT INTO {src} VALUES (3, 'c', 'y')")
    strict = project(tmp_path, node.replace("EVOLUTION", "strict"))
    refused = run(strict, "spark")
    assert refused.node("changes").status == "failed"
    assert "extra" in refused.node("changes").error_message
    assert _rows(spark, out, "id, v, _change_type") == [(1, "a", "insert"), (2, "b", "insert")]

    proj = project(tmp_path, node.replace("EVOLUTION", "add_columns"))
    second = run(proj, "spark")
    assert second.ok, second.nodes[0].error_message
    inc = second.node("changes").incremental
    assert (inc["before"], inc["after"], inc["rows_read"]) == ({"version": 1}, {"version": 5}, 3)
    assert _rows(spark, out, "id, v, extra, _change_type") == [
        (1, "a", None, "delete"),  # the deleted row's values, flagged
        (2, "b2", "x", "update_postimage"),
        (3, "c", "y", "insert"),
    ]
    # the merge commit carries the version it read up to
    newest = json.loads(_commits(spark, out)[0]["userMetadata"])
    assert newest["odibi_incremental"]["p.changes"] == {"mode": "change_feed", "version": 5}


def _snapshot(folder, rows: list[str], header: str = "id,region,updated_at") -> None:
    write(folder / "lake" / "snap" / "s.csv", header + "\n" + "".join(r + "\n" for r in rows))


@spark_only
def test_scd2_into_a_table_strict_then_add_columns(tmp_path, spark, tables):
    dim = tables("dim")
    node = f"""
- name: dim
  read: {{connection: lake, path: snap, format: csv}}
  write:
    connection: lake
    table: {dim}
    mode: scd2
    merge_keys: [id]
    scd2: {{track: [region], valid_from: updated_at}}
    schema_evolution: EVOLUTION
"""
    proj = project(tmp_path, node.replace("EVOLUTION", "strict"))
    _snapshot(tmp_path, ["1,EU,2025-01-01 00:00:00", "2,US,2025-01-01 00:00:00"])
    assert run(proj, "spark").ok
    # key 1 moves region (tracked), key 2 is unchanged, key 3 is new; a new column arrives
    _snapshot(
        tmp_path,
        ["1,US,2025-01-02 00:00:00,a", "2,US,2025-01-02 00:00:00,b", "3,EU,2025-01-02 00:00:00,c"],
        "id,region,updated_at,tier",
    )
    refused = run(proj, "spark")
    assert refused.node("dim").status == "failed"
    assert "tier" in refused.node("dim").error_message
    assert len(_rows(spark, dim, "*")) == 2

    proj = project(tmp_path, node.replace("EVOLUTION", "add_columns"))
    evolved = run(proj, "spark")
    assert evolved.ok, evolved.nodes[0].error_message
    cols = "id, region, tier, CAST(_valid_from AS STRING), CAST(_valid_to AS STRING), _is_current"
    d1, d2 = "2025-01-01 00:00:00", "2025-01-02 00:00:00"
    assert _rows(spark, dim, cols) == [
        (1, "EU", None, d1, d2, False),
        (1, "US", "a", d2, None, True),
        (2, "US", "b", d1, None, True),  # only the untracked new column: updated in place
        (3, "EU", "c", d2, None, True),
    ]


def test_pandas_refuses_catalog_tables_at_validation(tmp_path, cli):
    proj = project(
        tmp_path,
        """
- name: load
  read: {connection: lake, table: main.bronze.orders, incremental: {column: ts}}
  write: {connection: lake, table: main.silver.orders, mode: append}
""",
    )
    out = cli("validate", str(proj), "--engine", "pandas")
    assert out.returncode == 2
    assert "catalog tables (table:) need the Spark engine" in out.stdout + out.stderr


def test_a_non_delta_table_cannot_keep_a_watermark_or_take_a_merge(tmp_path, cli):
    """A parquet catalog table has no commit to carry the state (it would fail every later run)
    and no MERGE (its write would overwrite): both refused before anything runs."""
    proj = project(
        tmp_path,
        """
- name: load
  read: {connection: lake, path: src, format: csv, incremental: {column: ts}}
  write: {connection: lake, table: main.silver.orders, format: parquet, mode: append}
""",
    )
    out = cli("validate", str(proj), "--engine", "spark")
    assert out.returncode == 2
    assert "is format parquet, which cannot keep the watermark" in out.stdout + out.stderr
    merge = project(
        tmp_path,
        """
- name: load
  read: {connection: lake, path: src, format: csv}
  write: {connection: lake, table: t, format: parquet, mode: merge, merge_keys: [id]}
""",
    )
    out = cli("validate", str(merge), "--engine", "spark")
    assert out.returncode == 2
    assert "mode: merge is only for format: delta" in out.stdout + out.stderr
