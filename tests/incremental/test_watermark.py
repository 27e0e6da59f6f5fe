"""Incremental reads on a watermark column, both engines: lookback, late rows, failed and killed
runs, state kept with the write, missing state, --full-refresh."""

from __future__ import annotations

import json
import signal

from tests.conftest import write
from tests.incremental.conftest import delta_rows, project, run, ts

HEADER = "id,amount,ts\n"


def _batch(folder, name, rows):
    write(folder / "lake" / "src" / f"{name}.csv", HEADER + "".join(r + "\n" for r in rows))


MERGE_NODE = """
- name: load
  read:
    connection: lake
    path: src
    format: csv
    incremental: {column: ts, lookback: "1 hour"}
  write: {connection: lake, path: out, format: delta, mode: merge, merge_keys: [id]}
"""


def test_lookback_rereads_late_rows_into_a_merge_without_duplicates(tmp_path, engine):
    proj = project(tmp_path, MERGE_NODE)
    _batch(tmp_path, "b1", ["1,10,2025-01-01 10:00:00", "2,20,2025-01-01 11:00:00"])
    first = run(proj, engine)
    assert first.ok, first.nodes[0].error_message
    inc = first.node("load").incremental
    assert (inc["before"], inc["rows_read"]) == (None, 2)
    assert inc["after"].startswith("2025-01-01T11:00:00")

    # a new row, a late row inside the lookback, a late row outside it
    _batch(
        tmp_path,
        "b2",
        ["3,30,2025-01-01 12:00:00", "4,40,2025-01-01 10:30:00", "5,50,2025-01-01 09:00:00"],
    )
    second = run(proj, engine)
    assert second.ok, second.nodes[0].error_message
    inc = second.node("load").incremental
    assert inc["lower_bound"].startswith("2025-01-01T10:00:00")  # 11:00 minus 1 hour
    assert inc["rows_read"] == 3  # 2 (again, inside the lookback), 3 and 4; not 5
    assert inc["after"].startswith("2025-01-01T12:00:00")
    assert delta_rows(tmp_path / "lake" / "out", ["id", "amount"]) == [
        (1, 10),
        (2, 20),
        (3, 30),
        (4, 40),
    ]

    refresh = run(proj, engine, full_refresh=True)  # ignores the state: row 5 is read too
    assert refresh.ok
    assert refresh.node("load").incremental["full_refresh"] is True
    assert refresh.node("load").incremental["rows_read"] == 5
    assert [r[0] for r in delta_rows(tmp_path / "lake" / "out", ["id"])] == [1, 2, 3, 4, 5]


FANOUT = """
- name: load
  read: {connection: lake, path: src, format: csv, incremental: {column: ts}}
- name: to_delta
  depends_on: [load]
  write: {connection: lake, path: merged, format: delta, mode: merge, merge_keys: [id]}
- name: checked
  depends_on: [load]
  transform: {steps: ["SELECT * FROM load"]}
  validation: {no_nulls: [amount]}
  write: {connection: lake, path: appended, format: parquet, mode: append}
"""


def _parquet_ids(folder):
    import pyarrow.dataset as ds

    files = [str(f) for f in folder.rglob("*.parquet")]
    return sorted(ds.dataset(files, format="parquet").to_table()["id"].to_pylist())


def test_a_failed_write_downstream_holds_the_watermark_back(tmp_path):
    """One read, two writes: when one fails, the next run reads its rows again; the append
    target gets them exactly once, the merge target has no duplicate. (Engine-neutral
    bookkeeping; the Spark engine's state in Delta commits is covered by the other tests.)"""
    engine = "pandas"
    proj = project(tmp_path, FANOUT)
    _batch(tmp_path, "b1", ["1,10,2025-01-01 10:00:00"])
    assert run(proj, engine).ok
    _batch(tmp_path, "b2", ["2,,2025-01-01 11:00:00", "3,30,2025-01-01 12:00:00"])
    partial = run(proj, engine)
    assert partial.node("to_delta").status == "success"
    assert partial.node("checked").status == "failed"  # nothing appended
    assert _parquet_ids(tmp_path / "lake" / "appended") == [1]
    # the data is fixed upstream; the next run reads batch 2 again for both writes
    _batch(tmp_path, "b2", ["2,20,2025-01-01 11:00:00", "3,30,2025-01-01 12:00:00"])
    fixed = run(proj, engine)
    assert fixed.ok, [n.error_message for n in fixed.nodes]
    assert fixed.node("load").incremental["rows_read"] == 2
    assert _parquet_ids(tmp_path / "lake" / "appended") == [1, 2, 3]
    assert delta_rows(tmp_path / "lake" / "merged", ["id", "amount"]) == [
        (1, 10),
        (2, 20),
        (3, 30),
    ]
    # the parquet output's state sits beside it, the Delta output's in its last commit
    state = json.loads((tmp_path / "lake" / ".appended.odibi-incremental.json").read_text())
    assert state["odibi_incremental"]["p.load"]["watermark"]["value"].startswith(
        "2025-01-01T12:00:00"
    )


APPEND_WITH_KILL = """
- name: load
  read: {connection: lake, path: src, format: csv, incremental: {column: ts}}
  transform:
    steps: [{function: maybe_die}]
  write: {connection: lake, path: out, format: delta, mode: append}
"""

DIE = """
import os, signal
from odibi_dbx import transform

@transform
def maybe_die(context):
    if os.environ.get("DIE_NOW"):
        os.kill(os.getpid(), signal.SIGKILL)
    return context.get("this")
"""


def test_a_killed_run_reads_the_same_rows_again(tmp_path, cli):
    write(tmp_path / "steps.py", DIE)
    proj = project(tmp_path, APPEND_WITH_KILL, imports="imports: [steps.py]")
    _batch(tmp_path, "b1", ["1,10,2025-01-01 10:00:00"])
    assert run(proj, "pandas").ok  # in process: only the killed run needs its own process
    _batch(tmp_path, "b2", ["2,20,2025-01-01 11:00:00"])
    killed = cli("run", str(proj), env={"DIE_NOW": "1"})
    assert killed.returncode == -signal.SIGKILL
    again = run(proj, "pandas")
    assert again.ok, [n.error_message for n in again.nodes]
    assert delta_rows(tmp_path / "lake" / "out", ["id"]) == [(1,), (2,)]  # no loss, no duplicate


def test_state_that_cannot_be_read_is_an_error_never_a_full_reload(tmp_path, cli):
    plain = """
- name: load
  read: {connection: lake, path: src, format: csv}
  write: {connection: lake, path: out, format: parquet, mode: append}
"""
    _batch(tmp_path, "b1", ["1,10,2025-01-01 10:00:00"])
    assert run(project(tmp_path, plain), "pandas").ok  # the output exists, without state
    proj = project(
        tmp_path, plain.replace("format: csv}", "format: csv, incremental: {column: ts}}")
    )
    res = run(proj, "pandas")
    assert res.node("load").status == "failed"
    assert "holds no incremental state" in res.node("load").error_message
    assert "--full-refresh" in res.node("load").error_message
    assert _parquet_ids(tmp_path / "lake" / "out") == [1]  # nothing appended

    done = cli("run", str(proj), "--full-refresh")  # deliberate: rebuilds the append target
    assert done.returncode == 0, done.stderr
    assert _parquet_ids(tmp_path / "lake" / "out") == [1]
    state = tmp_path / "lake" / ".out.odibi-incremental.json"
    assert json.loads(state.read_text())["odibi_incremental"]["p.load"]["column"] == "ts"

    state.write_text("{not json")  # damaged state: refused, the output stays
    _batch(tmp_path, "b2", ["2,20,2025-01-01 11:00:00"])
    res = run(proj, "pandas")
    assert res.node("load").status == "failed"
    assert "cannot read the incremental state" in res.node("load").error_message
    assert _parquet_ids(tmp_path / "lake" / "out") == [1]


def test_watermark_kinds_and_lookback_arithmetic():
    from odibi_dbx.incremental.watermark import Watermark, earliest, parse_lookback

    assert parse_lookback("2 hours").total_seconds() == 7200
    assert Watermark("number", "100").minus(5).value == "95"
    assert Watermark("date", "2025-03-01").minus("2 days").value == "2025-02-27"
    t = Watermark("timestamp", "2025-01-01T00:30:00.000000+00:00").minus("1 hour")
    assert ts(t.value.replace("+00:00", "")) == ts("2024-12-31T23:30:00")
    assert earliest([Watermark("number", "9"), Watermark("number", "10")]).value == "9"
    assert earliest([Watermark("number", "9"), None]) is None


def test_validation_refuses_reads_without_a_write_and_deletes_on_batches(tmp_path, cli):
    proj = project(
        tmp_path,
        """
- name: load
  read: {connection: lake, path: src, format: csv, incremental: {column: ts}}
- name: dim
  depends_on: [load]
  write:
    connection: lake
    path: dim
    format: delta
    mode: scd2
    merge_keys: [id]
    scd2: {track: [amount], valid_from: ts, deletes: close}
- name: lonely
  read: {connection: lake, path: src, format: csv, incremental: {column: ts, lookback: 2 parsecs}}
""",
    )
    res = cli("validate", str(proj))
    assert res.returncode == 2
    assert "deletes: close needs full snapshots" in res.stderr
    assert "no write downstream to keep its watermark" in res.stderr
    assert "lookback '2 parsecs' is not a duration" in res.stderr


def test_state_is_found_behind_many_later_commits(tmp_path):
    """The Pandas engine walks the log back from the newest commit: a state 80 commits back
    is found, and it is the one the full history holds."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable, write_deltalake
    from deltalake.transaction import CommitProperties

    from odibi_dbx.incremental import state as S

    proj = project(tmp_path, MERGE_NODE)
    _batch(tmp_path, "b1", ["1,10,2025-01-01 10:00:00", "2,20,2025-01-01 11:00:00"])
    assert run(proj, "pandas").ok
    out = tmp_path / "lake" / "out"
    # 80 later commits (past the walk's first two pages, 8 and 64) by others: no metadata, free
    # text, another read's state
    others = [None, "hand-edited", S.commit_metadata({"q.other": {"mode": "change_feed"}})]
    one = DeltaTable(str(out)).to_pyarrow_table().filter(pc.field("id") == 1)
    for i in range(80):
        meta = others[i % 3]
        write_deltalake(
            str(out),
            one,
            mode="append",
            commit_properties=CommitProperties(
                custom_metadata={"userMetadata": meta} if meta else None
            ),
        )
    full = [c.get("userMetadata") for c in DeltaTable(str(out)).history()]
    assert len(full) > 80
    expected = S.newest_state(full, "p.load")
    assert expected["watermark"]["value"].startswith("2025-01-01T11:00:00")

    _batch(tmp_path, "b2", ["3,30,2025-01-01 12:00:00"])
    second = run(proj, "pandas")
    assert second.ok, second.nodes[0].error_message
    inc = second.node("load").incremental
    assert inc["before"] == expected["watermark"]["value"]
    assert inc["rows_read"] == 2  # rows 2 (lookback) and 3: the state was found, not a first run
