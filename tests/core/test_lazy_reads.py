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
