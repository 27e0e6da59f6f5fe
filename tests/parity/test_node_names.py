"""Node names become SQL view names. A name SQL would have to quote (a backtick, a double quote,
a dot, a space, a dash, a leading digit, a non-ASCII letter), or one differing from another
node's only in case (SQL compares names ignoring case), is refused by `odibi-dbx validate` on
both engines: exit 2, file:line and a name to use instead. Names that are plain identifiers,
keyword-like ones included, run on both engines with the same rows, named plainly or in
backticks."""

from __future__ import annotations

from tests.conftest import write
from tests.parity.parity_compare import read_output

HEAD = """project: names
connections:
  raw: {type: local, base_path: ./data}
  out: {type: local, base_path: ./out}
story: {connection: out, path: stories/}
retry: {enabled: false}
pipelines:
  - pipeline: p
    nodes:
"""
REFUSED = {  # name -> the name validation suggests
    "a`b": "a_b",
    'q"t': "q_t",
    "x.y": "x_y",
    "has space": "has_space",
    "dash-ed": "dash_ed",
    "1st": "_1st",
    "café": "cafe",
}


def test_names_sql_would_quote_are_refused(engine_name, tmp_path, cli):
    nodes = "".join(
        f"      - name: '{name}'\n        read: {{connection: raw, path: x.csv}}\n"
        for name in [*REFUSED, "Orders", "orders"]
    )
    write(tmp_path / "project.yaml", HEAD + nodes)
    r = cli("validate", "project.yaml", "--engine", engine_name, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.splitlines()
    for i, (name, instead) in enumerate(REFUSED.items()):
        where = f"project.yaml:{10 + 2 * i}  pipelines[p].nodes[{name}].name: "
        at = next(n for n, line in enumerate(lines) if where in line)
        assert "names are ASCII letters, digits and _" in lines[at], r.stderr
        assert lines[at + 1].strip().endswith(f"rename it, e.g. '{instead}'"), r.stderr
    case = "project.yaml:26  pipelines[p].nodes[orders].name: node 'orders' differs from node "
    assert case + "'Orders' only in case" in r.stderr, r.stderr
    assert r.stderr.count("  - project.yaml:") == len(REFUSED) + 1, r.stderr


PLAIN = ["limit", "window", "desc", "_u", "Mixed"]  # not reserved by Spark: no quoting needed


def test_plain_names_run_the_same_on_both_engines(engine_name, tmp_path):
    from odibi_dbx import Project

    nodes = ""
    for name in PLAIN:
        low = name.lower()
        nodes += f"""      - name: {name}
        read: {{connection: raw, path: x.csv}}
      - name: plain_{low}
        depends_on: [{name}]
        transform: {{steps: ["SELECT a + b AS s FROM {name}", "SELECT s FROM this"]}}
        write: {{connection: out, path: plain_{low}, format: parquet}}
      - name: ticked_{low}
        depends_on: [{name}]
        transform: {{steps: ["SELECT t.a FROM `{name}` AS t JOIN `{low}` u ON t.a = u.a"]}}
        write: {{connection: out, path: ticked_{low}, format: parquet}}
"""
    write(tmp_path / "project.yaml", HEAD + nodes)
    write(tmp_path / "data" / "x.csv", "a,b\n1,2\n3,4\n")
    with Project.load(tmp_path / "project.yaml", engine=engine_name, keep_outputs=False) as p:
        res = p.run()
    assert {n.status for n in res.nodes} == {"success"}, {
        n.name: n.error_message for n in res.nodes
    }
    for name in PLAIN:
        out = tmp_path / "out"
        assert sorted(read_output(out / f"plain_{name.lower()}").column("s").to_pylist()) == [3, 7]
        assert sorted(read_output(out / f"ticked_{name.lower()}").column("a").to_pylist()) == [1, 3]
