"""The quickstart notebook runs top to bottom (nbmake), on a copy of the sample project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.notebook


def test_quickstart_notebook_runs(tmp_path):
    project = tmp_path / "sales"
    shutil.copytree(ROOT / "examples" / "sales", project, ignore=shutil.ignore_patterns("output"))
    env = {
        **os.environ,
        "ODIBI_QUICKSTART_PROJECT": str(project / "project.yaml"),
        "ODIBI_QUICKSTART_ENGINE": "pandas",
    }
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbmake",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(ROOT / "notebooks" / "quickstart.ipynb"),
        ],
        cwd=ROOT / "notebooks",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "1 passed" in res.stdout
    stories = [p for p in (project / "output" / "stories").glob("*.html") if p.name != "index.html"]
    assert len(stories) == 2  # run() and run_node() each wrote one
    assert (project / "output" / "gold" / "revenue_by_region_month").is_dir()
