"""Column names a SQL identifier must quote (`a``b`, `x.y`, `has space`, `q"t`) in the features
test_quoted_names.py leaves out, the same on both engines over two runs: parquet partitioned by
such columns (written, then read back by a later node), incremental reads keyed on such a
watermark column, and SCD2 keyed, tracked and dated by such columns."""

from __future__ import annotations

from tests.conftest import write
from tests.parity.parity_compare import read_output

COLS = 'a`b,x.y,has space,q"t,w`m'
RUN1 = f"{COLS}\n1,p,s1,A,2024-01-01\n2,r,s2,B,2024-01-02\n"
RUN2 = f"{COLS}\n1,pp,s1,A,2024-01-03\n3,u,s3,B,2024-01-04\n"
# the second batch brings a new column (schema_evolution: add_columns)
EVOLVE1 = "a`b,x.y,w`m\n1,p,2024-01-01\n2,r,2024-01-02\n"
EVOLVE2 = "a`b,x.y,w`m,n`ew\n1,pp,2024-01-03,N1\n3,u,2024-01-04,N3\n"

PROJECT = """
project: quoted features
connections:
  raw: {type: local, base_path: ./data}
  out: {type: local, base_path: ./out}
story: {connection: out, path: stories/}
retry: {enabled: false}
pipelines:
  - pipeline: p
    nodes:
      - name: parts
        read: {connection: raw, path: now.csv}
        write: {connection: out, path: parts, format: parquet, partition_by: ['q"t', has space]}
      - name: parts_unread
        read: {connection: raw, path: alone.csv}  # a file no other node reads
        write: {connection: out, path: parts_unread, format: parquet, partition_by: ['q"t']}
      - name: read_parts
        depends_on: [parts]
        read: {connection: out, path: parts, format: parquet}
        write: {connection: out, path: parts_read, format: parquet}
      - name: by_tick
        read: {connection: raw, path: now.csv, incremental: {column: "w`m"}}
        transform: {steps: ['SELECT `a``b`, `x.y`, `w``m` FROM this']}
        write: {connection: out, path: by_tick, format: delta, mode: merge, merge_keys: ["a`b"]}
      - name: by_space
        read: {connection: raw, path: now.csv, incremental: {column: has space}}
        transform: {steps: ['SELECT `a``b`, `has space` FROM this']}
        write: {connection: out, path: by_space, format: parquet, mode: append}
      - name: by_dot
        read: {connection: raw, path: now.csv, incremental: {column: x.y}}
        transform: {steps: ['SELECT `a``b`, `x.y` FROM this']}
        write: {connection: out, path: by_dot, format: parquet, mode: append}
      - name: hist
        read: {connection: raw, path: now.csv}
        transform: {steps: ['SELECT `a``b`, `x.y`, `q"t`, `w``m` FROM this']}
        write:
          connection: out
          path: hist
          format: delta
          mode: scd2
          merge_keys: ["a`b"]
          scd2: {track: [x.y, 'q"t'], valid_from: "w`m", deletes: close}
      - name: evolved
        read: {connection: raw, path: evolve.csv}
        write:
          connection: out
          path: evolved
          format: delta
          mode: merge
          merge_keys: ["a`b"]
          schema_evolution: add_columns
      - name: evolved_hist
        read: {connection: raw, path: evolve.csv}
        write:
          connection: out
          path: evolved_hist
          format: delta
          mode: scd2
          merge_keys: ["a`b"]
          scd2: {track: [x.y], valid_from: "w`m"}
          schema_evolution: add_columns
"""


def test_quoted_columns_in_partitions_incremental_reads_and_scd2(engine_name, tmp_path):
    from odibi_dbx import Project

    write(tmp_path / "project.yaml", PROJECT)
    for batch, evolve in ((RUN1, EVOLVE1), (RUN2, EVOLVE2)):
        write(tmp_path / "data" / "now.csv", batch)
        write(tmp_path / "data" / "evolve.csv", evolve)
        write(tmp_path / "data" / "alone.csv", batch)
        # keep_outputs=False as the CLI runs: a write streams, its rows come back from its files
        with Project.load(tmp_path / "project.yaml", engine=engine_name, keep_outputs=False) as p:
            res = p.run()
        assert {n.name: n.status for n in res.nodes} == dict.fromkeys(
            [
                *("parts", "parts_unread", "read_parts", "by_tick", "by_space", "by_dot"),
                *("hist", "evolved", "evolved_hist"),
            ],
            "success",
        ), {n.name: n.error_message for n in res.nodes}
        assert {n.name: n.rows_out for n in res.nodes}["parts_unread"] == 2
        seen = {n.name: n.incremental for n in res.nodes if n.incremental}
        assert {k: (i["before"], i["after"], i["rows_read"]) for k, i in seen.items()} == (
            {
                "by_tick": (None, "2024-01-02", 2),
                "by_space": (None, "s2", 2),
                "by_dot": (None, "r", 2),
            }
            if batch is RUN1  # then only the rows past the first run's watermark
            else {
                "by_tick": ("2024-01-02", "2024-01-04", 2),
                "by_space": ("s2", "s3", 1),
                "by_dot": ("r", "u", 1),
            }
        )

    out = tmp_path / "out"
    # the partition keys come back with their names (Spark: `q%22t=A/has space=s3`; DuckDB
    # also escapes the space), from the second run's overwrite
    parts_read = read_output(out / "parts_read")  # the keys last, outermost first
    assert parts_read.column_names == ["a`b", "x.y", "w`m", 'q"t', "has space"]
    assert [(r["a`b"], r['q"t'], r["has space"]) for r in _rows(parts_read)] == [
        (1, "A", "s1"),
        (3, "B", "s3"),
    ]
    for folder in ("parts", "parts_unread"):
        assert {d.name for d in (out / folder).iterdir() if d.is_dir()} == {"q%22t=A", "q%22t=B"}
    assert [(r["a`b"], r["x.y"], str(r["w`m"])) for r in _rows(read_output(out / "by_tick"))] == [
        (1, "pp", "2024-01-03"),
        (2, "r", "2024-01-02"),
        (3, "u", "2024-01-04"),
    ]
    assert _rows(read_output(out / "by_space")) == [
        {"a`b": 1, "has space": "s1"},
        {"a`b": 2, "has space": "s2"},
        {"a`b": 3, "has space": "s3"},  # s1 is not past the watermark s2
    ]
    assert _rows(read_output(out / "by_dot")) == [
        {"a`b": 1, "x.y": "p"},
        {"a`b": 2, "x.y": "r"},
        {"a`b": 3, "x.y": "u"},  # pp is not past the watermark r
    ]
    hist = [
        (r["a`b"], r["x.y"], r['q"t'], str(r["_valid_from"]), str(r["_valid_to"]), r["_is_current"])
        for r in _rows(read_output(out / "hist"), "_valid_from")
    ]
    assert hist == [
        (1, "p", "A", "2024-01-01", "2024-01-03", False),  # x.y changed: closed
        (1, "pp", "A", "2024-01-03", "None", True),
        (2, "r", "B", "2024-01-02", "2024-01-04", False),  # missing from the snapshot: closed
        (3, "u", "B", "2024-01-04", "None", True),
    ]

    _evolved(tmp_path)


def _rows(table, *also: str) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: (r["a`b"], *(str(r[c]) for c in also)))


def _evolved(tmp_path) -> None:
    """A merge and an SCD2 whose second batch adds a column, names holding backticks (Delta on
    Spark takes `UPDATE SET *` / `INSERT *` for the merge, which resolve such names when the
    schema evolves); a version closed by that batch keeps NULL in the new column."""
    out = tmp_path / "out"
    merged = read_output(out / "evolved")
    assert merged.column_names == ["a`b", "x.y", "w`m", "n`ew"]
    assert [(r["a`b"], r["x.y"], str(r["w`m"]), r["n`ew"]) for r in _rows(merged)] == [
        (1, "pp", "2024-01-03", "N1"),
        (2, "r", "2024-01-02", None),
        (3, "u", "2024-01-04", "N3"),
    ]
    evolved_hist = read_output(out / "evolved_hist")
    scd = ["_valid_from", "_valid_to", "_is_current"]
    assert evolved_hist.column_names == ["a`b", "x.y", "w`m", *scd, "n`ew"]  # added last
    hist = [
        (r["a`b"], r["x.y"], r["n`ew"], str(r["_valid_to"]), r["_is_current"])
        for r in _rows(evolved_hist, "_valid_from")
    ]
    assert hist == [
        (1, "p", None, "2024-01-03", False),
        (1, "pp", "N1", "None", True),
        (2, "r", None, "None", True),
        (3, "u", "N3", "None", True),
    ]
