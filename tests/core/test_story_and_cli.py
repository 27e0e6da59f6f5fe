"""Stories (JSON + self-contained HTML) and the CLI as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, write

PROJECT = """
project: Story test
connections:
  raw: {type: local, base_path: ./data}
  out: {type: local, base_path: ./out}
story: {connection: out, path: stories/, max_sample_rows: 2}
retry: {enabled: true, max_attempts: 2, backoff: constant, initial_delay: 0}
imports: [steps.py]
environments:
  prod: {story: {max_sample_rows: 1}}
pipelines:
  - pipeline: silver
    nodes:
      - {name: orders, read: {connection: raw, path: orders.csv}}
      - name: clean
        depends_on: [orders]
        transform:
          steps:
            - "SELECT * FROM orders WHERE amount > 0"
            - {function: scale, params: {factor: 10}}
        validation: {not_empty: true, no_nulls: [order_id]}
      - {name: save, depends_on: [clean], write: {connection: out, path: clean.parquet}}
  - pipeline: gold
    nodes:
      - {name: silver_clean, read: {connection: out, path: clean.parquet}}
      - name: totals
        depends_on: [silver_clean]
        transform: {steps: ["SELECT customer_id, sum(amount) AS total FROM silver_clean GROUP BY customer_id"]}
        write: {connection: out, path: totals.parquet}
"""

STEPS = """
from odibi_dbx import transform

@transform
def scale(context, factor):
    df = context.get("this")
    df["amount"] = df["amount"] * factor
    return df
"""


def setup_project(project_dir: Path, text: str = PROJECT) -> Path:
    write(project_dir / "steps.py", STEPS)
    return write(project_dir / "project.yaml", text)


def latest_story(project_dir: Path) -> tuple[dict, str]:
    stories = sorted(
        p for p in (project_dir / "out" / "stories").glob("*.json") if p.name[0] != "_"
    )
    doc = json.loads(stories[-1].read_text())
    html = stories[-1].with_suffix(".html").read_text()
    return doc, html


def test_run_writes_a_complete_story(project_dir, cli):
    path = setup_project(project_dir)
    res = cli("run", str(path))
    assert res.returncode == 0, res.stderr
    doc, html = latest_story(project_dir)
    assert (
        doc["status"] == "success" and doc["project"] == "Story test" and doc["engine"] == "pandas"
    )
    assert doc["pipelines"] == ["silver", "gold"] and doc["summary"]["success"] == 5
    clean = next(n for n in doc["nodes"] if n["name"] == "clean")
    assert clean["rows_in"] == 4 and clean["rows_out"] == 3 and len(clean["sample"]) == 2
    assert {"name": "order_ts", "type": "timestamp"} in clean["columns"]
    assert clean["steps"][0]["text"] == "SELECT * FROM orders WHERE amount > 0"
    assert clean["steps"][0]["executed"]  # the DuckDB SQL actually run
    assert clean["steps"][1] == {
        **clean["steps"][1],
        "kind": "function",
        "text": "scale",
        "params": {"factor": 10},
    }
    assert [c["check"] for c in clean["validation"]] == ["not_empty", "no_nulls:order_id"]
    save = next(n for n in doc["nodes"] if n["name"] == "save")
    assert save["write"]["rows"] == 3 and save["write"]["target"].endswith("clean.parquet")
    totals = next(n for n in doc["nodes"] if n["name"] == "totals")
    assert totals["sample"][0]["total"] in (55.0, 72.5, 120.0)
    assert doc["run_id"] in html and "Story test" in html and "scale" in html
    # self-contained: no external fetches when opened
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "@import" not in html
    assert f"story: {project_dir}" in res.stdout or "story:" in res.stdout


def test_failed_run_still_writes_story_and_cli_prints_short_message(project_dir, cli):
    text = PROJECT.replace(
        "SELECT * FROM orders WHERE amount > 0", "SELECT * FROM orders WHERE amount > nope"
    )
    path = setup_project(project_dir, text)
    res = cli("run", str(path))
    assert res.returncode == 1
    assert "silver.clean failed at transform: SQL step 1 failed" in res.stderr
    assert "SQL: SELECT * FROM orders WHERE amount > nope" in res.stderr
    assert "hint:" in res.stderr and "Traceback" not in res.stderr + res.stdout
    assert "silver.save skipped: upstream node 'clean' failed" in res.stderr
    assert "story:" in res.stdout and "--verbose" in res.stderr
    doc, html = latest_story(project_dir)
    assert doc["status"] == "failed"
    clean = next(n for n in doc["nodes"] if n["name"] == "clean")
    assert clean["status"] == "failed" and "Traceback" in clean["error"]["traceback"]
    assert "nope" in html and "traceback" in html
    verbose = cli("run", str(path), "--verbose")
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr


def test_a_misspelt_column_in_a_typed_expression_is_named_with_suggestions(project_dir, cli):
    # ROUND's result depends on its operand's type: an unknown column used to be reported as
    # "cannot tell the type ... pass schema= to to_duckdb", advice meant for the Python API
    text = PROJECT.replace("sum(amount) AS total", "ROUND(sum(amont), 2) AS total")
    res = cli("run", str(setup_project(project_dir, text)))
    assert res.returncode == 1
    assert "gold.totals failed at transform" in res.stderr
    assert "[UNRESOLVED_COLUMN] No input has a column named 'amont'; did you mean 'amount'?" in (
        res.stderr
    )
    assert "to_duckdb" not in res.stderr and "Cannot tell the type" not in res.stderr


def test_validate_exit_codes(project_dir, cli):
    path = setup_project(project_dir)
    ok = cli("validate", str(path))
    assert ok.returncode == 0 and "OK" in ok.stdout
    bad = setup_project(
        project_dir,
        PROJECT.replace("depends_on: [orders]", "depends_on: [ordres]").replace(
            "max_sample_rows: 2", "max_sample_row: 2"
        ),
    )
    res = cli("validate", str(bad))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "project.yaml:5" in res.stderr and "did you mean 'max_sample_rows'" in res.stderr
    assert "unknown node 'ordres'" in res.stderr and "did you mean 'orders'" in res.stderr
    run = cli("run", str(bad))
    assert run.returncode == 2 and not (project_dir / "out").exists()  # nothing ran


def test_pipeline_selection_env_and_story_commands(project_dir, cli):
    path = setup_project(project_dir)
    res = cli("run", str(path), "--pipeline", "silver", "--env", "prod")
    assert res.returncode == 0, res.stderr
    doc, _ = latest_story(project_dir)
    assert doc["pipelines"] == ["silver"] and doc["environment"] == "prod"
    assert len(next(n for n in doc["nodes"] if n["name"] == "clean")["sample"]) == 1
    bad = cli("run", str(path), "--pipeline", "sliver")
    assert bad.returncode == 2 and "did you mean 'silver'" in bad.stderr
    listed = cli("story", "list", str(path))
    assert listed.returncode == 0 and doc["run_id"] in listed.stdout
    shown = cli("story", "show", str(path))
    assert (
        shown.returncode == 0 and doc["run_id"] in shown.stdout and "silver.clean" in shown.stdout
    )
    as_json = cli("story", "show", str(path), doc["run_id"], "--json")
    assert json.loads(as_json.stdout)["run_id"] == doc["run_id"]


def test_progress_is_plain_lines_when_not_a_tty(project_dir, cli):
    res = cli("run", str(setup_project(project_dir)))
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("[")]
    assert any("silver.clean started" in ln for ln in lines)
    assert any("✓ silver.clean success" in ln and "3 rows" in ln for ln in lines)
    assert "\x1b[" not in res.stdout  # no terminal control codes in logs


def test_relative_paths_resolve_against_the_project_folder(project_dir, tmp_path_factory, cli):
    path = setup_project(project_dir)
    elsewhere = tmp_path_factory.mktemp("cwd")
    res = cli("run", str(path), cwd=elsewhere)
    assert res.returncode == 0, res.stderr
    assert (project_dir / "out" / "totals.parquet").is_dir() and not (elsewhere / "out").exists()


def test_module_entry_points():
    out = subprocess.run(
        [sys.executable, "-m", "odibi_dbx", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0 and out.stdout.startswith("odibi-dbx ")
    script = Path(sys.executable).with_name("odibi-dbx")
    assert script.exists(), "console script odibi-dbx is installed"


def test_import_is_light():
    code = (
        "import sys, odibi_dbx; heavy = [m for m in ('pyspark', 'azure', 'databricks', 'duckdb', "
        "'pandas', 'pyarrow', 'deltalake', 'pydantic', 'sqlglot') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
