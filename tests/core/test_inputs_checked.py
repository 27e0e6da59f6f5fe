"""Inputs checked as Spark would: ragged CSV rows, appends that change the schema, merge keys."""

from __future__ import annotations

import json

from tests.core import inputs_project as ip
from tests.parity.parity_compare import read_output


def test_schema_changes_and_duplicate_keys_are_refused_before_writing(tmp_path, cli):
    project = ip.make(tmp_path)
    before = ip.snapshot(tmp_path)
    r = cli("run", str(project))
    assert r.returncode == 1, r.stderr
    stories = (tmp_path / "data" / "stories").glob("*.json")
    story = json.loads(next(p for p in stories if not p.name.startswith("_")).read_text())
    ip.check_outcome(
        {
            n["name"]: (
                n["status"],
                *[(n.get("error") or {}).get(k) for k in ("message", "detail")],
            )
            for n in story["nodes"]
        }
    )
    assert ip.snapshot(tmp_path) == before  # refused appends left the outputs as they were
    assert (
        not (tmp_path / "out" / "merged").exists() and not (tmp_path / "out" / "merged2").exists()
    )
    assert "✗ p.wider_parquet failed at write" in r.stderr and "hint:" in r.stderr
    ragged = read_output(tmp_path / "out" / "ragged").to_pylist()
    assert ragged == [
        {"id": 1, "v": "a", "w": "x"},
        {"id": 2, "v": "b", "w": None},
        {"id": 3, "v": "c", "w": "y"},
        {"id": 4, "v": "d", "w": "z"},
    ]
    ok = read_output(tmp_path / "out" / "ok").to_pylist()
    assert sorted(r["id"] for r in ok) == [1, 2, 7]
