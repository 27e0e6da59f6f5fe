"""bundle/databricks.yml: valid against the Databricks bundle JSON schema and PyPI's
databricks-bundles job models, rendered from the sample project, every local path it references
exists, and it runs as deployed (extras installed, dev schedule paused, restricted prod root).
Where a `databricks` binary is on PATH, the real CLI validates it with --strict."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "bundle" / "databricks.yml"
# shared/ sits beside the main checkout (and two levels up from a worktree in wt/)
SCHEMA = (
    next(
        (
            p
            for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared")
            if (p / "schemas").is_dir()
        ),
        ROOT.parent / "shared",
    )
    / "schemas"
    / "databricks-bundle.schema.json"
)


def _python_patterns(node: Any) -> Any:
    """The schema's patterns use RE2's \\p{L} / \\p{N}; Python's re spells them differently."""
    if isinstance(node, dict):
        return {
            k: (_translate(v) if k == "pattern" and isinstance(v, str) else _python_patterns(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_python_patterns(v) for v in node]
    return node


def _translate(pattern: str) -> str:
    return (
        pattern.replace(r"[\p{L}\p{N}]", r"[^\W_]")
        .replace(r"\p{L}", r"[^\W\d_]")
        .replace(r"\p{N}", r"\d")
    )


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return yaml.safe_load(BUNDLE.read_text(encoding="utf-8"))


def test_bundle_matches_the_schema(bundle):
    if not SCHEMA.exists():
        pytest.skip(
            f"the bundle schema is not here ({SCHEMA.resolve()}): shared/ sits beside the "
            "repository only in the project's own checkouts"
        )
    import jsonschema

    schema = _python_patterns(json.loads(SCHEMA.read_text(encoding="utf-8")))
    cls = jsonschema.validators.validator_for(schema)
    errors = sorted(cls(schema).iter_errors(bundle), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors)


def _local_paths(bundle: dict[str, Any]) -> list[str]:
    out: list[str] = list(bundle.get("sync", {}).get("paths", []))
    for art in bundle.get("artifacts", {}).values():
        out.append(art["path"])
    for job in bundle["resources"]["jobs"].values():
        for task in job["tasks"]:
            for key in ("notebook_task", "spark_python_task"):
                if key in task:
                    out.append(task[key].get("notebook_path") or task[key]["python_file"])
    return out


def test_every_referenced_path_exists(bundle):
    for rel in _local_paths(bundle):
        assert (BUNDLE.parent / rel).exists(), f"bundle/databricks.yml references missing {rel}"


RENDER_ARGS = (
    BUNDLE.read_text(encoding="utf-8").splitlines()[2].split("odibi_dbx.scaffold.bundle ")[1]
)


def test_bundle_is_rendered_from_the_sample_project():
    from odibi_dbx.config import load_project
    from odibi_dbx.scaffold.bundle import BundleLayout, render_bundle

    a = shlex.split(RENDER_ARGS)
    assert a[0] == "examples/sales/project.yaml"
    layout = BundleLayout(
        "odibi-dbx",
        a[0],
        True,
        ("../setup", "../notebooks", "../examples"),
        dev_environment="dev",
        prod_environment="prod",
    )
    text = render_bundle(load_project(ROOT / a[0]), layout, RENDER_ARGS)
    assert BUNDLE.read_text(encoding="utf-8") == text, (
        f"bundle/databricks.yml is stale: python -m odibi_dbx.scaffold.bundle {RENDER_ARGS}"
    )


def _extra(name: str) -> list[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [r.replace(" ", "") for r in meta["project"]["optional-dependencies"][name]]


def _packages(task: dict[str, Any]) -> list[str]:
    return [lib["pypi"]["package"] for lib in task.get("libraries", []) if "pypi" in lib]


def test_jobs_install_the_wheel_with_the_extras_they_need(bundle):
    art = next(iter(bundle["artifacts"].values()))
    assert art["type"] == "whl" and (BUNDLE.parent / art["path"] / "pyproject.toml").exists()
    pattern = art["files"][0]["source"]
    jobs = bundle["resources"]["jobs"]
    for name, job in jobs.items():
        for task in job["tasks"]:
            wheels = [lib["whl"] for lib in task.get("libraries", []) if "whl" in lib]
            assert wheels, f"job {name} task {task['task_key']} does not install the wheel"
            for w in wheels:  # the same dist/ folder the artifact build writes to
                assert Path(w).parent == Path(pattern).parent
    # setup reaches Key Vault and storage: the azure extra (no runtime ships all of it)
    assert sorted(_packages(jobs["odibi_setup"]["tasks"][0])) == sorted(_extra("azure"))
    # the sample writes Delta on the Pandas engine: deltalake, on every pipeline task
    for task in jobs["odibi_pipeline"]["tasks"]:
        assert sorted(_packages(task)) == sorted(_extra("delta")), task["task_key"]


def test_one_task_per_pipeline_in_order(bundle):
    from odibi_dbx.config import load_project

    cfg = load_project(ROOT / "examples/sales/project.yaml").config
    tasks = bundle["resources"]["jobs"]["odibi_pipeline"]["tasks"]
    names = [p.pipeline for p in cfg.pipelines]
    assert [t["task_key"] for t in tasks] == names
    assert [t["notebook_task"]["base_parameters"]["pipelines"] for t in tasks] == names
    assert "depends_on" not in tasks[0]
    for prev, task in itertools.pairwise(tasks):
        assert task["depends_on"] == [{"task_key": prev["task_key"]}]


def test_schedules_runs_and_targets(bundle):
    jobs = bundle["resources"]["jobs"]
    setup = jobs["odibi_setup"]["tasks"][0]["notebook_task"]
    assert setup["base_parameters"]["vault"] == "${var.key_vault}"
    assert "schedule" not in jobs["odibi_setup"]  # run once, by hand
    pipe = jobs["odibi_pipeline"]
    assert pipe["schedule"]["quartz_cron_expression"] == "${var.schedule}"
    # development mode pauses a schedule only when pause_status is empty
    assert "pause_status" not in pipe["schedule"]
    targets = bundle["targets"]
    assert "UNPAUSED" not in json.dumps(targets["dev"])
    assert targets["dev"]["mode"] == "development" and targets["prod"]["mode"] == "production"
    # prod root: not /Workspace/Shared (writable by all users), and explicit permissions
    root = targets["prod"]["workspace"]["root_path"]
    assert root.startswith("/Workspace/Users/${workspace.current_user.userName}/")
    levels = {p["level"] for p in targets["prod"]["permissions"]}
    assert "CAN_MANAGE" in levels
    # an environment is passed only when the project defines it
    from odibi_dbx.config import load_project

    envs = load_project(ROOT / "examples/sales/project.yaml").config.environments
    assert bundle["variables"]["environment"]["default"] == ""
    for t in targets.values():
        env = t.get("variables", {}).get("environment")
        assert env is None or env in envs
    # the notebooks read exactly the widgets the jobs pass
    for nb, task in (
        ("setup/databricks_setup.ipynb", setup),
        ("notebooks/run_pipeline.ipynb", pipe["tasks"][0]["notebook_task"]),
    ):
        text = (ROOT / nb).read_text(encoding="utf-8")
        for widget in task["base_parameters"]:
            assert f'runtime.widget(\\"{widget}\\"' in text, (nb, widget)


def test_wheel_is_built_by_python3_into_dist(bundle):
    art = next(iter(bundle["artifacts"].values()))
    build = art["build"].replace("${var.python}", bundle["variables"]["python"]["default"])
    assert build.startswith("python3 -m pip wheel") and "--wheel-dir dist" in build
    assert not (ROOT / "bundle" / "dist").exists()  # nothing built inside bundle/


def test_every_job_loads_in_databricks_bundles(bundle):
    from databricks.bundles.jobs import Job

    for name, job in bundle["resources"]["jobs"].items():
        loaded = Job.from_dict(job)  # rejects unknown fields
        assert [t.task_key for t in loaded.tasks] == [t["task_key"] for t in job["tasks"]], name


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_databricks_cli_validates_strict(target, tmp_path):
    cli = shutil.which("databricks")
    if cli is None:
        pytest.skip("no `databricks` binary on PATH: the real CLI cannot be fetched here")
    env = {**os.environ, "DATABRICKS_CONFIG_FILE": str(tmp_path / "none")}
    if not env.get("DATABRICKS_HOST"):
        pytest.skip("the Databricks CLI needs a workspace (DATABRICKS_HOST) to validate against")
    p = subprocess.run(
        [cli, "bundle", "validate", "--strict", "-t", target],
        cwd=BUNDLE.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr


def test_tasks_wait_only_for_the_pipelines_they_read_from(tmp_path):
    from odibi_dbx.config import load_project
    from odibi_dbx.scaffold.bundle import pipeline_order

    (tmp_path / "project.yaml").write_text(
        """
project: Three
connections: {lake: {type: local, base_path: ./lake}}
story: {connection: lake}
pipelines:
  - pipeline: a
    nodes: [{name: x, read: {connection: lake, path: in.csv}, write: {connection: lake, path: a.parquet}}]
  - pipeline: b
    nodes: [{name: y, read: {connection: lake, path: in.csv}, write: {connection: lake, path: b.parquet}}]
  - pipeline: c
    nodes: [{name: z, read: {connection: lake, path: a.parquet}, write: {connection: lake, path: c.parquet}}]
"""
    )
    order = pipeline_order(load_project(tmp_path / "project.yaml"))
    assert order == [("a", []), ("b", []), ("c", ["a"])]  # b runs beside a; c after a only
