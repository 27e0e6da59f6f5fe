"""Which reads stay as they are for the rest of a run (`Runner._stable_reads`: every node that
writes what the node reads is an ancestor of it): a write of the same path, of a folder holding
the read or of a path in it makes a read unstable when it can run later; a write of a sibling,
of another connection or of another table does not."""

from __future__ import annotations

from odibi_dbx import Project
from odibi_dbx.pipeline.runner import Runner
from tests.conftest import write

PROJECT = """
project: Stable reads
connections:
  lake: {type: local, base_path: ./lake}
  other: {type: local, base_path: ./other}
  whole: {type: local, base_path: ./whole}
story: {connection: lake, path: stories/}
pipelines:
  - pipeline: p
    nodes:
      - {name: seed, read: {connection: lake, path: seed.csv, format: csv}}
      # share an output path with a write that runs later
      - {name: same, read: {connection: lake, path: x.csv, format: csv}}
      - {name: folder, read: {connection: lake, path: d, format: csv}}
      - {name: in_folder, read: {connection: lake, path: e/f.csv, format: csv}}
      - {name: in_root, read: {connection: whole, path: r, format: csv}}
      # share none
      - {name: sibling, read: {connection: lake, path: d2, format: csv}}
      - {name: elsewhere, read: {connection: other, path: x.csv, format: csv}}
      - name: writes
        depends_on: [seed]
        write: {connection: lake, path: x.csv, format: csv}
      - name: writes_in_d
        depends_on: [seed]
        write: {connection: lake, path: d/part.csv, format: csv}
      - name: writes_e
        depends_on: [seed]
        write: {connection: lake, path: e, format: csv}
      - name: writes_root
        depends_on: [seed]
        write: {connection: whole, path: ".", format: csv}
      # reads what an ancestor wrote: nothing writes it later
      - name: after
        depends_on: [writes]
        read: {connection: lake, path: x.csv, format: csv}
"""


def test_reads_sharing_a_path_with_a_later_write_are_not_stable(tmp_path):
    write(tmp_path / "project.yaml", PROJECT)
    with Project.load(tmp_path / "project.yaml") as project:
        runner = Runner(project.loaded, project.engine, project.connections)
        stable = {
            node.name: runner._stable_reads(node)
            for node in project.loaded.plan.nodes.values()
            if node.reads
        }
    assert stable == {
        "seed": True,
        "same": False,
        "folder": False,
        "in_folder": False,
        "in_root": False,  # a one-letter path once tied with "." and counted as stable
        "sibling": True,
        "elsewhere": True,
        "after": True,
    }
