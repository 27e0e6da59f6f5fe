"""One run graph across pipelines and honest run statuses, through the CLI as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from odibi_dbx import Project
from odibi_dbx.errors import RunWarning
from odibi_dbx.pipeline.events import RunListener
from tests.conftest import write

PROJECT = """
project: Graph test
connections:
  raw: {type: local, base_path: ./data}
  lake: {type: local, base_path: ./lake}
story: {connection: lake, path: stories/, max_sample_rows: 2}
retry: {enabled: false}
imports: [steps.py]
pipelines:
  - pipeline: bronze_to_silver
    nodes:
      - {name: raw_orders, read: {connection: raw, path: orders.csv}}
      - name: clean
        depends_on: [raw_orders]
        transform: {steps: [{function: check_orders}]}
        write: {connection: lake, path: silver/orders, format: parquet}
  - pipeline: audit
    nodes:
      - name: audit_log
        depends_on: [bronze_to_silver.clean]
        read: {connection: raw, path: orders.csv}
        write: {connection: lake, path: audit.parquet}
  - pipeline: silver_to_gold
    nodes:
      - {name: silver_orders, read: {connection: lake, path: silver/orders, format: parquet}}
      - name: gold
        depends_on: [silver_orders]
        transform: {steps: ["SELECT customer_id, sum(amount) AS total FROM silver_orders GROUP BY customer_id"]}
        write: {connection: lake, path: gold.parquet}
"""

STEPS = """
import os
from odibi_dbx import transform

@transform
def check_orders(context):
    df = context.get("raw_orders")
    if os.environ.get("ODIBI_TEST_BREAK"):
        raise ValueError("bronze broke")
    return df
"""


@pytest.fixture
def project(project_dir: Path) -> Path:
    write(project_dir / "steps.py", STEPS)
    return write(project_dir / "project.yaml", PROJECT)


def stories(project_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(project_dir.glob("lake/stories/2*.json"))]


def test_a_failed_upstream_pipeline_skips_readers_in_later_pipelines(project, project_dir, cli):
    assert cli("run", str(project)).returncode == 0
    gold = project_dir / "lake" / "gold.parquet"
    before = pd.read_parquet(gold)
    stamp = gold.stat().st_mtime_ns
    write(
        project_dir / "data" / "orders.csv",
        "order_id,customer_id,amount,order_ts\n9,99,1.0,2025-05-01 00:00:00\n",
    )

    r = cli("run", str(project), env={"ODIBI_TEST_BREAK": "1"})
    assert r.returncode == 1, r.stderr
    # gold is not rebuilt from yesterday's silver; the reason names the failed write
    assert (
        "silver_to_gold.silver_orders skipped: upstream node 'bronze_to_silver.clean' failed "
        "(it writes lake:silver/orders, which this node reads)" in r.stderr
    )
    assert "silver_to_gold.gold skipped: upstream node 'silver_orders' skipped" in r.stderr
    assert "audit.audit_log skipped: upstream node 'bronze_to_silver.clean' failed" in r.stderr
    assert gold.stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(pd.read_parquet(gold), before)
    doc = stories(project_dir)[-1]
    assert doc["status"] == "failed"
    status = {f"{n['pipeline']}.{n['name']}": n["status"] for n in doc["nodes"]}
    assert status == {
        "bronze_to_silver.raw_orders": "success",
        "bronze_to_silver.clean": "failed",
        "audit.audit_log": "skipped",
        "silver_to_gold.silver_orders": "skipped",
        "silver_to_gold.gold": "skipped",
    }


def test_pipeline_alone_reads_what_is_stored(project, project_dir, cli):
    assert cli("run", str(project), "--pipeline", "bronze_to_silver").returncode == 0
    r = cli("run", str(project), "--pipeline", "silver_to_gold", env={"ODIBI_TEST_BREAK": "1"})
    assert r.returncode == 0, r.stderr  # bronze is not run: gold reads the stored silver
    assert [n["pipeline"] for n in stories(project_dir)[-1]["nodes"]] == ["silver_to_gold"] * 2


def test_run_node_finds_its_pipeline_and_runs_only_what_it_needs(project, project_dir, cli):
    r = cli("run", str(project), "--node", "clean")
    assert r.returncode == 0, r.stderr
    assert (project_dir / "lake" / "silver" / "orders").exists()
    assert not (project_dir / "lake" / "gold.parquet").exists()
    doc = stories(project_dir)[-1]
    assert doc["status"] == "success"
    assert [n["name"] for n in doc["nodes"]] == ["raw_orders", "clean"]
    r = cli("run", str(project), "--node", "silver_to_gold.gold")
    assert r.returncode == 0, r.stderr
    assert [n["name"] for n in stories(project_dir)[-1]["nodes"]] == ["silver_orders", "gold"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--node", "claen"], "unknown node 'claen' (did you mean 'clean'?)"),
        (["--pipeline", "gold"], "unknown pipeline 'gold'"),
        (["--pipeline", "audit", "--node", "clean"], "it is in bronze_to_silver.clean"),
    ],
)
def test_an_invalid_selection_exits_2_before_anything_runs(
    project, project_dir, cli, args, message
):
    r = cli("run", str(project), *args)
    assert r.returncode == 2
    assert message in r.stderr
    assert not (project_dir / "lake").exists()  # no output, no story


def test_a_story_that_cannot_be_written_is_a_warning_or_exit_3(project, project_dir, cli):
    write(project_dir / "lake" / "stories", "a file where the story folder should be\n")
    r = cli("run", str(project))
    assert r.returncode == 0, r.stderr  # the data was written: the run succeeded
    assert (
        "warning: StoryListener failed on run_finished: OdibiError: the story could not be written"
        in r.stderr
    )
    assert "story:" not in r.stdout
    assert (project_dir / "lake" / "gold.parquet").exists()
    r = cli("run", str(project), "--require-story")
    assert r.returncode == 3
    assert "the story could not be written" in r.stderr


def test_cross_pipeline_dependencies_are_validated(project_dir, cli):
    write(project_dir / "steps.py", STEPS)
    bad = PROJECT.replace("[bronze_to_silver.clean]", "[bronze_to_silver.cleen]")
    r = cli("validate", str(write(project_dir / "project.yaml", bad)))
    assert r.returncode == 2
    assert "unknown node 'cleen' in pipeline 'bronze_to_silver'" in r.stderr
    assert "did you mean 'clean'?" in r.stderr
    cycle = PROJECT.replace(
        "      - {name: raw_orders, read: {connection: raw, path: orders.csv}}",
        "      - {name: raw_orders, depends_on: [audit.audit_log], read: {connection: raw, path: orders.csv}}",
    )
    r = cli("validate", str(write(project_dir / "project.yaml", cycle)))
    assert r.returncode == 2
    assert "dependency cycle: " in r.stderr and "audit.audit_log" in r.stderr
    assert "project.yaml:11" in r.stderr  # the depends_on that closes it
    assert (
        "raw_orders -> audit.audit_log -> bronze_to_silver.clean -> bronze_to_silver.raw_orders"
        in r.stderr
    )


class Raising(RunListener):
    def __init__(self, event: str):
        self.event = event

    def __getattribute__(self, name: str):
        if name == object.__getattribute__(self, "event"):

            def boom(*args):
                raise RuntimeError(f"listener broke on {name}")

            return boom
        return object.__getattribute__(self, name)


@pytest.mark.parametrize("event", ["run_started", "node_finished", "run_finished"])
def test_a_listener_that_raises_never_aborts_the_run_or_decides_its_status(project, event):
    with Project.load(project) as p:
        with pytest.warns(RunWarning, match=f"Raising failed on {event}: RuntimeError"):
            result = p.run(listeners=[Raising(event)])
        assert result.status == "success"
        assert [n.status for n in result.nodes] == ["success"] * 5
        assert result.story_path is not None
        assert {f.event for f in result.listener_failures} == {event}
        with pytest.warns(RunWarning):
            broken = p.run(listeners=[Raising(event)], run_id="broken")
        assert broken.ok


def test_a_run_with_no_node_run_is_not_a_success():
    from odibi_dbx.pipeline.runner import run_status

    assert run_status([]) == "failed"
