"""Pandas engine: Parquet a node reads stays lazy (later nodes read the files, as a hand-written
DuckDB job does) only while nothing in the run can change those files; otherwise the node keeps
the rows it read. Through the CLI as a user runs it."""

from __future__ import annotations

import json

import pandas as pd

from tests.conftest import write

PROJECT = """
project: Lazy reads
connections:
  lake: {type: local, base_path: ./lake}
story: {connection: lake, path: stories/}
retry: {enabled: false}
pipelines:
  - pipeline: p
    nodes:
      - {name: seed, read: {connection: lake, path: new.parquet, format: parquet}}
      # reads x, later overwritten in this run by `refresh`
      - {name: old_x, read: {connection: lake, path: x.parquet, format: parquet}}
      - name: refresh
        depends_on: [seed]
        write: {connection: lake, path: x.parquet, format: parquet}
      - name: keep
        depends_on: [old_x, refresh]
        transform: {steps: ["SELECT id, v FROM old_x"]}
        write: {connection: lake, path: kept.parquet, format: parquet}
      # reads what `refresh` wrote before it: lazy is safe
      - name: new_x
        depends_on: [refresh]
        read: {connection: lake, path: x.parquet, format: parquet}
      - name: total
        depends_on: [new_x]
        transform: {steps: ["SELECT sum(v) AS v FROM new_x"]}
        write: {connection: lake, path: total.parquet, format: parquet}
"""


def test_a_read_overwritten_later_in_the_run_gives_its_readers_the_rows_it_read(tmp_path, cli):
    lake = tmp_path / "lake"
    lake.mkdir()
    pd.DataFrame({"id": [1, 2], "v": [10, 20]}).to_parquet(lake / "x.parquet")
    pd.DataFrame({"id": [7], "v": [70]}).to_parquet(lake / "new.parquet")
    write(tmp_path / "project.yaml", PROJECT)
    got = cli("run", "project.yaml", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    kept = pd.read_parquet(lake / "kept.parquet").sort_values("id")
    assert kept.to_dict("list") == {"id": [1, 2], "v": [10, 20]}  # as read, before `refresh`
    assert pd.read_parquet(lake / "total.parquet")["v"].tolist() == [70]
    story = json.loads(next((lake / "stories").glob("2*.json")).read_text())
    nodes = {n["name"]: n for n in story["nodes"]}
    assert nodes["old_x"]["rows_out"] == 2 and nodes["new_x"]["rows_out"] == 1
    assert nodes["new_x"]["profile"]["v"] == {
        "nulls": 0,
        "null_fraction": 0.0,
        "min": 70,
        "max": 70,
    }
    assert nodes["new_x"]["sample"] == [{"id": 7, "v": 70}]


SHARED = """
project: Shared lazy read
connections:
  lake: {type: local, base_path: ./lake}
story: {connection: lake, path: stories/}
retry: {enabled: false}
pipelines:
  - pipeline: p
    nodes:
      - {name: src, read: {connection: lake, path: x.parquet, format: parquet}}
      - name: as_csv
        depends_on: [src]
        write: {connection: lake, path: out/csv, format: csv}
      - name: checked
        depends_on: [src]
        validation: {not_empty: true}
        cache: true
        write: {connection: lake, path: out/checked, format: parquet}
      - name: as_parquet
        depends_on: [src]
        write: {connection: lake, path: out/parquet, format: parquet}
      - name: counted
        depends_on: [src, as_csv, checked, as_parquet]
        transform: {steps: ["SELECT count(*) AS n FROM src"]}
        write: {connection: lake, path: out/n, format: parquet}
"""


def test_nodes_sharing_a_lazy_read_each_get_all_its_rows(tmp_path, cli):
    lake = tmp_path / "lake"
    lake.mkdir()
    pd.DataFrame({"id": [1, 2, 3]}).to_parquet(lake / "x.parquet")
    write(tmp_path / "project.yaml", SHARED)
    got = cli("run", "project.yaml", cwd=tmp_path)
    assert got.returncode == 0, got.stderr + got.stdout
    for out in ("csv", "checked", "parquet"):
        fmt = "csv" if out == "csv" else "parquet"
        files = sorted((lake / "out" / out).glob(f"*.{fmt}"))
        frame = pd.concat(pd.read_csv(f) if fmt == "csv" else pd.read_parquet(f) for f in files)
        assert sorted(frame["id"]) == [1, 2, 3], out
    assert pd.read_parquet(lake / "out" / "n")["n"].tolist() == [3]
