"""A project whose outputs already exist with another schema: each append or merge below must be
refused before writing, and a ragged CSV read as Spark reads it (PERMISSIVE). Shared by the
pandas CLI test (tests/core) and the Spark parity test (tests/parity)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import write

RAGGED = "id,v,w\n1,a,x\n2,b\n3,c,y,extra\n4,d,z\n"
SOURCE = "id,v\n1,1.5\n2,2.5\n"

PROJECT = """
project: inputs
connections:
  raw: {type: local, base_path: ./data}
  out: {type: local, base_path: ./out}
story: {connection: raw, path: stories/}
pipelines:
  - pipeline: p
    nodes:
      - name: src
        read: {connection: raw, path: src.csv}
      - name: ragged
        read: {connection: raw, path: ragged.csv}
        write: {connection: out, path: ragged, format: parquet}
      - name: wider_parquet
        depends_on: [src]
        write: {connection: out, path: wide, format: parquet, mode: append}
      - name: new_column_parquet
        depends_on: [src]
        transform: {steps: ["SELECT id, v, 'x' AS extra FROM src"]}
        write: {connection: out, path: newcol, format: parquet, mode: append}
      - name: same_schema_csv
        depends_on: [src]
        write: {connection: out, path: ok, format: csv, mode: append}
      - name: reordered_csv
        depends_on: [src]
        transform: {steps: ["SELECT v, id FROM src"]}
        write: {connection: out, path: reordered, format: csv, mode: append}
      - name: wider_json
        depends_on: [src]
        write: {connection: out, path: widejson, format: json, mode: append}
      - name: first_merge_duplicates
        depends_on: [src]
        transform: {steps: ["SELECT * FROM src UNION ALL SELECT * FROM src WHERE id = 2"]}
        write: {connection: out, path: merged, format: delta, mode: merge, merge_keys: [id]}
      - name: duplicates_of_a_key_named_count
        depends_on: [src]
        transform: {steps: ["SELECT id AS count, v FROM src UNION ALL SELECT 1, 9.5"]}
        write: {connection: out, path: merged3, format: delta, mode: merge, merge_keys: [count]}
      - name: merge_key_not_in_output
        depends_on: [src]
        write: {connection: out, path: merged2, format: delta, mode: merge, merge_keys: [order_id]}
"""

# node -> fragment of the refusal it must fail with (None: it must succeed)
EXPECTED = {
    "src": None,
    "ragged": None,
    "same_schema_csv": None,
    "wider_parquet": "column 'v' is double, the target has bigint",
    "new_column_parquet": "new column 'extra' (string)",
    "reordered_csv": "in another position than in the target",
    "wider_json": "column 'v' is double, the target has bigint",
    "first_merge_duplicates": "repeat merge_keys ['id']: (id=2: 2 rows)",
    "duplicates_of_a_key_named_count": "repeat merge_keys ['count']: (count=1: 2 rows)",
    "merge_key_not_in_output": "merge_keys ['order_id'] are not columns of the output",
}
# outputs that must hold exactly what was there before the refused write
UNTOUCHED = ["wide", "newcol", "reordered", "widejson"]


def make(root: Path) -> Path:
    """Write the inputs and the existing outputs; return the project file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    write(root / "data" / "ragged.csv", RAGGED)
    write(root / "data" / "src.csv", SOURCE)
    for name in ("wide", "newcol"):
        (root / "out" / name).mkdir(parents=True)
        table = pa.table({"id": pa.array([7], pa.int32()), "v": pa.array([7], pa.int64())})
        if name == "newcol":
            table = pa.table({"id": pa.array([7], pa.int32()), "v": pa.array([7.5])})
        pq.write_table(table, root / "out" / name / "part-00000-old.parquet")
    write(root / "out" / "ok" / "part-00000-old.csv", "id,v\n7,7.5\n")
    write(root / "out" / "reordered" / "part-00000-old.csv", "id,v\n7,7.5\n")
    write(root / "out" / "widejson" / "part-00000-old.json", json.dumps({"id": 7, "v": 7}) + "\n")
    return write(root / "project.yaml", PROJECT)


def snapshot(root: Path) -> dict[str, dict[str, bytes]]:
    return {
        name: {
            str(f.relative_to(root)): f.read_bytes()
            for f in (root / "out" / name).rglob("*")
            if f.is_file()
        }
        for name in UNTOUCHED
    }


def check_outcome(statuses: dict[str, tuple[str, str | None, str | None]]) -> None:
    """statuses: node -> (status, error message, error detail)."""
    for node, fragment in EXPECTED.items():
        status, message, detail = statuses[node]
        if fragment is None:
            assert status == "success", (node, message)
        else:
            assert status == "failed" and fragment in (message or ""), (node, status, message)
            assert "Nothing was written" in message, message
            # a refusal is certain of the previous output, on every engine
            assert "the previous output was left as it was" in (detail or ""), (node, detail)
