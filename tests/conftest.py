"""Shared helpers: write small projects to tmp folders, run the CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


ORDERS_CSV = """\
order_id,customer_id,amount,order_ts
1,10,5.5,2025-01-01 10:00:00
2,11,7.25,2025-01-02 11:30:00
3,10,-1.0,2025-01-03 09:15:00
4,12,12.0,2025-02-01 00:00:00
"""


@pytest.fixture(scope="session", autouse=True)
def sql_cache_folder(tmp_path_factory: pytest.TempPathFactory):
    """The SQL cache (odibi_dbx.sql.cache) of this test session, never the user's: on, so
    that tests running a project twice or on both engines exercise its hits."""
    from odibi_dbx.sql import cache

    before = os.environ.get(cache.ENV)
    os.environ[cache.ENV] = str(tmp_path_factory.mktemp("sql-cache"))
    yield Path(os.environ[cache.ENV])
    if before is None:
        os.environ.pop(cache.ENV, None)
    else:
        os.environ[cache.ENV] = before


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A folder with data/orders.csv; tests write their project.yaml into it."""
    write(tmp_path / "data" / "orders.csv", ORDERS_CSV)
    return tmp_path


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m odibi_dbx ...` in a subprocess, with stdout/stderr captured (not a TTY)."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "odibi_dbx", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(params=["pandas", pytest.param("spark", marks=pytest.mark.spark)])
def engine_name(request) -> str:
    """Each engine's name in turn (for `--engine`); Spark is skipped, with why, when missing."""
    if request.param == "spark":
        from tests.spark.spark_fixtures import spark_missing

        if reason := spark_missing():
            pytest.skip(reason)
    return request.param


# One local Spark session (with Delta) for the whole run, whichever folder asks first: a second
# session with other settings cannot be had in one JVM. Tests skip with the reason when Java,
# pyspark, delta-spark or the Delta jars are missing.
from tests.spark.spark_fixtures import job_counter, spark, spark_session  # noqa: E402, F401
