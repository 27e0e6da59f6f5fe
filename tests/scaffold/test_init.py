"""`odibi-dbx init` as a new user runs it: a fresh folder, then validate, run, story, plan,
its notebook (nbmake) and its bundle, all through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LAKE_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "odibi_dbx", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
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


def test_spark_project_validates(tmp_path):
    p = cli("init", "lake-on-spark", "--engine", "spark", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    v = cli("validate", "project.yaml", cwd=tmp_path / "lake-on-spark")
    assert v.returncode == 0 and "engine spark" in v.stdout, v.stdout + v.stderr
    bundle = yaml.safe_load((tmp_path / "lake-on-spark" / "bundle" / "databricks.yml").read_text())
    task = bundle["resources"]["jobs"]["odibi_pipeline"]["tasks"][0]
    assert [lib for lib in task["libraries"] if "pypi" in lib] == []  # Spark has Delta


@pytest.mark.notebook
def test_explore_notebook_runs(project):
    from tests.databricks.dbx_helpers import notebook_text, run_notebook

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    nb, err = run_notebook(project / "notebooks" / "explore.ipynb", env, project / "notebooks")
    text = notebook_text(nb)
    assert err is None, text
    assert "revenue_by_region" in text and "<html" in text.lower()
