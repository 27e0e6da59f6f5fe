"""The Spark engine refuses the same appends and merges as the pandas engine (tests/core/
test_inputs_checked.py runs the same project through the CLI) and reads ragged CSV the same."""

from __future__ import annotations

import pytest

from tests.core import inputs_project as ip
from tests.parity.parity_compare import read_output

pytestmark = pytest.mark.spark


def test_spark_refuses_the_same_writes(spark, tmp_path):
    from odibi_dbx import Project

    project = ip.make(tmp_path)
    before = ip.snapshot(tmp_path)
    with Project.load(project, engine="spark", keep_outputs=False) as p:
        res = p.run()
    ip.check_outcome(
        {n.name: (n.status, n.error_message, n.error and n.error.detail) for n in res.nodes}
    )
    assert ip.snapshot(tmp_path) == before
    assert not (tmp_path / "out" / "merged").exists()
    assert sorted(read_output(tmp_path / "out" / "ragged").to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "v": "a", "w": "x"},
        {"id": 2, "v": "b", "w": None},
        {"id": 3, "v": "c", "w": "y"},
        {"id": 4, "v": "d", "w": "z"},
    ]
    assert sorted(r["id"] for r in read_output(tmp_path / "out" / "ok").to_pylist()) == [1, 2, 7]
