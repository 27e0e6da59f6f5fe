"""Column names a SQL identifier must quote (a backtick inside, a dot, a space) work on both
engines with the same result: the validation checks (no_nulls / unique), a parquet append, a Delta
append aligned to the table's column order, and a Delta merge keyed on such a column."""

from __future__ import annotations

from tests.conftest import write
from tests.parity.parity_compare import read_output

TICK, DOT, SPACE = "a`b", "x.y", "has space"
RUNS = 2  # the second run appends to and merges into the outputs of the first

PROJECT = """
project: quoted names
connections:
  raw: {type: local, base_path: ./data}
  out: {type: local, base_path: ./out}
story: {connection: out, path: stories/}
retry: {enabled: false}
pipelines:
  - pipeline: p
    nodes:
      - name: checked
        read: {connection: raw, path: odd.csv}
        validation: {no_nulls: ["a`b", x.y, has space], unique: ["a`b", x.y]}
        write: {connection: out, path: all, format: parquet, mode: append}
      - name: nulls_and_dups
        read: {connection: raw, path: bad.csv}
        validation: {no_nulls: [x.y, has space], unique: ["a`b"]}
      # Delta refuses a space in a column name: these have the backtick and the dot
      - name: first
        read: {connection: raw, path: keys.csv}
        write: {connection: out, path: appended, format: delta, mode: append}
      - name: reordered
        depends_on: [first]
        read: {connection: raw, path: more.csv}
        write: {connection: out, path: appended, format: delta, mode: append}
      - name: merge_first
        read: {connection: raw, path: keys.csv}
        write: {connection: out, path: merged, format: delta, mode: merge, merge_keys: ["a`b"]}
      - name: merge_more
        depends_on: [merge_first]
        read: {connection: raw, path: more.csv}
        write: {connection: out, path: merged, format: delta, mode: merge, merge_keys: ["a`b"]}
"""


def _rows(table) -> list[dict]:
    return _rows_of(table.to_pylist())


def test_columns_that_need_quoting(engine_name, tmp_path):
    from odibi_dbx import Project

    write(tmp_path / "data" / "odd.csv", "a`b,x.y,has space,v\n1,p,q,10\n2,r,s,20\n")
    write(tmp_path / "data" / "bad.csv", "a`b,x.y,has space,v\n1,,q,10\n1,r,,20\n2,t,u,30\n")
    write(tmp_path / "data" / "keys.csv", "a`b,x.y,v\n1,p,10\n2,r,20\n")
    write(tmp_path / "data" / "more.csv", "v,x.y,a`b\n11,t,1\n30,u,3\n")  # other column order
    write(tmp_path / "project.yaml", PROJECT)
    for _ in range(RUNS):
        with Project.load(tmp_path / "project.yaml", engine=engine_name) as p:
            res = p.run()
        nodes = {n.name: n for n in res.nodes}
        assert {k: n.status for k, n in nodes.items()} == {
            "checked": "success",
            "nulls_and_dups": "failed",
            "first": "success",
            "reordered": "success",
            "merge_first": "success",
            "merge_more": "success",
        }, {k: n.error_message for k, n in nodes.items()}
        failed = nodes["nulls_and_dups"]
        assert {c.check: c.detail for c in failed.validation if not c.passed} == {
            "no_nulls:x.y": "1 null values",
            "no_nulls:has space": "1 null values",
            "unique:a`b": "1 duplicate rows",
        }
        assert {c.check for c in nodes["checked"].validation if c.passed} == {
            "no_nulls:a`b",
            "no_nulls:x.y",
            "no_nulls:has space",
            "unique:a`b,x.y",
        }

    out = tmp_path / "out"
    checked = read_output(out / "all")
    assert checked.column_names == [TICK, DOT, SPACE, "v"]
    odd = [{TICK: 1, DOT: "p", SPACE: "q", "v": 10}, {TICK: 2, DOT: "r", SPACE: "s", "v": 20}]
    assert _rows(checked) == _rows_of(RUNS * odd)
    appended = read_output(out / "appended")
    assert appended.column_names == [TICK, DOT, "v"]  # the table's order, not more.csv's
    first = [{TICK: 1, DOT: "p", "v": 10}, {TICK: 2, DOT: "r", "v": 20}]
    more = [{TICK: 1, DOT: "t", "v": 11}, {TICK: 3, DOT: "u", "v": 30}]
    assert _rows(appended) == _rows_of(RUNS * (first + more))
    merged = read_output(out / "merged")
    assert _rows(merged) == [more[0], first[1], more[1]]  # key 1 updated, 3 inserted


def _rows_of(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r[TICK], r["v"]))
