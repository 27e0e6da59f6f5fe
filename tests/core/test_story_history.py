"""Stories compare each node with its last successful run; gates in `validation.vs_previous`;
the story index and its retention. Numbers are computed here from the CSV text, not by us."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from tests.conftest import write

PROJECT = """
project: History test
engine: {engine}
connections:
  data: {{type: local, base_path: ./data}}
  out: {{type: local, base_path: ./out}}
story: {{connection: out, path: stories/, max_sample_rows: 3, keep_last: {keep}}}
retry: {{enabled: false}}
pipelines:
  - pipeline: silver
    nodes:
      - {{name: orders, read: {{connection: data, path: orders.csv, format: csv}}}}
      - name: clean
        depends_on: [orders]
        transform: {{steps: ["SELECT * FROM orders WHERE id > 0"]}}
      - name: save
        depends_on: [clean]
        write: {{connection: out, path: clean.parquet, format: parquet}}
{validation}
"""


def csv_text(rows: int, nulls: int, extra: bool = False, shift: float = 0.0) -> str:
    head = "id,amount,region" + (",channel" if extra else "")
    lines = [head]
    for i in range(1, rows + 1):
        amount = "" if i <= nulls else f"{i * 1.5 + shift}"
        lines.append(f"{i},{amount},r{i % 3}" + (",web" if extra else ""))
    return "\n".join(lines) + "\n"


def expected_stats(text: str) -> dict:
    """Rows, amount null fraction, min and max, straight from the CSV text."""
    recs = list(csv.DictReader(io.StringIO(text)))
    vals = [float(r["amount"]) for r in recs if r["amount"]]
    return {
        "rows": len(recs),
        "null_fraction": (len(recs) - len(vals)) / len(recs),
        "min": min(vals),
        "max": max(vals),
        "columns": list(recs[0]),
    }


def make(tmp: Path, engine: str = "pandas", keep: int = 100, validation: str = "") -> Path:
    text = PROJECT.format(engine=engine, keep=keep, validation=validation)
    return write(tmp / "project.yaml", text)


def run(path: Path, data: str, engine: str = "pandas"):
    from odibi_dbx import Project

    write(path.parent / "data" / "orders.csv", data)
    with Project.load(path, engine=engine) as p:
        return p.run()


def story(res) -> dict:
    return json.loads(Path(res.story_path).read_text())


def node(doc: dict, name: str) -> dict:
    return next(n for n in doc["nodes"] if n["name"] == name)


def test_three_runs_compare_rows_schema_and_profiles(tmp_path, cli):
    path = make(tmp_path, keep=100)
    texts = [csv_text(10, 1), csv_text(7, 1, extra=True, shift=2.0), csv_text(7, 4, extra=True)]
    docs = []
    for text in texts:
        res = run(path, text)
        assert res.ok, [n.error_message for n in res.nodes]
        docs.append(story(res))
    first, second, third = (expected_stats(t) for t in texts)

    save = node(docs[0], "save")
    assert save["vs_previous"] is None  # the first run has nothing to compare with
    assert save["profile"]["amount"]["null_fraction"] == pytest.approx(first["null_fraction"])
    assert save["profile"]["amount"]["min"] == first["min"]

    # run 2: rows dropped, a column added, amounts shifted
    cmp = node(docs[1], "save")["vs_previous"]
    assert cmp["previous_run"] == docs[0]["run_id"]
    assert cmp["rows_out"] == {
        "before": first["rows"],
        "after": second["rows"],
        "changed": True,
        "change": second["rows"] - first["rows"],
        "pct": round(100 * (second["rows"] - first["rows"]) / first["rows"], 2),
    }
    added = [c for c in second["columns"] if c not in first["columns"]]
    assert cmp["schema"] == {"added": added, "removed": [], "type_changed": []} and added
    amount = cmp["columns"]["amount"]
    assert amount["min"]["before"] == first["min"] and amount["min"]["after"] == second["min"]
    assert amount["max"]["change"] == pytest.approx(second["max"] - first["max"])
    assert node(docs[1], "orders")["vs_previous"]["rows_out"]["after"] == second["rows"]

    # run 3: nulls rising, same rows and columns
    amount = node(docs[2], "save")["vs_previous"]["columns"]["amount"]["null_fraction"]
    assert amount["before"] == pytest.approx(second["null_fraction"])
    assert amount["after"] == pytest.approx(third["null_fraction"])
    assert amount["change"] == pytest.approx(third["null_fraction"] - second["null_fraction"])
    assert node(docs[2], "save")["vs_previous"]["rows_out"]["changed"] is False

    # the HTML shows the change; the index lists the three runs with row trends
    html = Path(tmp_path / "out" / "stories" / f"{docs[2]['run_id']}.html").read_text()
    assert "class='num chg'" in html and "was 14.29%" in html  # 1 of 7 null before
    index = (tmp_path / "out" / "stories" / "index.html").read_text()
    assert all(f"href='{d['run_id']}.html'" in index for d in docs)
    assert index.count('class="spark"') == 1  # one pipeline, one sparkline
    assert "rows: 10, 7, 7" in index

    # story diff: the last two runs by default, and two named runs as JSON
    res = cli("story", "diff", str(path))
    assert res.returncode == 0, res.stderr
    assert "silver.save" in res.stdout and "nulls amount" in res.stdout
    res = cli("story", "diff", str(path), docs[0]["run_id"], docs[1]["run_id"], "--json")
    assert res.returncode == 0, res.stderr
    rows = {r["node"]: r for r in json.loads(res.stdout)}
    assert rows["silver.save"]["rows_out"] == {"before": 10, "after": 7, "change": -3}
    assert rows["silver.save"]["schema"] == "+channel"


def test_keep_last_removes_old_stories_and_index_entries(tmp_path):
    path = make(tmp_path, keep=2)
    ids = [run(path, csv_text(5 + i, 0)).run_id for i in range(3)]
    stories = tmp_path / "out" / "stories"
    kept = sorted(p.stem for p in stories.glob("*.json") if not p.name.startswith("_"))
    assert kept == ids[1:]
    assert not (stories / f"{ids[0]}.html").exists()
    index = (stories / "index.html").read_text()
    assert ids[0] not in index and ids[2] in index
    assert len(json.loads((stories / "_index.json").read_text())) == 2


GATES = """        validation:
          vs_previous: {gates}
"""


def gated(tmp: Path, engine: str, gates: str) -> Path:
    text = PROJECT.format(engine=engine, keep=100, validation=GATES.format(gates=gates))
    return write(tmp / "project.yaml", text)


def gate_edges(tmp_path: Path, engine: str) -> None:
    """10 rows with 1 null amount, then 8 rows with 2 nulls and a new column: the row drop is
    exactly 20%, the null fraction rises by exactly 15 points."""
    full = "{max_row_drop: 0.2, max_null_increase: 0.15, schema: stable}"
    res = run(gated(tmp_path, engine, full), csv_text(10, 1), engine)
    assert res.ok, [n.error_message for n in res.nodes]
    checks = {c.check: c for c in res.node("save").validation}
    assert (
        checks["vs_previous"].passed
        and "no previous successful run" in checks["vs_previous"].detail
    )
    out = tmp_path / "out" / "clean.parquet"
    before = (
        sorted(p.read_bytes() for p in out.rglob("*.parquet")) if out.is_dir() else out.read_bytes()
    )

    changed = csv_text(8, 2, extra=True)
    failing = {
        "{max_row_drop: 0.19}": r"vs_previous:max_row_drop \(rows out 10 → 8 \(-20%; limit -19%\)",
        "{max_null_increase: 0.14}": r"null fraction of 'amount' 10% → 25% \(limit \+14%\)",
        "{schema: stable}": r"vs_previous:schema \(added \['channel'\]",
    }
    for gates, message in failing.items():
        res = run(gated(tmp_path, engine, gates), changed, engine)
        save = res.node("save")
        assert save.status == "failed" and save.error.stage == "validation", gates
        assert re.search(message, save.error.message), save.error.message
        assert save.write is None  # gates run before the write: nothing was written
        now = (
            sorted(p.read_bytes() for p in out.rglob("*.parquet"))
            if out.is_dir()
            else out.read_bytes()
        )
        assert now == before
        html = Path(res.story_html_path).read_text()
        assert "10 → 8" in html or "10% → 25%" in html or "channel" in html

    res = run(
        gated(tmp_path, engine, "{max_row_drop: 0.2, max_null_increase: 0.15}"), changed, engine
    )
    assert res.ok, [n.error_message for n in res.nodes]
    details = [c.detail for c in res.node("save").validation]
    assert any("10 → 8" in d for d in details) and any("10% → 25%" in d for d in details)


def test_gates_at_their_edges_pandas(tmp_path):
    gate_edges(tmp_path, "pandas")


def failing_rows_case(tmp_path: Path, engine: str) -> list[dict]:
    path = make(
        tmp_path,
        engine=engine,
        validation="        validation: {no_nulls: [amount], unique: [region]}\n",
    )
    res = run(path, csv_text(6, 1), engine)
    save = res.node("save")
    assert save.status == "failed" and save.write is None
    rows = node(story(res), "save")["failing_rows"]
    assert len(rows) == 3  # max_sample_rows
    # every shown row breaks a check: a NULL amount, or a region shared with another row
    assert all(r["amount"] is None or r["region"] in {"r0", "r1", "r2"} for r in rows)
    assert "Failing rows (3 shown)" in Path(res.story_html_path).read_text()
    return rows


def test_failed_validation_keeps_failing_rows(tmp_path):
    failing_rows_case(tmp_path, "pandas")


def test_a_node_without_output_compares_nothing(tmp_path):
    from odibi_dbx.story.diff import diff_runs

    path = make(tmp_path)
    first = story(run(path, csv_text(5, 0)))
    (tmp_path / "data" / "orders.csv").unlink()
    from odibi_dbx import Project

    with Project.load(path) as p:
        res = p.run()
    doc = story(res)
    assert node(doc, "orders")["status"] == "failed" and node(doc, "orders")["vs_previous"] is None
    assert node(doc, "save")["status"] == "skipped" and node(doc, "save")["vs_previous"] is None
    rows = {r["node"]: r for r in diff_runs(first, doc)}
    assert rows["silver.orders"]["status"] == {"before": "success", "after": "failed"}
    assert rows["silver.orders"]["schema"] == "" and rows["silver.orders"]["profile"] == ""
