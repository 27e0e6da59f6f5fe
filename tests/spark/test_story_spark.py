"""Story profiles and vs_previous gates on the Spark engine: the same numbers as on Pandas."""

from __future__ import annotations

import pytest

from tests.core.test_story_history import csv_text, failing_rows_case, gate_edges, make, run

pytestmark = pytest.mark.spark


def test_gates_at_their_edges_spark(spark, tmp_path):
    gate_edges(tmp_path, "spark")


def test_profiles_match_pandas(spark, tmp_path):
    data = csv_text(9, 3, extra=True)
    got = {}
    for engine in ("pandas", "spark"):
        res = run(make(tmp_path / engine, engine=engine), data, engine)
        assert res.ok, [n.error_message for n in res.nodes]
        got[engine] = (res.node("save").rows_out, res.node("save").profile)
    assert got["spark"] == got["pandas"]
    assert got["spark"][1]["amount"]["nulls"] == 3


def test_failing_rows_on_spark(spark, tmp_path):
    rows = failing_rows_case(tmp_path, "spark")
    assert set(rows[0]) == {"id", "amount", "region"}  # no helper column leaks out
