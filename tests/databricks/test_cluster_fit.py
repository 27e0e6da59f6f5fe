"""The wheel fits a Databricks cluster.

- For each supported runtime's package set (DBR 15.4, 16.4, 17.3 LTS; serverless environments
  v2-v4), pip resolves the wheel with its `[azure,delta]` extras (what the bundle's jobs add)
  next to the runtime's pandas, numpy and pyarrow held at their versions (`pip install --dry-run
  --report` for the runtime's Python, binary wheels only): a wheel that needed another version
  would fail to resolve. pydantic stays where the runtime has 2.x; on 15.4 / serverless v2
  (pydantic 1.10.6) it is upgraded to 2.x, as the README says.
- On DBR 15.4 LTS's packages (a real Python 3.11 venv, cached in .venv-dbr154/, git-ignored)
  installing the wheel (and its [delta] extra) changes none of pyspark, pandas, numpy or pyarrow,
  and the sample project runs there on the Pandas engine, with Delta (deltalake) and with
  csv/parquet, with the same results as in the dev venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
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
        real = VENV.resolve()  # a worktree's .venv-dbr154 may be a link to a shared folder
        shutil.rmtree(real, ignore_errors=True)
        _run([py311, "-m", "venv", str(real)])
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


# the packages each runtime ships that the wheel or its extras could move (notes: databricks-runtimes)
_SET_154 = {"pandas": "1.5.3", "numpy": "1.23.5", "pyarrow": "14.0.1"}
_SET_164 = {"pandas": "1.5.3", "numpy": "1.26.4", "pyarrow": "15.0.2", "pydantic": "2.8.2"}
_SET_173 = {
    "pandas": "2.2.3",
    "numpy": "2.1.3",
    "pyarrow": "19.0.1",
    "pydantic": "2.10.6",
    "azure-identity": "1.20.0",
}
# (Python whose wheels are resolved, the runtime's packages). 16.4 and serverless v3 run Python
# 3.12, but PyPI has no CPython 3.12 wheel of pandas 1.5.3 (Databricks builds its own): their set
# is resolved for 3.11, the same pure-Python wheel and the same pins.
RUNTIMES = {
    "DBR 15.4 LTS": ("3.11", _SET_154),
    "serverless v2": ("3.11", _SET_154),
    "DBR 16.4 LTS": ("3.11", _SET_164),
    "serverless v3": ("3.11", _SET_164),
    "DBR 17.3 LTS": ("3.12", _SET_173),
    "serverless v4": ("3.12", _SET_173),
}
_PLATFORMS = [f"manylinux_2_{v}_x86_64" for v in (35, 34, 31, 28, 27, 24, 17)] + [
    "manylinux2014_x86_64"
]


def _resolve(wheel: Path, python: str, pins: dict[str, str], out: Path) -> dict[str, str] | str:
    """The packages pip would install (name -> version), or pip's error."""
    report = out / f"report-{python}-{abs(hash(tuple(pins.items())))}.json"
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed"]
    cmd += ["--report", str(report), "--only-binary=:all:", "--python-version", python]
    cmd += [a for p in _PLATFORMS for a in ("--platform", p)]
    cmd += ["--implementation", "cp", "--target", str(out / "never-written")]
    cmd += [f"{wheel}[azure,delta]", *(f"{k}=={v}" for k, v in pins.items())]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        return p.stderr[-3000:]
    return {
        i["metadata"]["name"].lower(): i["metadata"]["version"]
        for i in json.loads(report.read_text())["install"]
    }


@pytest.fixture(scope="module")
def resolutions(wheel, tmp_path_factory) -> dict[str, dict[str, str] | str]:
    out = tmp_path_factory.mktemp("resolve")
    distinct = {(py, tuple(pins.items())) for py, pins in RUNTIMES.values()}
    with ThreadPoolExecutor(len(distinct)) as pool:
        futures = {k: pool.submit(_resolve, wheel, k[0], dict(k[1]), out) for k in distinct}
    return {
        name: futures[(py, tuple(pins.items()))].result() for name, (py, pins) in RUNTIMES.items()
    }


@pytest.mark.parametrize("runtime", list(RUNTIMES))
def test_wheel_and_extras_resolve_on_the_runtime_packages(runtime, resolutions):
    planned = resolutions[runtime]
    assert isinstance(planned, dict), f"{runtime}: the wheel does not fit its packages:\n{planned}"
    _, pins = RUNTIMES[runtime]
    assert {k: planned[k] for k in pins} == pins  # held: never moved
    assert planned["odibi-dbx"] and planned["duckdb"].startswith("2.")
    # pydantic 1.10.6 on 15.4 / serverless v2: upgraded to 2.x (documented in the README)
    assert planned["pydantic"].split(".")[0] == "2"
    assert "pyspark" not in planned  # the runtime's own Spark is never replaced


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


SCD2_NODE = """
      - name: customers
        depends_on: [silver_orders]
        transform:
          steps:
            - SELECT customer_id, region, max(order_ts) AS seen FROM silver_orders GROUP BY ALL
        write:
          connection: lake
          path: silver/customers
          format: delta
          mode: scd2
          merge_keys: [customer_id]
          scd2: {track: [region], valid_from: seen}
"""


def _delta_project(dst: Path) -> Path:
    """The sample project (silver is Delta, read back for gold) plus an SCD2 Delta write,
    which reads the table's current rows back from delta-rs on a second run."""
    src = ROOT / "examples" / "sales"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("output", "stories", "__pycache__"))
    with (dst / "project.yaml").open("a", encoding="utf-8") as f:
        f.write(SCD2_NODE)
    return dst / "project.yaml"


@pytest.mark.parametrize("formats", ["csv_parquet", "delta"])
def test_pandas_engine_runs_on_dbr154(dbr_venv, wheel, tmp_path, formats):
    """Delta: delta-rs returns string views and pyarrow 14 lacks `from_stream`; DuckDB reads
    delta-rs's streams itself, so the [delta] extra works on 15.4's pyarrow."""
    before = _versions()
    _run([str(PY), "-m", "pip", "install", "-q", f"{wheel}[delta]"])
    _run([str(PY), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)])
    assert _versions() == before  # deltalake leaves pyarrow 14.0.1 (and pandas, numpy) alone
    make = _csv_parquet_project if formats == "csv_parquet" else _delta_project
    project = make(tmp_path / "sales")
    results = {}
    for name, exe in (
        ("dbr154", VENV / "bin" / "odibi-dbx"),
        ("dev", Path(sys.executable).parent / "odibi-dbx"),
    ):
        lake = tmp_path / f"lake-{name}"
        for _ in range(1 if formats == "csv_parquet" else 2):
            env = {"SALES_LAKE_PATH": str(lake)}
            p = _run([str(exe), "run", str(project)], cwd=tmp_path, env=env)
            ok = "6 succeeded, 0 failed" if formats == "csv_parquet" else "7 succeeded, 0 failed"
            assert ok in p.stdout, p.stdout
        results[name] = lake
    import pandas as pd

    def gold(lake: Path) -> pd.DataFrame:
        df = pd.read_parquet(lake / "gold" / "revenue_by_region_month")
        df = df.sort_values(["region", "month"]).reset_index(drop=True)
        return df.astype({"orders": "int64", "revenue": "float64", "revenue_incl_vat": "float64"})

    a, b = gold(results["dbr154"]), gold(results["dev"])
    assert len(a) == 11
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    if formats == "delta":  # the Delta table 15.4 wrote holds what the dev venv wrote
        from deltalake import DeltaTable

        a, b = (
            DeltaTable(str(results[n] / "silver" / "orders")).to_pandas().sort_values("order_id")
            for n in ("dbr154", "dev")
        )
        assert len(a) == 33
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
        dims = [DeltaTable(str(results[n] / "silver" / "customers")).to_pandas() for n in results]
        cols = ["customer_id", "region", "seen", "_is_current"]
        a, b = (d[cols].sort_values(cols[:2]).reset_index(drop=True) for d in dims)
        assert len(a) == 6 and a["_is_current"].all()
        pd.testing.assert_frame_equal(a, b)


def test_installed_wheel_inits_a_project_with_its_notebooks(dbr_venv, wheel, tmp_path):
    """The notebooks `init` copies are inside the wheel, not only in a source checkout."""
    _run([str(PY), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)])
    _run([str(VENV / "bin" / "odibi-dbx"), "init", "shop"], cwd=tmp_path)
    for rel in ("notebooks/run_pipeline.ipynb", "setup/databricks_setup.ipynb"):
        assert (tmp_path / "shop" / rel).read_text() == (ROOT / rel).read_text(), rel
