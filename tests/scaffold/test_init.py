"""`odibi-dbx init` as a new user runs it: a fresh folder, then validate, run, story, plan,
its notebook (nbmake) and its bundle, all through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LAKE_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "odibi_dbx", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("init")
    p = cli("init", "my-shop", cwd=base)
    assert p.returncode == 0, p.stderr
    assert "created" in p.stdout and "odibi-dbx validate project.yaml" in p.stdout
    return base / "my-shop"


def test_init_writes_a_project_that_validates_and_runs(project):
    for rel in (
        "project.yaml",
        "transforms.py",
        "data/raw/orders.csv",
        "README.md",
        "notebooks/explore.ipynb",
        "notebooks/run_pipeline.ipynb",
        "setup/databricks_setup.ipynb",
        "bundle/databricks.yml",
    ):
        assert (project / rel).is_file(), rel
    v = cli("validate", "project.yaml", cwd=project)
    assert v.returncode == 0 and "2 pipeline(s), 5 node(s)" in v.stdout, v.stdout + v.stderr
    r = cli("run", "project.yaml", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "5 succeeded, 0 failed, 0 skipped" in r.stdout
    assert (project / "lake" / "silver" / "orders" / "_delta_log").is_dir()
    import pandas as pd

    gold = pd.read_parquet(project / "lake" / "gold" / "revenue_by_region")
    assert sorted(gold["region"]) == ["APAC", "EU", "US"]
    # 20 of the 24 sample orders have a quantity > 0
    assert gold["orders"].sum() == 20
    s = cli("story", "show", "project.yaml", cwd=project)
    assert s.returncode == 0 and "success" in s.stdout


def test_init_refuses_a_non_empty_folder_unless_forced(project):
    before = (project / "project.yaml").read_text()
    (project / "project.yaml").write_text(before + "# mine\n")
    p = cli("init", str(project), cwd=project.parent)
    assert p.returncode == 2 and "is not empty" in p.stderr and "--force" in p.stderr
    assert (project / "project.yaml").read_text().endswith("# mine\n")  # untouched
    p = cli("init", str(project), "--force", cwd=project.parent)
    assert p.returncode == 0, p.stderr
    assert f"overwrote  {project / 'project.yaml'}" in p.stdout
    assert (project / "project.yaml").read_text() == before


def test_the_bundle_is_wired_to_the_project(project):
    from databricks.bundles.jobs import Job

    bundle = yaml.safe_load((project / "bundle" / "databricks.yml").read_text())
    jobs = bundle["resources"]["jobs"]
    tasks = jobs["odibi_pipeline"]["tasks"]
    assert [t["task_key"] for t in tasks] == ["silver", "gold"]
    assert tasks[1]["depends_on"] == [{"task_key": "silver"}]
    assert bundle["variables"]["project_file"]["default"] == "${workspace.file_path}/project.yaml"
    assert bundle["sync"]["paths"] == [".."]
    assert "artifacts" not in bundle  # the wheel comes from dist/, not built here
    pypi = [lib["pypi"]["package"] for lib in tasks[0]["libraries"] if "pypi" in lib]
    assert any(p.startswith("deltalake") for p in pypi)  # Delta on the Pandas engine
    for job in jobs.values():
        Job.from_dict(job)
        for task in job["tasks"]:
            path = task["notebook_task"]["notebook_path"]
            assert (project / "bundle" / path).resolve().is_file(), path


@pytest.mark.spark
def test_spark_project_runs_quietly(tmp_path):
    """A Spark project runs at once; the JVM's own output (Ivy's jar resolution, startup
    warnings) stays out of the terminal without --verbose."""
    p = cli("init", "lake-on-spark", "--engine", "spark", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    proj = tmp_path / "lake-on-spark"
    v = cli("validate", "project.yaml", cwd=proj)
    assert v.returncode == 0 and "engine spark" in v.stdout, v.stdout + v.stderr
    bundle = yaml.safe_load((proj / "bundle" / "databricks.yml").read_text())
    task = bundle["resources"]["jobs"]["odibi_pipeline"]["tasks"][0]
    assert [lib for lib in task["libraries"] if "pypi" in lib] == []  # Spark has Delta
    from tests.spark.spark_fixtures import spark_missing

    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    r = cli("run", "project.yaml", cwd=proj, timeout=1200)  # a JVM start on a busy machine
    assert r.returncode == 0, r.stdout + r.stderr
    assert "5 succeeded, 0 failed, 0 skipped" in r.stdout
    assert r.stderr == "", r.stderr  # no Ivy, log4j or JVM warnings
    assert ":: loading settings" not in r.stdout and "ivy" not in r.stdout.lower()


@pytest.mark.notebook
def test_explore_notebook_runs(project):
    from tests.databricks.dbx_helpers import notebook_text, run_notebook

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    nb, err = run_notebook(project / "notebooks" / "explore.ipynb", env, project / "notebooks")
    text = notebook_text(nb)
    assert err is None, text
    assert "revenue_by_region" in text and "<html" in text.lower()


def _tree(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_plan_before_and_after_a_run(tmp_path):
    assert cli("init", "shop", cwd=tmp_path).returncode == 0
    proj = tmp_path / "shop"
    before = _tree(proj)
    p = cli("plan", "project.yaml", cwd=proj)
    assert p.returncode == 0, p.stdout + p.stderr
    assert _tree(proj) == before  # no output, no story, no state: nothing at all written
    assert "reads   " + str(proj / "data/raw/orders.csv") + " (csv): exists" in p.stdout
    assert "written earlier by orders_clean" in p.stdout  # gold reads what silver would write
    assert "absent: it would be created" in p.stdout
    assert "output  region string, orders bigint, revenue double" in p.stdout
    assert p.stdout.rstrip().endswith("every write would go through")

    assert cli("run", "project.yaml", cwd=proj).returncode == 0
    before = _tree(proj)
    j = cli("plan", "project.yaml", "--json", cwd=proj)
    assert j.returncode == 0, j.stderr
    assert _tree(proj) == before
    plan = json.loads(j.stdout)
    assert plan["ok"] is True
    gold = next(n for n in plan["nodes"] if n["name"] == "revenue_by_region")
    assert gold["write"]["current"] == gold["write"]["columns"]  # the target's schema now
    assert gold["write"]["mode"] == "overwrite" and gold["write"]["refused"] is None

    # an append that adds a column, and a merge on a key the output lacks: both refused
    text = (proj / "project.yaml").read_text()
    text = text.replace(
        "ROUND(SUM(amount_incl_vat), 2) AS revenue_incl_vat",
        "ROUND(SUM(amount_incl_vat), 2) AS revenue_incl_vat, MAX(order_date) AS last_order",
    ).replace("format: parquet, mode: overwrite", "format: parquet, mode: append")
    text = text.replace(
        "path: silver/orders, format: delta, mode: overwrite",
        "path: silver/orders, format: delta, mode: merge, merge_keys: [order_no]",
    )
    (proj / "project.yaml").write_text(text)
    before = _tree(proj)
    bad = cli("plan", "project.yaml", cwd=proj)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert _tree(proj) == before
    assert "REFUSED the schema differs from the target" in bad.stdout
    assert "new column 'last_order' (date)" in bad.stdout
    assert "REFUSED merge_keys ['order_no'] are not columns of the output" in bad.stdout
    assert "2 write(s) would be refused" in bad.stdout
