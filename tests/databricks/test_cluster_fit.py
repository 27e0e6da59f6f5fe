"""The wheel fits a Databricks cluster: on DBR 15.4 LTS's Python packages (Python 3.11,
pandas 1.5.3, numpy 1.23.5, pyarrow 14.0.1) installing it changes none of pyspark, pandas, numpy
or pyarrow, and a csv/parquet project runs there on the Pandas engine with the same results as
in the dev venv.

The DBR venv is cached in .venv-dbr154/ (git-ignored): only the first run downloads packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-dbr154"
DBR_154 = {"pandas": "1.5.3", "numpy": "1.23.5", "pyarrow": "14.0.1"}  # DBR 15.4 LTS
PROTECTED = ("pyspark", "pandas", "numpy", "pyarrow")
PY = VENV / "bin" / "python"


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    p = subprocess.run(cmd, capture_output=True, text=True, env={**env, **kw.pop("env", {})}, **kw)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


@pytest.fixture(scope="module")
def dbr_venv() -> Path:
    stamp = VENV / ".odibi-dbr154"
    spec = json.dumps(DBR_154, sort_keys=True)
    if not (stamp.exists() and stamp.read_text() == spec and PY.exists()):
        py311 = shutil.which("python3.11")
        if py311 is None:
            pytest.skip("python3.11 is not on PATH (DBR 15.4 LTS runs Python 3.11)")
        shutil.rmtree(VENV, ignore_errors=True)
        _run([py311, "-m", "venv", str(VENV)])
        _run([str(PY), "-m", "pip", "install", "-q", *(f"{k}=={v}" for k, v in DBR_154.items())])
        stamp.write_text(spec)
    return VENV


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ]
    )
    (whl,) = out.glob("odibi_dbx-*.whl")
    return whl


def _versions() -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        f"for n in {PROTECTED!r}:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: out[n] = None\n"
        "print(json.dumps(out))"
    )
    return json.loads(_run([str(PY), "-c", code]).stdout)


def test_install_changes_no_runtime_package(dbr_venv, wheel, tmp_path):
    before = _versions()
    assert {k: before[k] for k in DBR_154} == DBR_154
    # a cached venv may hold an earlier build: plan the install as a fresh cluster would
    _run([str(PY), "-m", "pip", "uninstall", "-q", "-y", "odibi-dbx"])
    report = tmp_path / "report.json"
    _run([str(PY), "-m", "pip", "install", "-q", "--dry-run", "--report", str(report), str(wheel)])
    planned = {
        i["metadata"]["name"].lower(): i["metadata"]["version"]
        for i in json.loads(report.read_text())["install"]
    }
    touched = {n: planned[n] for n in PROTECTED if n in planned}
    assert not touched, f"installing the wheel would change {touched} (plan: {planned})"
    assert "odibi-dbx" in planned
    _run([str(PY), "-m", "pip", "install", "-q", str(wheel)])
    _run([str(PY), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)])
    assert _versions() == before


def _csv_parquet_project(dst: Path) -> Path:
    """The sample project with Delta swapped for csv (silver) and parquet (gold)."""
    src = ROOT / "examples" / "sales"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("output", "stories", "__pycache__"))
    text = (dst / "project.yaml").read_text(encoding="utf-8")
    assert text.count("format: delta") == 2
    (dst / "project.yaml").write_text(
        text.replace("format: delta", "format: csv"), encoding="utf-8"
    )
    return dst / "project.yaml"


def test_pandas_engine_runs_on_dbr154(dbr_venv, wheel, tmp_path):
    _run([str(PY), "-m", "pip", "install", "-q", str(wheel)])
    _run([str(PY), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)])
    project = _csv_parquet_project(tmp_path / "sales")
    results = {}
    for name, exe in (
        ("dbr154", VENV / "bin" / "odibi-dbx"),
        ("dev", Path(sys.executable).parent / "odibi-dbx"),
    ):
        lake = tmp_path / f"lake-{name}"
        p = _run([str(exe), "run", str(project)], cwd=tmp_path, env={"SALES_LAKE_PATH": str(lake)})
        assert "6 succeeded, 0 failed" in p.stdout, p.stdout
        results[name] = lake
    import pandas as pd

    def gold(lake: Path) -> pd.DataFrame:
        df = pd.read_parquet(lake / "gold" / "revenue_by_region_month")
        df = df.sort_values(["region", "month"]).reset_index(drop=True)
        return df.astype({"orders": "int64", "revenue": "float64", "revenue_incl_vat": "float64"})

    a, b = gold(results["dbr154"]), gold(results["dev"])
    assert len(a) == 11
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
