"""Delta change data feed reads, SCD type 2 writes and schema evolution on both engines, and
tables one engine wrote continued by the other."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from tests.conftest import write
from tests.incremental.conftest import delta_rows, project, run, ts

CDF_NODE = """
- name: changes
  read: {connection: lake, path: src, format: delta, incremental: {change_feed: true}}
  write: {connection: lake, path: feed, format: delta, mode: append}
"""


def test_change_feed_after_updates_and_deletes(tmp_path, engine):
    from deltalake import DeltaTable, write_deltalake

    src = str(tmp_path / "lake" / "src")
    data = pa.table({"id": [1, 2, 3], "v": ["a", "b", "c"]})
    write_deltalake(src, data, configuration={"delta.enableChangeDataFeed": "true"})
    proj = project(tmp_path, CDF_NODE)
    first = run(proj, engine)
    assert first.ok, first.nodes[0].error_message
    assert first.node("changes").incremental["after"] == {"version": 0}

    table = DeltaTable(src)
    table.update(updates={"v": "'B'"}, predicate="id = 2")  # version 1
    table.delete("id = 3")  # version 2
    write_deltalake(src, pa.table({"id": [4], "v": ["d"]}), mode="append")  # version 3
    second = run(proj, engine)
    assert second.ok, second.nodes[0].error_message
    inc = second.node("changes").incremental
    assert (inc["before"], inc["after"], inc["rows_read"]) == ({"version": 0}, {"version": 3}, 3)
    third = run(proj, engine)  # nothing new: an empty batch, the version stays
    assert third.node("changes").incremental["rows_read"] == 0
    assert delta_rows(
        tmp_path / "lake" / "feed", ["id", "v", "_change_type", "_commit_version"]
    ) == [
        (1, "a", "insert", 0),
        (2, "B", "update_postimage", 1),
        (2, "b", "insert", 0),
        (3, "c", "delete", 2),
        (3, "c", "insert", 0),
        (4, "d", "insert", 3),
    ]


SCD2_NODE = """
- name: dim
  read: {connection: lake, path: snapshot.csv, format: csv}
  write:
    connection: lake
    path: dim
    format: delta
    mode: scd2
    merge_keys: [id]
    scd2: {track: [email, region], valid_from: updated_at, deletes: close}
"""

SNAPSHOTS = [
    # id, email, region, score (untracked), updated_at
    [
        (1, "a@x", "EU", 1, "2025-01-01"),
        (2, "b@x", "US", 2, "2025-01-01"),
        (3, None, "EU", 3, "2025-01-01"),
    ],
    [
        (1, "a2@x", "EU", 1, "2025-01-02"),  # tracked change: new version
        (2, "b@x", "US", 20, "2025-01-02"),  # untracked change: in place
        (3, None, "EU", 3, "2025-01-02"),  # NULL == NULL, only valid_from moved: no change
        (4, "d@x", "APAC", 4, "2025-01-02"),  # new key
    ],
    [
        (1, "a2@x", "US", 1, "2025-01-03"),  # tracked change again
        (3, "c@x", "EU", 3, "2025-01-03"),  # NULL -> value: new version
        (4, "d@x", "APAC", 4, "2025-01-02"),  # unchanged; key 2 vanished: closed
    ],
]


def expected_scd2(snapshots):
    """SCD2 computed independently: versions per key as plain Python lists."""
    versions: dict[int, list[dict]] = {}
    for snap in snapshots:
        seen = set()
        as_of = max(ts(r[4]) for r in snap)
        for id_, email, region, score, updated in snap:
            seen.add(id_)
            when = ts(updated)
            row = {"email": email, "region": region, "score": score, "updated_at": when}
            hist = versions.setdefault(id_, [])
            cur = hist[-1] if hist and hist[-1]["_is_current"] else None
            if cur is None:
                hist.append({**row, "_valid_from": when, "_valid_to": None, "_is_current": True})
            elif (cur["email"], cur["region"]) != (email, region):
                cur.update(_valid_to=when, _is_current=False)
                hist.append({**row, "_valid_from": when, "_valid_to": None, "_is_current": True})
            elif cur["score"] != score:  # untracked change: in place
                cur.update(score=score, updated_at=when)
            # else unchanged: untouched, even though its updated_at (valid_from) moved
        for id_, hist in versions.items():
            if id_ not in seen and hist[-1]["_is_current"]:
                hist[-1].update(_valid_to=as_of, _is_current=False)
    return sorted(
        (
            (
                id_,
                v["email"],
                v["region"],
                v["score"],
                v["updated_at"],
                v["_valid_from"],
                v["_valid_to"],
                v["_is_current"],
            )
            for id_, hist in versions.items()
            for v in hist
        ),
        key=repr,
    )


SCD2_COLUMNS = [
    "id",
    "email",
    "region",
    "score",
    "updated_at",
    "_valid_from",
    "_valid_to",
    "_is_current",
]


def _snapshot(folder, rows):
    lines = ["id,email,region,score,updated_at"]
    lines += [
        ",".join("" if v is None else str(v) for v in r[:4]) + f",{r[4]} 00:00:00" for r in rows
    ]
    write(folder / "lake" / "snapshot.csv", "\n".join(lines) + "\n")


def test_scd2_over_three_snapshots_and_rerun_changes_nothing(tmp_path, engine):
    from deltalake import DeltaTable

    proj = project(tmp_path, SCD2_NODE)
    before: list = []
    for i, snap in enumerate(SNAPSHOTS, 1):
        _snapshot(tmp_path, snap)
        res = run(proj, engine)
        assert res.ok, res.nodes[0].error_message
        got = delta_rows(tmp_path / "lake" / "dim", SCD2_COLUMNS)
        assert got == expected_scd2(SNAPSHOTS[:i]), f"after snapshot {i}"
        # the write's count is the rows it changed (closed + inserted), the same on both engines
        changed = len(set(map(tuple, got)) - set(map(tuple, before)))
        assert res.node("dim").write["rows"] == changed, f"snapshot {i}"
        before = got
    version = DeltaTable(str(tmp_path / "lake" / "dim")).version()
    again = run(proj, engine)  # the same snapshot again
    assert again.ok and again.node("dim").write["rows"] == 0
    assert delta_rows(tmp_path / "lake" / "dim", SCD2_COLUMNS) == expected_scd2(SNAPSHOTS)
    # the same values a day later (only valid_from moves): still nothing to write
    _snapshot(tmp_path, [(*r[:4], "2025-01-04") for r in SNAPSHOTS[-1]])
    assert run(proj, engine).ok
    assert delta_rows(tmp_path / "lake" / "dim", SCD2_COLUMNS) == expected_scd2(SNAPSHOTS)
    after = DeltaTable(str(tmp_path / "lake" / "dim"))
    changed = [h for h in after.history() if h["version"] > version]
    for h in changed:  # an empty commit at most: no row rewritten
        metrics = h.get("operationMetrics", {})
        assert not metrics.get("num_target_rows_updated") and not metrics.get(
            "numTargetRowsUpdated"
        )
        assert not metrics.get("num_target_rows_inserted") and not metrics.get(
            "numTargetRowsInserted"
        )


def test_scd2_refuses_a_source_repeating_a_key_named_count(tmp_path, engine):
    """A key may have any name, `count` too (Spark's groupBy().count() names its column so)."""
    node = SCD2_NODE.replace("merge_keys: [id]", "merge_keys: [count]")
    node = node.replace("track: [email, region]", "track: [email]")
    proj = project(tmp_path, node.replace("snapshot.csv", "keyed.csv"))
    rows = "count,email,updated_at\n1,a@x,2025-01-01\n2,b@x,2025-01-01\n1,c@x,2025-01-01\n"
    write(tmp_path / "lake" / "keyed.csv", rows)
    res = run(proj, engine)
    assert res.node("dim").status == "failed"
    failed = res.node("dim")
    assert "scd2 source has 2 rows for key {'count': 1}" in failed.error_message
    assert "Nothing was written" in failed.error_message
    assert "the previous output was left as it was" in failed.error.detail
    assert not (tmp_path / "lake" / "dim").exists()  # refused before anything was written
    write(tmp_path / "lake" / "keyed.csv", rows.replace("1,c@x", "3,c@x"))
    assert run(proj, engine).ok
    assert delta_rows(tmp_path / "lake" / "dim", ["count", "email"]) == [
        (1, "a@x"),
        (2, "b@x"),
        (3, "c@x"),
    ]


@pytest.mark.spark
def test_tables_written_by_one_engine_are_continued_by_the_other(tmp_path, spark):
    """SCD2: pandas, then spark, then pandas. Incremental: the state pandas stored in its Delta
    commit is where spark starts, and the other way round."""
    proj = project(tmp_path, SCD2_NODE)
    for snap, engine in zip(SNAPSHOTS, ["pandas", "spark", "pandas"], strict=True):
        _snapshot(tmp_path, snap)
        res = run(proj, engine)
        assert res.ok, (engine, res.nodes[0].error_message)
    assert delta_rows(tmp_path / "lake" / "dim", SCD2_COLUMNS) == expected_scd2(SNAPSHOTS)

    inc = project(
        tmp_path / "inc",
        """
- name: load
  read: {connection: lake, path: src, format: csv, incremental: {column: ts}}
  write: {connection: lake, path: out, format: delta, mode: append}
""",
    )
    src = tmp_path / "inc" / "lake" / "src"
    write(src / "b1.csv", "id,ts\n1,2025-01-01 10:00:00\n")
    assert run(inc, "pandas").ok
    write(src / "b2.csv", "id,ts\n2,2025-01-01 11:00:00\n")
    on_spark = run(inc, "spark")
    assert on_spark.ok, on_spark.nodes[0].error_message
    assert on_spark.node("load").incremental["before"].startswith("2025-01-01T10:00:00")
    write(src / "b3.csv", "id,ts\n3,2025-01-01 12:00:00\n")
    back = run(inc, "pandas")
    assert back.node("load").incremental["before"].startswith("2025-01-01T11:00:00")
    assert delta_rows(tmp_path / "inc" / "lake" / "out", ["id"]) == [(1,), (2,), (3,)]


APPEND_EVOLVING = """
- name: add
  read: {connection: lake, path: batch.csv, format: csv}
  write:
    connection: lake
    path: out
    format: delta
    mode: append
    schema_evolution: add_columns
"""


def test_add_columns_adds_new_columns_and_nulls_missing_ones(tmp_path, engine):
    proj = project(tmp_path, APPEND_EVOLVING)
    write(tmp_path / "lake" / "batch.csv", "id,a\n1,x\n")
    assert run(proj, engine).ok
    write(tmp_path / "lake" / "batch.csv", "id,b\n2,5\n")  # a missing, b new
    res = run(proj, engine)
    assert res.ok, res.nodes[0].error_message
    assert delta_rows(tmp_path / "lake" / "out", ["id", "a", "b"]) == [(1, "x", None), (2, None, 5)]
    strict = project(tmp_path, APPEND_EVOLVING.replace("add_columns", "strict"))
    write(tmp_path / "lake" / "batch.csv", "id,c\n3,1\n")
    refused = run(strict, engine)
    assert refused.node("add").status == "failed"
    assert "new column 'c'" in refused.node("add").error_message
    write(tmp_path / "lake" / "batch.csv", "id,a\nx4,y\n")  # id: string, the table has int
    retyped = run(proj, engine)
    assert retyped.node("add").status == "failed"
    assert "column 'id' is string, the target has int" in retyped.node("add").error_message
    assert [r[0] for r in delta_rows(tmp_path / "lake" / "out", ["id"])] == [1, 2]


def test_scd2_validity_columns_take_the_type_of_valid_from(tmp_path):
    proj = project(
        tmp_path,
        SCD2_NODE.replace(
            "snapshot.csv, format: csv}",
            "snapshot.csv, format: csv, schema: 'id INT, email STRING, region STRING, score INT, updated_at DATE'}",
        ),
    )
    write(
        tmp_path / "lake" / "snapshot.csv",
        "id,email,region,score,updated_at\n1,a,EU,1,2025-01-01\n",
    )
    assert run(proj, "pandas").ok
    from deltalake import DeltaTable

    schema = pa.schema(DeltaTable(str(tmp_path / "lake" / "dim")).schema().to_arrow())
    assert schema.field("_valid_from").type == pa.date32()
    assert schema.field("_valid_to").type == pa.date32()
    assert (
        dt.date(2025, 1, 1)
        == DeltaTable(str(tmp_path / "lake" / "dim")).to_pyarrow_table()["_valid_from"][0].as_py()
    )


def test_scd2_adding_columns_leaves_the_table_as_it_was_when_the_merge_fails(tmp_path, monkeypatch):
    """Pandas adds an SCD2 batch's new columns in a commit of their own before the MERGE; a
    MERGE that fails then takes that commit back (restore): rows and schema as they were."""
    from deltalake import DeltaTable

    proj = project(
        tmp_path, SCD2_NODE.replace(", deletes: close}", "}\n    schema_evolution: add_columns")
    )
    snapshot = tmp_path / "lake" / "snapshot.csv"
    write(snapshot, "id,email,region,updated_at\n1,a,EU,2025-01-01 00:00:00\n")
    assert run(proj, "pandas").ok
    dim = str(tmp_path / "lake" / "dim")
    before = DeltaTable(dim)
    rows, names = before.to_pyarrow_table().to_pylist(), before.schema().to_arrow().names

    def broken_merge(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(DeltaTable, "merge", broken_merge)
    write(snapshot, "id,email,region,tier,updated_at\n1,b,EU,gold,2025-01-02 00:00:00\n")
    failed = run(proj, "pandas")
    assert failed.node("dim").status == "failed"
    assert "disk full" in failed.node("dim").error_message
    after = DeltaTable(dim)
    assert after.schema().to_arrow().names == names  # no `tier`
    assert after.to_pyarrow_table().to_pylist() == rows
    assert [h["operation"] for h in after.history()][:2] == ["RESTORE", "ADD COLUMN"]

    monkeypatch.undo()
    assert run(proj, "pandas").ok  # the same batch again, now merged with its new column
    assert delta_rows(tmp_path / "lake" / "dim", ["id", "email", "tier", "_is_current"]) == [
        (1, "a", None, False),
        (1, "b", "gold", True),
    ]
