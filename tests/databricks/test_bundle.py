"""bundle/databricks.yml: valid against the Databricks bundle JSON schema, and every local path
it references exists (relative to the bundle's folder)."""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "bundle" / "databricks.yml"
SCHEMA = ROOT / ".." / "shared" / "schemas" / "databricks-bundle.schema.json"


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


def test_jobs_install_the_built_wheel(bundle):
    art = next(iter(bundle["artifacts"].values()))
    assert art["type"] == "whl" and (BUNDLE.parent / art["path"] / "pyproject.toml").exists()
    pattern = art["files"][0]["source"]
    for name, job in bundle["resources"]["jobs"].items():
        for task in job["tasks"]:
            wheels = [lib["whl"] for lib in task.get("libraries", []) if "whl" in lib]
            assert wheels, f"job {name} task {task['task_key']} does not install the wheel"
            for w in wheels:  # the same dist/ folder the artifact build writes to
                assert Path(w).parent == Path(pattern).parent


def test_jobs_and_targets(bundle):
    jobs = bundle["resources"]["jobs"]
    setup = jobs["odibi_setup"]["tasks"][0]["notebook_task"]
    assert setup["base_parameters"]["vault"] == "${var.key_vault}"
    assert "schedule" not in jobs["odibi_setup"]  # run once, by hand
    pipe = jobs["odibi_pipeline"]
    assert pipe["schedule"]["quartz_cron_expression"] == "${var.schedule}"
    params = pipe["tasks"][0]["notebook_task"]["base_parameters"]
    assert params["project_file"] == "${var.project_file}"
    assert {"key_vault", "project_file", "schedule"} <= set(bundle["variables"])
    assert bundle["targets"]["dev"]["mode"] == "development"
    assert bundle["targets"]["prod"]["mode"] == "production"
    # the notebooks read exactly the widgets the jobs pass
    for nb, task in (
        ("setup/databricks_setup.ipynb", setup),
        ("notebooks/run_pipeline.ipynb", pipe["tasks"][0]["notebook_task"]),
    ):
        text = (ROOT / nb).read_text(encoding="utf-8")
        for widget in task["base_parameters"]:
            assert f'runtime.widget(\\"{widget}\\"' in text, (nb, widget)


def test_wheel_build_command_writes_where_the_jobs_look(bundle):
    art = next(iter(bundle["artifacts"].values()))
    assert "--wheel-dir dist" in art["build"] or "python -m build" in art["build"]
    assert not glob.glob(str(ROOT / "bundle" / "dist"))  # nothing built inside bundle/
