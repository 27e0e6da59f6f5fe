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


@pytest.mark.parametrize("validation", ["", "        validation: {no_nulls: [id]}\n"])
def test_string_min_max_in_code_point_order(spark, tmp_path, validation):
    """A string column's min and max (taken over its UTF-8 bytes on Spark) are the strings'
    own, in code point order, cut at 100 characters, as on Pandas; with and without validation
    (the write's observation, then the validation job)."""
    wide_z = "\uff5a"  # fullwidth z: before U+1F600 in code point order, after it in UTF-16's
    long = "\U0001f600" * 150
    regions = ["Zebra", "äpfel", "日本", "", long, wide_z, "apple", "ÿ", "Zz"]
    data = "id,amount,region\n" + "".join(f"{i},{i}.5,{r}\n" for i, r in enumerate(regions, 1))
    got = {}
    for engine in ("pandas", "spark"):
        path = make(tmp_path / engine, engine=engine, validation=validation)
        res = run(path, data, engine)
        assert res.ok, [n.error_message for n in res.nodes]
        got[engine] = res.node("save").profile["region"]
    values = [r for r in regions if r]  # an empty CSV field reads as null
    assert got["spark"]["min"] == min(values) == "Zebra"
    assert got["spark"]["max"] == "\U0001f600" * 100 + "…" and max(values) == long
    assert got["spark"]["nulls"] == 1
    assert got["spark"] == got["pandas"]
